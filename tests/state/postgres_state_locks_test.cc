// The locks of a PostgreSQL state (state/postgres_state_locks.h) against a
// real server, each "host" a connection (or a process) of its own with its
// own host id: the run and target locks exclude across hosts, a purge
// skips a target another host holds, `hold add` waits for another host's
// batch in flight, a killed holder's locks go with its session, and a
// batch whose barrier session was terminated commits nothing.
#include "state/postgres_state_locks.h"

#include <signal.h>
#include <sys/wait.h>
#include <sys/time.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <thread>

#include "cli/exit_codes.h"
#include "config/config.h"
#include "env/env.h"
#include "purge/purge.h"
#include "purge/purge_fixture.h"
#include "purge/run_guards.h"
#include "rules/rule_loader.h"
#include "state/postgres_state_db.h"
#include "state/state_ops.h"
#include "support/pg_cluster.h"

namespace retention {
namespace {

using namespace std::chrono_literals;

// A state schema of its own per test, in one database per process.
class FleetSchema {
 public:
  FleetSchema() : schema_("fleet_" + std::to_string(counter_++)) {}
  static const pgtest::PgTestDatabase& Db() {
    static pgtest::PgTestDatabase db;
    return db;
  }
  PostgresStateLocksOptions LockOptions(const std::string& host) const {
    PostgresStateLocksOptions o;
    o.conninfo = Db().Conninfo();
    o.schema = schema_;
    o.host = host;
    o.confirm_fresh = 50ms;  // the tests' commits take milliseconds
    o.grace = 150ms;
    return o;
  }
  PostgresStateDbOptions StateOptions(const std::string& host) const {
    PostgresStateDbOptions o;
    o.conninfo = Db().Conninfo();
    o.schema = schema_;
    o.host = host;
    return o;
  }
  std::unique_ptr<StateLocks> Locks(const std::string& host) const {
    auto locks = OpenPostgresStateLocks(LockOptions(host));
    INFO(locks.status().message());
    REQUIRE(locks.ok());
    return std::move(locks.value());
  }
  std::unique_ptr<StateDb> State(const std::string& host) const {
    auto state = OpenPostgresStateDb(StateOptions(host));
    INFO(state.status().message());
    REQUIRE(state.ok());
    return std::move(state.value());
  }
  const std::string& schema() const { return schema_; }

 private:
  static inline int counter_ = 0;
  std::string schema_;
};

// What pg_terminate_backend, an idle timeout or a server restart does to a
// host's lock session (application_name retention@HOST): ends it, which
// frees its locks at once, while the host's process goes on.
void TerminateLockSession(const std::string& host) {
  pgtest::PgConnection admin = FleetSchema::Db().Connect();
  const std::string pid = admin.Scalar("SELECT pid FROM pg_stat_activity WHERE application_name = 'retention@" +
                                       host + "' AND datname = current_database()");
  admin.Exec("SELECT pg_terminate_backend(" + pid + ", 5000)");
}

// `hold add` on a host: a hold on the whole category "events", through the
// protocol the command uses, on the host's state and locks.
Status FleetHoldAdd(StateDb& state, StateLocks& locks) {
  Hold h;
  h.matter = "M-1";
  h.reason = "litigation";
  h.author = "legal";
  h.scope.category = "events";
  return WriteUnderHoldBarrier(locks, state, [&]() -> Status {
    auto id = AddHold(state, h, "test-host");
    return id.ok() ? Status::Ok() : id.status();
  }, 10s);
}
Status FleetHoldAdd(const FleetSchema& fleet, const std::string& host) {
  return FleetHoldAdd(*fleet.State(host), *fleet.Locks(host));
}

// Host a's locks, with `on_confirm(n, false)` run before the n-th
// confirmation of a shared barrier (right before the n-th batch's target
// COMMIT), and `on_confirm(n, true)` after it, when it succeeded.
class ConfirmHookedLocks final : public StateLocks {
 public:
  using Hook = std::function<void(int n, bool confirmed)>;
  ConfirmHookedLocks(std::unique_ptr<StateLocks> inner, Hook on_confirm)
      : inner_(std::move(inner)), on_confirm_(std::move(on_confirm)) {}
  Result<std::unique_ptr<HeldLock>> LockRun() override { return inner_->LockRun(); }
  Result<std::unique_ptr<HeldLock>> LockTarget(const std::string& s, const std::string& t) override {
    return inner_->LockTarget(s, t);
  }
  Result<HoldBarrier::Guard> ExcludeHoldBarrier(std::chrono::milliseconds timeout) override {
    return inner_->ExcludeHoldBarrier(timeout);
  }
  Result<HoldBarrier::Guard> ShareHoldBarrier(std::chrono::milliseconds timeout) override {
    auto guard = inner_->ShareHoldBarrier(timeout);
    if (!guard.ok()) return guard.status();
    return HoldBarrier::Guard(std::make_unique<Hooked>(std::move(*guard), this), false);
  }

