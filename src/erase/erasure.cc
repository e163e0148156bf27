#include "erase/erasure.h"

namespace retention {

int64_t ErasureReceipt::TotalErased() const {
  int64_t total = 0;
  for (const ErasedTarget& e : erased) total += e.records;
  return total;
}

int64_t ErasureReceipt::TotalKept() const {
  int64_t total = 0;
  for (const KeptGroup& k : kept) total += k.records;
  return total;
}

}  // namespace retention
