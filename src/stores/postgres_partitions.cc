#include "stores/postgres_partitions.h"

#include <algorithm>
#include <cctype>

namespace retention {
namespace {

void SkipSpaces(std::string_view s, size_t* i) {
  while (*i < s.size() && std::isspace(static_cast<unsigned char>(s[*i]))) ++*i;
}

bool ConsumeWord(std::string_view s, size_t* i, std::string_view word) {
  SkipSpaces(s, i);
  if (s.size() - *i < word.size()) return false;
  for (size_t k = 0; k < word.size(); ++k) {
    if (std::toupper(static_cast<unsigned char>(s[*i + k])) != word[k]) return false;
  }
  *i += word.size();
  return true;
}

// One bound value: MINVALUE/MAXVALUE (nullopt), a quoted literal
// ('it''s', E'...'), or a bare number (an integer key's bound).
bool ParseBoundValue(std::string_view s, size_t* i, std::optional<std::string>* out) {
  SkipSpaces(s, i);
  if (ConsumeWord(s, i, "MINVALUE") || ConsumeWord(s, i, "MAXVALUE")) {
    *out = std::nullopt;
    return true;
  }
  bool escapes = false;
  if (*i < s.size() && (s[*i] == 'E' || s[*i] == 'e') && *i + 1 < s.size() && s[*i + 1] == '\'') {
    escapes = true;
    ++*i;
  }
  if (*i < s.size() && s[*i] == '\'') {
    std::string value;
    for (++*i; *i < s.size(); ++*i) {
      const char c = s[*i];
      if (c == '\'') {
        if (*i + 1 < s.size() && s[*i + 1] == '\'') {
          value += '\'';
          ++*i;
          continue;
        }
        ++*i;
        *out = value;
        return true;
      }
      if (escapes && c == '\\' && *i + 1 < s.size()) {
        value += s[++*i];
        continue;
      }
      value += c;
    }
    return false;  // unterminated
  }
  const size_t start = *i;
  while (*i < s.size() && (std::isdigit(static_cast<unsigned char>(s[*i])) || s[*i] == '-' || s[*i] == '.' ||
                           s[*i] == '+' || s[*i] == 'e' || s[*i] == 'E')) {
    ++*i;
  }
  if (*i == start) return false;
  *out = std::string(s.substr(start, *i - start));
  return true;
}

bool ConsumeChar(std::string_view s, size_t* i, char c) {
  SkipSpaces(s, i);
  if (*i >= s.size() || s[*i] != c) return false;
  ++*i;
  return true;
}

bool IsLockFailure(const PgConnection& conn, const Status& st) {
  // lock_not_available (lock_timeout), deadlock_detected: both mean "not now".
  return st.code() == StatusCode::kBusy || conn.last_sqlstate() == "55P03" || conn.last_sqlstate() == "40P01";
}


// The keys of a batch once each, sorted: what the re-check counts against.
std::vector<std::string> SortedUnique(std::vector<std::string> keys) {
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

// The one transaction that drops or empties a partition: begun with a short
// lock_timeout and the partition locked against writers. A step that fails
// rolls it back; a lock not granted in time makes the attempt kBusy (nothing
// changed, the batch goes row by row) instead of an error.
class PartitionTransaction {
 public:
  explicit PartitionTransaction(PgConnection& conn) : conn_(conn) {}

  Status Begin(const PgPartition& partition) {
    auto begin = conn_.Exec("BEGIN");
    if (!begin.ok()) return begin.status();
    Status st = Step(conn_.Exec("SET LOCAL lock_timeout = '100ms'"));
    if (st.ok()) st = Step(conn_.Exec("LOCK TABLE " + partition.Qualified() + " IN SHARE ROW EXCLUSIVE MODE"));
    return st;
  }
  Status Step(const Result<PgResult>& r) {
    if (r.ok()) return Status::Ok();
    if (IsLockFailure(conn_, r.status())) busy_ = true;
    Rollback();
    return r.status();
  }
  void Rollback() { (void)conn_.Exec("ROLLBACK"); }
  // What a failed step makes of the attempt.
  Result<PgDropOutcome> Failed(const Status& st) const {
    if (busy_) return PgDropOutcome::kBusy;
    return st;
  }

 private:
  PgConnection& conn_;
  bool busy_ = false;
};
}  // namespace

bool ParsePgRangeBound(std::string_view expr, std::optional<std::string>* lower, std::optional<std::string>* upper) {
  size_t i = 0;
  if (!ConsumeWord(expr, &i, "FOR") || !ConsumeWord(expr, &i, "VALUES") || !ConsumeWord(expr, &i, "FROM") ||
      !ConsumeChar(expr, &i, '(') || !ParseBoundValue(expr, &i, lower) || !ConsumeChar(expr, &i, ')') ||
      !ConsumeWord(expr, &i, "TO") || !ConsumeChar(expr, &i, '(') || !ParseBoundValue(expr, &i, upper) ||
      !ConsumeChar(expr, &i, ')')) {
    return false;
  }
  SkipSpaces(expr, &i);
  return i == expr.size();
}

std::string PgTextArrayLiteral(const std::vector<std::string>& values) {
  std::string out = "{";
  for (size_t k = 0; k < values.size(); ++k) {
    if (k) out += ',';
    out += '"';
    for (char c : values[k]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

Result<std::optional<PgClockPartitioning>> ReadPgClockPartitioning(PgConnection& conn, std::string_view schema,
                                                                   std::string_view table,
                                                                   std::string_view clock_column) {
  // The partition key: strategy, its one column (partattrs[0] is 0 for an
  // expression key) and that column's type.
  auto key = conn.ExecParams(
      "SELECT pt.partstrat, pt.partnatts, a.attname, format_type(a.atttypid, a.atttypmod), c.oid "
      "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
      "JOIN pg_partitioned_table pt ON pt.partrelid = c.oid "
      "LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = pt.partattrs[0] AND pt.partattrs[0] <> 0 "
      "WHERE n.nspname = $1 AND c.relname = $2",
      {std::string(schema), std::string(table)});
  if (!key.ok()) return key.status();
  if (key->rows() != 1) return std::optional<PgClockPartitioning>();
  if (key->Text(0, 0) != "r" || key->Text(0, 1) != "1" || key->IsNull(0, 2) || key->Text(0, 2) != clock_column) {
    return std::optional<PgClockPartitioning>();
  }
  PgClockPartitioning out;
  out.parent = QuotePgIdent(schema) + "." + QuotePgIdent(table);
  out.column_type = std::string(key->Text(0, 3));
  const std::string oid(key->Text(0, 4));

  auto leaves = conn.ExecParams(
      "SELECT n.nspname, c.relname, pg_get_expr(c.relpartbound, c.oid), c.oid::text "
      "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
      "JOIN pg_namespace n ON n.oid = c.relnamespace "
      "WHERE i.inhparent = $1::oid AND c.relkind = 'r' ORDER BY c.relname",
      {oid});
  if (!leaves.ok()) return leaves.status();
  for (int r = 0; r < leaves->rows(); ++r) {
    PgPartition p;
    p.schema = std::string(leaves->Text(r, 0));
    p.name = std::string(leaves->Text(r, 1));
    p.bound = std::string(leaves->Text(r, 2));
    p.oid = std::string(leaves->Text(r, 3));
    if (p.bound == "DEFAULT") {
      p.is_default = true;
    } else if (!ParsePgRangeBound(p.bound, &p.lower, &p.upper)) {
      // A bound this parser does not read is never dropped: treat it as
      // unbounded above, so it is purged row by row.
      p.lower = std::nullopt;
      p.upper = std::nullopt;
    }
    out.leaves.push_back(std::move(p));
  }
  return std::optional<PgClockPartitioning>(std::move(out));
}

Result<std::vector<PgPartition>> DroppablePgPartitions(PgConnection& conn, const PgClockPartitioning& parting,
                                                       const std::string& cutoff,
                                                       const PgRowPredicate& deletable) {
  std::vector<PgPartition> out;
  for (const PgPartition& p : parting.leaves) {
    if (p.is_default || !p.upper) continue;
    // Compared in PostgreSQL, in the column's type: its ordering, its zone.
    auto before = conn.ExecParams("SELECT $1::" + parting.column_type + " <= $2::" + parting.column_type,
                                  {*p.upper, cutoff});
    if (!before.ok()) return before.status();
    if (before->Text(0, 0) != "t") continue;
    auto counts = conn.ExecParams("SELECT count(*), count(*) FILTER (WHERE " + deletable.sql + ") FROM " +
                                      p.Qualified() + " AS t" + deletable.joins,
                                  deletable.params);
    if (!counts.ok()) return counts.status();
    if (counts->Text(0, 0) == "0" || counts->Text(0, 0) != counts->Text(0, 1)) continue;
    out.push_back(p);
  }
  return out;
}

Result<PgDropOutcome> DropPgPartition(PgConnection& conn, const PgClockPartitioning& parting,
                                      const PgPartition& partition, const std::vector<std::string>& keys,
                                      const std::string& key_text, const PgRowPredicate& deletable) {
  if (partition.is_default) return Status::Internal("the default partition " + partition.name + " is never dropped");
  const std::vector<std::string> unique = SortedUnique(keys);
  PartitionTransaction txn(conn);
  Status st = txn.Begin(partition);
  if (!st.ok()) return txn.Failed(st);
  // Under the lock no one writes to the partition: what is in it now is
  // what the detach removes.
  std::vector<PgParam> params = deletable.params;
  params.emplace_back(PgTextArrayLiteral(unique));
  const std::string keys_param = "$" + std::to_string(params.size()) + "::text[]";
  auto counts = conn.ExecParams("SELECT count(*), count(*) FILTER (WHERE (" + deletable.sql + ") AND (" + key_text +
                                    ") = ANY(" + keys_param + ")) FROM " + partition.Qualified() + " AS t" +
                                    deletable.joins,
                                params);
  st = txn.Step(counts);
  if (!st.ok()) return txn.Failed(st);
  const std::string n = std::to_string(unique.size());
  if (counts->Text(0, 0) != n || counts->Text(0, 1) != n) {
    txn.Rollback();
    return PgDropOutcome::kChanged;
  }
  st = txn.Step(conn.Exec("ALTER TABLE " + parting.parent + " DETACH PARTITION " + partition.Qualified()));
  if (st.ok()) st = txn.Step(conn.Exec("DROP TABLE " + partition.Qualified()));
  if (st.ok()) st = txn.Step(conn.Exec("COMMIT"));
  if (!st.ok()) return txn.Failed(st);
  return PgDropOutcome::kDropped;
}

Result<bool> PgPartitionCanBeEmptied(PgConnection& conn, const PgPartition& partition, std::string* why) {
  auto r = conn.ExecParams(
      "SELECT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = $1::oid AND (NOT tgisinternal OR tgparentid <> 0)), "
      "EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = $1::oid AND attnum > 0 AND NOT attisdropped "
      "AND attgenerated <> ''), "
      "EXISTS (SELECT 1 FROM pg_constraint WHERE contype = 'f' AND (confrelid = $1::oid OR confrelid IN "
      "(SELECT inhparent FROM pg_inherits WHERE inhrelid = $1::oid))), "
      "EXISTS (SELECT 1 FROM pg_rewrite WHERE ev_class = $1::oid), "
      "has_table_privilege($1::oid, 'TRUNCATE') AND has_table_privilege($1::oid, 'INSERT')",
      {partition.oid});
  if (!r.ok()) return r.status();
  const char* const reasons[] = {"a user trigger would fire on the copy back", "a generated column",
                                 "a foreign key references it", "a rewrite rule"};
  for (int col = 0; col < 4; ++col) {
    if (r->Text(0, col) == "t") {
      *why = reasons[col];
      return false;
    }
  }
  if (r->Text(0, 4) != "t") {
    *why = "the role may not TRUNCATE and INSERT";
    return false;
  }
  return true;
}

Result<PgDropOutcome> EmptyPgPartition(PgConnection& conn, const PgPartition& partition,
                                       const std::vector<std::string>& keys, int64_t kept,
                                       const std::string& key_text, const PgRowPredicate& deletable) {
  if (partition.is_default) return Status::Internal("the default partition " + partition.name + " is never emptied");
  const std::vector<std::string> unique = SortedUnique(keys);
  PartitionTransaction txn(conn);
  Status st = txn.Begin(partition);
  if (!st.ok()) return txn.Failed(st);
  // Under the lock no one writes to the partition. IS TRUE: a NULL verdict
  // keeps the row, as the row path's WHERE does.
  std::vector<PgParam> params = deletable.params;
  params.emplace_back(PgTextArrayLiteral(unique));
  const std::string keys_param = "$" + std::to_string(params.size()) + "::text[]";
  const std::string is_deletable = "((" + deletable.sql + ") IS TRUE)";
  auto counts = conn.ExecParams("SELECT count(*), count(*) FILTER (WHERE " + is_deletable + "), count(*) FILTER (WHERE " +
                                    is_deletable + " AND (" + key_text + ") = ANY(" + keys_param + ")) FROM " +
                                    partition.Qualified() + " AS t" + deletable.joins,
                                params);
  st = txn.Step(counts);
  if (!st.ok()) return txn.Failed(st);
  const std::string n = std::to_string(unique.size());
  if (counts->Text(0, 0) != std::to_string(static_cast<int64_t>(unique.size()) + kept) || counts->Text(0, 1) != n ||
      counts->Text(0, 2) != n) {
    txn.Rollback();
    return PgDropOutcome::kChanged;
  }
  // The kept rows by ctid (a join of the predicate could repeat a row).
  const std::string copy = "pg_temp.retention_kept_rows";
  auto copied = conn.ExecParams("CREATE TEMP TABLE retention_kept_rows ON COMMIT DROP AS SELECT * FROM " +
                                    partition.Qualified() + " WHERE ctid = ANY(ARRAY(SELECT t.ctid FROM " +
                                    partition.Qualified() + " AS t" + deletable.joins + " WHERE NOT " + is_deletable +
                                    "))",
                                deletable.params);
  st = txn.Step(copied);
  if (!st.ok()) return txn.Failed(st);
  if (copied->AffectedRows() != kept) {
    txn.Rollback();
    return PgDropOutcome::kChanged;
  }
  st = txn.Step(conn.Exec("TRUNCATE " + partition.Qualified()));
  if (!st.ok()) return txn.Failed(st);
  auto back = conn.Exec("INSERT INTO " + partition.Qualified() + " OVERRIDING SYSTEM VALUE SELECT * FROM " + copy);
  st = txn.Step(back);
  if (!st.ok()) return txn.Failed(st);
  if (back->AffectedRows() != kept) {
    txn.Rollback();
    return Status::Internal("emptying " + partition.name + ": " + std::to_string(kept) + " kept rows, " +
                            std::to_string(back->AffectedRows()) + " copied back; rolled back");
  }
  st = txn.Step(conn.Exec("COMMIT"));
  if (!st.ok()) return txn.Failed(st);
  return PgDropOutcome::kDropped;
}

Result<std::vector<std::pair<PgPendingDrop, std::vector<Candidate>>>> PlanPgPartitionDrops(
    PgConnection& conn, std::string_view schema, std::string_view table, std::string_view clock_column,
    const std::string& cutoff, const PgRowPredicate& deletable, const std::string& select_list) {
  std::vector<std::pair<PgPendingDrop, std::vector<Candidate>>> out;
  auto parting = ReadPgClockPartitioning(conn, schema, table, clock_column);
  if (!parting.ok()) return parting.status();
  if (!parting->has_value()) return out;
  for (const PgPartition& p : (*parting)->leaves) {
    if (p.is_default || !p.upper) continue;
    auto before = conn.ExecParams("SELECT $1::" + (*parting)->column_type + " <= $2::" + (*parting)->column_type,
                                  {*p.upper, cutoff});
    if (!before.ok()) return before.status();
    if (before->Text(0, 0) != "t") continue;
    // One scan: every row, and whether it is deletable; the kept ones are
    // counted, not kept as candidates.
    auto rows = conn.ExecParams("SELECT " + select_list + ", ((" + deletable.sql + ") IS TRUE) FROM " +
                                    p.Qualified() + " AS t" + deletable.joins,
                                deletable.params);
    if (!rows.ok()) return rows.status();
    const int n = rows->rows();
    const int deletable_col = rows->columns() - 1;
    PgPendingDrop drop{**parting, p, {}, 0};
    std::vector<Candidate> batch;
    batch.reserve(n);
    drop.keys.reserve(n);
    for (int i = 0; i < n; ++i) {
      if (rows->Text(i, deletable_col) != "t") {
        ++drop.kept;
        continue;
      }
      batch.push_back({std::string(rows->Text(i, 0)), std::string(rows->Text(i, 1)), std::string(rows->Text(i, 2)),
                       std::string()});
      drop.keys.push_back(batch.back().key);
    }
    if (batch.empty()) continue;
    if (drop.kept > 0) {
      if (drop.kept * 100 > static_cast<int64_t>(n) * kMaxKeptPercent) continue;
      std::string why;
      auto can = PgPartitionCanBeEmptied(conn, p, &why);
      if (!can.ok()) return can.status();
      if (!*can) continue;
    }
    std::sort(drop.keys.begin(), drop.keys.end());
    out.emplace_back(std::move(drop), std::move(batch));
  }
  return out;
}

bool IsPgPartitionBatch(const PgPendingDrop& drop, const std::vector<Candidate>& batch) {
  if (batch.size() != drop.keys.size()) return false;
  std::vector<std::string> keys;
  keys.reserve(batch.size());
  for (const Candidate& c : batch) keys.push_back(c.key);
  std::sort(keys.begin(), keys.end());
  return keys == drop.keys;
}

}  // namespace retention
