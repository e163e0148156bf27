#include "cli/state_access.h"

#include "state/sqlite_state_db.h"

namespace retention {

Result<std::unique_ptr<StateDb>> OpenStateForReading(const Config& config) {
  if (!StateDbExists(config.state)) return std::unique_ptr<StateDb>();
  return OpenSqliteStateDb(config.state, /*read_only=*/true);
}

Result<std::unique_ptr<StateDb>> OpenStateForWriting(const Config& config) {
  std::error_code ec;
  auto parent = std::filesystem::path(config.state).parent_path();
  if (!parent.empty() && !std::filesystem::is_directory(parent, ec))
    return Status::Unavailable("state database directory " + parent.string() +
                               " does not exist (create it, or set 'state' in " + config.file.string() + ")");
  return OpenSqliteStateDb(config.state, /*read_only=*/false);
}

Result<HoldSet> LoadHoldSet(StateDb* state, Timestamp now) {
  if (!state) return HoldSet();
  auto holds = state->ListHolds(/*include_released=*/false);
  if (!holds.ok()) return holds.status();
  return HoldSet(*holds, now);
}

}  // namespace retention
