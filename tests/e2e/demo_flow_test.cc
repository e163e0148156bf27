// End-to-end: the operator's whole loop on the demo, logrotate-style —
// demo, plan, purge, plan again, purge again (idempotent), audit verify —
// then the data and the ledger are checked with plain SQL (the batch
// entries' payloads through the independent checker's decoder), and a
// tampered ledger entry must be caught (SPEC 6.2, 6.3, 6.10).
#include <set>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "e2e/e2e_util.h"

namespace retention::e2e {
namespace {

using Json = nlohmann::json;

// The key column of each demo table, as the shipped rules name it.
const std::map<std::string, std::string> kKeyColumn = {
    {"accounts", "id"},       {"customers", "id"},       {"inventory_items", "id"}, {"sales", "id"},
    {"invoices", "id"},       {"support_tickets", "id"}, {"support_emails", "id"},  {"audit_events", "id"},
    {"security_events", "id"}, {"request_logs", "id"},   {"sessions", "id"},        {"oauth_states", "state"},
    {"usage_events", "id"}};

std::map<std::string, std::set<std::string>> KeysPerTable(const fs::path& app_db) {
  Db db(app_db, true);
  std::map<std::string, std::set<std::string>> keys;
  for (const auto& [table, key] : kKeyColumn) {
    auto column = db.Column("SELECT \"" + key + "\" FROM \"" + table + "\"");
    keys[table] = {column.begin(), column.end()};
  }
  return keys;
}

Json PlanJson(const fs::path& config) {
  auto r = RunWith(config, {"plan", "--format", "json"});
  INFO(Describe(r));
  REQUIRE(r.exit_code == 0);
  return Json::parse(r.out);
}

// Deletable per table of the demo's SQLite store "app" in a plan (targets
// of several categories on one table add up; other stores are left out).
std::map<std::string, int64_t> DeletablePerTable(const Json& plan) {
  std::map<std::string, int64_t> out;
  for (const auto& t : plan.at("targets"))
    if (t.at("store") == "app") out[t.at("target").get<std::string>()] += t.at("deletable").get<int64_t>();
  return out;
}

TEST_CASE("e2e demo flow: plan, purge, plan, purge again, verify, tamper", "[e2e]") {
  TempDir dir;
  const fs::path demo = dir / "demo";
  const fs::path config = MakeDemo(demo, 4000);
  const fs::path app_db = demo / "app.db";
  const fs::path state_db = demo / "state.db";

  const auto counts_before = RowCounts(app_db);
  const auto keys_before = KeysPerTable(app_db);
  const int64_t now = NowUnixSeconds();
  // Young request logs: the 30-day floor keeps every one of them.
  const int64_t young_logs_before = Db(app_db, true).Int(
      "SELECT count(*) FROM request_logs WHERE " + TextClockSeconds("created_at") + " >= ?",
      {std::to_string(now - 29 * 86400)});
  REQUIRE(young_logs_before > 0);

  // --- plan: a dry run, and it says what will go.
  const std::string app_bytes = ReadFile(app_db);
  const Json plan = PlanJson(config);
  CHECK(ReadFile(app_db) == app_bytes);  // plan changes nothing
  CHECK(LedgerCount(state_db, "run_start") == 0);
  const auto deletable = DeletablePerTable(plan);
  for (const char* table : {"request_logs", "audit_events", "security_events", "sessions", "usage_events"}) {
    INFO(table);
    CHECK(deletable.at(table) > 0);
  }
  CHECK(deletable.at("sales") == 0);  // the 7-year floor
  CHECK(deletable.at("invoices") == 0);
  CHECK(plan.at("deletable").get<int64_t>() > 0);

  // --- purge.
  auto purge = RunWith(config, {"purge", "--format", "json"});
  INFO(Describe(purge));
  REQUIRE(purge.exit_code == 0);
  const Json report = Json::parse(purge.out);
  CHECK(report.at("outcome") == "ok");
  REQUIRE(fs::exists(state_db));

  const auto counts_after = RowCounts(app_db);
  const auto keys_after = KeysPerTable(app_db);
  const auto ledger_deletes = LedgerCounts(state_db, "delete");
  int64_t removed_total = 0;
  for (const auto& table : kDemoTables) {
    INFO(table);
    const int64_t removed = counts_before.at(table) - counts_after.at(table);
    removed_total += removed;
    const auto it = ledger_deletes.find("app/" + table);
    CHECK(removed == (it == ledger_deletes.end() ? 0 : it->second));
    // Purge deleted what plan showed (nothing changed in between).
    CHECK(removed == deletable.at(table));
  }
  int64_t app_deletes = 0;
  for (const auto& [target, n] : ledger_deletes)
    if (target.rfind("app/", 0) == 0) app_deletes += n;
  CHECK(removed_total == app_deletes);
  // Over every store: the run deleted what the plan said, and logged each.
  CHECK(report.at("deleted").get<int64_t>() == plan.at("deletable").get<int64_t>());
  CHECK(report.at("deleted").get<int64_t>() == LedgerCount(state_db, "delete"));

  // Exactly one deletion claimed per removed row, naming that row's key:
  // the records the settled batch entries claim, read by the independent
  // checker's decoder.
  {
    const checker::State st = checker::ReadState(state_db);
    std::vector<std::string> problems;
    const std::vector<checker::Entry> claimed = checker::BatchDeletes(st, &problems);
    INFO(checker::Report(problems));
    CHECK(problems.empty());
    for (const auto& table : kDemoTables) {
      INFO(table);
      std::set<std::string> removed;
      for (const auto& k : keys_before.at(table))
        if (!keys_after.at(table).count(k)) removed.insert(k);
      CHECK(keys_after.at(table).size() + removed.size() == keys_before.at(table).size());
      std::vector<std::string> logged;
      for (const checker::Entry& e : st.ledger)  // per-record entries: none are written any more
        if (e.kind == "delete" && e.store == "app" && e.target == table) logged.push_back(e.record_key);
      for (const checker::Entry& e : claimed)
        if (e.store == "app" && e.target == table) logged.push_back(e.record_key);
      CHECK(logged.size() == removed.size());  // no duplicates
      CHECK(std::set<std::string>(logged.begin(), logged.end()) == removed);
    }
    // Every deletion says why: run, category, clock, rule, cutoff (the
    // batch entry's, and the candidate's clock).
    for (const checker::Entry& e : claimed) {
      INFO(e.store + "/" + e.target + "/" + e.record_key);
      CHECK(e.run_id > 0);
      CHECK_FALSE(e.category.empty());
      CHECK_FALSE(e.clock.empty());
      CHECK_FALSE(e.rule.empty());
      CHECK_FALSE(e.cutoff.empty());
    }
    Db state(state_db, true);
    CHECK(state.Int("SELECT count(*) FROM ledger WHERE kind = 'delete' AND (run_id <= 0 OR category = '' "
                    "OR clock = '' OR rule = '' OR cutoff = '')") == 0);
    CHECK(state.Int("SELECT count(*) FROM ledger WHERE kind = 'run_start'") == 1);
    CHECK(state.Int("SELECT count(*) FROM ledger WHERE kind = 'run_end'") == 1);
  }

  // --- the data: nothing past its schedule is left, nothing protected went.
  {
    Db app(app_db, true);
    Db state(state_db, true);
    const int64_t as_of = state.Int("SELECT as_of FROM runs ORDER BY id LIMIT 1") / 1000000;
    // Request logs: due after 90 days, so none older remains...
    CHECK(app.Int("SELECT count(*) FROM request_logs WHERE " + TextClockSeconds("created_at") + " < ?",
                  {std::to_string(as_of - 90 * 86400)}) == 0);
    // ...and the 30-day floor kept every young one.
    CHECK(app.Int("SELECT count(*) FROM request_logs WHERE " + TextClockSeconds("created_at") + " >= ?",
                  {std::to_string(now - 29 * 86400)}) == young_logs_before);
    // Audit events (unix milliseconds) and security events (ISO-8601 with
    // offsets): 12 calendar months.
    const int64_t twelve_months = MinusMonthsUtc(as_of, 12);
    CHECK(app.Int("SELECT count(*) FROM audit_events WHERE occurred_at < ?",
                  {std::to_string(twelve_months * 1000)}) == 0);
    CHECK(app.Int("SELECT count(*) FROM security_events WHERE " + TextClockSeconds("occurred_at") + " < ?",
                  {std::to_string(twelve_months)}) == 0);
    // Usage events: 14 months.
    CHECK(app.Int("SELECT count(*) FROM usage_events WHERE " + TextClockSeconds("occurred_at") + " < ?",
                  {std::to_string(MinusMonthsUtc(as_of, 14))}) == 0);
    // Undated records (NULL, '', 'unknown') are never due: all still there.
    CHECK(app.Int("SELECT count(*) FROM request_logs WHERE " + TextClockSeconds("created_at") + " IS NULL") > 0);
    // Transaction records: the 7-year floor keeps every sale and invoice,
    // even those of closed accounts that the 90-day rule makes due.
    CHECK(counts_after.at("sales") == counts_before.at("sales"));
    CHECK(counts_after.at("invoices") == counts_before.at("invoices"));
  }

  // --- plan again: nothing left to delete.
  const Json plan2 = PlanJson(config);
  CHECK(plan2.at("deletable").get<int64_t>() == 0);
  for (const auto& t : plan2.at("targets")) {
    INFO(t.dump());
    CHECK(t.at("deletable").get<int64_t>() == 0);
  }

  // --- a second purge is a no-op.
  const int64_t deletes_after_first = LedgerCount(state_db, "delete");
  auto purge2 = RunWith(config, {"purge"});
  INFO(Describe(purge2));
  CHECK(purge2.exit_code == 0);
  CHECK(LedgerCount(state_db, "delete") == deletes_after_first);
  CHECK(RowCounts(app_db) == counts_after);

  // --- the ledger verifies.
  auto verify = RunWith(config, {"audit", "verify"});
  INFO(Describe(verify));
  CHECK(verify.exit_code == 0);
  std::string head_hash;
  int64_t tampered_seq = 0;
  {
    Db state(state_db, true);
    head_hash = state.Column("SELECT hash FROM ledger ORDER BY seq DESC LIMIT 1").at(0);
    tampered_seq = state.Int("SELECT min(seq) FROM ledger WHERE kind = 'batch' AND target = 'usage_events'");
  }
  CHECK(Contains(verify.out, head_hash));

  // --- tamper with one entry, as someone hiding a deletion would: the
  // first candidate's key in the usage_events batch entry's payload moved
  // by one (bit 1 of its zigzag delta: the layout of
  // src/ledger/batch_entry.h), so the entry names a neighbour instead. The
  // append-only trigger is a guard against accidents, not an attacker.
  {
    Db state(state_db);
    const checker::State st = checker::ReadState(state_db);
    std::string payload;
    for (const checker::Entry& e : st.ledger)
      if (e.seq == tampered_seq) payload = e.payload;
    REQUIRE(payload.size() > 3);
    size_t at = 1;                                    // after the version
    while (static_cast<unsigned char>(payload.at(at)) & 0x80) ++at;  // the record count
    REQUIRE(payload.at(at + 1) == 1);                 // integer keys
    const size_t first_key = at + 2;
    const std::string before = checker::DecodeBatch(payload).records.at(0).key;
    payload[first_key] = static_cast<char>(payload[first_key] ^ 0x02);
    REQUIRE(checker::DecodeBatch(payload).records.at(0).key != before);  // still a valid payload
    std::string hex;
    for (unsigned char c : payload) hex += {"0123456789abcdef"[c >> 4], "0123456789abcdef"[c & 15]};
    state.Exec("DROP TRIGGER ledger_no_update");
    state.Exec("UPDATE ledger SET payload = x'" + hex + "' WHERE seq = " + std::to_string(tampered_seq));
  }
  auto tampered = RunWith(config, {"audit", "verify"});
  INFO(Describe(tampered));
  CHECK(tampered.exit_code == 78);
  CHECK(Contains(tampered.out + tampered.err, "entry " + std::to_string(tampered_seq)));

  auto tampered_json = RunWith(config, {"audit", "verify", "--format", "json"});
  INFO(Describe(tampered_json));
  CHECK(tampered_json.exit_code == 78);
  const Json verdict = Json::parse(tampered_json.out);
  CHECK(verdict.at("ok") == false);
  CHECK(verdict.at("first_bad_seq").get<int64_t>() == tampered_seq);
}

TEST_CASE("e2e demo flow: a deleted or reordered ledger entry fails verification", "[e2e]") {
  TempDir dir;
  const fs::path config = MakeDemo(dir / "demo", 2000);
  const fs::path state_db = dir / "demo" / "state.db";
  auto purge = RunWith(config, {"purge"});
  INFO(Describe(purge));
  REQUIRE(purge.exit_code == 0);
  REQUIRE(RunWith(config, {"audit", "verify"}).exit_code == 0);

  SECTION("an entry removed from the middle") {
    Db state(state_db);
    state.Exec("DROP TRIGGER ledger_no_delete");
    state.Exec("DELETE FROM ledger WHERE seq = 7");
  }
  SECTION("two entries swapped") {
    Db state(state_db);
    state.Exec("DROP TRIGGER ledger_no_update");
    state.Exec("UPDATE ledger SET seq = -1 WHERE seq = 5; UPDATE ledger SET seq = 5 WHERE seq = 6; "
               "UPDATE ledger SET seq = 6 WHERE seq = -1");
  }
  SECTION("a forged entry inserted, with a hash that chains to its predecessor's") {
    Db state(state_db);
    state.Exec("DROP TRIGGER ledger_no_update");
    const int64_t last = state.Int("SELECT max(seq) FROM ledger");
    state.Exec("UPDATE ledger SET seq = seq + 1000000 WHERE seq > 8");
    state.Exec("INSERT INTO ledger SELECT 9, at, kind, run_id, category, store, target, 'forged', clock, cutoff, "
               "rule, subject, batch, detail, hash, hash, payload FROM ledger WHERE seq = 8");
    state.Exec("UPDATE ledger SET seq = seq - 1000000 + 1 WHERE seq > 1000000");
    REQUIRE(state.Int("SELECT max(seq) FROM ledger") == last + 1);
  }
  auto verify = RunWith(config, {"audit", "verify"});
  INFO(Describe(verify));
  CHECK(verify.exit_code == 78);
}

}  // namespace
}  // namespace retention::e2e
