// Instants in time, as the engine compares them.
//
// Every clock value and cutoff is a UTC instant with microsecond resolution;
// time zones matter only when a cutoff is computed on a local calendar or a
// naive text value is read (see cutoff.h, clock_value.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace retention {

using Timestamp = std::chrono::sys_time<std::chrono::microseconds>;

// "2026-11-22T15:12:25Z", with ".123456" only when there are sub-seconds.
std::string FormatTimestamp(Timestamp t);

// Microseconds since the Unix epoch, and back; the form stored in the state
// database and the ledger.
int64_t ToUnixMicros(Timestamp t);
Timestamp FromUnixMicros(int64_t micros);

// The current time from the system clock (the production Clock).
Timestamp SystemNow();

}  // namespace retention
