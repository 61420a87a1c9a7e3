#include "ingest/errors.h"

#include <fmt/format.h>

namespace cairn {

std::string RowError::format() const {
  if (field.empty()) return fmt::format("{}:{}: {}", file, line, message);
  return fmt::format("{}:{}: field '{}': {}", file, line, field, message);
}

std::string ImportErrors::summary(size_t limit) const {
  std::string out;
  for (size_t i = 0; i < errors_.size() && i < limit; ++i) {
    out += errors_[i].format();
    out += '\n';
  }
  if (errors_.size() > limit) out += fmt::format("... and {} more\n", errors_.size() - limit);
  return out;
}

}  // namespace cairn
