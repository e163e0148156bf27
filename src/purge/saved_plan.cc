#include "purge/saved_plan.h"

#include <nlohmann/json.hpp>

namespace retention {

namespace {

// The string at `key`: "" when absent, nullopt when of another JSON type
// (json::value would throw type_error on those).
std::optional<std::string> StringField(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return std::string();
  if (!it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

}  // namespace

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
  if (!format || *format != "retention-plan/1" || !hash)
    return Status::Invalid(file.string() + ":1: not a plan saved by `retention plan --out`");
  if (*hash != rules_hash)
    return Status::Invalid(file.string() + ": the rules changed since this plan was made; make a new plan");
  reader->line_no_ = 1;
  return reader;
}

void SavedPlanReader::SetOrder(const std::vector<Selection>& decisions) {
  for (size_t i = 0; i < decisions.size(); ++i)
    order_[decisions[i].category->name + "/" + decisions[i].target->name] = i;
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
      std::optional<std::string> category, target, clock;
      if (j.is_object() && j.contains("key") && j["key"].is_string()) {
        category = StringField(j, "category");
        target = StringField(j, "target");
        clock = StringField(j, "clock");
      }
      if (!category || !target || !clock)
        return Status::Invalid(file_.string() + ":" + std::to_string(line_no_) + ": malformed plan line");
      Candidate c{j["key"].get<std::string>(), *clock, "", std::nullopt};
      // A plan that carries the subject and identity (plan --out since
      // schema 3) is deleted by identity; an older one by key and clock.
      auto subject = j.find("subject");
      auto identity = j.find("identity");
      if (subject != j.end() && subject->is_string() && identity != j.end() && identity->is_string()) {
        c.subject = subject->get<std::string>();
        c.identity = identity->get<std::string>();
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
