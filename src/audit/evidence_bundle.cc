#include "audit/evidence_bundle.h"

#include <algorithm>
#include <climits>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "audit/checkpoint.h"
#include "ledger/anchor.h"
#include "ledger/sha256.h"
#include "util/atomic_file.h"
#include "util/json_text.h"

namespace retention::audit {

namespace fs = std::filesystem;

namespace {

using Json = nlohmann::json;

const std::set<std::string>& LineMembers() {
  static const std::set<std::string> kMembers = {
      "seq",    "at",      "at_utc", "kind",    "run_id", "category", "store",  "target",    "record_key",
      "clock",  "cutoff",  "rule",   "subject", "batch",  "detail",   "payload", "prev_hash", "hash"};
  return kMembers;
}

bool IsHex64(const std::string& s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// The rules hash a run_start entry's detail names ("" when none).
std::string RulesHashOf(const LedgerEntry& e) {
  if (e.kind != LedgerKind::kRunStart) return "";
  const Json d = Json::parse(e.detail, nullptr, /*allow_exceptions=*/false);
  if (!d.is_object() || !d.contains("rules_hash") || !d["rules_hash"].is_string()) return "";
  return d["rules_hash"].get<std::string>();
}

void AddOnce(const std::string& value, std::vector<std::string>* values) {
  if (!value.empty() && std::find(values->begin(), values->end(), value) == values->end()) values->push_back(value);
}

std::string Abbrev(const std::string& hash) { return hash.size() > 16 ? hash.substr(0, 16) + "..." : hash; }

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : ", ") + s;
  return out.empty() ? "(none)" : out;
}

// Reads entries.jsonl as a ledger (ledger/ledger_reader.h), so that the
// engine's own verifier checks it, and notes what the manifest is compared
// with. Head() is what the manifest claims: the verifier checks the chain
// up to it.
class BundleReader final : public LedgerReader {
 public:
  BundleReader(fs::path file, LedgerHead head) : file_(std::move(file)), head_(std::move(head)) {}

  Status ScanLedger(int64_t from_seq, const std::function<bool(LedgerEntry&)>& visit) override {
    std::ifstream in(file_, std::ios::binary);
    if (!in) return Status::IoError("cannot read " + file_.string());
    std::string line;
    int64_t n = 0;
    while (std::getline(in, line)) {
      ++n;
      auto e = ParseBundleLine(line);
      if (!e.ok()) return Status::AuditFailed(std::string(kBundleEntries) + " line " + std::to_string(n) + ": " +
                                              e.status().message());
      if (e->seq < from_seq) continue;
      if (!first_) first_ = std::make_pair(e->seq, e->prev_hash);
      if (e->seq <= head_.seq) {
        AddOnce(RulesHashOf(*e), &rules_hashes_);
        if (e->kind == LedgerKind::kAnchor) anchors_[e->seq] = *e;
      }
      if (!visit(*e)) return Status::Ok();
    }
    if (in.bad()) return Status::IoError("cannot read " + file_.string());
    return Status::Ok();
  }

  Result<LedgerHead> Head() override { return head_; }

  // The first entry read: its seq and prev_hash.
  const std::optional<std::pair<int64_t, std::string>>& first() const { return first_; }
  const std::vector<std::string>& rules_hashes() const { return rules_hashes_; }
  const std::map<int64_t, LedgerEntry>& anchors() const { return anchors_; }

 private:
  fs::path file_;
  LedgerHead head_;
  std::optional<std::pair<int64_t, std::string>> first_;
  std::vector<std::string> rules_hashes_;
  std::map<int64_t, LedgerEntry> anchors_;
};

// One pass over a file: its size, SHA-256, lines and whether it ends with
// a newline.
struct FileFacts {
  int64_t bytes = 0;
  std::string sha256;
  int64_t lines = 0;
  bool ends_with_newline = true;
};

Result<FileFacts> ReadFacts(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Status::Unavailable("cannot read " + file.string());
  Sha256 sha;
  FileFacts f;
  char buf[1 << 16];
  char last = '\n';
  while (in) {
    in.read(buf, sizeof buf);
    const std::streamsize got = in.gcount();
    if (got <= 0) break;
    sha.Update(std::string_view(buf, static_cast<size_t>(got)));
    f.bytes += got;
    f.lines += std::count(buf, buf + got, '\n');
    last = buf[got - 1];
  }
  if (in.bad()) return Status::Unavailable("cannot read " + file.string());
  f.ends_with_newline = last == '\n';
  if (!f.ends_with_newline) ++f.lines;
  f.sha256 = sha.FinalHex();
  return f;
}

Result<std::string> ReadWhole(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Status::Unavailable("cannot read " + file.string());
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) return Status::Unavailable("cannot read " + file.string());
  return s.str();
}

