// Where the candidates of one target come from, a batch at a time, for the
// batch executor (batch_executor.h): a store's cursor, a saved plan
// (saved_plan.h), the purge log's anchored entries (purge_log_prune.h), a
// fixed list (an erasure's, a test's).
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "plan/selection.h"
#include "stores/store.h"
#include "util/status.h"

namespace retention {

class CandidateSource {
 public:
  virtual ~CandidateSource() = default;
  // Up to `limit` candidates; empty when there are no more.
  virtual Result<std::vector<Candidate>> Next(size_t limit) = 0;
};

// A store's cursor (oldest first, read afresh per batch), each page under
// the selection `current` gives then (the holds the latest batch read).
class CursorSource final : public CandidateSource {
 public:
  CursorSource(std::unique_ptr<CandidateCursor> cursor, std::function<Selection()> current)
      : cursor_(std::move(cursor)), current_(std::move(current)) {}
  Result<std::vector<Candidate>> Next(size_t limit) override { return cursor_->Next(current_(), limit); }

 private:
  std::unique_ptr<CandidateCursor> cursor_;
  std::function<Selection()> current_;
};

// A fixed list, in order.
class VectorSource final : public CandidateSource {
 public:
  explicit VectorSource(std::vector<Candidate> candidates) : candidates_(std::move(candidates)) {}
  Result<std::vector<Candidate>> Next(size_t limit) override {
    std::vector<Candidate> out;
    while (next_ < candidates_.size() && out.size() < limit) out.push_back(candidates_[next_++]);
    return out;
  }

 private:
  std::vector<Candidate> candidates_;
  size_t next_ = 0;
};

}  // namespace retention
