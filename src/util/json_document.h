// The one JSON dialect of every `--format json` document (SPEC 5, issue 18).
//
// Whatever the command, a document:
//   - is one JSON object, printed whole (a stream is `jsonl`, offered where
//     documented);
//   - names its kind and version first thing a reader checks:
//     "format": "retention-<kind>/<version>", e.g. "retention-plan/1";
//   - omits an absent value: no member is ever null (a reader tests for
//     the member, not for null or "");
//   - writes every instant as RFC 3339 UTC with "Z" (FormatTimestamp), and
//     the same thing under the same name in every command: "as_of",
//     "records", "subject" as "kind:id", "store" and "target" apart,
//     "placed_by"/"released_by" for people, "key" for a record's key.
// retention(8), JSON OUTPUT, lists each document's members.
#pragma once

#include <iosfwd>
#include <string_view>

#include <nlohmann/json.hpp>

namespace retention {

// `body` as a document of `kind`: "format" set to "retention-<kind>/<version>",
// every null member removed at every depth (an array's null elements stay:
// a position can mean something).
nlohmann::json JsonDocument(std::string_view kind, nlohmann::json body, int version = 1);

// Writes JsonDocument(kind, body) to `out`, indented by 2, and a newline.
void PrintJsonDocument(std::ostream& out, std::string_view kind, nlohmann::json body, int version = 1);

// Removes null members of every object in `value`, at every depth.
void DropNullMembers(nlohmann::json* value);

}  // namespace retention
