// JSON text that never aborts a command, and text that survives JSON
// exactly.
//
// nlohmann::json::dump() throws (type_error 316) on a string that is not
// valid UTF-8, and a file name, a record key or a clock read from a store
// may be any bytes: `plan --out` over a file named "bad\xff.log" used to
// abort. Every dump in this program goes through DumpJson; every text field
// that must come back byte for byte (a saved plan's keys, an audit export)
// goes through TextJson / TextFromJson.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace retention {

// Whether `s` is well-formed UTF-8 (no overlong forms, no surrogates,
// nothing past U+10FFFF).
bool IsValidUtf8(std::string_view s);

// Standard base64 with padding, and its inverse (nullopt: not base64).
std::string Base64Encode(std::string_view bytes);
std::optional<std::string> Base64Decode(std::string_view text);

// `bytes` as a JSON value that keeps them exactly: the string when valid
// UTF-8, else {"base64": "<standard base64 of the bytes>"}.
nlohmann::json TextJson(std::string_view bytes);
// The inverse of TextJson: the bytes of a string, or of a {"base64": ...}
// object; nullopt for anything else.
std::optional<std::string> TextFromJson(const nlohmann::json& value);

// Serializes `value` and never throws: a string that is not valid UTF-8 has
// each bad byte replaced by U+FFFD. For text read by people (ledger
// details, reports); lossless fields use TextJson before they get here.
std::string DumpJson(const nlohmann::json& value, int indent = -1);

}  // namespace retention
