// retention hold add|list|show|release: legal holds.

#include <cerrno>
#include <algorithm>
#include <cstdio>
#include <deque>
#include <iostream>
#include <set>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "calendar/cutoff.h"
#include "cli/command.h"
#include "cli/state_access.h"
#include "holds/hold_set.h"
#include "holds/hold_table.h"
#include "plan/selection.h"
#include "state/state_locks.h"
#include "state/state_open.h"
#include "state/state_ops.h"
#include "stores/files_glob.h"
#include "stores/files_walk.h"
#include "stores/store_set.h"
#include "util/identity.h"
#include "util/json_document.h"
#include "util/json_text.h"

namespace retention {

namespace {

// Characters of a hold's reason `hold list` shows on a terminal.
constexpr size_t kTerminalReasonWidth = 40;

// A hold as `hold add`, `hold list --format json` and `hold show --format
// json` print it: every field that is set (PrintJsonDocument drops the
// nulls), the subject as "KIND:ID".
// The command's documented output, not the ledger's record of the hold
// (its hold_placed and hold_released details are ledger/ledger_payloads.h).
nlohmann::json HoldToJson(const Hold& h) {
  auto opt = [](const auto& o) { return o ? nlohmann::json(*o) : nlohmann::json(nullptr); };
  auto time = [](const std::optional<Timestamp>& t) {
    return t ? nlohmann::json(FormatTimestamp(*t)) : nlohmann::json(nullptr);
  };
  nlohmann::json scope = {
      {"category", opt(h.scope.category)},
      {"target", opt(h.scope.target)},
      {"subject", h.scope.subject_kind ? nlohmann::json(*h.scope.subject_kind + ":" + h.scope.subject_id.value_or(""))
                                       : nlohmann::json(nullptr)},
      {"key", opt(h.scope.key)},
      {"clock_from", time(h.scope.clock_from)},
      {"clock_until", time(h.scope.clock_until)},
  };
  return {{"id", h.id},
          {"matter", h.matter},
          {"reason", h.reason},
          {"placed_by", h.author},
          {"placed_at", FormatTimestamp(h.placed_at)},
          {"expires_at", time(h.expires_at)},
          {"scope", scope},
          {"released_at", time(h.released_at)},
          {"released_by", h.released_at ? nlohmann::json(h.released_by) : nlohmann::json(nullptr)},
          {"release_reason", h.released_at ? nlohmann::json(h.release_reason) : nlohmann::json(nullptr)}};
}

std::string ScopeText(const HoldScope& s) { return HoldScopeText(s); }

// The store of a category's target, as the rules name it.
std::string StoreOfTarget(const RuleSet& rules, const std::string& category, const std::string& target) {
  for (const Category& c : rules.categories) {
    if (c.name != category) continue;
    for (const Target& t : c.targets)
      if (t.name == target) return t.store;
  }
  return "";
}

// Checks a scope against the rules: a hold naming something that does not
// exist would protect nothing while looking like it does.
Status ValidateScope(const HoldScope& scope, const RuleSet& rules) {
  if (scope.category) {
    bool found = false;
    for (const Category& c : rules.categories) found |= c.name == *scope.category;
    if (!found) return Status::Invalid("hold spec: no category named '" + *scope.category + "' in the rules");
  }
  if (scope.target) {
    bool found = false;
    for (const Category& c : rules.categories) {
      if (scope.category && c.name != *scope.category) continue;
      for (const Target& t : c.targets) found |= t.name == *scope.target;
    }
    if (!found)
      return Status::Invalid("hold spec: no target named '" + *scope.target + "'" +
                             (scope.category ? " in category '" + *scope.category + "'" : std::string()));
  }
  if (scope.subject_kind) {
    std::set<std::string> kinds;
    for (const Category& c : rules.categories)
      for (const Target& t : c.targets)
        if (t.subject) kinds.insert(t.subject->kind);
    if (!kinds.count(*scope.subject_kind)) {
      std::string known;
      for (const auto& k : kinds) known += (known.empty() ? "" : ", ") + k;
      return Status::Invalid("hold spec: no target maps subject kind '" + *scope.subject_kind +
                             "' (the rules map: " + (known.empty() ? "none" : known) + ")");
    }
  }
  if (scope.clock_from && scope.clock_until && !(*scope.clock_from < *scope.clock_until))
    return Status::Invalid("hold spec: --from must be earlier than --until");
  return Status::Ok();
}

// A hold on a key covers the record whose key is exactly that text. For the
// files targets the scope may cover, a key is a path relative to the store's
// root that the target's `paths` select ("a/b.log"); an operator naturally
// gives the file's full path, "./b.log" or a path the target does not select,
// and such a hold would be placed, and cover nothing. Refused (65), naming
// the key to give when it can be told.
Status ValidateFilesKey(const HoldScope& scope, const RuleSet& rules, const Config& config) {
  if (!scope.key) return Status::Ok();
  const std::string& key = *scope.key;
  std::vector<std::string_view> parts;
  const bool well_formed = files::SplitKey(key, &parts);
  std::string suggestion;
  for (const Category& c : rules.categories) {
    if (scope.category && c.name != *scope.category) continue;
    for (const Target& t : c.targets) {
      if (scope.target && t.name != *scope.target) continue;
      auto store = config.stores.find(t.store);
      if (store == config.stores.end() || store->second.type != StoreType::kFiles) return Status::Ok();
      auto globs = files::GlobSet::Compile(t.paths);
      if (!globs.ok()) return Status::Ok();  // the rules' check reports it
      if (well_formed && globs->Matches(key)) return Status::Ok();
      // What the operator probably meant: the path under this store's root.
      std::string rel = key;
      const std::string root = store->second.root.string() + "/";
      if (rel.rfind(root, 0) == 0) rel = rel.substr(root.size());
      while (rel.rfind("./", 0) == 0) rel = rel.substr(2);
      while (!rel.empty() && rel.back() == '/') rel.pop_back();
      if (suggestion.empty() && rel != key && files::SplitKey(rel, &parts) && globs->Matches(rel)) suggestion = rel;
    }
  }
  return Status::Invalid("hold spec: --key '" + key +
                         "' names no file the scope's files targets select, so the hold would keep nothing: "
                         "a file's key is its path relative to the store's root, as `retention plan` and the "
                         "purge log write it" +
                         (suggestion.empty() ? std::string() : " (here: '" + suggestion + "')"));
}

// The bytes of a well-formed UTF-8 sequence starting at `s[i]`, or 0.
size_t Utf8SequenceLength(const std::string& s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  size_t n = 0;
  unsigned lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) n = 2;
  else if (c >= 0xE0 && c <= 0xEF) n = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
  else if (c >= 0xF0 && c <= 0xF4) n = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
  else return 0;
  if (i + n > s.size() || b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k)
    if (b(i + k) < 0x80 || b(i + k) > 0xBF) return 0;
  return n;
}

// Text a person gives a hold (matter, reason, author): it is shown in
// tables and logs and written to the ledger and its JSON exports, so it
// must say something, on one line, without terminal control sequences, in
// valid UTF-8. `what` names the option in the message.
Status CheckHoldText(const std::string& what, const std::string& text, bool allow_controls = false) {
  if (text.find_first_not_of(" \t\r\n\v\f") == std::string::npos)
    return Status::Invalid("hold spec: " + what + " must not be empty or blank");
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (!allow_controls && (c < 0x20 || c == 0x7F)) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02x", c);
      return Status::Invalid("hold spec: " + what + " contains a control character (" + hex + " at byte " +
                             std::to_string(i + 1) + ")");
    }
    const size_t n = Utf8SequenceLength(text, i);
    if (n == 0)
      return Status::Invalid("hold spec: " + what + " is not valid UTF-8 (at byte " + std::to_string(i + 1) + ")");
    i += n;
  }
  return Status::Ok();
}