// The manifest's members, read strictly: each problem names the member.
struct Manifest {
  int64_t count = 0, first_seq = 0, last_seq = 0;
  std::string first_prev_hash, head_hash, head_at, created_at, tool_version;
  std::vector<std::string> rules_hashes;
  std::map<std::string, std::pair<int64_t, std::string>> files;  // name -> (bytes, sha256)
  struct Anchor {
    int64_t seq = 0, from = 0, through = 0;
    std::string through_hash;
  };
  std::optional<Anchor> anchor;
};

Manifest ReadManifest(const Json& m, std::vector<std::string>* problems) {
  Manifest out;
  const std::string where = std::string(kBundleManifest) + ": ";
  auto bad = [&](const std::string& p) { problems->push_back(where + p); };
  auto integer = [&](const char* name, int64_t min, int64_t* v) {
    if (!m.contains(name) || !m[name].is_number_integer()) return bad("'" + std::string(name) + "' is not an integer");
    *v = m[name].get<int64_t>();
    if (*v < min) bad("'" + std::string(name) + "' is " + std::to_string(*v) + ", below " + std::to_string(min));
  };
  auto text = [&](const char* name, std::string* v) {
    if (!m.contains(name) || !m[name].is_string()) return bad("'" + std::string(name) + "' is not a string");
    *v = m[name].get<std::string>();
  };
  auto hash = [&](const char* name, std::string* v) {
    text(name, v);
    if (m.contains(name) && m[name].is_string() && !IsHex64(*v))
      bad("'" + std::string(name) + "' is not 64 lowercase hex digits");
  };
  if (!m.contains("format") || m["format"] != kBundleFormat) {
    bad("'format' is not \"" + std::string(kBundleFormat) + "\"");
    return out;
  }
  integer("count", 1, &out.count);
  integer("first_seq", 1, &out.first_seq);
  integer("last_seq", 1, &out.last_seq);
  hash("first_prev_hash", &out.first_prev_hash);
  hash("head_hash", &out.head_hash);
  text("head_at", &out.head_at);
  text("created_at", &out.created_at);
  text("tool_version", &out.tool_version);
  if (!m.contains("rules_hashes") || !m["rules_hashes"].is_array()) {
    bad("'rules_hashes' is not an array");
  } else {
    for (const Json& h : m["rules_hashes"]) {
      if (!h.is_string()) {
        bad("'rules_hashes' holds something that is not a string");
        break;
      }
      out.rules_hashes.push_back(h.get<std::string>());
    }
  }
  if (!m.contains("files") || !m["files"].is_object()) {
    bad("'files' is not an object");
  } else {
    for (const auto& [name, f] : m["files"].items()) {
      if (!f.is_object() || !f.contains("bytes") || !f["bytes"].is_number_integer() || !f.contains("sha256") ||
          !f["sha256"].is_string() || !IsHex64(f["sha256"].get<std::string>())) {
        bad("'files' member '" + name + "' is not {\"bytes\": N, \"sha256\": \"<64 hex>\"}");
        continue;
      }
      out.files[name] = {f["bytes"].get<int64_t>(), f["sha256"].get<std::string>()};
    }
  }
  if (m.contains("anchor") && !m["anchor"].is_null()) {
    const Json& a = m["anchor"];
    if (!a.is_object() || !a.contains("seq") || !a["seq"].is_number_integer() || !a.contains("from") ||
        !a["from"].is_number_integer() || !a.contains("through") || !a["through"].is_number_integer() ||
        !a.contains("through_hash") || !a["through_hash"].is_string()) {
      bad("'anchor' is neither null nor {\"seq\", \"from\", \"through\", \"through_hash\", ...}");
    } else {
      out.anchor = Manifest::Anchor{a["seq"].get<int64_t>(), a["from"].get<int64_t>(), a["through"].get<int64_t>(),
                                    a["through_hash"].get<std::string>()};
    }
  }
  return out;
}

