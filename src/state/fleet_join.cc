#include "state/fleet_join.h"

#include <tuple>

#include "state/state_ops.h"

namespace retention {

namespace {

// The terms a hold binds by; who placed it and when do not make two holds
// different holds.
auto Terms(const Hold& h) {
  const HoldScope& s = h.scope;
  return std::tie(h.matter, h.reason, h.expires_at, s.category, s.target, s.subject_kind, s.subject_id, s.key,
                  s.clock_from, s.clock_until);
}

}  // namespace

Result<FleetJoinReport> JoinFleetState(StateDb& source, StateDb& shared, StateLocks& locks, const std::string& host) {
  auto head = source.Head();
  if (!head.ok()) return head.status();
  RETENTION_RETURN_IF_ERROR(RequireNoUnfinishedWork(source, "join"));
  auto shared_head = shared.Head();
  if (!shared_head.ok()) return shared_head.status();
  if (shared_head->seq == 0) {
    return Status::Invalid("the shared state holds nothing yet: migrate without --join, which copies this host's "
                           "whole state, purge log included, into it");
  }

  // A name the fleet already uses is another machine's (a clone's host
  // name): sharing it would share its run lock and make each reconcile the
  // other's crashed batches against its own disk.
  auto runs = shared.ListRuns();
  if (!runs.ok()) return runs.status();
  for (const RunInfo& run : *runs) {
    if (run.host == host) {
      return Status::Invalid("host name '" + host + "' is already in use in the shared state (run " +
                             std::to_string(run.id) + "): give this host a name of its own with --host NAME, and "
                             "the same in its config (state = { ..., host = \"NAME\" })");
    }
  }

  FleetJoinReport report;
  report.head = *head;
  const Timestamp now = shared.Now();
  auto mine = source.ListHolds(/*include_released=*/false);
  if (!mine.ok()) return mine.status();
  for (const Hold& hold : *mine) {
    if (!hold.ActiveAt(now) && hold.placed_at <= now) continue;  // expired; one placed ahead still binds later
    // Read again for each: a hold placed meanwhile by another host counts.
    auto theirs = shared.ListHolds(/*include_released=*/false);
    if (!theirs.ok()) return theirs.status();
    const Hold* same = nullptr;
    for (const Hold& h : *theirs)
      if (!h.released_at && Terms(h) == Terms(hold)) same = &h;
    if (same) {
      report.already.emplace_back(hold.id, same->id);
      continue;
    }
    int64_t placed = 0;
    RETENTION_RETURN_IF_ERROR(WriteUnderHoldBarrier(locks, shared, [&]() -> Status {
      auto id = AddHold(shared, hold, host);
      if (!id.ok()) return id.status();
      placed = *id;
      return Status::Ok();
    }));
    report.placed.emplace_back(hold.id, placed);
  }

  auto requests = source.ListErasureRequests();
  if (!requests.ok()) return requests.status();
  for (const auto& r : *requests) report.requests_not_done += r.outcome != "done" && r.outcome != "partial";

  // Every change to a state appends an entry: an unchanged head means the
  // holds read above were the state's until the end.
  auto after = source.Head();
  if (!after.ok()) return after.status();
  if (after->seq != head->seq || after->hash != head->hash) {
    return Status::Busy("this host's state changed while it joined (its ledger grew from entry " +
                        std::to_string(head->seq) + " to " + std::to_string(after->seq) +
                        "): run the join again; holds already placed are found in force and not placed twice");
  }
  return report;
}

}  // namespace retention
