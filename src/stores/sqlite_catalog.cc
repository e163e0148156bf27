#include "stores/sqlite_catalog.h"

#include <strings.h>

#include <algorithm>

namespace retention {

namespace {

bool SameName(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

bool IsIntegerType(std::string_view declared) {
  std::string upper;
  for (char c : declared) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return upper == "INTEGER";
}

}  // namespace

const SqliteColumn* SqliteTable::FindColumn(std::string_view name) const {
  for (const auto& c : columns)
    if (SameName(c.name, name)) return &c;
  return nullptr;
}

bool SqliteTable::IsIndexed(std::string_view column) const {
  if (const SqliteColumn* alias = RowidAlias(); alias && SameName(alias->name, column)) return true;
  for (const auto& index : indexes)
    if (!index.columns.empty() && SameName(index.columns[0], column)) return true;
  return false;
}

bool SqliteTable::IsUnique(std::string_view column) const {
  if (SameName(column, "rowid") && has_rowid) return true;
  auto pk = PrimaryKey();
  if (pk.size() == 1 && SameName(pk[0]->name, column)) return true;
  for (const auto& index : indexes)
    if (index.unique && index.columns.size() == 1 && SameName(index.columns[0], column)) return true;
  return false;
}

const SqliteColumn* SqliteTable::RowidAlias() const {
  auto pk = PrimaryKey();
  if (has_rowid && pk.size() == 1 && IsIntegerType(pk[0]->declared_type)) return pk[0];
  return nullptr;
}

std::vector<const SqliteColumn*> SqliteTable::PrimaryKey() const {
  std::vector<const SqliteColumn*> pk;
  for (const auto& c : columns)
    if (c.pk_position > 0) pk.push_back(&c);
  std::sort(pk.begin(), pk.end(), [](auto* a, auto* b) { return a->pk_position < b->pk_position; });
  return pk;
}

Result<std::optional<SqliteTable>> ReadSqliteTable(SqliteConnection& db, std::string_view name) {
  auto find = db.Prepare(
      "SELECT name, wr FROM pragma_table_list WHERE schema = 'main' AND type = 'table' "
      "AND name = ?1 COLLATE NOCASE");
  if (!find.ok()) return find.status();
  find->BindText(1, name);
  auto row = find->Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<SqliteTable>();
  SqliteTable table;
  table.name = find->ColumnText(0);
  table.has_rowid = find->ColumnInt(1) == 0;

  auto columns = db.Prepare("SELECT name, type, pk FROM pragma_table_info(?1)");
  if (!columns.ok()) return columns.status();
  columns->BindText(1, table.name);
  while (true) {
    auto r = columns->Step();
    if (!r.ok()) return r.status();
    if (!*r) break;
    table.columns.push_back({columns->ColumnText(0), columns->ColumnText(1),
                             static_cast<int>(columns->ColumnInt(2))});
  }
  // A column named "rowid" shadows the rowid: in SQL the name then means
  // that column, which need not be unique, and a DELETE naming rows by it
  // takes every row sharing the value. The rowid is then out of reach by
  // that name: the table is keyed and paged by its unique key instead.
  for (const SqliteColumn& c : table.columns)
    if (SameName(c.name, "rowid")) table.has_rowid = false;

  auto indexes = db.Prepare("SELECT name, \"unique\" FROM pragma_index_list(?1)");
  if (!indexes.ok()) return indexes.status();
  indexes->BindText(1, table.name);
  auto index_columns = db.Prepare("SELECT name FROM pragma_index_info(?1) ORDER BY seqno");
  if (!index_columns.ok()) return index_columns.status();
  while (true) {
    auto r = indexes->Step();
    if (!r.ok()) return r.status();
    if (!*r) break;
    SqliteIndex index{indexes->ColumnText(0), indexes->ColumnInt(1) != 0, {}};
    index_columns->BindText(1, index.name);
    while (true) {
      auto c = index_columns->Step();
      if (!c.ok()) return c.status();
      if (!*c) break;
      index.columns.push_back(index_columns->ColumnText(0));  // NULL (expression) -> ""
    }
    (void)index_columns->Reset();
    table.indexes.push_back(std::move(index));
  }
  return std::optional<SqliteTable>(std::move(table));
}

namespace {

// The catalog's spelling of `column` in `table`, or an error message.
std::optional<std::string> Column(const SqliteTable& table, std::string_view column, std::string_view role,
                                  std::vector<std::string>* errors) {
  if (SameName(column, "rowid") && table.has_rowid) return std::string("rowid");
  if (const SqliteColumn* c = table.FindColumn(column)) return c->name;
  errors->push_back(std::string(role) + " column '" + std::string(column) + "' does not exist in table '" +
                    table.name + "'");
  return std::nullopt;
}

void CheckEncoding(const Target& target, const std::string& declared, std::vector<std::string>* errors,
                   std::vector<std::string>* warnings) {
  std::string upper;
  for (char c : declared) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const std::string where = "clock column '" + target.clock.column + "' (" + (declared.empty() ? "no type" : declared) + ")";
  switch (target.clock.encoding) {
    case ClockEncoding::kNative:
      errors->push_back("clock encoding 'native' is for PostgreSQL timestamp columns; SQLite stores "
                        "clocks as text, unix_seconds or unix_millis");
      break;
    case ClockEncoding::kUnixSeconds:
    case ClockEncoding::kUnixMillis:
      if (upper.find("CHAR") != std::string::npos || upper.find("TEXT") != std::string::npos ||
          upper.find("CLOB") != std::string::npos)
        warnings->push_back(where + " has text affinity but the rule reads it as " +
                            std::string(ClockEncodingName(target.clock.encoding)) +
                            ": text values are never due");
      break;
    case ClockEncoding::kText:
      if (upper.find("INT") != std::string::npos)
        warnings->push_back(where + " has integer affinity but the rule reads it as text: "
                            "numbers are never due (did you mean unix_seconds?)");
      break;
  }
}

}  // namespace

std::optional<ResolvedSqliteTarget> ResolveSqliteTarget(SqliteConnection& db, const Target& target,
                                                        std::vector<std::string>* errors,
                                                        std::vector<std::string>* warnings) {
  const size_t errors_before = errors->size();
  auto table = ReadSqliteTable(db, target.table);
  if (!table.ok()) {
    errors->push_back(table.status().message());
    return std::nullopt;
  }
  if (!table->has_value()) {
    errors->push_back("table '" + target.table + "' does not exist");
    return std::nullopt;
  }
  const SqliteTable& t = **table;
  ResolvedSqliteTarget r;
  r.table = t.name;

  // The key: declared, else a single-column primary key, else the rowid.
  if (!target.key.empty()) {
    if (auto k = Column(t, target.key, "key", errors)) {
      r.key_column = *k;
      if (!t.IsUnique(*k)) errors->push_back("key column '" + *k + "' is not unique (make it the primary key or give it a unique index)");
    }
  } else if (auto pk = t.PrimaryKey(); pk.size() == 1) {
    r.key_column = pk[0]->name;
  } else if (t.has_rowid) {
    r.key_column = "rowid";
  } else {
    errors->push_back("table '" + t.name + "' has neither a rowid nor a single-column primary key; name a unique 'key'");
  }
  if (!r.key_column.empty()) {
    const SqliteColumn* alias = t.RowidAlias();
    r.key_is_rowid = r.key_column == "rowid" || (alias && alias->name == r.key_column);
    r.order_column = t.has_rowid ? "rowid" : r.key_column;
  }

  if (target.clock.join) {
    const ClockJoin& j = *target.clock.join;
    r.join_on = Column(t, j.on, "join 'on'", errors);
    auto related = ReadSqliteTable(db, j.table);
    if (!related.ok()) {
      errors->push_back(related.status().message());
    } else if (!related->has_value()) {
      errors->push_back("join table '" + j.table + "' does not exist");
    } else {
      const SqliteTable& jt = **related;
      r.clock_table = jt.name;
      r.join_key = Column(jt, j.key, "join key", errors);
      if (r.join_key && !jt.IsUnique(*r.join_key))
        errors->push_back("join key '" + jt.name + "." + *r.join_key +
                          "' is not unique: a record must have exactly one related row");
      if (r.join_on && !t.IsIndexed(*r.join_on))
        warnings->push_back("no index on " + t.name + "(" + *r.join_on + "): joining scans the table (CREATE INDEX ON " +
                            t.name + "(" + *r.join_on + "))");
      if (auto c = Column(jt, target.clock.column, "clock", errors)) {
        r.clock_column = *c;
        r.clock_indexed = jt.IsIndexed(*c);
        r.clock_declared_type = jt.FindColumn(*c) ? jt.FindColumn(*c)->declared_type : "INTEGER";
      }
    }
  } else {
    r.clock_table = t.name;
    if (auto c = Column(t, target.clock.column, "clock", errors)) {
      r.clock_column = *c;
      r.clock_indexed = t.IsIndexed(*c);
      r.clock_declared_type = t.FindColumn(*c) ? t.FindColumn(*c)->declared_type : "INTEGER";
    }
  }
  if (!r.clock_column.empty()) CheckEncoding(target, r.clock_declared_type, errors, warnings);

  if (target.subject) r.subject_column = Column(t, target.subject->column, "subject", errors);
  for (const Filter& f : target.filters) {
    auto c = Column(t, f.column, "filter", errors);
    r.filter_columns.push_back(c.value_or(""));
  }
  if (errors->size() != errors_before) return std::nullopt;
  return r;
}

}  // namespace retention
