#include "util/json_document.h"

#include <ostream>
#include <string>

#include "util/json_text.h"

namespace retention {

void DropNullMembers(nlohmann::json* value) {
  if (value->is_object()) {
    for (auto it = value->begin(); it != value->end();) {
      if (it->is_null()) {
        it = value->erase(it);
      } else {
        DropNullMembers(&*it);
        ++it;
      }
    }
  } else if (value->is_array()) {
    for (auto& element : *value) DropNullMembers(&element);
  }
}

nlohmann::json JsonDocument(std::string_view kind, nlohmann::json body, int version) {
  DropNullMembers(&body);
  body["format"] = "retention-" + std::string(kind) + "/" + std::to_string(version);
  return body;
}

void PrintJsonDocument(std::ostream& out, std::string_view kind, nlohmann::json body, int version) {
  out << DumpJson(JsonDocument(kind, std::move(body), version), 2) << "\n";
}

}  // namespace retention
