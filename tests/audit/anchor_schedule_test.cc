// The schedule an anchor claims, compared with the policy from outside the
// state database (audit/anchor_schedule.h): a forger who deletes the
// oldest entries by hand and chains on an anchor claiming "1 hour" fails
// `audit verify` with 78, with and without a checkpoint; an honest prune
// passes; a checkpoint pins the schedule in signed fields, and older
// checkpoint formats still verify.
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "audit/anchor_schedule.h"
#include "audit/audit_util.h"
#include "audit/checkpoint.h"
#include "audit/ed25519_keys.h"
#include "ledger/anchor.h"
#include "purge/purge_fixture.h"
#include "state/state_ops.h"

namespace retention::audit_test {
namespace {

using Json = nlohmann::json;

constexpr const char* kTwelveMonths =
    "[audit_security]\ndelete_after = \"12 months\"\n[[audit_security.target]]\nstore = \"purge-log\"\n";

// A state database whose purge log has a 12-month schedule in the rules:
// `old` entries written in 2024, one an hour, then `recent` entries written
// between three and two hours ago.
struct ScheduledLog {
  TempDir dir;
  fs::path state_db = dir / "state.db";

  ScheduledLog(int64_t old, int64_t recent) {
    {
      Db app(dir / "app.db");
      app.Exec("CREATE TABLE tickets (id INTEGER PRIMARY KEY, updated_at TEXT);"
               "CREATE INDEX tickets_updated ON tickets(updated_at);"
               "INSERT INTO tickets VALUES (1, '2099-01-01 00:00:00');");
    }
    WriteFile(dir / "rules" / "audit.toml", kTwelveMonths);
    WriteFile(dir / "rules" / "support.toml",
              "[support]\ndelete_after = \"24 months\"\n[[support.target]]\nstore = \"app\"\ntable = \"tickets\"\n"
              "clock = { column = \"updated_at\", encoding = \"text\" }\n");
    WritePurgeTestConfig(dir, 0);
    auto db = OpenSqliteStateDb(state_db, false);
    REQUIRE(db.ok());
    const Timestamp now = SystemNow();
    std::vector<LedgerEntry> v;
    for (int64_t i = 0; i < old + recent; ++i) {
      LedgerEntry e = SyntheticEntry(i + 1);
      e.kind = LedgerKind::kDelete;
      e.detail.clear();
      e.at = i < old ? FromUnixMicros(1704067200LL * 1000000 + i * 3600LL * 1000000)
                     : now - std::chrono::hours(3) + (i - old) * std::chrono::seconds(20);
      v.push_back(e);
    }
    REQUIRE(Append(**db, std::move(v)).ok());
  }

  RunResult Retention(std::vector<std::string> args) { return RunWith(dir / "retention.toml", std::move(args)); }

