// An independent checker for the guarantees of SPEC 6.1, 6.2 and 6.10:
// after any run, compare what a store held before with what it holds now,
// against the ledger.
//
// Independent means it shares no engine code: the ledger, the holds and the
// runs are read with SQLite's C API, the chain is recomputed with OpenSSL's
// SHA-256 from the byte layout written out in words at the top of
// src/ledger/ledger.cc (not by calling the engine's serializer), and what a
// target holds is read by SQL or lstat the test writes itself from the rules.
// A bug in the engine's verify or decoding therefore cannot hide the same
// bug from this checker.
//
// What it checks (Check()):
//   chain    every entry's hash recomputed from its fields matches the stored
//            hash; every prev_hash is the hash of the entry before; seq is
//            contiguous; a ledger that does not start at seq 1 is accounted
//            for by an anchor entry (from/through/through_hash in its detail)
//   gone     every record present before and absent after (or present with
//            another identity: clock, or inode+size+mtime for files) has
//            exactly one `delete` entry appended since the snapshot, naming
//            its store, target and key, with its clock
//
// Batch entries (schema version 4, layout in src/ledger/batch_entry.h) are
// decoded here by the checker's own decoder, written from that layout in
// words, and their hash covers the payload as field 16. A batch's records
// become delete entries when a later entry's "settles" names the batch:
// every candidate not listed as kept (the replaced ones included) is a
// delete entry dated by the settling entry (its seq and time), reconciled
// when the settlement says so. A batch not settled claims nothing.
// Settlements are checked too: an earlier batch entry, settled once,
// indexes inside it, none kept and replaced.
//   claimed  no `delete` entry appended since the snapshot names a record
//            that was not there, or that is still there with the same
//            identity, or with a clock other than the record's
//   holds    no `delete` entry removed a record covered by a hold that was
//            in force at that point of the ledger: placed (its hold_placed
//            entry) before the delete entry -- for a batch, before its
//            intent, the batch entry -- not released (hold_released) before
//            the entry that records the deletion, not expired by its time. A reconciled delete (detail
//            {"reconciled":true}) happened in a crashed run at an unknown
//            moment: it is judged from the start of that run (run_start), so
//            only holds placed before the run started bind it.
//
//   erase    an `erase` entry follows its run's run_start and names the
//            request; every batch entry of that run carries it, no other
//            batch entry carries one (CheckErasures)
//
// Each problem is one line naming the entry's seq, the store/target/key and
// the hold, so that a failing test says exactly what broke.
//
// The state database's schema may grow; only the ledger, holds and runs
// columns that exist in schema version 2 are read, and ledger.payload when
// present (version 4).
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

namespace retention::checker {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------
// Records: what a target holds.

// One record as the test sees it. For files, the identity is the inode,
// size and mtime (an equal path with another identity is another file).
struct Record {
  std::string clock;                  // the clock as the ledger writes it
  std::optional<int64_t> clock_micros;  // unix microseconds; nullopt: undated
  // When several categories age the same record by different clocks (the
  // demo's sales: closed_accounts by the account's closed_at, transactions
  // by sold_at): category -> (clock, micros). A delete entry is judged by
  // the clock of its own category.
  std::map<std::string, std::pair<std::string, std::optional<int64_t>>> by_category;
  std::string subject;                // "kind:id", or "" when none
  bool is_file = false;
  uint64_t dev = 0, ino = 0;
  int64_t size = 0;
  int64_t mtime_ns = 0;

  bool SameIdentity(const Record& o) const {
    if (is_file != o.is_file) return false;
    if (is_file) return dev == o.dev && ino == o.ino && size == o.size && mtime_ns == o.mtime_ns;
    return clock == o.clock;
  }
};

// key -> record, for one "store/target".
using RecordMap = std::map<std::string, Record>;

// A target of a SQLite store. `query` returns one row per record:
//   key (text), clock as stored (text, NULL for none), clock in unix
//   microseconds (integer, NULL when undated), subject id (NULL for none).
struct SqliteTarget {
  std::string store;   // store name in the config, as in the ledger
  std::string target;  // target name, as in the ledger
  fs::path database;
  std::string query;
  std::string subject_kind;  // "" when the target maps no subject
  std::string category;      // "": the clock of every category that has this target
};

// A target of a files store: the regular files under `root` whose path
// relative to it matches one of `patterns` (fnmatch, FNM_PATHNAME).
// `clock` gives the clock text and micros the ledger should name.
struct FilesTarget {
  std::string store;
  std::string target;
  fs::path root;
  std::vector<std::string> patterns;
  std::function<std::pair<std::string, std::optional<int64_t>>(const std::string& rel, const Record&)> clock;
};

// Every file of a files store is snapshotted, matched or not, under the
// pseudo-target "(unmatched)": the checker must see a file no target covers
// disappearing too.
inline constexpr const char* kUnmatched = "(unmatched)";

struct StoreSpec {
  std::vector<SqliteTarget> sqlite;
  std::vector<FilesTarget> files;
};

// What the stores held at one moment, and the ledger's head then.
struct Snapshot {
  std::map<std::string, RecordMap> targets;  // "store/target" -> records
  int64_t ledger_seq = 0;                    // entries up to here were there before
};

// ---------------------------------------------------------------------------
// SQLite access (C API only).

class RawDb {
 public:
  explicit RawDb(const fs::path& path) {
    // Read-only, and never creating: the checker must not change what it
    // looks at (a read-only connection does not checkpoint or remove a WAL).
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      std::string m = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      db_ = nullptr;
      throw std::runtime_error("checker: cannot open " + path.string() + ": " + m);
    }
    sqlite3_busy_timeout(db_, 10000);
    // A WAL left by a killed writer must be recovered before anyone reads
    // it, which a read-only connection cannot do (SQLITE_READONLY_RECOVERY,
    // "attempt to write a readonly database"). Then open it read-write,
    // never creating: recovery rebuilds the index of the WAL, it does not
    // change what the database holds.
    char* err = nullptr;
    const int rc = sqlite3_exec(db_, "SELECT count(*) FROM sqlite_master", nullptr, nullptr, &err);
    sqlite3_free(err);
    if (rc != SQLITE_OK && (sqlite3_extended_errcode(db_) & 0xff) == SQLITE_READONLY) {
      sqlite3_close(db_);
      db_ = nullptr;
      if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
        std::string m = db_ ? sqlite3_errmsg(db_) : "out of memory";
        sqlite3_close(db_);
        db_ = nullptr;
        throw std::runtime_error("checker: cannot open " + path.string() + " to recover its WAL: " + m);
      }
      sqlite3_busy_timeout(db_, 10000);
    }
  }
  ~RawDb() { sqlite3_close(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  // Calls `row` for every row of `sql`.
  void ForEach(const std::string& sql, const std::function<void(sqlite3_stmt*)>& row) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK)
      throw std::runtime_error(std::string("checker: SQL error: ") + sqlite3_errmsg(db_) + " in: " + sql);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) row(stmt);
    std::string m = sqlite3_errmsg(db_);
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) throw std::runtime_error("checker: SQL error: " + m + " in: " + sql);
  }

  bool HasTable(const std::string& name) {
    bool found = false;
    ForEach("SELECT name FROM sqlite_master WHERE type = 'table' AND name = '" + name + "'",
            [&](sqlite3_stmt*) { found = true; });
    return found;
  }

  static std::string Text(sqlite3_stmt* s, int col) {
    const void* p = sqlite3_column_blob(s, col);  // the bytes exactly as stored
    const int n = sqlite3_column_bytes(s, col);
    return p ? std::string(static_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
  }
  static std::optional<std::string> MaybeText(sqlite3_stmt* s, int col) {
    if (sqlite3_column_type(s, col) == SQLITE_NULL) return std::nullopt;
    return Text(s, col);
  }
  static std::optional<int64_t> MaybeInt(sqlite3_stmt* s, int col) {
    if (sqlite3_column_type(s, col) == SQLITE_NULL) return std::nullopt;
    return sqlite3_column_int64(s, col);
  }

 private:
  sqlite3* db_ = nullptr;
};

