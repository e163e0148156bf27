// A saved plan keeps record keys that are not UTF-8 exactly (issue 12 item
// 5): `plan --out` over a files target with a file named "bad\xff.log" used
// to abort (exit 134) and leave the .tmp behind; now it writes the name as
// base64, renames the plan into place, and `purge --plan` deletes that very
// file -- not another one whose name differs by a byte.
#include <catch2/catch.hpp>

#include <sys/time.h>

#include <set>

#include <nlohmann/json.hpp>

#include "e2e/e2e_util.h"

namespace retention {
namespace {

using e2e::Db;
using e2e::DeletedKeys;
using e2e::Describe;
using e2e::RunResult;
using e2e::RunWith;
using e2e::TempDir;
using e2e::WriteFile;
namespace fs = std::filesystem;


void MakeOld(const fs::path& p) {
  WriteFile(p, "x\n");
  const time_t when = ::time(nullptr) - 200 * 86400;
  struct timeval times[2] = {{when, 0}, {when, 0}};
  REQUIRE(::utimes(p.c_str(), times) == 0);
}

std::set<std::string> Names(const fs::path& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.insert(e.path().filename().string());
  return out;
}

TEST_CASE("plan --out and purge --plan keep a file name that is not UTF-8 byte for byte", "[purge][e2e][plan]") {
  TempDir dir;
  const std::string bad = "bad\xff.log";
  MakeOld(dir / "logs" / bad);
  MakeOld(dir / "logs" / "good.log");
  WriteFile(dir / "rules" / "logs.toml", R"(
[logs]
delete_after = "90 days"
[[logs.target]]
name = "rotated"
store = "logs"
paths = ["*.log"]
clock = { mtime = true }
)");
  WriteFile(dir / "retention.toml",
            "rules = \"rules\"\nstate = \"state.db\"\n[limits]\nmax_delete_fraction = 1.0\n"
            "[stores.logs]\ntype = \"files\"\nroot = \"logs\"\n");
  e2e::InitState(dir / "retention.toml");

  const fs::path plan_file = dir / "p.jsonl";
  RunResult plan = RunWith(dir / "retention.toml", {"plan", "--out", plan_file.string()});
  INFO(Describe(plan));
  REQUIRE(plan.exit_code == 0);
  CHECK_FALSE(fs::exists(dir / "p.jsonl.tmp"));
  const std::string saved = e2e::ReadFile(plan_file);
  CHECK(saved.find(R"("key":{"base64":"YmFk/y5sb2c="})") != std::string::npos);  // base64 of bad\xff.log
  CHECK(saved.find(R"("key":"good.log")") != std::string::npos);

  // The JSON a person reads names it too, and never aborts over it: the
  // byte that is not UTF-8 shows as U+FFFD.
  for (const std::vector<std::string>& args : {std::vector<std::string>{"plan", "--format", "json"},
                                               std::vector<std::string>{"explain", "logs/rotated/" + bad, "--format",
                                                                        "json"}}) {
    RunResult r = RunWith(dir / "retention.toml", args);
    INFO(Describe(r));
    CHECK(r.exit_code == 0);
    CHECK_NOTHROW(nlohmann::json::parse(r.out));
  }

  // Since the plan: a file whose name differs by one byte, and is as due.
  const std::string other = "bad\xfe.log";
  MakeOld(dir / "logs" / other);

  RunResult purge = RunWith(dir / "retention.toml", {"purge", "--plan", plan_file.string()});
  INFO(Describe(purge));
  REQUIRE(purge.exit_code == 0);
  CHECK(Names(dir / "logs") == std::set<std::string>{other});

  const std::vector<std::string> claimed = DeletedKeys(dir / "state.db");
  CHECK(claimed.size() == 2);
  CHECK(std::set<std::string>(claimed.begin(), claimed.end()) == std::set<std::string>{bad, "good.log"});

  RunResult verify = RunWith(dir / "retention.toml", {"audit", "verify"});
  INFO(Describe(verify));
  CHECK(verify.exit_code == 0);
}

}  // namespace
}  // namespace retention
