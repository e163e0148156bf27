// audit checkpoint / verify --against: a ledger cut back past a checkpoint,
// or rewritten up to it, fails with exit 78 naming the entry; signed
// checkpoints (Ed25519) are checked against the auditor's key.
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "audit/audit_util.h"
#include "state/state_ops.h"
#include "state/state_test_support.h"
#include "audit/checkpoint.h"
#include "audit/ed25519_keys.h"

namespace retention::audit_test {
namespace {

using Json = nlohmann::json;

TEST_CASE("verify without a checkpoint names a tail cut behind a run's tally", "[audit]") {
  // The run tally index (schema version 8) remembers what each run's
  // records were: entries cut from the end of a run are missed there.
  LedgerFixture f(3000);
  REQUIRE(f.Retention({"audit", "verify"}).exit_code == 0);
  Db(f.state_db).Exec("DROP TRIGGER ledger_no_delete; DELETE FROM ledger WHERE seq > 2990;");
  auto cut = f.Retention({"audit", "verify"});
  INFO(Describe(cut));
  CHECK(cut.exit_code == 78);
  CHECK_THAT(cut.err, Catch::Contains("the run tally index says run 103") && Catch::Contains("edited by hand"));
}

TEST_CASE("verify --against a checkpoint detects a truncated ledger", "[audit]") {
  LedgerFixture f(3000);
  const fs::path cp = f.dir / "head.json";
  auto r = f.Retention({"audit", "checkpoint", "--out", cp.string()});
  INFO(Describe(r));
  REQUIRE(r.exit_code == 0);
  const Json j = Json::parse(ReadFile(cp));
  CHECK(j.at("seq") == 3000);
  CHECK(j.at("format") == "retention-checkpoint/3");
  CHECK(j.at("head_at").get<std::string>().size() >= 20);  // the head entry's time
  REQUIRE(f.Retention({"audit", "verify", "--against", cp.string()}).exit_code == 0);

  // Stdout form, and `verify --format json` output, are checkpoints too.
  auto out = f.Retention({"audit", "checkpoint"});
  REQUIRE(out.exit_code == 0);
  CHECK(Json::parse(out.out).at("hash") == j.at("hash"));
  auto vj = f.Retention({"audit", "verify", "--format", "json"});
  REQUIRE(vj.exit_code == 0);
  WriteFile(f.dir / "verify.json", vj.out);
  CHECK(f.Retention({"audit", "verify", "--against", (f.dir / "verify.json").string()}).exit_code == 0);

  // More entries after the checkpoint are fine.
  {
    auto db = OpenOrCreateStateDb(f.state_db, false);
    REQUIRE(db.ok());
    REQUIRE(Append(**db, {SyntheticEntry(3000), SyntheticEntry(3001)}).ok());
  }
  REQUIRE(f.Retention({"audit", "verify", "--against", cp.string()}).exit_code == 0);

  // Cut the tail back past the checkpoint: the chain alone still verifies.
  {
    Db db(f.state_db);
    db.Exec("DROP TRIGGER ledger_no_delete; DELETE FROM ledger WHERE seq > 2990;" + std::string(kRecountRunTallies));
  }
  CHECK(f.Retention({"audit", "verify"}).exit_code == 0);
  auto cut = f.Retention({"audit", "verify", "--against", cp.string()});
  INFO(Describe(cut));
  CHECK(cut.exit_code == 78);
  CHECK(Contains(cut.err, "entry 2991"));
  CHECK(Contains(cut.err, "removed from the end"));
}

TEST_CASE("verify --against detects a rewritten chain up to the checkpoint", "[audit]") {
  LedgerFixture f(500);
  const fs::path cp = f.dir / "head.json";
  REQUIRE(f.Retention({"audit", "checkpoint", "--out", cp.string()}).exit_code == 0);
  // Rewrite: drop the last 10 entries and append 10 different ones, a
  // chain that verifies on its own.
  {
    Db db(f.state_db);
    db.Exec("DROP TRIGGER ledger_no_delete; DELETE FROM ledger WHERE seq > 490;" + std::string(kRecountRunTallies));
  }
  {
    auto db = OpenOrCreateStateDb(f.state_db, false);
    REQUIRE(db.ok());
    std::vector<LedgerEntry> v;
    for (int i = 0; i < 10; ++i) {
      LedgerEntry e = SyntheticEntry(490 + i);
      e.record_key += "-forged";
      v.push_back(e);
    }
    REQUIRE(Append(**db, std::move(v)).ok());
  }
  CHECK(f.Retention({"audit", "verify"}).exit_code == 0);
  auto r = f.Retention({"audit", "verify", "--against", cp.string()});
  INFO(Describe(r));
  CHECK(r.exit_code == 78);
  CHECK(Contains(r.err, "entry 500"));
  CHECK(Contains(r.err, "rewritten"));
}

TEST_CASE("signed checkpoints verify only with the right key and unaltered", "[audit]") {
  LedgerFixture f(200);
  const fs::path priv = f.dir / "key.pem", pub = f.dir / "pub.pem", priv2 = f.dir / "key2.pem",
                 pub2 = f.dir / "pub2.pem", cp = f.dir / "head.json";
  MakeKeyPair(priv, pub);
  MakeKeyPair(priv2, pub2);
  auto r = f.Retention({"audit", "checkpoint", "--out", cp.string(), "--sign-key", priv.string()});
  INFO(Describe(r));
  REQUIRE(r.exit_code == 0);
  Json j = Json::parse(ReadFile(cp));
  REQUIRE(j.contains("signature"));
  CHECK(f.Retention({"audit", "verify", "--against", cp.string(), "--verify-key", pub.string()}).exit_code == 0);
  auto wrong = f.Retention({"audit", "verify", "--against", cp.string(), "--verify-key", pub2.string()});
  CHECK(wrong.exit_code == 78);
  CHECK(Contains(wrong.err, "signature does not verify"));

  // An attacker who truncates the ledger and edits the checkpoint to match
  // cannot re-sign it.
  {
    Db db(f.state_db);
    db.Exec("DROP TRIGGER ledger_no_delete; DELETE FROM ledger WHERE seq > 150;" + std::string(kRecountRunTallies));
    j["seq"] = 150;
    j["hash"] = db.Column("SELECT hash FROM ledger WHERE seq = 150")[0];
  }
  WriteFile(cp, j.dump());
  CHECK(f.Retention({"audit", "verify", "--against", cp.string()}).exit_code == 0);  // unsigned check: fooled
  auto forged = f.Retention({"audit", "verify", "--against", cp.string(), "--verify-key", pub.string()});
  CHECK(forged.exit_code == 78);
  // An unsigned checkpoint is refused when a key is given.
  j.erase("signature");
  WriteFile(cp, j.dump());
  CHECK(f.Retention({"audit", "verify", "--against", cp.string(), "--verify-key", pub.string()}).exit_code == 78);
  // A private key where a public one belongs, or garbage: a clear error.
  CHECK(f.Retention({"audit", "checkpoint", "--sign-key", pub.string()}).exit_code == 65);
}

TEST_CASE("a checkpoint is refused on a ledger that does not verify", "[audit]") {
  LedgerFixture f(100);
  {
    Db db(f.state_db);
    db.Exec("DROP TRIGGER ledger_no_update; UPDATE ledger SET record_key = 'x' WHERE seq = 40;");
  }
  auto r = f.Retention({"audit", "checkpoint"});
  CHECK(r.exit_code == 78);
  CHECK(Contains(r.err, "entry 40"));
  auto v = f.Retention({"audit", "verify"});
  CHECK(v.exit_code == 78);
  CHECK(Contains(v.err, "entry 40 was modified"));
}

TEST_CASE("checkpoint files are parsed strictly", "[audit]") {
  CHECK(audit::ParseCheckpoint(R"({"seq":1,"hash":")" + std::string(64, 'a') + R"("})", "x").ok());
  CHECK(!audit::ParseCheckpoint("[]", "x").ok());
  CHECK(!audit::ParseCheckpoint(R"({"seq":1,"hash":"abc"})", "x").ok());
  CHECK(!audit::ParseCheckpoint(R"({"seq":-1,"hash":")" + std::string(64, 'a') + R"("})", "x").ok());
  CHECK(!audit::ParseCheckpoint(R"({"format":"other","seq":1,"hash":")" + std::string(64, 'a') + R"("})", "x").ok());
}

}  // namespace
}  // namespace retention::audit_test
