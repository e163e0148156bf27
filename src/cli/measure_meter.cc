#include "cli/measure_meter.h"

namespace retention {

MeasureProgress MeasureMeter::Progress() {
  return [this](size_t done, size_t total, const Selection& next) {
    if (!asked_) {
      asked_ = true;
      meter_ = TerminalMeter(label_, static_cast<int64_t>(total));
    }
    if (meter_) meter_->Update(static_cast<int64_t>(done), next.category->name + "/" + next.target->name);
  };
}

void MeasureMeter::Clear() {
  if (meter_) meter_->Finish();
  meter_.reset();
}

}  // namespace retention
