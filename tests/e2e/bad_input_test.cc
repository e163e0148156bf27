// End-to-end: bad input at the edges of the command line (SPEC 6.12) -
// numbers that would overflow, hold texts that say nothing or carry control
// bytes, and moments that fall in a DST gap or overlap. Every refusal is
// checked for its exit code and for having changed nothing.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "e2e/e2e_util.h"

namespace retention::e2e {
namespace {

using Json = nlohmann::json;

struct Demo : DemoFixture {
  explicit Demo(int rows = 2000) : DemoFixture(rows) {}
};

TEST_CASE("e2e bad input: a --max-runtime beyond 100 years is a usage error, not an overflow", "[e2e]") {
  Demo demo;
  const auto counts = RowCounts(demo.app_db);
  // Each of these, scaled to microseconds, overflows 64 bits: the run used
  // to stop at once and exit 75.
  for (const char* runtime : {"9999999999999h", "9999999999999m", "9999999999999", "9999999999999d",
                              "99999999999999999999999999s", "36526d", "0", "-5m", "5 fortnights", "m"}) {
    auto r = demo.Retention({"purge", "--max-runtime", runtime});
    INFO(runtime << ": " << Describe(r));
    CHECK(r.exit_code == 64);
    CHECK(Contains(r.err, "--max-runtime"));
  }
  auto century = demo.Retention({"purge", "--max-runtime", "36526d"});
  CHECK(Contains(century.err, "longer than 100 years"));
  CHECK(RowCounts(demo.app_db) == counts);
  CHECK(LedgerCount(demo.state_db, "run_start") == 0);

  // A long budget that fits runs to the end.
  auto r = demo.Retention({"purge", "--max-runtime", "36525d", "--category", "sessions", "--format", "json"});
  INFO(Describe(r));
  CHECK(r.exit_code == 0);
  CHECK(Json::parse(r.out).at("outcome") == "ok");
}

TEST_CASE("e2e bad input: other numeric options refuse negative and malformed values", "[e2e]") {
  Demo demo;
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"status", "--last", "-1"}, {"audit", "show", "1", "--max-kept", "-1"},
        {"hold", "show", "99999999999999999999999"}, {"demo", (demo.dir / "d2").string(), "--seed", "-1"},
        {"purge", "--batch-size", "99999999999999999999999"}}) {
    auto r = demo.Retention(args);
    INFO(Describe(r));
    CHECK(r.exit_code == 64);
  }
  CHECK(!fs::exists(demo.dir / "d2"));
}

TEST_CASE("e2e bad input: hold texts that are empty, blank, control bytes or not UTF-8 are refused (65)", "[e2e]") {
  Demo demo;
  const std::vector<std::string> scope = {"--subject", "customer:1"};
  auto add = [&](const std::string& matter, const std::string& reason, std::optional<std::string> by) {
    std::vector<std::string> args = {"hold", "add", "--matter", matter, "--reason", reason};
    args.insert(args.end(), scope.begin(), scope.end());
    if (by) args.insert(args.end(), {"--by", *by});
    return demo.Retention(args);
  };
  struct Bad {
    const char* what;
    std::string matter, reason;
    std::optional<std::string> by;
    const char* message;
  };
  const Bad bad[] = {
      {"empty author", "M-1", "r", "", "hold spec: --by must not be empty or blank"},
      {"blank author", "M-1", "r", " \t ", "hold spec: --by must not be empty or blank"},
      {"author with a terminal escape", "M-1", "r", "mallory\x1b[2K", "hold spec: --by contains a control character"},
      {"author with a newline", "M-1", "r", "alice\nbob", "hold spec: --by contains a control character (0x0a"},
      {"author not UTF-8", "M-1", "r", "j\xf6rg", "hold spec: --by is not valid UTF-8 (at byte 2)"},
      {"empty matter", "", "r", std::nullopt, "hold spec: --matter must not be empty"},
      {"blank reason", "M-1", "   ", std::nullopt, "hold spec: --reason must not be empty"},
      {"reason with a NUL-free control byte", "M-1", "a\x7f", std::nullopt, "--reason contains a control character"},
      {"matter not UTF-8", "\xc3\x28", "r", std::nullopt, "--matter is not valid UTF-8"},
  };
  for (const Bad& b : bad) {
    auto r = add(b.matter, b.reason, b.by);
    INFO(b.what << ": " << Describe(r));
    CHECK(r.exit_code == 65);
    CHECK(Contains(r.err, b.message));
  }
  CHECK(LedgerCount(demo.state_db, "hold_placed") == 0);

  // Names in any script are fine.
  auto good = add("M-1", "Rechtsstreit", std::string("J\xc3\xb6rg M\xc3\xbcller"));
  INFO(Describe(good));
  REQUIRE(good.exit_code == 0);
  CHECK(LedgerCount(demo.state_db, "hold_placed") == 1);

  // Releasing needs a reason that says something, and a real name.
  for (const auto& [reason, by] : {std::pair<std::string, std::string>{"", "alice"}, {" ", "alice"},
                                   {"settled", ""}, {"settled", "\x1b]0;x\x07"}}) {
    auto r = demo.Retention({"hold", "release", "1", "--reason", reason, "--by", by});
    INFO(Describe(r));
    CHECK(r.exit_code == 65);
    CHECK(Contains(r.err, "hold spec"));
  }
  CHECK(LedgerCount(demo.state_db, "hold_released") == 0);
}

