// Batches sized by time (purge/batch_sizer.h): the size follows the delete's
// measured wall time toward the target, moves at most 2x per batch, and
// never exceeds the configured bound (--batch-size keeps meaning "at most").
#include <catch2/catch.hpp>

#include "purge/batch_sizer.h"

namespace retention {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

TEST_CASE("the batch sizer starts small, grows toward the target time and never over the bound", "[purge][sizer]") {
  BatchSizer sizer(100000, milliseconds(20));
  CHECK(sizer.Next() == BatchSizer::kStart);
  // 1 us a record: 20 ms is 20000 records, reached by doubling.
  size_t n = sizer.Next();
  std::vector<size_t> sizes;
  for (int i = 0; i < 12; ++i) {
    sizer.Observe(n, microseconds(static_cast<int64_t>(n)));
    CHECK(sizer.Next() <= 2 * n);
    n = sizer.Next();
    sizes.push_back(n);
  }
  CHECK(sizes[0] == 2 * BatchSizer::kStart);
  CHECK(n == 20000);

  // A slow disk: 10 us a record. Halves at most per batch, settles at 2000.
  for (int i = 0; i < 8; ++i) {
    const size_t before = n;
    sizer.Observe(n, microseconds(static_cast<int64_t>(n) * 10));
    CHECK(sizer.Next() >= before / 2);
    n = sizer.Next();
  }
  CHECK(n == 2000);
}

TEST_CASE("the batch sizer keeps --batch-size as its bound", "[purge][sizer]") {
  BatchSizer seven(7);
  CHECK(seven.Next() == 7);
  seven.Observe(7, microseconds(1));  // very fast: would grow
  CHECK(seven.Next() == 7);
  seven.Observe(7, milliseconds(500));  // very slow (a loaded machine): a small bound stays exact
  CHECK(seven.Next() == 7);
  BatchSizer one(1);
  one.Observe(1, milliseconds(500));  // very slow: cannot go under 1
  CHECK(one.Next() == 1);
}

TEST_CASE("the batch sizer never shrinks below its floor", "[purge][sizer]") {
  BatchSizer sizer(100000, milliseconds(20));
  size_t n = sizer.Next();
  for (int i = 0; i < 20; ++i) {
    sizer.Observe(n, milliseconds(200));  // ten times too slow, every time
    n = sizer.Next();
  }
  CHECK(n == BatchSizer::kFloor);
}

TEST_CASE("the batch sizer ignores a short last batch", "[purge][sizer]") {
  BatchSizer sizer(100000, milliseconds(20));
  sizer.Observe(10, milliseconds(40));  // the source's tail, not a rate
  CHECK(sizer.Next() == BatchSizer::kStart);
}

}  // namespace
}  // namespace retention
