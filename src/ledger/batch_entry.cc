// The batch payload codec (layout: ledger/batch_entry.h) and settlements.
//
// Decoding never reads past the end: every varint and every byte run is
// checked against what is left before it is read. One template walks the
// layout for both the full decode and verify's check (ledger/batch_scan.h),
// which only tracks the previous values' lengths, so that verify reads
// payloads at memory speed without building a string per field.
#include "ledger/batch_entry.h"

#include <algorithm>
#include <charconv>
#include <climits>
#include <cstring>
#include <limits>

#include "ledger/batch_scan.h"
#include "util/json_text.h"

namespace retention {
namespace {

constexpr uint8_t kVersion = 1;
constexpr uint8_t kKeysText = 0, kKeysInteger = 1;
constexpr uint8_t kSubjectsNone = 0, kSubjectsInteger = 1, kSubjectsText = 2;
constexpr uint8_t kIdentityUnknown = 0, kIdentityEmpty = 1, kIdentityEach = 2;

// ---- encoding ------------------------------------------------------------

void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

uint64_t ZigZag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
int64_t UnZigZag(uint64_t u) { return static_cast<int64_t>(u >> 1) ^ -static_cast<int64_t>(u & 1); }

size_t SharedPrefix(std::string_view a, std::string_view b) {
  const size_t n = std::min(a.size(), b.size());
  size_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

// Front-coded text against `prev` (layout: "Front-coded text").
void PutFrontCoded(std::string_view value, std::string_view prev, std::string* out) {
  const size_t shared = SharedPrefix(prev, value);
  PutVarint(shared, out);
  PutVarint(value.size() - shared, out);
  out->append(value.substr(shared));
}

void AppendInt(int64_t v, std::string* out) {
  char buf[24];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, static_cast<size_t>(end - buf));
}

// ---- decoding ------------------------------------------------------------

// The bytes of a payload, read front to back; the first problem sticks.
class Reader {
 public:
  explicit Reader(std::string_view bytes)
      : p_(reinterpret_cast<const uint8_t*>(bytes.data())), end_(p_ + bytes.size()) {}

  bool ok() const { return problem_ == nullptr; }
  const char* problem() const { return problem_; }
  size_t left() const { return static_cast<size_t>(end_ - p_); }
  void Fail(const char* why) {
    if (problem_ == nullptr) problem_ = why;
    p_ = end_;
  }

  uint8_t Byte() {
    if (p_ == end_) {
      Fail("truncated");
      return 0;
    }
    return *p_++;
  }

  // Unsigned LEB128 in at most 10 bytes, minimal (no trailing 0x00 group),
  // no bit past the 64th.
  uint64_t Varint() {
    if (p_ != end_ && *p_ < 0x80) return *p_++;  // one byte: the common case
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      if (p_ == end_) {
        Fail("truncated");
        return 0;
      }
      const uint8_t b = *p_++;
      if (shift == 63 && b > 1) {
        Fail("a varint overflows 64 bits");
        return 0;
      }
      v |= uint64_t{b & 0x7fu} << shift;
      if (b < 0x80) {
        if (b == 0 && shift > 0) Fail("a varint is overlong");
        return v;
      }
    }
    Fail("a varint is longer than 10 bytes");
    return 0;
  }