  // What a forger with the file does: drops the trigger, deletes entries
  // 1..through, and chains on an anchor for them, dated now, claiming
  // `delete_after` (with the cutoff that allows), and its ledger_anchors row.
  void Forge(int64_t through, CalendarDuration delete_after, Timestamp cutoff,
             std::optional<Timestamp> claimed_through_at = std::nullopt) {
    auto db = OpenSqliteStateDb(state_db, /*read_only=*/true);
    REQUIRE(db.ok());
    std::optional<LedgerEntry> last, head;
    REQUIRE((*db)->ScanLedger(INT64_MIN, [&](const LedgerEntry& e) {
                  if (e.seq == through) last = e;
                  head = e;
                  return true;
                }).ok());
    REQUIRE(last);
    db->reset();
    LedgerAnchor a;
    a.from = 1;
    a.through = through;
    a.through_hash = last->hash;
    a.through_at = claimed_through_at.value_or(last->at);
    a.cutoff = cutoff;
    a.delete_after = delete_after;
    a.time_zone = "UTC";
    LedgerEntry f;
    f.run_id = 99;
    f.category = "audit_security";
    f.target = "purge-log";
    f.rule = "rules/audit.toml:4";
    WriteAnchor(a, &f);
    f.seq = head->seq + 1;
    f.at = SystemNow();
    f.prev_hash = head->hash;
    f.hash = ComputeEntryHash(f);
    Db raw(state_db);
    raw.Exec("DROP TRIGGER ledger_no_delete; DELETE FROM ledger WHERE seq <= " + std::to_string(through) + ";");
    raw.Exec("INSERT INTO ledger(seq, at, kind, run_id, category, store, target, record_key, clock, cutoff, rule, "
             "subject, batch, detail, prev_hash, hash) VALUES(" +
             std::to_string(f.seq) + ", " + std::to_string(ToUnixMicros(f.at)) + ", 'anchor', 99, '" + f.category +
             "', '" + f.store + "', '" + f.target + "', '', '" + f.clock + "', '" + f.cutoff + "', '" + f.rule +
             "', '', 0, '" + f.detail + "', '" + f.prev_hash + "', '" + f.hash + "');" +
             "INSERT INTO ledger_anchors(seq, through) VALUES(" + std::to_string(f.seq) + ", " +
             std::to_string(through) + ");");
  }
};

TEST_CASE("a forged anchor claiming '1 hour' fails verify with 78, with and without a checkpoint",
          "[audit][anchor-schedule]") {
  ScheduledLog log(0, 150);
  const fs::path cp = log.dir / "cp.json";
  auto taken = log.Retention({"audit", "checkpoint", "--out", cp.string()});
  INFO(Describe(taken));
  REQUIRE(taken.exit_code == 0);
  const Json j = Json::parse(ReadFile(cp));
  CHECK(j.at("format") == "retention-checkpoint/3");
  CHECK(j.at("purge_log_schedule") == Json{{"delete_after", "12 months"}, {"keep_at_least", ""}, {"time_zone", "UTC"}});
  CHECK(j.at("rules_hash").get<std::string>().size() == 64);
  REQUIRE(log.Retention({"audit", "verify", "--against", cp.string()}).exit_code == 0);

  // Entries 1..120, written between three and two hours ago, go behind an
  // anchor claiming "delete after 1 hour".
  const Timestamp now = SystemNow();
  log.Forge(120, {1, DurationUnit::kHours}, now - std::chrono::hours(1));

  auto plain = log.Retention({"audit", "verify"});
  INFO(Describe(plain));
  CHECK(plain.exit_code == 78);
  CHECK(Contains(plain.err, "anchor entry 151"));
  CHECK(Contains(plain.err, "'delete after 1 hour'"));
  CHECK(Contains(plain.err, "delete after 12 months"));
  CHECK(Contains(plain.err, "--accept-anchor-schedules"));
  auto json = log.Retention({"audit", "verify", "--format", "json"});
  CHECK(json.exit_code == 78);
  CHECK(Json::parse(json.out).at("first_bad_seq") == 151);

  // Against the checkpoint taken before: the pin alone fails it, whatever
  // the auditor accepts from the rules.
  auto against = log.Retention({"audit", "verify", "--against", cp.string()});
  INFO(Describe(against));
  CHECK(against.exit_code == 78);
  auto pinned = log.Retention({"audit", "verify", "--against", cp.string(), "--accept-anchor-schedules"});
  INFO(Describe(pinned));
  CHECK(pinned.exit_code == 78);
  CHECK(Contains(pinned.err, "the checkpoint's purge log schedule (delete after 12 months, UTC)"));

  // The auditor who knows the policy really was "1 hour" then: a warning.
  auto accepted = log.Retention({"audit", "verify", "--accept-anchor-schedules"});
  INFO(Describe(accepted));
  CHECK(accepted.exit_code == 0);
  CHECK(Contains(accepted.err, "warning: anchor entry 151"));
  // And no checkpoint is taken from the forged ledger without it.
  CHECK(log.Retention({"audit", "checkpoint"}).exit_code == 78);
}

TEST_CASE("a forged anchor fails when the rules give the purge log no schedule at all", "[audit][anchor-schedule]") {
  ScheduledLog log(120, 30);
  const fs::path cp = log.dir / "cp.json";
  fs::remove(log.dir / "rules" / "audit.toml");
  REQUIRE(log.Retention({"audit", "checkpoint", "--out", cp.string()}).exit_code == 0);
  CHECK(Json::parse(ReadFile(cp)).at("purge_log_schedule").at("delete_after") == "none");
  log.Forge(100, {12, DurationUnit::kMonths}, SystemNow() - std::chrono::hours(24 * 400));
  auto plain = log.Retention({"audit", "verify"});
  INFO(Describe(plain));
  CHECK(plain.exit_code == 78);
  CHECK(Contains(plain.err, "no rule prunes the purge log"));
  // The rules gaining a schedule since does not help against the pin.
  WriteFile(log.dir / "rules" / "audit.toml", kTwelveMonths);
  auto against = log.Retention({"audit", "verify", "--against", cp.string(), "--accept-anchor-schedules"});
  INFO(Describe(against));
  CHECK(against.exit_code == 78);
  CHECK(Contains(against.err, "the checkpoint's purge log schedule is none"));
}

TEST_CASE("a forged anchor naming the right schedule but lying about the entries' age fails without a checkpoint",
          "[audit][anchor-schedule][cross-check]") {
  ScheduledLog log(0, 150);
  {
    auto db = OpenSqliteStateDb(log.state_db, false);
    REQUIRE(db.ok());
    RunInfo info;
    info.command = "purge";
    info.as_of = SystemNow();
    auto run = BeginRun(**db, info);
    REQUIRE(run.ok());
    REQUIRE(EndRun(**db, *run, "ok", 0, "{}").ok());  // entries 151, 152
    std::vector<LedgerEntry> more;
    for (int i = 0; i < 10; ++i) more.push_back(SyntheticEntry(200 + i));
    for (LedgerEntry& e : more) e.at = SystemNow();
    REQUIRE(Append(**db, std::move(more)).ok());
  }
  REQUIRE(log.Retention({"audit", "verify"}).exit_code == 0);
  // Entries 1..152, all from the last three hours, behind an anchor that
  // names the rules' own "12 months" and claims entry 152 is two years old.
  const Timestamp now = SystemNow();
  log.Forge(152, {12, DurationUnit::kMonths}, now - std::chrono::hours(24 * 400),
            now - std::chrono::hours(24 * 730));
  auto r = log.Retention({"audit", "verify"});
  INFO(Describe(r));
  CHECK(r.exit_code == 78);
  CHECK(Contains(r.err, "the runs table says run 1 ended"));
  CHECK(Contains(r.err, "no anchor pruned entries that recent"));
}

TEST_CASE("an honest prune of the purge log passes verify, with and without a checkpoint", "[audit][anchor-schedule]") {
  ScheduledLog log(300, 50);
  const fs::path cp = log.dir / "cp.json";
  REQUIRE(log.Retention({"audit", "checkpoint", "--out", cp.string()}).exit_code == 0);
  auto purge = log.Retention({"purge"});
  INFO(Describe(purge));
  REQUIRE(purge.exit_code == 0);
  REQUIRE(Db(log.state_db, true).Int("SELECT min(seq) FROM ledger") == 301);
  auto plain = log.Retention({"audit", "verify"});
  INFO(Describe(plain));
  CHECK(plain.exit_code == 0);
  CHECK(plain.err.find("warning") == std::string::npos);
  auto against = log.Retention({"audit", "verify", "--against", cp.string()});
  INFO(Describe(against));
  CHECK(against.exit_code == 0);
  // A checkpoint taken after it pins the same schedule and verifies too.
  REQUIRE(log.Retention({"audit", "checkpoint", "--out", cp.string()}).exit_code == 0);
  CHECK(log.Retention({"audit", "verify", "--against", cp.string()}).exit_code == 0);
  // A policy lengthened since: the old anchor is shorter than the rules now.
  WriteFile(log.dir / "rules" / "audit.toml",
            "[audit_security]\ndelete_after = \"24 months\"\n[[audit_security.target]]\nstore = \"purge-log\"\n");
  CHECK(log.Retention({"audit", "verify"}).exit_code == 78);
  auto accepted = log.Retention({"audit", "verify", "--accept-anchor-schedules"});
  CHECK(accepted.exit_code == 0);
  CHECK(Contains(accepted.err, "shorter than the rules' purge log schedule (delete after 24 months, UTC)"));
}

TEST_CASE("an evidence bundle of a pruned purge log names its anchor and verifies offline", "[audit][bundle]") {
  ScheduledLog log(300, 50);
  REQUIRE(log.Retention({"purge"}).exit_code == 0);
  REQUIRE(Db(log.state_db, true).Int("SELECT min(seq) FROM ledger") == 301);
  const fs::path bundle = log.dir / "bundle";
  auto exported = log.Retention({"audit", "export", "--bundle", bundle.string()});
  INFO(Describe(exported));
  REQUIRE(exported.exit_code == 0);

  // The manifest starts the range where the prune left off and names the
  // anchor entry that pruned 1..300, whose hash it chains from.
  Json manifest = Json::parse(ReadFile(bundle / "manifest.json"));
  CHECK(manifest["first_seq"] == 301);
  REQUIRE(manifest["anchor"].is_object());
  CHECK(manifest["anchor"]["from"] == 1);
  CHECK(manifest["anchor"]["through"] == 300);
  CHECK(manifest["anchor"]["through_hash"] == manifest["first_prev_hash"]);
  const int64_t anchor_seq = manifest["anchor"]["seq"].get<int64_t>();
  CHECK(anchor_seq > 350);
  CHECK(Db(log.state_db, true).Column("SELECT kind FROM ledger WHERE seq = " + std::to_string(anchor_seq)) ==
        std::vector<std::string>{"anchor"});

  // Verified with no state database and no config at all.
  const fs::path copy = log.dir / "elsewhere";
  fs::copy(bundle, copy);
  fs::rename(log.state_db, log.dir / "state.db.away");
  auto verified = RunWith("/nonexistent/retention.toml", {"audit", "verify", "--bundle", copy.string()});
  INFO(Describe(verified));
  CHECK(verified.exit_code == 0);

  // A manifest that claims another anchor entry, or a longer prune, fails.
  for (const char* member : {"seq", "through"}) {
    Json forged = manifest;
    forged["anchor"][member] = forged["anchor"][member].get<int64_t>() + 1;
    const fs::path edited = log.dir / (std::string("edited-") + member);
    fs::copy(bundle, edited);
    WriteFile(edited / "manifest.json", forged.dump());
    auto r = RunWith("/nonexistent/retention.toml", {"audit", "verify", "--bundle", edited.string()});
    INFO(member << ": " << Describe(r));
    CHECK(r.exit_code == 78);
    CHECK(Contains(r.err + r.out, "anchor"));
  }
}

TEST_CASE("checkpoint formats 1 and 2 still verify, and format 3 signs its pinned schedule", "[audit][anchor-schedule]") {
  LedgerFixture f(200);
  const fs::path cp = f.dir / "cp.json", priv = f.dir / "key.pem", pub = f.dir / "pub.pem";
  MakeKeyPair(priv, pub);
  REQUIRE(f.Retention({"audit", "checkpoint", "--out", cp.string(), "--sign-key", priv.string()}).exit_code == 0);
  const std::string v3 = ReadFile(cp);
  CHECK(f.Retention({"audit", "verify", "--against", cp.string(), "--verify-key", pub.string()}).exit_code == 0);
  auto parsed = audit::ParseCheckpoint(v3, "cp");
  REQUIRE(parsed.ok());
  REQUIRE(parsed->schedule);
  CHECK(!parsed->schedule->prunes());
  CHECK(Contains(parsed->SignedMessage(), "\npurge_log_delete_after=none\n"));

  // The pin is signed: changing it breaks the signature.
  Json j = Json::parse(v3);
  j["purge_log_schedule"]["delete_after"] = "1 hour";
  WriteFile(cp, j.dump());
  CHECK(f.Retention({"audit", "verify", "--against", cp.string(), "--verify-key", pub.string()}).exit_code == 78);

  // The same head as a format 2 checkpoint, signed as format 2 signs.
  audit::Checkpoint v2 = *parsed;
  v2.format = audit::kCheckpointFormatV2;
  v2.schedule.reset();
  v2.rules_hash.clear();
  REQUIRE(audit::SignCheckpoint(priv, &v2).ok());
  const std::string v2_text = v2.ToJson();
  CHECK(!Contains(v2_text, "purge_log_schedule"));
  WriteFile(cp, v2_text);
  auto r2 = f.Retention({"audit", "verify", "--against", cp.string(), "--verify-key", pub.string()});
  INFO(Describe(r2));
  CHECK(r2.exit_code == 0);
  auto reparsed = audit::ParseCheckpoint(v2_text, "cp");
  REQUIRE(reparsed.ok());
  CHECK(!reparsed->pin());
  // Format 1, unsigned.
  Json v1 = {{"format", "retention-checkpoint/1"}, {"seq", v2.seq}, {"hash", v2.hash}, {"time", v2.time}};
  WriteFile(cp, v1.dump());
  CHECK(f.Retention({"audit", "verify", "--against", cp.string()}).exit_code == 0);
  // A format 3 file without its pin is refused as malformed.
  j.erase("purge_log_schedule");
  CHECK(!audit::ParseCheckpoint(j.dump(), "cp").ok());
}

TEST_CASE("anchor schedules compare soundly across units", "[audit][anchor-schedule]") {
  AnchorInLedger a;
  a.seq = 7;
  a.at = FromUnixMicros(1767225600LL * 1000000);  // 2026-01-01
  a.anchor.from = 1;
  a.anchor.through = 5;
  a.anchor.cutoff = FromUnixMicros(1735689600LL * 1000000);  // 2025-01-01: 12 months before
  audit::PurgeLogSchedule policy;
  policy.delete_after = CalendarDuration{12, DurationUnit::kMonths};
  a.anchor.delete_after = {12, DurationUnit::kMonths};
  CHECK(audit::AnchorShorterThan(a, policy, "the rules'") == "");
  a.anchor.delete_after = {1, DurationUnit::kYears};
  CHECK(audit::AnchorShorterThan(a, policy, "the rules'") == "");
  a.anchor.delete_after = {365, DurationUnit::kDays};  // shorter than 12 months in a leap year
  CHECK(audit::AnchorShorterThan(a, policy, "the rules'") != "");
  a.anchor.delete_after = {8800, DurationUnit::kHours};
  CHECK(audit::AnchorShorterThan(a, policy, "the rules'") != "");
  a.anchor.delete_after = {8800 + 48, DurationUnit::kHours};  // 31 * 12 days is 8928 hours
  CHECK(audit::AnchorShorterThan(a, policy, "the rules'") != "");
  a.anchor.delete_after = {13, DurationUnit::kMonths};
  CHECK(audit::AnchorShorterThan(a, policy, "the rules'") == "");
  // A floor longer than the anchor's schedule fails it too.
  policy.keep_at_least = CalendarDuration{14, DurationUnit::kMonths};
  CHECK(audit::AnchorShorterThan(a, policy, "the rules'") != "");
  // The right schedule with a cutoff later than it allows (another calendar).
  policy.keep_at_least.reset();
  a.anchor.delete_after = {12, DurationUnit::kMonths};
  a.anchor.cutoff = a.at - std::chrono::hours(24 * 300);
  CHECK(audit::AnchorShorterThan(a, policy, "the rules'") != "");
  // No schedule: any anchor is too short.
  CHECK(audit::AnchorShorterThan(a, audit::PurgeLogSchedule{}, "the rules'") != "");
}

}  // namespace
}  // namespace retention::audit_test
