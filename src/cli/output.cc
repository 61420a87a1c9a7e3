#include "cli/output.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

namespace cairn::cli {

void print_tunables_timing() {
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  std::fprintf(stderr, "timing: GLIBC_TUNABLES=%s\n", tunables != nullptr ? tunables : "");
  const char* choice = std::getenv("CAIRN_PAGE_CHOICE");  // src/cli/main.cc: huge_pages_pay
  if (choice != nullptr) std::fprintf(stderr, "timing: %s\n", choice);
}

nlohmann::json value_json(const Catalog& catalog, ValueType type, uint64_t bits) {
  switch (type) {
    case ValueType::kString:
      return bits < catalog.string_count() ? nlohmann::json(std::string(catalog.string_at(static_cast<uint32_t>(bits))))
                                           : nlohmann::json(nullptr);
    case ValueType::kBool:
      return bits != 0;
    case ValueType::kNumber: {
      double d;
      std::memcpy(&d, &bits, 8);
      // Whole numbers print as integers (12, not 12.0).
      if (d == std::trunc(d) && std::fabs(d) < 9007199254740992.0) return static_cast<int64_t>(d);
      return d;
    }
  }
  return nullptr;
}

std::unique_ptr<Store> open_or_report(const std::string& command, const std::string& db, Store::Mode mode) {
  auto store = Store::open(db, mode);
  if (!store) {
    std::fprintf(stderr, "cairn %s: %s\n", command.c_str(), store.status().message().c_str());
    return nullptr;
  }
  return std::move(*store);
}

void print_json(const nlohmann::json& j) {
  const std::string s = j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fputc('\n', stdout);
}

std::string fmt_seconds(const nlohmann::json& v) {
  if (v.is_null()) return "-";
  const double s = v.get<double>();
  if (s < 120) return fmt::format("{:.0f}s", s);
  if (s < 7200) return fmt::format("{:.1f}m", s / 60);
  if (s < 172800) return fmt::format("{:.1f}h", s / 3600);
  return fmt::format("{:.1f}d", s / 86400);
}

std::string csv_field(const std::string& s) {
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace cairn::cli
