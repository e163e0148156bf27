#include "util/json_text.h"

#include <catch2/catch.hpp>

namespace retention {
namespace {

TEST_CASE("Base64 round-trips every byte value and refuses what is not base64", "[util][json]") {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (size_t n : {0u, 1u, 2u, 3u, 4u, 255u, 256u}) {
    const std::string bytes = all.substr(0, n);
    CHECK(Base64Decode(Base64Encode(bytes)) == bytes);
  }
  CHECK(Base64Encode("a\xff") == "Yf8=");
  for (const char* bad : {"Yf8", "Y=f8", "Yf8=Yf8=", "Y f8", "Yf=8"}) {
    INFO(bad);
    CHECK_FALSE(Base64Decode(bad).has_value());
  }
}

TEST_CASE("TextJson keeps any bytes and TextFromJson gives them back", "[util][json]") {
  for (std::string text : {std::string("plain"), std::string("bad\xff.log"), std::string("\xc0\x80"),
                           std::string("caf\xc3\xa9"), std::string("nul\0inside", 10)}) {
    const nlohmann::json j = TextJson(text);
    CHECK(TextFromJson(j) == text);
    CHECK(TextFromJson(nlohmann::json::parse(DumpJson(j))) == text);
  }
  CHECK(TextJson("bad\xff") == nlohmann::json{{"base64", "YmFk/w=="}});
  CHECK_FALSE(TextFromJson(nlohmann::json(42)).has_value());
  CHECK_FALSE(TextFromJson(nlohmann::json{{"base64", "!!"}}).has_value());
}

TEST_CASE("DumpJson never throws on text that is not UTF-8", "[util][json]") {
  const nlohmann::json j = {{"reason", "cannot delete bad\xff.log"}};
  CHECK_THROWS(j.dump());
  CHECK(DumpJson(j) == "{\"reason\":\"cannot delete bad\xef\xbf\xbd.log\"}");
}

}  // namespace
}  // namespace retention
