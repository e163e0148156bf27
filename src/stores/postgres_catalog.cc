#include "stores/postgres_catalog.h"

#include <cctype>
#include <cstdio>
#include <sstream>

namespace retention {

namespace {

std::string Folded(std::string_view name) {
  std::string out;
  for (char c : name) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::vector<int> ParseIntVector(std::string_view text) {
  std::vector<int> out;
  std::istringstream in{std::string(text)};
  int v;
  while (in >> v) out.push_back(v);
  return out;
}

// The catalog's column, or an error message naming its role.
std::optional<PgColumn> Column(const PgTable& table, std::string_view column, std::string_view role,
                               std::vector<std::string>* errors) {
  if (const PgColumn* c = table.FindColumn(column)) return *c;
  errors->push_back(std::string(role) + " column '" + std::string(column) + "' does not exist in table '" +
                    table.schema + "." + table.name + "'");
  return std::nullopt;
}

bool IsIntegerType(const PgColumn& c) { return c.typname == "int2" || c.typname == "int4" || c.typname == "int8"; }
bool IsNumericType(const PgColumn& c) {
  return c.typname == "numeric" || c.typname == "float4" || c.typname == "float8";
}

// How the rule's encoding reads the column's type; an error message when it
// cannot.
std::optional<PgClockKind> ClockKind(const Target& target, const PgColumn& c, std::vector<std::string>* errors) {
  const std::string where = "clock column '" + c.name + "' (" + c.type + ")";
  switch (target.clock.encoding) {
    case ClockEncoding::kNative:
      if (c.typname == "timestamptz") return PgClockKind::kTimestampTz;
      if (c.typname == "timestamp") return PgClockKind::kTimestamp;
      if (c.typname == "date") return PgClockKind::kDate;
      errors->push_back(where + ": encoding 'native' needs timestamptz, timestamp or date");
      return std::nullopt;
    case ClockEncoding::kText:
      if (c.category == 'S') return PgClockKind::kText;
      errors->push_back(where + ": encoding 'text' needs a text column (text, varchar, char)" +
                        std::string(c.category == 'D' ? "; for a timestamp column use encoding 'native'" : ""));
      return std::nullopt;
    case ClockEncoding::kUnixSeconds:
    case ClockEncoding::kUnixMillis:
      if (IsIntegerType(c)) return PgClockKind::kUnixInteger;
      if (IsNumericType(c)) return PgClockKind::kUnixNumeric;
      errors->push_back(where + ": encoding '" + std::string(ClockEncodingName(target.clock.encoding)) +
                        "' needs an integer or numeric column");
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

const PgColumn* PgTable::FindColumn(std::string_view name) const {
  for (const PgColumn& c : columns)
    if (c.name == name) return &c;
  const std::string folded = Folded(name);
  for (const PgColumn& c : columns)
    if (c.name == folded) return &c;
  return nullptr;
}

const PgColumn* PgTable::ByAttnum(int attnum) const {
  for (const PgColumn& c : columns)
    if (c.attnum == attnum) return &c;
  return nullptr;
}

bool PgTable::IsIndexed(const PgColumn& column) const {
  for (const PgIndex& i : indexes)
    if (!i.attnums.empty() && i.attnums[0] == column.attnum) return true;
  return false;
}

bool PgTable::IsUnique(const PgColumn& column) const {
  for (const PgIndex& i : indexes)
    if (i.unique && i.attnums.size() == 1 && i.attnums[0] == column.attnum) return true;
  return false;
}

std::vector<const PgColumn*> PgTable::PrimaryKey() const {
  std::vector<const PgColumn*> out;
  for (const PgIndex& i : indexes) {
    if (!i.primary) continue;
    for (int a : i.attnums)
      if (const PgColumn* c = ByAttnum(a)) out.push_back(c);
  }
  return out;
}

std::pair<std::string, std::string> SplitPgTableName(std::string_view name) {
  const size_t dot = name.find('.');
  if (dot == std::string_view::npos) return {"public", std::string(name)};
  return {std::string(name.substr(0, dot)), std::string(name.substr(dot + 1))};
}

std::string ResolvedPgTarget::QualifiedTable() const { return QuotePgIdent(schema) + "." + QuotePgIdent(table); }
std::string ResolvedPgTarget::QualifiedClockTable() const {
  return QuotePgIdent(clock_schema) + "." + QuotePgIdent(clock_table);
}

Result<std::optional<PgTable>> ReadPgTable(PgConnection& db, std::string_view qualified_name) {
  const auto [schema, name] = SplitPgTableName(qualified_name);
  // Exact spelling first, then as PostgreSQL folds unquoted names.
  auto found = db.ExecParams(
      "SELECT c.oid::text, n.nspname, c.relname, c.relkind FROM pg_catalog.pg_class c"
      " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
      " WHERE c.relkind IN ('r', 'p') AND ((n.nspname = $1 AND c.relname = $2) OR"
      " (n.nspname = lower($1) AND c.relname = lower($2)))"
      " ORDER BY (n.nspname = $1 AND c.relname = $2) DESC LIMIT 1",
      {schema, name});
  if (!found.ok()) return found.status();
  if (found->rows() == 0) return std::optional<PgTable>();
  PgTable t;
  t.oid = std::string(found->Text(0, 0));
  t.schema = std::string(found->Text(0, 1));
  t.name = std::string(found->Text(0, 2));
  t.relkind = found->Text(0, 3).empty() ? 'r' : found->Text(0, 3)[0];
  auto cols = db.ExecParams(
      "SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), ty.typname, ty.typcategory,"
      " a.attnum, a.attnotnull FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type ty ON ty.oid = a.atttypid"
      " WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
      {t.oid});
  if (!cols.ok()) return cols.status();
  for (int i = 0; i < cols->rows(); ++i) {
    PgColumn c;
    c.name = std::string(cols->Text(i, 0));
    c.type = std::string(cols->Text(i, 1));
    c.typname = std::string(cols->Text(i, 2));
    c.category = cols->Text(i, 3).empty() ? 'X' : cols->Text(i, 3)[0];
    c.attnum = std::atoi(std::string(cols->Text(i, 4)).c_str());
    c.not_null = cols->Text(i, 5) == "t";
    t.columns.push_back(std::move(c));
  }
  auto idx = db.ExecParams(
      "SELECT indisunique, indisprimary, indkey::text, indpred IS NULL FROM pg_catalog.pg_index"
      " WHERE indrelid = $1::oid AND indisvalid",
      {t.oid});
  if (!idx.ok()) return idx.status();
  for (int i = 0; i < idx->rows(); ++i) {
    PgIndex index;
    // A partial unique index does not make a column unique.
    index.unique = idx->Text(i, 0) == "t" && idx->Text(i, 3) == "t";
    index.primary = idx->Text(i, 1) == "t";
    index.attnums = ParseIntVector(idx->Text(i, 2));
    t.indexes.push_back(std::move(index));
  }
  return std::optional<PgTable>(std::move(t));
}

std::string PgFilterText(const FilterValue& value) {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) return v;
        else if constexpr (std::is_same_v<T, bool>) return v ? "true" : "false";
        else if constexpr (std::is_same_v<T, int64_t>) return std::to_string(v);
        else {
          char buf[64];
          std::snprintf(buf, sizeof buf, "%.17g", v);
          return buf;
        }
      },
      value);
}

Result<std::optional<ResolvedPgTarget>> ResolvePgTarget(PgConnection& db, const Target& target,
                                                        std::vector<std::string>* errors,
                                                        std::vector<std::string>* warnings) {
  const size_t errors_before = errors->size();
  auto table = ReadPgTable(db, target.table);
  if (!table.ok()) return table.status();
  if (!table->has_value()) {
    const auto [schema, name] = SplitPgTableName(target.table);
    errors->push_back("table '" + schema + "." + name + "' does not exist");
    return std::optional<ResolvedPgTarget>();
  }
  const PgTable& t = **table;
  ResolvedPgTarget r;
  r.table_oid = t.oid;
  r.schema = t.schema;
  r.table = t.name;
  r.partitioned = t.relkind == 'p';

  // The key: the declared column (unique, not null), else the primary key.
  if (!target.key.empty()) {
    if (auto k = Column(t, target.key, "key", errors)) {
      if (!t.IsUnique(*k))
        errors->push_back("key column '" + k->name +
                          "' is not unique (make it the primary key or give it a unique index)");
      else if (!k->not_null)
        errors->push_back("key column '" + k->name + "' may be NULL: a row without a key cannot be named (make it NOT NULL)");
      r.key.push_back(*k);
    }
  } else if (auto pk = t.PrimaryKey(); !pk.empty()) {
    for (const PgColumn* c : pk) r.key.push_back(*c);
  } else {
    errors->push_back("table '" + t.schema + "." + t.name + "' has no primary key; name a unique 'key' column");
  }

  if (target.clock.join) {
    const ClockJoin& j = *target.clock.join;
    r.join_on = Column(t, j.on, "join 'on'", errors);
    auto related = ReadPgTable(db, j.table);
    if (!related.ok()) return related.status();
    if (!related->has_value()) {
      const auto [schema, name] = SplitPgTableName(j.table);
      errors->push_back("join table '" + schema + "." + name + "' does not exist");
    } else {
      const PgTable& jt = **related;
      r.clock_schema = jt.schema;
      r.clock_table = jt.name;
      r.join_key = Column(jt, j.key, "join key", errors);
      if (r.join_key && !jt.IsUnique(*r.join_key))
        errors->push_back("join key '" + jt.schema + "." + jt.name + "." + r.join_key->name +
                          "' is not unique: a record must have exactly one related row");
      if (auto c = Column(jt, target.clock.column, "clock", errors)) {
        r.clock = *c;
        r.clock_indexed = jt.IsIndexed(*c);
      }
    }
  } else {
    r.clock_schema = t.schema;
    r.clock_table = t.name;
    if (auto c = Column(t, target.clock.column, "clock", errors)) {
      r.clock = *c;
      r.clock_indexed = t.IsIndexed(*c);
    }
  }
  if (!r.clock.name.empty())
    if (auto kind = ClockKind(target, r.clock, errors)) r.clock_kind = *kind;

  if (target.subject) r.subject = Column(t, target.subject->column, "subject", errors);
  for (const Filter& f : target.filters) {
    auto c = Column(t, f.column, "filter", errors);
    r.filters.push_back(c.value_or(PgColumn{}));
    if (!c) continue;
    // Every value must read as the column's type, or the filter could not
    // be bound at all.
    for (const FilterValue& v : f.values) {
      auto cast = db.ExecParams("SELECT $1::" + c->type, {PgFilterText(v)});
      if (!cast.ok())
        errors->push_back("filter on '" + c->name + "': value '" + PgFilterText(v) + "' is not a " + c->type);
    }
  }
  (void)warnings;
  if (errors->size() != errors_before) return std::optional<ResolvedPgTarget>();
  return std::optional<ResolvedPgTarget>(std::move(r));
}

Result<std::string> ReadPgDatabaseIdentity(PgConnection& db) {
  // Asked first: calling a function the role may not execute would fail
  // the statement, not return NULL.
  auto r = db.Exec(
      "SELECT current_database(), d.oid::text, "
      "has_function_privilege('pg_catalog.pg_control_system()', 'EXECUTE') "
      "FROM pg_catalog.pg_database AS d WHERE d.datname = current_database()");
  if (!r.ok()) return r.status();
  if (r->rows() != 1) return Status::IoError(db.who() + ": cannot read which database it is connected to");
  std::string cluster = "postgres cluster (system identifier not readable)";
  if (r->Text(0, 2) == "t") {
    auto sys = db.Exec("SELECT system_identifier::text FROM pg_catalog.pg_control_system()");
    if (!sys.ok()) return sys.status();
    if (sys->rows() == 1 && !sys->IsNull(0, 0)) cluster = "postgres cluster " + std::string(sys->Text(0, 0));
  }
  return cluster + ", database " + QuotePgIdent(r->Text(0, 0)) + " (oid " + std::string(r->Text(0, 1)) + ")";
}

}  // namespace retention
