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

const char* KindName(PlanKind kind) { return kind == PlanKind::kErase ? "erase" : "purge"; }

}  // namespace

Result<std::unique_ptr<SavedPlanWriter>> SavedPlanWriter::Create(const std::filesystem::path& file, PlanKind kind,
                                                                 nlohmann::json header) {
  auto out = AtomicFile::Create(file);
  if (!out.ok()) return out.status();
  if (kind == PlanKind::kErase) {
    // An erase plan names a person and their records: the owner's alone.
    std::error_code ec;
    std::filesystem::permissions((*out)->tmp_path(),
                                 std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
                                 std::filesystem::perm_options::replace, ec);
    if (ec) return Status::IoError((*out)->tmp_path().string() + ": cannot restrict its mode to 0600: " + ec.message());
  }
  header["format"] = kFormat;
  header["kind"] = KindName(kind);
  (*out)->out() << DumpJson(header) << "\n";
  return std::unique_ptr<SavedPlanWriter>(new SavedPlanWriter(std::move(*out)));
}

void SavedPlanWriter::Add(const std::string& category, const std::string& target, const Candidate& c) {
  nlohmann::json line{{"category", category}, {"target", target}, {"key", TextJson(c.key)},
                      {"clock", TextJson(c.clock)}};
  // The record's identity, so that the purge deletes only the record
  // planned (SPEC 6.2): what the store selected it with.
  if (c.identity) {
    line["subject"] = TextJson(c.subject);
    line["identity"] = TextJson(*c.identity);
  }
  out_->out() << DumpJson(line) << "\n";
}

Status SavedPlanWriter::Commit() { return out_->Commit(); }

Status SavePlan(const Plan& plan, const std::vector<Selection>& selections, StoreSet& stores,
                const std::filesystem::path& file) {
  auto out = SavedPlanWriter::Create(file, PlanKind::kPurge, PlanToJson(plan));
  if (!out.ok()) return out.status();
  for (const Selection& d : selections) {
    auto store = stores.Get(d.target->store);
    if (!store.ok()) return store.status();
    auto cursor = (*store)->OpenCursor(d);
    if (!cursor.ok()) return cursor.status();
    while (true) {
      auto page = (*cursor)->Next(d, 1000);
      if (!page.ok()) return page.status();
      if (page->empty()) break;
      for (const Candidate& c : *page) (*out)->Add(d.category->name, d.target->name, c);
    }
  }
  return (*out)->Commit();
}

Result<std::unique_ptr<SavedPlanReader>> SavedPlanReader::Open(const std::filesystem::path& file,
                                                               const std::string& rules_hash, PlanKind kind) {
  auto reader = std::unique_ptr<SavedPlanReader>(new SavedPlanReader(file));
  if (!reader->in_) return Status::Invalid(file.string() + ": cannot read the saved plan");
  std::string line;
  if (!std::getline(reader->in_, line)) return Status::Invalid(file.string() + ":1: empty plan file");
  auto header = nlohmann::json::parse(line, nullptr, false);
  std::optional<std::string> format, hash, kind_name;
  if (header.is_object()) {
    format = StringField(header, "format");
    hash = StringField(header, "rules_hash");
    kind_name = StringField(header, "kind");
  }
  if (!format || *format != kFormat || !hash || !kind_name)
    return Status::Invalid(file.string() + ":1: not a plan saved by " +
                           (kind == PlanKind::kErase ? "`retention erase --dry-run --out`" : "`retention plan --out`"));
  if (kind_name->empty()) *kind_name = "purge";  // saved before erase plans existed
  if (*kind_name != KindName(kind)) {
    const std::string made_by = *kind_name == "erase" ? "`retention erase --dry-run --out`" : "`retention plan --out`";
    const std::string run_by = *kind_name == "erase" ? "`retention erase --plan`" : "`retention purge --plan`";
    return Status::Invalid(file.string() + ": " + (*kind_name == "erase" ? "an erase" : "a " + *kind_name) +
                           " plan (made by " + made_by + "), not a " + KindName(kind) + " plan; execute it with " +
                           run_by);
  }
  if (*hash != rules_hash)
    return Status::Invalid(file.string() + ": the rules changed since this plan was made; make a new plan");
  reader->header_ = std::move(header);
  reader->line_no_ = 1;
  return reader;
}

Result<SavedPlanReader::Line> SavedPlanReader::ParseLine(const std::filesystem::path& file, int64_t line_no,
                                                         const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  std::optional<std::string> category, target, key, clock;
  if (j.is_object() && j.contains("key")) {
    category = StringField(j, "category");
    target = StringField(j, "target");
    key = TextFromJson(j["key"]);
    clock = TextField(j, "clock");
  }
  if (!category || !target || !key || !clock)
    return Status::Invalid(file.string() + ":" + std::to_string(line_no) + ": malformed plan line");
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
  return Line{std::move(*category), std::move(*target), std::move(c)};
}

Status SavedPlanReader::CheckAll(const std::vector<Selection>& selections, int64_t records) const {
  std::map<std::string, bool> known;
  for (const Selection& d : selections) known[d.category->name + "/" + d.target->name] = true;
  std::ifstream in(file_);
  std::string text;
  int64_t line_no = 0, lines = 0;
  while (std::getline(in, text)) {
    if (++line_no == 1) continue;  // the header, checked by Open
    auto line = ParseLine(file_, line_no, text);
    if (!line.ok()) return line.status();
    if (!known.count(line->category + "/" + line->target))
      return Status::Invalid(file_.string() + ":" + std::to_string(line_no) + ": " + line->category + "/" +
                             line->target + " is not a target of this plan's subject");
    ++lines;
  }
  if (in.bad()) return Status::Invalid(file_.string() + ": cannot read the saved plan");
  if (lines != records)
    return Status::Invalid(file_.string() + ": lists " + std::to_string(lines) + " records where its header says " +
                           std::to_string(records) + " (cut short or edited); make a new plan");
  return Status::Ok();
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
      auto parsed = ParseLine(file_, line_no_, line);
      if (!parsed.ok()) return parsed.status();
      peeked_ = std::move(*parsed);
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