// The chain of entries.jsonl, by the ledger's verifier, and what it must
// agree on with the manifest.
void CheckEntries(const fs::path& file, const Manifest& m, Timestamp now, BundleVerification* v) {
  auto problem = [&](std::string p) { v->problems.push_back(std::move(p)); };
  const std::string entries = kBundleEntries, manifest = kBundleManifest;
  BundleReader reader(file, LedgerHead{m.last_seq, m.head_hash, std::nullopt});
  auto report = VerifyLedgerTail(reader, m.last_seq - m.first_seq + 1, now);
  if (!report.ok()) {
    problem("cannot read " + entries + ": " + report.status().message());
    return;
  }
  const VerifyReport& r = *report;
  v->records = r.records;
  v->open_batches = r.open_batches;
  if (reader.first() && reader.first()->first != m.first_seq)
    problem(entries + " starts at entry " + std::to_string(reader.first()->first) + ", but " + manifest +
            "'s first_seq is " + std::to_string(m.first_seq));
  if (!r.ok) {
    // The tail check's own words for a chain that stops short of the head.
    if (r.problem.rfind("the ledger's head is entry", 0) == 0) {
      problem(entries + " ends at entry " + std::to_string(r.head_seq) + ", but " + manifest + "'s last_seq is " +
              std::to_string(m.last_seq) + ": entries are missing from its end");
    } else {
      problem(r.problem.rfind(entries, 0) == 0 ? r.problem : entries + ": " + r.problem);
    }
    return;
  }
  if (reader.first() && reader.first()->second != m.first_prev_hash)
    problem(entries + ": entry " + std::to_string(reader.first()->first) + "'s prev_hash is " +
            Abbrev(reader.first()->second) + ", but " + manifest + "'s first_prev_hash is " +
            Abbrev(m.first_prev_hash));
  if (r.head_hash != m.head_hash)
    problem(manifest + "'s head_hash is " + Abbrev(m.head_hash) + ", but the chain of " + entries +
            " ends at entry " + std::to_string(r.head_seq) + " with hash " + Abbrev(r.head_hash));
  const std::string head_at = r.head_at ? FormatTimestamp(*r.head_at) : "";
  if (head_at != m.head_at)
    problem(manifest + "'s head_at is " + m.head_at + ", but entry " + std::to_string(r.head_seq) + " of " +
            entries + " was written " + head_at);
  if (reader.rules_hashes() != m.rules_hashes)
    problem(manifest + "'s rules_hashes (" + Join(m.rules_hashes) + ") are not those the run_start entries of " +
            entries + " name (" + Join(reader.rules_hashes()) + ")");
  if (m.anchor) {
    const Manifest::Anchor& a = *m.anchor;
    if (a.through + 1 != m.first_seq || a.through_hash != m.first_prev_hash)
      problem(manifest + "'s anchor (entries " + std::to_string(a.from) + " to " + std::to_string(a.through) +
              " pruned, ending with hash " + Abbrev(a.through_hash) + ") does not account for the entries before " +
              std::to_string(m.first_seq) + ", whose chain starts after " + Abbrev(m.first_prev_hash));
    if (a.seq >= m.first_seq && a.seq <= m.last_seq) {
      auto it = reader.anchors().find(a.seq);
      auto read = it == reader.anchors().end() ? Result<LedgerAnchor>(Status::AuditFailed("no anchor entry"))
                                               : ReadAnchor(it->second);
      if (!read.ok() || read->from != a.from || read->through != a.through || read->through_hash != a.through_hash)
        problem(manifest + "'s anchor names entry " + std::to_string(a.seq) + ", but entry " + std::to_string(a.seq) +
                " of " + entries + " is not that anchor");
    }
    v->has_anchor = true;
    v->anchor_seq = a.seq;
    v->anchor_through = a.through;
  }
}

}  // namespace

