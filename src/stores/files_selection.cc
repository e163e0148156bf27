#include "stores/files_selection.h"

namespace retention::files {

Result<FilesSelection> FilesSelection::Compile(const Selection& selection, const std::string& store) {
  RETENTION_RETURN_IF_ERROR(CheckRenderable(selection));
  if (selection.target->store != store)
    return Status::Internal("a selection for store '" + selection.target->store + "' given to store '" + store + "'");
  std::vector<Scope> scopes;
  for (const SelectionScope& scope : selection.scopes) {
    const Target& t = *scope.target;
    auto context = [&](const Status& s) {
      return s.WithContext(t.where.ToString().empty() ? "target '" + t.name + "'" : t.where.ToString());
    };
    auto globs = GlobSet::Compile(t.paths);
    if (!globs.ok()) return context(globs.status());
    auto reader = FileClockReader::Make(t.clock, selection.zone);
    if (!reader.ok()) return context(reader.status());
    scopes.push_back(Scope{t.store == store, std::move(*globs), std::move(*reader)});
  }
  return FilesSelection(std::move(scopes));
}

RecordFacts FilesSelection::Facts(std::string_view key, std::string_view basename, const struct stat& st) const {
  RecordFacts facts;
  facts.exists = true;
  facts.key.assign(key);
  facts.scopes.resize(scopes_.size());
  for (size_t i = 0; i < scopes_.size(); ++i) {
    RecordFacts::ScopeFacts& s = facts.scopes[i];
    s.matches_filters = scopes_[i].here && scopes_[i].globs.Matches(key);
    // The own clock is read even when the globs do not match: explain and
    // the ledger show it.
    if (!s.matches_filters && i != 0) continue;
    FileClock clock = scopes_[i].clock.Read(st, basename);
    s.clock_text = std::move(clock.text);
    s.clock = clock.value;
  }
  return facts;
}

}  // namespace retention::files
