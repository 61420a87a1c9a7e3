// Comparing a test's expected answer with the engine's, for unit tests.
#pragma once

#include <algorithm>
#include <cmath>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace cairn::query {

// The first difference between two answers, with its path; "" when they
// agree (numbers to 1e-9 relative, integers and fractions not mixed).
inline std::string json_diff(const nlohmann::json& want, const nlohmann::json& got, const std::string& path = "$") {
  auto show = [](const nlohmann::json& j) {
    std::string s = j.dump();
    return s.size() > 300 ? s.substr(0, 300) + "..." : s;
  };
  if (want.is_number() && got.is_number()) {
    if (want.is_number_float() != got.is_number_float())
      return fmt::format("{}: want {} got {} (integer and fraction)", path, show(want), show(got));
    const double a = want.get<double>(), b = got.get<double>();
    if (a == b || std::fabs(a - b) <= 1e-9 * std::max(std::fabs(a), std::fabs(b))) return "";
    return fmt::format("{}: want {} got {}", path, show(want), show(got));
  }
  if (want.type() != got.type()) return fmt::format("{}: want {} got {}", path, show(want), show(got));
  if (want.is_object()) {
    for (const auto& [k, v] : want.items()) {
      if (!got.contains(k)) return fmt::format("{}.{}: missing, want {}", path, k, show(v));
      if (std::string d = json_diff(v, got[k], path + "." + k); !d.empty()) return d;
    }
    for (const auto& [k, v] : got.items())
      if (!want.contains(k)) return fmt::format("{}.{}: unexpected, got {}", path, k, show(v));
    return "";
  }
  if (want.is_array()) {
    for (size_t i = 0; i < std::min(want.size(), got.size()); ++i)
      if (std::string d = json_diff(want[i], got[i], fmt::format("{}[{}]", path, i)); !d.empty()) return d;
    if (want.size() != got.size())
      return fmt::format("{}: want {} elements got {}: want {} got {}", path, want.size(), got.size(), show(want),
                         show(got));
    return "";
  }
  return want == got ? "" : fmt::format("{}: want {} got {}", path, show(want), show(got));
}

}  // namespace cairn::query
