// Fuzzes every input parser: the first byte picks the format (NDJSON, CSV
// events, contacts, costs, each also gzip-wrapped), the rest is the file.
// Whatever the input, the parser must not crash, and the batch it builds must
// be internally consistent (every index in range).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "ingest/parse.h"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cairn;
  if (size == 0) return 0;
  struct Mode {
    const char* name;
    InputKind kind;
  };
  static constexpr Mode kModes[] = {
      {"f.ndjson", InputKind::kEvents},   {"f.csv", InputKind::kEvents},    {"f.csv", InputKind::kContacts},
      {"f.csv", InputKind::kCosts},       {"f.ndjson.gz", InputKind::kEvents}, {"f.csv.gz", InputKind::kEvents},
  };
  const Mode& mode = kModes[data[0] % 6];
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  ImportBatch batch;
  ImportErrors errors;
  const Status st = parse_buffer(mode.name, text, mode.kind, batch, errors);
  (void)st;
  check(batch.id_is_known.size() == batch.ids.size());
  for (const BatchEvent& e : batch.events) {
    check(e.person < batch.ids.size());
    check(e.event < batch.event_names.size());
    check(static_cast<uint64_t>(e.prop_begin) + e.prop_count <= batch.props.size());
  }
  for (size_t i = 0; i < batch.props.size(); ++i) {
    const BatchProperty p = batch.props[i];
    check(p.key < batch.keys.size());
    check(p.type != ValueType::kString || p.bits < batch.strings.size());
  }
  for (const BatchLink& l : batch.links) check(l.from < batch.ids.size() && l.to < batch.ids.size());
  for (const BatchTrait& t : batch.traits) check(t.id < batch.ids.size() && t.key < batch.keys.size());
  for (const RowError& e : errors.all()) check(!e.format().empty() && e.line >= 1);

  return 0;
}
