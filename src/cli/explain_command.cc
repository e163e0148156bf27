// retention explain STORE/TARGET/KEY: one record under every rule that
// covers it — its clock, cutoff and due date, the floors, the holds, the
// verdict (Evaluate's answer in JudgeRecord's words, the same purge's
// ledger uses) — and, for a
// record that is gone, the ledger entries that deleted it. Opens stores and
// state read-only; changes nothing (SPEC 6.11).
#include <iostream>
#include <set>

#include <nlohmann/json.hpp>

#include "audit/ledger_query.h"
#include "calendar/cutoff.h"
#include "cli/command.h"
#include "cli/state_access.h"
#include "ledger/anchor.h"
#include "plan/selection.h"
#include "plan/plan.h"
#include "plan/verdict.h"
#include "stores/store_set.h"
#include "util/json_text.h"

namespace retention {

namespace {

// The oldest anchor whose range reaches purge log entry `key` (a seq): the
// one that pruned it, or, when that anchor was itself pruned since, the
// oldest one left, which follows on from it. nullopt when none does.
Result<std::optional<LedgerEntry>> FindPruningAnchor(StateDb& state, const std::string& key) {
  std::optional<LedgerEntry> found;
  int64_t seq = 0;
  try {
    seq = std::stoll(key);
  } catch (...) {
    return found;
  }
  auto anchor_seq = state.OldestAnchorReaching(seq);
  if (!anchor_seq.ok()) return anchor_seq.status();
  if (!*anchor_seq) return found;
  RETENTION_RETURN_IF_ERROR(state.ScanLedger(**anchor_seq, [&](const LedgerEntry& e) {
    if (e.seq == **anchor_seq && e.kind == LedgerKind::kAnchor) found = e;
    return false;
  }));
  return found;
}

std::string ClockDescription(const ClockSpec& clock) {
  switch (clock.source) {
    case ClockSource::kColumn: return "column " + clock.column + (clock.join ? " of " + clock.join->table : "");
    case ClockSource::kFileMtime: return "file mtime";
    case ClockSource::kFileName: return "file name " + clock.name_pattern;
    case ClockSource::kLedgerTime: return "the time the entry was written";
  }
  return "";
}

using Json = nlohmann::json;

// The last instant at which a record with `clock` is not yet due under
// `d`: it is due from just after it on (due when clock < now - d). Found by
// bisection on ComputeCutoff so that it agrees with the engine to the
// microsecond, whatever the calendar does (months, DST).
Timestamp LastNotDue(Timestamp clock, const CalendarDuration& d, const TimeZone& zone) {
  int64_t lo = ToUnixMicros(clock);  // not due: cutoff(clock) <= clock
  // An upper bound by which it is surely due: the longest the duration can be.
  int64_t span_days = d.amount;
  switch (d.unit) {
    case DurationUnit::kHours: span_days = d.amount / 24 + 1; break;
    case DurationUnit::kDays: span_days = d.amount + 1; break;
    case DurationUnit::kWeeks: span_days = d.amount * 7 + 1; break;
    case DurationUnit::kMonths: span_days = d.amount * 31 + 1; break;
    case DurationUnit::kYears: span_days = d.amount * 366 + 1; break;
  }
  int64_t hi = lo + (span_days + 2) * 86400LL * 1000000LL;
  if (!IsDue(clock, ComputeCutoff(FromUnixMicros(hi), d, zone))) return FromUnixMicros(hi);  // absurd cases
  while (hi - lo > 1) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (IsDue(clock, ComputeCutoff(FromUnixMicros(mid), d, zone))) {
      hi = mid;
    } else {
      lo = mid;
    }
  }
  return FromUnixMicros(lo);
}

std::string HoldText(const Hold& h) {
  std::string s = "hold " + std::to_string(h.id) + " (matter " + h.matter + ", by " + h.author + ", placed " +
                  FormatTimestamp(h.placed_at);
  if (h.expires_at) s += ", expires " + FormatTimestamp(*h.expires_at);
  return s + "): " + h.reason;
}

}  // namespace

