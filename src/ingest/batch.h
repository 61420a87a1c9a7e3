// ImportBatch: the parsed, validated content of one import, encoded against
// batch-local dictionaries. Parsers append to it row by row (a rejected row
// leaves it unchanged); the store logs it to the WAL and then maps its ids
// to the database's dictionaries.
#pragma once

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

// 13 bytes, packed: the batch of a large import holds one per property
// (38M of them for 10M simulated events; 16 bytes aligned would be 115 MB
// more to hold, and on a virtual machine memory touched the first time is
// slow to come by). x86-64 reads the unaligned value as fast. Read its
// fields by value: a reference bound to a packed field is misaligned, which
// UBSan reports (make test's sanitizer run).
#pragma pack(push, 1)
struct BatchProperty {
  uint64_t bits;
  uint32_t key;  // id in ImportBatch::keys
  ValueType type;

  static BatchProperty of(uint32_t key, TypedValue v) { return BatchProperty{v.bits, key, v.type}; }
  TypedValue value() const { return TypedValue{type, bits}; }
};
#pragma pack(pop)
static_assert(sizeof(BatchProperty) == 13);

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
  ChunkedArray<BatchProperty> props;
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
