// Every `--format json` document speaks one dialect (issue 18 item 10,
// util/json_document.h): one JSON object, a "format" tag, no null members,
// instants in RFC 3339 UTC with "Z", the same names for the same things.
// Each command is run on the demo as a user would and its whole stdout is
// judged by rules written here, not by the engine's own code.
#include <catch2/catch.hpp>

#include <regex>
#include <set>

#include <nlohmann/json.hpp>

#include "e2e/e2e_util.h"

namespace retention {
namespace {

using e2e::DemoFixture;
using e2e::Describe;
using e2e::RunResult;
using Json = nlohmann::json;

// Members that hold an instant, whatever document they are in.
bool NamesAnInstant(const std::string& name) {
  static const std::set<std::string> kInstants = {
      "as_of",   "made_at", "cutoff",   "oldest_due", "oldest_overdue", "received", "deadline", "executed",
      "until",   "at",      "head_at",  "created_at", "due_after",      "kept_until", "clock_from", "clock_until",
      "deleted_by", "floor_end", "protects_until", "oldest_clock", "newest_clock"};
  if (kInstants.count(name)) return true;
  return name.size() > 3 && name.compare(name.size() - 3, 3, "_at") == 0;
}

// The names one concept must not go by: the dialect's name is on the right.
const std::map<std::string, std::string> kRetiredNames = {
    {"author", "placed_by"}, {"now", "as_of"}, {"total", "records"}, {"where", "store and target"},
    {"record_key", "key"},   {"subject_kind", "subject"},            {"subject_id", "subject"}};

const std::regex kRfc3339Utc(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z)");
const std::regex kSubject(R"([A-Za-z0-9_.-]+:.+)");

// Every breach of the dialect in `value`, as "path: what".
void Judge(const Json& value, const std::string& path, bool in_ledger_entry, std::vector<std::string>* breaches) {
  if (value.is_array()) {
    for (size_t i = 0; i < value.size(); ++i)
      Judge(value[i], path + "[" + std::to_string(i) + "]", in_ledger_entry, breaches);
    return;
  }
  if (!value.is_object()) return;
  // A ledger entry (audit log, audit show, explain's deleted_by) is the
  // ledger's documented layout, hashed as written: its "" members and its
  // detail are values of the chain, not absent ones.
  const bool entry = in_ledger_entry || (value.contains("prev_hash") && value.contains("hash"));
  for (const auto& [name, member] : value.items()) {
    const std::string at = path + "." + name;
    if (member.is_null()) breaches->push_back(at + ": null (omit an absent value)");
    if (entry) continue;
    if (auto retired = kRetiredNames.find(name); retired != kRetiredNames.end())
      breaches->push_back(at + ": named '" + name + "', the dialect says " + retired->second);
    if (member.is_string()) {
      const std::string text = member.get<std::string>();
      if (NamesAnInstant(name) && !std::regex_match(text, kRfc3339Utc))
        breaches->push_back(at + ": '" + text + "' is not RFC 3339 UTC with Z");
      if (name == "subject" && !std::regex_match(text, kSubject))
        breaches->push_back(at + ": subject '" + text + "' is not KIND:ID");
      if (name == "target" && text.find('/') != std::string::npos)
        breaches->push_back(at + ": target '" + text + "' carries its store (store and target are apart)");
    }
    Judge(member, at, entry, breaches);
  }
}

// Runs `args` on the demo and judges its stdout as one document of `kind`.
Json JudgeDocument(DemoFixture& demo, const std::vector<std::string>& args, const std::string& kind) {
  RunResult r = demo.Retention(args);
  INFO(Describe(r));
  REQUIRE(r.exit_code == 0);
  Json doc = Json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  REQUIRE_FALSE(doc.is_discarded());  // one document: a second one would not parse
  REQUIRE(doc.is_object());
  CHECK(doc.value("format", "") == "retention-" + kind + "/1");
  std::vector<std::string> breaches;
  Judge(doc, "", false, &breaches);
  for (const auto& b : breaches) UNSCOPED_INFO(b);
  CHECK(breaches.empty());
  return doc;
}

TEST_CASE("every json document of every command speaks one dialect", "[e2e][json][dialect]") {
  DemoFixture demo(1000);
  const std::string as_of = "2026-11-30T12:00:00Z";
  JudgeDocument(demo, {"check", "--format", "json"}, "check");
  const Json plan = JudgeDocument(demo, {"plan", "--as-of", as_of, "--format", "json"}, "plan");
  CHECK(plan["targets"][0].contains("records"));
  const Json dry = JudgeDocument(
      demo, {"hold", "add", "--matter", "M-1", "--reason", "litigation", "--category", "support", "--dry-run",
             "--format", "json"},
      "hold-dry-run");
  CHECK(dry["targets"][0].value("store", "") == "app");
  const Json hold = JudgeDocument(
      demo, {"hold", "add", "--matter", "M-1", "--reason", "litigation", "--category", "support", "--format", "json"},
      "hold");
  CHECK(hold.value("placed_by", "") != "");
  CHECK_FALSE(hold.contains("released_at"));  // absent, not null
  const Json purge = JudgeDocument(demo, {"purge", "--as-of", as_of, "--format", "json"}, "purge");
  for (const auto& t : purge["targets"]) CHECK(t.value("store", "") != "");
  const Json holds = JudgeDocument(demo, {"hold", "list", "--format", "json"}, "holds");
  REQUIRE(holds["holds"].size() == 1);
  JudgeDocument(demo, {"hold", "show", "1", "--format", "json"}, "hold");
  const Json status = JudgeDocument(demo, {"status", "--format", "json"}, "status");
  CHECK(status.contains("as_of"));
  const Json explain = JudgeDocument(demo, {"explain", "app/customers/1", "--format", "json"}, "explain");
  CHECK(explain["rules"].size() >= 1);
  JudgeDocument(demo, {"audit", "verify", "--format", "json"}, "verify");
  const Json runs = JudgeDocument(demo, {"audit", "runs", "--format", "json"}, "runs");
  REQUIRE(runs["runs"].size() >= 1);
  const Json run = JudgeDocument(demo, {"audit", "show", "1", "--format", "json"}, "run");
  for (const auto& d : run["deleted"]) CHECK(d.value("store", "") != "");
  const Json log = JudgeDocument(demo, {"audit", "log", "--format", "json"}, "log");
  CHECK(log["entries"].size() >= 3);
  JudgeDocument(demo, {"audit", "show", "--entry", "2", "--format", "json"}, "entry");
  const Json receipt =
      JudgeDocument(demo, {"erase", "--subject", "account:3", "--request", "DSR-1", "--format", "json"},
                    "erasure-receipt");
  CHECK(receipt.value("subject", "") == "account:3");
  CHECK(receipt.contains("received_local"));
  const Json requests = JudgeDocument(demo, {"erase", "list", "--format", "json"}, "erasure-requests");
  REQUIRE(requests["requests"].size() == 1);
  const Json report = JudgeDocument(demo, {"report", "--format", "json"}, "report");
  CHECK_FALSE(report.empty());
  JudgeDocument(demo, {"cat-rules", "--format", "json"}, "rules");
  const e2e::TempDir bundle_dir;
  const std::string bundle = (bundle_dir.path() / "bundle").string();
  REQUIRE(demo.Retention({"audit", "export", "--bundle", bundle}).exit_code == 0);
  JudgeDocument(demo, {"audit", "verify", "--bundle", bundle, "--format", "json"}, "bundle-verify");
}

TEST_CASE("audit log --format json is one document, jsonl a stream of the same entries", "[e2e][json][dialect]") {
  DemoFixture demo(1000);
  REQUIRE(demo.Retention({"purge"}).exit_code == 0);
  RunResult doc = demo.Retention({"audit", "log", "--format", "json"});
  RunResult lines = demo.Retention({"audit", "log", "--format", "jsonl"});
  REQUIRE(doc.exit_code == 0);
  REQUIRE(lines.exit_code == 0);
  const Json entries = Json::parse(doc.out)["entries"];
  std::vector<Json> streamed;
  std::istringstream in(lines.out);
  for (std::string line; std::getline(in, line);) {
    Json entry = Json::parse(line);
    // jsonl is the lossless export layout: a null there is an absent member
    // in the document.
    for (auto it = entry.begin(); it != entry.end();) it = it->is_null() ? entry.erase(it) : std::next(it);
    streamed.push_back(std::move(entry));
  }
  REQUIRE(entries.size() == streamed.size());
  for (size_t i = 0; i < streamed.size(); ++i) CHECK(entries[i] == streamed[i]);

  // An empty selection is still one document.
  RunResult none = demo.Retention({"audit", "log", "--kind", "anchor", "--format", "json"});
  REQUIRE(none.exit_code == 0);
  CHECK(Json::parse(none.out)["entries"].empty());
}

TEST_CASE("the dialect judge finds each kind of breach", "[json][dialect]") {
  // The judge itself must be able to fail: one document with every breach.
  const Json bad = {{"format", "retention-x/1"},
                    {"as_of", "2026-11-30 12:00:00"},
                    {"author", "root"},
                    {"expires_at", nullptr},
                    {"subject", "42"},
                    {"target", "app/customers"}};
  std::vector<std::string> breaches;
  Judge(bad, "", false, &breaches);
  CHECK(breaches.size() == 5);
  // A ledger entry's members are the chain's values and are not judged.
  breaches.clear();
  Judge(Json{{"entries", {{{"prev_hash", "0"}, {"hash", "1"}, {"subject", ""}, {"store", ""}}}}}, "", false,
        &breaches);
  CHECK(breaches.empty());
}

}  // namespace
}  // namespace retention
