#include "cli/state_access.h"

#include <spdlog/spdlog.h>

#include "state/state_open.h"

namespace retention {

namespace {

Status CheckStateDirectory(const Config& config) {
  if (config.state.IsPostgres()) return Status::Ok();
  std::error_code ec;
  auto parent = std::filesystem::path(config.state.path).parent_path();
  if (!parent.empty() && !std::filesystem::is_directory(parent, ec))
    return Status::Unavailable("state database directory " + parent.string() +
                               " does not exist (create it, or set 'state' in " + config.file.string() + ")");
  return Status::Ok();
}

}  // namespace

void WarnNoStateDatabase(const Config& config) {
  spdlog::warn("no state database at {}: no legal holds could be read, so nothing is shown as held "
               "(create it with `retention state init`, or restore it from a backup)",
               config.state.Name());
}

Result<std::unique_ptr<StateDb>> OpenStateForReading(const Env& env, const Config& config, bool warn_if_missing) {
  if (!StateExistsAt(config.state)) {
    if (warn_if_missing) WarnNoStateDatabase(config);
    return std::unique_ptr<StateDb>();
  }
  return env.OpenState(config, StateOpenMode::kRead);
}

Result<std::unique_ptr<StateDb>> OpenStateForWriting(const Env& env, const Config& config) {
  RETENTION_RETURN_IF_ERROR(CheckStateDirectory(config));
  return env.OpenState(config, StateOpenMode::kWrite);
}

Result<std::unique_ptr<StateDb>> CreateState(const Env& env, const Config& config) {
  RETENTION_RETURN_IF_ERROR(CheckStateDirectory(config));
  return env.OpenState(config, StateOpenMode::kCreate);
}

Result<HoldSet> LoadHoldSet(StateDb* state, Timestamp now) {
  if (!state) return HoldSet();
  auto holds = state->ListHolds(/*include_released=*/false);
  if (!holds.ok()) return holds.status();
  return HoldSet(*holds, now);
}

}  // namespace retention
