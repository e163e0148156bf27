// Reading a saved plan (`purge --plan FILE`). The format is written out
// beside its writer, SavePlan in plan/plan.h: a JSON header line
// {"format":"retention-plan/1", "rules_hash":..., ...} then one line per
// deletable record {"category":..., "target":..., "key":..., "clock":...},
// grouped by target in plan order.
#pragma once

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "stores/store.h"
#include "util/status.h"

namespace retention {

// Reads a saved plan's keys for one target at a time (the file is grouped
// by target), so memory stays bounded by one batch.
class SavedPlanReader {
 public:
  // Invalid when the file cannot be read, is not a saved plan, or was made
  // under other rules than `rules_hash`.
  static Result<std::unique_ptr<SavedPlanReader>> Open(const std::filesystem::path& file,
                                                       const std::string& rules_hash);

  // The targets of this run, in the order it processes them.
  void SetOrder(const std::vector<Selection>& decisions);

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
  std::filesystem::path file_;
  std::ifstream in_;
  std::optional<Line> peeked_;
  std::map<std::string, size_t> order_;
  int64_t line_no_ = 0;
};

}  // namespace retention
