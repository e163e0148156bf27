#include "ledger/ledger_payloads.h"

#include <catch2/catch.hpp>

namespace retention {
namespace {

Timestamp At(int64_t seconds) { return FromUnixMicros(seconds * 1'000'000); }

Hold SampleHold() {
  Hold h;
  h.id = 3;
  h.matter = "Smith v. Acme";
  h.reason = "litigation";
  h.author = "alice";
  h.placed_at = At(1'700'000'000);
  h.expires_at = At(1'800'000'000);
  h.scope.category = "support_tickets";
  h.scope.subject_kind = "customer";
  h.scope.subject_id = "42";
  h.scope.clock_from = FromUnixMicros(1'600'000'000'000'001);
  return h;
}

// The bytes every version since schema version 1 has written for valid
// UTF-8: existing ledgers' hashes cover them, so they must never change.
// (A hold entry naming no host is the form written before hosts were.)
TEST_CASE("hold and run payloads keep the bytes written since schema version 1", "[ledger][payloads]") {
  CHECK(EncodeHoldPlaced(SampleHold(), "") ==
        R"({"author":"alice","expires_at":"2027-01-15T08:00:00Z","id":3,"matter":"Smith v. Acme",)"
        R"("placed_at":"2023-11-14T22:13:20Z","reason":"litigation","scope":{"category":"support_tickets",)"
        R"("clock_from":"2020-09-13T12:26:40.000001Z","subject_id":"42","subject_kind":"customer"}})");
  Hold bare;
  bare.id = 1;
  bare.placed_at = At(0);
  CHECK(EncodeHoldPlaced(bare, "") ==
        R"({"author":"","id":1,"matter":"","placed_at":"1970-01-01T00:00:00Z","reason":"","scope":{}})");
  CHECK(EncodeHoldReleased({3, "Smith v. Acme", "bob", "settled", At(1'750'000'000), ""}) ==
        R"({"by":"bob","id":3,"matter":"Smith v. Acme","reason":"settled","released_at":"2025-06-15T15:06:40Z"})");
  CHECK(EncodeRunStart({"ops", "h1", "1.2", "abc", "purge --yes", "2025-01-01T00:00:00Z", "2025-01-01T00:00:05Z"}) ==
        R"({"as_of":"2025-01-01T00:00:00Z","command":"purge --yes","host":"h1","rules_hash":"abc",)"
        R"("started_at":"2025-01-01T00:00:05Z","user":"ops","version":"1.2"})");
  RunEndPayload end;
  end.outcome = "ok";
  end.exit_code = 0;
  end.more = nlohmann::json::parse(R"({"deleted":5,"exit_code":9,"outcome":"x"})");
  CHECK(EncodeRunEnd(end) == R"({"deleted":5,"exit_code":0,"outcome":"ok"})");
  CHECK(EncodeRunEnd(RunCrashedPayload(At(1'750'000'000))) ==
        R"({"found_at":"2025-06-15T15:06:40Z","note":"the process ended without recording the end of this run",)"
        R"("outcome":"crashed"})");
}

TEST_CASE("hold payloads round trip, bytes that are not UTF-8 included", "[ledger][payloads]") {
  Hold h = SampleHold();
  h.matter = "caf\xe9 \xff";
  h.author = "\xc3\x28";
  h.scope.key = std::string("k\0\xfe", 3);
  h.scope.target = "t\xed\xa0\x80";  // a UTF-16 surrogate: not UTF-8
  h.scope.clock_until = At(1'650'000'000);
  const std::string detail = EncodeHoldPlaced(h, "web-\xff" "1");
  auto placed = DecodeHoldPlaced(detail);
  INFO(detail);
  REQUIRE(placed.ok());
  CHECK(placed->has_scope);
  CHECK(placed->host == "web-\xff" "1");
  const Hold& d = placed->hold;
  CHECK(d.id == h.id);
  CHECK(d.matter == h.matter);
  CHECK(d.reason == h.reason);
  CHECK(d.author == h.author);
  CHECK(d.placed_at == h.placed_at);
  CHECK(d.expires_at == h.expires_at);
  CHECK(d.scope.category == h.scope.category);
  CHECK(d.scope.target == h.scope.target);
  CHECK(d.scope.subject_kind == h.scope.subject_kind);
  CHECK(d.scope.subject_id == h.scope.subject_id);
  CHECK(d.scope.key == h.scope.key);
  CHECK(d.scope.clock_from == h.scope.clock_from);
  CHECK(d.scope.clock_until == h.scope.clock_until);
  CHECK(HoldIdOf(detail) == 3);
  // The terms the audit compares: the entry's and the row's agree.
  CHECK(HoldTermsOfEntry(detail) == HoldTerms(h));
  CHECK(HoldTerms(h) != HoldTermsWrittenBefore(h));

  const HoldReleasedPayload r{3, "caf\xe9", "b\xff", std::string("why\0not", 7), At(1'750'000'000), "db-2"};
  const std::string released = EncodeHoldReleased(r);
  auto back = DecodeHoldReleased(released);
  REQUIRE(back.ok());
  CHECK(back->id == r.id);
  CHECK(back->matter == r.matter);
  CHECK(back->by == r.by);
  CHECK(back->reason == r.reason);
  CHECK(back->released_at == r.released_at);
  CHECK(back->host == "db-2");
  CHECK(HoldIdOf(released) == 3);
}

TEST_CASE("hold entries name the host that placed or released the hold", "[ledger][payloads]") {
  CHECK(EncodeHoldPlaced(SampleHold(), "web-1") ==
        R"({"author":"alice","expires_at":"2027-01-15T08:00:00Z","host":"web-1","id":3,"matter":"Smith v. Acme",)"
        R"("placed_at":"2023-11-14T22:13:20Z","reason":"litigation","scope":{"category":"support_tickets",)"
        R"("clock_from":"2020-09-13T12:26:40.000001Z","subject_id":"42","subject_kind":"customer"}})");
  CHECK(EncodeHoldReleased({3, "Smith v. Acme", "bob", "settled", At(1'750'000'000), "db-2"}) ==
        R"({"by":"bob","host":"db-2","id":3,"matter":"Smith v. Acme","reason":"settled",)"
        R"("released_at":"2025-06-15T15:06:40Z"})");
  // The host is not part of what a hold keeps: the audit's comparison of
  // the holds table with the entry is the same with or without it.
  CHECK(HoldTermsOfEntry(EncodeHoldPlaced(SampleHold(), "web-1")) == HoldTerms(SampleHold()));
  // An entry written before hosts were named decodes with none.
  auto old = DecodeHoldPlaced(EncodeHoldPlaced(SampleHold(), ""));
  REQUIRE(old.ok());
  CHECK(old->host.empty());
  // A host that is not text is a damaged entry, not a hold on no host.
  CHECK_FALSE(DecodeHoldPlaced(R"({"author":"a","host":7,"id":1,"matter":"m","placed_at":"2023-11-14T22:13:20Z",)"
                               R"("reason":"","scope":{}})")
                  .ok());
  CHECK_FALSE(DecodeHoldReleased(R"({"by":"b","host":[],"id":1,"matter":"m","reason":"",)"
                                 R"("released_at":"2025-06-15T15:06:40Z"})")
                  .ok());
}

TEST_CASE("run payloads round trip, bytes that are not UTF-8 included", "[ledger][payloads]") {
  const RunStartPayload s{"\xff" "ops", "h1", "1.2", "abc", "purge --config /etc/r\xe9.toml", "2025-01-01T00:00:00Z",
                          "2025-01-01T00:00:05.5Z"};
  auto start = DecodeRunStart(EncodeRunStart(s));
  REQUIRE(start.ok());
  CHECK(start->user == s.user);
  CHECK(start->host == s.host);
  CHECK(start->version == s.version);
  CHECK(start->rules_hash == s.rules_hash);
  CHECK(start->command == s.command);
  CHECK(start->as_of == s.as_of);
  CHECK(start->started_at == s.started_at);

  RunEndPayload end;
  end.outcome = "failed";
  end.exit_code = 74;
  end.more = {{"error", "I/O error"}, {"deleted", 12}};
  auto e = DecodeRunEnd(EncodeRunEnd(end));
  REQUIRE(e.ok());
  CHECK(e->outcome == "failed");
  CHECK(e->exit_code == 74);
  CHECK(e->error() == "I/O error");
  CHECK(e->more == nlohmann::json{{"error", "I/O error"}, {"deleted", 12}});

  auto crashed = DecodeRunEnd(EncodeRunEnd(RunCrashedPayload(At(1'750'000'000))));
  REQUIRE(crashed.ok());
  CHECK(crashed->outcome == "crashed");
  CHECK_FALSE(crashed->exit_code);
  CHECK(crashed->more.at("found_at") == "2025-06-15T15:06:40Z");
}

TEST_CASE("payload decoding of old and damaged details", "[ledger][payloads]") {
  // Written before issue 12: a bad byte replaced by U+FFFD. Read as it is.
  auto legacy = DecodeHoldReleased(
      "{\"by\":\"b\xef\xbf\xbd\",\"id\":4,\"matter\":\"m\",\"reason\":\"r\",\"released_at\":\"2025-06-15T15:06:40Z\"}");
  REQUIRE(legacy.ok());
  CHECK(legacy->by == "b\xef\xbf\xbd");
  Hold h = SampleHold();
  h.scope.key = "k\xff";
  // The row holds the raw bytes; the old entry recorded them replaced.
  CHECK(HoldTermsWrittenBefore(h).find("k\xef\xbf\xbd") != std::string::npos);

  // An older hold_placed entry without a scope.
  auto no_scope = DecodeHoldPlaced(R"({"author":"a","id":2,"matter":"m","placed_at":"2025-01-01T00:00:00Z","reason":"r"})");
  REQUIRE(no_scope.ok());
  CHECK_FALSE(no_scope->has_scope);
  CHECK_FALSE(HoldTermsOfEntry(R"({"id":2})"));

  CHECK(DecodeHoldPlaced("not json").status().code() == StatusCode::kAuditFailed);
  CHECK(DecodeHoldPlaced(R"({"id":"3"})").status().code() == StatusCode::kAuditFailed);
  CHECK(DecodeHoldPlaced(R"({"author":"a","id":2,"matter":"m","placed_at":"yesterday","reason":"r"})")
            .status()
            .code() == StatusCode::kAuditFailed);
  CHECK(DecodeHoldReleased("[]").status().code() == StatusCode::kAuditFailed);
  CHECK(HoldIdOf("[]") == -1);
  CHECK(HoldIdOf(R"({"id":1.5})") == -1);

  // A run entry tells what it can: missing fields are empty, a value that
  // is not text is shown as its JSON.
  auto start = DecodeRunStart(R"({"user":"ops","host":7})");
  REQUIRE(start.ok());
  CHECK(start->user == "ops");
  CHECK(start->host == "7");
  CHECK(start->command.empty());
  CHECK(DecodeRunStart("").status().code() == StatusCode::kAuditFailed);
  auto end = DecodeRunEnd(R"({"outcome":"ok","exit_code":"zero"})");
  REQUIRE(end.ok());
  CHECK(end->outcome == "ok");
  CHECK_FALSE(end->exit_code);
}

}  // namespace
}  // namespace retention