// ---------------------------------------------------------------------------
// The ledger, its chain, the holds and the runs, as stored.

struct Entry {
  int64_t seq = 0;
  int64_t at = 0;
  std::string kind;
  int64_t run_id = 0;
  std::string category, store, target, record_key, clock, cutoff, rule, subject;
  int64_t batch = 0;
  std::string detail, prev_hash, hash;
  std::string payload;  // version 4: kind "batch" only
  // A delete or kept entry a batch entry stands for: the batch entry's seq
  // (the intent, written before the delete); equal to seq otherwise.
  int64_t intent_seq = 0;
  // A delete or kept entry of an erasure run's batch: the "request" its
  // batch entry's detail names; "" otherwise.
  std::string request;
};

struct HoldRow {
  int64_t id = 0;
  std::string matter;
  int64_t placed_at = 0;
  std::optional<int64_t> expires_at, released_at;
  std::optional<std::string> category, target, subject_kind, subject_id, key;
  std::optional<int64_t> clock_from, clock_until;
};

struct RunRow {
  int64_t id = 0;
  std::string outcome;
  int64_t exit_code = 0;
  std::optional<int64_t> ended_at;
};

struct State {
  std::vector<Entry> ledger;  // by seq
  std::vector<HoldRow> holds;
  std::map<int64_t, RunRow> runs;
};

inline State ReadState(const fs::path& state_db) {
  State st;
  if (!fs::exists(state_db)) return st;
  RawDb db(state_db);
  if (db.HasTable("ledger")) {
    bool has_payload = false;
    db.ForEach("SELECT name FROM pragma_table_info('ledger') WHERE name = 'payload'",
               [&](sqlite3_stmt*) { has_payload = true; });
    db.ForEach(
        std::string("SELECT seq, at, kind, run_id, category, store, target, record_key, clock, cutoff, rule, subject, "
                    "batch, detail, prev_hash, hash, ") +
            (has_payload ? "payload" : "x''") + " FROM ledger ORDER BY seq",
        [&](sqlite3_stmt* s) {
          Entry e;
          e.seq = sqlite3_column_int64(s, 0);
          e.at = sqlite3_column_int64(s, 1);
          e.kind = RawDb::Text(s, 2);
          e.run_id = sqlite3_column_int64(s, 3);
          e.category = RawDb::Text(s, 4);
          e.store = RawDb::Text(s, 5);
          e.target = RawDb::Text(s, 6);
          e.record_key = RawDb::Text(s, 7);
          e.clock = RawDb::Text(s, 8);
          e.cutoff = RawDb::Text(s, 9);
          e.rule = RawDb::Text(s, 10);
          e.subject = RawDb::Text(s, 11);
          e.batch = sqlite3_column_int64(s, 12);
          e.detail = RawDb::Text(s, 13);
          e.prev_hash = RawDb::Text(s, 14);
          e.hash = RawDb::Text(s, 15);
          e.payload = RawDb::Text(s, 16);
          st.ledger.push_back(std::move(e));
        });
  }
  if (db.HasTable("holds")) {
    db.ForEach(
        "SELECT id, matter, placed_at, expires_at, released_at, scope_category, scope_target, scope_subject_kind, "
        "scope_subject_id, scope_key, scope_clock_from, scope_clock_until FROM holds ORDER BY id",
        [&](sqlite3_stmt* s) {
          HoldRow h;
          h.id = sqlite3_column_int64(s, 0);
          h.matter = RawDb::Text(s, 1);
          h.placed_at = sqlite3_column_int64(s, 2);
          h.expires_at = RawDb::MaybeInt(s, 3);
          h.released_at = RawDb::MaybeInt(s, 4);
          h.category = RawDb::MaybeText(s, 5);
          h.target = RawDb::MaybeText(s, 6);
          h.subject_kind = RawDb::MaybeText(s, 7);
          h.subject_id = RawDb::MaybeText(s, 8);
          h.key = RawDb::MaybeText(s, 9);
          h.clock_from = RawDb::MaybeInt(s, 10);
          h.clock_until = RawDb::MaybeInt(s, 11);
          st.holds.push_back(std::move(h));
        });
  }
  if (db.HasTable("runs")) {
    db.ForEach("SELECT id, outcome, exit_code, ended_at FROM runs ORDER BY id", [&](sqlite3_stmt* s) {
      RunRow r;
      r.id = sqlite3_column_int64(s, 0);
      r.outcome = RawDb::Text(s, 1);
      r.exit_code = sqlite3_column_int64(s, 2);
      r.ended_at = RawDb::MaybeInt(s, 3);
      st.runs[r.id] = r;
    });
  }
  return st;
}

