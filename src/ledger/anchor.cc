#include "ledger/anchor.h"

#include <nlohmann/json.hpp>

#include "calendar/clock_value.h"
#include "calendar/cutoff.h"
#include "util/json_text.h"

namespace retention {

void WriteAnchor(const LedgerAnchor& anchor, LedgerEntry* entry) {
  entry->kind = LedgerKind::kAnchor;
  entry->store = kPurgeLogStore;
  entry->record_key.clear();
  entry->clock = FormatTimestamp(anchor.through_at);
  entry->cutoff = FormatTimestamp(anchor.cutoff);
  // nlohmann::json objects keep their keys sorted: the compact dump is the
  // ledger's canonical detail form.
  entry->detail = DumpJson(nlohmann::json{{"from", anchor.from},
                                          {"through", anchor.through},
                                          {"through_hash", anchor.through_hash},
                                          {"delete_after", anchor.delete_after.ToString()},
                                          {"time_zone", anchor.time_zone}});
}

Result<LedgerAnchor> ReadAnchor(const LedgerEntry& entry) {
  const std::string where = "anchor entry " + std::to_string(entry.seq);
  auto bad = [&](const std::string& what) { return Status::AuditFailed(where + " is malformed: " + what); };
  if (entry.kind != LedgerKind::kAnchor) return bad("it is not an anchor");
  const auto detail = nlohmann::json::parse(entry.detail, nullptr, /*allow_exceptions=*/false);
  if (!detail.is_object()) return bad("its detail is not a JSON object");
  LedgerAnchor a;
  for (auto [key, out] : {std::pair{"from", &a.from}, std::pair{"through", &a.through}}) {
    auto it = detail.find(key);
    if (it == detail.end() || !it->is_number_integer()) return bad(std::string("detail.") + key + " is not an integer");
    *out = it->get<int64_t>();
  }
  for (auto [key, out] : {std::pair{"through_hash", &a.through_hash}, std::pair{"time_zone", &a.time_zone}}) {
    auto it = detail.find(key);
    if (it == detail.end() || !it->is_string()) return bad(std::string("detail.") + key + " is not a string");
    *out = it->get<std::string>();
  }
  auto after = detail.find("delete_after");
  if (after == detail.end() || !after->is_string()) return bad("detail.delete_after is not a string");
  auto duration = ParseDuration(after->get<std::string>());
  if (!duration.ok()) return bad("detail.delete_after: " + duration.status().message());
  a.delete_after = *duration;
  const TimeZone utc = TimeZone::Utc();
  auto through_at = ParseClockText(entry.clock, utc);
  if (!through_at) return bad("its clock '" + entry.clock + "' is not a time");
  a.through_at = *through_at;
  auto cutoff = ParseClockText(entry.cutoff, utc);
  if (!cutoff) return bad("its cutoff '" + entry.cutoff + "' is not a time");
  a.cutoff = *cutoff;
  return a;
}

std::string CheckAnchor(const LedgerEntry& entry, const LedgerAnchor& a) {
  const std::string n = std::to_string(entry.seq);
  if (a.from < 1 || a.through < a.from)
    return "anchor entry " + n + " names an impossible range " + std::to_string(a.from) + ".." +
           std::to_string(a.through);
  if (a.through >= entry.seq)
    return "anchor entry " + n + " claims to prune entries up to " + std::to_string(a.through) +
           ", which are not older than the anchor itself";
  if (a.through_hash.size() != 64 || a.through_hash.find_first_not_of("0123456789abcdef") != std::string::npos)
    return "anchor entry " + n + " has a through_hash that is not 64 lowercase hex digits";
  if (!IsDue(a.through_at, a.cutoff))
    return "anchor entry " + n + " pruned entry " + std::to_string(a.through) + " of " +
           FormatTimestamp(a.through_at) + ", which is not older than its cutoff " + FormatTimestamp(a.cutoff);
  auto zone = TimeZone::Load(a.time_zone);
  if (!zone.ok()) return "anchor entry " + n + " names an unknown time zone '" + a.time_zone + "'";
  const Timestamp latest = ComputeCutoff(entry.at, a.delete_after, *zone);
  if (a.cutoff > latest)
    return "anchor entry " + n + " applied the cutoff " + FormatTimestamp(a.cutoff) + ", later than its own schedule (" +
           a.delete_after.ToString() + " before " + FormatTimestamp(entry.at) + " is " + FormatTimestamp(latest) +
           "): it claims entries younger than their retention";
  return "";
}

}  // namespace retention
