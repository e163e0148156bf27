#include "holds/hold_set.h"

namespace retention {

HoldSet::HoldSet(const std::vector<Hold>& holds, Timestamp now) {
  for (const Hold& h : holds) {
    if (!h.ActiveAt(now)) continue;
    size_t index = holds_.size();
    holds_.push_back(h);
    const HoldScope& s = h.scope;
    if (s.subject_kind && s.subject_id) {
      by_subject_.emplace(*s.subject_kind + ":" + *s.subject_id, index);
    } else if (s.key) {
      by_key_.emplace(*s.key, index);
    } else {
      general_.push_back(index);
    }
  }
}

bool HoldSet::Matches(const Hold& h, const RecordRef& r) {
  const HoldScope& s = h.scope;
  if (s.category && *s.category != r.category) return false;
  if (s.target && *s.target != r.target) return false;
  if (s.subject_kind && (*s.subject_kind != r.subject_kind || !s.subject_id ||
                         *s.subject_id != r.subject_id))
    return false;
  if (s.key && *s.key != r.key) return false;
  if (r.clock) {
    if (s.clock_from && *r.clock < *s.clock_from) return false;
    if (s.clock_until && !(*r.clock < *s.clock_until)) return false;
  }
  return true;
}

const Hold* HoldSet::Covering(const RecordRef& r) const {
  if (holds_.empty()) return nullptr;
  if (!r.subject_kind.empty()) {
    std::string subject;
    subject.reserve(r.subject_kind.size() + 1 + r.subject_id.size());
    subject.append(r.subject_kind).append(":").append(r.subject_id);
    auto [begin, end] = by_subject_.equal_range(subject);
    for (auto it = begin; it != end; ++it)
      if (Matches(holds_[it->second], r)) return &holds_[it->second];
  }
  if (!by_key_.empty()) {
    auto [begin, end] = by_key_.equal_range(std::string(r.key));
    for (auto it = begin; it != end; ++it)
      if (Matches(holds_[it->second], r)) return &holds_[it->second];
  }
  for (size_t i : general_)
    if (Matches(holds_[i], r)) return &holds_[i];
  return nullptr;
}

bool HoldSet::MayCover(std::string_view category, std::string_view target) const {
  for (const Hold& h : holds_) {
    if (h.scope.category && *h.scope.category != category) continue;
    if (h.scope.target && *h.scope.target != target) continue;
    return true;
  }
  return false;
}

}  // namespace retention
