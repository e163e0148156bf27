// The demo's log and backup folders, for the files stores of
// `retention demo DIR` (SPEC section 5).
//
//   DIR/logs/access.log                  the live nginx log, mtime `now`
//   DIR/logs/app.log                     the live application log, mtime `now`
//   DIR/logs/access.log-YYYYMMDD.gz      rotated, one per day for the 200
//   DIR/logs/app.log-YYYYMMDD.gz         days before `now` (UTC days), holding
//                                        that day's lines; mtime 23:59:59 UTC
//                                        of that day (when it was last written)
//   DIR/backups/db-YYYY-MM-DD.sqlite.gz  one nightly backup per day for the 200
//                                        days before `now`; the date is in the
//                                        name only: every mtime is within the
//                                        six hours before `now` (as after a
//                                        copy to a new volume), so only a name
//                                        clock can tell their age
//
// The .gz files are real gzip streams (stored deflate blocks, readable with
// zcat). Log lines use documentation IP ranges (RFC 5737) and made-up
// paths; backups hold a small fake SQLite image. The content is a pure
// function of (now, seed). Existing files of the same names are replaced;
// nothing else in DIR is touched. The rules in retention-rules/
// server-log-files.toml and backups.toml select these files.
#pragma once

#include <cstdint>
#include <filesystem>

#include "calendar/timestamp.h"
#include "util/status.h"

namespace retention {

// Days of rotated logs and backups written before `now`.
inline constexpr int kDemoFileDays = 200;

// Creates DIR (if missing), DIR/logs and DIR/backups as above. Refuses
// (IoError) when DIR/logs or DIR/backups exists and is not a directory (a
// symlink included).
Status CreateDemoFiles(const std::filesystem::path& dir, Timestamp now, uint64_t seed);

}  // namespace retention
