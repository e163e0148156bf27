// The locks of a PostgreSQL state: session advisory locks, all on one
// connection of this object's own (never the state's: a barrier wait must
// not stall the appends, and the state connection is shared by threads).
//
//   run lock      pg_try_advisory_lock(K("run", schema, host))
//   target lock   pg_try_advisory_lock(K("target", schema, store, target))
//   hold barrier  pg_advisory_lock_shared / pg_advisory_lock(K("barrier",
//                 schema)), waiting under lock_timeout: then Busy
//
// K is hashtextextended of the parts, joined by a unit separator. The
// server drops a session's advisory locks when the session ends: a host
// killed, or its network gone once the server notices, leaves no lock
// behind. PostgreSQL queues a shared request behind a waiting exclusive
// one, so `hold add` is never starved by batch after batch (the file
// barrier needs its gate for that).
//
// THE HOLD BARRIER ACROSS HOSTS
//
// CLAIM (as for the file barrier, hold_barrier.cc): once `hold add` has
// returned, no target deletion that commits afterwards removes a record
// the hold covers.
//
// The file barrier's argument (hold_barrier.cc) needs one thing a session
// lock does not give: that the batch still holds the barrier when its
// delete commits. A flock goes only with its process; an advisory lock
// goes with its session, and the session can end while the process lives
// (pg_terminate_backend, a server restart, an idle or TCP timeout): the
// server releases the shared lock at once, `hold add` on another host takes
// the barrier, commits its hold and returns, while the batch, which read
// the holds before, goes on to commit its delete.
//
// PROTOCOL
//   purge, each batch: take the barrier SHARED (lock session L); read the
//     holds (state connection; a snapshot begun after the lock was
//     granted); DELETE on the target; CONFIRM; COMMIT on the target;
//     release. A files store confirms before each unlink.
//   CONFIRM: a round trip on L that finds the lock held by L's backend
//     (pg_locks), sent at t_s on this host's monotonic clock, answered
//     within confirm_fresh; it stands until t_s + confirm_fresh, after
//     which the next irrevocable step needs a new one. Failed or slow: the
//     step is not taken (ROLLBACK), the run stops (exit 69, the batch
//     reconciled at the next start).
//   hold add / release: take the barrier EXCLUSIVE on its own session X;
//     commit the hold (state connection); CONFIRM on X; when that fails,
//     X ended before the commit was known, and batches may have taken the
//     barrier meanwhile and read the holds without this one: take the
//     barrier EXCLUSIVE again (a new session), which waits for them;
//     release; then, while any run is in progress (a `running` row in
//     runs), wait `grace`; return.
//
// WHY IT HOLDS. Let batch B commit (or unlink) at time c, after `hold
// add` A returned at r: c > r. B took the barrier shared at b on L.
// (1) L alive until after c: B held the barrier over [b, c]; A held it
//     exclusive over an interval [x, y] containing its commit (CONFIRM on
//     X, or the second exclusive period, whose start comes after the
//     commit and which every earlier shared holder must have left).
//     Shared and exclusive exclude each other, and y < r < c, so y < b:
//     B read the holds after the commit and saw the hold.
// (2) L ended at k, before c. B's CONFIRM before the step succeeded, so
//     k > t_s (L's backend answered it, holding the lock), and the step
//     began before t_s + confirm_fresh. If A held the barrier exclusive
//     before b, B saw the hold, as in (1). Otherwise A's exclusive period
//     began after b and needed L's lock gone: it began after k > t_s. B's
//     run was `running` when A looked (it began before b and ends after
//     c > r), so A returned at r >= k + grace > t_s + grace. Then c > r
//     means the step took longer than grace - confirm_fresh after it
//     began.
//
// RESIDUAL WINDOW: case (2) with a COMMIT (or one unlink) that takes
// longer than grace - confirm_fresh (1.75 s by default) after a
// confirmation, while, in that time, L's session is killed and `hold add`
// runs to its end on another host; with clocks on two hosts whose rates
// differ enough to matter over two seconds. A run cannot take back a
// COMMIT it has sent; the batch's ledger entries still say exactly what
// went. A grace is waited only while some run is in progress, so `hold
// add` is as quick as before on an idle fleet.
#include "state/postgres_state_locks.h"

#include <spdlog/spdlog.h>

#include <initializer_list>
#include <optional>
#include <string_view>
#include <thread>

#include "stores/postgres_connection.h"
#include "util/identity.h"