// What a hold would keep of one set of records: the targets over them (the
// same table of one store, or one files store: SameRecords), as
// (category, target) names, and how many records the hold covers there.
struct CoveredCount {
  std::vector<std::pair<std::string, std::string>> scopes;
  int64_t records = 0;
};

// Counts records, not (record, rule) pairs: a row two categories reach
// (sales under transactions and under closed_accounts) is one record. Per
// set of records, one count over a selection whose scope 0 is the table
// itself, every row (the first target without its filters; for files the
// union of the targets' globs), and whose other scopes are the targets the
// hold's exclusions are matched under, each with its own filters. So a row
// is counted once when the hold covers it under any of them.
Result<std::vector<CoveredCount>> CountCoveredRecords(const Hold& hold, const RuleSet& rules, const Config& config,
                                                      std::shared_ptr<const files::FileSystem> file_system, Timestamp now) {
  const HoldSet only({hold}, now);
  struct Group {
    std::vector<SelectionScope> scopes;  // the rules' targets
  };
  std::vector<Group> groups;
  for (const Category& c : rules.categories) {
    for (const Target& t : c.targets) {
      auto same = std::find_if(groups.begin(), groups.end(),
                               [&](const Group& g) { return SameRecords(*g.scopes[0].target, t); });
      if (same == groups.end()) same = groups.insert(groups.end(), Group{});
      same->scopes.push_back({&c, &t});
    }
  }
  // Scope 0's targets: stores may keep a pointer to a target they resolved.
  std::deque<Target> whole_tables;
  StoreSet stores(config, /*read_only=*/true, file_system);
  std::vector<CoveredCount> out;
  for (const Group& g : groups) {
    const Target& first = *g.scopes[0].target;
    Target& whole = whole_tables.emplace_back(first);
    whole.filters.clear();
    for (const SelectionScope& sc : g.scopes)
      for (const std::string& p : sc.target->paths)
        if (std::find(whole.paths.begin(), whole.paths.end(), p) == whole.paths.end()) whole.paths.push_back(p);
    auto zone = StoreZone(config, first.store);
    if (!zone.ok()) return zone.status();
    Selection sel;
    sel.category = g.scopes[0].category;
    sel.target = &whole;
    sel.zone = *zone;
    sel.any_age = true;
    sel.scopes.push_back({g.scopes[0].category, &whole});
    for (const SelectionScope& sc : g.scopes) sel.scopes.push_back(sc);
    sel = WithHolds(std::move(sel), only);
    // Scope 0 is no rule's: a hold matched under it would ignore filters.
    std::erase_if(sel.exclusions, [](const HoldExclusion& e) { return e.scope == 0; });
    if (sel.exclusions.empty()) continue;  // the hold's scope names other categories or targets
    auto store = stores.Get(first.store);
    if (!store.ok()) return store.status();
    auto n = (*store)->CountCovered(sel);
    if (!n.ok()) return n.status();
    CoveredCount count;
    count.records = *n;
    // The targets the hold applies to, the first one first.
    for (size_t i = 1; i < sel.scopes.size(); ++i) {
      const bool applies = std::any_of(sel.exclusions.begin(), sel.exclusions.end(),
                                       [&](const HoldExclusion& e) { return e.scope == i; });
      if (applies) count.scopes.push_back({sel.scopes[i].category->name, sel.scopes[i].target->name});
    }
    out.push_back(std::move(count));
  }
  return out;
}