Status RunExplainCommand(const CommandArgs& a) {
  po::options_description desc("Options");
  desc.add_options()("record", po::value<std::string>()->value_name("STORE/TARGET/KEY"), "the record")(
      "format", po::value<std::string>()->value_name("FORMAT"), "table or json");
  AddCommonOptions(&desc);
  po::positional_options_description pos;
  pos.add("record", 1);
  auto vm = ParseCommandLine(a, desc, &pos, "retention explain STORE/TARGET/KEY [--format table|json]");
  if (!vm.ok()) return vm.status();
  if (!*vm) return Status::Ok();
  auto format = FormatOption(**vm, {"table", "json"});
  if (!format.ok()) return format.status();
  if (!(*vm)->count("record")) return Status::Usage("explain needs a record: STORE/TARGET/KEY");
  const std::string spec = (**vm)["record"].as<std::string>();
  // The key is everything after the second '/': file keys are paths.
  const size_t s1 = spec.find('/');
  const size_t s2 = s1 == std::string::npos ? std::string::npos : spec.find('/', s1 + 1);
  if (s2 == std::string::npos || s1 == 0 || s2 == s1 + 1 || s2 + 1 >= spec.size())
    return Status::Usage("explain: '" + spec + "' is not STORE/TARGET/KEY");
  const std::string store_name = spec.substr(0, s1), target_name = spec.substr(s1 + 1, s2 - s1 - 1),
                    key = spec.substr(s2 + 1);

  auto loaded = LoadConfigAndRules(**vm);
  if (!loaded.ok()) return loaded.status();
  const Config& config = loaded->config;
  if (!config.stores.count(store_name)) return Status::Usage("explain: no store named '" + store_name + "' in the config");
  const Timestamp now = a.env->Now();
  auto state = OpenStateForReading(*a.env, config);
  if (!state.ok()) return state.status();
  auto holds = LoadHoldSet(state->get(), now);
  if (!holds.ok()) return holds.status();
  auto selections = MakeSelections(config, loaded->rules, now, "");
  if (!selections.ok()) return selections.status();
  const std::vector<Selection> held = WithHolds(std::move(*selections), *holds);
  std::vector<const Selection*> matching;
  std::string names;
  for (const Selection& d : held) {
    if (d.target->store != store_name) continue;
    if ((", " + names + ", ").find(", " + d.target->name + ", ") == std::string::npos)
      names += (names.empty() ? "" : ", ") + d.target->name;
    if (d.target->name == target_name) matching.push_back(&d);
  }
  if (matching.empty())
    return Status::Usage("explain: no target named '" + target_name + "' on store '" + store_name + "'" +
                         (names.empty() ? std::string() : " (targets there: " + names + ")"));

  StoreSet stores(config, /*read_only=*/true, a.env->file_system);
  auto store = stores.Get(store_name);
  if (!store.ok()) return store.status();

  Json out_json = {{"record", spec}, {"now", FormatTimestamp(now)}, {"rules", Json::array()}};
  std::ostream& out = *a.out;
  if (*format == "table") out << "Record " << spec << " (as of " << FormatTimestamp(now) << ")\n";
  bool exists_anywhere = false;
  for (const Selection* d : matching) {
    const Category& c = *d->category;
    auto found = (*store)->Lookup(*d, key);
    if (!found.ok()) return found.status();
    const RecordFacts& facts = *found;
    exists_anywhere |= facts.exists;
    const RecordVerdict verdict = JudgeRecord(*d, facts);
    static const RecordFacts::ScopeFacts kNoFacts{};
    const RecordFacts::ScopeFacts& own = facts.scopes.empty() ? kNoFacts : facts.scopes[0];
    std::optional<Timestamp> due_after;
    if (own.clock && c.delete_after) due_after = LastNotDue(*own.clock, *c.delete_after, d->zone);

    Json floors = Json::array();
    std::vector<std::string> floor_lines;
    for (const FloorGuard& g : d->floors) {
      const SelectionScope& scope = d->scopes[g.scope];
      const RecordFacts::ScopeFacts& guard = g.scope < facts.scopes.size() ? facts.scopes[g.scope] : kNoFacts;
      const bool applies = guard.matches_filters;
      const std::optional<Timestamp>& gclock = guard.clock;
      const bool protects = facts.exists && FloorProtects(g, facts);
      std::optional<Timestamp> until;
      if (applies && gclock && scope.category->keep_at_least)
        until = LastNotDue(*gclock, *scope.category->keep_at_least, d->zone);
      floors.push_back({{"category", scope.category->name},
                        {"target", scope.target->name},
                        {"keep_at_least", scope.category->keep_at_least ? scope.category->keep_at_least->ToString() : ""},
                        {"floor_cutoff", FormatTimestamp(g.floor_cutoff)},
                        {"applies", applies},
                        {"clock", gclock ? Json(FormatTimestamp(*gclock)) : Json(nullptr)},
                        {"protects", protects},
                        {"protects_until", until ? Json(FormatTimestamp(*until)) : Json(nullptr)}});
      std::string line = scope.category->name + "/" + scope.target->name + " keeps at least " +
                         (scope.category->keep_at_least ? scope.category->keep_at_least->ToString() : "?");
      if (!applies) {
        line += ": does not apply (its filters do not match this record)";
      } else {
        line += ": clock " + (gclock ? FormatTimestamp(*gclock) : std::string("(none)")) + ", floor cutoff " +
                FormatTimestamp(g.floor_cutoff) + (protects ? " -> PROTECTS it" : " -> lets it go");
        if (protects && until) line += " until " + FormatTimestamp(*until);
      }
      floor_lines.push_back(line);
    }

    // Every hold in force that covers the record under any target over the
    // same records (a hold under any of them keeps it), each once.
    Json hold_json = Json::array();
    std::vector<std::string> hold_lines;
    if (facts.exists) {
      std::set<int64_t> listed;
      for (const HoldExclusion& e : d->exclusions) {
        if (listed.count(e.hold_id) || !ExclusionCovers(e, facts)) continue;
        listed.insert(e.hold_id);
        const Hold* h = nullptr;
        for (const Hold& candidate : holds->holds())
          if (candidate.id == e.hold_id) h = &candidate;
        if (!h) continue;
        const SelectionScope& under = d->scopes[e.scope];
        hold_json.push_back({{"id", h->id},
                             {"matter", h->matter},
                             {"reason", h->reason},
                             {"author", h->author},
                             {"under", under.category->name + "/" + under.target->name}});
        hold_lines.push_back(HoldText(*h) + " [under " + under.category->name + "/" + under.target->name + "]");
      }
    }

    const std::string rule = d->target->where.ToString();
    const std::string clock_desc = ClockDescription(d->target->clock);
    out_json["rules"].push_back(
        {{"category", c.name},
         {"policy", c.policy},
         {"policy_source", c.policy_source},
         {"schedule", ScheduleText(c)},
         {"rule", rule},
         {"clock_source", clock_desc},
         {"exists", facts.exists},
         {"matches_filters", own.matches_filters},
         {"clock_text", own.clock_text},
         {"clock", own.clock ? Json(FormatTimestamp(*own.clock)) : Json(nullptr)},
         {"subject", own.subject_id.value_or("")},
         {"cutoff", d->cutoff ? Json(FormatTimestamp(*d->cutoff)) : Json(nullptr)},
         {"due_after", due_after ? Json(FormatTimestamp(*due_after)) : Json(nullptr)},
         {"floors", floors},
         {"holds", hold_json},
         {"deletable", verdict.deletable},
         {"verdict", verdict.reason}});
    if (*format == "table") {
      out << "\nCategory " << c.name << (c.description.empty() ? "" : " — " + c.description) << "\n";
      if (!c.policy.empty())
        out << "  policy     \"" << c.policy << "\"" << (c.policy_source.empty() ? "" : " (" + c.policy_source + ")")
            << "\n";
      out << "  schedule   " << ScheduleText(c) << "\n  rule       " << rule << " (target " << d->target->name
          << ", clock: " << clock_desc << ")\n";
      if (!facts.exists) {
        out << "  record     does not exist in store " << store_name << "\n";
      } else {
        out << "  clock      " << (own.clock_text.empty() ? "(empty)" : own.clock_text);
        if (own.clock) out << " = " << FormatTimestamp(*own.clock);
        out << (own.matches_filters ? "" : "  (does NOT match the target's filters)") << "\n";
        if (own.subject_kind && own.subject_id && !own.subject_id->empty())
          out << "  subject    " << *own.subject_kind << ":" << *own.subject_id << "\n";
        out << "  cutoff     " << (d->cutoff ? FormatTimestamp(*d->cutoff) : std::string("none (floor only)")) << "\n";
        if (due_after) out << "  due        after " << FormatTimestamp(*due_after) << " (clock + " << c.delete_after->ToString() << ")\n";
      }
      out << "  floors     " << (floor_lines.empty() ? "none from other rules" : "") << "\n";
      for (const auto& l : floor_lines) out << "    " << l << "\n";
      out << "  holds      " << (hold_lines.empty() ? "none" : "") << "\n";
      for (const auto& l : hold_lines) out << "    " << l << "\n";
      if (facts.exists) {
        out << "  verdict    " << (verdict.deletable ? "DELETABLE" : "KEPT") << ": " << verdict.reason << "\n";
      } else {
        out << "  verdict    GONE: not in the store (the ledger's deletions of it follow)\n";
      }
    }
  }

  // A record that is gone: the ledger says who deleted it, when and why.
  Json deletions = Json::array();
  if (!exists_anywhere && *state) {
    audit::LedgerFilter f;
    f.kinds = {LedgerKind::kDelete};
    f.store = store_name;
    f.target = target_name;
    f.key = key;
    // Its records: per-record delete entries, and the settled candidates of
    // the batch entries the batch index says reach the key (no scan of
    // every record).
    RETENTION_RETURN_IF_ERROR(audit::ScanRows(**state, f, [&](const LedgerEntry& e, const LedgerRecord* record) {
      deletions.push_back(audit::EntryToJson(e, record));
      return true;
    }));
  }
  out_json["deleted_by"] = deletions;
  // A purge log entry that is gone was pruned behind an anchor.
  std::optional<LedgerEntry> pruned_by;
  if (!exists_anywhere && *state && store_name == kPurgeLogStore) {
    auto found = FindPruningAnchor(**state, key);
    if (!found.ok()) return found.status();
    pruned_by = std::move(*found);
  }
  out_json["pruned_by"] = pruned_by ? audit::EntryToJson(*pruned_by) : Json(nullptr);
  if (*format == "json") {
    *a.out << DumpJson(out_json, 2) << "\n";
  } else if (pruned_by) {
    auto anchor = ReadAnchor(*pruned_by);
    if (!anchor.ok()) return anchor.status();
    out << "\nPruned by anchor entry " << pruned_by->seq << " at " << FormatTimestamp(pruned_by->at) << ", run "
        << pruned_by->run_id << ": entries " << anchor->from << " to " << anchor->through << ", written before "
        << pruned_by->cutoff << " (delete after " << anchor->delete_after.ToString() << ")"
        << (anchor->from > std::stoll(key) ? ", following on from earlier anchors pruned since" : "") << ".\n";
  } else if (!exists_anywhere) {
    if (deletions.empty()) {
      out << "\nThe record does not exist and the ledger has no deletion of it: it never existed, or was removed "
             "outside retention.\n";
    }
    for (const Json& e : deletions) {
      out << "\nDeleted by ledger entry " << e["seq"] << " at " << e["at"].get<std::string>() << ", run " << e["run"]
          << ": category " << e["category"].get<std::string>() << ", clock " << e["clock"].get<std::string>()
          << " < cutoff " << e["cutoff"].get<std::string>() << ", rule " << e["rule"].get<std::string>()
          << (e["subject"].get<std::string>().empty() ? "" : ", subject " + e["subject"].get<std::string>())
          << ", batch " << e["batch"] << ", entry hash " << e["hash"].get<std::string>() << "\n";
    }
  }
  return Status::Ok();
}

}  // namespace retention