// --- The hash, from the layout in words (src/ledger/ledger.cc) -------------
//
// 15 fields in order: prev_hash, seq, at, kind, run_id, category, store,
// target, record_key, clock, cutoff, rule, subject, batch, detail, and a
// 16th, the payload bytes, for kind "batch" only. Each is a 4-byte
// big-endian length, then the bytes: 8 bytes big-endian two's complement
// for an integer, the UTF-8 bytes as stored for a text.

inline void AppendLength(uint32_t n, std::string* out) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>((n >> shift) & 0xff));
}
inline void AppendTextField(const std::string& s, std::string* out) {
  AppendLength(static_cast<uint32_t>(s.size()), out);
  out->append(s);
}
inline void AppendIntField(int64_t v, std::string* out) {
  AppendLength(8, out);
  const uint64_t u = static_cast<uint64_t>(v);
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>((u >> shift) & 0xff));
}

inline std::string EntryBytes(const Entry& e) {
  std::string b;
  AppendTextField(e.prev_hash, &b);
  AppendIntField(e.seq, &b);
  AppendIntField(e.at, &b);
  AppendTextField(e.kind, &b);
  AppendIntField(e.run_id, &b);
  AppendTextField(e.category, &b);
  AppendTextField(e.store, &b);
  AppendTextField(e.target, &b);
  AppendTextField(e.record_key, &b);
  AppendTextField(e.clock, &b);
  AppendTextField(e.cutoff, &b);
  AppendTextField(e.rule, &b);
  AppendTextField(e.subject, &b);
  AppendIntField(e.batch, &b);
  AppendTextField(e.detail, &b);
  if (e.kind == "batch") AppendTextField(e.payload, &b);
  return b;
}

inline std::string Sha256Hex(const std::string& bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr) != 1 || len != 32)
    throw std::runtime_error("checker: SHA-256 failed");
  static const char* kHex = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex.push_back(kHex[md[i] >> 4]);
    hex.push_back(kHex[md[i] & 0xf]);
  }
  return hex;
}

inline std::string EntryHash(const Entry& e) { return Sha256Hex(EntryBytes(e)); }

inline const std::string kZeroHash(64, '0');

inline std::string Short(const std::string& h) { return h.size() > 16 ? h.substr(0, 16) + "..." : h; }

// The chain checks; appends a line per problem.
inline void CheckChain(const std::vector<Entry>& ledger, std::vector<std::string>* problems) {
  if (ledger.empty()) return;
  using Json = nlohmann::json;
  // Anchors present: seq -> (from, through, through_hash).
  struct Anchor {
    int64_t seq, from, through;
    std::string through_hash;
  };
  std::vector<Anchor> anchors;
  for (const Entry& e : ledger) {
    if (e.kind != "anchor") continue;
    Json d = Json::parse(e.detail, nullptr, /*allow_exceptions=*/false);
    if (!d.is_object() || !d.contains("from") || !d.contains("through") || !d.contains("through_hash") ||
        !d["from"].is_number_integer() || !d["through"].is_number_integer() || !d["through_hash"].is_string()) {
      problems->push_back("ledger seq " + std::to_string(e.seq) + ": anchor entry with a malformed detail: " +
                          e.detail);
      continue;
    }
    anchors.push_back({e.seq, d["from"].get<int64_t>(), d["through"].get<int64_t>(),
                       d["through_hash"].get<std::string>()});
  }
  std::map<int64_t, const Entry*> by_seq;
  for (const Entry& e : ledger) by_seq[e.seq] = &e;

  const Entry& first = ledger.front();
  if (first.seq == 1) {
    if (first.prev_hash != kZeroHash)
      problems->push_back("ledger seq 1: prev_hash " + Short(first.prev_hash) + " is not 64 zeros");
  } else {
    // Entries 1..first.seq-1 are gone: an anchor must have pruned them,
    // either all of its range (the first entry then links to through_hash)
    // or part of it (entry `through` still present carries through_hash).
    bool accounted = false;
    for (const Anchor& a : anchors) {
      if (a.seq <= a.through) continue;
      if (first.seq == a.through + 1 && first.prev_hash == a.through_hash) accounted = true;
      if (first.seq >= a.from && first.seq <= a.through) {
        auto it = by_seq.find(a.through);
        if (it != by_seq.end() && it->second->hash == a.through_hash) accounted = true;
      }
    }
    if (!accounted)
      problems->push_back("ledger starts at seq " + std::to_string(first.seq) + " (prev_hash " +
                          Short(first.prev_hash) + ") but no anchor accounts for entries 1.." +
                          std::to_string(first.seq - 1));
  }
  for (size_t i = 0; i < ledger.size(); ++i) {
    const Entry& e = ledger[i];
    const std::string recomputed = EntryHash(e);
    if (recomputed != e.hash)
      problems->push_back("ledger seq " + std::to_string(e.seq) + " (" + e.kind + " " + e.store + "/" + e.target +
                          "/" + e.record_key + "): stored hash " + Short(e.hash) + " but its fields hash to " +
                          Short(recomputed));
    if (i == 0) continue;
    const Entry& prev = ledger[i - 1];
    if (e.seq != prev.seq + 1)
      problems->push_back("ledger seq " + std::to_string(e.seq) + " follows seq " + std::to_string(prev.seq) +
                          ": entries " + std::to_string(prev.seq + 1) + ".." + std::to_string(e.seq - 1) +
                          " are missing");
    if (e.prev_hash != prev.hash)
      problems->push_back("ledger seq " + std::to_string(e.seq) + ": prev_hash " + Short(e.prev_hash) +
                          " is not the hash of seq " + std::to_string(prev.seq) + " (" + Short(prev.hash) + ")");
  }
}

