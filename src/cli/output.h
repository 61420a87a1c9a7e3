// Shared output helpers of the CLI commands: typed values as JSON, and
// opening a store with a uniform error message.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "storage/store.h"

namespace cairn::cli {

nlohmann::json value_json(const Catalog& catalog, ValueType type, uint64_t bits);
// Prints "timing: GLIBC_TUNABLES=..." to stderr: the tunables this process
// runs with (main.cc adds glibc.malloc.hugetlb on its second start), then
// "timing: huge pages: ..." or "timing: small pages: ..." with main.cc's
// reason when it chose, for --timing and tests/scripts/huge_pages_test.sh.
void print_tunables_timing();
// Opens the store or prints "cairn CMD: reason" and returns null.
std::unique_ptr<Store> open_or_report(const std::string& command, const std::string& db, Store::Mode mode);
// A CSV field: quoted, inner quotes doubled.
std::string csv_field(const std::string& s);
// Prints JSON pretty with a final newline.
void print_json(const nlohmann::json& j);
// Seconds for people ("45s", "12.5m", "3.0h", "2.1d"); "-" for null.
std::string fmt_seconds(const nlohmann::json& v);

}  // namespace cairn::cli
