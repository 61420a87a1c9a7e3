// ImportBatch: the parsed, validated content of one import, encoded against
// batch-local dictionaries. Parsers append to it row by row (a rejected row
// leaves it unchanged); the store logs it to the WAL and then maps its ids
// to the database's dictionaries.
#pragma once

#include <bit>
#include <cstdint>
#include <string>
#include <vector>

#include "core/chunked_array.h"
#include "core/string_pool.h"
#include "core/time.h"

namespace cairn {

enum class ValueType : uint8_t { kString = 0, kNumber = 1, kBool = 2 };

// A typed value. For kString, bits is an id in the owning pool of strings;
// for kNumber, the bits of a double; for kBool, 0 or 1.
struct TypedValue {
  ValueType type = ValueType::kString;
  uint64_t bits = 0;
};

// One property of an event, as parsers make it and the store reads it (a
// batch holds them more compactly, in BatchProps).
struct BatchProperty {
  uint64_t bits;
  uint32_t key;  // id in ImportBatch::keys
  ValueType type;

  static BatchProperty of(uint32_t key, TypedValue v) { return BatchProperty{v.bits, key, v.type}; }
  TypedValue value() const { return TypedValue{type, bits}; }
};

// A batch's properties in order, 8 bytes each for a string, a bool or a
// number that is a 32-bit integer, 24 for others: the batch of a large
// import holds one per property until it commits (38M for 10M simulated
// events, 99% of them strings), and on a virtual machine memory touched the
// first time is slow to come by. Each is one word: the value (a string id,
// 0 or 1, the integer, or an index into wide_) in the high 32 bits, a tag
// in bits 30-31 and the key in the low 30 (a key id beyond those bits, or
// a number that is not such an integer, is in wide_ whole).
class BatchProps {
 public:
  void push_back(const BatchProperty& p) {
    uint64_t tag = kWide, value = 0;
    if (p.key <= kKeyMask) {
      if (p.type == ValueType::kString && p.bits <= UINT32_MAX) {
        tag = kString;
        value = p.bits;
      } else if (p.type == ValueType::kBool) {
        tag = kBool;
        value = p.bits;
      } else if (p.type == ValueType::kNumber) {
        const double d = std::bit_cast<double>(p.bits);
        if (d >= INT32_MIN && d <= INT32_MAX) {
          const auto i = static_cast<int32_t>(d);
          // Exactly the integer (-0.0 and fractions stay wide).
          if (std::bit_cast<uint64_t>(static_cast<double>(i)) == p.bits) {
            tag = kInt;
            value = static_cast<uint32_t>(i);
          }
        }
      }
    }
    if (tag == kWide) {
      value = wide_.size();
      wide_.push_back(p);
    }
    words_.push_back(value << 32 | tag << 30 | (p.key & kKeyMask));
  }
  BatchProperty operator[](size_t i) const { return decode(words_[i]); }
  size_t size() const { return words_.size(); }
  bool empty() const { return words_.empty(); }
  // The address of property i's word, for a prefetch.
  const void* address(size_t i) const { return &words_[i]; }
  // Calls f(BatchProperty) on each in order, freeing them as it goes.
  template <typename F>
  void drain(F&& f) {
    words_.drain([&](uint64_t w) { f(decode(w)); });
    wide_.clear();
  }

 private:
  static constexpr uint64_t kString = 0, kBool = 1, kInt = 2, kWide = 3;
  static constexpr uint32_t kKeyMask = (1u << 30) - 1;

  BatchProperty decode(uint64_t w) const {
    const auto key = static_cast<uint32_t>(w & kKeyMask);
    const auto value = static_cast<uint32_t>(w >> 32);
    switch ((w >> 30) & 3) {
      case kString:
        return BatchProperty{value, key, ValueType::kString};
      case kBool:
        return BatchProperty{value, key, ValueType::kBool};
      case kInt:
        return BatchProperty{std::bit_cast<uint64_t>(static_cast<double>(static_cast<int32_t>(value))), key,
                             ValueType::kNumber};
      default:
        return wide_[value];
    }
  }

  ChunkedArray<uint64_t> words_;
  ChunkedArray<BatchProperty> wide_;
};

constexpr uint32_t kNoId = 0xFFFFFFFFu;

// 32 bytes: a large import holds one per event until it commits.
struct BatchEvent {
  Micros time;
  uint64_t message_hash;  // XXH3-64 of message_id, or of the event's content when it has none; 0 = none
  // Id in ImportBatch::ids of the person the event is filed under: its user
  // id, or its anonymous id when it has none. (An event with both has its
  // link in ImportBatch::links, which is how the anonymous id is stitched.)
  uint32_t person;
  uint32_t event;       // id in ImportBatch::event_names
  uint32_t prop_begin;  // first property in ImportBatch::props
  uint32_t prop_count;
};
static_assert(sizeof(BatchEvent) == 32);

// Links an anonymous (or previous) id to a user id: identify, alias, or an
// event that carries both ids (every such event has its link here, or the
// same link just before it). Applied in order; the store applies these and
// does not look at the events' ids for links.
struct BatchLink {
  uint32_t from;  // anonymous id or alias previousId
  uint32_t to;    // the known user id
};

struct BatchTrait {
  uint32_t id;  // the person's id in ImportBatch::ids
  uint32_t key;
  TypedValue value;
  // How many of the batch's links came before it: the store applies links
  // and traits in the order they arrived, so which person a trait lands on
  // (and which value a merge keeps) does not depend on how the input was
  // split into imports. kAfterLinks: after all of them.
  uint32_t links_before = kAfterLinks;
  static constexpr uint32_t kAfterLinks = UINT32_MAX;
};

struct BatchCost {
  int64_t day;  // days since 1970-01-01
  uint32_t channel;   // id in ImportBatch::strings
  uint32_t campaign;  // id in ImportBatch::strings
  double cost;
};

struct ImportBatch {
  StringPool ids;          // person ids, anonymous or known
  StringPool event_names;  // event names
  StringPool keys;         // property and trait keys
  StringPool strings;      // string values of properties, traits and costs
  std::vector<uint8_t> id_is_known;  // per id: 1 when it appeared as a user id
  // Chunked: a large import grows them without reallocating (no copy, no
  // doubling), and append() frees the source as it goes.
  ChunkedArray<BatchEvent> events;
  BatchProps props;
  std::vector<BatchLink> links;
  std::vector<BatchTrait> traits;
  std::vector<BatchCost> costs;

  // Appends everything of `other` (parsed from input that follows this
  // batch's), re-encoding its ids against this batch's dictionaries. `other`
  // is emptied as it goes, so memory does not double; into an empty batch it
  // is moved as it is.
  void append(ImportBatch&& other);

  // Nothing parsed: no ids, events, links, traits or costs.
  bool empty() const {
    return events.empty() && ids.size() == 0 && links.empty() && traits.empty() && costs.empty();
  }

  // Interns a person id and remembers whether it was ever a user (known) id.
  uint32_t intern_id(std::string_view id, bool known) { return intern_id(id, known, StringPool::hash_of(id)); }
  // The same with the id's hash already known (StringPool::hash_of).
  uint32_t intern_id(std::string_view id, bool known, uint64_t hash) {
    const uint32_t i = ids.intern(id, hash);
    if (i >= id_is_known.size()) id_is_known.resize(i + 1, 0);
    if (known) id_is_known[i] = 1;
    return i;
  }
};

// 64-bit hash of a message id; never 0 (0 means "no message id").
uint64_t message_hash(std::string_view message_id);

}  // namespace cairn
