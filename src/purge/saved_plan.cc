#include "purge/saved_plan.h"

#include <nlohmann/json.hpp>

#include "util/atomic_file.h"
#include "util/json_text.h"

namespace retention {

namespace {

constexpr const char* kFormat = "retention-plan/1";

// The string at `key`: "" when absent, nullopt when of another JSON type
// (json::value would throw type_error on those).
std::optional<std::string> StringField(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return std::string();
  if (!it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

// The bytes at `key` (a TextJson value): "" when absent, nullopt when
// neither a string nor {"base64": ...}.
std::optional<std::string> TextField(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return std::string();
  return TextFromJson(*it);
}

}  // namespace

Status SavePlan(const Plan& plan, const std::vector<Selection>& selections, StoreSet& stores,
                const std::filesystem::path& file) {
  auto out = AtomicFile::Create(file);
  if (!out.ok()) return out.status();
  nlohmann::json header = PlanToJson(plan);
  header["format"] = kFormat;
  (*out)->out() << DumpJson(header) << "\n";
  for (const Selection& d : selections) {
    auto store = stores.Get(d.target->store);
    if (!store.ok()) return store.status();
    auto cursor = (*store)->OpenCursor(d);
    if (!cursor.ok()) return cursor.status();
    while (true) {
      auto page = (*cursor)->Next(d, 1000);
      if (!page.ok()) return page.status();
      if (page->empty()) break;
      for (const Candidate& c : *page) {
        nlohmann::json line{{"category", d.category->name}, {"target", d.target->name}, {"key", TextJson(c.key)},
                            {"clock", TextJson(c.clock)}};
        // The record's identity, so that the purge deletes only the record
        // planned (SPEC 6.2): what the store selected it with.
        if (c.identity) {
          line["subject"] = TextJson(c.subject);
          line["identity"] = TextJson(*c.identity);
        }
        (*out)->out() << DumpJson(line) << "\n";
      }
    }
  }
  return (*out)->Commit();
}

Result<std::unique_ptr<SavedPlanReader>> SavedPlanReader::Open(const std::filesystem::path& file,
                                                               const std::string& rules_hash) {
  auto reader = std::unique_ptr<SavedPlanReader>(new SavedPlanReader(file));
  if (!reader->in_) return Status::Invalid(file.string() + ": cannot read the saved plan");
  std::string line;
  if (!std::getline(reader->in_, line)) return Status::Invalid(file.string() + ":1: empty plan file");
  auto header = nlohmann::json::parse(line, nullptr, false);
  std::optional<std::string> format, hash;
  if (header.is_object()) {
    format = StringField(header, "format");
    hash = StringField(header, "rules_hash");
  }
  if (!format || *format != kFormat || !hash)
    return Status::Invalid(file.string() + ":1: not a plan saved by `retention plan --out`");
  if (*hash != rules_hash)
    return Status::Invalid(file.string() + ": the rules changed since this plan was made; make a new plan");
  reader->line_no_ = 1;
  return reader;
}

void SavedPlanReader::SetOrder(const std::vector<Selection>& selections) {
  for (size_t i = 0; i < selections.size(); ++i)
    order_[selections[i].category->name + "/" + selections[i].target->name] = i;
}

Result<std::vector<Candidate>> SavedPlanReader::Next(const std::string& category, const std::string& target,
                                                     size_t limit) {
  std::vector<Candidate> out;
  while (out.size() < limit) {
    if (!peeked_) {
      std::string line;
      if (!std::getline(in_, line)) break;
      ++line_no_;
      auto j = nlohmann::json::parse(line, nullptr, false);
      std::optional<std::string> category, target, key, clock;
      if (j.is_object() && j.contains("key")) {
        category = StringField(j, "category");
        target = StringField(j, "target");
        key = TextFromJson(j["key"]);
        clock = TextField(j, "clock");
      }
      if (!category || !target || !key || !clock)
        return Status::Invalid(file_.string() + ":" + std::to_string(line_no_) + ": malformed plan line");
      Candidate c{std::move(*key), std::move(*clock), "", std::nullopt};
      // A plan that carries the subject and identity (plan --out since
      // schema 3) is deleted by identity; an older one by key and clock.
      if (j.contains("subject") && j.contains("identity")) {
        auto subject = TextFromJson(j["subject"]);
        auto identity = TextFromJson(j["identity"]);
        if (subject && identity) {
          c.subject = std::move(*subject);
          c.identity = std::move(*identity);
        }
      }
      peeked_ = Line{std::move(*category), std::move(*target), std::move(c)};
    }
    if (peeked_->category != category || peeked_->target != target) {
      // A line of a target this run has passed or does not process
      // (--category) is skipped; one of a later target waits its turn.
      auto later = order_.find(peeked_->category + "/" + peeked_->target);
      auto current = order_.find(category + "/" + target);
      if (later != order_.end() && current != order_.end() && later->second > current->second) break;
      peeked_.reset();
      continue;
    }
    out.push_back(std::move(peeked_->candidate));
    peeked_.reset();
  }
  return out;
}

}  // namespace retention
