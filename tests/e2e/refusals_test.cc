// End-to-end: the runs purge must refuse, and the holds it must respect
// (SPEC 4 "Holds", 5, 6.1, 6.6, 6.7, 6.12). Every refusal is checked for its
// exit code and for having deleted nothing: same rows, no delete entries.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "e2e/e2e_util.h"

namespace retention::e2e {
namespace {

using Json = nlohmann::json;

struct Demo : DemoFixture {
  explicit Demo(int rows = 3000) : DemoFixture(rows) {}

  int64_t PlanDeletable(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"plan", "--format", "json"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = Retention(args);
    INFO(Describe(r));
    REQUIRE(r.exit_code == 0);
    return Json::parse(r.out).at("deletable").get<int64_t>();
  }

  // A purge with --format json: the number it says it deleted.
  int64_t PurgeDeleted(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"purge", "--format", "json"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = Retention(args);
    INFO(Describe(r));
    REQUIRE(r.exit_code == 0);
    return Json::parse(r.out).at("deleted").get<int64_t>();
  }
};

// The records the ledger claims deleted (per-record entries and settled
// batch candidates, read by the independent checker) whose subject is
// `subject` (any subject when empty), in `target` when given. The ledger
// must read without problems.
int64_t DeletedOfSubject(const fs::path& state_db, const std::string& subject, const std::string& target = "") {
  const checker::State st = checker::ReadState(state_db);
  std::vector<std::string> problems;
  std::vector<checker::Entry> deleted = checker::BatchDeletes(st, &problems);
  INFO(checker::Report(problems));
  CHECK(problems.empty());
  for (const checker::Entry& e : st.ledger)
    if (e.kind == "delete") deleted.push_back(e);
  int64_t n = 0;
  for (const checker::Entry& e : deleted)
    if ((subject.empty() || e.subject == subject) && (target.empty() || e.target == target)) ++n;
  return n;
}

std::string IsoUtc(int64_t unix_seconds) { return FormatUtc(unix_seconds, "%Y-%m-%dT%H:%M:%SZ"); }

TEST_CASE("e2e refusals: the safety valve refuses a mass delete (76) unless allowed", "[e2e]") {
  Demo demo;
  const auto counts = RowCounts(demo.app_db);

  SECTION("max_delete_fraction") {
    demo.EditConfig("max_delete_fraction = 0.9", "max_delete_fraction = 0.1");
  }
  SECTION("max_delete") { demo.EditConfig("max_delete = 10000000", "max_delete = 10"); }

  auto refused = demo.Retention({"purge"});
  INFO(Describe(refused));
  CHECK(refused.exit_code == 76);
  CHECK(Contains(refused.err, "safety valve"));
  CHECK(RowCounts(demo.app_db) == counts);
  CHECK(LedgerCount(demo.state_db, "delete") == 0);

  const int64_t due = demo.PlanDeletable();
  REQUIRE(due > 0);
  CHECK(demo.PurgeDeleted({"--allow-mass-delete"}) == due);
  CHECK(LedgerCount(demo.state_db, "delete") == due);
}

TEST_CASE("e2e refusals: the safety valve names every target over its share and the run over max_delete",
          "[e2e]") {
  // The valve decides from cheap bounds (CheckSafetyValveBound) and counts
  // exactly only where a bound crosses a limit: its refusal must still list
  // each target over max_delete_fraction with its exact figures, none
  // within it, and the run when it is over max_delete.
  Demo demo;
  demo.EditConfig("max_delete_fraction = 0.9", "max_delete_fraction = 0.5");
  demo.EditConfig("max_delete = 10000000", "max_delete = 10");
  auto plan = demo.Retention({"plan", "--format", "json"});
  REQUIRE(plan.exit_code == 0);
  const Json p = Json::parse(plan.out);
  std::vector<std::string> over, within;
  for (const Json& t : p.at("targets")) {
    const int64_t deletable = t.at("deletable").get<int64_t>(), total = t.at("records").get<int64_t>();
    const std::string name = t.at("category").get<std::string>() + "/" + t.at("target").get<std::string>() + ": ";
    if (deletable > 0 && 2 * deletable > total)
      over.push_back("\n  " + name + std::to_string(deletable) + " of " + std::to_string(total) + " records (");
    else
      within.push_back("\n  " + name);
  }
  REQUIRE(over.size() >= 3);     // the demo: request_logs, sessions, oauth_states, ...
  REQUIRE(within.size() >= 3);   // and targets within the share, some with deletions
  auto refused = demo.Retention({"purge"});
  INFO(Describe(refused));
  CHECK(refused.exit_code == 76);
  CHECK(Contains(refused.err, "safety valve: refusing to delete, nothing was deleted:"));
  for (const std::string& line : over) {
    INFO("listed: " << line);
    CHECK(Contains(refused.err, line));
  }
  for (const std::string& line : within) {
    INFO("not listed: " << line);
    CHECK_FALSE(Contains(refused.err, line));
  }
  CHECK(Contains(refused.err, "\n  the run: " + std::to_string(p.at("deletable").get<int64_t>()) +
                                  " records (limit max_delete = 10)"));
  size_t listed = 0;
  for (size_t at = refused.err.find("\n  "); at != std::string::npos; at = refused.err.find("\n  ", at + 1)) ++listed;
  CHECK(listed == over.size() + 1);
  CHECK(LedgerCount(demo.state_db, "batch") == 0);
}

TEST_CASE("e2e refusals: clock sanity refuses a clock behind the last run (77)", "[e2e]") {
  Demo demo;
  // A first run, of one category, so that other data is still due.
  demo.PurgeDeleted({"--category", "sessions"});
  REQUIRE(demo.PlanDeletable() > 0);
  const auto counts = RowCounts(demo.app_db);
  const int64_t deletes = LedgerCount(demo.state_db, "delete");

  SECTION("the last run started in the future: the clock went back") {
    {
      Db state(demo.state_db);
      state.Exec("UPDATE runs SET started_at = started_at + 86400000000, as_of = as_of + 86400000000");
    }
    auto refused = demo.Retention({"purge"});
    INFO(Describe(refused));
    CHECK(refused.exit_code == 77);
    CHECK(Contains(refused.err, "clock"));
    // --allow-clock-jump is about forward jumps; it does not excuse this.
    auto still = demo.Retention({"purge", "--allow-clock-jump"});
    INFO(Describe(still));
    CHECK(still.exit_code == 77);
    CHECK(Contains(still.err, "--allow-clock-behind"));
    CHECK(RowCounts(demo.app_db) == counts);
    CHECK(LedgerCount(demo.state_db, "delete") == deletes);
    // The operator states that the earlier run's clock was the wrong one.
    CHECK(demo.PurgeDeleted({"--allow-clock-behind"}) > 0);
    return;
  }
  SECTION("the last run is longer ago than max_clock_jump: the clock jumped forward") {
    {
      Db state(demo.state_db);
      state.Exec("UPDATE runs SET started_at = started_at - 60 * 86400000000, as_of = as_of - 60 * 86400000000");
    }
    auto refused = demo.Retention({"purge"});
    INFO(Describe(refused));
    CHECK(refused.exit_code == 77);
    CHECK(RowCounts(demo.app_db) == counts);
    CHECK(LedgerCount(demo.state_db, "delete") == deletes);
    // The operator confirms the clock is right.
    CHECK(demo.PurgeDeleted({"--allow-clock-jump"}) > 0);
  }
}

TEST_CASE("e2e refusals: purge --as-of is never later than now - earlier deletes less", "[e2e]") {
  Demo demo;
  const auto counts = RowCounts(demo.app_db);
  const int64_t now = NowUnixSeconds();

  auto future = demo.Retention({"purge", "--as-of", IsoUtc(now + 86400)});
  INFO(Describe(future));
  CHECK(future.exit_code == 64);
  CHECK(RowCounts(demo.app_db) == counts);
  CHECK(LedgerCount(demo.state_db, "delete") == 0);

  // An unreadable moment is a usage error too.
  auto garbage = demo.Retention({"purge", "--as-of", "next tuesday"});
  INFO(Describe(garbage));
  CHECK(garbage.exit_code == 64);
  CHECK(RowCounts(demo.app_db) == counts);

  const int64_t due_now = demo.PlanDeletable();
  const std::string past = IsoUtc(now - 60 * 86400);
  const int64_t due_past = demo.PlanDeletable({"--as-of", past});
  REQUIRE(due_now > 0);
  CHECK(due_past < due_now);
  const int64_t deleted_past = demo.PurgeDeleted({"--as-of", past});
  CHECK(deleted_past > 0);
  CHECK(deleted_past < due_now);
  CHECK(deleted_past == due_past);
  CHECK(LedgerCount(demo.state_db, "delete") == deleted_past);
  // The rest goes on a normal run.
  CHECK(demo.PurgeDeleted() > 0);
  CHECK(demo.PlanDeletable() == 0);
}

TEST_CASE("e2e refusals: a bad --batch-size is a usage error", "[e2e]") {
  Demo demo(2000);
  const auto counts = RowCounts(demo.app_db);
  for (const char* size : {"0", "-1", "ten"}) {
    auto r = demo.Retention({"purge", "--batch-size", size});
    INFO(size << ": " << Describe(r));
    CHECK(r.exit_code == 64);
  }
  CHECK(RowCounts(demo.app_db) == counts);
  CHECK(LedgerCount(demo.state_db, "delete") == 0);
  // A small batch works, in several transactions: --batch-size bounds every
  // batch entry's candidates (the batches are sized by time below it).
  const int64_t deleted = demo.PurgeDeleted({"--batch-size", "7"});
  CHECK(deleted > 7);
  const checker::State st = checker::ReadState(demo.state_db);
  std::vector<std::string> problems;
  CHECK(static_cast<int64_t>(checker::BatchDeletes(st, &problems).size()) == deleted);
  INFO(checker::Report(problems));
  CHECK(problems.empty());
  int64_t batches = 0, candidates = 0;
  for (const checker::Entry& e : st.ledger) {
    if (e.kind != "batch") continue;
    const size_t n = checker::DecodeBatch(e.payload).records.size();
    INFO("batch entry seq " << e.seq << ": " << n << " candidates");
    CHECK(n <= 7);
    ++batches;
    candidates += static_cast<int64_t>(n);
  }
  CHECK(candidates >= deleted);
  CHECK(batches >= (deleted + 6) / 7);
}

// Support tickets due for deletion (older than 24 months plus a day of margin).
std::string DueTicketsWhere(int64_t now) {
  return TextClockSeconds("last_activity_at") + " < " + std::to_string(MinusMonthsUtc(now, 24) - 86400);
}

TEST_CASE("e2e refusals: a hold on a subject keeps its records until released", "[e2e]") {
  Demo demo(5000);
  const int64_t now = NowUnixSeconds();
  std::string customer;
  int64_t held_due = 0, other_due = 0;
  {
    Db app(demo.app_db, true);
    auto rows = app.Query("SELECT customer_id, count(*) FROM support_tickets WHERE customer_id IS NOT NULL AND " +
                          DueTicketsWhere(now) + " GROUP BY customer_id ORDER BY count(*) DESC, customer_id LIMIT 1");
    REQUIRE(rows.size() == 1);
    customer = *rows[0][0];
    held_due = std::stoll(*rows[0][1]);
    other_due = app.Int("SELECT count(*) FROM support_tickets WHERE coalesce(customer_id, -1) != CAST(? AS INTEGER) AND " +
                        DueTicketsWhere(now), {customer});
  }
  REQUIRE(held_due > 0);
  REQUIRE(other_due > 0);
  INFO("customer " << customer << ": " << held_due << " due tickets; others: " << other_due);

  auto add = demo.Retention(
      {"hold", "add", "--subject", "customer:" + customer, "--matter", "M-42", "--reason", "pending litigation"});
  INFO(Describe(add));
  REQUIRE(add.exit_code == 0);

  auto list = demo.Retention({"hold", "list", "--format", "json"});
  INFO(Describe(list));
  REQUIRE(list.exit_code == 0);
  const Json holds = Json::parse(list.out).at("holds");
  REQUIRE(holds.size() == 1);
  const int64_t hold_id = holds[0].at("id").get<int64_t>();
  CHECK(holds[0].at("matter") == "M-42");
  CHECK(holds[0].at("reason") == "pending litigation");
  CHECK(holds[0].at("active") == true);
  CHECK(holds[0].at("scope").at("subject") == "customer:" + customer);

  CHECK(demo.PurgeDeleted() > 0);
  {
    Db app(demo.app_db, true);
    // The held customer's due tickets are all there; everyone else's went.
    CHECK(app.Int("SELECT count(*) FROM support_tickets WHERE customer_id = ? AND " + DueTicketsWhere(now),
                  {customer}) == held_due);
    CHECK(app.Int("SELECT count(*) FROM support_tickets WHERE coalesce(customer_id, -1) != CAST(? AS INTEGER) AND " +
                  DueTicketsWhere(now), {customer}) == 0);
    CHECK(DeletedOfSubject(demo.state_db, "customer:" + customer) == 0);
    CHECK(DeletedOfSubject(demo.state_db, "") > 0);  // the others' records are claimed
    Db state(demo.state_db, true);
    CHECK(state.Int("SELECT count(*) FROM ledger WHERE kind = 'hold_placed'") == 1);
  }
  // The plan shows them as held, not deletable.
  {
    auto plan = demo.Retention({"plan", "--format", "json", "--category", "support"});
    INFO(Describe(plan));
    REQUIRE(plan.exit_code == 0);
    int64_t held = 0;
    const Json parsed = Json::parse(plan.out);
    for (const auto& t : parsed.at("targets"))
      if (t.at("target") == "support_tickets") held = t.at("held").get<int64_t>();
    CHECK(held == held_due);
  }

  // Release without a reason is refused; with one, the hold ends and the
  // next purge deletes what it kept.
  auto no_reason = demo.Retention({"hold", "release", std::to_string(hold_id)});
  INFO(Describe(no_reason));
  CHECK(no_reason.exit_code == 64);
  auto release = demo.Retention({"hold", "release", std::to_string(hold_id), "--reason", "case closed"});
  INFO(Describe(release));
  REQUIRE(release.exit_code == 0);
  auto after = demo.Retention({"hold", "list", "--format", "json"});
  REQUIRE(after.exit_code == 0);
  CHECK(Json::parse(after.out).at("holds").empty());
  auto all = demo.Retention({"hold", "list", "--all", "--format", "json"});
  REQUIRE(all.exit_code == 0);
  const Json released = Json::parse(all.out).at("holds");
  REQUIRE(released.size() == 1);  // released, never deleted
  CHECK(released[0].at("release_reason") == "case closed");

  CHECK(demo.PurgeDeleted() >= held_due);
  {
    Db app(demo.app_db, true);
    CHECK(app.Int("SELECT count(*) FROM support_tickets WHERE " + DueTicketsWhere(now)) == 0);
    CHECK(DeletedOfSubject(demo.state_db, "customer:" + customer, "support_tickets") == held_due);
    Db state(demo.state_db, true);
    CHECK(state.Int("SELECT count(*) FROM ledger WHERE kind = 'hold_released'") == 1);
  }
  auto verify = demo.Retention({"audit", "verify"});
  INFO(Describe(verify));
  CHECK(verify.exit_code == 0);
}

TEST_CASE("e2e refusals: bad hold specs are refused (65) and place nothing", "[e2e]") {
  Demo demo(2000);
  auto empty = demo.Retention({"hold", "add", "--matter", "M-1", "--reason", "litigation"});
  INFO(Describe(empty));
  CHECK(empty.exit_code == 65);
  CHECK(Contains(empty.err, "--freeze-all"));
  auto kind = demo.Retention({"hold", "add", "--subject", "planet:3", "--matter", "M-1", "--reason", "r"});
  INFO(Describe(kind));
  CHECK(kind.exit_code == 65);
  CHECK(Contains(kind.err, "planet"));
  auto shape = demo.Retention({"hold", "add", "--subject", "customer", "--matter", "M-1", "--reason", "r"});
  INFO(Describe(shape));
  CHECK(shape.exit_code == 65);
  auto category = demo.Retention({"hold", "add", "--category", "nope", "--matter", "M-1", "--reason", "r"});
  INFO(Describe(category));
  CHECK(category.exit_code == 65);
  auto list = demo.Retention({"hold", "list", "--all", "--format", "json"});
  INFO(Describe(list));
  REQUIRE(list.exit_code == 0);
  CHECK(Json::parse(list.out).at("holds").empty());
  CHECK(LedgerCount(demo.state_db, "hold_placed") == 0);
}

TEST_CASE("e2e refusals: a freeze-all hold stops every deletion", "[e2e]") {
  Demo demo(2000);
  const auto counts = RowCounts(demo.app_db);
  auto add = demo.Retention({"hold", "add", "--freeze-all", "--matter", "M-7", "--reason", "regulator inquiry"});
  INFO(Describe(add));
  REQUIRE(add.exit_code == 0);
  CHECK(demo.PlanDeletable() == 0);
  CHECK(demo.PurgeDeleted() == 0);
  CHECK(RowCounts(demo.app_db) == counts);
  CHECK(LedgerCount(demo.state_db, "delete") == 0);
}

}  // namespace
}  // namespace retention::e2e
