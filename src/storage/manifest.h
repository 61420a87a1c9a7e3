// The manifest names every file of one database version: the catalog and the
// segments of each partition. CURRENT holds the name of the live manifest;
// switching it by rename is the single commit point of every write.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/time.h"

namespace cairn {

struct SegmentMeta {
  std::string file;
  uint64_t rows = 0;
  uint64_t bytes = 0;
  uint64_t core_bytes = 0;
  Micros min_time = 0;
  Micros max_time = 0;
};

struct Manifest {
  uint64_t version = 0;
  uint32_t partitions = 16;
  std::string catalog;  // empty in a new database
  uint64_t next_file = 1;
  uint64_t wal_applied = 0;  // sequence number of the last WAL record applied
  std::vector<std::vector<SegmentMeta>> segments;  // per partition, oldest first

  std::string serialize() const;
  static Result<Manifest> parse(std::string_view payload, const std::string& what);
};

}  // namespace cairn
