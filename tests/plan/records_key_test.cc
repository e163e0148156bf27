// Which targets cover the same records (plan/selection.h): RecordsKey, the
// coarse key the fleet's target locks and open-batch guard go by (two
// targets that could name one table must share it; sharing it wrongly only
// makes runs wait), and SameRecords, the exact match that merges rules.
#include <catch2/catch.hpp>

#include "plan/selection.h"

namespace retention {
namespace {

Target TableTarget(std::string name, std::string store, std::string table) {
  Target t;
  t.name = std::move(name);
  t.store = std::move(store);
  t.table = std::move(table);
  return t;
}

Target FilesTarget(std::string name, std::string store, std::string glob) {
  Target t;
  t.name = std::move(name);
  t.store = std::move(store);
  t.paths = {std::move(glob)};
  return t;
}

TEST_CASE("RecordsKey: one table under every spelling, whatever the target is named", "[plan][records]") {
  const Target plain = TableTarget("web-events", "app", "events");
  CHECK(RecordsKey(plain) == "table:events");
  for (const char* spelling : {"events", "EVENTS", "Events", "public.events", "main.events", "Public.Events"}) {
    INFO(spelling);
    CHECK(RecordsKey(TableTarget("customer-activity", "app", spelling)) == RecordsKey(plain));
  }
  // Two schemas' tables of one name share the key: their runs take turns.
  CHECK(RecordsKey(TableTarget("a", "app", "archive.events")) == RecordsKey(plain));
  CHECK(RecordsKey(TableTarget("a", "app", "events_archive")) != RecordsKey(plain));
  CHECK(RecordsKey(TableTarget("a", "app", "sessions")) != RecordsKey(plain));
  // A files store's globs may overlap: every target in it is one key.
  CHECK(RecordsKey(FilesTarget("a", "logs", "nginx/*.gz")) == "files");
  CHECK(RecordsKey(FilesTarget("b", "logs", "app/*.log")) == "files");
}

// SameRecords merges rules (floors, holds) into one selection: it must not
// take one table for another, or one's filters would run against the other.
TEST_CASE("SameRecords: one table case-insensitively, never two schemas' tables of one name", "[plan][records]") {
  const Target events = TableTarget("a", "app", "public.events");
  CHECK(SameRecords(events, TableTarget("b", "app", "PUBLIC.Events")));
  CHECK_FALSE(SameRecords(events, TableTarget("b", "app", "archive.events")));
  CHECK_FALSE(SameRecords(events, TableTarget("b", "app", "public.events_archive")));
  CHECK_FALSE(SameRecords(events, TableTarget("b", "warehouse", "public.events")));
  CHECK_FALSE(SameRecords(events, FilesTarget("b", "app", "events/*.log")));
  CHECK(SameRecords(FilesTarget("a", "logs", "nginx/*.gz"), FilesTarget("b", "logs", "app/*.log")));
}

}  // namespace
}  // namespace retention
