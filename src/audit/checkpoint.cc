#include "audit/checkpoint.h"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

#include "calendar/clock_value.h"
#include "calendar/cutoff.h"
#include "ledger/sha256.h"
#include "util/json_text.h"

namespace retention::audit {

namespace {

using Json = nlohmann::json;

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

std::string Base64(const unsigned char* p, size_t n) {
  std::string out(4 * ((n + 2) / 3) + 1, '\0');
  const int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), p, static_cast<int>(n));
  out.resize(static_cast<size_t>(len));
  return out;
}

std::optional<std::string> Unbase64(const std::string& s) {
  if (s.empty() || s.size() % 4 != 0) return std::nullopt;
  std::string out(s.size() / 4 * 3 + 1, '\0');
  const int len = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  if (len < 0) return std::nullopt;
  size_t pad = 0;
  if (s.size() >= 1 && s[s.size() - 1] == '=') ++pad;
  if (s.size() >= 2 && s[s.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(len) - pad);
  return out;
}

Result<Pkey> ReadKey(const std::filesystem::path& file, bool private_key) {
  FILE* f = std::fopen(file.c_str(), "r");
  if (f == nullptr) return Status::Invalid("cannot read key file " + file.string());
  EVP_PKEY* k = private_key ? PEM_read_PrivateKey(f, nullptr, nullptr, nullptr)
                            : PEM_read_PUBKEY(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  if (k == nullptr) {
    return Status::Invalid("key file " + file.string() + " does not hold a PEM " +
                           (private_key ? "private" : "public") + " key");
  }
  Pkey key(k);
  if (EVP_PKEY_id(k) != EVP_PKEY_ED25519)
    return Status::Invalid("key file " + file.string() + " is not an Ed25519 key");
  return key;
}

}  // namespace

LedgerCheckpoint Checkpoint::head() const {
  return LedgerCheckpoint{seq, hash, head_at.empty() ? std::nullopt : ParseClockText(head_at, TimeZone::Utc())};
}

std::optional<PinnedSchedule> Checkpoint::pin() const {
  if (!schedule) return std::nullopt;
  PinnedSchedule p;
  p.schedule = *schedule;
  p.checkpoint_seq = seq;
  if (!time.empty()) p.taken_at = ParseClockText(time, TimeZone::Utc());
  return p;
}

namespace {

std::string DeleteAfterText(const PurgeLogSchedule& s) {
  return s.delete_after ? s.delete_after->ToString() : "none";
}
std::string KeepAtLeastText(const PurgeLogSchedule& s) {
  return s.keep_at_least ? s.keep_at_least->ToString() : "";
}

}  // namespace

std::string Checkpoint::SignedMessage() const {
  std::string m = format + "\n" + std::to_string(seq) + "\n" + hash + "\n";
  if (format != kCheckpointFormatV1) m += head_at + "\n";
  m += time + "\n";
  if (format == kCheckpointFormat) {
    const PurgeLogSchedule s = schedule.value_or(PurgeLogSchedule{});
    m += "purge_log_delete_after=" + DeleteAfterText(s) + "\n";
    m += "purge_log_keep_at_least=" + KeepAtLeastText(s) + "\n";
    m += "purge_log_time_zone=" + s.time_zone + "\n";
    m += "rules_hash=" + rules_hash + "\n";
  }
  return m;
}

std::string Checkpoint::ToJson() const {
  Json j = {{"format", format}, {"seq", seq}, {"hash", hash}, {"time", time}};
  if (format != kCheckpointFormatV1) j["head_at"] = head_at;
  if (format == kCheckpointFormat) {
    const PurgeLogSchedule s = schedule.value_or(PurgeLogSchedule{});
    j["purge_log_schedule"] = {
        {"delete_after", DeleteAfterText(s)}, {"keep_at_least", KeepAtLeastText(s)}, {"time_zone", s.time_zone}};
    j["rules_hash"] = rules_hash;
  }
  if (!signature.empty()) j["signature"] = signature;
  if (!public_key.empty()) j["public_key"] = public_key;
  return DumpJson(j, 2) + "\n";
}

Result<Checkpoint> ParseCheckpoint(const std::string& text, const std::string& source) {
  Json j = Json::parse(text, nullptr, false);
  auto bad = [&](const std::string& why) { return Status::Invalid("checkpoint " + source + ": " + why); };
  if (!j.is_object()) return bad("not a JSON object");
  Checkpoint cp;
  const char* seq_key = j.contains("seq") ? "seq" : "head_seq";
  const char* hash_key = j.contains("hash") ? "hash" : "head_hash";
  if (!j.contains(seq_key) || !j[seq_key].is_number_integer()) return bad("no integer 'seq'");
  if (!j.contains(hash_key) || !j[hash_key].is_string()) return bad("no string 'hash'");
  cp.seq = j[seq_key].get<int64_t>();
  cp.hash = j[hash_key].get<std::string>();
  if (cp.seq < 0) return bad("'seq' is negative");
  if (cp.hash.size() != 64 || cp.hash.find_first_not_of("0123456789abcdef") != std::string::npos)
    return bad("'hash' is not 64 lowercase hex digits");
  // `audit verify --format json` output: a head, pinning no schedule
  // (before the one JSON dialect, that document had no "format").
  const bool verify_output = !j.contains("format") || j["format"] == "retention-verify/1";
  if (!verify_output) {
    if (j["format"] != kCheckpointFormat && j["format"] != kCheckpointFormatV2 && j["format"] != kCheckpointFormatV1)
      return bad("unknown format " + DumpJson(j["format"]));
    cp.format = j["format"].get<std::string>();
  } else {
    cp.format = kCheckpointFormatV2;
  }
  if (j.contains("head_at") && j["head_at"].is_string()) {
    cp.head_at = j["head_at"].get<std::string>();
    if (!cp.head_at.empty() && !ParseClockText(cp.head_at, TimeZone::Utc())) return bad("'head_at' is not a time");
  } else if (cp.format != kCheckpointFormatV1 && !verify_output) {
    return bad("no string 'head_at'");
  }
  if (j.contains("time") && j["time"].is_string()) cp.time = j["time"].get<std::string>();
  if (cp.format == kCheckpointFormat) {
    // The pin is what format 3 is for: all of it, or the file is refused.
    if (cp.time.empty() || !ParseClockText(cp.time, TimeZone::Utc())) return bad("'time' is not a time");
    auto it = j.find("purge_log_schedule");
    if (it == j.end() || !it->is_object()) return bad("no object 'purge_log_schedule'");
    PurgeLogSchedule s;
    for (const char* key : {"delete_after", "keep_at_least", "time_zone"})
      if (!it->contains(key) || !(*it)[key].is_string()) return bad("'purge_log_schedule." + std::string(key) + "' is not a string");
    const std::string after = (*it)["delete_after"].get<std::string>();
    const std::string floor = (*it)["keep_at_least"].get<std::string>();
    if (after != "none") {
      auto d = ParseDuration(after);
      if (!d.ok()) return bad("'purge_log_schedule.delete_after': " + d.status().message());
      s.delete_after = *d;
    }
    if (!floor.empty()) {
      auto d = ParseDuration(floor);
      if (!d.ok()) return bad("'purge_log_schedule.keep_at_least': " + d.status().message());
      s.keep_at_least = *d;
    }
    s.time_zone = (*it)["time_zone"].get<std::string>();
    if (!TimeZone::Load(s.time_zone).ok()) return bad("'purge_log_schedule.time_zone' '" + s.time_zone + "' is not a known time zone");
    cp.schedule = s;
    if (!j.contains("rules_hash") || !j["rules_hash"].is_string()) return bad("no string 'rules_hash'");
    cp.rules_hash = j["rules_hash"].get<std::string>();
  }
  if (j.contains("signature") && j["signature"].is_string()) cp.signature = j["signature"].get<std::string>();
  if (j.contains("public_key") && j["public_key"].is_string()) cp.public_key = j["public_key"].get<std::string>();
  return cp;
}

Result<Checkpoint> ReadCheckpointFile(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Status::Invalid("cannot read checkpoint file " + file.string());
  std::ostringstream s;
  s << in.rdbuf();
  return ParseCheckpoint(s.str(), file.string());
}

Result<Ed25519Signature> SignEd25519(const std::filesystem::path& key_pem, std::string_view message) {
  auto key = ReadKey(key_pem, /*private_key=*/true);
  if (!key.ok()) return key.status();
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  unsigned char sig[64];
  size_t sig_len = sizeof sig;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key->get()) != 1 ||
      EVP_DigestSign(ctx.get(), sig, &sig_len, reinterpret_cast<const unsigned char*>(message.data()),
                     message.size()) != 1)
    return Status::Internal("Ed25519 signing failed");
  Ed25519Signature out;
  out.signature = Base64(sig, sig_len);
  unsigned char pub[32];
  size_t pub_len = sizeof pub;
  if (EVP_PKEY_get_raw_public_key(key->get(), pub, &pub_len) == 1) out.public_key = Base64(pub, pub_len);
  return out;
}