Status HoldAdd(const CommandArgs& a) {
  po::options_description desc("Options");
  desc.add_options()
      ("matter", po::value<std::string>()->value_name("TEXT"), "the case or request the hold belongs to (required)")
      ("reason", po::value<std::string>()->value_name("TEXT"), "why the data must be kept (required)")
      ("by", po::value<std::string>()->value_name("NAME"), "who places the hold (default: the invoking user)")
      ("category", po::value<std::string>()->value_name("NAME"), "scope: a category")
      ("target", po::value<std::string>()->value_name("NAME"), "scope: a target")
      ("subject", po::value<std::string>()->value_name("KIND:ID"), "scope: a data subject, e.g. customer:42")
      ("key", po::value<std::string>()->value_name("KEY"), "scope: one record key")
      ("from", po::value<std::string>()->value_name("TIME"), "scope: records whose clock is at or after TIME")
      ("until", po::value<std::string>()->value_name("TIME"), "scope: records whose clock is before TIME")
      ("expires", po::value<std::string>()->value_name("TIME"), "the hold ends by itself at TIME (default: never)")
      ("freeze-all", po::bool_switch(), "allow an empty scope: freeze ALL deletion")
      ("dry-run", po::bool_switch(), "count the records the hold would cover; place nothing")
      ("format", po::value<std::string>()->value_name("FORMAT"), "table or json");
  AddCommonOptions(&desc);
  auto vm = ParseCommandLine(a, desc, nullptr,
                             "retention hold add --matter TEXT --reason TEXT [--subject KIND:ID] [--category NAME] "
                             "[--target NAME] [--key KEY] [--from TIME] [--until TIME] [--expires TIME] [--dry-run]");
  if (!vm.ok()) return vm.status();
  if (!*vm) return Status::Ok();
  const po::variables_map& v = **vm;
  auto format = FormatOption(v, {"table", "json"});
  if (!format.ok()) return format.status();
  auto loaded = LoadConfigAndRules(v);
  if (!loaded.ok()) return loaded.status();
  const Config& config = loaded->config;
  auto zone = TimeZone::Load(config.time_zone);
  if (!zone.ok()) return zone.status();

  Hold hold;
  for (auto [opt, field] : {std::pair{"matter", &hold.matter}, std::pair{"reason", &hold.reason}}) {
    if (!v.count(opt))
      return Status::Usage(std::string("hold add needs --") + opt + " (try 'retention hold add --help')");
    *field = v[opt].as<std::string>();
    RETENTION_RETURN_IF_ERROR(CheckHoldText(std::string("--") + opt, *field));
  }
  hold.author = v.count("by") ? v["by"].as<std::string>() : InvokingUser();
  RETENTION_RETURN_IF_ERROR(CheckHoldText(v.count("by") ? "--by" : "the invoking user's name (give --by)", hold.author));
  HoldScope& s = hold.scope;
  // Keys and subjects are the store's values, whatever bytes they hold; they
  // only need to survive the ledger's JSON.
  for (const char* opt : {"category", "target", "key", "subject"})
    if (v.count(opt)) RETENTION_RETURN_IF_ERROR(CheckHoldText(std::string("--") + opt, v[opt].as<std::string>(),
                                                              /*allow_controls=*/true));
  if (v.count("category")) s.category = v["category"].as<std::string>();
  if (v.count("target")) s.target = v["target"].as<std::string>();
  if (v.count("key")) s.key = v["key"].as<std::string>();
  // A key is a record's identity only within its table: "5" is a row of
  // every table with an integer key, and a hold on it alone would keep all
  // of them.
  if (s.key && !s.target)
    return Status::Usage("hold add: --key needs --target: a key names a record only within one target (try "
                         "'retention hold add --help')");
  if (v.count("subject")) {
    const std::string subject = v["subject"].as<std::string>();
    auto colon = subject.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == subject.size())
      return Status::Invalid("hold spec: --subject must be KIND:ID, e.g. customer:42 (got '" + subject + "')");
    s.subject_kind = subject.substr(0, colon);
    s.subject_id = subject.substr(colon + 1);
  }
  // Around a DST change each bound takes the reading under which the hold
  // covers more: the range starts earlier and ends later, the hold lasts
  // longer.
  struct MomentOption {
    const char* name;
    std::optional<Timestamp>* field;
    TimeZone::Pick pick;
  };
  for (const MomentOption& o : {MomentOption{"from", &s.clock_from, TimeZone::Pick::kEarlier},
                                MomentOption{"until", &s.clock_until, TimeZone::Pick::kLater},
                                MomentOption{"expires", &hold.expires_at, TimeZone::Pick::kLater}}) {
    const char* opt = o.name;
    auto* field = o.field;
    if (!v.count(opt)) continue;
    auto t = ParseMomentArgument(std::string("--") + opt, v[opt].as<std::string>(), *zone, o.pick, a.env->Now(), *a.err);
    if (!t.ok()) return t.status();
    *field = *t;
  }
  if (s.empty() && !v["freeze-all"].as<bool>())
    return Status::Invalid("hold spec: the hold names no scope, so it would freeze ALL deletion; give a scope "
                           "(--subject, --category, --target, --key, --from/--until) or --freeze-all");
  RETENTION_RETURN_IF_ERROR(ValidateScope(s, loaded->rules));
  RETENTION_RETURN_IF_ERROR(ValidateFilesKey(s, loaded->rules, config));
  const Timestamp now = a.env->Now();
  if (hold.expires_at && *hold.expires_at <= now) return Status::Invalid("hold spec: --expires is in the past");
  hold.placed_at = now;

  if (v["dry-run"].as<bool>()) {
    auto counted = CountCoveredRecords(hold, loaded->rules, config, a.env->file_system, now);
    if (!counted.ok()) return counted.status();
    int64_t total = 0;
    nlohmann::json per_target = nlohmann::json::array();
    for (const CoveredCount& c : *counted) {
      total += c.records;
      nlohmann::json also = nlohmann::json::array();
      for (size_t i = 1; i < c.scopes.size(); ++i) also.push_back(c.scopes[i].first + "/" + c.scopes[i].second);
      nlohmann::json entry = {{"category", c.scopes[0].first},
                              {"store", StoreOfTarget(loaded->rules, c.scopes[0].first, c.scopes[0].second)},
                              {"target", c.scopes[0].second},
                              {"records", c.records}};
      if (!also.empty()) entry["also"] = also;
      per_target.push_back(std::move(entry));
    }
    if (*format == "json") {
      PrintJsonDocument(*a.out, "hold-dry-run",
                        {{"dry_run", true}, {"scope", HoldToJson(hold)["scope"]}, {"records", total},
                         {"targets", per_target}});
    } else {
      *a.out << "Dry run: the hold (" << ScopeText(s) << ") would cover " << total << " records now:\n";
      for (const CoveredCount& c : *counted) {
        *a.out << "  " << c.scopes[0].first << "/" << c.scopes[0].second;
        for (size_t i = 1; i < c.scopes.size(); ++i)
          *a.out << (i == 1 ? " (the same records as " : ", ") << c.scopes[i].first << "/" << c.scopes[i].second;
        *a.out << (c.scopes.size() > 1 ? ")" : "") << ": " << c.records << "\n";
      }
      *a.out << "Nothing was placed.\n";
    }
    return Status::Ok();
  }

  auto state = OpenStateForWriting(*a.env, config);
  if (!state.ok()) return state.status();
  // Exclusive barrier: batches in flight commit first, none starts until
  // the hold is committed. From our return on, every batch sees it.
  auto locks = a.env->OpenLocks(config);
  if (!locks.ok()) return locks.status();
  RETENTION_RETURN_IF_ERROR(WriteUnderHoldBarrier(**locks, **state, [&]() -> Status {
    auto id = AddHold(**state, hold, HostNameInState(config.state));
    if (!id.ok()) return id.status();
    hold.id = *id;
    return Status::Ok();
  }));
  if (*format == "json") {
    PrintJsonDocument(*a.out, "hold", HoldToJson(hold));
  } else {
    *a.out << "Placed hold " << hold.id << " (" << hold.matter << "): " << ScopeText(s) << "\n";
  }
  return Status::Ok();
}