namespace retention {
namespace {

using Clock = std::chrono::steady_clock;

constexpr char kSep = '\x1f';

// The text whose hash is the lock's key (K above).
std::string KeyText(std::initializer_list<std::string_view> parts) {
  std::string out = "retention";
  for (std::string_view p : parts) {
    out += kSep;
    out += p;
  }
  return out;
}

// Whether this session holds the advisory lock of key text $1 (mode $2).
constexpr const char* kHeldSql =
    "SELECT EXISTS(SELECT 1 FROM pg_locks, (SELECT hashtextextended($1, 0) AS k) AS lock_key "
    "WHERE locktype = 'advisory' AND granted AND objsubid = 1 AND pid = pg_backend_pid() AND mode = $2 "
    "AND classid = ((lock_key.k >> 32) & 4294967295)::oid AND objid = (lock_key.k & 4294967295)::oid)";

// Who holds the advisory lock of key text $1 (their application_name).
constexpr const char* kHolderSql =
    "SELECT coalesce(a.application_name, '') FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid, "
    "(SELECT hashtextextended($1, 0) AS k) AS lock_key "
    "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 AND l.pid <> pg_backend_pid() "
    "AND l.classid = ((lock_key.k >> 32) & 4294967295)::oid AND l.objid = (lock_key.k & 4294967295)::oid LIMIT 1";

class PostgresStateLocks;

// One advisory lock this object's session holds.
class PgHeldLock final : public HeldLock {
 public:
  PgHeldLock(PostgresStateLocks* owner, std::string key, bool shared, int64_t session)
      : owner_(owner), key_(std::move(key)), shared_(shared), session_(session) {}
  ~PgHeldLock() override;
  Status Confirm() override;

 private:
  PostgresStateLocks* owner_;
  std::string key_;
  bool shared_;
  int64_t session_;  // the session it was taken on (PostgresStateLocks::session_)
  std::optional<Clock::time_point> confirmed_;  // when the last good CONFIRM was sent
};

class PostgresStateLocks final : public StateLocks {
 public:
  explicit PostgresStateLocks(PostgresStateLocksOptions options) : options_(std::move(options)) {
    if (options_.host.empty()) options_.host = HostName();
  }

  // A new session, when none is open or the last one died and nothing is
  // held on it (a lock held on a dead session is lost, never silently
  // retaken on a new one).
  Status Connect() {
    if (conn_ && conn_->healthy()) return Status::Ok();
    if (held_ > 0) return Lost("its connection is gone");
    auto conn = PgConnection::OpenConninfo(options_.conninfo, options_.who);
    if (!conn.ok()) return conn.status();
    conn_ = std::move(*conn);
    ++session_;
    // The holder's host, for the messages of the hosts it keeps waiting.
    auto r = conn_->ExecParams("SELECT set_config('application_name', $1, false)",
                               {std::string("retention@" + options_.host).substr(0, 63)});
    return r.ok() ? Status::Ok() : r.status();
  }

  Result<std::unique_ptr<HeldLock>> LockRun() override {
    const std::string key = KeyText({"run", options_.schema, options_.host});
    auto got = TryLock(key);
    if (!got.ok()) return got.status();
    if (!*got) {
      return Status::Busy("another run on host '" + options_.host + "' holds the run lock of " + Named() +
                          "; not starting a second one");
    }
    return Held(key, /*shared=*/false);
  }

  Result<std::unique_ptr<HeldLock>> LockTarget(const std::string& store, const std::string& records) override {
    const std::string key = KeyText({"target", options_.schema, store, records});
    auto got = TryLock(key);
    if (!got.ok()) return got.status();
    if (!*got) {
      std::string who = "another host";
      if (auto h = conn_->ExecParams(kHolderSql, {key}); h.ok() && h->rows() == 1 && !h->Text(0, 0).empty())
        who = std::string(h->Text(0, 0));
      return Status::Busy("its records (" + store + ", " + records + ") are being purged by " + who +
                          " sharing " + Named());
    }
    return Held(key, /*shared=*/false);
  }

  Result<HoldBarrier::Guard> ShareHoldBarrier(std::chrono::milliseconds timeout) override {
    return Barrier(/*shared=*/true, timeout, "a hold is being placed or released");
  }
  Result<HoldBarrier::Guard> ExcludeHoldBarrier(std::chrono::milliseconds timeout) override {
    return Barrier(/*shared=*/false, timeout, "a purge batch did not finish in time");
  }

