#include "erase/erasure_receipt.h"

#include <sstream>
#include <string>

#include <catch2/catch.hpp>

namespace retention {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

Timestamp At(int y, unsigned m, unsigned d, int hh = 0, int mm = 0, int ss = 0) {
  return Timestamp(std::chrono::sys_days{std::chrono::year{y} / std::chrono::month{m} / std::chrono::day{d}}) +
         hours{hh} + minutes{mm} + seconds{ss};
}

Target MakeTarget(const std::string& name, const std::string& store, const char* subject_kind) {
  Target t;
  t.name = name;
  t.store = store;
  t.table = name;
  if (subject_kind != nullptr) t.subject = SubjectSpec{subject_kind, "customer_id"};
  return t;
}

Category MakeCategory(const std::string& name, const std::string& description, std::optional<CalendarDuration> del,
                      std::optional<CalendarDuration> keep, Target target) {
  Category c;
  c.name = name;
  c.description = description;
  c.delete_after = del;
  c.keep_at_least = keep;
  c.targets.push_back(std::move(target));
  return c;
}

// A small rule set in Europe/Berlin: invoices with a 7-year floor and an
// 8-year schedule, customers, security logs kept as an exception (they map
// the subject), and three places that do not map it: request logs (90 days),
// backups (30 days) and an archive with a floor only.
struct Fixture {
  Config config;
  RuleSet rules;
  ErasureReceipt receipt;