Json BundleLine(const LedgerEntry& e) {
  return Json{{"seq", e.seq},
              {"at", ToUnixMicros(e.at)},
              {"at_utc", FormatTimestamp(e.at)},
              {"kind", TextJson(LedgerKindName(e.kind))},
              {"run_id", e.run_id},
              {"category", TextJson(e.category)},
              {"store", TextJson(e.store)},
              {"target", TextJson(e.target)},
              {"record_key", TextJson(e.record_key)},
              {"clock", TextJson(e.clock)},
              {"cutoff", TextJson(e.cutoff)},
              {"rule", TextJson(e.rule)},
              {"subject", TextJson(e.subject)},
              {"batch", e.batch},
              {"detail", TextJson(e.detail)},
              {"payload", Base64Encode(e.payload)},
              {"prev_hash", TextJson(e.prev_hash)},
              {"hash", TextJson(e.hash)}};
}

Result<LedgerEntry> ParseBundleLine(const std::string& line) {
  const Json j = Json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Status::AuditFailed("not a JSON object (cut short or edited)");
  for (const auto& [name, value] : j.items())
    if (!LineMembers().count(name)) return Status::AuditFailed("unknown member '" + name + "'");
  for (const std::string& name : LineMembers())
    if (!j.contains(name)) return Status::AuditFailed("member '" + name + "' is missing");
  LedgerEntry e;
  for (auto [name, field] : {std::pair{"seq", &e.seq}, std::pair{"run_id", &e.run_id}, std::pair{"batch", &e.batch}}) {
    if (!j[name].is_number_integer()) return Status::AuditFailed("member '" + std::string(name) + "' is not an integer");
    *field = j[name].get<int64_t>();
  }
  if (!j["at"].is_number_integer()) return Status::AuditFailed("member 'at' is not an integer");
  e.at = FromUnixMicros(j["at"].get<int64_t>());
  if (!j["at_utc"].is_string() || j["at_utc"].get<std::string>() != FormatTimestamp(e.at))
    return Status::AuditFailed("member 'at_utc' is not 'at' (" + FormatTimestamp(e.at) + ")");
  std::string kind;
  for (auto [name, field] :
       {std::pair{"kind", &kind}, std::pair{"category", &e.category}, std::pair{"store", &e.store},
        std::pair{"target", &e.target}, std::pair{"record_key", &e.record_key}, std::pair{"clock", &e.clock},
        std::pair{"cutoff", &e.cutoff}, std::pair{"rule", &e.rule}, std::pair{"subject", &e.subject},
        std::pair{"detail", &e.detail}, std::pair{"prev_hash", &e.prev_hash}, std::pair{"hash", &e.hash}}) {
    auto text = TextFromJson(j[name]);
    if (!text)
      return Status::AuditFailed("member '" + std::string(name) + "' is neither a string nor {\"base64\": ...}");
    *field = std::move(*text);
  }
  auto k = LedgerKindFromName(kind);
  if (!k) return Status::AuditFailed("member 'kind' is '" + kind + "', which is no kind of ledger entry");
  e.kind = *k;
  auto payload = j["payload"].is_string() ? Base64Decode(j["payload"].get<std::string>()) : std::nullopt;
  if (!payload) return Status::AuditFailed("member 'payload' is not a base64 string");
  e.payload = std::move(*payload);
  return e;
}