// --- Batch payloads, from the layout in words (src/ledger/batch_entry.h) ---
//
// u8 version 1; varint n (1..1000000); u8 key form (0 text front-coded,
// 1 integer: zigzag deltas from 0); n clocks front-coded; varint length +
// bytes of the subject kind; u8 subject form (0 none, 1 integer: 0 empty
// else zigzag+1, 2 text front-coded); u8 identity form (0 all unknown, 1
// all "", 2 each: 0 unknown, else 1+shared prefix with the previous known
// identity, varint length, bytes). Nothing after. Front-coded: varint
// shared prefix with the previous value, varint rest length, rest bytes.

struct BatchRec {
  std::string key, clock, subject;  // subject: the id, "" when none
  std::optional<std::string> identity;
};
struct Batch {
  std::string subject_kind;
  std::vector<BatchRec> records;
};

class PayloadCursor {
 public:
  explicit PayloadCursor(const std::string& b) : b_(b) {}
  uint8_t U8() {
    if (at_ >= b_.size()) throw std::runtime_error("payload truncated");
    return static_cast<uint8_t>(b_[at_++]);
  }
  uint64_t Var() {
    uint64_t v = 0;
    for (int i = 0; i < 10; ++i) {
      const uint8_t c = U8();
      if (i == 9 && c > 1) throw std::runtime_error("varint over 64 bits");
      v |= static_cast<uint64_t>(c & 0x7f) << (7 * i);
      if (!(c & 0x80)) {
        if (i > 0 && c == 0) throw std::runtime_error("overlong varint");
        return v;
      }
    }
    throw std::runtime_error("varint longer than 10 bytes");
  }
  std::string Take(uint64_t n) {
    if (n > b_.size() - at_) throw std::runtime_error("payload truncated");
    std::string out = b_.substr(at_, static_cast<size_t>(n));
    at_ += static_cast<size_t>(n);
    return out;
  }
  std::string Front(const std::string& prev) {
    const uint64_t shared = Var();
    const uint64_t rest = Var();
    if (shared > prev.size()) throw std::runtime_error("prefix longer than the previous value");
    return prev.substr(0, static_cast<size_t>(shared)) + Take(rest);
  }
  bool AtEnd() const { return at_ == b_.size(); }
  size_t Left() const { return b_.size() - at_; }

 private:
  const std::string& b_;
  size_t at_ = 0;
};

inline int64_t FromZigZag(uint64_t u) { return static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1)); }

// Throws std::runtime_error naming what is wrong.
inline Batch DecodeBatch(const std::string& bytes) {
  PayloadCursor c(bytes);
  if (c.U8() != 1) throw std::runtime_error("payload version is not 1");
  const uint64_t n = c.Var();
  if (n < 1 || n > 1000000) throw std::runtime_error("record count " + std::to_string(n) + " out of range");
  if (n > c.Left()) throw std::runtime_error("payload truncated");
  Batch b;
  b.records.resize(static_cast<size_t>(n));
  const uint8_t key_form = c.U8();
  if (key_form == 1) {
    uint64_t key = 0;  // wrapping int64 arithmetic, done unsigned
    for (BatchRec& r : b.records) {
      key += static_cast<uint64_t>(FromZigZag(c.Var()));
      r.key = std::to_string(static_cast<int64_t>(key));
    }
  } else if (key_form == 0) {
    std::string prev;
    for (BatchRec& r : b.records) prev = r.key = c.Front(prev);
  } else {
    throw std::runtime_error("unknown key form");
  }
  {
    std::string prev;
    for (BatchRec& r : b.records) prev = r.clock = c.Front(prev);
  }
  b.subject_kind = c.Take(c.Var());
  const uint8_t subject_form = c.U8();
  if (subject_form == 1) {
    for (BatchRec& r : b.records) {
      const uint64_t v = c.Var();
      if (v != 0) r.subject = std::to_string(FromZigZag(v - 1));
    }
  } else if (subject_form == 2) {
    std::string prev;
    for (BatchRec& r : b.records) prev = r.subject = c.Front(prev);
  } else if (subject_form != 0) {
    throw std::runtime_error("unknown subject form");
  }
  const uint8_t identity_form = c.U8();
  if (identity_form == 1) {
    for (BatchRec& r : b.records) r.identity = std::string();
  } else if (identity_form == 2) {
    std::string prev;
    for (BatchRec& r : b.records) {
      const uint64_t tag = c.Var();
      if (tag == 0) continue;
      const uint64_t shared = tag - 1;
      if (shared > prev.size()) throw std::runtime_error("identity prefix longer than the previous one");
      prev = prev.substr(0, static_cast<size_t>(shared)) + c.Take(c.Var());
      r.identity = prev;
    }
  } else if (identity_form != 0) {
    throw std::runtime_error("unknown identity form");
  }
  if (!c.AtEnd()) throw std::runtime_error("bytes after the last field");
  return b;
}

