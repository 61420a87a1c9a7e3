// Row-level import errors: each names the file, line and field at fault, in
// the form `FILE:LINE: field 'timestamp': cannot parse "2026-13-40" as a time`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cairn {

struct RowError {
  std::string file;
  uint64_t line = 0;
  std::string field;    // empty when the row as a whole is bad (e.g. not JSON)
  std::string message;  // e.g. `cannot parse "2026-13-40" as a time`
  std::string raw;      // the row's text, cut to 1000 bytes, for the rejects file
  // The error is the file's, not one row's (a CSV header without a required
  // column): none of its rows can be read, so --skip-invalid cannot skip it.
  bool whole_file = false;

  std::string format() const;
};

class ImportErrors {
 public:
  void add(RowError e) { errors_.push_back(std::move(e)); }
  size_t count() const { return errors_.size(); }
  const std::vector<RowError>& all() const { return errors_; }
  // The first error of a whole file, or null.
  const RowError* whole_file() const {
    for (const RowError& e : errors_)
      if (e.whole_file) return &e;
    return nullptr;
  }
  // The first `limit` errors, one a line, then "... and N more".
  std::string summary(size_t limit = 20) const;

 private:
  std::vector<RowError> errors_;
};

}  // namespace cairn
