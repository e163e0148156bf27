// retention explain STORE/TARGET/KEY or FILE [--as-of TIME]: one verdict
// line (DELETE, KEEP, NOT DUE until, GONE, or no such record: exit 1), then
// the record under every rule that covers it — its clock, cutoff and due
// date, the floors, the holds, the rule's verdict (Evaluate's answer in
// JudgeRecord's words, the same purge's ledger uses) — and, for a record
// that is gone, the ledger entries that deleted it. Opens stores and
// state read-only; changes nothing (SPEC 6.11).
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <set>
#include <sstream>

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
#include "util/json_document.h"
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
    case DurationUnit::kSeconds: span_days = d.amount / 86400 + 1; break;
    case DurationUnit::kMinutes: span_days = d.amount / 1440 + 1; break;
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

// The names a target goes by on the command line, most specific first: its
// name (what plan prints), its table or its globs (what check prints,
// "app:audit_events", "backups:db-*.sqlite.gz").
enum class LabelKind { kName, kTable, kGlob };

std::vector<std::string> TargetLabels(const Target& t, LabelKind kind) {
  switch (kind) {
    case LabelKind::kName: return {t.name};
    case LabelKind::kTable: return t.table.empty() ? std::vector<std::string>{} : std::vector<std::string>{t.table};
    case LabelKind::kGlob: {
      std::vector<std::string> labels = t.paths;
      std::string joined;
      for (const auto& p : t.paths) joined += (joined.empty() ? "" : ",") + p;
      if (t.paths.size() > 1) labels.push_back(joined);
      return labels;
    }
  }
  return {};
}

// The record the command line names: the store, the target(s) and the key.
struct NamedRecord {
  std::string store;
  std::string target;  // as shown in "STORE/TARGET/KEY"
  std::string key;
  std::vector<const Selection*> selections;
  bool by_path = false;  // a file path: every target of the store, judged by its globs
  std::optional<std::string> ledger_target;  // the target name deletions are looked up under
};

// STORE/TARGET/KEY (or STORE:TARGET/KEY, as check prints a target). The key
// is what follows the target, so file keys may hold '/', and so may a
// target's glob. A name beats a table beats a glob; the longest wins.
// nullopt when `spec` names no store; *why says what did not match.
std::optional<NamedRecord> ResolveStoreTargetKey(const std::string& spec, const std::vector<Selection>& held,
                                                 const Config& config, std::string* why) {
  const size_t sep = spec.find_first_of("/:");
  if (sep == 0 || sep == std::string::npos) return std::nullopt;
  const std::string store = spec.substr(0, sep);
  if (!config.stores.count(store)) return std::nullopt;
  const std::string rest = spec.substr(sep + 1);
  std::string names;
  for (LabelKind kind : {LabelKind::kName, LabelKind::kTable, LabelKind::kGlob}) {
    std::string best;
    for (const Selection& d : held) {
      if (d.target->store != store) continue;
      for (const std::string& label : TargetLabels(*d.target, kind)) {
        if (kind == LabelKind::kName && (", " + names + ", ").find(", " + label + ", ") == std::string::npos)
          names += (names.empty() ? "" : ", ") + label;
        if (!label.empty() && rest.size() > label.size() + 1 && rest.compare(0, label.size(), label) == 0 &&
            rest[label.size()] == '/' && label.size() > best.size())
          best = label;
      }
    }
    if (best.empty()) continue;
    NamedRecord r;
    r.store = store;
    r.target = best;
    r.key = rest.substr(best.size() + 1);
    std::set<std::string> targets;
    for (const Selection& d : held) {
      if (d.target->store != store) continue;
      const auto labels = TargetLabels(*d.target, kind);
      if (std::find(labels.begin(), labels.end(), best) == labels.end()) continue;
      r.selections.push_back(&d);
      targets.insert(d.target->name);
    }
    if (targets.size() == 1) r.ledger_target = *targets.begin();
    return r;
  }
  const size_t slash = rest.find('/');
  *why = "explain: no target '" + rest.substr(0, slash) + "' on store '" + store + "'" +
         (names.empty() ? std::string() : " (targets there: " + names + ")") +
         (slash == std::string::npos ? "; expected STORE/TARGET/KEY" : "");
  return std::nullopt;
}

