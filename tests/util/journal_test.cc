// Log events as journal entries (issue 18): the fields of one entry, the
// scopes that add RETENTION_RUN/CATEGORY/TARGET, the logger sending one
// entry per event to a fake journal, and the "<N>" stream fallback.
#include "util/journal.h"

#include <cerrno>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <spdlog/spdlog.h>

#include "support/scoped_logger.h"
#include "support/stderr_capture.h"
#include "util/log_context.h"
#include "util/logging.h"

namespace retention {
namespace {

std::map<std::string, std::string> AsMap(const std::vector<LogField>& fields) {
  std::map<std::string, std::string> m;
  for (const LogField& f : fields) {
    INFO(f.name);
    CHECK(m.count(f.name) == 0);  // each field once
    m[f.name] = f.value;
  }
  return m;
}

// Records what the logger sends; answers `result` (0: taken).
class FakeJournal final : public JournalWriter {
 public:
  FakeJournal(std::vector<std::vector<LogField>>* sent, int result) : sent_(sent), result_(result) {}
  int Send(const std::vector<LogField>& entry) override {
    sent_->push_back(entry);
    return result_;
  }

 private:
  std::vector<std::vector<LogField>>* sent_;
  int result_;
};

TEST_CASE("JournalEntry: MESSAGE whole with its newlines, PRIORITY, SYSLOG_IDENTIFIER, then the context",
          "[journal]") {
  const auto entry = JournalEntry(spdlog::level::warn, "two\nlines",
                                  {{"RETENTION_RUN", "42"}, {"MESSAGE", "forged"}, {"PRIORITY", "0"}});
  REQUIRE(entry.size() == 4);
  CHECK(entry[0].name == "MESSAGE");
  const auto m = AsMap(entry);
  CHECK(m.at("MESSAGE") == "two\nlines");
  CHECK(m.at("PRIORITY") == "4");
  CHECK(m.at("SYSLOG_IDENTIFIER") == "retention");
  CHECK(m.at("RETENTION_RUN") == "42");

  const std::vector<std::pair<spdlog::level::level_enum, int>> priorities = {
      {spdlog::level::critical, 2}, {spdlog::level::err, 3},   {spdlog::level::warn, 4},
      {spdlog::level::info, 6},     {spdlog::level::debug, 7}, {spdlog::level::trace, 7}};
  for (const auto& [level, priority] : priorities) CHECK(SyslogPriority(level) == priority);
}

TEST_CASE("PrefixEveryLine gives every line of a message its own priority", "[journal]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"one", "<4>one\n"},
      {"one\n", "<4>one\n"},
      {"one\ntwo", "<4>one\n<4>two\n"},
      {"one\r\n  two\n", "<4>one\n<4>  two\n"},
      {"a\n\nb", "<4>a\n<4>\n<4>b\n"},
      {"", "<4>\n"},
  };
  for (const auto& [text, want] : cases) {
    INFO(text);
    CHECK(PrefixEveryLine(4, text) == want);
  }
}

TEST_CASE("ScopedLogField: nested scopes add fields, an inner one shadows, each ends with its scope",
          "[journal]") {
  CHECK(CurrentLogFields().empty());
  {
    ScopedLogField run(kLogFieldRun, "7");
    {
      ScopedLogField category(kLogFieldCategory, "sessions");
      ScopedLogField again(kLogFieldCategory, "orders");
      const auto m = AsMap(CurrentLogFields());
      CHECK(m == std::map<std::string, std::string>{{"RETENTION_RUN", "7"}, {"RETENTION_CATEGORY", "orders"}});
      // Another thread logs outside this run.
      std::vector<LogField> seen{{"x", "y"}};
      std::thread([&] { seen = CurrentLogFields(); }).join();
      CHECK(seen.empty());
    }
    const auto m = AsMap(CurrentLogFields());
    CHECK(m == std::map<std::string, std::string>{{"RETENTION_RUN", "7"}});
  }
  CHECK(CurrentLogFields().empty());
}

TEST_CASE("the journal logger sends one entry per event with the scope's fields and MESSAGE_ID", "[journal]") {
  std::vector<std::vector<LogField>> sent;
  test::StderrCapture err;
  {
    test::ScopedLogger logger(LogTarget::kJournal, std::make_unique<FakeJournal>(&sent, 0));
    {
      ScopedLogField run(kLogFieldRun, "42");
      LogEvent(spdlog::level::info, kMessageIdRunStart, "run 42 started");
      ScopedLogField category(kLogFieldCategory, "sessions"), target(kLogFieldTarget, "app_sessions");
      spdlog::warn("first line\n  second line, password=s3cret");
    }
    spdlog::error("after the run");
    spdlog::debug("below the level: not sent");
  }
  REQUIRE(sent.size() == 3);
  const auto start = AsMap(sent[0]);
  CHECK(start.at("MESSAGE") == "run 42 started");
  CHECK(start.at("MESSAGE_ID") == kMessageIdRunStart);
  CHECK(start.at("RETENTION_RUN") == "42");
  CHECK(start.at("PRIORITY") == "6");
  CHECK(start.count("RETENTION_TARGET") == 0);

  const auto warning = AsMap(sent[1]);
  CHECK(warning.at("MESSAGE") == "first line\n  second line, password=***");
  CHECK(warning.at("PRIORITY") == "4");
  CHECK(warning.at("RETENTION_RUN") == "42");
  CHECK(warning.at("RETENTION_CATEGORY") == "sessions");
  CHECK(warning.at("RETENTION_TARGET") == "app_sessions");
  CHECK(warning.count("MESSAGE_ID") == 0);  // LogEvent's id ended with its line

  const auto after = AsMap(sent[2]);
  CHECK(after.at("PRIORITY") == "3");
  CHECK(after.count("RETENTION_RUN") == 0);
  CHECK(err.Text().empty());  // taken by the journal: nothing on the stream
}

TEST_CASE("the journal logger falls back to the stream, every line prefixed, when no journal takes the entry",
          "[journal]") {
  std::vector<std::vector<LogField>> sent;
  SECTION("the journal refuses the entry") {
    test::StderrCapture err;
    {
      test::ScopedLogger logger(LogTarget::kJournal, std::make_unique<FakeJournal>(&sent, -ECONNREFUSED));
      spdlog::warn("first line\nsecond line");
    }
    CHECK(sent.size() == 1);
    CHECK(err.Text() == "<4>first line\n<4>second line\n");
  }
  SECTION("no journal socket at all") {
    test::StderrCapture err;
    {
      test::ScopedLogger logger(LogTarget::kJournal, nullptr);
      LogEvent(spdlog::level::info, kMessageIdRunEnd, "run 3 ok\nhead abc");
    }
    CHECK(err.Text() == "<6>run 3 ok\n<6>head abc\n");
  }
}

TEST_CASE("a command's final error reaches the journal as the refusal event, whatever the log level",
          "[journal]") {
  std::vector<std::vector<LogField>> sent;
  {
    test::ScopedLogger logger(LogTarget::kJournal, std::make_unique<FakeJournal>(&sent, 0));
    spdlog::set_level(spdlog::level::off);  // --log-level off
    spdlog::error("not said");
    LogCommandError(spdlog::level::warn, "retention: another run holds the lock");
  }
  REQUIRE(sent.size() == 1);
  const auto m = AsMap(sent[0]);
  CHECK(m.at("MESSAGE") == "retention: another run holds the lock");
  CHECK(m.at("MESSAGE_ID") == kMessageIdRefusal);
  CHECK(m.at("PRIORITY") == "4");
}

TEST_CASE("the MESSAGE_IDs are 128-bit ids, distinct", "[journal]") {
  const std::vector<std::string> ids{kMessageIdRunStart, kMessageIdRunEnd, kMessageIdRefusal};
  for (const std::string& id : ids) {
    INFO(id);
    CHECK(id.size() == 32);
    CHECK(id.find_first_not_of("0123456789abcdef") == std::string::npos);
  }
  CHECK(ids[0] != ids[1]);
  CHECK(ids[1] != ids[2]);
  CHECK(ids[0] != ids[2]);
}

}  // namespace
}  // namespace retention
