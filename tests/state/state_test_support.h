// For unit tests that build a state database from nothing: the engine
// never creates one implicitly (only `retention state init` and the demo
// do, through SqliteStateDbOptions::create), so these tests say so.
#pragma once

#include <filesystem>
#include <memory>

#include "state/sqlite_state_db.h"

namespace retention {

// Opens the state database at `path`, creating it first when no file is
// there and the open is not read-only.
inline Result<std::unique_ptr<StateDb>> OpenOrCreateStateDb(const std::filesystem::path& path,
                                                            SqliteStateDbOptions options) {
  std::error_code ec;
  if (!options.read_only && !std::filesystem::exists(path, ec)) options.create = true;
  return OpenSqliteStateDb(path, options);
}

inline Result<std::unique_ptr<StateDb>> OpenOrCreateStateDb(const std::filesystem::path& path, bool read_only) {
  SqliteStateDbOptions options;
  options.read_only = read_only;
  return OpenOrCreateStateDb(path, options);
}

}  // namespace retention
