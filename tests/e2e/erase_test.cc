// `retention erase` end to end on the demo, as an operator answering a
// deletion request would: preview, erase, the Markdown receipt, erase
// list, status; then the refusals (bad subjects and references, the
// safety valve, a reference reused for another subject).
#include <catch2/catch.hpp>

#include "e2e/e2e_util.h"
#include "support/ledger_checker.h"

namespace retention::e2e {
namespace {

// The account with the most inventory items and some audit events: it has
// erasable records and records an exception keeps.
std::string BusyAccount(const fs::path& app_db) {
  Db db(app_db, /*read_only=*/true);
  auto rows = db.Column(
      "SELECT i.account_id FROM inventory_items i WHERE i.account_id IN (SELECT account_id FROM audit_events) "
      "GROUP BY i.account_id ORDER BY count(*) DESC, i.account_id LIMIT 1");
  REQUIRE(rows.size() == 1);
  return rows[0];
}

int64_t CountOf(const fs::path& app_db, const std::string& table, const std::string& column, const std::string& id) {
  Db db(app_db, /*read_only=*/true);
  return db.Int("SELECT count(*) FROM " + table + " WHERE " + column + " = ?", {id});
}

TEST_CASE("erase on the demo: preview, erase, receipt, list, status", "[erase][e2e]") {
  DemoFixture demo(1000);
  const std::string account = BusyAccount(demo.app_db);
  const std::string subject = "account:" + account;
  const int64_t items = CountOf(demo.app_db, "inventory_items", "account_id", account);
  const int64_t audits = CountOf(demo.app_db, "audit_events", "account_id", account);
  REQUIRE(items > 0);
  REQUIRE(audits > 0);
  const auto before_counts = RowCounts(demo.app_db);

  // 1. Preview: nothing deleted, nothing written to the ledger.
  RunResult preview = RunWith(demo.config, {"erase", "--subject", subject, "--request", "DSR-1", "--dry-run",
                                            "--format", "json"});
  INFO(Describe(preview));
  REQUIRE(preview.exit_code == 0);
  CHECK(RowCounts(demo.app_db) == before_counts);
  CHECK(LedgerCount(demo.state_db, "run_start") == 0);
  auto pj = nlohmann::json::parse(preview.out);
  CHECK(pj.dump().find("DSR-1") != std::string::npos);

  // 2. Erase, with the Markdown receipt saved.
  const fs::path receipt = demo.dir / "receipt.md";
  const checker::StoreSpec spec = checker::DemoSpec(demo.root);
  const checker::Snapshot before = checker::TakeSnapshot(spec, demo.state_db);
  RunResult erase = RunWith(demo.config, {"erase", "--subject", subject, "--request", "DSR-1", "--format", "md",
                                          "--receipt", receipt.string()});
  INFO(Describe(erase));
  REQUIRE(erase.exit_code == 0);
  CHECK(CountOf(demo.app_db, "inventory_items", "account_id", account) == 0);
  // Audit and security events are an erasure exception: all kept.
  CHECK(CountOf(demo.app_db, "audit_events", "account_id", account) == audits);
  const std::string md = ReadFile(receipt);
  CHECK(Contains(md, "DSR-1"));
  CHECK(Contains(md, "to investigate fraud or security incidents"));
  CHECK(md == erase.out);

  // The ledger, judged by the independent checker: every deletion
  // recorded, each batch naming the request, one erase entry.
  const checker::Snapshot after = checker::TakeSnapshot(spec, demo.state_db);
  const auto problems = checker::Check(before, after, demo.state_db);
  INFO(checker::Report(problems));
  CHECK(problems.empty());
  CHECK(LedgerCount(demo.state_db, "erase") == 1);
  {
    Db state(demo.state_db, /*read_only=*/true);
    CHECK(state.Int("SELECT count(*) FROM ledger WHERE kind = 'batch' AND detail NOT LIKE '%\"request\":\"DSR-1\"%'") == 0);
    CHECK(state.Int("SELECT count(*) FROM ledger WHERE kind = 'batch'") > 0);
    CHECK(state.Column("SELECT outcome FROM erasure_requests WHERE reference = 'DSR-1'") ==
          std::vector<std::string>{"partial"});
  }
  RunResult verify = RunWith(demo.config, {"audit", "verify"});
  INFO(Describe(verify));
  CHECK(verify.exit_code == 0);

  // 3. erase list and status name the request.
  RunResult list = RunWith(demo.config, {"erase", "list"});
  INFO(Describe(list));
  CHECK(list.exit_code == 0);
  CHECK(Contains(list.out, "DSR-1"));
  CHECK(Contains(list.out, subject));
  CHECK(Contains(list.out, "partial"));
  {
    // Aligned columns, to the second: the row's outcome sits under OUTCOME.
    const std::string header = list.out.substr(0, list.out.find('\n'));
    const std::string row = list.out.substr(header.size() + 1);
    CHECK(header.find("OUTCOME") == row.find("partial"));
    CHECK(row.find('\t') == std::string::npos);
  }
  RunResult status = RunWith(demo.config, {"status", "--format", "json"});
  INFO(Describe(status));
  auto sj = nlohmann::json::parse(status.out);
  REQUIRE(sj["erasure_requests"].size() == 1);
  CHECK(sj["erasure_requests"][0]["reference"] == "DSR-1");
  CHECK(sj["erasure_requests"][0]["kept"].get<int64_t>() >= audits);

  // 4. The same request again: idempotent, nothing more to delete; the
  // same reference for another subject is refused.
  RunResult again = RunWith(demo.config, {"erase", "--subject", subject, "--request", "DSR-1", "--format", "json"});
  INFO(Describe(again));
  CHECK(again.exit_code == 0);
  auto aj = nlohmann::json::parse(again.out);
  CHECK(aj.dump().find("erased_before") != std::string::npos);
  RunResult other = RunWith(demo.config, {"erase", "--subject", "account:999999", "--request", "DSR-1"});
  CHECK(other.exit_code == 65);
  CHECK(Contains(other.err, "was recorded for subject"));
}

TEST_CASE("erase refuses bad subjects and references, and the safety valve stops it", "[erase][e2e]") {
  DemoFixture demo(1000);
  const auto counts = RowCounts(demo.app_db);
  struct Case {
    std::vector<std::string> args;
    int exit;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{"--subject", "planet:1", "--request", "R"}, 65, "the kinds the rules map: account, customer"},
      {{"--subject", "account:", "--request", "R"}, 65, "the id is empty"},
      {{"--subject", "account:*", "--request", "R"}, 65, "wildcard"},
      {{"--subject", "account:1%", "--request", "R"}, 65, "wildcard"},
      {{"--subject", "account", "--request", "R"}, 65, "KIND:ID"},
      {{"--subject", "account:" + std::string(300, '7'), "--request", "R"}, 65, "longer than 256"},
      {{"--subject", "account:1", "--request", std::string(129, 'r')}, 65, "longer than 128"},
      {{"--subject", "account:1", "--request", "a\tb"}, 65, "printable"},
      {{"--subject", "account:1"}, 64, "--request"},
      {{"--request", "R"}, 64, "--subject"},
      {{"--subject", "account:1", "--request", "R", "--format", "pdf"}, 64, "format"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args{"erase"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    RunResult r = RunWith(demo.config, args);
    INFO(Describe(r));
    CHECK(r.exit_code == c.exit);
    CHECK(Contains(r.err, c.says));
  }
  CHECK(LedgerCount(demo.state_db, "run_start") == 0);

  // The valve: more records than [limits] max_erase_records.
  const std::string account = BusyAccount(demo.app_db);
  std::string text = ReadFile(demo.config);
  if (Contains(text, "[limits]")) {
    demo.EditConfig("[limits]", "[limits]\nmax_erase_records = 1");
  } else {
    WriteFile(demo.config, text + "\n[limits]\nmax_erase_records = 1\n");
  }
  RunResult valve = RunWith(demo.config, {"erase", "--subject", "account:" + account, "--request", "R-2"});
  INFO(Describe(valve));
  CHECK(valve.exit_code == 76);
  CHECK(Contains(valve.err, "max_erase_records"));
  CHECK(RowCounts(demo.app_db) == counts);
  RunResult passed = RunWith(demo.config, {"erase", "--subject", "account:" + account, "--request", "R-2",
                                           "--allow-mass-delete"});
  INFO(Describe(passed));
  CHECK(passed.exit_code == 0);
  CHECK(CountOf(demo.app_db, "inventory_items", "account_id", account) == 0);
}

}  // namespace
}  // namespace retention::e2e
