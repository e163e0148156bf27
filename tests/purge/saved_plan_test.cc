// The saved-plan reader (`purge --plan FILE`): a table of files that are
// not plans `plan --out` writes, each refused as Invalid (exit 65) with
// the file and line, never an exception; and a good file read target by
// target. Some bad cases are inputs the saved_plan fuzzer found.
#include "purge/saved_plan.h"

#include <catch2/catch.hpp>

#include "state/test_util.h"
#include "util/file_util.h"

namespace retention {
namespace {

constexpr const char* kHeader = R"({"format":"retention-plan/1","rules_hash":"h"})";

struct Rules {
  Category logs, support;
  std::vector<Selection> decisions;
  Rules() {
    logs.name = "logs";
    logs.targets.resize(1);
    logs.targets[0].name = "requests";
    support.name = "support";
    support.targets.resize(1);
    support.targets[0].name = "tickets";
    for (const Category* c : {&logs, &support}) {
      Selection d;
      d.category = c;
      d.target = &c->targets[0];
      d.scopes.push_back({c, &c->targets[0]});
      decisions.push_back(d);
    }
  }
};

// Opens `text` as a plan and reads every target; the first error, or "".
std::string ReadAll(const testing::TempDir& dir, const std::string& text, std::vector<std::string>* keys = nullptr) {
  const std::filesystem::path file = dir / "plan.jsonl";
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << text;
  }
  Rules rules;
  auto reader = SavedPlanReader::Open(file, "h");
  if (!reader.ok()) {
    CHECK(reader.status().code() == StatusCode::kInvalid);
    return reader.status().message();
  }
  (*reader)->SetOrder(rules.decisions);
  for (const Selection& d : rules.decisions) {
    for (;;) {
      auto batch = (*reader)->Next(d.category->name, d.target->name, 2);
      if (!batch.ok()) {
        CHECK(batch.status().code() == StatusCode::kInvalid);
        return batch.status().message();
      }
      if (batch->empty()) break;
      for (const Candidate& c : *batch)
        if (keys) keys->push_back(d.target->name + ":" + c.key + "@" + c.clock);
    }
  }
  return "";
}

TEST_CASE("a saved plan is read target by target in plan order", "[purge]") {
  testing::TempDir dir;
  std::vector<std::string> keys;
  const std::string text = std::string(kHeader) + "\n" +
                           R"({"category":"logs","target":"requests","key":"1","clock":"2020-01-01"})" "\n"
                           R"({"category":"logs","target":"requests","key":"2","clock":"2020-01-02"})" "\n"
                           R"({"category":"logs","target":"requests","key":"3"})" "\n"
                           R"({"category":"support","target":"tickets","key":"9","clock":"2019-05-05"})" "\n";
  CHECK(ReadAll(dir, text, &keys) == "");
  CHECK(keys == std::vector<std::string>{"requests:1@2020-01-01", "requests:2@2020-01-02", "requests:3@",
                                         "tickets:9@2019-05-05"});
}

TEST_CASE("malformed saved plans are refused with the file and line, never an exception", "[purge]") {
  testing::TempDir dir;
  const std::string file = (dir / "plan.jsonl").string();
  struct Case {
    std::string text;
    std::string message;  // after "<file>"
  };
  const std::vector<Case> cases = {
      {"", ":1: empty plan file"},
      {"{}\n", ":1: not a plan saved by `retention plan --out`"},
      {"[1]\n", ":1: not a plan saved by `retention plan --out`"},
      {R"({"format":"retention-plan/2","rules_hash":"h"})", ":1: not a plan saved by `retention plan --out`"},
      {R"({"format":"retention-plan/1","rules_hash":"other"})",
       ": the rules changed since this plan was made; make a new plan"},
      // Found by the saved_plan fuzzer: a field of another JSON type threw
      // nlohmann::json's type_error out of the reader.
      {R"({"format":1,"rules_hash":"h"})", ":1: not a plan saved by `retention plan --out`"},
      {R"({"format":"retention-plan/1","rules_hash":["h"]})", ":1: not a plan saved by `retention plan --out`"},
      {std::string(kHeader) + "\n" + R"({"category":"logs","target":"requests","key":"1","clock":5})",
       ":2: malformed plan line"},
      {std::string(kHeader) + "\n" + R"({"category":"logs","target":null,"key":"1"})", ":2: malformed plan line"},
      {std::string(kHeader) + "\n" + R"({"category":["logs"],"target":"requests","key":"1"})",
       ":2: malformed plan line"},
      {std::string(kHeader) + "\n\n", ":2: malformed plan line"},
      {std::string(kHeader) + "\n" + R"({"category":"logs","target":"requests","key":1})", ":2: malformed plan line"},
      {std::string(kHeader) + "\n" + R"({"category":"logs","target":"requests","key":"1"} x)",
       ":2: malformed plan line"},
  };
  for (const Case& c : cases) {
    INFO("plan file: " << c.text);
    std::string message;
    REQUIRE_NOTHROW(message = ReadAll(dir, c.text));
    CHECK(message == file + c.message);
  }
}

}  // namespace
}  // namespace retention
