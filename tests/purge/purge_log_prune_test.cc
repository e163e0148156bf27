// The purge log's own retention (SPEC 1, issue 4 item 5), on the built
// binary: a purge prunes the ledger's entries older than the schedule of
// the "purge-log" target behind an anchor entry, and the ledger still
// verifies -- after a hold, after a crash at each step, and under a saved
// plan.
#include <catch2/catch.hpp>

#include <csignal>

#include <nlohmann/json.hpp>

#include "e2e/e2e_util.h"
#include "state/state_ops.h"
#include "state/state_test_support.h"
#include "purge/purge_fixture.h"
#include "state/sqlite_state_db.h"

namespace retention {
namespace {

using e2e::Db;
using e2e::Describe;
using e2e::RunResult;
using e2e::RunWith;
using e2e::TempDir;
using e2e::WriteFile;
using Json = nlohmann::json;

constexpr int64_t kOld = 600;     // written in 2024, one an hour: past 12 months
constexpr int64_t kRecent = 200;  // written in the last day

// Entry i (0-based) of the fixture's ledger. Old entries name customer
// i % 10; recent ones no subject.
LedgerEntry FixtureEntry(int64_t i, Timestamp now) {
  LedgerEntry e;
  e.kind = LedgerKind::kDelete;
  e.run_id = 1;
  e.category = "support";
  e.store = "app";
  e.target = "tickets";
  e.record_key = std::to_string(100000 + i);
  e.clock = "2022-01-01T00:00:00Z";
  e.cutoff = "2022-06-01T00:00:00Z";
  e.rule = "rules/support.toml:5";
  e.batch = i / 50;
  if (i < kOld) {
    e.at = FromUnixMicros(1704067200LL * 1000000 + i * 3600LL * 1000000);  // 2024-01-01 + i hours
    e.subject = "customer:" + std::to_string(i % 10);
  } else {
    e.at = now - std::chrono::minutes(kOld + kRecent - i);
  }
  return e;
}

// A purge-log schedule of 12 months, a support table mapping customers (so
// that holds may name one), and a ledger of kOld old and kRecent recent
// entries, seqs 1..kOld old.
void MakeFixture(const TempDir& dir, int batch_size) {
  {
    Db app(dir / "app.db");
    app.Exec("CREATE TABLE tickets (id INTEGER PRIMARY KEY, customer_id INTEGER, updated_at TEXT);"
             "CREATE INDEX tickets_updated ON tickets(updated_at);"
             "INSERT INTO tickets VALUES (1, 3, '2099-01-01 00:00:00');");
  }
  WriteFile(dir / "rules" / "audit.toml", R"(
[audit_security]
delete_after = "12 months"
[[audit_security.target]]
store = "purge-log"
)");
  WriteFile(dir / "rules" / "support.toml", R"(
[support]
delete_after = "24 months"
[[support.target]]
store = "app"
table = "tickets"
clock = { column = "updated_at", encoding = "text" }
subject = { kind = "customer", column = "customer_id" }
)");
  WritePurgeTestConfig(dir, batch_size);
  auto state = OpenOrCreateStateDb(dir / "state.db", /*read_only=*/false);
  REQUIRE(state.ok());
  const Timestamp now = SystemNow();
  std::vector<LedgerEntry> entries;
  for (int64_t i = 0; i < kOld + kRecent; ++i) entries.push_back(FixtureEntry(i, now));
  REQUIRE(Append(**state, std::move(entries)).ok());
}

RunResult Retention(const TempDir& dir, std::vector<std::string> args) {
  return RunWith(dir / "retention.toml", std::move(args));
}

void RequireVerifies(const TempDir& dir) {
  RunResult verify = Retention(dir, {"audit", "verify"});
  INFO(Describe(verify));
  REQUIRE(verify.exit_code == 0);
}

struct Anchor {
  int64_t seq, from, through;
};

std::vector<Anchor> Anchors(const TempDir& dir) {
  Db state(dir / "state.db", /*read_only=*/true);
  std::vector<Anchor> out;
  for (const auto& row : state.Query("SELECT seq, detail FROM ledger WHERE kind = 'anchor' ORDER BY seq")) {
    const Json detail = Json::parse(*row[1]);
    out.push_back({std::stoll(*row[0]), detail.at("from").get<int64_t>(), detail.at("through").get<int64_t>()});
  }
  return out;
}

int64_t FirstSeq(const TempDir& dir) {
  return Db(dir / "state.db", /*read_only=*/true).Int("SELECT min(seq) FROM ledger");
}

TEST_CASE("purge prunes the purge log's old entries behind an anchor that verify accepts", "[purge][purge-log][e2e]") {
  TempDir dir;
  MakeFixture(dir, 0);
  RequireVerifies(dir);

  RunResult plan = Retention(dir, {"plan", "--format", "json"});
  INFO(Describe(plan));
  REQUIRE(plan.exit_code == 0);
  bool planned = false;
  const Json plan_json = Json::parse(plan.out);
  for (const Json& t : plan_json.at("targets")) {
    if (t.at("target").get<std::string>() != "purge-log") continue;
    planned = true;
    CHECK(t.at("due") == kOld);
    CHECK(t.at("deletable") == kOld);
  }
  REQUIRE(planned);

  RunResult purge = Retention(dir, {"purge"});
  INFO(Describe(purge));
  REQUIRE(purge.exit_code == 0);
  // Exactly the old entries went, behind one anchor over them.
  CHECK(FirstSeq(dir) == kOld + 1);
  const auto anchors = Anchors(dir);
  REQUIRE(anchors.size() == 1);
  CHECK(anchors[0].from == 1);
  CHECK(anchors[0].through == kOld);
  {
    Db state(dir / "state.db", /*read_only=*/true);
    CHECK(state.Int("SELECT count(*) FROM ledger WHERE seq BETWEEN ? AND ?",
                    {std::to_string(kOld + 1), std::to_string(kOld + kRecent)}) == kRecent);
    // The run's own record of it.
    const Json end = Json::parse(state.Column("SELECT detail FROM ledger WHERE kind = 'run_end'").back());
    bool reported = false;
    for (const Json& t : end.at("targets"))
      if (t.at("target").get<std::string>() == "purge-log") reported = t.at("deleted") == kOld;
    CHECK(reported);
  }

  RunResult verify = Retention(dir, {"audit", "verify"});
  INFO(Describe(verify));
  REQUIRE(verify.exit_code == 0);
  CHECK_THAT(verify.out, Catch::Contains("Entries 1.." + std::to_string(kOld) + " were pruned"));
  CHECK_THAT(verify.out, Catch::Contains("anchor entry " + std::to_string(anchors[0].seq)));

  RunResult log = Retention(dir, {"audit", "log", "--kind", "anchor"});
  INFO(Describe(log));
  REQUIRE(log.exit_code == 0);
  CHECK_THAT(log.out, Catch::Contains("entries 1 to " + std::to_string(kOld) + " pruned"));

  // A second run finds nothing more to prune and writes no anchor.
  RunResult again = Retention(dir, {"purge"});
  INFO(Describe(again));
  REQUIRE(again.exit_code == 0);
  CHECK(Anchors(dir).size() == 1);
  CHECK(FirstSeq(dir) == kOld + 1);
  RequireVerifies(dir);
}

TEST_CASE("a hold on a subject stops the purge log's pruning at its first entry until released", "[purge][purge-log][e2e]") {
  TempDir dir;
  MakeFixture(dir, 0);
  RunResult dry = Retention(dir, {"hold", "add", "--dry-run", "--subject", "customer:3", "--matter", "M-7",
                                  "--reason", "litigation"});
  INFO(Describe(dry));
  REQUIRE(dry.exit_code == 0);
  CHECK_THAT(dry.out, Catch::Contains("audit_security/purge-log: " + std::to_string(kOld / 10)));

  RunResult hold = Retention(dir, {"hold", "add", "--subject", "customer:3", "--matter", "M-7", "--reason",
                                   "litigation", "--by", "counsel"});
  INFO(Describe(hold));
  REQUIRE(hold.exit_code == 0);

  // Entry 4 (i = 3) is the first about customer 3: 1..3 go, it and every
  // later entry stay, so that what is left is one chain.
  RunResult purge = Retention(dir, {"purge"});
  INFO(Describe(purge));
  REQUIRE(purge.exit_code == 0);
  CHECK(FirstSeq(dir) == 4);
  {
    Db state(dir / "state.db", /*read_only=*/true);
    CHECK(state.Int("SELECT count(*) FROM ledger WHERE subject = 'customer:3'") == kOld / 10);
  }
  auto anchors = Anchors(dir);
  REQUIRE(anchors.size() == 1);
  CHECK(anchors[0].through == 3);
  RequireVerifies(dir);

  RunResult plan = Retention(dir, {"plan", "--format", "json"});
  REQUIRE(plan.exit_code == 0);
  const Json plan_json = Json::parse(plan.out);
  bool planned = false;
  for (const Json& t : plan_json.at("targets")) {
    if (t.at("target").get<std::string>() != "purge-log") continue;
    planned = true;
    CHECK(t.at("deletable") == 0);
    CHECK(t.at("held") == kOld - 3);
  }
  REQUIRE(planned);
  // Entry 6 (customer 5) could go on its own; explain says what keeps it.
  RunResult explain = Retention(dir, {"explain", "purge-log/purge-log/6"});
  INFO(Describe(explain));
  REQUIRE(explain.exit_code == 0);
  CHECK_THAT(explain.out, Catch::Contains("entry 4 stays (held by hold"));

  RunResult release = Retention(dir, {"hold", "release", "1", "--reason", "settled", "--by", "counsel"});
  INFO(Describe(release));
  REQUIRE(release.exit_code == 0);
  RunResult after = Retention(dir, {"purge"});
  INFO(Describe(after));
  REQUIRE(after.exit_code == 0);
  CHECK(FirstSeq(dir) == kOld + 1);
  anchors = Anchors(dir);
  REQUIRE(anchors.size() == 2);
  CHECK(anchors[1].from == 4);  // follows on from the first
  CHECK(anchors[1].through == kOld);
  RequireVerifies(dir);
}

TEST_CASE("a purge killed while pruning the purge log leaves a ledger that verifies", "[purge][purge-log][crash][e2e]") {
  for (const char* fault : {"after_anchor:1", "after_prune_batch:1", "after_prune_batch:4"}) {
    DYNAMIC_SECTION(fault) {
      TempDir dir;
      MakeFixture(dir, 100);
      RunResult killed = PurgeWithFault(dir, fault);
      INFO(Describe(killed));
      REQUIRE(killed.exit_code == 128 + SIGKILL);
      // Anchored, and deleted part way or not at all: the ledger verifies
      // as it stands, the rest of the range checked against the anchor.
      const auto anchors = Anchors(dir);
      REQUIRE(anchors.size() == 1);
      CHECK(anchors[0].through == kOld);
      const int64_t batches_done = std::string(fault) == "after_anchor:1" ? 0 : std::stoi(std::string(fault).substr(18));
      CHECK(FirstSeq(dir) == 1 + 100 * batches_done);
      RequireVerifies(dir);

      RunResult next = Retention(dir, {"purge"});
      INFO(Describe(next));
      REQUIRE(next.exit_code == 0);
      CHECK(FirstSeq(dir) == kOld + 1);
      CHECK(Anchors(dir).size() == 1);  // finished, not anchored again
      Db state(dir / "state.db", /*read_only=*/true);
      CHECK(state.Int("SELECT count(*) FROM ledger WHERE seq > ? AND seq <= ?",
                      {std::to_string(kOld), std::to_string(kOld + kRecent)}) == kRecent);
      RequireVerifies(dir);
    }
  }
}

TEST_CASE("purge --plan prunes the purge log no further than the saved plan listed", "[purge][purge-log][e2e]") {
  TempDir dir;
  MakeFixture(dir, 0);
  const auto plan_file = dir / "plan.jsonl";
  RunResult plan = Retention(dir, {"plan", "--out", plan_file.string()});
  INFO(Describe(plan));
  REQUIRE(plan.exit_code == 0);
  // Keep the header and the purge log's first 200 entries.
  std::istringstream in(e2e::ReadFile(plan_file));
  std::string line, kept;
  int64_t listed = 0;
  while (std::getline(in, line)) {
    const Json j = Json::parse(line);
    if (j.contains("format")) {
      kept += line + "\n";
    } else if (j.at("target").get<std::string>() == "purge-log") {
      ++listed;
      if (std::stoll(j.at("key").get<std::string>()) <= 200) kept += line + "\n";
    }
  }
  REQUIRE(listed == kOld);
  WriteFile(plan_file, kept);

  RunResult purge = Retention(dir, {"purge", "--plan", plan_file.string()});
  INFO(Describe(purge));
  REQUIRE(purge.exit_code == 0);
  CHECK(FirstSeq(dir) == 201);
  const auto anchors = Anchors(dir);
  REQUIRE(anchors.size() == 1);
  CHECK(anchors[0].through == 200);
  RequireVerifies(dir);
}

TEST_CASE("explain says a pruned purge log entry went behind an anchor", "[purge][purge-log][e2e]") {
  TempDir dir;
  MakeFixture(dir, 0);
  REQUIRE(Retention(dir, {"purge"}).exit_code == 0);
  const int64_t anchor = Anchors(dir).at(0).seq;
  RunResult gone = Retention(dir, {"explain", "purge-log/purge-log/5"});
  INFO(Describe(gone));
  REQUIRE(gone.exit_code == 0);
  CHECK_THAT(gone.out, Catch::Contains("Pruned by anchor entry " + std::to_string(anchor)));
  RunResult kept = Retention(dir, {"explain", "purge-log/purge-log/" + std::to_string(kOld + 1)});
  INFO(Describe(kept));
  REQUIRE(kept.exit_code == 0);
  CHECK_THAT(kept.out, Catch::Contains("KEPT"));
  CHECK_THAT(kept.out, Catch::Contains("not before the cutoff"));
}

}  // namespace
}  // namespace retention

