// What the kernels' differential unit tests share: a person's events held
// as the scan hands them over, and comparing an expected answer with the engine's.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <random>
#include <utility>
#include <cmath>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "query/scan.h"
#include "storage/catalog.h"

namespace cairn::query {

// A person's events inside a plan's time range, with the plan's keys as cells.
struct Input {
  std::vector<Micros> time;
  std::vector<uint32_t> event;
  std::vector<std::vector<Cell>> cells;
  PersonView view(uint32_t person) const { return PersonView{person, time.size(), time.data(), event.data(), &cells}; }
};

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

// A person's events (each with `t` and `name`) as the scan hands them over:
// those inside the plan's time range, with `cell(event, key name)` for
// each of the plan's keys.
template <typename Events, typename CellOf>
Input input_in_plan(const Catalog& cat, const ScanPlan& plan, const Events& events, CellOf cell) {
  Input in;
  in.cells.resize(plan.keys.size());
  for (const auto& e : events) {
    if (e.t < plan.min_time || e.t > plan.max_time) continue;
    in.time.push_back(e.t);
    in.event.push_back(cat.events.find(e.name));
    for (size_t k = 0; k < plan.keys.size(); ++k) in.cells[k].push_back(cell(e, std::string(cat.keys.get(plan.keys[k]))));
  }
  return in;
}

// A report's answers for `doc`: from one kernel that gets every person, and
// from two that each get some (drawn by `rng`) and merge. `input(plan, i)`
// gives person i's events; persons without events in the plan's range are
// skipped, as the scan skips them.
template <typename K, typename Spec, typename Compiled>
std::pair<nlohmann::json, nlohmann::json> kernel_answers(const nlohmann::json& doc, Result<Spec> (*parse)(const nlohmann::json&),
                                                         Result<Compiled> (*compile)(const Spec&, const Catalog&),
                                                         const Catalog& cat, const std::vector<uint32_t>& ids,
                                                         const std::function<Input(const ScanPlan&, size_t)>& input,
                                                         std::mt19937_64& rng) {
  auto spec = parse(doc);
  EXPECT_TRUE(spec.is_ok()) << spec.status().message() << "\n" << doc.dump();
  if (!spec.is_ok()) return {};
  auto compiled = compile(*spec, cat);
  EXPECT_TRUE(compiled.is_ok()) << compiled.status().message() << "\n" << doc.dump();
  if (!compiled.is_ok()) return {};
  K whole(*compiled), left(*compiled), right(*compiled);
  for (size_t i = 0; i < ids.size(); ++i) {
    const Input in = input(compiled->plan, i);
    if (in.time.empty()) continue;
    whole.add(in.view(ids[i]));
    (rng() % 2 ? left : right).add(in.view(ids[i]));
  }
  left.merge(right);
  return {whole.result(), left.result()};
}

}  // namespace cairn::query