  // `n` bytes, or an empty view (and the failure) when fewer are left.
  std::string_view Bytes(uint64_t n) {
    if (n > left()) {
      Fail("truncated");
      return {};
    }
    std::string_view out(reinterpret_cast<const char*>(p_), static_cast<size_t>(n));
    p_ += n;
    return out;
  }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
  const char* problem_ = nullptr;
};

// A front-coded column. Building: keeps the previous value. Checking: keeps
// only its length, which is all the layout's rule needs.
struct TextColumn {
  std::string prev;
  // Reads one value into `prev`.
  void Read(Reader& r) {
    const uint64_t shared = r.Varint();
    const uint64_t rest = r.Varint();
    if (shared > prev.size()) return r.Fail("a shared prefix is longer than the previous value");
    const std::string_view tail = r.Bytes(rest);
    if (!r.ok()) return;
    prev.resize(static_cast<size_t>(shared));
    prev.append(tail);
  }
};
struct LengthColumn {
  uint64_t prev = 0;
  void Read(Reader& r) {
    const uint64_t shared = r.Varint();
    const uint64_t rest = r.Varint();
    if (shared > prev) return r.Fail("a shared prefix is longer than the previous value");
    r.Bytes(rest);
    prev = shared + rest;
  }
};

// Walks the layout. `Sink` is either the builder (kBuild, fills a
// BatchPayload) or nothing (the check), which may still collect the
// subjects (`subjects`: every record's, "" for none, and the kind).
// Returns the record count.
template <bool kBuild>
size_t Walk(std::string_view bytes, BatchPayload* out, Reader& r, BatchSubjects* subjects = nullptr) {
  using Column = std::conditional_t<kBuild, TextColumn, LengthColumn>;
  if (r.Byte() != kVersion) {
    r.Fail(r.ok() ? "unknown payload version" : "truncated");
    return 0;
  }
  const uint64_t n = r.Varint();
  if (!r.ok()) return 0;
  if (n == 0) {
    r.Fail("a batch of no records");
    return 0;
  }
  if (n > kMaxBatchRecords) {
    r.Fail("more records than a batch may hold");
    return 0;
  }
  // Every record takes at least one byte of keys: a count over what is left
  // is truncated, refused before anything is allocated for it.
  if (n > r.left()) {
    r.Fail("truncated");
    return 0;
  }
  const size_t count = static_cast<size_t>(n);
  std::vector<BatchRecord>* recs = nullptr;
  if constexpr (kBuild) {
    recs = &out->records;
    recs->assign(count, BatchRecord{});
  }

  const uint8_t key_form = r.Byte();
  if (key_form == kKeysInteger) {
    int64_t key = 0;
    for (size_t i = 0; i < count && r.ok(); ++i) {
      key = static_cast<int64_t>(static_cast<uint64_t>(key) + static_cast<uint64_t>(UnZigZag(r.Varint())));
      if constexpr (kBuild) AppendInt(key, &(*recs)[i].key);
    }
  } else if (key_form == kKeysText) {
    Column col;
    for (size_t i = 0; i < count && r.ok(); ++i) {
      col.Read(r);
      if constexpr (kBuild) (*recs)[i].key = col.prev;
    }
  } else if (r.ok()) {
    r.Fail("unknown key form");
  }

  {
    Column col;
    for (size_t i = 0; i < count && r.ok(); ++i) {
      col.Read(r);
      if constexpr (kBuild) (*recs)[i].clock = col.prev;
    }
  }

  const std::string_view kind = r.Bytes(r.Varint());
  if constexpr (kBuild) out->subject_kind.assign(kind);
  if (subjects) {
    subjects->kind.assign(kind);
    subjects->ids.reserve(count);
  }

  const uint8_t subject_form = r.Byte();
  if (subject_form == kSubjectsInteger) {
    for (size_t i = 0; i < count && r.ok(); ++i) {
      const uint64_t v = r.Varint();
      if constexpr (kBuild) {
        if (v != 0) AppendInt(UnZigZag(v - 1), &(*recs)[i].subject);
      } else if (subjects) {
        subjects->ids.emplace_back();
        if (v != 0) AppendInt(UnZigZag(v - 1), &subjects->ids.back());
      }
    }
  } else if (subject_form == kSubjectsText) {
    Column col;
    TextColumn text;  // the subjects collected while checking
    for (size_t i = 0; i < count && r.ok(); ++i) {
      if constexpr (kBuild) {
        col.Read(r);
        (*recs)[i].subject = col.prev;
      } else if (subjects) {
        text.Read(r);
        subjects->ids.push_back(text.prev);
      } else {
        col.Read(r);
      }
    }
  } else if (subject_form != kSubjectsNone && r.ok()) {
    r.Fail("unknown subject form");
  }

  const uint8_t identity_form = r.Byte();
  if (identity_form == kIdentityEach) {
    Column col;  // the previous KNOWN identity
    for (size_t i = 0; i < count && r.ok(); ++i) {
      const uint64_t tag = r.Varint();
      if (tag == 0) continue;  // unknown
      const uint64_t shared = tag - 1;
      const uint64_t rest = r.Varint();
      if constexpr (kBuild) {
        if (shared > col.prev.size()) {
          r.Fail("a shared prefix is longer than the previous value");
          break;
        }
        const std::string_view tail = r.Bytes(rest);
        if (!r.ok()) break;
        col.prev.resize(static_cast<size_t>(shared));
        col.prev.append(tail);
        (*recs)[i].identity = col.prev;
      } else {
        if (shared > col.prev) {
          r.Fail("a shared prefix is longer than the previous value");
          break;
        }
        r.Bytes(rest);
        col.prev = shared + rest;
      }
    }
  } else if (identity_form == kIdentityEmpty) {
    if constexpr (kBuild) {
      for (BatchRecord& rec : *recs) rec.identity.emplace();
    }
  } else if (identity_form != kIdentityUnknown && r.ok()) {
    r.Fail("unknown identity form");
  }

  if (r.ok() && r.left() != 0) r.Fail("trailing bytes after the last field");
  (void)bytes;
  return count;
}

Status Malformed(const Reader& r) {
  return Status::AuditFailed(std::string("batch payload is malformed: ") + r.problem());
}

}  // namespace

