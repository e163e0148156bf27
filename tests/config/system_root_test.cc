// A files store whose root is a system directory ("/", /etc, /usr, ...) is
// refused at FILE:LINE:COL unless the store says allow_system_root = true
// (issue 11 item 9): one `paths = ["**"]` would otherwise age out the system.
#include <catch2/catch.hpp>

#include <string>

#include "config/config.h"
#include "config/loader_test_support.h"

namespace retention {
namespace {

using loader_test::ScratchDir;
using loader_test::WithDir;
using loader_test::WriteFile;

std::string FilesConfig(const std::string& root, const std::string& extra = "") {
  return "rules = \"rules\"\n[stores.logs]\ntype = \"files\"\nroot = \"" + root + "\"\n" + extra;
}

TEST_CASE("System directories are refused as a files store's root", "[config]") {
  struct Case {
    const char* root;
    const char* shown;  // as the message names it
  };
  const Case kRefused[] = {
      {"/", "/"},
      {"/etc", "/etc"},
      {"/etc/", "/etc"},
      {"/usr", "/usr"},
      {"/var", "/var"},
      {"/home", "/home"},
      {"/boot", "/boot"},
      {"/dev", "/dev"},
      {"/proc", "/proc"},
      {"/sys", "/sys"},
      {"/run", "/run"},
      {"/lib", "/lib"},
      {"/lib64", "/lib64"},
      {"/usr/lib", "/usr/lib"},
      {"/var/log/..", "/var"},
      {"/var/log/../../etc", "/etc"},
      {"//", "/"},
  };
  for (const Case& c : kRefused) {
    INFO("root " << c.root);
    ScratchDir dir;
    WriteFile(dir / "retention.toml", FilesConfig(c.root));
    Result<Config> config = LoadConfig(dir / "retention.toml");
    REQUIRE_FALSE(config.ok());
    CHECK(config.status().code() == StatusCode::kInvalid);
    CHECK(config.status().message() ==
          WithDir("$D/retention.toml:4:8: store 'logs': root " + std::string(c.shown) +
                      " is a system directory; name the directory that holds the data, or set "
                      "allow_system_root = true if you really mean it",
                  dir.path()));
  }
}

TEST_CASE("A symlink or a relative path to a system directory is seen through", "[config]") {
  ScratchDir dir;
  std::filesystem::create_directory_symlink("/etc", dir / "logs");
  WriteFile(dir / "retention.toml", FilesConfig("logs"));
  Result<Config> config = LoadConfig(dir / "retention.toml");
  REQUIRE_FALSE(config.ok());
  CHECK(config.status().code() == StatusCode::kInvalid);
  CHECK(config.status().message() ==
        WithDir("$D/retention.toml:4:8: store 'logs': root $D/logs (which is /etc) is a system directory; name the "
                "directory that holds the data, or set allow_system_root = true if you really mean it",
                dir.path()));
}

TEST_CASE("Ordinary roots load and a system root loads when explicitly allowed", "[config]") {
  struct Case {
    std::string text;
    std::string root;
  };
  const Case kAccepted[] = {
      {FilesConfig("/var/log/app"), "/var/log/app"},
      {FilesConfig("/var/lib/app/backups"), "/var/lib/app/backups"},
      {FilesConfig("/home/app/logs"), "/home/app/logs"},
      {FilesConfig("/library"), "/library"},
      {FilesConfig("/", "allow_system_root = true\n"), "/"},
      {FilesConfig("/var", "allow_system_root = true\n"), "/var"},
  };
  for (const Case& c : kAccepted) {
    INFO(c.text);
    ScratchDir dir;
    WriteFile(dir / "retention.toml", c.text);
    Result<Config> config = LoadConfig(dir / "retention.toml");
    INFO(config.status().message());
    REQUIRE(config.ok());
    CHECK(config->stores.at("logs").root == c.root);
  }

  SECTION("allow_system_root = false is the default, said out loud") {
    ScratchDir dir;
    WriteFile(dir / "retention.toml", FilesConfig("/", "allow_system_root = false\n"));
    CHECK_FALSE(LoadConfig(dir / "retention.toml").ok());
  }
  SECTION("allow_system_root belongs to files stores") {
    ScratchDir dir;
    WriteFile(dir / "retention.toml",
              "rules = \"rules\"\n[stores.app]\ntype = \"sqlite\"\npath = \"app.db\"\nallow_system_root = true\n");
    Result<Config> config = LoadConfig(dir / "retention.toml");
    REQUIRE_FALSE(config.ok());
    CHECK(config.status().message() ==
          WithDir("$D/retention.toml:5:21: 'allow_system_root' applies to files stores; store 'app' is sqlite",
                  dir.path()));
  }
}

}  // namespace
}  // namespace retention
