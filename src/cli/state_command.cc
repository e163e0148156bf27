// retention state init: creates the state database.
//
// Nothing else creates it (except `retention demo`, for its own demo): the
// state database holds the legal holds and the purge log, so a missing or
// empty one is refused by every command that writes, never silently
// replaced by a new, empty one in which no hold is in force.
//
// retention state migrate --to ENV: copies the configured SQLite state into
// an empty PostgreSQL schema (state/postgres_state_import.h), so that a
// host joins a fleet with its holds and its purge log. The chain is
// verified before and after, and the two heads must be the same entry with
// the same hash: the copy is the same evidence, not a new log. The SQLite
// state is then marked moved (MarkSqliteStateMoved), so that nothing
// written there afterwards (a hold, above all) can miss the fleet.
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <iostream>
#include <set>
#include <thread>

#include "audit/full_verification.h"
#include "cli/command.h"
#include "cli/state_access.h"
#include "purge/reconcile.h"
#include "purge/run_guards.h"
#include "state/fleet_join.h"
#include "state/postgres_state_import.h"
#include "state/postgres_state_locks.h"
#include "state/sqlite_state_db.h"
#include "state/state_open.h"
#include "stores/store_set.h"

namespace retention {

namespace {

Status StateInit(const CommandArgs& a) {
  po::options_description desc("Options");
  AddCommonOptions(&desc);
  auto vm = ParseCommandLine(a, desc, nullptr, "retention state init [--config PATH]");
  if (!vm.ok()) return vm.status();
  if (!*vm) return Status::Ok();
  auto config = LoadConfigOnly(**vm);
  if (!config.ok()) return config.status();
  auto state = CreateState(*a.env, *config);
  if (!state.ok()) return state.status();
  if (config->state.IsPostgres()) {
    *a.out << "Created " << config->state.Name() << " (schema version " << kPgStateSchemaVersion << ").\n"
           << "It will hold the legal holds and the purge log of every host that names it: back it up with the "
              "database.\n"
           << "If it is ever lost, restore it from a backup; retention refuses to run without it.\n";
    return Status::Ok();
  }
  *a.out << "Created the state database " << config->state.Name() << " (schema version " << kStateSchemaVersion
         << ", mode 0640).\n"
         << "It will hold the legal holds and the purge log: back it up with the rest of the system.\n"
         << "If it is ever lost, restore it from a backup; retention refuses to run without it.\n";
  return Status::Ok();
}

// A ledger that must verify for the migration to go on or to be called
// done: AuditFailed naming `which` and the first bad entry otherwise.
Result<VerifyReport> VerifiedOrRefused(const Config& config, StateDb& state, const std::string& which) {
  auto verified = audit::VerifyFully(config, state, state, nullptr, /*accept_anchor_schedules=*/false);
  if (!verified.ok()) return verified.status();
  const VerifyReport& report = verified->report;
  if (!report.ok) {
    return Status::AuditFailed(which + "'s ledger does not verify (entry " +
                               std::to_string(report.first_bad_seq.value_or(0)) + ": " + report.problem +
                               "): run 'retention audit verify' for the details");
  }
  return report;
}

// What a moved state's note says of where it went (MarkSqliteStateMoved).
std::string MoveNote(const std::string& who, const std::string& schema, const std::string& names_it, Timestamp at) {
  return who + ", schema " + schema + " (" + names_it + "), on " + FormatTimestamp(at) +
         " by 'retention state migrate'";
}

// `state migrate --join`: this host's holds in force placed in the fleet's
// state (state/fleet_join.h), its own purge log kept where it is.
Status JoinFleet(const CommandArgs& a, const Config& config, StateDb& source, PostgresStateDbOptions target,
                 const std::string& env_name, const std::string& host) {
  target.host = host.empty() ? HostNameInState(config.state) : host;
  target.create_if_missing = false;
  auto shared = OpenPostgresStateDb(target);
  if (!shared.ok()) return shared.status().WithContext("not joining");
  PostgresStateLocksOptions lock_options;
  lock_options.conninfo = target.conninfo;
  lock_options.who = target.who;
  lock_options.schema = target.schema;
  lock_options.host = target.host;
  auto locks = OpenPostgresStateLocks(lock_options);
  if (!locks.ok()) return locks.status();
  auto joined = JoinFleetState(source, **shared, **locks, target.host);
  if (!joined.ok()) return joined.status().WithContext("not joined");
  const std::string names_it = "state = { conninfo_env = \"" + env_name + "\"" +
                               (target.schema == "retention" ? "" : ", schema = \"" + target.schema + "\"") +
                               ", host = \"" + target.host + "\" }";
  Status marked = MarkSqliteStateMoved(config.state.path, joined->head,
                                       MoveNote(target.who, target.schema, names_it, a.env->Now()) + ", joined as host '" +
                                           target.host + "'");
  if (!marked.ok()) {
    return marked.WithContext("the holds in force here were placed there, but the state changed since; run the "
                              "join again (it places only what is not there yet)");
  }
  *a.out << "Joined " << target.who << ", schema " << target.schema << ", as host '" << target.host << "':\n";
  for (const auto& [here, there] : joined->placed)
    *a.out << "  hold " << here << " placed there as hold " << there << "\n";
  for (const auto& [here, there] : joined->already)
    *a.out << "  hold " << here << " already in force there as hold " << there << "\n";
  if (joined->placed.empty() && joined->already.empty()) *a.out << "  no hold in force here to place\n";
  *a.out << "This host's purge log stays in " << config.state.path << " (head entry " << joined->head.seq << ", hash "
         << joined->head.hash << "): keep it, or export it first (retention audit export --bundle DIR); the "
            "shared state's chain goes on from its own head.\n";
  if (joined->requests_not_done > 0) {
    *a.out << joined->requests_not_done << " erasure request" << (joined->requests_not_done == 1 ? "" : "s")
           << " of this host not done: run them again after the switch (retention erase list shows them here).\n";
  }
  *a.out << "Name the shared state in the config, in place of 'state = \"" << config.state.path << "\"':\n"
         << "  " << names_it << "\n"
         << config.state.path << " now refuses every command that would write to it (holds, purges, erasures).\n";
  return Status::Ok();
}

Status StateMigrate(const CommandArgs& a) {
  po::options_description desc("Options");
  AddCommonOptions(&desc);
  desc.add_options()
      ("to", po::value<std::string>()->value_name("ENV"),
       "the environment variable holding the libpq conninfo or URI of the PostgreSQL database to copy the state into")
      ("schema", po::value<std::string>()->default_value("retention")->value_name("NAME"),
       "the schema the copy goes into (created when missing; it must hold no state)")
      ("join", po::bool_switch(),
       "join the fleet state already in the schema: place this host's holds in force there, keep its purge log here")
      ("host", po::value<std::string>()->value_name("NAME"),
       "with --join: this host's name in the fleet (default: the machine's host name); one no run there has used");
  auto vm = ParseCommandLine(a, desc, nullptr,
                             "retention state migrate --to ENV [--schema NAME] [--join [--host NAME]] [--config PATH]");
  if (!vm.ok()) return vm.status();
  if (!*vm) return Status::Ok();
  if (!(*vm)->count("to")) return Status::Usage("state migrate needs --to ENV: the environment variable holding the "
                                                "conninfo of the PostgreSQL database");
  if ((*vm)->count("host") && !(**vm)["join"].as<bool>())
    return Status::Usage("--host names this host in a fleet it joins: only with --join");
  if ((*vm)->count("host")) {
    const std::string h = (**vm)["host"].as<std::string>();
    const bool plain = !h.empty() && h.size() <= 255 && std::all_of(h.begin(), h.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
    });
    if (!plain) return Status::Usage("--host: '" + h + "' is not a host name (letters, digits, '.', '_' and '-')");
  }
  const std::string env_name = (**vm)["to"].as<std::string>();
  const std::string schema = (**vm)["schema"].as<std::string>();
  if (env_name.empty()) return Status::Usage("--to needs the name of an environment variable");
  if (schema.empty() || schema.size() > 63)
    return Status::Usage("--schema: '" + schema + "' is not a schema name (1 to 63 characters)");
  auto config = LoadConfigOnly(**vm);
  if (!config.ok()) return config.status();
  if (config->state.IsPostgres())
    return Status::Invalid("state migrate copies a SQLite state into PostgreSQL; the config's state is already " +
                           config->state.Name());

