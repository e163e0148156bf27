// The locks of a PostgreSQL state (issue 15): session advisory locks on a
// connection of their own, so that they span every host sharing the
// state, and a killed host's locks go with its session. The protocol of
// the hold barrier across hosts, and why it holds, is at the top of
// postgres_state_locks.cc.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "state/state_locks.h"
#include "util/status.h"

namespace retention {

struct PostgresStateLocksOptions {
  // As PostgresStateDbOptions (state/postgres_state_db.h): the conninfo,
  // how errors name the state, the schema, this host's name (default: the
  // host name).
  std::string conninfo;
  std::string who = "the PostgreSQL state";
  std::string schema = "retention";
  std::string host;
  // A confirmation of a lock (HeldLock::Confirm) holds for this long after
  // its round trip was sent; a round trip slower than this confirms
  // nothing.
  std::chrono::milliseconds confirm_fresh{250};
  // What `hold add` waits before it returns while runs are in progress
  // (AwaitBarrierLosers). It must exceed confirm_fresh plus the longest a
  // store's COMMIT (or one unlink) may take: see the argument.
  std::chrono::milliseconds grace{2000};
};

// Connects at once (Unavailable when the server cannot be reached).
Result<std::unique_ptr<StateLocks>> OpenPostgresStateLocks(const PostgresStateLocksOptions& options);

}  // namespace retention