  Fixture() {
    config.time_zone = "Europe/Berlin";
    rules.categories.push_back(
        MakeCategory("archive", "Archived exports", std::nullopt, CalendarDuration{1, DurationUnit::kYears},
                     MakeTarget("exports", "files", nullptr)));
    rules.categories.push_back(MakeCategory("backups", "Backups", CalendarDuration{30, DurationUnit::kDays},
                                            std::nullopt, MakeTarget("db-dumps", "backups", nullptr)));
    rules.categories.push_back(MakeCategory("customers", "Customer accounts", CalendarDuration{90, DurationUnit::kDays},
                                            std::nullopt, MakeTarget("customers", "app", "customer")));
    Category invoices = MakeCategory("invoices", "Invoices", CalendarDuration{8, DurationUnit::kYears},
                                     CalendarDuration{7, DurationUnit::kYears},
                                     MakeTarget("invoices", "app", "customer"));
    invoices.policy = "tax records, 7 years";
    rules.categories.push_back(invoices);
    rules.categories.push_back(MakeCategory("request_logs", "Server logs", CalendarDuration{90, DurationUnit::kDays},
                                            std::nullopt, MakeTarget("requests", "logs", nullptr)));
    rules.categories.push_back(MakeCategory("security_logs", "Security logs", CalendarDuration{1, DurationUnit::kYears},
                                            std::nullopt, MakeTarget("security", "app", "customer")));
    rules.hash = "abc123";

    receipt.request = "DSR-2026-0117";
    receipt.subject = {"customer", "42"};
    receipt.received = At(2026, 1, 20, 9);
    receipt.deadline = At(2026, 2, 19, 9);
    receipt.executed = At(2026, 2, 1, 12);  // 13:00 CET
    receipt.outcome = "ok";
    receipt.run_id = 7;
    receipt.first_seq = 120;
    receipt.last_seq = 131;
    receipt.head_hash = "ffee00";
    receipt.erased = {{"customers", "customers", "app", 1}, {"invoices", "invoices", "app", 5}};

    KeptGroup floor;
    floor.category = "invoices";
    floor.target = "invoices";
    floor.store = "app";
    floor.why = KeptWhy::kFloor;
    floor.floor_category = "invoices";
    floor.records = 3;
    floor.oldest_clock = At(2023, 6, 1, 8);
    floor.newest_clock = At(2024, 2, 29, 10);  // 11:00 CET on Feb 29
    receipt.kept.push_back(floor);

    KeptGroup held;
    held.category = "customers";
    held.target = "customers";
    held.store = "app";
    held.why = KeptWhy::kHeld;
    held.hold_id = 3;
    held.matter = "M-17";
    held.reason = "held by hold 3 (M-17)";
    held.records = 2;
    held.newest_clock = At(2025, 12, 1);
    receipt.kept.push_back(held);

    KeptGroup exception;
    exception.category = "security_logs";
    exception.target = "security";
    exception.store = "app";
    exception.why = KeptWhy::kNotDue;
    exception.exception = true;
    exception.reason = "kept for fraud investigation (Privacy Policy, section 6)";
    exception.records = 4;
    exception.oldest_clock = At(2025, 3, 2, 8);
    exception.newest_clock = At(2026, 1, 15, 8);
    receipt.kept.push_back(exception);

    KeptGroup locked;
    locked.category = "customers";
    locked.target = "customers";
    locked.store = "app";
    locked.why = KeptWhy::kLocked;
    locked.reason = "locked by another process";
    locked.records = 1;
    locked.newest_clock = At(2025, 11, 1);
    receipt.kept.push_back(locked);
  }
};

const nlohmann::json& Find(const nlohmann::json& list, const std::string& category) {
  for (const auto& item : list)
    if (item["category"] == category) return item;
  FAIL("no entry for " << category);
  return list;
}

TEST_CASE("Erasure receipt: a record an overlapping exception keeps goes by the first schedule, and long descriptions "
          "give way to the policy line's label",
          "[erase]") {
  Fixture f;
  for (Category& c : f.rules.categories) {
    if (c.name == "security_logs") {
      c.erasable = false;
      c.erasure_exception = "kept to investigate fraud (Privacy Policy 2.4)";
    }
    if (c.name == "customers") {
      c.description = "Customer accounts and everything the application stores about a customer, by account";
      c.policy = "Customer Data | 90 days after closure";
    }
  }
  KeptGroup overlap;
  overlap.category = "customers";
  overlap.target = "customers";
  overlap.store = "app";
  overlap.why = KeptWhy::kFloor;
  overlap.floor_category = "security_logs";
  overlap.records = 2;
  overlap.newest_clock = At(2025, 12, 1, 10);  // 11:00 CET
  f.receipt.kept = {overlap};
  const nlohmann::json j = ReceiptToJson(f.receipt, f.config, f.rules, At(2030, 1, 1));
  const nlohmann::json& kept = j["kept"][0];
  // Customers' 90 days come before the security logs' year: 2026-03-01 11:00:01 CET.
  CHECK(kept["deleted_by"]["at"] == "2026-03-01T10:00:01Z");
  CHECK(kept["floor_end"].is_null());
  CHECK(kept["exception"] == "kept to investigate fraud (Privacy Policy 2.4)");
  CHECK(kept["text"] ==
        "2 records of Customer Data (customers), dated 2025-12-01, kept as an exception to erasure (Security logs): "
        "kept to investigate fraud (Privacy Policy 2.4); deleted by their schedule by 2026-03-01");
}

TEST_CASE("Erasure receipt: dates against hand-computed ones, field by field", "[erase]") {
  Fixture f;
  const nlohmann::json j = ReceiptToJson(f.receipt, f.config, f.rules, At(2030, 1, 1));
  CHECK(j["request"] == "DSR-2026-0117");
  CHECK(j["subject"] == "customer:42");
  CHECK(j["zone"] == "Europe/Berlin");
  CHECK(j["deadline"]["at"] == "2026-02-19T09:00:00Z");
  CHECK(j["deadline"]["local_date"] == "2026-02-19");
  CHECK(j["executed"]["at"] == "2026-02-01T12:00:00Z");
  CHECK(j["as_of"]["at"] == "2026-02-01T12:00:00Z");  // executed, not the `now` passed
  CHECK(j["erased_total"] == 6);
  CHECK(j["kept_total"] == 10);

  // Floor: 7 years after 2024-02-29 11:00 CET. 2031-02-28 reaches back to
  // 2024-02-28 only; 2031-03-01 00:00 CET reaches 2024-03-01: that is the end.
  const nlohmann::json& floor = j["kept"][0];
  CHECK(floor["why"] == "floor");
  CHECK(floor["floor_category"] == "invoices");
  CHECK(floor["keep_at_least"] == "7 years");
  CHECK(floor["floor_end"]["at"] == "2031-02-28T23:00:00Z");
  CHECK(floor["floor_end"]["local_date"] == "2031-03-01");
  CHECK(floor["floor_end"]["local_time"] == "00:00:00");
  // Then the 8-year schedule: 2032 has a Feb 29, so 11:00:01 CET that day.
  CHECK(floor["deleted_by"]["at"] == "2032-02-29T10:00:01Z");
  CHECK(floor["deleted_by"]["local_date"] == "2032-02-29");
  CHECK(floor["text"] ==
        "3 records of Invoices (invoices), dated 2023-06-01 to 2024-02-29, kept at least 7 years under the policy "
        "line \"tax records, 7 years\" "
        "until 2031-03-01, then deleted by the invoices schedule by 2032-02-29");

  const nlohmann::json& held = j["kept"][1];
  CHECK(held["why"] == "held");
  CHECK(held["hold"] == 3);
  CHECK(held["deleted_by"].is_null());
  CHECK(held["text"].get<std::string>().find("under legal hold 3 (M-17) until released") != std::string::npos);

  // Exception: the security logs' 1-year schedule from 2026-01-15 09:00 CET.
  const nlohmann::json& exception = j["kept"][2];
  CHECK(exception["why"] == "exception");
  CHECK(exception["deleted_by"]["at"] == "2027-01-15T08:00:01Z");
  CHECK(exception["text"].get<std::string>().find("kept for fraud investigation (Privacy Policy, section 6)") !=
        std::string::npos);

  const nlohmann::json& locked = j["kept"][3];
  CHECK(locked["retry"] == "retention erase --subject customer:42 --request DSR-2026-0117");

  // Roll-out: the categories that do not map "customer", in rule order.
  REQUIRE(j["roll_out"].size() == 3);
  CHECK(j["roll_out"][0]["category"] == "archive");
  CHECK(j["roll_out"][0]["deleted_by"].is_null());
  CHECK(j["roll_out"][0]["text"] == "Archived exports containing this subject have no deletion schedule");
  // 30 days from 2026-02-01 13:00 CET: 2026-03-03 13:00:01 CET.
  CHECK(Find(j["roll_out"], "backups")["deleted_by"]["at"] == "2026-03-03T12:00:01Z");
  // 90 days across the spring change: 2026-05-02 13:00:01 CEST, 11:00:01Z
  // (not the 12:00:01Z of 90 times 24 hours).
  const nlohmann::json& logs = Find(j["roll_out"], "request_logs");
  CHECK(logs["deleted_by"]["at"] == "2026-05-02T11:00:01Z");
  CHECK(logs["deleted_by"]["local_date"] == "2026-05-02");
  CHECK(logs["deleted_by"]["local_time"] == "13:00:01");
  CHECK(logs["text"] == "Server logs containing this subject are deleted by 2026-05-02");

  CHECK(j["evidence"]["run_id"] == 7);
  CHECK(j["evidence"]["first_seq"] == 120);
  CHECK(j["evidence"]["last_seq"] == 131);
  CHECK(j["evidence"]["head_hash"] == "ffee00");
  CHECK(j["evidence"]["rules_hash"] == "abc123");
}

TEST_CASE("Erasure receipt: a preview's roll-out counts from the moment passed", "[erase]") {
  Fixture f;
  f.receipt.dry_run = true;
  f.receipt.executed.reset();
  f.receipt.outcome = "preview";
  const nlohmann::json j = ReceiptToJson(f.receipt, f.config, f.rules, At(2026, 3, 1, 12));
  CHECK(j["executed"].is_null());
  CHECK(Find(j["roll_out"], "backups")["deleted_by"]["at"] == "2026-03-31T11:00:01Z");  // 13:00:01 CEST
}

std::string Render(const Fixture& f, ReceiptFormat format) {
  std::ostringstream out;
  WriteReceipt(f.receipt, f.config, f.rules, format, out, At(2026, 3, 1, 12));
  return out.str();
}

TEST_CASE("Erasure receipt: md and table carry the same numbers and dates", "[erase]") {
  Fixture f;
  const std::string md = Render(f, ReceiptFormat::kMarkdown);
  const std::string table = Render(f, ReceiptFormat::kTable);
  INFO(md);
  INFO(table);
  for (const char* section : {"# ", "## What we deleted", "## What we kept, and why",
                              "## Where else your data may be, and when it goes", "## Evidence"})
    CHECK(md.find(section) != std::string::npos);
  for (const char* fact : {"DSR-2026-0117", "customer:42", "2026-02-19", "2031-03-01", "2032-02-29", "2027-01-15",
                           "2026-05-02", "2026-03-03", "M-17", "120", "131", "ffee00", "abc123",
                           "retention erase --subject customer:42 --request DSR-2026-0117"}) {
    CHECK(md.find(fact) != std::string::npos);
    CHECK(table.find(fact) != std::string::npos);
  }
  for (const char* count : {" 6", " 10", " 5", " 3", " 4"}) {
    CHECK(md.find(count) != std::string::npos);
    CHECK(table.find(count) != std::string::npos);
  }
  CHECK(md.find("would be") == std::string::npos);
  CHECK(table.find("would be") == std::string::npos);
}

TEST_CASE("Erasure receipt: a dry run says what would be erased and that nothing was", "[erase]") {
  Fixture f;
  f.receipt.dry_run = true;
  f.receipt.executed.reset();
  f.receipt.outcome = "preview";
  f.receipt.run_id = 0;
  f.receipt.first_seq = f.receipt.last_seq = 0;
  f.receipt.head_hash.clear();
  for (ReceiptFormat format : {ReceiptFormat::kMarkdown, ReceiptFormat::kTable}) {
    const std::string text = Render(f, format);
    INFO(text);
    CHECK(text.find("would be erased") != std::string::npos);
    CHECK(text.find("nothing was deleted") != std::string::npos);
    CHECK(text.find("2031-03-01") != std::string::npos);
  }
  const nlohmann::json j = ReceiptToJson(f.receipt, f.config, f.rules, At(2026, 3, 1, 12));
  CHECK(j["outcome"] == "preview");
  CHECK(j["dry_run"] == true);
}

TEST_CASE("ParseReceiptFormat: table, json, md", "[erase]") {
  CHECK(*ParseReceiptFormat("table") == ReceiptFormat::kTable);
  CHECK(*ParseReceiptFormat("json") == ReceiptFormat::kJson);
  CHECK(*ParseReceiptFormat("md") == ReceiptFormat::kMarkdown);
  const auto bad = ParseReceiptFormat("html");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == StatusCode::kInvalid);
  CHECK(bad.status().message().find("table, json or md") != std::string::npos);
}

}  // namespace
}  // namespace retention
