#include "ledger/sha256.h"

#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>

namespace retention {
namespace {

// Fetched once: with OpenSSL 3 an explicit fetch avoids the implicit
// per-Init algorithm lookup that EVP_sha256() would cost.
const EVP_MD* Sha256Md() {
  static const EVP_MD* md = [] {
    EVP_MD* m = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return m != nullptr ? static_cast<const EVP_MD*>(m) : EVP_sha256();
  }();
  return md;
}

// The EVP calls below fail only on allocation failure or a broken OpenSSL
// installation; neither is an expected error a caller could handle, and a
// wrong hash would be worse than stopping.
[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "retention: OpenSSL SHA-256 failed in %s\n", what);
  std::abort();
}

}  // namespace

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (ctx_ == nullptr) Die("EVP_MD_CTX_new");
  Init();
}

Sha256::~Sha256() { EVP_MD_CTX_free(ctx_); }

void Sha256::Init() {
  if (EVP_DigestInit_ex2(ctx_, Sha256Md(), nullptr) != 1) Die("EVP_DigestInit_ex2");
}

void Sha256::Update(std::string_view data) {
  if (data.empty()) return;
  if (EVP_DigestUpdate(ctx_, data.data(), data.size()) != 1) Die("EVP_DigestUpdate");
}

Sha256::Digest Sha256::Final() {
  Digest out;
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx_, out.data(), &len) != 1 || len != kDigestSize) {
    Die("EVP_DigestFinal_ex");
  }
  Init();
  return out;
}

std::string Sha256::FinalHex() { return ToHex(Final()); }

std::string Sha256::ToHex(const Digest& digest) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(2 * kDigestSize, '0');
  for (size_t i = 0; i < kDigestSize; ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 0x0f];
  }
  return out;
}

std::string Sha256::HexOf(std::string_view data) {
  Sha256 h;
  h.Update(data);
  return h.FinalHex();
}

}  // namespace retention
