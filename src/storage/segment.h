// Writing and reading segment files (format in segment_format.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "storage/time_column.h"
#include "storage/rows.h"

namespace cairn {

struct SegmentStats {
  uint64_t rows = 0;
  uint64_t bytes = 0;
  uint64_t core_bytes = 0;  // compressed person, time and event columns
  Micros min_time = 0;
  Micros max_time = 0;
  uint64_t blocks_copied = 0;  // write_segment_without: blocks copied as stored
};

// Writes rows (REQUIRES: sorted by person, time) to a new file at path and
// fsyncs it.
Result<SegmentStats> write_segment(const std::string& path, const RowSet& rows);

struct ChunkRef {
  uint64_t offset = 0;
  uint64_t comp_size = 0;
  uint64_t raw_size = 0;
  uint64_t checksum = 0;
};

struct BlockInfo {
  uint32_t rows = 0;
  uint32_t persons = 0;
  uint32_t min_person = 0;
  uint32_t max_person = 0;
  Micros min_time = 0;
  Micros max_time = 0;
  ChunkRef person, time, event, message;
  std::vector<std::pair<uint32_t, ChunkRef>> keys;  // key id, chunk

  // The stored bytes of its core columns (person, time and event).
  uint64_t core_bytes() const { return person.comp_size + time.comp_size + event.comp_size; }
};

// Reused buffers for reading one chunk: its stored bytes and, when
// compressed, the decompressed ones.
struct ChunkBuffers {
  std::string comp, raw;
};

// The core columns of one block, decoded.
struct BlockColumns {
  bool person_per_row = true;    // false: `person` is left empty (a scan reads the runs)
  std::vector<uint32_t> person;  // per row
  std::vector<Micros> time;
  std::vector<uint32_t> event;
  std::vector<uint32_t> runs;        // rows per person run, in row order
  std::vector<uint32_t> run_person;  // each run's person (ascending, distinct)
  ChunkBuffers scratch[3];     // scratch: the three chunks
  TimeColumnScratch time_scratch;
};

// One property column of one block: the rows that have it and their values.
struct KeyColumn {
  std::vector<uint32_t> rows;
  std::vector<StoredProp> values;  // key filled in
  ChunkBuffers scratch;            // scratch: the chunk
};

// Reads a segment. The file stays open, so a reader keeps seeing the file
// even after a compaction unlinks it (a consistent snapshot).
class SegmentReader {
 public:
  SegmentReader() = default;
  SegmentReader(const SegmentReader&) = delete;
  SegmentReader& operator=(const SegmentReader&) = delete;
  SegmentReader(SegmentReader&& o) noexcept;
  SegmentReader& operator=(SegmentReader&& o) noexcept;
  ~SegmentReader();

  static Result<SegmentReader> open(const std::string& path);

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  uint64_t rows() const { return rows_; }
  const std::vector<BlockInfo>& blocks() const { return blocks_; }
  uint64_t core_bytes() const;

  Status read_core(size_t block, BlockColumns& out) const;
  Status read_key(size_t block, size_t key_slot, KeyColumn& out) const;
  // Every row of a block with its properties, appended to out.
  Status read_rows(size_t block, RowSet& out) const;
  // The message-id hashes of one block's rows (0 where none), in row order,
  // in place of out's contents.
  Status read_block_hashes(size_t block, std::vector<uint64_t>& out) const;
  // A block's chunks as stored, into out, each checked against its
  // checksum; `first` is the file offset out begins at. False (and nothing
  // read) when the chunks do not lie one after another.
  Result<bool> read_block_stored(size_t block, std::string& out, uint64_t& first) const;

 private:
  // A chunk's bytes, checked (a view of buf.comp when stored raw, else of buf.raw).
  Result<std::string_view> read_chunk(const ChunkRef& ref, size_t block, const char* column, ChunkBuffers& buf) const;

  int fd_ = -1;
  std::string path_;
  uint64_t file_size_ = 0;
  uint32_t version_ = kSegmentVersion;  // the file's format version
  uint64_t rows_ = 0;
  std::vector<BlockInfo> blocks_;
};

// Writes a copy of source without the rows of `persons` (sorted, distinct)
// to a new file at path and fsyncs it; their rows, with their properties, are
// appended to `removed` in the source's order. A block that holds none of
// them is copied as it is stored (a block of the current format version);
// the others are decoded and written again without those rows. A result of
// 0 rows wrote no file.
Result<SegmentStats> write_segment_without(const std::string& path, const SegmentReader& source,
                                           const std::vector<uint32_t>& persons, RowSet& removed);

}  // namespace cairn
