#include "erase/erasure_receipt.h"

#include <algorithm>
#include <cstdio>
#include <iomanip>
#include <set>
#include <sstream>
#include <vector>

#include <date/date.h>
#include <date/tz.h>

#include "util/json_document.h"
#include "util/text_columns.h"

namespace retention {
namespace {

using std::chrono::microseconds;
using std::chrono::seconds;
using Days = std::chrono::days;
using LocalDays = std::chrono::local_days;

// ComputeCutoff answers kNothingDueCutoff for a `now` outside these years;
// FirstDueAt searches only inside them (with a margin for its window).
constexpr int64_t kMaxYear = 29900;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

bool InCalendar(int64_t year) { return year > -kMaxYear && year < kMaxYear; }

int64_t YearOf(LocalDays d) {
  return static_cast<int>(std::chrono::year_month_day(std::chrono::sys_days(d.time_since_epoch())).year());
}

// `day` moved forward by `months` calendar months, the day clamped to the
// target month's end; nullopt outside the calendar.
std::optional<LocalDays> AddMonths(LocalDays day, int64_t months) {
  const std::chrono::year_month_day ymd{std::chrono::sys_days(day.time_since_epoch())};
  const int64_t total = int64_t{static_cast<int>(ymd.year())} * 12 + (static_cast<unsigned>(ymd.month()) - 1) + months;
  const int64_t year = FloorDiv(total, 12);
  if (!InCalendar(year)) return std::nullopt;
  const std::chrono::year_month ym(std::chrono::year{static_cast<int>(year)},
                                   std::chrono::month{static_cast<unsigned>(total - year * 12 + 1)});
  const std::chrono::day last = (ym / std::chrono::last).day();
  return LocalDays{std::chrono::sys_days{ym / std::min(ymd.day(), last)}.time_since_epoch()};
}

// `day` moved forward by `d` (days, weeks, months or years).
std::optional<LocalDays> AddCalendar(LocalDays day, const CalendarDuration& d) {
  switch (d.unit) {
    case DurationUnit::kDays: return day + Days{d.amount};
    case DurationUnit::kWeeks: return day + Days{d.amount * 7};
    case DurationUnit::kMonths: return AddMonths(day, d.amount);
    case DurationUnit::kYears: return AddMonths(day, d.amount * 12);
    default: return std::nullopt;
  }
}

Timestamp CeilSecond(Timestamp t) {
  const Timestamp floor = std::chrono::floor<seconds>(t);
  return floor == t ? t : floor + seconds{1};
}

}  // namespace

// How the answer is found, and why it is the FIRST due instant.
//
// Seconds, minutes, hours: ComputeCutoff(t) = t - d, so t is due exactly
// when t > clock + d; the first whole second is floor(clock + d) + 1s.
//
// Days, weeks, months, years: ComputeCutoff(t) = E(X(t)), where X(t) is the
// local date of t moved back (clamped for months) with t's local time of
// day kept, and E reads a local time as an instant, the earlier one in a
// gap or overlap. E is non-decreasing except where X enters a gap (it falls
// back by the gap's length); X(t) is non-decreasing in t except at a local
// midnight (month clamping: 03-28 23:59 -> 02-28 23:59, then 03-29 00:00 ->
// 02-28 00:00) and where t's zone offset changes (fall-back). So between
// consecutive "split points" - every local midnight, every offset change,
// and every instant whose local time of day is that of a gap's start near
// the clock - the cutoff is non-decreasing and "due" is false then true.
// The search walks the segments from a lower bound L, tests each
// segment's last second, and bisects the first segment where it is due.
//
// The bounds (offsets differ by at most 26 hours within a zone; every UTC
// offset is within +-15 hours):
//  - L: let c be the clock's local date and D0 = c - 3 days moved forward by
//    the duration. Any t < L = D0 - 1 day (read as UTC) has a local date
//    D < D0, so X(t) < (c - 3 days) + 1 day <= local(clock) - 2 days (moving
//    back is monotone in the date, and clamping only moves earlier), and
//    E(X) <= X - min offset < local(clock) - max offset <= clock: not due.
//  - H: let D1 = c + 3 days moved forward (days, weeks), or the first day of
//    the month after the one c + 3 days moved forward falls in (months,
//    years: clamping can lose up to 3 days, the next month's first cannot).
//    Any t >= H = D1 + 1 day has a local date >= D1, so X(t) >= c + 2 days
//    >= local(clock) + 1 day and E(X) >= X - max offset > clock: due.
// So the answer lies in [L, H], a window of at most about 40 days.
Timestamp FirstDueAt(Timestamp clock, const CalendarDuration& duration, const TimeZone& zone) {
  if (duration.amount < 0 || duration.amount > kMaxDurationAmount) return kNeverDue;
  if (clock < Timestamp(std::chrono::sys_days{std::chrono::year{-kMaxYear} / 1 / 1}) ||
      clock >= Timestamp(std::chrono::sys_days{std::chrono::year{kMaxYear} / 1 / 1}))
    return kNeverDue;
  const auto clock_day = std::chrono::floor<Days>(zone.ToLocal(clock));
  if (!InCalendar(YearOf(clock_day))) return kNeverDue;
  auto due = [&](Timestamp t) { return ComputeCutoff(t, duration, zone) > clock; };

  if (duration.unit == DurationUnit::kHours || duration.unit == DurationUnit::kMinutes ||
      duration.unit == DurationUnit::kSeconds) {
    const int64_t unit = duration.unit == DurationUnit::kHours     ? 3600
                         : duration.unit == DurationUnit::kMinutes ? 60
                                                                   : 1;
    const Timestamp t = std::chrono::floor<seconds>(clock + seconds{duration.amount * unit}) + seconds{1};
    return due(t) ? t : kNeverDue;
  }

  const auto d0 = AddCalendar(clock_day - Days{3}, duration);
  auto d1 = AddCalendar(clock_day + Days{3}, duration);
  if (!d0 || !d1) return kNeverDue;
  if (duration.unit == DurationUnit::kMonths || duration.unit == DurationUnit::kYears) {
    const std::chrono::year_month_day ymd{std::chrono::sys_days(d1->time_since_epoch())};
    const std::chrono::year_month next = std::chrono::year_month(ymd.year(), ymd.month()) + std::chrono::months{1};
    d1 = LocalDays{std::chrono::sys_days{next / 1}.time_since_epoch()};
  }
  if (!InCalendar(YearOf(*d1) + 1)) return kNeverDue;
  const Timestamp low(std::chrono::sys_days((*d0 - Days{1}).time_since_epoch()));
  const Timestamp high(std::chrono::sys_days((*d1 + Days{1}).time_since_epoch()));

  // The split points inside (low, high).
  std::vector<Timestamp> points;
  auto add_local = [&](TimeZone::LocalTime local) {
    const TimeZone::Readings r = zone.Resolve(local);
    points.push_back(r.earlier);
    points.push_back(r.later);
  };
  std::set<int64_t> gap_times;  // local times of day (seconds) at which a gap starts
  if (const date::time_zone* tz = zone.zone(); tz != nullptr) {
    // Offset changes while t walks the window ...
    for (date::sys_seconds at = std::chrono::floor<seconds>(low); at < high;) {
      const date::sys_info info = tz->get_info(at);
      if (info.end >= high || info.end <= at) break;
      points.push_back(Timestamp(info.end));
      at = info.end;
    }
    // ... and gaps X(t) may meet: X stays within c - 3 days .. D1 - the
    // duration + 1 day, i.e. within the clock's local date -3 .. +40 days.
    const date::sys_seconds from = std::chrono::floor<seconds>(clock) - Days{5};
    const date::sys_seconds to = std::chrono::floor<seconds>(clock) + Days{45};
    for (date::sys_seconds at = from; at < to;) {
      const date::sys_info info = tz->get_info(at);
      if (info.end >= to || info.end <= at) break;
      const date::sys_info after = tz->get_info(info.end);
      if (after.offset > info.offset) {
        const int64_t local = (info.end + info.offset).time_since_epoch().count();
        gap_times.insert(local - FloorDiv(local, 86400) * 86400);
      }
      at = info.end;
    }
  }
  const LocalDays first_day = std::chrono::floor<Days>(zone.ToLocal(low)) - Days{1};
  const LocalDays last_day = std::chrono::floor<Days>(zone.ToLocal(high)) + Days{1};
  for (LocalDays day = first_day; day <= last_day; day += Days{1}) {
    const TimeZone::LocalTime midnight(day.time_since_epoch());
    add_local(midnight);
    for (int64_t s : gap_times) add_local(midnight + seconds{s});
  }
  points.push_back(high + seconds{1});
  std::sort(points.begin(), points.end());
  points.erase(std::unique(points.begin(), points.end()), points.end());

  Timestamp start = low;
  for (Timestamp end : points) {
    if (end <= start) continue;
    // Whole seconds in [start, end): due is false then true over them.
    Timestamp lo = CeilSecond(start);
    Timestamp hi = CeilSecond(end) - seconds{1};
    start = end;
    if (hi < lo || !due(hi)) continue;
    while (lo < hi) {
      const Timestamp mid = lo + std::chrono::floor<seconds>((hi - lo) / 2);
      if (due(mid)) {
        hi = mid;
      } else {
        lo = mid + seconds{1};
      }
    }
    return lo;
  }
  return high;  // unreachable by the bound above: due from `high` on
}

Result<ReceiptFormat> ParseReceiptFormat(const std::string& name) {
  if (name == "table") return ReceiptFormat::kTable;
  if (name == "json") return ReceiptFormat::kJson;
  if (name == "md") return ReceiptFormat::kMarkdown;
  return Status::Invalid("unknown receipt format \"" + name + "\" (expected table, json or md)");
}

namespace {

// The zone the schedule computes its cutoffs and floors in: purge's
// MakeSelections (plan/selection.cc) uses the configured time_zone for
// every target; a store's own time_zone only reads its naive clocks.
TimeZone ScheduleZone(const Config& config) {
  auto zone = TimeZone::Load(config.time_zone);
  return zone.ok() ? *zone : TimeZone::Utc();
}

const Category* FindCategory(const RuleSet& rules, const std::string& name) {
  for (const Category& c : rules.categories)
    if (c.name == name) return &c;
  return nullptr;
}

std::string TwoDigits(unsigned v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02u", v % 100);
  return buf;
}

// "2033-05-08" and "00:00:01", the local calendar date and time of `t`.
std::string LocalDate(Timestamp t, const TimeZone& zone) {
  const auto local = zone.ToLocal(t);
  const std::chrono::year_month_day ymd{std::chrono::sys_days(std::chrono::floor<Days>(local).time_since_epoch())};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return buf;
}

std::string LocalClockTime(Timestamp t, const TimeZone& zone) {
  const auto local = zone.ToLocal(t);
  const int64_t s = std::chrono::floor<seconds>(local - std::chrono::floor<Days>(local)).count();
  return TwoDigits(static_cast<unsigned>(s / 3600)) + ":" + TwoDigits(static_cast<unsigned>(s / 60 % 60)) + ":" +
         TwoDigits(static_cast<unsigned>(s % 60));
}

// A date as the JSON carries it: the instant (RFC 3339, UTC) and the local
// date and time in the zone it was computed in. null: never.
nlohmann::json DateJson(Timestamp t, const TimeZone& zone) {
  if (t == kNeverDue) return nullptr;
  return {{"at", FormatTimestamp(t)},
          {"local_date", LocalDate(t, zone)},
          {"local_time", LocalClockTime(t, zone)},
          {"zone", zone.name()}};
}

std::string Plural(int64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

// What a category's records are called in a receipt's sentences: its
// description when that is a short phrase; else the label of its policy
// line ("Server logs" of "Server logs | 30-90 days"), since a description
// written for operators can be a paragraph; else its name.
std::string CategoryWords(const Category* c, const std::string& name) {
  constexpr size_t kPhrase = 60;
  if (c == nullptr) return name;
  if (!c->description.empty() && c->description.size() <= kPhrase) return c->description;
  if (!c->policy.empty()) return c->policy.substr(0, c->policy.find(" | "));
  return name;
}

// The category's description for JSON readers: whole, or its name.
std::string Description(const Category* c, const std::string& name) {
  return c == nullptr || c->description.empty() ? name : c->description;
}

// The receipt's text date for a computed instant.
std::string DateWords(const nlohmann::json& date) {
  return date.is_null() ? std::string("never") : date["local_date"].get<std::string>();
}

nlohmann::json KeptJson(const KeptGroup& k, const ErasureReceipt& r, const RuleSet& rules, const TimeZone& zone) {
  const Category* own = FindCategory(rules, k.category);
  nlohmann::json j = {{"category", k.category},
                      {"target", k.target},
                      {"store", k.store},
                      {"why", k.exception ? std::string("exception") : std::string(KeptWhyName(k.why))},
                      {"code", KeptWhyName(k.why)},
                      {"exception", k.exception},
                      {"reason", k.reason},
                      {"records", k.records},
                      {"undated", k.undated},
                      {"oldest_clock", k.oldest_clock ? nlohmann::json(FormatTimestamp(*k.oldest_clock)) : nullptr},
                      {"newest_clock", k.newest_clock ? nlohmann::json(FormatTimestamp(*k.newest_clock)) : nullptr}};
  std::string text = Plural(k.records, "record", "records") + " of " + CategoryWords(own, k.category) + " (" +
                     k.target + ")";
  std::string from;
  if (k.oldest_clock && k.newest_clock && *k.oldest_clock != *k.newest_clock)
    from = ", dated " + LocalDate(*k.oldest_clock, zone) + " to " + LocalDate(*k.newest_clock, zone) + ",";
  else if (k.newest_clock)
    from = ", dated " + LocalDate(*k.newest_clock, zone) + ",";

  // The date the record's own schedule deletes the newest of them.
  nlohmann::json schedule_date = nullptr;
  Timestamp schedule_at = kNeverDue;
  if (own != nullptr && own->delete_after && k.newest_clock) {
    schedule_at = FirstDueAt(*k.newest_clock, *own->delete_after, zone);
    schedule_date = DateJson(schedule_at, zone);
  }
  const std::string schedule_name = own != nullptr ? own->name : k.category;
  j["delete_after"] = own != nullptr && own->delete_after ? nlohmann::json(own->delete_after->ToString()) : nullptr;

  if (k.exception) {
    j["deleted_by"] = schedule_date;
    text += from + " kept as an exception to erasure: " + k.reason + "; ";
    if (own == nullptr || !own->delete_after)
      text += "not deleted by any schedule";
    else if (schedule_date.is_null())
      text += "its schedule deletes them only when their date is known";
    else
      text += "deleted by the " + schedule_name + " schedule by " + DateWords(schedule_date);
  } else if (k.why == KeptWhy::kFloor) {
    const Category* floor = FindCategory(rules, k.floor_category.empty() ? k.category : k.floor_category);
    j["floor_category"] = floor != nullptr ? floor->name : k.floor_category;
    nlohmann::json floor_end = nullptr;
    Timestamp floor_at = kNeverDue;
    if (floor != nullptr && floor->keep_at_least && k.newest_clock) {
      floor_at = FirstDueAt(*k.newest_clock, *floor->keep_at_least, zone);
      floor_end = DateJson(floor_at, zone);
      j["keep_at_least"] = floor->keep_at_least->ToString();
    }
    j["floor_end"] = floor_end;
    const Timestamp then = std::max(floor_at, schedule_at);
    j["deleted_by"] = (own != nullptr && own->delete_after && k.newest_clock) ? DateJson(then, zone) : nullptr;
    const bool exception_floor = floor != nullptr && !floor->erasable;
    if (exception_floor) {
      // Another category over the same records is an exception to erasure
      // (a floor that never ends, for an erasure only): the first of the two
      // schedules deletes them, as a purge does any record any rule makes due.
      Timestamp first = schedule_at;
      if (floor->delete_after && k.newest_clock)
        first = std::min(first, FirstDueAt(*k.newest_clock, *floor->delete_after, zone));
      j["exception"] = floor->erasure_exception;
      j["floor_end"] = nullptr;
      j["deleted_by"] = first == kNeverDue ? nlohmann::json() : DateJson(first, zone);
      text += from + " kept as an exception to erasure (" + CategoryWords(floor, floor->name) +
              "): " + floor->erasure_exception + "; " +
              (first == kNeverDue ? std::string("not deleted by any schedule")
                                  : "deleted by their schedule by " + DateWords(j["deleted_by"]));
    } else {
      text += from + " kept";
      if (floor != nullptr && floor->keep_at_least) text += " at least " + floor->keep_at_least->ToString();
      if (floor != nullptr && !floor->policy.empty())
        text += " under the policy line \"" + floor->policy + "\"";
      else
        text += " under the " + (floor != nullptr ? floor->name : k.floor_category) + " rule";
      if (floor_end.is_null()) {
        text += ", a floor that keeps records without a date for as long as they have none";
      } else {
        text += " until " + DateWords(floor_end) + ", then ";
        if (own == nullptr || !own->delete_after)
          text += "not deleted by any schedule";
        else
          text += "deleted by the " + schedule_name + " schedule by " + DateWords(j["deleted_by"]);
      }
    }
  } else if (k.why == KeptWhy::kHeld || k.why == KeptWhy::kHeldElsewhere) {
    if (k.hold_id) j["hold"] = *k.hold_id;
    j["matter"] = k.matter;
    j["deleted_by"] = nullptr;
    if (k.hold_id) {
      text += from + " kept under legal hold " + std::to_string(*k.hold_id) +
              (k.matter.empty() ? std::string() : " (" + k.matter + ")") + " until released";
    } else {
      text += from + " kept: " + (k.reason.empty() ? std::string("held") : k.reason) + ", until the hold is released";
    }
  } else if (k.why == KeptWhy::kUndated) {
    j["deleted_by"] = nullptr;
    text += " kept: they have no date the schedule can act on";
  } else {
    j["deleted_by"] = nullptr;
    j["retry"] = "retention erase --subject " + r.subject.Text() + " --request " + r.request;
    text += from + " kept: " + (k.reason.empty() ? std::string(KeptWhyName(k.why)) : k.reason) +
            "; will be retried by `retention erase --subject " + r.subject.Text() + " --request " + r.request +
            "` again";
  }
  if (k.undated > 0 && k.why != KeptWhy::kUndated)
    text += "; " + (k.undated == k.records ? std::string("all") : Plural(k.undated, "of them", "of them")) +
            " without a date the schedule can act on, kept";
  j["text"] = text;
  return j;
}

const char* kStatement =
    "This receipt records what retention did for the erasure request named above. Every record it "
    "erased is an entry of kind erase in the purge log, a SHA-256 hash chain: entries first_seq to "
    "last_seq carry the request reference, and `retention audit verify` prints the chain's head hash, "
    "which is the head hash above or, after later runs, one that descends from it. Dates are the first "
    "moment the schedule finds a record due, computed from the rules (rules hash above) in the zone "
    "shown; the next scheduled purge after that moment deletes it.";

}  // namespace

nlohmann::json ReceiptToJson(const ErasureReceipt& receipt, const Config& config, const RuleSet& rules) {
  return ReceiptToJson(receipt, config, rules, SystemNow());
}

nlohmann::json ReceiptToJson(const ErasureReceipt& r, const Config& config, const RuleSet& rules, Timestamp now) {
  const TimeZone zone = ScheduleZone(config);
  nlohmann::json j;
  j["request"] = r.request;
  j["subject"] = r.subject.Text();
  j["dry_run"] = r.dry_run;
  j["outcome"] = r.outcome;
  j["zone"] = zone.name();
  j["received"] = DateJson(r.received, zone);
  j["deadline"] = DateJson(r.deadline, zone);
  j["executed"] = r.executed ? DateJson(*r.executed, zone) : nlohmann::json(nullptr);
  const Timestamp as_of = r.executed ? *r.executed : now;
  j["as_of"] = DateJson(as_of, zone);

  nlohmann::json erased = nlohmann::json::array();
  for (const ErasedTarget& e : r.erased) {
    const Category* c = FindCategory(rules, e.category);
    erased.push_back({{"category", e.category},
                      {"description", Description(c, e.category)},
                      {"words", CategoryWords(c, e.category)},
                      {"target", e.target},
                      {"store", e.store},
                      {"records", e.records}});
  }
  j["erased"] = erased;
  j["erased_total"] = r.TotalErased();
  j["erased_before"] = r.erased_before;

  nlohmann::json kept = nlohmann::json::array();
  for (const KeptGroup& k : r.kept) kept.push_back(KeptJson(k, r, rules, zone));
  j["kept"] = kept;
  j["kept_total"] = r.TotalKept();

  nlohmann::json roll_out = nlohmann::json::array();
  for (const Category& c : rules.categories) {
    bool maps = false;
    for (const Target& t : c.targets)
      if (t.subject && t.subject->kind == r.subject.kind) maps = true;
    if (maps) continue;
    nlohmann::json stores = nlohmann::json::array();
    for (const Target& t : c.targets) stores.push_back(t.store);
    nlohmann::json item = {{"category", c.name}, {"description", Description(&c, c.name)},
                           {"words", CategoryWords(&c, c.name)}, {"stores", stores}};
    if (c.delete_after) {
      item["delete_after"] = c.delete_after->ToString();
      item["deleted_by"] = DateJson(FirstDueAt(as_of, *c.delete_after, zone), zone);
      item["text"] = CategoryWords(&c, c.name) + " containing this subject are deleted by " +
                     DateWords(item["deleted_by"]);
    } else {
      item["delete_after"] = nullptr;
      item["deleted_by"] = nullptr;
      item["text"] = CategoryWords(&c, c.name) + " containing this subject have no deletion schedule";
    }
    roll_out.push_back(item);
  }
  j["roll_out"] = roll_out;

  j["evidence"] = {{"run_id", r.run_id},
                   {"first_seq", r.first_seq},
                   {"last_seq", r.last_seq},
                   {"head_hash", r.head_hash},
                   {"rules_hash", rules.hash},
                   {"statement", kStatement}};
  return j;
}

namespace {

std::string Str(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "-";
  return v.dump();
}

int64_t Int(const nlohmann::json& v) { return v.is_number_integer() ? v.get<int64_t>() : 0; }

// The receipt as its JSON document shows it (util/json_document.h): every
// date the model carries as an object (DateJson) is NAME, the instant in
// RFC 3339 UTC as in every other document, beside NAME_local, the local
// date and time in the receipt's "zone".
nlohmann::json ReceiptDocument(nlohmann::json model) {
  if (model.is_array()) {
    for (auto& element : model) element = ReceiptDocument(std::move(element));
    return model;
  }
  if (!model.is_object()) return model;
  nlohmann::json out = nlohmann::json::object();
  for (auto& [name, value] : model.items()) {
    if (value.is_object() && value.contains("at") && value.contains("local_date")) {
      out[name] = value["at"];
      out[name + "_local"] = Str(value["local_date"]) + " " + Str(value["local_time"]);
    } else {
      out[name] = ReceiptDocument(std::move(value));
    }
  }
  return out;
}

// "2026-02-01 13:00:00 Europe/Berlin"
std::string LocalWords(const nlohmann::json& date) {
  if (date.is_null()) return "-";
  return Str(date["local_date"]) + " " + Str(date["local_time"]) + " " + Str(date["zone"]);
}

std::string WhyWords(const nlohmann::json& k) {
  const std::string why = Str(k["why"]);
  if (why == "floor") return "floor until " + DateWords(k["floor_end"]);
  if (why == "held" || why == "held_elsewhere") return "legal hold";
  return why;
}

void WriteTable(const nlohmann::json& j, std::ostream& out) {
  const bool dry = j["dry_run"].get<bool>();
  out << (dry ? "Erasure preview" : "Erasure receipt") << ": request " << Str(j["request"]) << ", subject "
      << Str(j["subject"]) << "\n";
  out << "  received " << DateWords(j["received"]) << ", deadline " << DateWords(j["deadline"]) << ", "
      << (dry ? std::string("dry run: nothing was deleted") : "executed " + LocalWords(j["executed"]))
      << ", outcome " << Str(j["outcome"]) << "\n\n";

  out << (dry ? "Records that would be erased: " : "Erased: ") << Int(j["erased_total"]);
  if (Int(j["erased_before"]) > 0) out << " (and " << Int(j["erased_before"]) << " by earlier runs of this request)";
  out << "\n";
  std::vector<std::vector<std::string>> rows = {{"CATEGORY", "TARGET", "STORE", dry ? "WOULD ERASE" : "ERASED"}};
  for (const auto& e : j["erased"])
    rows.push_back({Str(e["category"]), Str(e["target"]), Str(e["store"]), std::to_string(Int(e["records"]))});
  PrintColumns(out, rows, {false, false, false, true}, "  ");

  out << "\nKept: " << Int(j["kept_total"]) << "\n";
  if (!j["kept"].empty()) {
    rows = {{"CATEGORY", "TARGET", "RECORDS", "WHY", "DELETED BY"}};
    for (const auto& k : j["kept"])
      rows.push_back({Str(k["category"]), Str(k["target"]), std::to_string(Int(k["records"])), WhyWords(k),
                      k["deleted_by"].is_null() ? std::string("-") : DateWords(k["deleted_by"])});
    PrintColumns(out, rows, {false, false, true, false, false}, "  ");
    for (const auto& k : j["kept"]) out << "  - " << Str(k["text"]) << "\n";
  }

  out << "\nElsewhere (not mapped to the subject; deleted by their schedules):\n";
  rows = {{"CATEGORY", "SCHEDULE", "DELETED BY"}};
  for (const auto& o : j["roll_out"])
    rows.push_back({Str(o["category"]), o["delete_after"].is_null() ? std::string("none") : Str(o["delete_after"]),
                    o["deleted_by"].is_null() ? std::string("-") : DateWords(o["deleted_by"])});
  PrintColumns(out, rows, {false, false, false}, "  ");
  for (const auto& o : j["roll_out"]) out << "  - " << Str(o["text"]) << "\n";

  const auto& ev = j["evidence"];
  out << "\nEvidence:\n";
  if (dry) {
    out << "  none: a dry run writes nothing to the purge log\n";
  } else {
    out << "  run " << Int(ev["run_id"]) << ", purge log entries " << Int(ev["first_seq"]) << ".."
        << Int(ev["last_seq"]) << ", head hash " << Str(ev["head_hash"]) << "\n";
  }
  out << "  rules hash " << Str(ev["rules_hash"]) << "\n";
  out << "  dates: the first moment the schedule finds a record due, in " << Str(j["zone"]) << "\n";
}

void WriteMarkdown(const nlohmann::json& j, std::ostream& out) {
  const bool dry = j["dry_run"].get<bool>();
  out << "# " << (dry ? "Erasure preview" : "Erasure receipt") << ": request " << Str(j["request"]) << "\n\n";
  out << "Subject: " << Str(j["subject"]) << ". Request received " << DateWords(j["received"])
      << "; answer due by " << DateWords(j["deadline"]) << ".\n";
  if (dry)
    out << "This is a preview (dry run): nothing was deleted. It lists what would be erased.\n";
  else
    out << "Executed " << LocalWords(j["executed"]) << "; outcome: " << Str(j["outcome"]) << ".\n";

  out << "\n## What we deleted\n\n";
  for (const auto& e : j["erased"])
    out << "- " << Plural(Int(e["records"]), "record", "records") << " of " << Str(e["words"]) << " ("
        << Str(e["target"]) << ")" << (dry ? " would be erased" : " erased") << "\n";
  out << "\nIn total " << Plural(Int(j["erased_total"]), "record", "records")
      << (dry ? " would be erased" : " were erased");
  if (Int(j["erased_before"]) > 0)
    out << ", and " << Int(j["erased_before"]) << " by earlier runs of this request";
  out << ".\n";

  out << "\n## What we kept, and why\n\n";
  if (j["kept"].empty()) {
    out << "Nothing of this subject is kept.\n";
  } else {
    for (const auto& k : j["kept"]) out << "- " << Str(k["text"]) << ".\n";
    out << "\nIn total " << Plural(Int(j["kept_total"]), "record is", "records are") << " kept.\n";
  }

  out << "\n## Where else your data may be, and when it goes\n\n";
  if (j["roll_out"].empty()) out << "Every place this data is kept maps the subject: nothing else holds it.\n";
  for (const auto& o : j["roll_out"]) out << "- " << Str(o["text"]) << ".\n";

  const auto& ev = j["evidence"];
  out << "\n## Evidence\n\n";
  out << "- Request " << Str(j["request"]) << ", subject " << Str(j["subject"]) << "\n";
  if (dry) {
    out << "- None yet: a dry run writes nothing to the purge log\n";
  } else {
    out << "- Run " << Int(ev["run_id"]) << "; purge log entries " << Int(ev["first_seq"]) << " to "
        << Int(ev["last_seq"]) << "; head hash `" << Str(ev["head_hash"]) << "`\n";
  }
  out << "- Rules hash `" << Str(ev["rules_hash"]) << "`; dates in " << Str(j["zone"]) << "\n";
  out << "\n" << Str(ev["statement"]) << "\n";
}

}  // namespace

void WriteReceipt(const ErasureReceipt& receipt, const Config& config, const RuleSet& rules, ReceiptFormat format,
                  std::ostream& out) {
  WriteReceipt(receipt, config, rules, format, out, SystemNow());
}

void WriteReceipt(const ErasureReceipt& receipt, const Config& config, const RuleSet& rules, ReceiptFormat format,
                  std::ostream& out, Timestamp now) {
  const nlohmann::json j = ReceiptToJson(receipt, config, rules, now);
  switch (format) {
    case ReceiptFormat::kJson: PrintJsonDocument(out, "erasure-receipt", ReceiptDocument(j)); return;
    case ReceiptFormat::kTable: WriteTable(j, out); return;
    case ReceiptFormat::kMarkdown: WriteMarkdown(j, out); return;
  }
}

}  // namespace retention