// The delete entries the batch entries stand for: for every settlement, a
// delete entry per candidate not kept, dated by the settling entry (its seq
// and time), with {"reconciled":true} when the settlement was a
// reconciliation. Problems with payloads and settlements are appended.
inline std::vector<Entry> BatchDeletes(const State& st, std::vector<std::string>* problems,
                                       std::vector<Entry>* kept = nullptr) {
  using Json = nlohmann::json;
  std::vector<Entry> out;
  std::map<int64_t, std::pair<const Entry*, Batch>> open;
  std::set<int64_t> settled;
  for (const Entry& e : st.ledger) {
    const std::string where = "ledger seq " + std::to_string(e.seq);
    if (e.kind != "batch" && !e.payload.empty()) problems->push_back(where + ": a " + e.kind + " entry has a payload");
    const Json d = Json::parse(e.detail, nullptr, false);
    if (d.is_object() && d.contains("settles")) {
      const Json& list = d["settles"];
      if (!list.is_array()) problems->push_back(where + ": \"settles\" is not an array");
      for (const Json& item : list.is_array() ? list : Json::array()) {
        if (!item.is_object() || !item.contains("seq") || !item["seq"].is_number_integer()) {
          problems->push_back(where + ": a settlement names no batch seq: " + item.dump());
          continue;
        }
        const int64_t bseq = item["seq"].get<int64_t>();
        auto it = open.find(bseq);
        if (it == open.end()) {
          const bool pruned = !st.ledger.empty() && bseq < st.ledger.front().seq && settled.insert(bseq).second;
          if (!pruned)
            problems->push_back(where + " settles seq " + std::to_string(bseq) +
                                ", which is not an earlier batch entry still open");
          continue;
        }
        const Entry& batch = *it->second.first;
        const Batch& payload = it->second.second;
        std::map<int64_t, std::string> marked;  // index -> "kept" / "replaced"
        auto mark = [&](const Json& v, const std::string& as) {
          if (!v.is_number_integer() || v.get<int64_t>() < 0 ||
              v.get<int64_t>() >= static_cast<int64_t>(payload.records.size())) {
            problems->push_back(where + " settles candidate " + v.dump() + " of batch seq " + std::to_string(bseq) +
                                ", which has " + std::to_string(payload.records.size()));
            return;
          }
          if (!marked.emplace(v.get<int64_t>(), as).second)
            problems->push_back(where + " settles candidate " + v.dump() + " of batch seq " + std::to_string(bseq) +
                                " twice");
        };
        if (item.contains("kept"))
          for (const Json& k : item["kept"]) mark(k.is_object() && k.contains("i") ? k["i"] : Json(), "kept");
        if (item.contains("replaced"))
          for (const Json& r : item["replaced"]) mark(r, "replaced");
        const bool reconciled = item.contains("reconciled") && item["reconciled"] == true;
        const Json bd = Json::parse(batch.detail, nullptr, false);
        const std::string request =
            bd.is_object() && bd.contains("request") && bd["request"].is_string() ? bd["request"].get<std::string>() : "";
        for (size_t i = 0; i < payload.records.size(); ++i) {
          auto m = marked.find(static_cast<int64_t>(i));
          const bool is_kept = m != marked.end() && m->second == "kept";
          if (is_kept && kept == nullptr) continue;
          const BatchRec& r = payload.records[i];
          Entry del;
          del.seq = e.seq;
          del.intent_seq = bseq;
          del.at = e.at;
          del.kind = "delete";
          del.run_id = batch.run_id;
          del.category = batch.category;
          del.store = batch.store;
          del.target = batch.target;
          del.record_key = r.key;
          del.clock = r.clock;
          del.cutoff = batch.cutoff;
          del.rule = batch.rule;
          del.subject = r.subject.empty() ? "" : payload.subject_kind + ":" + r.subject;
          del.batch = batch.batch;
          del.detail = reconciled ? "{\"reconciled\":true}" : "{}";
          del.hash = batch.hash;
          del.request = request;
          if (is_kept) {
            del.kind = "kept";
            kept->push_back(std::move(del));
          } else {
            out.push_back(std::move(del));
          }
        }
        open.erase(it);
        settled.insert(bseq);
      }
    }
    if (e.kind == "batch") {
      try {
        open.emplace(e.seq, std::make_pair(&e, DecodeBatch(e.payload)));
      } catch (const std::exception& ex) {
        problems->push_back(where + ": batch payload does not decode: " + ex.what());
      }
    }
  }
  return out;
}

// Erasure requests (src/ledger/ledger.cc, ERASURE REQUESTS): an `erase`
// entry follows its run's run_start, names its run's subject and a
// non-empty request with received and deadline in its detail; every batch
// entry of that run carries the same "request"; a run without an erase
// entry writes no batch entry with a request.
inline void CheckErasures(const State& st, std::vector<std::string>* problems) {
  using Json = nlohmann::json;
  std::map<int64_t, int64_t> started;        // run -> run_start seq
  std::map<int64_t, std::string> requested;  // run -> request of its erase entry
  for (const Entry& e : st.ledger) {
    const std::string where = "ledger seq " + std::to_string(e.seq);
    if (e.kind == "run_start") started[e.run_id] = e.seq;
    if (e.kind == "erase") {
      const Json d = Json::parse(e.detail, nullptr, false);
      if (e.run_id == 0 || !started.count(e.run_id)) {
        problems->push_back(where + ": an erase entry outside a started run (run " + std::to_string(e.run_id) + ")");
      }
      if (!d.is_object() || !d.contains("request") || !d["request"].is_string() ||
          d["request"].get<std::string>().empty() || !d.contains("received") || !d.contains("deadline") ||
          !d.contains("subject") || d["subject"] != e.subject || e.subject.find(':') == std::string::npos) {
        problems->push_back(where + ": an erase entry without request, subject, received and deadline: " + e.detail);
        continue;
      }
      if (!requested.emplace(e.run_id, d["request"].get<std::string>()).second)
        problems->push_back(where + ": a second erase entry in run " + std::to_string(e.run_id));
    }
    if (e.kind == "batch") {
      const Json d = Json::parse(e.detail, nullptr, false);
      const std::string request =
          d.is_object() && d.contains("request") && d["request"].is_string() ? d["request"].get<std::string>() : "";
      auto it = requested.find(e.run_id);
      const std::string want = it == requested.end() ? "" : it->second;
      if (request != want)
        problems->push_back(where + ": batch entry of run " + std::to_string(e.run_id) + " names request \"" +
                            request + "\", its run's erase entry \"" + want + "\"");
    }
  }
}

// ---------------------------------------------------------------------------
// Snapshots.

inline void SnapshotSqlite(const SqliteTarget& t, Snapshot* snap) {
  RecordMap& records = snap->targets[t.store + "/" + t.target];
  RawDb db(t.database);
  db.ForEach(t.query, [&](sqlite3_stmt* s) {
    Record r;
    const std::string key = RawDb::Text(s, 0);
    r.clock = RawDb::MaybeText(s, 1).value_or("");
    r.clock_micros = RawDb::MaybeInt(s, 2);
    const auto subject_id = RawDb::MaybeText(s, 3);
    if (!t.subject_kind.empty() && subject_id) r.subject = t.subject_kind + ":" + *subject_id;
    auto [it, inserted] = records.emplace(key, r);
    // The first target listed for a table gives the identity clock; each
    // category's own clock is kept beside it.
    if (!t.category.empty()) it->second.by_category[t.category] = {r.clock, r.clock_micros};
  });
}

