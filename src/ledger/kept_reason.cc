#include "ledger/kept_reason.h"

#include <nlohmann/json.hpp>

#include "util/json_text.h"

namespace retention {

namespace {

constexpr KeptWhy kAll[] = {KeptWhy::kGone,    KeptWhy::kFilters,       KeptWhy::kUndated, KeptWhy::kNotDue,
                            KeptWhy::kHeld,    KeptWhy::kHeldElsewhere, KeptWhy::kFloor,   KeptWhy::kBehind,
                            KeptWhy::kChanged, KeptWhy::kUndeletable,   KeptWhy::kLocked,  KeptWhy::kNotDeleted};

}  // namespace

const char* KeptWhyName(KeptWhy why) {
  switch (why) {
    case KeptWhy::kGone: return "gone";
    case KeptWhy::kFilters: return "filters";
    case KeptWhy::kUndated: return "undated";
    case KeptWhy::kNotDue: return "not_due";
    case KeptWhy::kHeld: return "held";
    case KeptWhy::kHeldElsewhere: return "held_elsewhere";
    case KeptWhy::kFloor: return "floor";
    case KeptWhy::kBehind: return "behind";
    case KeptWhy::kChanged: return "changed";
    case KeptWhy::kUndeletable: return "undeletable";
    case KeptWhy::kLocked: return "locked";
    case KeptWhy::kNotDeleted: return "not_deleted";
  }
  return "changed";
}

std::optional<KeptWhy> KeptWhyFromName(const std::string& name) {
  for (KeptWhy why : kAll)
    if (name == KeptWhyName(why)) return why;
  return std::nullopt;
}

// "held_elsewhere" counts too: before codes, its words ("held under an
// overlapping rule, ...") were counted as a hold, and mostly it is one.
bool KeptByHold(KeptWhy why) { return why == KeptWhy::kHeld || why == KeptWhy::kHeldElsewhere; }

std::string KeptDetail(const KeptReason& reason) {
  nlohmann::json j{{"why", KeptWhyName(reason.why)}, {"reason", reason.words}};
  if (reason.skip) j["skip"] = *reason.skip;
  if (reason.hold_id) j["hold"] = *reason.hold_id;
  return DumpJson(j);
}

std::optional<ParsedKeptDetail> ParseKeptDetail(const std::string& detail) {
  auto j = nlohmann::json::parse(detail, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  ParsedKeptDetail out;
  if (auto it = j.find("why"); it != j.end() && it->is_string()) out.why = KeptWhyFromName(it->get<std::string>());
  if (auto it = j.find("reason"); it != j.end() && it->is_string()) out.words = it->get<std::string>();
  if (auto it = j.find("skip"); it != j.end() && it->is_string()) out.skip = it->get<std::string>();
  if (auto it = j.find("hold"); it != j.end() && it->is_number_integer()) out.hold_id = it->get<int64_t>();
  return out;
}

}  // namespace retention
