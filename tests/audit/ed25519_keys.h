// A fresh Ed25519 key pair as PEM files, for the tests that sign and verify
// checkpoints and evidence bundles.
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdio>
#include <filesystem>

#include <catch2/catch.hpp>

namespace retention {

inline void MakeKeyPair(const std::filesystem::path& priv, const std::filesystem::path& pub) {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  REQUIRE(key != nullptr);
  FILE* f = std::fopen(priv.c_str(), "w");
  REQUIRE(PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1);
  std::fclose(f);
  f = std::fopen(pub.c_str(), "w");
  REQUIRE(PEM_write_PUBKEY(f, key) == 1);
  std::fclose(f);
  EVP_PKEY_free(key);
}

}  // namespace retention
