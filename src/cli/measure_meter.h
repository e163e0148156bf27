// The progress bar of the commands that measure targets on their stores
// before printing anything (plan, status; issue 18): one step per target,
// named CATEGORY/TARGET, on a terminal only (util/progress.h,
// TerminalMeter), cleared before the command prints its output.
#pragma once

#include <memory>
#include <string>

#include "plan/selection.h"
#include "util/progress.h"

namespace retention {

class MeasureMeter {
 public:
  explicit MeasureMeter(std::string label) : label_(std::move(label)) {}

  // For MakePlan's `progress` and MeasureOptions::progress. The bar is
  // made at the first target, when the number of targets is known.
  // Valid while this object lives.
  MeasureProgress Progress();

  // Clears the bar (no-op when none was drawn).
  void Clear();

 private:
  std::string label_;
  bool asked_ = false;  // TerminalMeter asked once: null stays null
  std::unique_ptr<ProgressMeter> meter_;
};

}  // namespace retention
