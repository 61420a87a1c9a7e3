// What `cairn info` reports about a database: counts, time range, event
// names, property keys, and the bytes it takes on disk.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "storage/store.h"

namespace cairn {

struct DatabaseSummary {
  uint64_t events = 0;
  uint64_t persons = 0;   // stitched persons with at least one event
  uint64_t ids = 0;       // person ids seen (anonymous and known), erased ones excluded
  uint64_t persons_with_traits = 0;
  uint64_t cost_rows = 0;
  Micros first_time = 0;
  Micros last_time = 0;
  std::vector<std::pair<std::string, uint64_t>> event_counts;     // by count, descending
  std::vector<std::pair<std::string, uint64_t>> property_counts;  // key, events having it
  uint64_t segments = 0;
  uint32_t partitions = 0;
  uint64_t bytes_on_disk = 0;  // the snapshot's files (Store::bytes_on_disk) and the channel rules
  uint64_t core_bytes = 0;     // compressed person, time and event columns
};

Result<DatabaseSummary> summarize(const Store& store);

}  // namespace cairn
