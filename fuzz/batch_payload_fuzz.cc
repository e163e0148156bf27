// libFuzzer harness: the packed batch entry's payload (ledger/batch_entry.h),
// the bytes `audit verify` and every ledger reader decode.
//
// The first byte picks the mode:
//   even: the rest is payload bytes as an attacker could store them. Decoding
//         must never crash or read past the end; when it succeeds, the
//         records re-encode, and those bytes decode to the same records
//         (what a reader shows is what the bytes say, and nothing else).
//   odd:  the rest is turned into a payload (records of '\n'-separated
//         fields: key, clock, subject, identity), which must encode and
//         decode back exactly: every key, clock, subject and identity the
//         executor can log survives the packing, whichever form the encoder
//         picks (integer or text keys and subjects, known, empty or unknown
//         identities).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "ledger/batch_entry.h"

using namespace retention;

namespace {

void DecodeArbitrary(std::string_view bytes) {
  auto decoded = DecodeBatchPayload(bytes);
  if (!decoded.ok()) return;
  if (decoded->records.empty() || decoded->records.size() > kMaxBatchRecords)
    fuzz::Violated("decoded a payload with " + std::to_string(decoded->records.size()) + " records");
  auto again = EncodeBatchPayload(*decoded);
  if (!again.ok()) fuzz::Violated("a decoded payload does not re-encode: " + again.status().message());
  auto back = DecodeBatchPayload(*again);
  if (!back.ok()) fuzz::Violated("a re-encoded payload does not decode: " + back.status().message());
  if (!(*decoded == *back)) fuzz::Violated("a re-encoded payload decodes to other records");
}

// Fields of a record, from the input: "key\nclock\nsubject\nidentity" per
// record, records separated by '\x1e'; an identity of "\x01" is unknown.
BatchPayload BuildPayload(std::string_view in) {
  BatchPayload payload;
  const auto kind_end = in.find('\x1f');
  if (kind_end != std::string_view::npos) {
    payload.subject_kind = std::string(in.substr(0, kind_end));
    in.remove_prefix(kind_end + 1);
  }
  while (!in.empty() && payload.records.size() < 4096) {
    const auto end = in.find('\x1e');
    std::string_view record = in.substr(0, end);
    auto fields = fuzz::SplitFields(record, 4);
    fields.resize(4);
    BatchRecord r{fields[0], fields[1], fields[2], std::nullopt};
    if (fields[3] != "\x01") r.identity = fields[3];
    payload.records.push_back(std::move(r));
    if (end == std::string_view::npos) break;
    in.remove_prefix(end + 1);
  }
  return payload;
}

void RoundTrip(std::string_view in) {
  const BatchPayload payload = BuildPayload(in);
  if (payload.records.empty()) return;
  auto bytes = EncodeBatchPayload(payload);
  if (!bytes.ok()) fuzz::Violated("a payload of " + std::to_string(payload.records.size()) +
                                  " records does not encode: " + bytes.status().message());
  auto back = DecodeBatchPayload(*bytes);
  if (!back.ok()) fuzz::Violated("an encoded payload does not decode: " + back.status().message());
  if (!(payload == *back)) fuzz::Violated("an encoded payload decodes to other records");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0) {
    DecodeArbitrary(rest);
  } else {
    RoundTrip(rest);
  }
  return 0;
}