 private:
  class Hooked final : public HeldLock {
   public:
    Hooked(HoldBarrier::Guard inner, ConfirmHookedLocks* owner) : inner_(std::move(inner)), owner_(owner) {}
    Status Confirm() override {
      const int n = ++owner_->confirms_;
      owner_->on_confirm_(n, false);
      Status st = inner_.Confirm();
      if (st.ok()) owner_->on_confirm_(n, true);
      return st;
    }

   private:
    HoldBarrier::Guard inner_;
    ConfirmHookedLocks* owner_;
  };
  std::unique_ptr<StateLocks> inner_;
  Hook on_confirm_;
  int confirms_ = 0;
};

// A purge of DIR (WriteDueEventsFixture: 60 due rows, batches of 7) as host
// a of `fleet`, its locks hooked as above.
Result<PurgeReport> FleetPurge(const e2e::TempDir& dir, const FleetSchema& fleet,
                               ConfirmHookedLocks::Hook on_confirm) {
  auto config = LoadConfig(dir / "retention.toml");
  REQUIRE(config.ok());
  auto rules = LoadRules(*config);
  REQUIRE(rules.ok());
  PurgeOptions options;
  options.exit_code_of = ExitStatusOf;
  options.env = Env::Default();
  options.env.state_opener = [&fleet](const Config&, StateOpenMode mode, const Env::Clock& clock) {
    PostgresStateDbOptions o = fleet.StateOptions("host-a");
    o.read_only = mode == StateOpenMode::kRead;
    o.clock = clock;
    return OpenPostgresStateDb(o);
  };
  options.env.locks_opener = [&fleet, on_confirm](const Config&) -> Result<std::unique_ptr<StateLocks>> {
    auto locks = OpenPostgresStateLocks(fleet.LockOptions("host-a"));
    if (!locks.ok()) return locks.status();
    return std::unique_ptr<StateLocks>(std::make_unique<ConfirmHookedLocks>(std::move(*locks), on_confirm));
  };
  options.now = options.env.Now();
  options.measure_plan = false;
  return RunPurge(*config, *rules, options);
}

int64_t EventsLeft(const e2e::TempDir& dir) { return e2e::Db(dir / "app.db", true).Int("SELECT count(*) FROM events"); }

TEST_CASE("PostgreSQL state locks: two hosts never hold one run lock or one target lock", "[postgres][state]") {
  FleetSchema fleet;
  auto a = fleet.Locks("host-a"), a_again = fleet.Locks("host-a"), b = fleet.Locks("host-b");
  auto run = a->LockRun();
  REQUIRE(run.ok());
  const Status second = a_again->LockRun().status();
  CHECK(second.code() == StatusCode::kBusy);
  CHECK_THAT(second.message(), Catch::Contains("another run on host 'host-a'"));
  CHECK(b->LockRun().ok());  // per host: host b runs beside it

  auto target = a->LockTarget("app", "events");
  REQUIRE(target.ok());
  const Status taken = b->LockTarget("app", "events").status();
  CHECK(taken.code() == StatusCode::kBusy);
  CHECK_THAT(taken.message(), Catch::Contains("(app, events) are being purged by retention@host-a"));
  CHECK(a_again->LockTarget("app", "events").status().code() == StatusCode::kBusy);  // same host, other run
  CHECK(b->LockTarget("app", "other").ok());
  target->reset();
  CHECK(b->LockTarget("app", "events").ok());
  run->reset();
  CHECK(a_again->LockRun().ok());
}

TEST_CASE("PostgreSQL state locks: a SIGKILLed holder's run lock, target lock and barrier are released",
          "[postgres][state]") {
  FleetSchema fleet;
  (void)fleet.State("host-p");  // the schema exists before the child forks
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {  // host k: takes everything, says so, waits to be killed
    ::close(ready[0]);
    auto locks = OpenPostgresStateLocks(fleet.LockOptions("host-k"));
    if (!locks.ok()) ::_exit(1);
    auto run = (*locks)->LockRun();
    auto target = (*locks)->LockTarget("app", "events");
    auto barrier = (*locks)->ShareHoldBarrier(5s);
    if (!run.ok() || !target.ok() || !barrier.ok()) ::_exit(2);
    if (::write(ready[1], "x", 1) != 1) ::_exit(3);
    for (;;) ::pause();
  }
  ::close(ready[1]);
  char c = 0;
  REQUIRE(::read(ready[0], &c, 1) == 1);
  ::close(ready[0]);

  auto p = fleet.Locks("host-p"), k = fleet.Locks("host-k");
  CHECK(p->ExcludeHoldBarrier(0ms).status().code() == StatusCode::kBusy);
  CHECK(p->ExcludeHoldBarrier(50ms).status().code() == StatusCode::kBusy);
  CHECK(k->LockRun().status().code() == StatusCode::kBusy);
  CHECK(p->LockTarget("app", "events").status().code() == StatusCode::kBusy);

  ::kill(child, SIGKILL);
  int wstatus = 0;
  REQUIRE(::waitpid(child, &wstatus, 0) == child);
  // The server ends the session when it sees the socket close.
  const auto start = std::chrono::steady_clock::now();
  auto barrier = p->ExcludeHoldBarrier(5s);
  CHECK(barrier.ok());
  CHECK(std::chrono::steady_clock::now() - start < 5s);
  CHECK(k->LockRun().ok());
  CHECK(p->LockTarget("app", "events").ok());
}

// Rules of one category over an application store: targets named as
// given, each over its table.
RuleSet GuardRules(const std::string& hash, const std::vector<std::pair<std::string, std::string>>& targets) {
  RuleSet rules;
  rules.hash = hash;
  Category c;
  c.name = "activity";
  for (const auto& [name, table] : targets) {
    Target t;
    t.name = name;
    t.store = "app";
    t.table = table;
    c.targets.push_back(t);
  }
  rules.categories.push_back(c);
  return rules;
}

TEST_CASE("PostgreSQL state: the open-batch guard reads another host's target name only under its own rules",
          "[postgres][state]") {
  FleetSchema fleet;
  auto b = fleet.State("host-b");
  // Host b's run, killed with a batch of activity/events pending.
  RunInfo run;
  run.host = "host-b";
  run.rules_hash = "rules-b";
  run.command = "purge";
  auto run_id = BeginRun(*b, run);
  REQUIRE(run_id.ok());
  PendingBatch batch;
  batch.run_id = *run_id;
  batch.batch = 1;
  batch.category = "activity";
  batch.store = "app";
  batch.target = "events";
  batch.records.push_back({"1", "2020-01-01T00:00:00Z", "", std::nullopt});
  REQUIRE(b->AddPending(batch).ok());

  auto a = fleet.State("host-a");
  auto guard = [&](const RuleSet& rules, const std::string& target) {
    for (const Target& t : rules.categories[0].targets)
      if (t.name == target) return CheckNoOtherHostsOpenBatch(*a, rules, t, "host-a").code();
    FAIL("no target " << target);
    return StatusCode::kOk;
  };
  // Under the rules b ran, "events" is table events_archive: the guard may
  // tell that "ev" (table events) is other records, and that "events2"
  // over public.events_archive is the same.
  const RuleSet same = GuardRules("rules-b", {{"events", "events_archive"}, {"ev", "events"},
                                              {"events2", "public.events_archive"}});
  CHECK(guard(same, "ev") == StatusCode::kOk);
  CHECK(guard(same, "events2") == StatusCode::kBusy);
  CHECK(guard(same, "events") == StatusCode::kBusy);
  // Under other rules, this host cannot know which table b's "events" was:
  // every target of the store waits, whatever this host calls it.
  const RuleSet other = GuardRules("rules-a", {{"events", "events_archive"}, {"ev", "events"}});
  CHECK(guard(other, "ev") == StatusCode::kBusy);
  CHECK(guard(other, "events") == StatusCode::kBusy);
  // A target of another store is never these records; nor are this host's
  // own batches another host's.
  RuleSet elsewhere = GuardRules("rules-a", {{"ev", "events"}});
  elsewhere.categories[0].targets[0].store = "warehouse";
  CHECK(guard(elsewhere, "ev") == StatusCode::kOk);
  CHECK(CheckNoOtherHostsOpenBatch(*b, other, other.categories[0].targets[1], "host-b").ok());
}

TEST_CASE("PostgreSQL state: the open-batch guard keeps off a target when an open batch's entry cannot be read",
          "[postgres][state]") {
  FleetSchema fleet;
  auto a = fleet.State("host-a");
  const RuleSet rules = GuardRules("rules-a", {{"ev", "events"}});
  const Target& ev = rules.categories[0].targets[0];
  REQUIRE(CheckNoOtherHostsOpenBatch(*a, rules, ev, "host-a").ok());
  // The batch index lists an open batch whose entry is not in the ledger
  // (an index written by hand, a restore of one table): whose batch, over
  // which records, is unknown.
  pgtest::PgConnection admin = FleetSchema::Db().Connect();
  admin.Exec("INSERT INTO " + fleet.schema() +
             ".ledger_batches(seq, store, target, integer_keys, key_lo, key_hi, open) "
             "VALUES (999999, 'other', 'elsewhere', true, '1', '2', true)");
  const Status guarded = CheckNoOtherHostsOpenBatch(*a, rules, ev, "host-a");
  INFO(guarded.message());
  CHECK(guarded.code() == StatusCode::kBusy);
  CHECK(guarded.message().find("999999") != std::string::npos);
}

TEST_CASE("PostgreSQL state locks: a purge skips a target another host is purging and exits 75",
          "[postgres][state][purge]") {
  e2e::TempDir dir;
  WriteDueEventsFixture(dir);
  FleetSchema fleet;
  auto b = fleet.Locks("host-b");
  // What a purge of the fixture's target claims: its table, whatever the
  // target is named (RecordsKey).
  auto held = b->LockTarget("app", "table:events");
  REQUIRE(held.ok());
  auto report = FleetPurge(dir, fleet, [](int, bool) {});
  INFO(report.status().message());
  REQUIRE(report.ok());
  CHECK(ExitStatusOf(report->status) == 75);
  CHECK(report->outcome == "stopped");
  REQUIRE(report->targets.size() == 1);
  CHECK_THAT(report->targets[0].skipped, Catch::Contains("being purged by retention@host-b"));
  CHECK(EventsLeft(dir) == kDueEventRows);
}

TEST_CASE("PostgreSQL state locks: hold add on one host waits for another host's batch in flight, "
          "and nothing it covers goes after it returns",
          "[postgres][state][purge]") {
  e2e::TempDir dir;
  WriteDueEventsFixture(dir);
  FleetSchema fleet;
  std::future<Status> hold;
  int64_t before_commit = -1, at_return = -1;
  bool waited = false;
  auto report = FleetPurge(dir, fleet, [&](int n, bool confirmed) {
    if (n != 3 || confirmed) return;
    // Batch 3 has deleted, uncommitted, under the shared barrier: host b
    // places a hold over everything.
    before_commit = EventsLeft(dir);
    hold = std::async(std::launch::async, [&] {
      Status st = FleetHoldAdd(fleet, "host-b");
      at_return = EventsLeft(dir);
      return st;
    });
    waited = hold.wait_for(400ms) == std::future_status::timeout;
  });
  INFO(report.status().message());
  REQUIRE(report.ok());
  REQUIRE(hold.valid());
  const Status placed = hold.get();
  INFO(placed.message());
  REQUIRE(placed.ok());
  CHECK(waited);  // hold add did not return while the batch was in flight
  CHECK(report->status.ok());
  // Batches 1 and 2 went, batch 3 committed before hold add returned;
  // nothing after.
  CHECK(before_commit < kDueEventRows);
  CHECK(at_return < before_commit);
  CHECK(at_return > 0);
  CHECK(EventsLeft(dir) == at_return);
}

TEST_CASE("PostgreSQL state locks: a batch whose barrier session was terminated commits no delete",
          "[postgres][state][purge]") {
  e2e::TempDir dir;
  WriteDueEventsFixture(dir);
  FleetSchema fleet;
  Status placed = Status::Internal("hold add never ran");
  int64_t before_kill = -1, at_return = -1;
  auto report = FleetPurge(dir, fleet, [&](int n, bool confirmed) {
    if (n != 3 || confirmed) return;
    before_kill = EventsLeft(dir);
    // Batch 3 has read the holds and deleted, uncommitted: its lock
    // session is terminated, which frees the barrier at once, and host b
    // places a hold over everything and returns.
    TerminateLockSession("host-a");
    placed = FleetHoldAdd(fleet, "host-b");
    at_return = EventsLeft(dir);
  });
  INFO(placed.message());
  CHECK(placed.ok());
  CHECK(before_kill < kDueEventRows);  // batches 1 and 2 went
  CHECK(at_return == before_kill);
  // The batch's COMMIT was refused: nothing the hold covers went after it
  // returned, and the run stopped (exit 69).
  CHECK(EventsLeft(dir) == at_return);
  const Status status = report.ok() ? report->status : report.status();
  INFO(status.message());
  CHECK(ExitStatusOf(status) == 69);
  CHECK_THAT(status.message(), Catch::Contains("are lost"));
}

// The residual window the grace closes: the session is terminated after
// the batch's confirmation, and its COMMIT comes 100 ms later.
TEST_CASE("PostgreSQL state locks: hold add outwaits a batch that lost its barrier after confirming it",
          "[postgres][state][purge]") {
  e2e::TempDir dir;
  WriteDueEventsFixture(dir);
  FleetSchema fleet;
  // Host b connected before: its hold add starts the moment the barrier
  // is free.
  auto b_state = fleet.State("host-b");
  PostgresStateLocksOptions b_options = fleet.LockOptions("host-b");
  b_options.grace = 600ms;
  auto b_locks = OpenPostgresStateLocks(b_options);
  REQUIRE(b_locks.ok());
  std::future<Status> hold;
  int64_t at_return = -1;
  auto report = FleetPurge(dir, fleet, [&](int n, bool confirmed) {
    if (n != 3 || !confirmed) return;
    TerminateLockSession("host-a");
    hold = std::async(std::launch::async, [&] {
      Status st = FleetHoldAdd(*b_state, **b_locks);
      at_return = EventsLeft(dir);
      return st;
    });
    std::this_thread::sleep_for(100ms);  // a slow COMMIT
  });
  REQUIRE(hold.valid());
  const Status placed = hold.get();
  INFO(placed.message());
  REQUIRE(placed.ok());
  // Batch 3 committed before hold add returned, and the run stopped at the
  // next batch (its locks lost, exit 69): nothing went after the return.
  CHECK(EventsLeft(dir) == at_return);
  const Status status = report.ok() ? report->status : report.status();
  CHECK(ExitStatusOf(status) == 69);
}

// What hold add does when its own barrier session ends before its hold
// commits: batches may have taken the barrier meanwhile and read the holds
// without it, so it takes the barrier again, which waits for them.
TEST_CASE("PostgreSQL state locks: hold add that lost its barrier before its commit waits for the batches "
          "that took it meanwhile",
          "[postgres][state][purge]") {
  e2e::TempDir dir;
  WriteDueEventsFixture(dir);
  FleetSchema fleet;
  auto b_state = fleet.State("host-b");
  auto b_locks = fleet.Locks("host-b");
  std::promise<void> reached;
  std::atomic<bool> committed{false};
  std::future<Result<PurgeReport>> purge;
  Hold h;
  h.matter = "M-2";
  h.reason = "litigation";
  h.author = "legal";
  h.scope.category = "events";
  const Status placed = WriteUnderHoldBarrier(*b_locks, *b_state, [&]() -> Status {
    // Holding the barrier exclusive, host b's lock session is terminated;
    // host a's purge takes the barrier and its first batch reads the holds
    // and deletes; then the hold commits.
    TerminateLockSession("host-b");
    purge = std::async(std::launch::async, [&] {
      return FleetPurge(dir, fleet, [&](int n, bool confirmed) {
        if (n != 1 || confirmed) return;
        reached.set_value();
        while (!committed) std::this_thread::sleep_for(5ms);
        // A long batch, past the grace: only taking the barrier again waits for it.
        std::this_thread::sleep_for(400ms);
      });
    });
    if (reached.get_future().wait_for(30s) != std::future_status::ready)
      return Status::Internal("the purge never reached its first commit");
    auto id = AddHold(*b_state, h, "test-host");
    committed = true;
    return id.ok() ? Status::Ok() : id.status();
  }, 10s);
  const int64_t at_return = EventsLeft(dir);
  INFO(placed.message());
  CHECK(placed.ok());
  REQUIRE(purge.valid());
  auto report = purge.get();
  INFO(report.status().message());
  REQUIRE(report.ok());
  CHECK(report->status.ok());
  // Batch 1 committed before hold add returned; nothing after.
  CHECK(at_return < kDueEventRows);
  CHECK(EventsLeft(dir) == at_return);
}

// A files store confirms before each unlink: once its barrier session is
// gone, the batch unlinks nothing more (a confirmation is good for
// confirm_fresh, which the grace outlasts).
TEST_CASE("PostgreSQL state locks: a files batch whose barrier session was terminated unlinks no more",
          "[postgres][state][purge][files]") {
  e2e::TempDir dir;
  const time_t old = ::time(nullptr) - 200 * 86400;
  for (int i = 0; i < 12; ++i) {
    const auto p = dir / "logs" / ("app.log-" + std::to_string(100 + i) + ".gz");
    e2e::WriteFile(p, "line\n");
    struct timeval times[2] = {{old + i * 3600, 0}, {old + i * 3600, 0}};
    REQUIRE(::utimes(p.c_str(), times) == 0);
  }
  e2e::WriteFile(dir / "rules" / "logs.toml", R"(
[events]
delete_after = "90 days"
[[events.target]]
name = "rotated"
store = "logs"
paths = ["app.log-*"]
clock = { mtime = true }
)");
  WritePurgeTestConfig(dir, 6, "files");
  auto files_left = [&dir] {
    int64_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir / "logs")) ++n;
    return n;
  };
  FleetSchema fleet;
  auto b_state = fleet.State("host-b");
  auto b_locks = fleet.Locks("host-b");
  Status placed = Status::Internal("hold add never ran");
  int64_t at_return = -1;
  auto report = FleetPurge(dir, fleet, [&](int n, bool confirmed) {
    if (n != 8 || confirmed) return;  // batch 2, before its second unlink
    TerminateLockSession("host-a");
    placed = FleetHoldAdd(*b_state, *b_locks);
    at_return = files_left();
  });
  INFO(placed.message());
  CHECK(placed.ok());
  CHECK(at_return < 12);  // batch 1, and batch 2's first file (the batch sizer may make them smaller)
  CHECK(files_left() == at_return);
  const Status status = report.ok() ? report->status : report.status();
  INFO(status.message());
  CHECK(ExitStatusOf(status) == 69);
}

}  // namespace
}  // namespace retention