std::optional<int64_t> CanonicalInt(std::string_view s) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  const bool neg = s[0] == '-';
  const std::string_view digits = neg ? s.substr(1) : s;
  if (digits.empty() || (digits[0] == '0' && (digits.size() > 1 || neg))) return std::nullopt;
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

int64_t KeySpan(int64_t lo, int64_t hi) {
  int64_t span = 0;
  return __builtin_sub_overflow(hi, lo, &span) ? INT64_MAX : span;
}

Result<std::string> EncodeBatchPayload(const BatchPayload& payload) {
  const auto& recs = payload.records;
  if (recs.empty()) return Status::Invalid("a batch entry needs at least one record");
  if (recs.size() > kMaxBatchRecords)
    return Status::Invalid("a batch entry holds at most " + std::to_string(kMaxBatchRecords) + " records, not " +
                           std::to_string(recs.size()));
  std::string out;
  out.reserve(16 + recs.size() * 12);
  out.push_back(static_cast<char>(kVersion));
  PutVarint(recs.size(), &out);

  // Keys: integers when every key is one.
  std::vector<int64_t> ints;
  ints.reserve(recs.size());
  for (const BatchRecord& r : recs) {
    auto v = CanonicalInt(r.key);
    if (!v) break;
    ints.push_back(*v);
  }
  if (ints.size() == recs.size()) {
    out.push_back(static_cast<char>(kKeysInteger));
    int64_t prev = 0;
    for (int64_t k : ints) {
      PutVarint(ZigZag(static_cast<int64_t>(static_cast<uint64_t>(k) - static_cast<uint64_t>(prev))), &out);
      prev = k;
    }
  } else {
    out.push_back(static_cast<char>(kKeysText));
    std::string_view prev;
    for (const BatchRecord& r : recs) {
      PutFrontCoded(r.key, prev, &out);
      prev = r.key;
    }
  }

  {
    std::string_view prev;
    for (const BatchRecord& r : recs) {
      PutFrontCoded(r.clock, prev, &out);
      prev = r.clock;
    }
  }

  PutVarint(payload.subject_kind.size(), &out);
  out.append(payload.subject_kind);

  bool all_empty = true, all_int = true;
  for (const BatchRecord& r : recs) {
    if (r.subject.empty()) continue;
    all_empty = false;
    auto v = CanonicalInt(r.subject);
    if (!v || *v == std::numeric_limits<int64_t>::min()) all_int = false;
  }
  if (all_empty) {
    out.push_back(static_cast<char>(kSubjectsNone));
  } else if (all_int) {
    out.push_back(static_cast<char>(kSubjectsInteger));
    for (const BatchRecord& r : recs) PutVarint(r.subject.empty() ? 0 : ZigZag(*CanonicalInt(r.subject)) + 1, &out);
  } else {
    out.push_back(static_cast<char>(kSubjectsText));
    std::string_view prev;
    for (const BatchRecord& r : recs) {
      PutFrontCoded(r.subject, prev, &out);
      prev = r.subject;
    }
  }

  bool all_unknown = true, all_blank = true;
  for (const BatchRecord& r : recs) {
    if (r.identity) all_unknown = false;
    if (!r.identity || !r.identity->empty()) all_blank = false;
  }
  if (all_unknown) {
    out.push_back(static_cast<char>(kIdentityUnknown));
  } else if (all_blank) {
    out.push_back(static_cast<char>(kIdentityEmpty));
  } else {
    out.push_back(static_cast<char>(kIdentityEach));
    std::string_view prev;  // the previous known identity
    for (const BatchRecord& r : recs) {
      if (!r.identity) {
        PutVarint(0, &out);
        continue;
      }
      const size_t shared = SharedPrefix(prev, *r.identity);
      PutVarint(uint64_t{shared} + 1, &out);
      PutVarint(r.identity->size() - shared, &out);
      out.append(std::string_view(*r.identity).substr(shared));
      prev = *r.identity;
    }
  }
  return out;
}