Result<BundleSummary> WriteEvidenceBundle(LedgerReader& ledger, const VerifyReport& verified,
                                          const BundleWriteOptions& opt) {
  std::vector<fs::path> written;
  auto write = [&]() -> Result<BundleSummary> {
    const fs::path entries_path = opt.dir / kBundleEntries;
    auto file = AtomicFile::Create(entries_path);
    if (!file.ok()) return file.status();
    std::ostream& out = (*file)->out();
    Sha256 sha;
    BundleSummary s;
    int64_t bytes = 0;
    std::string head_at, line;
    std::vector<std::string> rules_hashes;
    const int64_t last = std::min(opt.range.to_seq.value_or(INT64_MAX), verified.head_seq);
    bool started = false;
    RETENTION_RETURN_IF_ERROR(ledger.ScanLedger(std::max<int64_t>(1, opt.range.from_seq.value_or(1)), [&](LedgerEntry& e) {
      if (e.seq > last) return false;
      if (!started) {
        if (opt.range.since && e.at < *opt.range.since) return true;
        started = true;
      }
      if (opt.range.until && e.at >= *opt.range.until) return false;
      line = DumpJson(BundleLine(e));
      line += '\n';
      out << line;
      sha.Update(line);
      bytes += static_cast<int64_t>(line.size());
      if (s.count == 0) {
        s.first_seq = e.seq;
        s.first_prev_hash = e.prev_hash;
      }
      ++s.count;
      s.last_seq = e.seq;
      s.head_hash = e.hash;
      head_at = FormatTimestamp(e.at);
      AddOnce(RulesHashOf(e), &rules_hashes);
      return static_cast<bool>(out);
    }));
    if (s.count == 0) return Status::Usage("the range chosen holds no ledger entries: no bundle written");
    out.flush();
    if (!out) return Status::IoError("cannot write " + (*file)->tmp_path().string());
    written.push_back(entries_path);
    RETENTION_RETURN_IF_ERROR((*file)->Commit());

    Json anchor = nullptr;
    if (verified.anchor && s.first_seq == verified.first_seq && verified.anchor->through + 1 == s.first_seq) {
      const LedgerAnchor& a = *verified.anchor;
      anchor = {{"seq", verified.anchor_seq},
                {"from", a.from},
                {"through", a.through},
                {"through_hash", a.through_hash},
                {"cutoff", FormatTimestamp(a.cutoff)}};
    }
    const Json manifest = {{"format", kBundleFormat},
                           {"tool", "retention"},
                           {"tool_version", RETENTION_VERSION},
                           {"created_at", FormatTimestamp(opt.created_at)},
                           {"count", s.count},
                           {"first_seq", s.first_seq},
                           {"last_seq", s.last_seq},
                           {"first_prev_hash", s.first_prev_hash},
                           {"head_hash", s.head_hash},
                           {"head_at", head_at},
                           {"rules_hashes", rules_hashes},
                           {"files", {{kBundleEntries, {{"bytes", bytes}, {"sha256", sha.FinalHex()}}}}},
                           {"anchor", anchor}};
    const std::string text = DumpJson(manifest, 2) + "\n";
    if (opt.sign_key) {
      auto sig = SignEd25519(*opt.sign_key, text);
      if (!sig.ok()) return sig.status();
      const Json j = {{"algorithm", "Ed25519"}, {"public_key", sig->public_key}, {"signature", sig->signature}};
      written.push_back(opt.dir / kBundleSignature);
      RETENTION_RETURN_IF_ERROR(WriteFileAtomically(opt.dir / kBundleSignature, DumpJson(j, 2) + "\n"));
      s.signed_by = KeyFingerprint(Base64Decode(sig->public_key).value_or(""));
    }
    // Last: a bundle is complete once its manifest is there.
    written.push_back(opt.dir / kBundleManifest);
    RETENTION_RETURN_IF_ERROR(WriteFileAtomically(opt.dir / kBundleManifest, text));
    return s;
  };
  Result<BundleSummary> r = write();
  if (!r.ok()) {
    std::error_code ec;
    for (const fs::path& p : written) fs::remove(p, ec);
  }
  return r;
}