  const char* conninfo = std::getenv(env_name.c_str());
  if (conninfo == nullptr || *conninfo == '\0') {
    return Status::Unavailable("environment variable " + env_name +
                               " is not set (it should hold the libpq conninfo or URI of the PostgreSQL database "
                               "to copy the state into)");
  }
  PostgresStateDbOptions target;
  target.conninfo = conninfo;
  target.who = "the PostgreSQL state (" + env_name + ")";
  target.schema = schema;

  // No purge or erasure starts on this host while the state is moved, and
  // no hold is placed or released here (both wait on the barrier); anything
  // else written meanwhile moves the ledger's head, which the copy and the
  // move's note (MarkSqliteStateMoved) notice.
  // The barrier before the run lock: a barrier file not there yet (no hold
  // ever placed) is created unless a run holds the run lock, and our own
  // would count as another's.
  auto locks = a.env->OpenLocks(*config);
  if (!locks.ok()) return locks.status();
  auto barrier = (*locks)->ExcludeHoldBarrier(HoldBarrier::kDefaultTimeout);
  if (!barrier.ok()) return barrier.status().WithContext("not migrating");
  auto run_lock = (*locks)->LockRun();
  if (!run_lock.ok()) return run_lock.status().WithContext("not migrating");
  auto moved = SqliteStateMovedTo(config->state.path);
  if (!moved.ok()) return moved.status();
  if (*moved) {
    return Status::Invalid("the state " + config->state.Name() + " was already moved to " + **moved +
                           ": not moving it again");
  }
  auto source = a.env->OpenState(*config, StateOpenMode::kRead);
  if (!source.ok()) return source.status();
  auto before = VerifiedOrRefused(*config, **source, "the state " + config->state.Name());
  if (!before.ok()) return before.status().WithContext("not migrating");
  if ((**vm)["join"].as<bool>()) return JoinFleet(a, *config, **source, target, env_name,
                                                   (*vm)->count("host") ? (**vm)["host"].as<std::string>() : "");