Result<BatchPayload> DecodeBatchPayload(std::string_view bytes) {
  BatchPayload out;
  Reader r(bytes);
  Walk<true>(bytes, &out, r);
  if (!r.ok()) return Malformed(r);
  return out;
}

Result<BatchSubjects> SubjectsOfPayload(std::string_view bytes) {
  BatchSubjects out;
  Reader r(bytes);
  Walk<false>(bytes, nullptr, r, &out);
  if (!r.ok()) return Malformed(r);
  return out;
}

Result<size_t> CountBatchRecords(std::string_view bytes) {
  Reader r(bytes);
  const size_t n = Walk<false>(bytes, nullptr, r);
  if (!r.ok()) return Malformed(r);
  return n;
}

Result<BatchKeyRange> KeyRangeOfPayload(std::string_view bytes) {
  // The header and the key column only, with the layout's refusals for
  // them; the rest of the payload is CountBatchRecords' to check.
  Reader r(bytes);
  BatchKeyRange range;
  if (r.Byte() != kVersion) return Status::AuditFailed("batch payload is malformed: unknown payload version");
  const uint64_t n = r.Varint();
  if (r.ok() && (n == 0 || n > kMaxBatchRecords || n > r.left())) r.Fail("a bad record count");
  const uint8_t key_form = r.Byte();
  if (!r.ok()) return Malformed(r);
  if (key_form == kKeysInteger) {
    int64_t key = 0, lo = INT64_MAX, hi = INT64_MIN;
    for (uint64_t i = 0; i < n && r.ok(); ++i) {
      key = static_cast<int64_t>(static_cast<uint64_t>(key) + static_cast<uint64_t>(UnZigZag(r.Varint())));
      lo = std::min(lo, key);
      hi = std::max(hi, key);
    }
    if (!r.ok()) return Malformed(r);
    range.integer_keys = true;
    AppendInt(lo, &range.lo);
    AppendInt(hi, &range.hi);
    return range;
  }
  if (key_form != kKeysText) return Status::AuditFailed("batch payload is malformed: unknown key form");
  // As KeyRangeOf: integers when every key is one, else bytes.
  TextColumn col;
  std::optional<int64_t> lo, hi;
  bool ints = true;
  for (uint64_t i = 0; i < n && r.ok(); ++i) {
    col.Read(r);
    if (!r.ok()) break;
    if (i == 0 || col.prev < range.lo) range.lo = col.prev;
    if (i == 0 || col.prev > range.hi) range.hi = col.prev;
    if (!ints) continue;
    const std::optional<int64_t> v = CanonicalInt(col.prev);
    if (!v) {
      ints = false;
      continue;
    }
    if (!lo || *v < *lo) lo = v;
    if (!hi || *v > *hi) hi = v;
  }
  if (!r.ok()) return Malformed(r);
  if (ints) {
    range.integer_keys = true;
    range.lo.clear();
    range.hi.clear();
    AppendInt(*lo, &range.lo);
    AppendInt(*hi, &range.hi);
  }
  return range;
}

BatchKeyRange KeyRangeOf(const BatchPayload& payload) {
  BatchKeyRange range;
  if (payload.records.empty()) return range;
  std::optional<int64_t> lo, hi;
  bool ints = true;
  for (const BatchRecord& r : payload.records) {
    auto v = CanonicalInt(r.key);
    if (!v) {
      ints = false;
      break;
    }
    if (!lo || *v < *lo) lo = v;
    if (!hi || *v > *hi) hi = v;
  }
  if (ints) {
    range.integer_keys = true;
    AppendInt(*lo, &range.lo);
    AppendInt(*hi, &range.hi);
    return range;
  }
  const std::string* min = &payload.records.front().key;
  const std::string* max = min;
  for (const BatchRecord& r : payload.records) {
    if (r.key < *min) min = &r.key;
    if (r.key > *max) max = &r.key;
  }
  range.lo = *min;
  range.hi = *max;
  return range;
}