// Every entry under `dir` (relative path `rel`), without following symlinks.
inline void WalkFiles(const fs::path& root, const std::string& rel,
                      const std::function<void(const std::string&, const struct stat&)>& visit) {
  const fs::path dir = rel.empty() ? root : root / rel;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (rel.empty() && errno == ENOENT) return;
    throw std::runtime_error("checker: cannot open directory " + dir.string());
  }
  std::vector<std::string> names;
  while (struct dirent* de = ::readdir(d)) {
    const std::string name = de->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  ::closedir(d);
  for (const std::string& name : names) {
    const std::string child = rel.empty() ? name : rel + "/" + name;
    struct stat st {};
    if (::lstat((root / child).c_str(), &st) != 0) continue;  // gone meanwhile
    if (S_ISDIR(st.st_mode)) {
      WalkFiles(root, child, visit);
    } else {
      visit(child, st);
    }
  }
}

inline void SnapshotFilesStore(const std::string& store, const fs::path& root,
                               const std::vector<const FilesTarget*>& targets, Snapshot* snap) {
  for (const FilesTarget* t : targets) snap->targets[store + "/" + t->target];  // present even when empty
  RecordMap& unmatched = snap->targets[store + "/" + kUnmatched];
  WalkFiles(root, "", [&](const std::string& rel, const struct stat& st) {
    Record r;
    r.is_file = true;
    r.dev = st.st_dev;
    r.ino = st.st_ino;
    r.size = st.st_size;
    r.mtime_ns = int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
    bool matched = false;
    for (const FilesTarget* t : targets) {
      bool hit = false;
      for (const std::string& p : t->patterns) hit = hit || ::fnmatch(p.c_str(), rel.c_str(), FNM_PATHNAME) == 0;
      if (!hit || !S_ISREG(st.st_mode)) continue;
      Record copy = r;
      if (t->clock) std::tie(copy.clock, copy.clock_micros) = t->clock(rel, r);
      snap->targets[store + "/" + t->target][rel] = copy;
      matched = true;
    }
    if (!matched) unmatched[rel] = r;
  });
}

inline Snapshot TakeSnapshot(const StoreSpec& spec, const fs::path& state_db) {
  Snapshot snap;
  for (const SqliteTarget& t : spec.sqlite) SnapshotSqlite(t, &snap);
  std::map<std::pair<std::string, fs::path>, std::vector<const FilesTarget*>> stores;
  for (const FilesTarget& t : spec.files) stores[{t.store, t.root}].push_back(&t);
  for (const auto& [store_root, targets] : stores) SnapshotFilesStore(store_root.first, store_root.second, targets, &snap);
  const State st = ReadState(state_db);
  snap.ledger_seq = st.ledger.empty() ? 0 : st.ledger.back().seq;
  return snap;
}

// ---------------------------------------------------------------------------
// Holds, judged from the holds table and the ledger's order.

struct HoldInLedger {
  const HoldRow* hold = nullptr;
  int64_t placed_seq = 0;                 // 0: before every entry present
  std::optional<int64_t> released_seq;    // nullopt: never released
};

// The clock (text, micros) a delete entry of `category` is judged by.
inline std::pair<std::string, std::optional<int64_t>> ClockFor(const Record& r, const std::string& category) {
  if (auto it = r.by_category.find(category); it != r.by_category.end()) return it->second;
  return {r.clock, r.clock_micros};
}

inline bool HoldCovers(const HoldRow& h, const Entry& del, const Record& r) {
  const std::optional<int64_t> clock_micros = ClockFor(r, del.category).second;
  if (h.category && *h.category != del.category) return false;
  if (h.target && *h.target != del.target) return false;
  if (h.subject_kind || h.subject_id) {
    const std::string want = h.subject_kind.value_or("") + ":" + h.subject_id.value_or("");
    if (r.subject != want) return false;
  }
  if (h.key && *h.key != del.record_key) return false;
  if (h.clock_from || h.clock_until) {
    if (!clock_micros) return true;  // undated under a clock range: kept
    if (h.clock_from && *clock_micros < *h.clock_from) return false;
    if (h.clock_until && *clock_micros >= *h.clock_until) return false;
  }
  return true;
}

inline std::vector<HoldInLedger> PlaceHolds(const State& st, std::vector<std::string>* problems) {
  using Json = nlohmann::json;
  std::map<int64_t, int64_t> placed, released;
  for (const Entry& e : st.ledger) {
    if (e.kind != "hold_placed" && e.kind != "hold_released") continue;
    Json d = Json::parse(e.detail, nullptr, false);
    if (!d.is_object() || !d.contains("id") || !d["id"].is_number_integer()) {
      problems->push_back("ledger seq " + std::to_string(e.seq) + ": " + e.kind + " entry names no hold id: " +
                          e.detail);
      continue;
    }
    (e.kind == "hold_placed" ? placed : released)[d["id"].get<int64_t>()] = e.seq;
  }
  const bool pruned = !st.ledger.empty() && st.ledger.front().seq > 1;
  std::vector<HoldInLedger> out;
  for (const HoldRow& h : st.holds) {
    HoldInLedger hl;
    hl.hold = &h;
    if (auto it = placed.find(h.id); it != placed.end()) {
      hl.placed_seq = it->second;
    } else if (!pruned) {
      problems->push_back("hold #" + std::to_string(h.id) + " (" + h.matter +
                          ") is in the holds table but has no hold_placed entry in the ledger");
    }
    if (auto it = released.find(h.id); it != released.end()) {
      hl.released_seq = it->second;
    } else if (h.released_at) {
      problems->push_back("hold #" + std::to_string(h.id) + " (" + h.matter +
                          ") is released in the holds table but has no hold_released entry in the ledger");
      hl.released_seq = 0;  // judged as released from the start: its own problem is reported
    }
    out.push_back(hl);
  }
  return out;
}