Result<int64_t> HoldIdArgument(const po::variables_map& v) {
  if (!v.count("id")) return Status::Usage("give the hold's ID (see `retention hold list`)");
  const std::string text = v["id"].as<std::string>();
  char* end = nullptr;
  errno = 0;
  long long id = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || id <= 0 || errno == ERANGE)
    return Status::Usage("'" + text + "' is not a hold ID");
  return static_cast<int64_t>(id);
}

Status HoldList(const CommandArgs& a) {
  po::options_description desc("Options");
  desc.add_options()("all", po::bool_switch(), "include released and expired holds")(
      "format", po::value<std::string>()->value_name("FORMAT"), "table or json");
  AddCommonOptions(&desc);
  auto vm = ParseCommandLine(a, desc, nullptr, "retention hold list [--all] [--format table|json]");
  if (!vm.ok()) return vm.status();
  if (!*vm) return Status::Ok();
  auto format = FormatOption(**vm, {"table", "json"});
  if (!format.ok()) return format.status();
  auto config = LoadConfigOnly(**vm);
  if (!config.ok()) return config.status();
  auto state = OpenStateForReading(*a.env, *config);
  if (!state.ok()) return state.status();
  std::vector<Hold> holds;
  if (*state) {
    auto list = (*state)->ListHolds((**vm)["all"].as<bool>());
    if (!list.ok()) return list.status();
    holds = std::move(*list);
  }
  const Timestamp now = a.env->Now();
  if (*format == "json") {
    nlohmann::json list = nlohmann::json::array();
    for (const Hold& h : holds) {
      auto j = HoldToJson(h);
      j["active"] = h.ActiveAt(now);
      list.push_back(std::move(j));
    }
    PrintJsonDocument(*a.out, "holds", {{"holds", std::move(list)}});
    return Status::Ok();
  }
  if (holds.empty()) {
    *a.out << "No holds" << ((**vm)["all"].as<bool>() ? "" : " in force") << ".\n";
    return Status::Ok();
  }
  // On a terminal a long reason would wrap every line: cut there only;
  // piped or redirected, and in --format json, it is whole.
  const bool terminal = a.out == &std::cout && ::isatty(STDOUT_FILENO);
  *a.out << FormatHoldTable(holds, now, terminal ? kTerminalReasonWidth : 0);
  return Status::Ok();
}

