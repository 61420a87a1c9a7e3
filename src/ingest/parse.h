// Parsers for the files `cairn import` reads. Each appends valid rows to an
// ImportBatch and reports every invalid row to ImportErrors; a rejected row
// leaves the batch unchanged. Files are streamed in chunks (memory does not
// grow with file size beyond the batch), and `.gz` files are decompressed on
// the fly.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "ingest/batch.h"
#include "ingest/errors.h"

namespace cairn {

enum class InputKind {
  kEvents,    // CSV (by .csv extension) or NDJSON (flat form or Segment spec)
  kContacts,  // CSV: an id column (person/user_id/id) and trait columns
  kCosts,     // CSV: date, channel, campaign, cost
};

// Called now and then with the input bytes consumed and events parsed so far.
using ProgressFn = std::function<void(uint64_t bytes_done, uint64_t events_done)>;

// Parses one file. Returns an error Status only when the file cannot be read
// at all (missing, unreadable, bad gzip stream); bad rows go to `errors`.
Status parse_file(const std::string& path, InputKind kind, ImportBatch& batch, ImportErrors& errors,
                  const ProgressFn& progress = {});

struct ParseInput {
  std::string path;
  InputKind kind;
};

// Parses several files on `threads` threads, splitting large plain files at
// record boundaries; the batch and the errors (with their line numbers) are
// exactly those of parsing the files one after another. `progress` gets the
// input bytes consumed over all files.
// Files smaller than split_bytes are not split.
Status parse_files(const std::vector<ParseInput>& inputs, unsigned threads, ImportBatch& batch, ImportErrors& errors,
                   const ProgressFn& progress = {}, uint64_t split_bytes = 32u << 20);

// As parse_files, but without merging: each part (a file, or a piece of a
// split file) keeps its own batch, with its own dictionaries, in input order.
// Appending them in order (ImportBatch::append) gives parse_files' batch;
// Store::import takes them as they are and saves that merge.
Status parse_file_parts(const std::vector<ParseInput>& inputs, unsigned threads, std::vector<ImportBatch>& parts,
                        ImportErrors& errors, const ProgressFn& progress = {}, uint64_t split_bytes = 32u << 20);

// Parses the inputs in rounds, so that an import need not hold a large input
// whole: each round parses about round_lines lines (estimated from each
// file's first MiB, a .gz file's from the first MiB it decompresses to), on
// `threads` threads, into parts as parse_file_parts does. A plain file is
// cut into pieces at byte offsets for that; a .gz file, which can only be
// read from its start, into pieces of round_lines lines (the last to its
// end), each a round of its own read on one thread, going on from where the
// piece before stopped. The rounds' parts and errors, appended in order,
// are parse_file_parts' (line numbers count from each file's start).
class RoundParser {
 public:
  RoundParser(std::vector<ParseInput> inputs, unsigned threads, uint64_t round_lines = UINT64_MAX,
              uint64_t split_bytes = 32u << 20);
  ~RoundParser();
  RoundParser(const RoundParser&) = delete;
  RoundParser& operator=(const RoundParser&) = delete;
  // Parses the next round, appending its parts and errors. False when every
  // input was parsed already. An error Status when a file cannot be read.
  // `progress` gets the input bytes consumed over all rounds so far.
  Result<bool> next(std::vector<ImportBatch>& parts, ImportErrors& errors, const ProgressFn& progress = {});
  // True when the last round was parsed.
  bool done() const { return next_unit_ >= units_.size(); }
  // A .gz file alone in its round is decompressed on one thread and parsed
  // on the others in blocks of about this many bytes, each a part.
  void set_block_bytes(size_t bytes) { block_bytes_ = std::max<size_t>(bytes, 1); }

 private:
  struct Unit;
  struct Stream;
  std::vector<ParseInput> inputs_;
  unsigned threads_;
  uint64_t round_lines_;
  std::vector<std::unique_ptr<Unit>> units_;
  std::vector<Stream> streams_;  // by input: a .gz file read in pieces
  size_t next_unit_ = 0;
  uint64_t lines_before_ = 0;  // of the current input's units parsed so far
  size_t block_bytes_ = 64u << 20;
};

// Parses in-memory text as if it were the file `name` (used by tests and
// fuzzers). The format follows `name`'s extension as for parse_file.
Status parse_buffer(const std::string& name, std::string_view text, InputKind kind, ImportBatch& batch,
                    ImportErrors& errors);

}  // namespace cairn