  Status AwaitBarrierLosers(StateDb& state) override {
    auto running = state.UnfinishedRuns();
    if (!running.ok()) return running.status();
    if (!running->empty()) std::this_thread::sleep_for(options_.grace);
    return Status::Ok();
  }

 private:
  friend class PgHeldLock;

  std::string Named() const { return options_.who + ", schema " + options_.schema; }
  Status Lost(const std::string& why) const {
    return Status::Unavailable("the locks on " + Named() + " are lost (" + why +
                               "): another host may take them, so this stops here");
  }

  Result<bool> TryLock(const std::string& key) {
    RETENTION_RETURN_IF_ERROR(Connect());
    auto r = conn_->ExecParams("SELECT pg_try_advisory_lock(hashtextextended($1, 0))", {key});
    if (!r.ok()) return r.status();
    return r->Text(0, 0) == "t";
  }

  std::unique_ptr<HeldLock> Held(const std::string& key, bool shared) {
    ++held_;
    return std::make_unique<PgHeldLock>(this, key, shared, session_);
  }

  Result<HoldBarrier::Guard> Barrier(bool shared, std::chrono::milliseconds timeout, const char* waiting_for) {
    RETENTION_RETURN_IF_ERROR(Connect());
    const std::string key = KeyText({"barrier", options_.schema});
    const std::string fn = shared ? "pg_advisory_lock_shared" : "pg_advisory_lock";
    const std::string busy = "timed out waiting for the hold barrier of " + Named() + ": " + waiting_for;
    if (timeout.count() <= 0) {  // do not wait (lock_timeout 0 would wait forever)
      auto r = conn_->ExecParams("SELECT pg_try_advisory_lock" + std::string(shared ? "_shared" : "") +
                                     "(hashtextextended($1, 0))",
                                 {key});
      if (!r.ok()) return r.status();
      if (r->Text(0, 0) != "t") return Status::Busy(busy);
    } else {
      auto set = conn_->ExecParams("SELECT set_config('lock_timeout', $1, false)",
                                   {std::to_string(timeout.count()) + "ms"});
      if (!set.ok()) return set.status();
      auto r = conn_->ExecParams("SELECT " + fn + "(hashtextextended($1, 0))", {key});
      if (!r.ok()) {
        if (conn_->last_sqlstate() == "55P03") return Status::Busy(busy);
        return r.status();
      }
    }
    return HoldBarrier::Guard(Held(key, shared), !shared);
  }

  void Release(const std::string& key, bool shared, int64_t session) {
    --held_;
    if (session != session_ || !conn_ || !conn_->healthy()) return;  // went with its session
    auto r = conn_->ExecParams(std::string("SELECT pg_advisory_unlock") + (shared ? "_shared" : "") +
                                   "(hashtextextended($1, 0))",
                               {key});
    if (!r.ok()) spdlog::debug("releasing a lock on {}: {}", Named(), r.status().message());
  }

  PostgresStateLocksOptions options_;
  std::unique_ptr<PgConnection> conn_;
  int64_t session_ = 0;  // sessions opened so far
  int held_ = 0;         // locks handed out and not yet released
};

PgHeldLock::~PgHeldLock() { owner_->Release(key_, shared_, session_); }

Status PgHeldLock::Confirm() {
  const auto now = Clock::now();
  if (confirmed_ && now - *confirmed_ <= owner_->options_.confirm_fresh) return Status::Ok();
  if (session_ != owner_->session_ || !owner_->conn_) return owner_->Lost("its session ended");
  const auto sent = Clock::now();
  auto r = owner_->conn_->ExecParams(kHeldSql, {key_, shared_ ? "ShareLock" : "ExclusiveLock"});
  if (!r.ok()) return owner_->Lost(r.status().message());
  if (r->Text(0, 0) != "t") return owner_->Lost("the server no longer lists it");
  if (Clock::now() - sent > owner_->options_.confirm_fresh)
    return owner_->Lost("confirming it took longer than " + std::to_string(owner_->options_.confirm_fresh.count()) +
                        " ms");
  confirmed_ = sent;
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<StateLocks>> OpenPostgresStateLocks(const PostgresStateLocksOptions& options) {
  if (options.confirm_fresh.count() <= 0 || options.grace <= options.confirm_fresh)
    return Status::Internal("the hold barrier's grace must outlast a confirmation (postgres_state_locks.cc)");
  auto locks = std::make_unique<PostgresStateLocks>(options);
  RETENTION_RETURN_IF_ERROR(locks->Connect());
  return std::unique_ptr<StateLocks>(std::move(locks));
}

}  // namespace retention
