// Streaming input for the parsers: bytes from a file (gzip-decompressed when
// the name ends in .gz) or from memory, cut into records. A record is one
// line, or for CSV one RFC 4180 record (newlines inside quotes do not end
// it; a quote opens a quoted section only where a cell starts, as
// docs/FORMAT.md says). Memory holds one chunk plus the longest record, never
// the whole file: a record over kMaxRecord is dropped as it is read.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace cairn {

// A source of raw bytes.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to n bytes into dst; 0 at the end.
  virtual Result<size_t> read(char* dst, size_t n) = 0;
  // The bytes taken from the file (or memory) under it so far: for a .gz
  // file the compressed bytes decoded, which a progress bar measures
  // against the file's size.
  virtual uint64_t input_bytes() const = 0;
  // A file (or pipe), read in chunks; transparently gunzipped when `path`
  // ends in ".gz".
  static Result<std::unique_ptr<ByteSource>> open_file(const std::string& path);
  // In-memory bytes (not copied: `text` must outlive the source).
  static std::unique_ptr<ByteSource> from_memory(std::string_view text, bool gzipped);
  // `prefix`, then what `rest` reads (not owned: it must outlive this
  // source). A stream read in rounds goes on this way: the prefix is a
  // copied CSV header and the bytes the last round read past its end.
  static std::unique_ptr<ByteSource> prefixed(std::string prefix, ByteSource& rest);
  // Bytes [begin, EOF) of a file, after `prefix` (e.g. a CSV header); a
  // begin past 0 needs a regular file.
  static Result<std::unique_ptr<ByteSource>> open_range(const std::string& path, uint64_t begin, std::string prefix);
};

// The start of a gzip file: the lines in its first max_out decompressed
// bytes (or all of them, when it is shorter: `whole`) and the compressed
// bytes they took.
struct GzipPeek {
  uint64_t lines = 0, out_bytes = 0, in_bytes = 0;
  bool whole = false;
};
Result<GzipPeek> peek_gzip(const std::string& path, size_t max_out);

struct Record {
  std::string_view text;  // without the line end; valid until the next call
  uint64_t line = 0;      // 1-based line where the record starts
  bool too_long = false;  // the record exceeded the limit and was skipped
};

class RecordReader {
 public:
  // Records longer than this are reported as too long and skipped.
  static constexpr size_t kMaxRecord = 16u << 20;
  // Bytes readable after every record's end (simdjson needs 64).
  static constexpr size_t kPadding = 64;

  RecordReader(ByteSource& source, bool csv_quotes);
  // Next record; false at the end of input.
  Result<bool> next(Record& out);
  // The line the next record starts on (1-based): once the input is read,
  // one more than the lines it had.
  uint64_t line() const { return line_; }
  // The stream offset of the next record (of the end, once all is read).
  uint64_t offset() const { return bytes_read_ - (end_ - begin_); }
  // Input bytes consumed so far (of the decompressed stream).
  uint64_t bytes_read() const { return bytes_read_; }
  // Stops before the first record that starts at or after this stream offset.
  void set_limit(uint64_t offset) { limit_ = offset; }
  // Stops before the first record that starts on a line after this one.
  void set_line_limit(uint64_t line) { line_limit_ = line; }
  // Whether next() returned false at the line limit with input left.
  bool stopped_at_limit() const { return stopped_at_limit_; }
  // The bytes read from the source but not yet returned as records (from
  // the next record's start): with the source's unread rest, the input the
  // reader stopped before.
  std::string_view unread() const { return {data_ + begin_, end_ - begin_}; }

 private:
  Status fill();  // moves the unread tail to the front and reads more
  // Finds the end of the record starting at begin_ within the buffered bytes;
  // returns npos when more input is needed.
  size_t find_end();

  ByteSource& source_;
  bool csv_;
  const char* data_ = nullptr;  // buf_.data()
  std::vector<char> buf_;
  size_t begin_ = 0;  // start of the next record
  size_t end_ = 0;    // end of buffered bytes
  size_t scan_ = 0;   // how far find_end has looked
  // CSV quote state of the record being scanned (find_end has the rule).
  bool in_quotes_ = false;     // inside a quoted section
  bool quote_closed_ = false;  // the last quote seen closed a quoted section
  // The byte before begin_ as the quote rule sees it: ',' at a record's start
  // (a cell starts there), else the last byte dropped of a too-long record.
  char before_ = ',';
  uint64_t newlines_in_scan_ = 0;
  bool eof_ = false;
  bool first_ = true;
  uint64_t line_ = 1;
  uint64_t bytes_read_ = 0;
  uint64_t limit_ = UINT64_MAX;
  uint64_t line_limit_ = UINT64_MAX;
  bool stopped_at_limit_ = false;
};

}  // namespace cairn