nlohmann::json SettlementsJson(const std::vector<Settlement>& settlements) {
  nlohmann::json out = nlohmann::json::array();
  for (const Settlement& s : settlements) {
    nlohmann::json j{{"seq", s.batch_seq}};
    if (!s.kept.empty()) {
      nlohmann::json kept = nlohmann::json::array();
      for (const Settlement::Kept& k : s.kept) {
        // KeptDetail is DumpJson's output: valid JSON whatever the words.
        nlohmann::json item = nlohmann::json::parse(KeptDetail(k.reason), nullptr, false);
        item["i"] = k.index;
        kept.push_back(std::move(item));
      }
      j["kept"] = std::move(kept);
    }
    if (!s.replaced.empty()) j["replaced"] = s.replaced;
    if (s.reconciled) j["reconciled"] = true;
    out.push_back(std::move(j));
  }
  return out;
}

Result<std::vector<Settlement>> SettlementsOf(std::string_view detail_json) {
  std::vector<Settlement> out;
  // Cheap refusal first: most details (runs, holds, kept entries) settle
  // nothing, and verify asks of every entry.
  if (detail_json.find("\"settles\"") == std::string_view::npos) return out;
  const auto detail = nlohmann::json::parse(detail_json, nullptr, false);
  if (!detail.is_object()) return out;
  const auto it = detail.find("settles");
  if (it == detail.end()) return out;
  auto bad = [](const std::string& why) { return Status::AuditFailed("malformed settlement: " + why); };
  if (!it->is_array()) return bad("\"settles\" is not an array");
  auto index_of = [](const nlohmann::json& v) -> std::optional<uint32_t> {
    if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0)) return std::nullopt;
    const uint64_t u = v.get<uint64_t>();
    if (u > std::numeric_limits<uint32_t>::max()) return std::nullopt;
    return static_cast<uint32_t>(u);
  };
  for (const auto& item : *it) {
    if (!item.is_object()) return bad("an item is not an object");
    Settlement s;
    const auto seq = item.find("seq");
    if (seq == item.end() || !seq->is_number_integer() || seq->get<int64_t>() <= 0)
      return bad("an item has no positive integer \"seq\"");
    s.batch_seq = seq->get<int64_t>();
    const std::string n = std::to_string(s.batch_seq);
    if (auto kept = item.find("kept"); kept != item.end()) {
      if (!kept->is_array()) return bad("\"kept\" of batch " + n + " is not an array");
      for (const auto& k : *kept) {
        if (!k.is_object()) return bad("a kept item of batch " + n + " is not an object");
        const auto i = k.find("i");
        std::optional<uint32_t> index = i == k.end() ? std::nullopt : index_of(*i);
        if (!index) return bad("a kept item of batch " + n + " has no index \"i\"");
        auto parsed = ParseKeptDetail(DumpJson(k));
        if (!parsed || !parsed->why) return bad("a kept item of batch " + n + " has no known \"why\"");
        Settlement::Kept out_k;
        out_k.index = *index;
        out_k.reason.why = *parsed->why;
        out_k.reason.words = std::move(parsed->words);
        out_k.reason.skip = std::move(parsed->skip);
        out_k.reason.hold_id = parsed->hold_id;
        s.kept.push_back(std::move(out_k));
      }
    }
    if (auto replaced = item.find("replaced"); replaced != item.end()) {
      if (!replaced->is_array()) return bad("\"replaced\" of batch " + n + " is not an array");
      for (const auto& v : *replaced) {
        auto index = index_of(v);
        if (!index) return bad("\"replaced\" of batch " + n + " holds something other than an index");
        s.replaced.push_back(*index);
      }
    }
    if (auto rec = item.find("reconciled"); rec != item.end()) {
      if (!rec->is_boolean()) return bad("\"reconciled\" of batch " + n + " is not true or false");
      s.reconciled = rec->get<bool>();
    }
    out.push_back(std::move(s));
  }
  return out;
}

Result<std::optional<std::string>> StoreIdentityOf(std::string_view detail_json) {
  if (detail_json.find(std::string("\"") + kStoreIdentityMember + "\"") == std::string_view::npos)
    return std::optional<std::string>();
  const auto detail = nlohmann::json::parse(detail_json, nullptr, false);
  if (!detail.is_object()) return Status::AuditFailed("a batch entry's detail is not a JSON object");
  const auto it = detail.find(kStoreIdentityMember);
  if (it == detail.end()) return std::optional<std::string>();
  auto text = TextFromJson(*it);
  if (!text) return Status::AuditFailed(std::string("a batch entry's \"") + kStoreIdentityMember + "\" is not text");
  return std::optional<std::string>(std::move(*text));
}

}  // namespace retention
