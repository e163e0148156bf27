// SHA-256 over OpenSSL's EVP interface, incremental and reusable.
//
// One object keeps its EVP context across digests: FinalHex() leaves it
// ready for the next message, so hashing a million ledger entries costs a
// million digests, not a million context allocations or algorithm fetches.
// Not thread-safe; use one object per thread.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace retention {

class Sha256 {
 public:
  static constexpr size_t kDigestSize = 32;
  using Digest = std::array<uint8_t, kDigestSize>;

  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(std::string_view data);
  // The digest of everything passed to Update since the last Final*; the
  // object then starts a new message.
  Digest Final();
  std::string FinalHex();

  // One-shot helpers.
  static std::string HexOf(std::string_view data);
  static std::string ToHex(const Digest& digest);

 private:
  void Init();
  evp_md_ctx_st* ctx_;
};

}  // namespace retention