// ---------------------------------------------------------------------------
// The whole check.

inline std::string Describe(const std::string& store_target, const std::string& key, const Record& r) {
  std::string s = store_target + "/" + key + " (clock '" + r.clock + "'";
  if (r.is_file) s += ", inode " + std::to_string(r.ino) + ", size " + std::to_string(r.size);
  return s + ")";
}

// `before` a snapshot taken before the run(s), `after` one taken after;
// `state_db` the state database. Empty when everything holds.
inline std::vector<std::string> Check(const Snapshot& before, const Snapshot& after, const fs::path& state_db) {
  std::vector<std::string> problems;
  const State st = ReadState(state_db);
  CheckChain(st.ledger, &problems);
  CheckErasures(st, &problems);
  const std::vector<HoldInLedger> holds = PlaceHolds(st, &problems);

  std::map<int64_t, int64_t> run_start_seq;
  for (const Entry& e : st.ledger)
    if (e.kind == "run_start") run_start_seq[e.run_id] = e.seq;

  // Delete entries appended since `before`, by store/target -> key: the
  // per-record ones, and those settled batches stand for.
  const std::vector<Entry> batch_deletes = BatchDeletes(st, &problems);
  std::map<std::string, std::map<std::string, std::vector<const Entry*>>> deletes;
  for (const std::vector<Entry>* list : {&st.ledger, &batch_deletes}) {
    for (const Entry& e : *list) {
      if (e.kind != "delete" || e.seq <= before.ledger_seq) continue;
      deletes[e.store + "/" + e.target][e.record_key].push_back(&e);
    }
  }

  // Gone: every record present before and not (with its identity) after.
  for (const auto& [store_target, records] : before.targets) {
    const auto after_it = after.targets.find(store_target);
    const std::string store = store_target.substr(0, store_target.find('/'));
    for (const auto& [key, r] : records) {
      if (after_it != after.targets.end()) {
        auto now = after_it->second.find(key);
        if (now != after_it->second.end() && now->second.SameIdentity(r)) continue;
      }
      // A file is named by its store and path, whichever target deleted it.
      std::vector<const Entry*> found;
      if (auto t = deletes.find(store_target); t != deletes.end())
        if (auto k = t->second.find(key); k != t->second.end()) found = k->second;
      if (r.is_file && found.empty()) {
        for (const auto& [st_name, by_key] : deletes) {
          if (st_name.substr(0, st_name.find('/')) != store || st_name == store_target) continue;
          if (auto k = by_key.find(key); k != by_key.end()) found.insert(found.end(), k->second.begin(), k->second.end());
        }
      }
      if (found.empty()) {
        problems.push_back(Describe(store_target, key, r) + " is gone but has no delete entry");
      } else if (found.size() > 1 && !r.is_file) {
        std::string seqs;
        for (const Entry* e : found) seqs += (seqs.empty() ? "" : ", ") + std::to_string(e->seq);
        problems.push_back(Describe(store_target, key, r) + " has " + std::to_string(found.size()) +
                           " delete entries (seq " + seqs + ")");
      }
    }
  }
  // Files: one entry per file across the store's targets (a file two
  // targets match is still one file).
  std::map<std::pair<std::string, std::string>, std::vector<int64_t>> file_entries;

  // Claimed: every delete entry since `before` names a record that was
  // there, with its clock, and is no longer there.
  for (const auto& [store_target, by_key] : deletes) {
    const auto before_it = before.targets.find(store_target);
    if (before_it == before.targets.end()) continue;  // a store the test does not watch (the purge log)
    const auto after_it = after.targets.find(store_target);
    for (const auto& [key, entries] : by_key) {
      for (const Entry* e : entries) {
        const std::string where = "delete entry seq " + std::to_string(e->seq) + " (" + store_target + "/" + key + ")";
        auto was = before_it->second.find(key);
        if (was == before_it->second.end()) {
          problems.push_back(where + " names a record that was not there before the run");
          continue;
        }
        const Record& r = was->second;
        if (r.is_file) file_entries[{e->store, key}].push_back(e->seq);
        const std::string clock = ClockFor(r, e->category).first;
        if (e->clock != clock) {
          // Files with a sub-second mtime: the ledger may carry more digits.
          const bool prefix_ok = r.is_file && r.mtime_ns % 1000000000 != 0 && e->clock.rfind(clock.substr(0, 19), 0) == 0;
          if (!prefix_ok)
            problems.push_back(where + " says clock '" + e->clock + "' but the record's clock was '" + clock + "'");
        }
        if (!r.subject.empty() && e->subject != r.subject)
          problems.push_back(where + " says subject '" + e->subject + "' but the record's subject was '" + r.subject +
                             "'");
        if (after_it != after.targets.end()) {
          auto now = after_it->second.find(key);
          if (now != after_it->second.end() && now->second.SameIdentity(r))
            problems.push_back(where + " claims a deletion, but the record is still there: " +
                               Describe(store_target, key, now->second));
        }
        // Holds in force across the window the deletion happened in: from
        // its intent (a batch entry; the entry itself when per-record) to
        // the entry that records it. A hold placed inside the window may
        // have entered after the batch re-read its holds, and one released
        // inside it may have left before: neither is provably binding.
        const bool reconciled = e->detail.find("\"reconciled\":true") != std::string::npos;
        int64_t at_seq = e->intent_seq != 0 ? e->intent_seq : e->seq;
        if (reconciled) {
          auto rs = run_start_seq.find(e->run_id);
          at_seq = rs != run_start_seq.end() ? rs->second : 0;
        }
        for (const HoldInLedger& h : holds) {
          if (h.placed_seq >= at_seq) continue;
          if (h.released_seq && *h.released_seq < e->seq) continue;
          if (h.hold->expires_at && *h.hold->expires_at <= e->at) continue;
          if (!HoldCovers(*h.hold, *e, r)) continue;
          problems.push_back(where + " removed a record covered by hold #" + std::to_string(h.hold->id) + " (" +
                             h.hold->matter + "), placed at seq " + std::to_string(h.placed_seq) +
                             (h.released_seq ? ", released at seq " + std::to_string(*h.released_seq)
                                             : std::string(", never released")) +
                             (reconciled ? "; a reconciled delete of run " + std::to_string(e->run_id) +
                                               ", judged from its start at seq " + std::to_string(at_seq)
                                         : std::string()));
        }
      }
    }
  }
  for (const auto& [file, seqs] : file_entries) {
    if (seqs.size() < 2) continue;
    std::string list;
    for (int64_t s : seqs) list += (list.empty() ? "" : ", ") + std::to_string(s);
    problems.push_back(file.first + "/" + file.second + " has " + std::to_string(seqs.size()) +
                       " delete entries (seq " + list + ")");
  }
  return problems;
}

