// The saved plan (`plan --out FILE`, `purge --plan FILE`): its one format,
// its writer and its reader.
//
// JSON Lines. The first line is the plan's header (plan/plan.h PlanToJson)
// with the format named:
//   {"format":"retention-plan/1", "as_of":..., "rules_hash":..., "targets":[...], ...}
// then one line per deletable record, grouped by target in plan order,
// oldest first:
//   {"category":"request_logs","target":"request_logs","key":"17","clock":"2024-...",
//    "subject":"42","identity":""}
// "key", "clock", "subject" and "identity" are the record's bytes as the
// store gave them, written with TextJson (util/json_text.h): a JSON string
// when they are UTF-8, else {"base64":"..."} -- a file named "bad\xff.log"
// is planned and deleted under its exact name. "subject" and "identity"
// are the record's identity beyond key and clock (stores/store.h
// Candidate); a line without them (a plan saved by an earlier version) is
// known by key and clock alone. The file is written to FILE.tmp and renamed
// into place (util/atomic_file.h); writing streams the keys from the
// stores' cursors, so memory stays flat.
//
// The header's "kind" says which command executes the plan: "purge" (or
// absent: a plan saved before erase plans existed) for `purge --plan`,
// "erase" for `erase --plan` (`erase --dry-run --out FILE`, whose header
// also names the "request", the "subject" and the number of "records" the
// file lists). Each command refuses the other's plan.
#pragma once

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "plan/plan.h"
#include "purge/candidate_source.h"
#include "stores/store.h"
#include "stores/store_set.h"
#include "util/atomic_file.h"
#include "util/status.h"

namespace retention {

// What a saved plan is for (the header's "kind").
enum class PlanKind { kPurge, kErase };

// Writes a saved plan: the header, then one line per record, to FILE.tmp;
// Commit renames it into place (nothing is left at FILE otherwise).
class SavedPlanWriter {
 public:
  // `header` gets "format" and "kind" added.
  static Result<std::unique_ptr<SavedPlanWriter>> Create(const std::filesystem::path& file, PlanKind kind,
                                                         nlohmann::json header);
  void Add(const std::string& category, const std::string& target, const Candidate& c);
  Status Commit();

 private:
  explicit SavedPlanWriter(std::unique_ptr<AtomicFile> out) : out_(std::move(out)) {}
  std::unique_ptr<AtomicFile> out_;
};

// Writes `plan` and every deletable key of `selections` to `file`.
Status SavePlan(const Plan& plan, const std::vector<Selection>& selections, StoreSet& stores,
                const std::filesystem::path& file);

// Reads a saved plan's keys for one target at a time (the file is grouped
// by target), so memory stays bounded by one batch.
class SavedPlanReader {
 public:
  // Invalid when the file cannot be read, is not a saved plan, is a plan
  // of another kind, or was made under other rules than `rules_hash`.
  static Result<std::unique_ptr<SavedPlanReader>> Open(const std::filesystem::path& file,
                                                       const std::string& rules_hash,
                                                       PlanKind kind = PlanKind::kPurge);

  // The header line, as read.
  const nlohmann::json& header() const { return header_; }

  // Reads the whole file once, before anything is deleted: Invalid when a
  // line is malformed, names a (category, target) not in `selections`, or
  // the lines are not `records` in number (a file cut short).
  Status CheckAll(const std::vector<Selection>& selections, int64_t records) const;

  // The targets of this run, in the order it processes them.
  void SetOrder(const std::vector<Selection>& selections);

  // The next up to `limit` records of (category, target); records of later
  // targets are left for their turn. The file lists targets in plan order,
  // as `plan --out` writes it, which is the order a run processes them.
  Result<std::vector<Candidate>> Next(const std::string& category, const std::string& target, size_t limit);

 private:
  struct Line {
    std::string category, target;
    Candidate candidate;
  };
  explicit SavedPlanReader(const std::filesystem::path& file) : file_(file), in_(file) {}
  // One record line, or Invalid naming the file and line.
  static Result<Line> ParseLine(const std::filesystem::path& file, int64_t line_no, const std::string& text);
  std::filesystem::path file_;
  nlohmann::json header_;
  std::ifstream in_;
  std::optional<Line> peeked_;
  std::map<std::string, size_t> order_;
  int64_t line_no_ = 0;
};

// One target's records of a saved plan, as a source for the executor.
class SavedPlanSource final : public CandidateSource {
 public:
  SavedPlanSource(SavedPlanReader& reader, std::string category, std::string target)
      : reader_(reader), category_(std::move(category)), target_(std::move(target)) {}
  Result<std::vector<Candidate>> Next(size_t limit) override { return reader_.Next(category_, target_, limit); }

 private:
  SavedPlanReader& reader_;
  std::string category_, target_;
};

}  // namespace retention
