// libFuzzer harness: one input is a saved plan file (`plan --out`, read by
// `purge --plan`). The reader is driven as a purge drives it: targets in
// order, batches of a few records until a target has no more. Never a
// crash; a refusal is Invalid (exit 65) naming the file; no batch is
// larger than asked for, and no more records come out than the file has
// record lines.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "fuzz_util.h"
#include "purge/saved_plan.h"
#include "rules/rule.h"
#include "stores/store.h"

using namespace retention;

namespace {

// The rules hash the seed corpus's plans carry.
constexpr const char* kRulesHash = "fuzz-rules-hash";

struct Fixed {
  std::vector<Category> categories;
  std::vector<Selection> decisions;
};

const Fixed& Rules() {
  static const Fixed fixed = [] {
    Fixed f;
    f.categories.resize(2);
    f.categories[0].name = "request_logs";
    f.categories[0].targets.resize(1);
    f.categories[0].targets[0].name = "request_logs";
    f.categories[1].name = "support";
    f.categories[1].targets.resize(2);
    f.categories[1].targets[0].name = "support_emails";
    f.categories[1].targets[1].name = "support_tickets";
    for (const Category& c : f.categories)
      for (const Target& t : c.targets) {
        Selection d;
        d.category = &c;
        d.target = &t;
        d.scopes.push_back({&c, &t});
        f.decisions.push_back(d);
      }
    return f;
  }();
  return fixed;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Fixed& rules = Rules();
  const fuzz::fs::path file = fuzz::Scratch() / "plan.jsonl";
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  fuzz::WriteFile(file, bytes);
  auto reader = SavedPlanReader::Open(file, kRulesHash);
  if (!reader.ok()) {
    if (reader.status().code() != StatusCode::kInvalid || reader.status().message().rfind(file.string(), 0) != 0)
      fuzz::Violated("saved plan refused without exit 65 and the file's name: " + reader.status().message());
    return 0;
  }
  (*reader)->SetOrder(rules.decisions);
  // A purge's batch size; the last byte varies it so batches end mid-target.
  const size_t limit = 1 + (size > 0 ? data[size - 1] % 7 : 0);
  const size_t lines = static_cast<size_t>(std::count(bytes.begin(), bytes.end(), '\n')) + 1;
  size_t handed_out = 0;
  for (const Selection& d : rules.decisions) {
    for (;;) {
      auto batch = (*reader)->Next(d.category->name, d.target->name, limit);
      if (!batch.ok()) {
        if (batch.status().code() != StatusCode::kInvalid || batch.status().message().rfind(file.string(), 0) != 0)
          fuzz::Violated("saved plan line refused without exit 65 and the file's name: " + batch.status().message());
        return 0;
      }
      if (batch->size() > limit) fuzz::Violated("a batch larger than asked for");
      handed_out += batch->size();
      // The header line is no record.
      if (handed_out >= lines) fuzz::Violated("more records handed out than the file has lines");
      if (batch->empty()) break;
    }
  }
  return 0;
}
