// bench_ledger STATE_DB ENTRIES [RECORDS_PER_BATCH]: a state database whose
// ledger has about ENTRIES entries, for the audit query figures of
// bench/run (`audit log --key/--subject/--run`, `audit runs`, `audit show`,
// `status`, `explain`).
//
// Written through the engine's own append path (StateAppend, ChainWriter,
// the batch index and the lookup indexes of schema version 6), as purges
// would write it: runs of 1000 batch entries each on app/events
// (category bench_events), RECORDS_PER_BATCH (8) records a batch with
// increasing integer keys, clocks in 2023, subjects customer:1..100000
// drawn at random; each batch entry settles the one before it (every 50th
// keeps its first record, as a hold would), the run's end settles its last.
// What differs from a purge is only the transaction size: many batches
// commit together here (a purge commits each), so that a million entries
// take a minute, not hours of fsyncs.
//
// Prints "entries records runs" on stdout. Key 1000000 + 8 * 500 ... lies in
// run 1: bench/run asks for keys and subjects it knows are there.
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "ledger/batch_entry.h"
#include "ledger/chain_writer.h"
#include "state/sqlite_state_db.h"
#include "state/state_ops.h"
#include "util/json_text.h"

namespace {

using namespace retention;

int Fail(const Status& st) {
  std::fprintf(stderr, "bench_ledger: %s\n", st.message().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: bench_ledger STATE_DB ENTRIES [RECORDS_PER_BATCH]\n");
    return 64;
  }
  const std::string path = argv[1];
  const long long want = std::atoll(argv[2]);
  const int per_batch = argc > 3 ? std::atoi(argv[3]) : 8;
  constexpr int kBatchesPerRun = 1000;
  constexpr int kBatchesPerCommit = 5000;
  auto opened = StateDbExists(path) ? OpenSqliteStateDb(path, /*read_only=*/false) : CreateSqliteStateDb(path);
  if (!opened.ok()) return Fail(opened.status());
  StateDb& db = **opened;
  std::mt19937_64 rng(42);
  int64_t key = 1000000, entries = 0, records = 0, runs = 0;
  Timestamp at = FromUnixMicros(int64_t{1704067200} * 1000000);  // 2024-01-01
  while (entries < want) {
    RunInfo info;
    info.user = "bench";
    info.host = "bench";
    info.version = "bench";
    info.command = "purge";
    info.as_of = at;
    auto run = BeginRun(db, info);
    if (!run.ok()) return Fail(run.status());
    ++runs;
    std::vector<Settlement> due;
    for (int b = 0; b < kBatchesPerRun;) {
      auto txn = db.BeginAppend();
      if (!txn.ok()) return Fail(txn.status());
      auto head = (*txn)->Head();
      if (!head.ok()) return Fail(head.status());
      std::vector<LedgerEntry> batch_entries;
      std::vector<BatchIndexRow> rows;
      std::vector<std::vector<int64_t>> closes;  // per entry: the batches it settles
      for (int n = 0; n < kBatchesPerCommit && b < kBatchesPerRun; ++n, ++b) {
        BatchPayload p;
        p.subject_kind = "customer";
        for (int i = 0; i < per_batch; ++i, ++key)
          p.records.push_back({std::to_string(key), "2023-06-01 00:00:00", std::to_string(1 + rng() % 100000),
                               std::nullopt});
        records += per_batch;
        LedgerEntry e;
        e.kind = LedgerKind::kBatch;
        e.at = at;
        e.run_id = *run;
        e.category = "bench_events";
        e.store = "app";
        e.target = "events";
        e.rule = "rules/events.toml:7";
        e.cutoff = "2024-01-01T00:00:00Z";
        e.batch = b + 1;
        auto bytes = EncodeBatchPayload(p);
        if (!bytes.ok()) return Fail(bytes.status());
        e.payload = std::move(*bytes);
        closes.emplace_back();
        if (!due.empty()) {
          e.detail = DumpJson(nlohmann::json{{"settles", SettlementsJson(due)}});
          for (const Settlement& s : due) closes.back().push_back(s.batch_seq);
          due.clear();
        }
        const BatchKeyRange range = KeyRangeOf(p);
        rows.push_back({"app", "events", range.lo, range.hi, range.integer_keys});
        batch_entries.push_back(std::move(e));
        // Settled by the next one; its own seq once chained (below) is this.
        Settlement s;
        s.batch_seq = head->seq + static_cast<int64_t>(batch_entries.size());
        if (s.batch_seq % 50 == 0) s.kept.push_back({0, KeptReason{KeptWhy::kHeld, "held by hold 1 (M-1)", std::nullopt, 1}});
        due.push_back(s);
      }
      ChainWriter writer([&] { return at; });
      Status st = writer.Chain(*head, &batch_entries);
      if (!st.ok()) return Fail(st);
      // As AppendBatch does it, one entry at a time: the closes, the entry,
      // its index row.
      for (size_t i = 0; i < batch_entries.size(); ++i) {
        for (int64_t c : closes[i]) {
          st = (*txn)->CloseBatch(c);
          if (!st.ok()) return Fail(st);
        }
        st = (*txn)->Insert({batch_entries[i]});
        if (!st.ok()) return Fail(st);
        st = (*txn)->IndexBatch(batch_entries[i].seq, rows[i]);
        if (!st.ok()) return Fail(st);
      }
      st = (*txn)->Commit();
      if (!st.ok()) return Fail(st);
      entries += static_cast<int64_t>(batch_entries.size());
    }
    Status st = EndRun(db, *run, "ok", 0, R"({"deleted":0})", due);
    if (!st.ok()) return Fail(st);
    entries += 2;
    at += std::chrono::hours(24);
  }
  std::printf("%lld %lld %lld\n", static_cast<long long>(entries), static_cast<long long>(records),
              static_cast<long long>(runs));
  return 0;
}
