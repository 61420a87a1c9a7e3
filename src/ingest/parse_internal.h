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
  // Parse only records starting before this stream offset (a split file).
  uint64_t limit = UINT64_MAX;
  // The CSV header was copied in front of a later part of a split file:
  // its errors were already reported by the first part.
  bool header_is_copy = false;

  void report_progress(uint64_t bytes) {
    if (progress && *progress && bytes - last_progress >= (1u << 20)) {
      last_progress = bytes;
      (*progress)(bytes, batch.events.size());
    }
  }
};

Status parse_csv(ParseContext& ctx);
Status parse_ndjson(ParseContext& ctx);

}  // namespace cairn
