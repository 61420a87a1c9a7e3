// The parsers' staging area for one row. A row is parsed and validated into
// a PendingRow of views into the input (nothing interned), and only a fully
// valid row is committed to the ImportBatch: a rejected row leaves no trace,
// not even an interned id.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/batch.h"
#include "ingest/errors.h"

namespace cairn {

struct PendingValue {
  ValueType type = ValueType::kString;
  std::string_view str;  // kString
  double num = 0;        // kNumber
  bool flag = false;     // kBool
};

struct PendingProp {
  std::string_view key;
  PendingValue value;
};

struct PendingEvent {
  std::string_view user_id, anonymous_id, event, message_id;
  Micros time = 0;
  size_t prop_begin = 0, prop_count = 0;  // into PendingRow::props
  uint64_t key_bits = 0;                  // key_bit() of each of its properties' keys
};

// A key's bit in a 64-bit summary of an event's property keys: a key whose
// bit is not set is not among them (no compare needed).
constexpr uint64_t key_bit(std::string_view key) {
  if (key.empty()) return 1;
  const unsigned h = static_cast<unsigned>(key.size()) * 7 + static_cast<unsigned char>(key[0]) * 31 +
                     static_cast<unsigned char>(key[key.size() / 2]) * 131 + static_cast<unsigned char>(key.back());
  return uint64_t{1} << (h & 63);
}

struct PendingTrait {
  std::string_view id;
  PendingProp prop;
  bool known = true;  // id is a user id (false: traits of an anonymous visitor)
};

struct PendingLink {
  std::string_view from, to;
};

struct PendingCost {
  int64_t day;
  std::string_view channel, campaign;
  double cost;
};

// Everything one input row (a CSV record, an NDJSON line, a Segment batch
// envelope item) contributes.
class PendingRow {
 public:
  std::vector<PendingEvent> events;
  std::vector<PendingProp> props;
  std::vector<PendingTrait> traits;
  std::vector<PendingLink> links;
  std::vector<PendingCost> costs;

  void clear() {
    events.clear();
    props.clear();
    traits.clear();
    links.clear();
    costs.clear();
    owned_.clear();
  }
  // Keeps a string alive until clear() (for flattened keys, unescaped text).
  std::string_view own(std::string s) { return owned_.emplace_back(std::move(s)); }
  // Adds a property to the event being built unless the key is already set.
  bool add_prop(PendingEvent& e, std::string_view key, const PendingValue& v);
  // Interns everything into the batch.
  void commit(ImportBatch& batch) const;

 private:
  uint64_t content_hash(const PendingEvent& e) const;

  // Interning caches: consecutive rows mostly repeat the same person ids,
  // event names, keys and many values (a session id, a campaign), so a
  // remembered (text, id) pair checked with one compare saves most probes of
  // the batch's large dictionaries. Texts point into the batch's pools.
  struct Cached {
    std::string_view text;
    uint32_t id = kNoId;
  };
  static constexpr size_t kSmallCache = 256;
  static size_t slot_of(std::string_view s) {
    return s.empty() ? 0 : (s.size() * 131 + static_cast<unsigned char>(s[0]) * 31 +
                            static_cast<unsigned char>(s.back())) % kSmallCache;
  }
  static bool hits(const Cached& c, std::string_view s) { return c.id != kNoId && same_text(c.text, s); }
  // On a miss, s is interned with its hash h (StringPool::hash_of(s)).
  uint32_t intern_cached(Cached& c, StringPool& pool, std::string_view s) const;
  uint32_t intern_cached(Cached& c, StringPool& pool, std::string_view s, uint64_t h) const;
  uint32_t cached_id(Cached& c, ImportBatch& batch, std::string_view s, bool known, uint64_t h) const;
  uint32_t cached_small(std::vector<Cached>& cache, StringPool& pool, std::string_view s) const;

  std::deque<std::string> owned_;
  mutable std::string scratch_;
  mutable Cached last_user_, last_anon_;
  mutable std::vector<Cached> event_cache_, key_cache_, value_cache_;  // value cache: by batch key id
  // An event's property keys and the hashes of its values that miss the
  // cache (0 for the others), worked out before any of them is interned.
  mutable std::vector<uint32_t> prop_keys_;
  mutable std::vector<uint64_t> value_hashes_;
};

// Parses text as a JSON-style number (no leading zeros, no hex, no inf/nan).
bool parse_number(std::string_view text, double& out);
// CSV cell typing: a number when it reads as one exactly, true/false as
// booleans, anything else a string.
PendingValue infer_value(std::string_view cell);

// Builds a RowError with the row's raw text cut for the rejects file.
RowError row_error(std::string_view file, uint64_t line, std::string field, std::string message,
                   std::string_view raw);

// `cannot parse "X" as a time`, with X cut to 100 bytes.
std::string cannot_parse(std::string_view text, std::string_view what);

}  // namespace cairn
