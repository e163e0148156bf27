// Evidence bundles (issue 17 item 3; audit/evidence_bundle.h, retention(8)
// audit export --bundle, audit verify --bundle): a bundle from a real run
// verifies on another machine's copy with the binary alone, an independent
// re-hash from the documented layout agrees with every entry, and every
// kind of tampering fails with 78 naming what.
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sstream>

#include "audit/ed25519_keys.h"
#include "audit/evidence_bundle.h"
#include "e2e/e2e_util.h"
#include "support/immutable_file.h"
#include "support/ledger_checker.h"
#include "util/json_text.h"

namespace retention::bundle_test {
namespace {

using namespace retention::e2e;
using Json = nlohmann::json;

// "SHA256:<hex>" of the raw public key in `pub`, computed here: the last
// 32 bytes of its DER SubjectPublicKeyInfo.
std::string Fingerprint(const fs::path& pub) {
  FILE* f = std::fopen(pub.c_str(), "r");
  REQUIRE(f != nullptr);
  EVP_PKEY* key = PEM_read_PUBKEY(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  REQUIRE(key != nullptr);
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(key, &der);
  REQUIRE(len > 32);
  const std::string raw(reinterpret_cast<const char*>(der) + len - 32, 32);
  OPENSSL_free(der);
  EVP_PKEY_free(key);
  return "SHA256:" + checker::Sha256Hex(raw);
}

// Standard base64, decoded here rather than by the engine.
std::string Unbase64(const std::string& s) {
  if (s.empty()) return "";
  std::string out(s.size() / 4 * 3 + 1, '\0');
  const int len = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  REQUIRE(len >= 0);
  size_t pad = 0;
  if (s.back() == '=') ++pad;
  if (s.size() > 1 && s[s.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(len) - pad);
  return out;
}

std::string TextOf(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  REQUIRE(v.is_object());
  return Unbase64(v["base64"].get<std::string>());
}

// A line of entries.jsonl as the independent checker's entry, read from
// the layout in the man page.
checker::Entry EntryOfLine(const Json& j) {
  checker::Entry e;
  e.seq = j["seq"].get<int64_t>();
  e.at = j["at"].get<int64_t>();
  e.kind = TextOf(j["kind"]);
  e.run_id = j["run_id"].get<int64_t>();
  e.category = TextOf(j["category"]);
  e.store = TextOf(j["store"]);
  e.target = TextOf(j["target"]);
  e.record_key = TextOf(j["record_key"]);
  e.clock = TextOf(j["clock"]);
  e.cutoff = TextOf(j["cutoff"]);
  e.rule = TextOf(j["rule"]);
  e.subject = TextOf(j["subject"]);
  e.batch = j["batch"].get<int64_t>();
  e.detail = TextOf(j["detail"]);
  e.payload = Unbase64(j["payload"].get<std::string>());
  e.prev_hash = TextOf(j["prev_hash"]);
  e.hash = TextOf(j["hash"]);
  return e;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

std::string Unlines(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

// The binary with `args`, with RETENTION_CONFIG naming a file that does not
// exist: what an auditor's machine has.
RunResult RunOffline(const std::vector<std::string>& args) {
  Spawned s = Spawn(args, {"RETENTION_CONFIG=/nonexistent/retention.toml"});
  return s.Finish();
}

// A demo after a purge under a hold, the hold's release and a second purge:
// run, batch (with kept candidates in a settlement), hold entries.
// The oldest rotated log is made immutable for the first purge, so that a
// batch's settlement keeps a candidate (undeletable), where the file system
// and the user allow it.
struct BundleDemo : DemoFixture {
  BundleDemo() : DemoFixture(2000) {
    Expect({"hold", "add", "--matter", "M-7", "--reason", "litigation", "--subject", "customer:3"});
    std::set<fs::path> rotated;
    for (const auto& f : fs::directory_iterator(root / "logs"))
      if (f.path().filename().string().rfind("access.log-", 0) == 0) rotated.insert(f.path());
    REQUIRE(!rotated.empty());
    stuck = std::make_unique<test_support::ImmutableFile>(*rotated.begin());
    immutable_ok = stuck->ok();
    Expect({"purge"});
    stuck.reset();
    Expect({"hold", "release", "1", "--reason", "settled", "--by", "counsel"});
    Expect({"purge"});
  }
  void Expect(std::vector<std::string> args) {
    RunResult r = Retention(args);
    INFO(Describe(r));
    REQUIRE(r.exit_code == 0);
  }
  bool can_keep() const { return immutable_ok; }
  std::unique_ptr<test_support::ImmutableFile> stuck;
  bool immutable_ok = false;
};

TEST_CASE("bundle: a bundle of a real run verifies offline on a copy, and an independent re-hash agrees",
          "[audit][bundle]") {
  BundleDemo demo;
  const fs::path priv = demo.dir / "key.pem", pub = demo.dir / "pub.pem", bundle = demo.dir / "bundle";
  MakeKeyPair(priv, pub);
  RunResult ex = demo.Retention({"audit", "export", "--bundle", bundle.string(), "--sign-key", priv.string()});
  INFO(Describe(ex));
  REQUIRE(ex.exit_code == 0);
  CHECK(Contains(ex.err, "written to " + bundle.string()));

  // On another machine: a copy, no state database, no config.
  TempDir elsewhere;
  const fs::path copy = elsewhere / "evidence";
  fs::copy(bundle, copy, fs::copy_options::recursive);
  fs::copy_file(pub, elsewhere / "pub.pem");
  const checker::State state = checker::ReadState(demo.state_db);
  REQUIRE(!state.ledger.empty());
  const checker::Entry& last = state.ledger.back();

  RunResult v = RunOffline({"audit", "verify", "--bundle", copy.string(), "--verify-key", (elsewhere / "pub.pem").string()});
  INFO(Describe(v));
  REQUIRE(v.exit_code == 0);
  CHECK(Contains(v.out, "Bundle OK: " + std::to_string(state.ledger.size()) + " entries, 1.." + std::to_string(last.seq)));
  CHECK(Contains(v.out, last.hash));
  CHECK(Contains(v.out, "signed by  " + Fingerprint(pub) + " (verified"));

  // The demo's own config, with its state database gone, reads nothing
  // either; JSON says the same.
  fs::rename(demo.state_db, demo.dir / "state.db.away");
  RunResult j = demo.Retention({"audit", "verify", "--bundle", copy.string(), "--format", "json"});
  fs::rename(demo.dir / "state.db.away", demo.state_db);
  INFO(Describe(j));
  REQUIRE(j.exit_code == 0);
  const Json report = Json::parse(j.out);
  CHECK(report["ok"] == true);
  CHECK(report["entries"] == static_cast<int64_t>(state.ledger.size()));
  CHECK(report["head_hash"] == last.hash);
  CHECK(report["signed"] == true);
  CHECK(report["signature_checked"] == false);
  CHECK(report["signed_by"] == Fingerprint(pub));
  CHECK(report["problems"].empty());

  // The independent checker: every line re-hashes to its hash, which is the
  // state's, and the chain holds from 64 zeros.
  const std::vector<std::string> lines = Lines(ReadFile(copy / "entries.jsonl"));
  REQUIRE(lines.size() == state.ledger.size());
  std::vector<checker::Entry> entries;
  std::set<std::string> kinds;
  bool kept_in_settlement = false;
  for (size_t i = 0; i < lines.size(); ++i) {
    checker::Entry e = EntryOfLine(Json::parse(lines[i]));
    INFO("line " << i + 1);
    CHECK(checker::EntryHash(e) == e.hash);
    CHECK(e.hash == state.ledger[i].hash);
    CHECK(e.seq == state.ledger[i].seq);
    kinds.insert(e.kind);
    if (e.detail.find("\"kept\"") != std::string::npos) kept_in_settlement = true;
    entries.push_back(std::move(e));
  }
  std::vector<std::string> problems;
  checker::CheckChain(entries, &problems);
  INFO(checker::Report(problems));
  CHECK(problems.empty());
  for (const char* k : {"run_start", "run_end", "batch", "hold_placed", "hold_released"}) {
    INFO(k);
    CHECK(kinds.count(k) == 1);
  }
  if (demo.can_keep()) {
    CHECK(kept_in_settlement);
  } else {
    WARN("cannot set the immutable flag here (not root, or no such flag on this file system): no kept candidate");
  }

  // The manifest, field by field, against what was computed here.
  const Json m = Json::parse(ReadFile(copy / "manifest.json"));
  CHECK(m["format"] == "retention-bundle/1");
  CHECK(m["count"] == static_cast<int64_t>(lines.size()));
  CHECK(m["first_seq"] == 1);
  CHECK(m["last_seq"] == last.seq);
  CHECK(m["first_prev_hash"] == std::string(64, '0'));
  CHECK(m["head_hash"] == last.hash);
  CHECK(m["files"]["entries.jsonl"]["sha256"] == checker::Sha256Hex(ReadFile(copy / "entries.jsonl")));
  CHECK(m["rules_hashes"].size() == 1);
  CHECK(m["anchor"].is_null());
}

TEST_CASE("bundle: verify fails with 78 naming what on every kind of tampering", "[audit][bundle]") {
  BundleDemo demo;
  const fs::path priv = demo.dir / "key.pem", pub = demo.dir / "pub.pem", priv2 = demo.dir / "key2.pem",
                 pub2 = demo.dir / "pub2.pem", bundle = demo.dir / "bundle";
  MakeKeyPair(priv, pub);
  MakeKeyPair(priv2, pub2);
  RunResult ex = demo.Retention({"audit", "export", "--bundle", bundle.string(), "--sign-key", priv.string()});
  INFO(Describe(ex));
  REQUIRE(ex.exit_code == 0);
  REQUIRE(RunOffline({"audit", "verify", "--bundle", bundle.string(), "--verify-key", pub.string()}).exit_code == 0);

  TempDir scratch;
  int copies = 0;
  auto fresh = [&]() {
    const fs::path p = scratch / ("b" + std::to_string(++copies));
    fs::copy(bundle, p, fs::copy_options::recursive);
    return p;
  };
  auto verify = [&](const fs::path& p, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"audit", "verify", "--bundle", p.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunOffline(args);
  };
  auto expect_78 = [&](const RunResult& r, const std::vector<std::string>& says) {
    INFO(Describe(r));
    CHECK(r.exit_code == 78);
    for (const std::string& s : says) {
      INFO("should say: " << s);
      CHECK(Contains(r.err, s));
    }
  };
  const std::vector<std::string> lines = Lines(ReadFile(bundle / "entries.jsonl"));
  // A batch entry in the middle, and its line number.
  size_t batch_line = 0;
  for (size_t i = lines.size() / 3; i < lines.size(); ++i)
    if (Json::parse(lines[i])["kind"] == "batch") {
      batch_line = i;
      break;
    }
  REQUIRE(batch_line > 0);
  const std::string batch_seq = std::to_string(Json::parse(lines[batch_line])["seq"].get<int64_t>());

  SECTION("an entry's record key edited") {
    const fs::path p = fresh();
    std::vector<std::string> edited = lines;
    Json j = Json::parse(edited[batch_line]);
    j["record_key"] = "4711";
    edited[batch_line] = j.dump();
    WriteFile(p / "entries.jsonl", Unlines(edited));
    expect_78(verify(p), {"entry " + batch_seq + " was modified", "entries.jsonl was changed after the bundle was written"});
  }
  SECTION("a byte of a batch payload edited") {
    const fs::path p = fresh();
    std::vector<std::string> edited = lines;
    Json j = Json::parse(edited[batch_line]);
    std::string payload = j["payload"].get<std::string>();
    REQUIRE(payload.size() > 8);
    payload[4] = payload[4] == 'A' ? 'B' : 'A';
    j["payload"] = payload;
    edited[batch_line] = j.dump();
    WriteFile(p / "entries.jsonl", Unlines(edited));
    expect_78(verify(p), {"entry " + batch_seq + " was modified"});
  }
  SECTION("a line of entries.jsonl removed") {
    const fs::path p = fresh();
    std::vector<std::string> edited = lines;
    edited.erase(edited.begin() + static_cast<long>(batch_line));
    WriteFile(p / "entries.jsonl", Unlines(edited));
    expect_78(verify(p), {"entry " + batch_seq + " is missing", "count is " + std::to_string(lines.size())});
  }
  SECTION("the last line cut short") {
    const fs::path p = fresh();
    std::string text = Unlines(lines);
    text.resize(text.size() - 40);
    WriteFile(p / "entries.jsonl", text);
    expect_78(verify(p), {"entries.jsonl line " + std::to_string(lines.size()), "cut short"});
  }
  SECTION("entries.jsonl removed") {
    const fs::path p = fresh();
    fs::remove(p / "entries.jsonl");
    expect_78(verify(p), {"entries.jsonl is missing"});
  }
  SECTION("manifest.json removed: an export that did not finish") {
    const fs::path p = fresh();
    fs::remove(p / "manifest.json");
    expect_78(verify(p), {"manifest.json is missing"});
  }
  SECTION("a file the manifest does not list") {
    const fs::path p = fresh();
    WriteFile(p / "notes.txt", "added later\n");
    expect_78(verify(p), {"notes.txt, which manifest.json does not list"});
  }
  SECTION("the manifest's count edited") {
    const fs::path p = fresh();
    Json m = Json::parse(ReadFile(p / "manifest.json"));
    m["count"] = m["count"].get<int64_t>() - 1;
    WriteFile(p / "manifest.json", m.dump(2) + "\n");
    expect_78(verify(p), {"manifest.json", "count"});
    // Signed: the signature no longer covers it either.
    expect_78(verify(p, {"--verify-key", pub.string()}), {"manifest.json's signature does not verify"});
  }
  SECTION("the manifest's head hash edited") {
    const fs::path p = fresh();
    Json m = Json::parse(ReadFile(p / "manifest.json"));
    const std::string real = m["head_hash"].get<std::string>();
    m["head_hash"] = std::string(64, 'a');
    WriteFile(p / "manifest.json", m.dump(2) + "\n");
    expect_78(verify(p), {"head_hash", real.substr(0, 16)});
  }
  SECTION("a signature by another key") {
    expect_78(verify(fresh(), {"--verify-key", pub2.string()}), {"manifest.json's signature does not verify with " + pub2.string()});
  }
  SECTION("the signature removed, a key given") {
    const fs::path p = fresh();
    fs::remove(p / "manifest.sig");
    expect_78(verify(p, {"--verify-key", pub.string()}), {"manifest.sig is missing", "not signed"});
    // Without a key, an unsigned bundle verifies and says so.
    RunResult r = verify(p);
    INFO(Describe(r));
    CHECK(r.exit_code == 0);
    CHECK(Contains(r.out, "not signed"));
  }
}

TEST_CASE("bundle: a range from --from-seq verifies from the hash before it", "[audit][bundle]") {
  BundleDemo demo;
  const fs::path bundle = demo.dir / "range";
  RunResult ex = demo.Retention({"audit", "export", "--bundle", bundle.string(), "--from-seq", "5", "--to-seq", "9"});
  INFO(Describe(ex));
  REQUIRE(ex.exit_code == 0);
  const checker::State state = checker::ReadState(demo.state_db);
  const Json m = Json::parse(ReadFile(bundle / "manifest.json"));
  CHECK(m["first_seq"] == 5);
  CHECK(m["last_seq"] == 9);
  CHECK(m["count"] == 5);
  CHECK(m["first_prev_hash"] == state.ledger[3].hash);
  CHECK(m["head_hash"] == state.ledger[8].hash);
  RunResult v = RunOffline({"audit", "verify", "--bundle", bundle.string()});
  INFO(Describe(v));
  CHECK(v.exit_code == 0);
  CHECK(Contains(v.out, "5..9"));
  CHECK(Contains(v.out, "(the hash of entry 4)"));
  // The manifest may not claim a start other than the entries'.
  Json edited = m;
  edited["first_prev_hash"] = state.ledger[2].hash;
  WriteFile(bundle / "manifest.json", edited.dump(2) + "\n");
  RunResult bad = RunOffline({"audit", "verify", "--bundle", bundle.string()});
  INFO(Describe(bad));
  CHECK(bad.exit_code == 78);
  CHECK(Contains(bad.err, "first_prev_hash"));
}

TEST_CASE("bundle: bad arguments and places are refused, nothing written", "[audit][bundle]") {
  BundleDemo demo;
  const fs::path full = demo.dir / "full";
  fs::create_directories(full);
  WriteFile(full / "keep.txt", "mine\n");
  RunResult r = demo.Retention({"audit", "export", "--bundle", full.string()});
  INFO(Describe(r));
  CHECK(r.exit_code == 64);
  CHECK(Contains(r.err, "not empty"));
  CHECK(std::distance(fs::directory_iterator(full), fs::directory_iterator()) == 1);
  CHECK(ReadFile(full / "keep.txt") == "mine\n");

  // Filters that would punch holes in the chain, a signing key without a
  // bundle, an empty range.
  const fs::path fresh = demo.dir / "fresh";
  CHECK(demo.Retention({"audit", "export", "--bundle", fresh.string(), "--kind", "batch"}).exit_code == 64);
  CHECK(demo.Retention({"audit", "export", "--sign-key", "x.pem"}).exit_code == 64);
  CHECK(demo.Retention({"audit", "export", "--bundle", fresh.string(), "--from-seq", "100000"}).exit_code == 64);
  CHECK(!fs::exists(fresh));
  // A private key that is not one: 65, and no bundle left behind.
  WriteFile(demo.dir / "bad.pem", "not a key\n");
  CHECK(demo.Retention({"audit", "export", "--bundle", fresh.string(), "--sign-key", (demo.dir / "bad.pem").string()})
            .exit_code == 65);
  CHECK(!fs::exists(fresh));

  // Verify: no such directory (69), not a directory (69), a key file that
  // is not a key (65), --against with --bundle (64).
  CHECK(RunOffline({"audit", "verify", "--bundle", (demo.dir / "nowhere").string()}).exit_code == 69);
  CHECK(RunOffline({"audit", "verify", "--bundle", (full / "keep.txt").string()}).exit_code == 69);
  REQUIRE(demo.Retention({"audit", "export", "--bundle", fresh.string()}).exit_code == 0);
  CHECK(RunOffline({"audit", "verify", "--bundle", fresh.string(), "--verify-key", (demo.dir / "bad.pem").string()})
            .exit_code == 65);
  CHECK(RunOffline({"audit", "verify", "--bundle", fresh.string(), "--against", "cp.json"}).exit_code == 64);
}

TEST_CASE("bundle: a line round-trips every hashed field, bytes that are not UTF-8 included", "[audit][bundle]") {
  LedgerEntry e;
  e.seq = 7;
  e.at = FromUnixMicros(1764000000123456);
  e.kind = LedgerKind::kBatch;
  e.run_id = 3;
  e.category = "request_logs";
  e.store = "files";
  e.target = std::string("bad\xff") + "name";
  e.cutoff = "2025-01-01T00:00:00Z";
  e.rule = "rules/x.toml:4";
  e.batch = 2;
  e.detail = R"({"settles":[]})";
  e.payload = std::string("\x01\x02\x00\xff", 4);
  e.prev_hash = std::string(64, '1');
  e.hash = std::string(64, '2');
  const std::string line = DumpJson(audit::BundleLine(e));
  auto back = audit::ParseBundleLine(line);
  REQUIRE(back.ok());
  CHECK(back->target == e.target);
  CHECK(back->payload == e.payload);
  CHECK(back->at == e.at);
  CHECK(ComputeEntryHash(*back) == ComputeEntryHash(e));
  Json j = Json::parse(line);
  j["extra"] = 1;
  CHECK(!audit::ParseBundleLine(j.dump()).ok());
  j.erase("extra");
  j["at_utc"] = "2020-01-01T00:00:00Z";
  auto bad = audit::ParseBundleLine(j.dump());
  REQUIRE(!bad.ok());
  CHECK(Contains(bad.status().message(), "at_utc"));
}

}  // namespace
}  // namespace retention::bundle_test