// A file path, absolute or relative to the working directory, under the
// root of a files store (the deepest such root): its key is the path under
// that root. The file need not exist any more (its deletion is explained).
std::optional<NamedRecord> ResolveFilePath(const std::string& spec, const std::vector<Selection>& held,
                                           const Config& config) {
  std::error_code ec;
  const std::filesystem::path abs = std::filesystem::absolute(spec, ec).lexically_normal();
  if (ec || spec.empty()) return std::nullopt;
  const StoreConfig* best = nullptr;
  std::filesystem::path best_rel;
  // Lexically first; then with symlinks resolved (a root under /tmp
  // reached through a symlink), except the file's own name: a symlink is
  // never a record, and the store says so.
  std::filesystem::path canonical = std::filesystem::weakly_canonical(abs.parent_path(), ec) / abs.filename();
  if (ec) canonical = abs;
  for (const auto& [name, store] : config.stores) {
    if (store.type != StoreType::kFiles) continue;
    std::error_code root_ec;
    std::filesystem::path canonical_root = std::filesystem::weakly_canonical(store.root, root_ec);
    if (root_ec) canonical_root = store.root.lexically_normal();
    const std::pair<std::filesystem::path, std::filesystem::path> tries[] = {
        {abs, store.root.lexically_normal()}, {canonical, canonical_root}};
    for (const auto& [file, root] : tries) {
      const std::filesystem::path rel = file.lexically_relative(root);
      if (rel.empty() || rel == "." || *rel.begin() == "..") continue;
      if (!best || store.root.string().size() > best->root.string().size()) {
        best = &store;
        best_rel = rel;
      }
      break;
    }
  }
  if (!best) return std::nullopt;
  NamedRecord r;
  r.store = best->name;
  r.key = best_rel.generic_string();
  r.by_path = true;
  for (const Selection& d : held)
    if (d.target->store == r.store) r.selections.push_back(&d);
  if (r.selections.empty()) return std::nullopt;
  r.target = r.selections[0]->target->name;
  return r;
}

// For a record whose event clock is empty: the event, in the words the rule
// has ("accounts.closed_at"), and the state before it ("account open").
// nullopt for a clock that is not an event's (no join): an empty own
// column is just undated.
struct EventWords {
  std::string event;
  std::string pending;
};
std::optional<EventWords> EventOf(const Target& t) {
  if (t.clock.source != ClockSource::kColumn || !t.clock.join) return std::nullopt;
  const std::string& table = t.clock.join->table;
  std::string noun = table;
  if (noun.size() > 1 && noun.back() == 's') noun.pop_back();
  std::string state = t.clock.column;
  for (const char* suffix : {"_at", "_on", "_date", "_time"}) {
    const std::string sfx = suffix;
    if (state.size() > sfx.size() && state.compare(state.size() - sfx.size(), sfx.size(), sfx) == 0) {
      state.erase(state.size() - sfx.size());
      break;
    }
  }
  std::string pending = noun + " not " + state + " yet";
  if (state == "closed") pending = noun + " open";
  if (state == "ended") pending = noun + " ongoing";
  return EventWords{table + "." + t.clock.column, pending};
}

// One rule's answer for the record.
struct RuleAnswer {
  const Selection* selection = nullptr;
  RecordFacts facts;
  RecordVerdict verdict;
  std::string reason;  // verdict.reason, or the event's words
  std::optional<EventWords> event;  // set when the event has not happened
  // The last instant at which the record is kept under this rule (not
  // due, or a floor): deletable just after it, unless a hold is placed.
  // nullopt: kept whatever the time (undated, filters, no cutoff).
  std::optional<Timestamp> kept_until;
};

}  // namespace

