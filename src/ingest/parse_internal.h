// Shared between the CSV and NDJSON parsers and their dispatcher.
#pragma once

#include <string>

#include "ingest/parse.h"
#include "ingest/pending.h"
#include "ingest/reader.h"

namespace cairn {

struct ParseContext {
  std::string name;  // the file name used in error messages
  InputKind kind;
  ByteSource* source;
  ImportBatch& batch;
  ImportErrors& errors;
  const ProgressFn* progress;
  uint64_t last_progress = 0;
  // Parse only records starting before this stream offset (a split file)
  // and on a line up to line_limit (a .gz file read in rounds).
  uint64_t limit = UINT64_MAX;
  uint64_t line_limit = UINT64_MAX;
  // The CSV header was copied in front of a later part of a split file:
  // its errors were already reported by the first part.
  bool header_is_copy = false;
  // Set once the records are read: the lines they took (newlines read), the
  // stream offset where reading stopped (the first record not read, or the
  // end), and whether the parser stopped before the limit or the end.
  uint64_t lines = 0;
  uint64_t stop = 0;
  bool stopped_early = false;
  // Whether reading stopped at a limit; if so, the bytes read past it (from
  // the first record not read) are left in `rest` when it is set.
  bool stopped_at_limit = false;
  std::string* rest = nullptr;

  // Every MiB of the stream: its bytes read and the events parsed.
  void report_progress(uint64_t bytes, uint64_t events) {
    if (progress && *progress && bytes - last_progress >= (1u << 20)) {
      last_progress = bytes;
      (*progress)(bytes, events);
    }
  }
  void report_progress(uint64_t bytes) { report_progress(bytes, batch.events.size()); }
};

// What a record over RecordReader::kMaxRecord is reported as.
inline const char* too_long_message(bool csv) {
  return csv ? "record is longer than 16 MiB" : "line is longer than 16 MiB";
}

// A reader of ctx's stream, within ctx's limits.
inline void limit_reader(const ParseContext& ctx, RecordReader& reader) {
  reader.set_limit(ctx.limit);
  reader.set_line_limit(ctx.line_limit);
}

// Sets ctx's outputs from the reader once it stopped.
inline void finish_reading(ParseContext& ctx, const RecordReader& reader) {
  ctx.lines = reader.line() - 1;
  ctx.stop = reader.offset();
  ctx.stopped_at_limit = reader.stopped_at_limit();
  if (ctx.rest && ctx.stopped_at_limit) ctx.rest->assign(reader.unread());
}

// Reads ctx's records in order (CSV-quoted or plain lines), reports
// progress and over-long records, and calls on_record(rec) for each other
// one until it returns false.
template <typename OnRecord>
Status for_each_record(ParseContext& ctx, bool csv, OnRecord&& on_record) {
  RecordReader reader(*ctx.source, csv);
  limit_reader(ctx, reader);
  Record rec;
  for (;;) {
    auto more = reader.next(rec);
    if (!more) return more.status();
    if (!*more) break;
    ctx.report_progress(reader.bytes_read());
    if (rec.too_long) {
      ctx.errors.add(row_error(ctx.name, rec.line, "", too_long_message(csv), ""));
      continue;
    }
    if (!on_record(rec)) {
      ctx.stopped_early = true;
      break;
    }
  }
  finish_reading(ctx, reader);
  return Status::ok();
}

Status parse_csv(ParseContext& ctx);
Status parse_ndjson(ParseContext& ctx);

}  // namespace cairn
