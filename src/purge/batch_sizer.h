// How many candidates the next batch takes: batches sized by time, not by
// count (issue 13, SPEC 6.4).
//
// A target's write transaction blocks the application's writers for as
// long as it lasts, and each batch costs a fixed overhead (an intent
// commit, a Sync). So the executor aims each delete at about `target` of
// wall time: it starts small (the first batch costs little to get wrong on
// a table whose rows are wide or whose indexes are many), then scales the
// size by what the last delete measured, at most doubling or halving at a
// time so that one outlier (a checkpoint, a busy disk) moves it little. The
// configured batch size is an upper bound, never exceeded: `--batch-size N`
// still means "at most N records per transaction".
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace retention {

class BatchSizer {
 public:
  static constexpr size_t kStart = 256;
  // Never smaller than this (or the bound, when it is smaller): below a few
  // dozen records a batch's fixed costs (its intent commit, its Sync)
  // outweigh its delete, so shrinking further only slows the run without
  // shortening the lock; and a small `--batch-size N` stays exact, whatever
  // the machine's load.
  static constexpr size_t kFloor = 64;

  // `max`: the upper bound (>= 1); `target`: the wall time aimed at.
  explicit BatchSizer(int64_t max, std::chrono::microseconds target = std::chrono::milliseconds(20));

  // The size of the next batch to read: in 1..max.
  size_t Next() const { return size_; }

  // A delete of `records` candidates took `took`: the next size follows.
  void Observe(size_t records, std::chrono::microseconds took);

 private:
  size_t max_;
  std::chrono::microseconds target_;
  size_t size_;
};

}  // namespace retention
