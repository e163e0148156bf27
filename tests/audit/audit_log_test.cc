// audit log / export: filters, formats, CSV read back by Python, bounded
// memory on a large ledger; audit runs / show.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "audit/audit_util.h"
#include "state/state_ops.h"
#include "state/state_test_support.h"
#include "audit/ledger_query.h"

namespace retention::audit_test {
namespace {

using Json = nlohmann::json;

// The seqs `audit log --format json` prints for `filter_args`.
std::vector<int64_t> LoggedSeqs(LedgerFixture& f, std::vector<std::string> filter_args) {
  std::vector<std::string> args = {"audit", "log", "--format", "jsonl"};
  args.insert(args.end(), filter_args.begin(), filter_args.end());
  auto r = f.Retention(args);
  INFO(Describe(r));
  REQUIRE(r.exit_code == 0);
  std::vector<int64_t> seqs;
  for (const Json& j : JsonLines(r.out)) seqs.push_back(j.at("seq").get<int64_t>());
  return seqs;
}

// The same, computed here from the synthetic ledger (seq = i + 1).
template <typename Pred>
std::vector<int64_t> ExpectedSeqs(int64_t n, Pred pred) {
  std::vector<int64_t> seqs;
  for (int64_t i = 0; i < n; ++i)
    if (pred(SyntheticEntry(i))) seqs.push_back(i + 1);
  return seqs;
}

TEST_CASE("audit log filters select exactly the matching entries", "[audit]") {
  constexpr int64_t kN = 5000;
  LedgerFixture f(kN);
  const Timestamp since = FromUnixMicros(1700000000LL * 1000000 + 1000 * 60LL * 1000000);
  const Timestamp until = FromUnixMicros(1700000000LL * 1000000 + 1500 * 60LL * 1000000);

  CHECK(LoggedSeqs(f, {}).size() == kN);
  CHECK(LoggedSeqs(f, {"--run", "103"}) == ExpectedSeqs(kN, [](const LedgerEntry& e) { return e.run_id == 103; }));
  CHECK(LoggedSeqs(f, {"--category", "support"}) ==
        ExpectedSeqs(kN, [](const LedgerEntry& e) { return e.category == "support"; }));
  CHECK(LoggedSeqs(f, {"--target", "customers", "--kind", "kept"}) ==
        ExpectedSeqs(kN, [](const LedgerEntry& e) { return e.target == "customers" && e.kind == LedgerKind::kKept; }));
  CHECK(LoggedSeqs(f, {"--key", "1234"}) == std::vector<int64_t>{1235});
  CHECK(LoggedSeqs(f, {"--subject", "customer:7", "--store", "files"}) ==
        ExpectedSeqs(kN, [](const LedgerEntry& e) { return e.subject == "customer:7" && e.store == "files"; }));
  CHECK(LoggedSeqs(f, {"--kind", "run_start,kept"}) == ExpectedSeqs(kN, [](const LedgerEntry& e) {
          return e.kind == LedgerKind::kRunStart || e.kind == LedgerKind::kKept;
        }));
  CHECK(LoggedSeqs(f, {"--since", FormatTimestamp(since), "--until", FormatTimestamp(until)}) ==
        ExpectedSeqs(kN, [&](const LedgerEntry& e) { return !(e.at < since) && e.at < until; }));
  CHECK(LoggedSeqs(f, {"--category", "nothing-like-this"}).empty());

  // The table and CSV formats print one line per entry (plus a header).
  auto table = f.Retention({"audit", "log", "--run", "102"});
  REQUIRE(table.exit_code == 0);
  CHECK(LineCount(table.out) == 1 + 1000);

  auto bad = f.Retention({"audit", "log", "--kind", "deleted"});
  CHECK(bad.exit_code == 64);
  CHECK(Contains(bad.err, "unknown kind 'deleted'"));
  CHECK(f.Retention({"audit", "log", "--format", "xml"}).exit_code == 64);
  CHECK(f.Retention({"audit", "export", "--format", "table"}).exit_code == 64);
}

TEST_CASE("audit export csv reads back in Python's csv module with the same fields", "[audit]") {
  constexpr int64_t kN = 3000;
  LedgerFixture f(kN);
  const fs::path csv = f.dir / "ledger.csv", jsonl = f.dir / "ledger.jsonl";
  auto r = f.Retention({"audit", "export", "--format", "csv", "--out", csv.string(), "--kind", "delete,kept,run_start"});
  INFO(Describe(r));
  REQUIRE(r.exit_code == 0);
  r = f.Retention({"audit", "export", "--out", jsonl.string(), "--kind", "delete,kept,run_start"});
  REQUIRE(r.exit_code == 0);
  // Python turns the CSV into JSON Lines of {column: text}.
  const fs::path script = f.dir / "csv2json.py";
  WriteFile(script,
            "import csv, json, sys\n"
            "with open(sys.argv[1], newline='', encoding='utf-8') as f:\n"
            "    for row in csv.DictReader(f):\n"
            "        print(json.dumps(row))\n");
  const fs::path py_out = f.dir / "py.jsonl";
  const std::string cmd = "python3 " + script.string() + " " + csv.string() + " > " + py_out.string();
  REQUIRE(std::system(cmd.c_str()) == 0);
  const auto rows = JsonLines(ReadFile(py_out));
  const auto entries = JsonLines(ReadFile(jsonl));
  REQUIRE(rows.size() == entries.size());
  REQUIRE(rows.size() == kN);
  int awkward = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const Json& row = rows[i];
    const Json& e = entries[i];
    REQUIRE(row.size() == audit::CsvColumns().size());
    for (const char* k : {"at", "kind", "category", "store", "target", "key", "clock", "cutoff", "rule", "subject",
                          "prev_hash", "hash"})
      CHECK(row.at(k).get<std::string>() == e.at(k).get<std::string>());
    for (const char* k : {"seq", "run", "batch"}) CHECK(row.at(k).get<std::string>() == std::to_string(e.at(k).get<int64_t>()));
    const std::string detail = row.at("detail").get<std::string>();
    CHECK((detail.empty() ? Json(nullptr) : Json::parse(detail)) == e.at("detail"));
    awkward += Contains(row.at("key").get<std::string>(), "\"quoted\"\nline2\r\n");
  }
  CHECK(awkward > 0);
  // The CSV's fields hash back to the ledger's: the export is evidence.
  Db db(f.state_db, /*read_only=*/true);
  CHECK(rows.back().at("hash").get<std::string>() ==
        db.Column("SELECT hash FROM ledger WHERE seq = ?", {rows.back().at("seq").get<std::string>()})[0]);
}

TEST_CASE("audit export of a 100k-entry ledger runs in bounded memory", "[audit][memory]") {
#ifdef RETENTION_SANITIZED
  WARN("skipped: a sanitizer build's RSS is mostly ASan's own shadow memory");
  return;
#endif
  LedgerFixture small(1000);
  LedgerFixture large(100000);
  long rss_small = 0, rss_large = 0;
  for (const char* format : {"jsonl", "csv"}) {
    auto r1 = RunMeasured({"--config", small.config.string(), "audit", "export", "--format", format, "--out",
                           (small.dir / "out").string()},
                          &rss_small);
    auto r2 = RunMeasured({"--config", large.config.string(), "audit", "export", "--format", format, "--out",
                           (large.dir / "out").string()},
                          &rss_large);
    INFO(Describe(r2));
    REQUIRE(r1.exit_code == 0);
    REQUIRE(r2.exit_code == 0);
    CHECK(LineCount(ReadFile(large.dir / "out")) >= 100000);
    // 100k entries are ~40 MB of output: holding them would show.
    INFO(format << ": peak RSS " << rss_small << " KiB for 1k entries, " << rss_large << " KiB for 100k");
    CHECK(rss_large < rss_small + 16 * 1024);
  }
  // audit log streams the same way.
  auto r = RunMeasured({"--config", large.config.string(), "audit", "log", "--subject", "customer:3"}, &rss_large);
  REQUIRE(r.exit_code == 0);
  CHECK(rss_large < rss_small + 16 * 1024);
}

TEST_CASE("audit runs and audit show tell each run from the ledger", "[audit]") {
  LedgerFixture f(2500);  // runs 1..3, without run_end entries
  {
    auto db = OpenOrCreateStateDb(f.state_db, false);
    REQUIRE(db.ok());
    RunInfo info;
    info.user = "alice";
    info.host = "db1";
    info.version = "0.1.0";
    info.rules_hash = std::string(64, 'a');
    info.command = "purge";
    info.as_of = FromUnixMicros(1800000000LL * 1000000);
    auto id = BeginRun(**db, info);
    REQUIRE(id.ok());
    LedgerEntry e = SyntheticEntry(1);
    e.run_id = *id;
    REQUIRE(Append(**db, {e}).ok());
    REQUIRE(EndRun(**db, *id, "ok", 0, R"({"deleted":1})").ok());
  }
  auto r = f.Retention({"audit", "runs", "--format", "json"});
  INFO(Describe(r));
  REQUIRE(r.exit_code == 0);
  const Json runs = Json::parse(r.out).at("runs");
  REQUIRE(runs.size() >= 4);
  const Json& last = runs.front();  // BeginRun's id 1 sorts first
  CHECK(last.at("user") == "alice");
  CHECK(last.at("outcome") == "ok");
  CHECK(last.at("exit_code") == 0);
  CHECK(last.at("deleted") == 1);
  CHECK(last.at("deleted_by_category").at("support") == 1);
  CHECK(runs[1].at("id") == 101);
  CHECK(runs[1].at("kept") == 100);
  CHECK(runs[1].at("kept_by_hold") == 100);
  CHECK(runs[1].at("outcome") == "running");

  auto table = f.Retention({"audit", "runs"});
  REQUIRE(table.exit_code == 0);
  CHECK(Contains(table.out, "alice"));
  CHECK(Contains(table.out, "aaaaaaaaaaaa"));

  auto show = f.Retention({"audit", "show", std::to_string(last.at("id").get<int64_t>())});
  INFO(Describe(show));
  REQUIRE(show.exit_code == 0);
  CHECK(Contains(show.out, "alice"));
  CHECK(Contains(show.out, "Deleted: 1"));
  CHECK(Contains(show.out, "outcome   ok"));
  auto show1 = f.Retention({"audit", "show", "101", "--format", "json"});
  REQUIRE(show1.exit_code == 0);
  CHECK(Json::parse(show1.out).at("kept_total") == 100);
  CHECK(f.Retention({"audit", "show", "999"}).exit_code == 64);
}

}  // namespace
}  // namespace retention::audit_test