namespace retention {
namespace {

TEST_CASE("verify fails when an anchor pruned under a shorter schedule than the rules give now, unless accepted",
          "[purge][purge-log][e2e]") {
  TempDir dir;
  MakeFixture(dir, 0);
  // Pruned under "6 months"; then the policy says 12 months.
  WriteFile(dir / "rules" / "audit.toml", "[audit_security]\ndelete_after = \"6 months\"\n"
                                          "[[audit_security.target]]\nstore = \"purge-log\"\n");
  RunResult purge = Retention(dir, {"purge"});
  INFO(Describe(purge));
  REQUIRE(purge.exit_code == 0);
  REQUIRE(Anchors(dir).size() == 1);
  RunResult same = Retention(dir, {"audit", "verify"});
  REQUIRE(same.exit_code == 0);
  CHECK(same.err.find("warning") == std::string::npos);

  WriteFile(dir / "rules" / "audit.toml", "[audit_security]\ndelete_after = \"12 months\"\n"
                                          "[[audit_security.target]]\nstore = \"purge-log\"\n");
  // A forger's anchor looks the same: it fails unless the auditor accepts
  // that the policy really was shorter then.
  RunResult verify = Retention(dir, {"audit", "verify"});
  INFO(Describe(verify));
  CHECK(verify.exit_code == 78);
  CHECK_THAT(verify.err, Catch::Contains("under 'delete after 6 months', shorter than the rules' purge log "
                                         "schedule (delete after 12 months, UTC)"));
  RunResult accepted = Retention(dir, {"audit", "verify", "--accept-anchor-schedules"});
  INFO(Describe(accepted));
  CHECK(accepted.exit_code == 0);
  CHECK_THAT(accepted.err, Catch::Contains("warning: anchor entry"));
  RunResult json = Retention(dir, {"audit", "verify", "--accept-anchor-schedules", "--format", "json"});
  REQUIRE(json.exit_code == 0);
  CHECK_THAT(Json::parse(json.out).at("warning").get<std::string>(), Catch::Contains("6 months"));
}

TEST_CASE("a hold placed after the purge log's anchor is written keeps what it covers, and verify passes",
          "[purge][purge-log][holds][e2e]") {
  TempDir dir;
  MakeFixture(dir, 100);
  // The purge paused right after its anchor (entries 1..kOld), before any
  // of them is deleted: a hold on customer 3 is placed then.
  const auto go = dir / "go";
  e2e::Spawned purge = e2e::Spawn({"--config", (dir / "retention.toml").string(), "purge"},
                                  {"RETENTION_PAUSE=after_anchor:1:" + go.string()});
  e2e::WaitForFile(dir / "go.reached");
  RunResult hold = Retention(dir, {"hold", "add", "--subject", "customer:3", "--matter", "M-7", "--reason",
                                   "litigation", "--by", "counsel"});
  INFO(Describe(hold));
  REQUIRE(hold.exit_code == 0);
  WriteFile(go, "");
  RunResult run = purge.Finish();
  INFO(Describe(run));
  REQUIRE(run.exit_code == 0);
  // Entries 1..3 went; entry 4, the first about customer 3, and all after it stay.
  CHECK(FirstSeq(dir) == 4);
  {
    Db state(dir / "state.db", /*read_only=*/true);
    CHECK(state.Int("SELECT count(*) FROM ledger WHERE subject = 'customer:3'") == kOld / 10);
  }
  REQUIRE(Anchors(dir).size() == 1);
  RequireVerifies(dir);

  // Released: the next run finishes the anchored range, under the same anchor.
  RunResult release = Retention(dir, {"hold", "release", "1", "--reason", "settled", "--by", "counsel"});
  INFO(Describe(release));
  REQUIRE(release.exit_code == 0);
  RunResult after = Retention(dir, {"purge"});
  INFO(Describe(after));
  REQUIRE(after.exit_code == 0);
  CHECK(FirstSeq(dir) == kOld + 1);
  CHECK(Anchors(dir).size() == 1);
  RequireVerifies(dir);
}

}  // namespace
}  // namespace retention