// A hold on a file's key covers the file whose key is exactly that text: its
// path relative to the store's root. Given the file's full path or "./name",
// the hold used to be placed (exit 0) and to keep nothing; the purge then
// deleted the file under hold.
TEST_CASE("e2e bad input: a hold on a file key the files target cannot select is refused (65)", "[e2e]") {
  Demo demo;
  std::string name;
  for (const auto& e : fs::directory_iterator(demo.root / "logs")) {
    const std::string n = e.path().filename().string();
    if (n.rfind("access.log-", 0) == 0) name = n;
  }
  REQUIRE(!name.empty());
  const std::string full = (demo.root / "logs" / name).string();
  for (const std::string& key : {full, "./" + name, name + "/", "logs/" + name, std::string("nothing-like-a-log")}) {
    auto r = demo.Retention({"hold", "add", "--matter", "M-1", "--reason", "r", "--target", "rotated-logs",
                             "--key", key});
    INFO(key << ": " << Describe(r));
    CHECK(r.exit_code == 65);
    CHECK(Contains(r.err, "names no file"));
    if (key == full || key == "./" + name) CHECK(Contains(r.err, "(here: '" + name + "')"));
  }
  auto listed = demo.Retention({"hold", "list", "--format", "json"});
  CHECK(!Contains(listed.out, "M-1"));
  auto ok = demo.Retention({"hold", "add", "--matter", "M-2", "--reason", "r", "--target", "rotated-logs",
                            "--key", name});
  INFO(Describe(ok));
  CHECK(ok.exit_code == 0);
  // A key with no target names no one record (issue 18): refused (64).
  CHECK(demo.Retention({"hold", "add", "--matter", "M-3", "--reason", "r", "--key", "./x"}).exit_code == 64);
}

TEST_CASE("e2e bad input: a naive moment in a DST gap or overlap takes the reading that keeps more", "[e2e]") {
  Demo demo;
  demo.EditConfig("time_zone = \"UTC\"", "time_zone = \"America/New_York\"");

  SECTION("plan and purge --as-of: the earlier instant, with a notice") {
    // 2026-03-08 02:30 does not exist in New York: 06:30Z (EST) or 07:30Z (EDT).
    auto plan = demo.Retention({"plan", "--as-of", "2026-03-08 02:30", "--format", "json"});
    INFO(Describe(plan));
    REQUIRE(plan.exit_code == 0);
    CHECK(Json::parse(plan.out).at("as_of") == "2026-03-08T06:30:00Z");
    CHECK(Contains(plan.err, "notice: --as-of: '2026-03-08 02:30' does not exist in America/New_York"));
    CHECK(Contains(plan.err, "using 2026-03-08T06:30:00Z, the earlier reading"));

    // 2026-11-01 01:30 happens twice: 05:30Z (EDT) and 06:30Z (EST).
    auto purge = demo.Retention({"purge", "--as-of", "2026-11-01 01:30", "--format", "json"});
    INFO(Describe(purge));
    REQUIRE(purge.exit_code == 0);
    CHECK(Json::parse(purge.out).at("as_of") == "2026-11-01T05:30:00Z");
    CHECK(Contains(purge.err, "occurs twice in America/New_York"));
  }

  SECTION("hold add: --from earlier, --until and --expires later") {
    auto r = demo.Retention({"hold", "add", "--matter", "M-1", "--reason", "r", "--subject", "customer:1",
                             "--from", "2026-03-08 02:30", "--until", "2026-11-01 01:30", "--expires",
                             "2027-03-14 02:30", "--format", "json"});
    INFO(Describe(r));
    REQUIRE(r.exit_code == 0);
    const Json hold = Json::parse(r.out);
    CHECK(hold.at("scope").at("clock_from") == "2026-03-08T06:30:00Z");
    CHECK(hold.at("scope").at("clock_until") == "2026-11-01T06:30:00Z");
    CHECK(hold.at("expires_at") == "2027-03-14T07:30:00Z");
    CHECK(Contains(r.err, "notice: --from:"));
    CHECK(Contains(r.err, "notice: --until:"));
    CHECK(Contains(r.err, "notice: --expires:"));
  }

  SECTION("audit filters say which instant they used") {
    REQUIRE(demo.Retention({"hold", "add", "--matter", "M-1", "--reason", "r", "--subject", "customer:1"})
                .exit_code == 0);  // a ledger to read
    auto r = demo.Retention({"audit", "log", "--since", "2026-03-08 02:30", "--until", "2026-11-01 01:30"});
    INFO(Describe(r));
    CHECK(r.exit_code == 0);
    CHECK(Contains(r.err, "notice: --since: '2026-03-08 02:30' does not exist"));
    CHECK(Contains(r.err, "notice: --until: '2026-11-01 01:30' occurs twice"));
  }

  SECTION("no notice for a moment that is unique") {
    auto plan = demo.Retention({"plan", "--as-of", "2026-03-08 03:30", "--format", "json"});
    INFO(Describe(plan));
    REQUIRE(plan.exit_code == 0);
    CHECK(Json::parse(plan.out).at("as_of") == "2026-03-08T07:30:00Z");
    CHECK(!Contains(plan.err, "notice"));
  }
}

}  // namespace
}  // namespace retention::e2e
