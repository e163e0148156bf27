#include "purge/batch_sizer.h"

#include <algorithm>

namespace retention {

BatchSizer::BatchSizer(int64_t max, std::chrono::microseconds target)
    : max_(static_cast<size_t>(std::max<int64_t>(1, max))), target_(target), size_(std::min(kStart, max_)) {}

void BatchSizer::Observe(size_t records, std::chrono::microseconds took) {
  // A batch the source cut short (its last) says little about the rate of a
  // full one; neither does one too small to time.
  if (records == 0 || records < size_ / 2) return;
  const double took_us = std::max<double>(1.0, static_cast<double>(took.count()));
  // The size that would have taken `target` at the rate just measured,
  // within [half, double] of the size just used.
  double wanted = static_cast<double>(records) * static_cast<double>(target_.count()) / took_us;
  wanted = std::clamp(wanted, static_cast<double>(records) / 2, static_cast<double>(records) * 2);
  size_ = std::clamp<size_t>(static_cast<size_t>(wanted), std::min(kFloor, max_), max_);
}

}  // namespace retention
