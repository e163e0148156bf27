// The files store's rendering of a Selection (plan/selection.h): what the
// walk read of one file — its path under the root, its lstat, its base
// name — as the facts of a record under every scope of the selection (glob
// match, clock), which Evaluate then judges. Measure, the cursor, the
// re-checking delete, CountCovered and Lookup all go through it, so plan,
// purge and explain agree with each other and with every other store
// (tests/plan/selection_agreement_test.cc).
//
// Files have no subject: a subject hold never covers one, and a selection
// for a subject (an erasure) selects none.
#pragma once

#include <sys/stat.h>

#include <string>
#include <string_view>
#include <vector>

#include "plan/selection.h"
#include "stores/files_clock.h"
#include "stores/files_glob.h"
#include "util/status.h"

namespace retention::files {

class FilesSelection {
 public:
  // Compiles the globs and clock readers of every scope of `selection`
  // (none of its exclusions: those are read per call, so a cursor compiled
  // once evaluates each page under the holds as they are then). Errors: a
  // selection CheckRenderable refuses (Internal), a pattern or clock that
  // cannot be used (Invalid).
  // A scope on another store than `store` (the selection's own) covers
  // none of these files: its filters never match.
  static Result<FilesSelection> Compile(const Selection& selection, const std::string& store);

  // The own target's globs: what the walk visits.
  const GlobSet& globs() const { return scopes_[0].globs; }

  // The facts of the regular file `key` (relative to the root) with stat
  // `st`. Scopes parallel the compiled selection's.
  RecordFacts Facts(std::string_view key, std::string_view basename, const struct stat& st) const;

 private:
  struct Scope {
    bool here = true;  // on this store
    GlobSet globs;
    FileClockReader clock;
  };
  explicit FilesSelection(std::vector<Scope> scopes) : scopes_(std::move(scopes)) {}

  std::vector<Scope> scopes_;
};

}  // namespace retention::files
