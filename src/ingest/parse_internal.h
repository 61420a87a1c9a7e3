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

  void report_progress(uint64_t bytes) {
    if (progress && *progress && bytes - last_progress >= (1u << 20)) {
      last_progress = bytes;
      (*progress)(bytes);
    }
  }
};

Status parse_csv(ParseContext& ctx);
Status parse_ndjson(ParseContext& ctx);

}  // namespace cairn
