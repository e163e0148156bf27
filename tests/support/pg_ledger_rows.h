// A PostgreSQL state's ledger read with the test's own SQL, in the form the
// independent checker (support/ledger_checker.h) judges: the rows as
// stored, never through the engine's reader.
#pragma once

#include <string>
#include <vector>

#include "support/ledger_checker.h"
#include "support/pg_cluster.h"

namespace retention::pgtest {

// Every row of `ledger_table` ("ledger", or "schema.ledger"), by seq.
inline std::vector<checker::Entry> PgLedgerRows(PgConnection& conn, const std::string& ledger_table) {
  std::vector<checker::Entry> ledger;
  for (auto& row : conn.Query("SELECT seq, at, kind, run_id, category, store, target, record_key, clock, cutoff, "
                              "rule, subject, batch, detail, prev_hash, hash, encode(payload, 'hex') FROM " +
                              ledger_table + " ORDER BY seq")) {
    checker::Entry e;
    e.seq = std::stoll(row[0]);
    e.at = std::stoll(row[1]);
    e.kind = row[2];
    e.run_id = std::stoll(row[3]);
    e.category = row[4];
    e.store = row[5];
    e.target = row[6];
    e.record_key = row[7];
    e.clock = row[8];
    e.cutoff = row[9];
    e.rule = row[10];
    e.subject = row[11];
    e.batch = std::stoll(row[12]);
    e.detail = row[13];
    e.prev_hash = row[14];
    e.hash = row[15];
    for (size_t i = 0; i + 1 < row[16].size(); i += 2)
      e.payload += static_cast<char>(std::stoi(row[16].substr(i, 2), nullptr, 16));
    e.intent_seq = e.seq;
    ledger.push_back(std::move(e));
  }
  return ledger;
}

}  // namespace retention::pgtest