  auto copied = CopyStateIntoPostgres(**source, target);
  if (!copied.ok()) return copied.status().WithContext("the state was not copied");

  PostgresStateDbOptions reading = target;
  reading.read_only = true;
  auto copy = OpenPostgresStateDb(reading);
  if (!copy.ok()) return copy.status();
  auto after = VerifiedOrRefused(*config, **copy, target.who);
  if (!after.ok()) return after.status();
  if (after->head_seq != before->head_seq || after->head_hash != before->head_hash) {
    return Status::AuditFailed("the copy's ledger head (entry " + std::to_string(after->head_seq) + ", " +
                               after->head_hash + ") is not the state's (entry " + std::to_string(before->head_seq) +
                               ", " + before->head_hash + ")");
  }
  const std::string names_it =
      "state = { conninfo_env = \"" + env_name + "\"" + (schema == "retention" ? "" : ", schema = \"" + schema + "\"") + " }";
  Status marked = MarkSqliteStateMoved(config->state.path, LedgerHead{before->head_seq, before->head_hash, std::nullopt},
                                       MoveNote(target.who, schema, names_it, a.env->Now()));
  if (!marked.ok()) {
    return marked.WithContext("the copy in schema " + schema + " lacks what was written here since; drop it (DROP "
                              "SCHEMA " + schema + " CASCADE, as its owner) and run the migration again");
  }
  *a.out << "Copied the state " << config->state.Name() << " into " << target.who << ", schema " << schema << ":\n"
         << "  " << copied->entries << " ledger entries, " << copied->holds << " holds, " << copied->runs << " runs, "
         << copied->erasure_requests << " erasure requests, " << copied->anchors << " anchors.\n"
         << "Verified before and after: head entry " << after->head_seq << ", hash " << after->head_hash << ".\n"
         << "Every host that shares it names it in its config, in place of 'state = \"" << config->state.path
         << "\"':\n  " << names_it << "\n"
         << "Keep " << config->state.path << ": it is this host's record up to the copy. It now refuses every "
            "command that would write to it (holds, purges, erasures), and reads warn that it was moved.\n";
  return Status::Ok();
}

Status StateReconcile(const CommandArgs& a) {
  po::options_description desc("Options");
  AddCommonOptions(&desc);
  desc.add_options()
      ("host", po::value<std::string>()->value_name("NAME"),
       "the host whose crashed runs to reconcile (default: this host's name in the state)");
  auto vm = ParseCommandLine(a, desc, nullptr, "retention state reconcile [--host NAME] [--config PATH]");
  if (!vm.ok()) return vm.status();
  if (!*vm) return Status::Ok();
  auto loaded = LoadConfigAndRules(**vm);
  if (!loaded.ok()) return loaded.status();
  const Config& config = loaded->config;
  if (!config.state.IsPostgres()) {
    return Status::Usage("state reconcile settles what a host left in a state a fleet shares (PostgreSQL); the "
                         "state " + config.state.Name() + " is this host's alone, and its next purge reconciles "
                         "it first");
  }
  const std::string this_host = HostNameInState(config.state);
  const std::string host = (*vm)->count("host") ? (**vm)["host"].as<std::string>() : this_host;

  // Everything below as `host`: its run lock and its run claim, so that it
  // is not running now and cannot start until this is done.
  Config as_host = config;
  as_host.state.host = host;
  auto locks = a.env->OpenLocks(as_host);
  if (!locks.ok()) return locks.status();
  auto run_lock = (*locks)->LockRun();
  if (!run_lock.ok()) {
    return run_lock.status().WithContext("host '" + host + "' is running now and reconciles its own batches; "
                                         "nothing reconciled");
  }
  auto state = a.env->OpenState(as_host, StateOpenMode::kWrite);
  if (!state.ok()) return state.status();
  RETENTION_RETURN_IF_ERROR((*state)->ClaimForRun().WithContext("nothing reconciled"));
  RETENTION_RETURN_IF_ERROR(CheckLedgerTail(**state));
  // Another host's locks free now may have been cut from a process still
  // alive (its sessions terminated): a batch of it that confirmed its
  // barrier just before may still commit its delete. Wait out that
  // confirmation's life, as `hold add` does, before judging its batches.
  if (host != this_host) std::this_thread::sleep_for(PostgresStateLocksOptions().grace);
  // A name with no run is a typo, not a host with nothing left.
  auto runs = (*state)->ListRuns();
  if (!runs.ok()) return runs.status();
  std::set<std::string> hosts;
  for (const RunInfo& run : *runs) hosts.insert(run.host);
  if (!hosts.count(host)) {
    std::string known;
    for (const std::string& h : hosts) known += (known.empty() ? "" : ", ") + h;
    return Status::Invalid("no run of host '" + host + "' is in " + config.state.Name() +
                           (known.empty() ? std::string(": no host has run yet") : " (hosts with runs: " + known + ")"));
  }

  StoreSet stores(config, /*read_only=*/false, a.env->file_system);
  auto done = ReconcileHost(**state, stores, config, loaded->rules, host, this_host);
  if (!done.ok()) return done.status();
  if (done->batches == 0 && done->runs_marked_crashed == 0) {
    *a.out << "Host '" << host << "' left nothing to reconcile.\n";
    return Status::Ok();
  }
  *a.out << "Reconciled host '" << host << "'" << (host == this_host ? "" : " from '" + this_host + "'") << ": "
         << done->batches << (done->batches == 1 ? " batch" : " batches") << " settled, " << done->deleted
         << (done->deleted == 1 ? " record" : " records") << " found deleted, " << done->runs_marked_crashed
         << (done->runs_marked_crashed == 1 ? " run" : " runs") << " marked crashed.\n"
         << "'retention audit log --kind reconciled' lists the entries.\n";
  return Status::Ok();
}

}  // namespace