Status HoldShow(const CommandArgs& a) {
  po::options_description desc("Options");
  desc.add_options()("id", po::value<std::string>()->value_name("ID"), "the hold")(
      "format", po::value<std::string>()->value_name("FORMAT"), "table or json");
  AddCommonOptions(&desc);
  po::positional_options_description pos;
  pos.add("id", 1);
  auto vm = ParseCommandLine(a, desc, &pos, "retention hold show ID [--format table|json]");
  if (!vm.ok()) return vm.status();
  if (!*vm) return Status::Ok();
  auto format = FormatOption(**vm, {"table", "json"});
  if (!format.ok()) return format.status();
  auto id = HoldIdArgument(**vm);
  if (!id.ok()) return id.status();
  auto config = LoadConfigOnly(**vm);
  if (!config.ok()) return config.status();
  auto state = OpenStateForReading(*a.env, *config);
  if (!state.ok()) return state.status();
  std::optional<Hold> hold;
  if (*state) {
    auto h = (*state)->GetHold(*id);
    if (!h.ok()) return h.status();
    hold = std::move(*h);
  }
  if (!hold) return Status::Invalid("no hold with ID " + std::to_string(*id));
  if (*format == "json") {
    PrintJsonDocument(*a.out, "hold", HoldToJson(*hold));
    return Status::Ok();
  }
  const Hold& h = *hold;
  *a.out << "Hold " << h.id << "\n"
         << "  matter:   " << h.matter << "\n"
         << "  reason:   " << h.reason << "\n"
         << "  placed:   " << FormatTimestamp(h.placed_at) << " by " << h.author << "\n"
         << "  expires:  " << (h.expires_at ? FormatTimestamp(*h.expires_at) : std::string("never")) << "\n"
         << "  scope:    " << ScopeText(h.scope) << "\n";
  if (h.released_at)
    *a.out << "  released: " << FormatTimestamp(*h.released_at) << " by " << h.released_by << ": " << h.release_reason
           << "\n";
  else
    *a.out << "  state:    " << (h.ActiveAt(a.env->Now()) ? "active" : "expired") << "\n";
  return Status::Ok();
}

