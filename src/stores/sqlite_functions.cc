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

}  // namespace

Status RegisterRetentionFunctions(sqlite3* db) {
  int rc = sqlite3_create_function_v2(db, "retention_clock", 3,
                                      SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY, nullptr,
                                      ClockFunction, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK)
    return Status::Internal(std::string("cannot register SQL function retention_clock: ") + sqlite3_errmsg(db));
  return Status::Ok();
}

}  // namespace retention