// Lines for Catch2's INFO: the problems, at most `max` of them.
inline std::string Report(const std::vector<std::string>& problems, size_t max = 40) {
  std::string s = std::to_string(problems.size()) + " problem(s)";
  for (size_t i = 0; i < problems.size() && i < max; ++i) s += "\n  " + problems[i];
  if (problems.size() > max) s += "\n  ...";
  return s;
}

// ---------------------------------------------------------------------------
// The demo's targets, written from the shipped rules (retention-rules/) and
// the demo schema, with their clocks read as the rules declare them.

// `expr` a text clock column: unix microseconds (NULL when SQLite cannot
// read it; the demo's text clocks have whole seconds).
inline std::string TextMicros(const std::string& expr) {
  return "CAST(strftime('%s', " + expr + ") AS INTEGER) * 1000000";
}

inline std::string FormatUtcSeconds(int64_t unix_seconds, const char* fmt) {
  const time_t t = static_cast<time_t>(unix_seconds);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, fmt, &tm);
  return buf;
}

inline StoreSpec DemoSpec(const fs::path& demo_dir) {
  const fs::path app = demo_dir / "app.db";
  StoreSpec spec;
  auto plain = [&](const std::string& table, const std::string& key, const std::string& clock,
                   const std::string& micros, const std::string& subject_kind, const std::string& subject_col,
                   const std::string& category = "") {
    spec.sqlite.push_back({"app", table, app,
                           "SELECT t.\"" + key + "\", t.\"" + clock + "\", " + micros + ", t.\"" + subject_col +
                               "\" FROM \"" + table + "\" t",
                           subject_kind, category});
  };
  // Clock through a join: account closed_at, ticket last_activity_at.
  auto joined = [&](const std::string& table, const std::string& join_table, const std::string& on,
                    const std::string& clock, const std::string& subject_kind, const std::string& subject_col,
                    const std::string& category = "") {
    spec.sqlite.push_back({"app", table, app,
                           "SELECT t.id, j.\"" + clock + "\", " + TextMicros("j.\"" + clock + "\"") + ", t.\"" +
                               subject_col + "\" FROM \"" + table + "\" t LEFT JOIN \"" + join_table +
                               "\" j ON j.id = t.\"" + on + "\"",
                           subject_kind, category});
  };
  plain("audit_events", "id", "occurred_at", "t.occurred_at * 1000", "account", "account_id");
  plain("security_events", "id", "occurred_at", TextMicros("t.occurred_at"), "account", "account_id");
  joined("customers", "accounts", "account_id", "closed_at", "customer", "id");
  joined("inventory_items", "accounts", "account_id", "closed_at", "account", "account_id");
  plain("accounts", "id", "closed_at", TextMicros("t.closed_at"), "account", "id");
  plain("request_logs", "id", "created_at", TextMicros("t.created_at"), "account", "account_id");
  plain("sessions", "id", "expires_at", TextMicros("t.expires_at"), "account", "account_id");
  plain("oauth_states", "state", "expires_at", "t.expires_at * 1000000", "account", "account_id");
  joined("support_emails", "support_tickets", "ticket_id", "last_activity_at", "customer", "customer_id");
  plain("support_tickets", "id", "last_activity_at", TextMicros("t.last_activity_at"), "customer", "customer_id");
  plain("usage_events", "id", "occurred_at", TextMicros("t.occurred_at"), "account", "account_id");
  // sales and invoices: under transactions by their own clock (listed
  // first: the identity clock), under closed_accounts by the account's.
  plain("sales", "id", "sold_at", TextMicros("t.sold_at"), "customer", "customer_id", "transactions");
  joined("sales", "accounts", "account_id", "closed_at", "customer", "customer_id", "closed_accounts");
  plain("invoices", "id", "issued_at", "t.issued_at * 1000000", "customer", "customer_id", "transactions");
  joined("invoices", "accounts", "account_id", "closed_at", "customer", "customer_id", "closed_accounts");

  // Rotated logs: the clock is the mtime, written as UTC ISO-8601.
  FilesTarget logs{"logs", "rotated-logs", demo_dir / "logs", {"access.log-*", "app.log-*"}, nullptr};
  logs.clock = [](const std::string&, const Record& r) -> std::pair<std::string, std::optional<int64_t>> {
    const int64_t secs = r.mtime_ns / 1000000000;
    return {FormatUtcSeconds(secs, "%Y-%m-%dT%H:%M:%SZ"), r.mtime_ns / 1000};
  };
  // Backups: the clock is the date in the name, "db-%Y-%m-%d", midnight UTC
  // (the demo's time zone).
  FilesTarget backups{"backups", "db-backups", demo_dir / "backups", {"db-*.sqlite.gz"}, nullptr};
  backups.clock = [](const std::string& rel, const Record&) -> std::pair<std::string, std::optional<int64_t>> {
    const std::string base = rel.substr(rel.rfind('/') + 1);
    int y = 0, m = 0, d = 0;
    if (base.size() < 13 || std::sscanf(base.c_str(), "db-%4d-%2d-%2d", &y, &m, &d) != 3) return {"", std::nullopt};
    struct tm tm {};
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d;
    return {base.substr(0, 13), int64_t{timegm(&tm)} * 1000000};
  };
  spec.files.push_back(logs);
  spec.files.push_back(backups);
  return spec;
}

}  // namespace retention::checker
