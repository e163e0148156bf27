// An erasure request as values (SPEC 4, 5 `erase`): the subject it names,
// and what its run did or would do, as a receipt renders it
// (erase/erasure_receipt.h) and the state remembers it (ErasureRequest).
//
// The engine (erase/erase_run.h) fills an ErasureReceipt with facts only:
// counts, the clocks of what stayed, which rule or hold kept it. Every date
// a receipt promises ("kept for tax until 2033-05-08", "server logs
// containing this subject are deleted by 2027-02-27") is computed from
// these facts and the rules when the receipt is rendered, in one place.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "calendar/timestamp.h"
#include "ledger/kept_reason.h"

namespace retention {

// "customer:42": the kind a target's `subject` maps, and the id as stored.
struct ErasureSubject {
  std::string kind;
  std::string id;

  std::string Text() const { return kind + ":" + id; }
};

// What the erasure deleted (or, dry run, would delete) from one target that
// maps the subject's kind. Every such target has one, zero counts included,
// so the receipt shows where the engine looked.
struct ErasedTarget {
  std::string category;
  std::string target;
  std::string store;
  int64_t records = 0;
};

// Records of the subject that stay, grouped by why: one group per target,
// reason code, hold (kHeld) and floor rule (kFloor).
struct KeptGroup {
  std::string category;
  std::string target;
  std::string store;
  // kFloor, kHeld, kHeldElsewhere, kUndeletable, kLocked, kChanged, ...
  // (ledger/kept_reason.h). A category with `erasable = false` is
  // `exception` below instead, whatever its records' codes.
  KeptWhy why = KeptWhy::kFloor;
  // The category is `erasable = false`: nothing of it is erased; `reason`
  // is its `erasure_exception` text, the legal basis.
  bool exception = false;
  std::string reason;               // for people: "held by hold 3 (M-17)", the exception text ...
  std::optional<int64_t> hold_id;   // kHeld
  std::string matter;               // kHeld: the hold's matter
  // kFloor: the category whose keep_at_least protects them (their own, or
  // an overlapping rule's over the same records).
  std::string floor_category;
  int64_t records = 0;
  // The clocks of the group's dated records, as the floor's or the
  // schedule's rule reads them: the receipt dates the group by the newest
  // (the last of them to go) and says from when by the oldest.
  std::optional<Timestamp> oldest_clock;
  std::optional<Timestamp> newest_clock;
  int64_t undated = 0;  // records whose clock is empty or does not parse
};

struct ErasureReceipt {
  std::string request;  // the operator's reference ("DSR-2026-0117")
  ErasureSubject subject;
  bool dry_run = false;
  Timestamp received{};                 // when the request was first recorded
  Timestamp deadline{};                 // received + the configured answer time
  std::optional<Timestamp> executed;    // this run's start; nullopt: dry run
  // "ok", "stopped", "failed", "refused" (safety valve), or "preview".
  std::string outcome;
  int64_t run_id = 0;                   // 0: dry run
  // The ledger entries the run wrote, and the head after it (0 / "": dry run).
  int64_t first_seq = 0;
  int64_t last_seq = 0;
  std::string head_hash;
  // What went, per target mapping the subject kind; what stayed, grouped.
  std::vector<ErasedTarget> erased;
  std::vector<KeptGroup> kept;
  // A request executed before under the same reference: what earlier runs
  // erased, so a repeated `erase` reports the whole request.
  int64_t erased_before = 0;

  int64_t TotalErased() const;
  int64_t TotalKept() const;
};

// A request as the state database remembers it (`erase list`, `status`).
struct ErasureRequest {
  std::string reference;
  std::string subject;                 // "customer:42"
  Timestamp received{};
  Timestamp deadline{};
  std::optional<Timestamp> executed;   // the last run that executed it
  // "pending" (recorded, not executed), "done" (nothing of the subject
  // kept), "partial" (records kept by a floor, a hold or an exception),
  // "failed" (its last run failed or stopped).
  std::string outcome;
  // Over every run of the request, counted from the ledger (the deletions
  // of batch entries naming the request) when a run of it starts, so that a
  // run killed part way, whose row was never updated, counts all the same.
  int64_t erased = 0;
  int64_t kept = 0;                    // after its last run
  int64_t last_run_id = 0;
  // The seq of the request's first `erase` entry: where counting its
  // deletions in the ledger starts. Set when the row is first written;
  // never changed after.
  int64_t first_seq = 0;
};

}  // namespace retention
