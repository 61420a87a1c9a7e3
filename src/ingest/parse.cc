#include "ingest/parse.h"

#include "ingest/parse_internal.h"

namespace cairn {

namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// The name without a trailing .gz.
std::string_view base_name(std::string_view name) { return ends_with(name, ".gz") ? name.substr(0, name.size() - 3) : name; }

// Events are CSV when the name says so; otherwise NDJSON.
bool events_are_csv(std::string_view name) {
  const std::string_view base = base_name(name);
  return ends_with(base, ".csv") || ends_with(base, ".CSV");
}

Status run(const std::string& name, ByteSource& source, InputKind kind, ImportBatch& batch, ImportErrors& errors,
           const ProgressFn* progress) {
  ParseContext ctx{name, kind, &source, batch, errors, progress};
  if (kind != InputKind::kEvents || events_are_csv(name)) return parse_csv(ctx);
  return parse_ndjson(ctx);
}

}  // namespace

Status parse_file(const std::string& path, InputKind kind, ImportBatch& batch, ImportErrors& errors,
                  const ProgressFn& progress) {
  auto source = ByteSource::open_file(path);
  if (!source) return source.status();
  return run(path, **source, kind, batch, errors, &progress);
}

Status parse_buffer(const std::string& name, std::string_view text, InputKind kind, ImportBatch& batch,
                    ImportErrors& errors) {
  auto source = ByteSource::from_memory(text, ends_with(name, ".gz"));
  return run(name, *source, kind, batch, errors, nullptr);
}

}  // namespace cairn
