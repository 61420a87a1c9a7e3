#include "ingest/batch.h"

#include <xxhash.h>

namespace cairn {

uint64_t message_hash(std::string_view message_id) {
  const uint64_t h = XXH3_64bits(message_id.data(), message_id.size());
  return h == 0 ? 1 : h;
}

}  // namespace cairn