Status HoldRelease(const CommandArgs& a) {
  po::options_description desc("Options");
  desc.add_options()("id", po::value<std::string>()->value_name("ID"), "the hold")(
      "reason", po::value<std::string>()->value_name("TEXT"), "why the hold ends (required)")(
      "by", po::value<std::string>()->value_name("NAME"), "who releases it (default: the invoking user)");
  AddCommonOptions(&desc);
  po::positional_options_description pos;
  pos.add("id", 1);
  auto vm = ParseCommandLine(a, desc, &pos, "retention hold release ID --reason TEXT [--by NAME]");
  if (!vm.ok()) return vm.status();
  if (!*vm) return Status::Ok();
  auto id = HoldIdArgument(**vm);
  if (!id.ok()) return id.status();
  if (!(*vm)->count("reason"))
    return Status::Usage("hold release needs --reason (holds are released with a reason, never deleted)");
  RETENTION_RETURN_IF_ERROR(CheckHoldText("--reason", (**vm)["reason"].as<std::string>()));
  const std::string by = (*vm)->count("by") ? (**vm)["by"].as<std::string>() : InvokingUser();
  RETENTION_RETURN_IF_ERROR(CheckHoldText((*vm)->count("by") ? "--by" : "the invoking user's name (give --by)", by));
  auto config = LoadConfigOnly(**vm);
  if (!config.ok()) return config.status();
  auto state = OpenStateForWriting(*a.env, *config);
  if (!state.ok()) return state.status();
  auto locks = a.env->OpenLocks(*config);
  if (!locks.ok()) return locks.status();
  RETENTION_RETURN_IF_ERROR(WriteUnderHoldBarrier(**locks, **state, [&] {
    return ReleaseHold(**state, *id, by, (**vm)["reason"].as<std::string>(), a.env->Now(),
                       HostNameInState(config->state));
  }));
  *a.out << "Released hold " << *id << ".\n";
  return Status::Ok();
}

}  // namespace

Status RunHoldCommand(const CommandArgs& a) {
  static const char* kUsage =
      "Usage: retention hold add|list|show|release [options]\n"
      "  add       place a legal hold (--matter, --reason, a scope; --dry-run counts what it covers)\n"
      "  list      the holds in force (--all: released and expired too)\n"
      "  show ID   one hold\n"
      "  release ID --reason TEXT   end a hold (it stays on record)\n";
  if (a.args.empty() || a.args[0] == "--help" || a.args[0] == "-h") {
    if (a.args.empty()) return Status::Usage("hold needs a subcommand: add, list, show or release (try 'retention hold --help')");
    *a.out << kUsage;
    return Status::Ok();
  }
  CommandArgs sub = a;
  sub.name = "hold " + a.args[0];
  sub.args.erase(sub.args.begin());
  if (a.args[0] == "add") return HoldAdd(sub);
  if (a.args[0] == "list") return HoldList(sub);
  if (a.args[0] == "show") return HoldShow(sub);
  if (a.args[0] == "release") return HoldRelease(sub);
  return Status::Usage("unknown hold subcommand '" + a.args[0] + "' (add, list, show, release)");
}

}  // namespace retention