Status VerifyEd25519(const std::filesystem::path& key_pem, std::string_view message, const std::string& signature,
                     const std::string& what) {
  auto key = ReadKey(key_pem, /*private_key=*/false);
  if (!key.ok()) return key.status();
  auto sig = Unbase64(signature);
  if (!sig) return Status::AuditFailed(what + "'s signature is not valid base64");
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key->get()) != 1)
    return Status::Internal("Ed25519 verification could not start");
  if (EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig->data()), sig->size(),
                       reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1)
    return Status::AuditFailed(what + "'s signature does not verify with " + key_pem.string() + ": " + what +
                               " was altered or signed with another key");
  return Status::Ok();
}

std::string KeyFingerprint(std::string_view raw_public_key) { return "SHA256:" + Sha256::HexOf(raw_public_key); }

Result<std::string> KeyFingerprintOfFile(const std::filesystem::path& key_pem) {
  auto key = ReadKey(key_pem, /*private_key=*/false);
  if (!key.ok()) return key.status();
  unsigned char pub[32];
  size_t pub_len = sizeof pub;
  if (EVP_PKEY_get_raw_public_key(key->get(), pub, &pub_len) != 1)
    return Status::Invalid("key file " + key_pem.string() + ": cannot read its raw public key");
  return KeyFingerprint(std::string_view(reinterpret_cast<const char*>(pub), pub_len));
}

Status SignCheckpoint(const std::filesystem::path& key_pem, Checkpoint* cp) {
  auto signed_ = SignEd25519(key_pem, cp->SignedMessage());
  if (!signed_.ok()) return signed_.status();
  cp->signature = std::move(signed_->signature);
  cp->public_key = std::move(signed_->public_key);
  return Status::Ok();
}

Status VerifyCheckpointSignature(const std::filesystem::path& key_pem, const Checkpoint& cp) {
  // The key file first: a bad one is the caller's mistake (Invalid), whatever
  // the checkpoint holds.
  auto key = ReadKey(key_pem, /*private_key=*/false);
  if (!key.ok()) return key.status();
  if (cp.signature.empty()) return Status::AuditFailed("the checkpoint is not signed, but --verify-key was given");
  return VerifyEd25519(key_pem, cp.SignedMessage(), cp.signature, "the checkpoint");
}

}  // namespace retention::audit
