#include "stores/sqlite_functions.h"

#include <string_view>

#include "calendar/clock_value.h"

namespace retention {

namespace {

// Zones are looked up once per statement: SQLite keeps the parsed zone as
// auxiliary data of the constant argument.
const TimeZone* ZoneArgument(sqlite3_context* ctx, sqlite3_value* arg) {
  if (auto* cached = static_cast<TimeZone*>(sqlite3_get_auxdata(ctx, 2))) return cached;
  const unsigned char* name = sqlite3_value_text(arg);
  auto zone = TimeZone::Load(name ? reinterpret_cast<const char*>(name) : "UTC");
  auto* owned = new TimeZone(zone.ok() ? *zone : TimeZone::Utc());
  sqlite3_set_auxdata(ctx, 2, owned, [](void* p) { delete static_cast<TimeZone*>(p); });
  return static_cast<TimeZone*>(sqlite3_get_auxdata(ctx, 2));
}

std::optional<Timestamp> ClockOf(sqlite3_context* ctx, sqlite3_value** argv) {
  sqlite3_value* value = argv[0];
  const int type = sqlite3_value_type(value);
  switch (static_cast<ClockEncoding>(sqlite3_value_int(argv[1]))) {
    case ClockEncoding::kUnixSeconds:
      if (type != SQLITE_INTEGER && type != SQLITE_FLOAT) return std::nullopt;
      return ClockFromUnixSeconds(sqlite3_value_double(value));
    case ClockEncoding::kUnixMillis:
      if (type != SQLITE_INTEGER && type != SQLITE_FLOAT) return std::nullopt;
      return ClockFromUnixMillis(sqlite3_value_double(value));
    case ClockEncoding::kText: {
      if (type != SQLITE_TEXT) return std::nullopt;
      const TimeZone* zone = ZoneArgument(ctx, argv[2]);
      if (!zone) return std::nullopt;
      std::string_view text(reinterpret_cast<const char*>(sqlite3_value_text(value)),
                            sqlite3_value_bytes(value));
      return ParseClockText(text, *zone);
    }
    case ClockEncoding::kNative:
      return std::nullopt;
  }
  return std::nullopt;
}

void ClockFunction(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (auto clock = ClockOf(ctx, argv)) {
    sqlite3_result_int64(ctx, ToUnixMicros(*clock));
  } else {
    sqlite3_result_null(ctx);
  }
}

void CanonicalFunction(sqlite3_context* ctx, int, sqlite3_value** argv) {
  sqlite3_value* value = argv[0];
  if (sqlite3_value_type(value) != SQLITE_TEXT) {
    sqlite3_result_int(ctx, 0);
    return;
  }
  const char* text = reinterpret_cast<const char*>(sqlite3_value_text(value));
  sqlite3_result_int(ctx, IsCanonicalClockText(std::string_view(text, sqlite3_value_bytes(value))) ? 1 : 0);
}

void InSetFunction(sqlite3_context* ctx, int, sqlite3_value** argv) {
  const auto* set = static_cast<const SqlTextSet*>(sqlite3_value_pointer(argv[0], kSqlTextSetType));
  sqlite3_value* value = argv[1];
  if (!set || sqlite3_value_type(value) == SQLITE_NULL) {
    sqlite3_result_int(ctx, 0);
    return;
  }
  const char* text = reinterpret_cast<const char*>(sqlite3_value_text(value));
  const std::string key(text ? text : "", static_cast<size_t>(sqlite3_value_bytes(value)));
  sqlite3_result_int(ctx, set->values.count(key) ? 1 : 0);
}

}  // namespace

bool IsCanonicalClockText(std::string_view s) {
  // "YYYY-MM-DD HH:MM:SS" then optionally "." and 1..6 digits (more would
  // round up to the next microsecond in ParseClockText: not string-exact).
  if (s.size() != 19 && (s.size() < 21 || s.size() > 26)) return false;
  auto digit = [&](size_t i) { return s[i] >= '0' && s[i] <= '9'; };
  auto num = [&](size_t i, size_t n) {
    int v = 0;
    for (size_t k = i; k < i + n; ++k) v = v * 10 + (s[k] - '0');
    return v;
  };
  static constexpr size_t kDigits[] = {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18};
  for (size_t i : kDigits)
    if (!digit(i)) return false;
  if (s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':') return false;
  if (s.size() > 19) {
    if (s[19] != '.') return false;
    for (size_t i = 20; i < s.size(); ++i)
      if (!digit(i)) return false;
  }
  const int year = num(0, 4), month = num(5, 2), day = num(8, 2);
  if (year == 0 || month < 1 || month > 12 || day < 1) return false;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (day > kDays[month - 1] + (month == 2 && leap ? 1 : 0)) return false;
  return num(11, 2) <= 23 && num(14, 2) <= 59 && num(17, 2) <= 59;
}

Status RegisterRetentionFunctions(sqlite3* db) {
  const int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY;
  int rc = sqlite3_create_function_v2(db, "retention_clock", 3, flags, nullptr, ClockFunction, nullptr, nullptr,
                                      nullptr);
  if (rc == SQLITE_OK)
    rc = sqlite3_create_function_v2(db, "retention_canonical", 1, flags, nullptr, CanonicalFunction, nullptr,
                                    nullptr, nullptr);
  if (rc == SQLITE_OK)
    rc = sqlite3_create_function_v2(db, "retention_in_set", 2, flags, nullptr, InSetFunction, nullptr, nullptr,
                                    nullptr);
  if (rc != SQLITE_OK)
    return Status::Internal(std::string("cannot register the retention SQL functions: ") + sqlite3_errmsg(db));
  return Status::Ok();
}

}  // namespace retention