Result<BundleVerification> VerifyEvidenceBundle(const fs::path& dir, const std::optional<fs::path>& verify_key,
                                                Timestamp now) {
  std::error_code ec;
  const fs::file_status st = fs::status(dir, ec);
  if (!fs::exists(st)) return Status::Unavailable("bundle directory " + dir.string() + " does not exist");
  if (!fs::is_directory(st)) return Status::Unavailable(dir.string() + " is not a directory (a bundle is one)");
  std::set<std::string> names;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    names.insert(it->path().filename().string());
  if (ec) return Status::Unavailable("cannot read the bundle directory " + dir.string() + ": " + ec.message());
  std::string key_fingerprint;
  if (verify_key) {
    // A bad key file is the caller's mistake, whatever the bundle holds.
    auto fp = KeyFingerprintOfFile(*verify_key);
    if (!fp.ok()) return fp.status();
    key_fingerprint = *fp;
  }

  BundleVerification v;
  auto problem = [&](std::string p) { v.problems.push_back(std::move(p)); };
  auto finish = [&]() {
    v.ok = v.problems.empty();
    return v;
  };
  const std::string manifest_name = kBundleManifest, sig_name = kBundleSignature, entries_name = kBundleEntries;
  if (!names.count(manifest_name)) {
    problem(manifest_name + " is missing: not a bundle, or an export that did not finish");
    return finish();
  }
  auto manifest_bytes = ReadWhole(dir / manifest_name);
  if (!manifest_bytes.ok()) return manifest_bytes.status();
  const Json mj = Json::parse(*manifest_bytes, nullptr, /*allow_exceptions=*/false);
  if (mj.is_discarded() || !mj.is_object()) {
    problem(manifest_name + " is not a JSON object");
    return finish();
  }
  const Manifest m = ReadManifest(mj, &v.problems);
  if (!v.problems.empty()) return finish();
  v.count = m.count;
  v.first_seq = m.first_seq;
  v.last_seq = m.last_seq;
  v.first_prev_hash = m.first_prev_hash;
  v.head_hash = m.head_hash;
  v.head_at = m.head_at;
  v.created_at = m.created_at;
  v.tool_version = m.tool_version;
  v.rules_hashes = m.rules_hashes;

  // The signature: over the manifest's bytes, which vouch for the rest.
  std::optional<std::string> signature;
  if (names.count(sig_name)) {
    v.is_signed = true;
    auto sig_bytes = ReadWhole(dir / sig_name);
    if (!sig_bytes.ok()) return sig_bytes.status();
    const Json sj = Json::parse(*sig_bytes, nullptr, /*allow_exceptions=*/false);
    if (!sj.is_object() || sj.value("algorithm", Json()) != "Ed25519" || !sj.contains("signature") ||
        !sj["signature"].is_string() || !sj.contains("public_key") || !sj["public_key"].is_string()) {
      problem(sig_name + " is not {\"algorithm\": \"Ed25519\", \"public_key\": ..., \"signature\": ...}");
    } else {
      signature = sj["signature"].get<std::string>();
      if (auto raw = Base64Decode(sj["public_key"].get<std::string>())) v.signed_by = KeyFingerprint(*raw);
    }
  }
  if (verify_key) {
    if (!v.is_signed) {
      problem(sig_name + " is missing: the bundle is not signed, but --verify-key was given");
    } else if (signature) {
      Status s = VerifyEd25519(*verify_key, *manifest_bytes, *signature, manifest_name);
      if (s.ok()) {
        v.signature_checked = true;
        v.signed_by = key_fingerprint;
      } else if (s.code() == StatusCode::kAuditFailed) {
        problem(s.message());
      } else {
        return s;
      }
    }
  }

  // The files: those the manifest lists, with their sizes and hashes, and
  // nothing else.
  for (const std::string& name : names)
    if (name != manifest_name && name != sig_name && !m.files.count(name))
      problem(dir.string() + " holds " + name + ", which " + manifest_name + " does not list");
  if (!m.files.count(entries_name)) problem(manifest_name + " does not list " + entries_name);
  std::optional<FileFacts> entries_facts;
  for (const auto& [name, expected] : m.files) {
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos || name == manifest_name ||
        name == sig_name) {
      problem(manifest_name + " lists '" + name + "', which cannot be a file of the bundle");
      continue;
    }
    if (!names.count(name)) {
      problem(name + " is missing: " + manifest_name + " lists it");
      continue;
    }
    auto facts = ReadFacts(dir / name);
    if (!facts.ok()) return facts.status();
    if (facts->sha256 != expected.second || facts->bytes != expected.first)
      problem(name + " was changed after the bundle was written: its SHA-256 is " + Abbrev(facts->sha256) + " (" +
              std::to_string(facts->bytes) + " bytes), " + manifest_name + " says " + Abbrev(expected.second) + " (" +
              std::to_string(expected.first) + " bytes)");
    if (name == entries_name) entries_facts = *facts;
  }

  // The entries: the chain, and the manifest's account of it.
  if (m.last_seq != m.first_seq + m.count - 1)
    problem(manifest_name + ": first_seq " + std::to_string(m.first_seq) + ", last_seq " + std::to_string(m.last_seq) +
            " and count " + std::to_string(m.count) + " do not agree");
  if (entries_facts) {
    if (!entries_facts->ends_with_newline)
      problem(entries_name + ": its last line (" + std::to_string(entries_facts->lines) +
              ") has no newline at its end: the file was cut short");
    if (entries_facts->lines != m.count)
      problem(manifest_name + "'s count is " + std::to_string(m.count) + ", but " + entries_name + " has " +
              std::to_string(entries_facts->lines) + " lines");
    if (m.last_seq >= m.first_seq) CheckEntries(dir / entries_name, m, now, &v);
  }
  return finish();
}

}  // namespace retention::audit
