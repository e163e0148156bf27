#include "holds/hold_set.h"

namespace retention {

HoldSet::HoldSet(const std::vector<Hold>& holds, Timestamp now) {
  for (const Hold& h : holds)
    if (h.ActiveAt(now)) holds_.push_back(h);
}

}  // namespace retention
