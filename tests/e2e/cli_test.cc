// End-to-end: the command line itself (SPEC 5: exit code 64 for usage).
#include <catch2/catch.hpp>

#include "e2e/e2e_util.h"

namespace retention::e2e {
namespace {

// A usage error: exit 64, nothing on stdout, one line on stderr pointing at help.
// `hint`: what the line must mention to help (by default, where help is).
void RequireUsageError(const RunResult& r, const std::string& hint = "--help") {
  INFO(Describe(r));
  CHECK(r.exit_code == 64);
  CHECK(r.out.empty());
  CHECK(LineCount(r.err) == 1);
  CHECK(Contains(r.err, hint));
}

TEST_CASE("e2e cli: --help and --version exit 0", "[e2e]") {
  auto help = Run({"--help"});
  INFO(Describe(help));
  CHECK(help.exit_code == 0);
  CHECK(Contains(help.out, "Usage: retention"));
  for (const char* command : {"check", "plan", "purge", "hold", "audit", "demo"})
    CHECK(Contains(help.out, command));
  CHECK(Contains(help.out, "64"));  // exit codes are documented

  auto version = Run({"--version"});
  INFO(Describe(version));
  CHECK(version.exit_code == 0);
  CHECK(Contains(version.out, "retention "));
  CHECK(LineCount(version.out) == 1);
}

TEST_CASE("e2e cli: every command's --help exits 0 and prints usage", "[e2e]") {
  const std::vector<std::vector<std::string>> commands = {
      {"check"},        {"plan"},         {"purge"},          {"demo"},
      {"hold"},         {"hold", "add"},  {"hold", "list"},   {"hold", "show"},
      {"hold", "release"}, {"audit"},     {"audit", "verify"},
  };
  TempDir dir;
  for (auto args : commands) {
    args.push_back("--help");
    // No config anywhere: help must not need one.
    auto r = Run(args, dir.path());
    INFO(args[0] << (args.size() > 2 ? " " + args[1] : "") << ": " << Describe(r));
    CHECK(r.exit_code == 0);
    CHECK(Contains(r.out, "Usage: retention"));
  }
  // Nothing was created by asking for help.
  CHECK(fs::is_empty(dir.path()));
}

TEST_CASE("e2e cli: usage errors exit 64 with a one-line hint", "[e2e]") {
  TempDir dir;  // the working directory: nothing may appear in it
  auto run = [&](const std::vector<std::string>& args) { return Run(args, dir.path()); };
  SECTION("no command") { RequireUsageError(run({})); }
  SECTION("unknown command") {
    auto r = run({"frobnicate"});
    RequireUsageError(r);
    CHECK(Contains(r.err, "frobnicate"));
  }
  SECTION("unknown global option") {
    auto r = run({"--frobnicate", "check"});
    RequireUsageError(r);
    CHECK(Contains(r.err, "--frobnicate"));
  }
  SECTION("unknown command option") {
    for (const char* command : {"check", "plan", "purge", "demo"}) {
      auto r = run({command, "--frobnicate"});
      INFO(command);
      RequireUsageError(r);
      CHECK(Contains(r.err, "frobnicate"));
    }
  }
  SECTION("missing option value") {
    RequireUsageError(run({"--config"}));
    RequireUsageError(run({"check", "--config"}));
    RequireUsageError(run({"plan", "--format"}));
    RequireUsageError(run({"purge", "--batch-size"}));
  }
  SECTION("bad option value") {
    RequireUsageError(run({"purge", "--batch-size", "many"}));
  }
  SECTION("hold without subcommand") { RequireUsageError(run({"hold"})); }
  SECTION("unknown hold subcommand") { RequireUsageError(run({"hold", "frobnicate"}), "release"); }
  SECTION("audit without subcommand") { RequireUsageError(run({"audit"})); }
  SECTION("unknown audit subcommand") { RequireUsageError(run({"audit", "frobnicate"}), "verify"); }
  // Usage errors come before anything is read or written.
  CHECK(fs::is_empty(dir.path()));
}

}  // namespace
}  // namespace retention::e2e
