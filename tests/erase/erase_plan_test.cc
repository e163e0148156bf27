// `erase --dry-run --out FILE` and `erase --plan FILE` on the binary, on
// the demo: the saved preview executed deletes exactly what it lists (not
// a record written since, not another subject's record edited into it),
// and every file that is not this request's erase plan under these rules
// is refused before anything is deleted or written to the ledger.
#include <sys/stat.h>

#include <algorithm>
#include <catch2/catch.hpp>

#include "e2e/e2e_util.h"

namespace retention::e2e {
namespace {

// The account with the most inventory items, and another with some.
std::vector<std::string> TwoAccounts(const fs::path& app_db) {
  Db db(app_db, /*read_only=*/true);
  auto rows = db.Column("SELECT account_id FROM inventory_items GROUP BY account_id ORDER BY count(*) DESC, "
                        "account_id LIMIT 2");
  REQUIRE(rows.size() == 2);
  return rows;
}

int64_t Items(const fs::path& app_db, const std::string& account) {
  Db db(app_db, /*read_only=*/true);
  return db.Int("SELECT count(*) FROM inventory_items WHERE account_id = ?", {account});
}

int64_t LedgerRows(const fs::path& state_db) {
  if (!fs::exists(state_db)) return 0;
  Db db(state_db, /*read_only=*/true);
  return db.Int("SELECT count(*) FROM ledger");
}

// The plan's record lines, parsed (the header dropped).
std::vector<nlohmann::json> PlanLines(const fs::path& plan) {
  std::vector<nlohmann::json> out;
  std::istringstream in(ReadFile(plan));
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) out.push_back(nlohmann::json::parse(line));
  return out;
}

struct Preview {
  fs::path file;
  nlohmann::json header;
};

Preview SavePreview(const DemoFixture& demo, const std::string& subject, const std::string& request) {
  Preview p{demo.dir / ("plan-" + request + ".jsonl"), {}};
  RunResult r = RunWith(demo.config, {"erase", "--subject", subject, "--request", request, "--dry-run", "--out",
                                      p.file.string()});
  INFO(Describe(r));
  REQUIRE(r.exit_code == 0);
  std::istringstream in(ReadFile(p.file));
  std::string first;
  std::getline(in, first);
  p.header = nlohmann::json::parse(first);
  return p;
}

TEST_CASE("erase --plan deletes exactly the saved preview's records, not one written since", "[erase][e2e]") {
  DemoFixture demo(1000);
  const std::string account = TwoAccounts(demo.app_db)[0];
  const std::string subject = "account:" + account;
  const auto before = RowCounts(demo.app_db);
  const Preview p = SavePreview(demo, subject, "DSR-7");

  // The preview: nothing deleted, nothing in the ledger; the file the
  // owner's alone, naming the request, the subject and its records.
  CHECK(RowCounts(demo.app_db) == before);
  CHECK(LedgerRows(demo.state_db) == 0);
  struct stat st {};
  REQUIRE(::stat(p.file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(p.header["kind"] == "erase");
  CHECK(p.header["request"] == "DSR-7");
  CHECK(p.header["subject"] == subject);
  CHECK(p.header.contains("made_at"));
  CHECK(p.header.contains("rules_hash"));
  const std::vector<nlohmann::json> lines = PlanLines(p.file);
  CHECK(p.header["records"].get<int64_t>() == static_cast<int64_t>(lines.size()));
  std::vector<std::string> planned;
  int64_t planned_items = 0;
  for (const auto& l : lines) {
    planned.push_back(l["key"].get<std::string>());
    if (l["target"] == "inventory_items") ++planned_items;
  }
  REQUIRE(planned_items == Items(demo.app_db, account));
  REQUIRE(planned_items > 0);

  // A record of the subject written after the preview.
  {
    Db db(demo.app_db);
    db.Exec("INSERT INTO inventory_items (id, account_id, sku, title, price_cents, created_at) VALUES "
            "(9000001, " + account + ", 'NEW', 'written since', 100, '2020-01-01 00:00:00')");
  }

  RunResult r = RunWith(demo.config, {"erase", "--plan", p.file.string(), "--format", "json"});
  INFO(Describe(r));
  REQUIRE(r.exit_code == 0);
  auto receipt = nlohmann::json::parse(r.out);
  CHECK(receipt.dump().find("DSR-7") != std::string::npos);
  // Exactly the listed records went: the ledger's deleted keys are the
  // plan's, and the row written since stays (the receipt keeps it).
  std::vector<std::string> deleted = DeletedKeys(demo.state_db);
  std::sort(deleted.begin(), deleted.end());
  std::sort(planned.begin(), planned.end());
  CHECK(deleted == planned);
  CHECK(Items(demo.app_db, account) == 1);
  {
    Db db(demo.app_db, /*read_only=*/true);
    CHECK(db.Int("SELECT count(*) FROM inventory_items WHERE id = 9000001") == 1);
  }
  CHECK(LedgerCount(demo.state_db, "erase") == 1);
  RunResult verify = RunWith(demo.config, {"audit", "verify"});
  INFO(Describe(verify));
  CHECK(verify.exit_code == 0);
}

TEST_CASE("erase --plan does not delete another subject's record edited into the file", "[erase][e2e]") {
  DemoFixture demo(1000);
  const auto accounts = TwoAccounts(demo.app_db);
  const std::string subject = "account:" + accounts[0];
  const Preview p = SavePreview(demo, subject, "DSR-8");
  std::string other_key;
  {
    Db db(demo.app_db, /*read_only=*/true);
    other_key = db.Column("SELECT id FROM inventory_items WHERE account_id = ? ORDER BY id LIMIT 1", {accounts[1]})[0];
  }
  const int64_t other_items = Items(demo.app_db, accounts[1]);
  // Every inventory line now names the other account's record (key and
  // subject), the count unchanged.
  std::string text = p.header.dump() + "\n";
  int edited = 0;
  for (nlohmann::json l : PlanLines(p.file)) {
    if (l["target"] == "inventory_items") {
      l["key"] = other_key;
      if (l.contains("subject")) l["subject"] = accounts[1];
      ++edited;
    }
    text += l.dump() + "\n";
  }
  REQUIRE(edited > 0);
  WriteFile(p.file, text);

  RunResult r = RunWith(demo.config, {"erase", "--plan", p.file.string()});
  INFO(Describe(r));
  REQUIRE(r.exit_code == 0);
  CHECK(Items(demo.app_db, accounts[1]) == other_items);
  const std::vector<std::string> deleted = DeletedKeys(demo.state_db);
  CHECK(std::find(deleted.begin(), deleted.end(), other_key) == deleted.end());
  // The subject's own inventory items were not listed any more: they stay.
  CHECK(Items(demo.app_db, accounts[0]) > 0);
}

TEST_CASE("erase --plan refuses a file not this request's erase plan under these rules", "[erase][e2e]") {
  DemoFixture demo(1000);
  const auto accounts = TwoAccounts(demo.app_db);
  const std::string subject = "account:" + accounts[0];
  const Preview p = SavePreview(demo, subject, "DSR-9");
  const std::string good = ReadFile(p.file);
  const fs::path purge_plan = demo.dir / "purge.jsonl";
  {
    RunResult r = RunWith(demo.config, {"plan", "--out", purge_plan.string()});
    REQUIRE(r.exit_code == 0);
  }
  const auto rows = RowCounts(demo.app_db);
  const int64_t ledger = LedgerRows(demo.state_db);

  auto with_header = [&](const std::string& key, const nlohmann::json& value) {
    nlohmann::json h = p.header;
    h[key] = value;
    return h.dump() + good.substr(good.find('\n'));
  };
  const size_t last_line = good.rfind('\n', good.size() - 2);
  struct Case {
    std::string name;
    std::string content;  // "" : the saved plan as is
    std::vector<std::string> extra;
    std::string says;
  };
  const std::vector<Case> cases = {
      {"another subject", "", {"--subject", "account:" + accounts[1]}, "for subject"},
      {"another request", "", {"--request", "DSR-OTHER"}, "for request"},
      {"other rules", with_header("rules_hash", "0000"), {}, "rules changed"},
      {"a purge plan", ReadFile(purge_plan), {}, "a purge plan"},
      {"cut mid-line", good.substr(0, good.size() - 10), {}, "malformed"},
      {"cut at a line end", good.substr(0, last_line + 1), {}, "cut short"},
      {"garbage", "not json at all\n", {}, "not a plan"},
      {"empty", "", {"--empty"}, "empty"},
  };
  for (const Case& c : cases) {
    const fs::path file = demo.dir / "edited.jsonl";
    std::vector<std::string> extra = c.extra;
    if (extra == std::vector<std::string>{"--empty"}) {
      WriteFile(file, "");
      extra.clear();
    } else {
      WriteFile(file, c.content.empty() ? good : c.content);
    }
    std::vector<std::string> args{"erase", "--plan", file.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    RunResult r = RunWith(demo.config, args);
    INFO(c.name << "\n" << Describe(r));
    CHECK(r.exit_code == 65);
    CHECK(Contains(r.err, c.says));
    CHECK(RowCounts(demo.app_db) == rows);
    CHECK(LedgerRows(demo.state_db) == ledger);
  }

  // And purge refuses the erase plan.
  RunResult r = RunWith(demo.config, {"purge", "--plan", p.file.string()});
  INFO(Describe(r));
  CHECK(r.exit_code == 65);
  CHECK(Contains(r.err, "an erase plan"));
  CHECK(RowCounts(demo.app_db) == rows);
  CHECK(LedgerRows(demo.state_db) == ledger);
}

}  // namespace
}  // namespace retention::e2e