Status RunExplainCommand(const CommandArgs& a) {
  po::options_description desc("Options");
  desc.add_options()("record", po::value<std::string>()->value_name("RECORD"),
                     "STORE/TARGET/KEY, or a file path under a files store's root")(
      "as-of", po::value<std::string>()->value_name("TIME"), "judge the record at another moment, past or future")(
      "format", po::value<std::string>()->value_name("FORMAT"), "table or json");
  AddCommonOptions(&desc);
  po::positional_options_description pos;
  pos.add("record", 1);
  auto vm = ParseCommandLine(a, desc, &pos,
                             "retention explain STORE/TARGET/KEY|FILE [--as-of TIME] [--format table|json]");
  if (!vm.ok()) return vm.status();
  if (!*vm) return Status::Ok();
  auto format = FormatOption(**vm, {"table", "json"});
  if (!format.ok()) return format.status();
  if (!(*vm)->count("record")) return Status::Usage("explain needs a record: STORE/TARGET/KEY or a file path");
  const std::string spec = (**vm)["record"].as<std::string>();

  auto loaded = LoadConfigAndRules(**vm);
  if (!loaded.ok()) return loaded.status();
  const Config& config = loaded->config;
  auto zone = TimeZone::Load(config.time_zone);
  if (!zone.ok()) return zone.status();
  const Timestamp now = a.env->Now();
  auto as_of_option = AsOfOption(**vm, *zone, now, *a.err);
  if (!as_of_option.ok()) return as_of_option.status();
  const Timestamp as_of = *as_of_option;
  auto state = OpenStateForReading(*a.env, config);
  if (!state.ok()) return state.status();
  // Holds in force now, as plan and purge --as-of take them: a hold placed
  // today protects the record whatever moment is asked about.
  auto holds = LoadHoldSet(state->get(), now);
  if (!holds.ok()) return holds.status();
  auto selections = MakeSelections(config, loaded->rules, as_of, "");
  if (!selections.ok()) return selections.status();
  const std::vector<Selection> held = WithHolds(std::move(*selections), *holds);

  std::string why;
  std::optional<NamedRecord> named = ResolveStoreTargetKey(spec, held, config, &why);
  if (!named) named = ResolveFilePath(spec, held, config);
  if (!named) {
    if (!why.empty()) return Status::Usage(why);
    return Status::Usage("explain: '" + spec +
                         "' is neither STORE/TARGET/KEY (a store of the config) nor a path under a files store's root");
  }
  const std::string& store_name = named->store;
  const std::string& key = named->key;

  StoreSet stores(config, /*read_only=*/true, a.env->file_system);
  auto store = stores.Get(store_name);
  if (!store.ok()) return store.status();

  // Every rule's answer first: the verdict line sums them up before the
  // details.
  std::vector<RuleAnswer> answers;
  for (const Selection* d : named->selections) {
    auto found = (*store)->Lookup(*d, key);
    if (!found.ok()) return found.status();
    RuleAnswer r;
    r.selection = d;
    r.facts = std::move(*found);
    r.verdict = JudgeRecord(*d, r.facts);
    r.reason = r.verdict.reason;
    const Decider decided = r.verdict.evaluation.decided_by;
    // The ledger's words say "no longer" (the record changed since it was
    // selected); here nothing was selected.
    if (decided == Decider::kFilters)
      r.reason = std::string("not selected: it does not match the target's ") +
                 (d->target->paths.empty() ? "filters" : "paths");
    if (decided == Decider::kUndated && r.facts.scopes[0].clock_text.empty()) {
      r.event = EventOf(*d->target);
      if (r.event) {
        r.reason = "not due: " + r.event->event + " has not happened (" + r.event->pending + ")";
      } else {
        r.reason = "undated: its clock (" + ClockDescription(d->target->clock) + ") is empty, so it is never due";
      }
    }
    if (decided == Decider::kNotDue || decided == Decider::kFloor) {
      const RecordFacts::ScopeFacts& own = r.facts.scopes[0];
      std::optional<Timestamp> until;
      if (own.clock && d->category->delete_after) until = LastNotDue(*own.clock, *d->category->delete_after, d->zone);
      for (const FloorGuard& g : d->floors) {
        if (!until || g.scope >= r.facts.scopes.size()) break;
        const RecordFacts::ScopeFacts& guard = r.facts.scopes[g.scope];
        const Category& floor_category = *d->scopes[g.scope].category;
        if (!guard.matches_filters || !floor_category.keep_at_least) continue;
        if (!guard.clock) {
          until.reset();  // an undated record under a floor is kept for good
          break;
        }
        until = std::max(*until, LastNotDue(*guard.clock, *floor_category.keep_at_least, d->zone));
      }
      r.kept_until = until;
    }
    answers.push_back(std::move(r));
  }
  // A file path is explained under the targets whose globs take it.
  if (named->by_path) {
    std::vector<RuleAnswer> taken;
    for (RuleAnswer& r : answers)
      if (r.facts.exists && !r.facts.scopes.empty() && r.facts.scopes[0].matches_filters) taken.push_back(r);
    if (!taken.empty()) answers = std::move(taken);
    named->target = answers.empty() ? named->target : answers[0].selection->target->name;
  }
  const std::string shown = store_name + "/" + named->target + "/" + key;
  bool exists_anywhere = false;
  for (const RuleAnswer& r : answers) exists_anywhere |= r.facts.exists;

  Json out_json = {{"record", shown},
                   {"store", store_name},
                   {"target", named->target},
                   {"key", key},
                   {"made_at", FormatTimestamp(now)},
                   {"as_of", FormatTimestamp(as_of)},
                   {"rules", Json::array()}};
  std::ostringstream details;
  const Hold* first_hold = nullptr;
  for (const RuleAnswer& r : answers) {
    const Selection* d = r.selection;
    const Category& c = *d->category;
    const RecordFacts& facts = r.facts;
    const RecordVerdict& verdict = r.verdict;
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
        if (!first_hold) first_hold = h;
        const SelectionScope& under = d->scopes[e.scope];
        hold_json.push_back({{"id", h->id},
                             {"matter", h->matter},
                             {"reason", h->reason},
                             {"placed_by", h->author},
                             {"under", under.category->name + "/" + under.target->name}});
        hold_lines.push_back(HoldText(*h) + " [under " + under.category->name + "/" + under.target->name + "]");
      }
    }

    const std::string rule = d->target->where.ToString();
    const std::string clock_desc = ClockDescription(d->target->clock);
    out_json["rules"].push_back(
        {{"category", c.name},
         {"target", d->target->name},
         {"policy", c.policy},
         {"policy_source", c.policy_source},
         {"schedule", ScheduleText(c)},
         {"rule", rule},
         {"clock_source", clock_desc},
         {"exists", facts.exists},
         {"matches_filters", own.matches_filters},
         {"clock_text", own.clock_text},
         {"clock", own.clock ? Json(FormatTimestamp(*own.clock)) : Json(nullptr)},
         {"subject", own.subject_kind && own.subject_id && !own.subject_id->empty()
                         ? Json(*own.subject_kind + ":" + *own.subject_id)
                         : Json(nullptr)},
         {"cutoff", d->cutoff ? Json(FormatTimestamp(*d->cutoff)) : Json(nullptr)},
         {"due_after", due_after ? Json(FormatTimestamp(*due_after)) : Json(nullptr)},
         {"kept_until", r.kept_until ? Json(FormatTimestamp(*r.kept_until)) : Json(nullptr)},
         {"floors", floors},
         {"holds", hold_json},
         {"deletable", verdict.deletable},
         {"verdict", r.reason}});
    std::ostream& out = details;
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
      if (due_after)
        out << "  due        after " << FormatTimestamp(*due_after) << " (clock + " << c.delete_after->ToString()
            << ")\n";
    }
    out << "  floors     " << (floor_lines.empty() ? "none from other rules" : "") << "\n";
    for (const auto& l : floor_lines) out << "    " << l << "\n";
    out << "  holds      " << (hold_lines.empty() ? "none" : "") << "\n";
    for (const auto& l : hold_lines) out << "    " << l << "\n";
    if (facts.exists) {
      out << "  verdict    " << (verdict.deletable ? "DELETABLE" : "KEPT") << ": " << r.reason << "\n";
    } else {
      out << "  verdict    ABSENT: not in the store (the ledger's deletions of it, if any, follow)\n";
    }
  }

  // A record that is gone: the ledger says who deleted it, when and why.
  Json deletions = Json::array(), pending = Json::array();
  if (!exists_anywhere && *state) {
    audit::LedgerFilter f;
    // Batch rows too: a record a running purge has deleted but not yet
    // settled is pending in its batch entry (claims nothing yet).
    f.kinds = {LedgerKind::kDelete, LedgerKind::kBatch};
    f.store = store_name;
    f.target = named->ledger_target;
    f.key = key;
    // Its records: per-record delete entries, and the settled candidates of
    // the batch entries the batch index says reach the key (no scan of
    // every record).
    RETENTION_RETURN_IF_ERROR(audit::ScanRows(**state, f, [&](const LedgerEntry& e, const LedgerRecord* record) {
      Json row = audit::EntryToJson(e, record);
      if (row.value("kind", "") == "delete") {
        deletions.push_back(std::move(row));
      } else if (record && row.value("outcome", "") == "pending") {
        pending.push_back(std::move(row));
      }
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

  // The one verdict (SPEC 4, overlaps): a hold beats everything; the record
  // goes when any rule lets it go; else the rule that keeps it longest
  // least says until when.
  std::string verdict, outcome;
  std::optional<Timestamp> until;
  const bool at_now = as_of == now;
  const RuleAnswer* deciding = nullptr;
  for (const RuleAnswer& r : answers)
    if (r.verdict.deletable && !deciding) deciding = &r;
  if (!exists_anywhere) {
    if (pruned_by) {
      outcome = "gone";
      verdict = "GONE: pruned by anchor entry " + std::to_string(pruned_by->seq) + " at " +
                FormatTimestamp(pruned_by->at) + " (run " + std::to_string(pruned_by->run_id) + ")";
    } else if (!deletions.empty()) {
      outcome = "gone";
      const Json& e = deletions[0];
      verdict = "GONE: deleted by run " + e["run"].dump() + " at " + e["at"].get<std::string>() + " (ledger entry " +
                e["seq"].dump() + ")";
    } else if (!pending.empty()) {
      outcome = "gone";
      const Json& e = pending[0];
      verdict = "GONE: being deleted by run " + e["run"].dump() + " (batch ledger entry " + e["seq"].dump() +
                ", not yet settled)";
    } else {
      outcome = "absent";
      verdict = "no record " + key + " in " + store_name + "/" + named->target;
    }
  } else if (deciding) {
    outcome = "delete";
    verdict = at_now ? "DELETE at next purge" : "DELETE by a purge as of " + FormatTimestamp(as_of);
    verdict += ": " + deciding->selection->category->name + "/" + deciding->selection->target->name + " " +
               deciding->reason;
  } else if (first_hold) {
    outcome = "keep";
    verdict = "KEEP: held by hold " + std::to_string(first_hold->id) + " (matter " + first_hold->matter + ": " +
              first_hold->reason + ")";
  } else {
    // Kept for now: the rule that lets it go first says until when.
    const RuleAnswer* soonest = nullptr;
    for (const RuleAnswer& r : answers)
      if (r.facts.exists && r.kept_until && (!soonest || *r.kept_until < *soonest->kept_until)) soonest = &r;
    const RuleAnswer* event = nullptr;
    for (const RuleAnswer& r : answers)
      if (r.event && !event) event = &r;
    if (soonest) {
      until = soonest->kept_until;
      const Decider decided = soonest->verdict.evaluation.decided_by;
      outcome = decided == Decider::kFloor ? "keep" : "not_due";
      verdict = (decided == Decider::kFloor ? "KEEP until " : "NOT DUE until ") + FormatTimestamp(*until) + ": " +
                soonest->selection->category->name + "/" + soonest->selection->target->name + " " + soonest->reason;
    } else if (event) {
      outcome = "not_due";
      verdict = "NOT DUE: " + event->event->event + " has not happened (" + event->event->pending + ")";
    } else {
      outcome = "keep";
      const RuleAnswer* first = nullptr;
      for (const RuleAnswer& r : answers)
        if (r.facts.exists && !first) first = &r;
      verdict = "KEEP: " + (first ? first->selection->category->name + "/" + first->selection->target->name + " " +
                                        first->reason
                                  : std::string("no rule selects it"));
    }
  }
  out_json["verdict"] = verdict;
  out_json["outcome"] = outcome;
  out_json["until"] = until ? Json(FormatTimestamp(*until)) : Json(nullptr);

  std::ostream& out = *a.out;
  if (*format == "json") {
    PrintJsonDocument(out, "explain", std::move(out_json));
  } else {
    out << verdict << "\n\nRecord " << shown << " (as of " << FormatTimestamp(as_of)
        << (at_now ? "" : "; now " + FormatTimestamp(now)) << ")\n"
        << details.str();
    if (pruned_by) {
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
  }
  // A record that never existed is an answer, not an error: exit 1 (SPEC 5,
  // "1 where documented"), as grep says "no match".
  if (outcome == "absent" && a.exit_status) *a.exit_status = 1;
  return Status::Ok();
}

}  // namespace retention
