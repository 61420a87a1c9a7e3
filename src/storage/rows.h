// Rows as the store writes and rewrites them: dictionary-encoded against the
// database catalog, one Row per event with its properties in a shared array.
#pragma once

#include <cstdint>
#include <vector>

#include "core/time.h"
#include "ingest/batch.h"

namespace cairn {

struct StoredProp {
  uint32_t key;  // catalog key id
  ValueType type;
  uint64_t bits;  // catalog string id, double bits, or 0/1
};

struct Row {
  uint32_t person;  // canonical person (catalog id number of the identity root)
  uint32_t event;   // catalog event-name id
  Micros time;
  uint32_t prop_begin;
  uint32_t prop_count;
  uint64_t message_hash;  // 0 when the event had no message id
};

struct RowSet {
  std::vector<Row> rows;
  std::vector<StoredProp> props;

  // Orders rows by (person, time); rows that tie keep their order (arrival).
  void sort_stable();
  void append(const RowSet& other, const Row& row);
};

}  // namespace cairn