Status RunStateCommand(const CommandArgs& a) {
  static const char* kUsage =
      "Usage: retention state init [--config PATH]\n"
      "       retention state migrate --to ENV [--schema NAME] [--join [--host NAME]] [--config PATH]\n"
      "       retention state reconcile [--host NAME] [--config PATH]\n"
      "  init       create the state database named by the config (refused if a file is already there)\n"
      "  migrate    copy the SQLite state into an empty PostgreSQL schema, chain and ids intact, verified\n"
      "             before and after (ENV: the environment variable holding the conninfo); --join: place\n"
      "             this host's holds in a fleet's state that exists already, keep its own log here\n"
      "  reconcile  in a state a fleet shares, settle now what a host's crashed runs left: this host's,\n"
      "             or (--host) a host that will not run again, over its PostgreSQL stores\n";
  if (a.args.empty()) return Status::Usage("state needs a subcommand: init, migrate or reconcile (try 'retention state --help')");
  if (a.args[0] == "--help" || a.args[0] == "-h") {
    *a.out << kUsage;
    return Status::Ok();
  }
  CommandArgs sub = a;
  sub.name = "state " + a.args[0];
  sub.args.erase(sub.args.begin());
  if (a.args[0] == "init") return StateInit(sub);
  if (a.args[0] == "migrate") return StateMigrate(sub);
  if (a.args[0] == "reconcile") return StateReconcile(sub);
  return Status::Usage("unknown state subcommand '" + a.args[0] + "' (init, migrate, reconcile)");
}

}  // namespace retention
