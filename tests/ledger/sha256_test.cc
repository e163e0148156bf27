#include "ledger/sha256.h"

#include <catch2/catch.hpp>

namespace retention {
namespace {

TEST_CASE("Sha256 matches the FIPS 180-2 test vectors", "[ledger]") {
  CHECK(Sha256::HexOf("") ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(Sha256::HexOf("abc") ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(Sha256::HexOf("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST_CASE("Sha256 is incremental and reusable after Final", "[ledger]") {
  Sha256 h;
  h.Update("ab");
  h.Update("");
  h.Update("c");
  CHECK(h.FinalHex() == Sha256::HexOf("abc"));
  h.Update("abc");  // the same object, a new message
  CHECK(h.FinalHex() == Sha256::HexOf("abc"));
  CHECK(h.FinalHex() == Sha256::HexOf(""));
}

}  // namespace
}  // namespace retention
