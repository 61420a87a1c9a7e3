// Shared by the brute-force differential tests of the reports: small random
// journeys on plain structs (what an independent reference reads), the same
// persons as the engine sees them (an in-memory catalog whose dictionaries
// are interned in a shuffled order, so ids never sort like their texts; each
// person's events cut to a plan's time range with the plan's keys as cells),
// and a JSON comparison with a tolerance for rounding.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/time.h"
#include "query/scan.h"
#include "storage/catalog.h"

namespace cairn::testing {

struct Val {
  enum Type { kNone, kString, kNumber, kBool } type = kNone;
  std::string s;
  double d = 0;
  bool b = false;
  static Val str(std::string v) { return Val{kString, std::move(v), 0, false}; }
  static Val num(double v) { return Val{kNumber, "", v, false}; }
};
using Props = std::map<std::string, Val>;

inline const Val& get(const Props& props, const std::string& key) {
  static const Val kAbsent;
  const auto it = props.find(key);
  return it == props.end() ? kAbsent : it->second;
}

struct Ev {
  Micros t = 0;
  std::string name;
  Props props;
};

struct Person {
  std::string id;
  Props traits;
  std::vector<Ev> events;  // in (time, arrival) order
};

// A value's text: numbers without a fraction when whole, "(none)" when absent.
inline std::string text_of(const Val& v) {
  switch (v.type) {
    case Val::kString: return v.s;
    case Val::kBool: return v.b ? "true" : "false";
    case Val::kNumber: return v.d == std::trunc(v.d) ? std::to_string(static_cast<int64_t>(v.d)) : fmt::format("{}", v.d);
    case Val::kNone: break;
  }
  return "(none)";
}

// Engine side: the catalog of the persons, dictionaries interned shuffled.
struct Catalogued {
  Catalog cat;
  std::vector<uint32_t> ids;  // per person
};

inline query::Cell cell_of(const Catalog& cat, const Val& v) {
  query::Cell c;
  switch (v.type) {
    case Val::kString: c = query::Cell{true, ValueType::kString, cat.strings().find(v.s)}; break;
    case Val::kNumber:
      c.present = true;
      c.type = ValueType::kNumber;
      std::memcpy(&c.bits, &v.d, sizeof v.d);
      break;
    case Val::kBool: c = query::Cell{true, ValueType::kBool, v.b ? 1u : 0u}; break;
    case Val::kNone: break;
  }
  return c;
}

// `extra_*`: names and values a query may mention that no person has.
inline Catalogued catalog_of(std::mt19937_64& rng, const std::vector<Person>& persons,
                             const std::vector<std::string>& extra_events = {},
                             const std::vector<std::string>& extra_keys = {},
                             const std::vector<std::string>& extra_strings = {}) {
  std::set<std::string> events(extra_events.begin(), extra_events.end()), keys(extra_keys.begin(), extra_keys.end()),
      strings(extra_strings.begin(), extra_strings.end());
  auto note = [&](const Props& props) {
    for (const auto& [k, v] : props) {
      keys.insert(k);
      if (v.type == Val::kString) strings.insert(v.s);
    }
  };
  for (const Person& p : persons) {
    note(p.traits);
    for (const Ev& e : p.events) events.insert(e.name), note(e.props);
  }
  auto intern = [&](StringPool& pool, const std::set<std::string>& texts) {
    std::vector<std::string> v(texts.begin(), texts.end());
    std::shuffle(v.begin(), v.end(), rng);
    for (const std::string& t : v) pool.intern(t);
  };
  Catalogued out;
  intern(out.cat.events, events);
  intern(out.cat.keys, keys);
  intern(out.cat.strings(), strings);
  for (const Person& p : persons) {
    const uint32_t id = out.cat.intern_id(p.id, true);
    out.ids.push_back(id);
    for (const auto& [key, v] : p.traits) {
      const query::Cell c = cell_of(out.cat, v);
      out.cat.set_trait(id, StoredProp{out.cat.keys.find(key), c.type, c.bits});
    }
  }
  return out;
}

// A person's events as the scan hands them over: those inside the plan's
// time range, with the plan's keys as cells.
struct Input {
  std::vector<Micros> time;
  std::vector<uint32_t> event;
  std::vector<std::vector<query::Cell>> cells;
  query::PersonView view(uint32_t person) const {
    return query::PersonView{person, time.size(), time.data(), event.data(), &cells};
  }
};

inline Input input_of(const Catalog& cat, const query::ScanPlan& plan, const Person& p) {
  Input in;
  in.cells.resize(plan.keys.size());
  for (const Ev& e : p.events) {
    if (e.t < plan.min_time || e.t > plan.max_time) continue;
    in.time.push_back(e.t);
    in.event.push_back(cat.events.find(e.name));
    for (size_t k = 0; k < plan.keys.size(); ++k)
      in.cells[k].push_back(cell_of(cat, get(e.props, std::string(cat.keys.get(plan.keys[k])))));
  }
  return in;
}

// "" when `got` has every key of `want` with equal values (numbers to 1e-9
// relative; arrays element by element, same length); else where they differ.
// `exact`: also no keys beyond `want`'s, and integers stay integers.
inline std::string json_diff(const nlohmann::json& want, const nlohmann::json& got, bool exact,
                             const std::string& path = "$") {
  auto show = [](const nlohmann::json& j) {
    std::string s = j.dump();
    return s.size() > 300 ? s.substr(0, 300) + "..." : s;
  };
  if (want.is_number() && got.is_number()) {
    if (exact && want.is_number_float() != got.is_number_float())
      return fmt::format("{}: want {} got {} (integer and fraction)", path, show(want), show(got));
    const double a = want.get<double>(), b = got.get<double>();
    if (a == b || std::fabs(a - b) <= 1e-9 * std::max(std::fabs(a), std::fabs(b))) return "";
    return fmt::format("{}: want {} got {}", path, show(want), show(got));
  }
  if (want.type() != got.type()) return fmt::format("{}: want {} got {}", path, show(want), show(got));
  if (want.is_object()) {
    for (const auto& [k, v] : want.items()) {
      if (!got.contains(k)) return fmt::format("{}.{}: missing, want {}", path, k, show(v));
      if (std::string d = json_diff(v, got[k], exact, path + "." + k); !d.empty()) return d;
    }
    if (exact)
      for (const auto& [k, v] : got.items())
        if (!want.contains(k)) return fmt::format("{}.{}: unexpected, got {}", path, k, show(v));
    return "";
  }
  if (want.is_array()) {
    for (size_t i = 0; i < std::min(want.size(), got.size()); ++i)
      if (std::string d = json_diff(want[i], got[i], exact, fmt::format("{}[{}]", path, i)); !d.empty()) return d;
    if (want.size() != got.size())
      return fmt::format("{}: want {} elements got {}: want {} got {}", path, want.size(), got.size(), show(want), show(got));
    return "";
  }
  return want == got ? "" : fmt::format("{}: want {} got {}", path, show(want), show(got));
}

// A person's events (each with `t` and `name`) as the scan hands them over:
// those inside the plan's time range, with `cell(event, key name)` for
// each of the plan's keys.
template <typename Events, typename CellOf>
Input input_in_plan(const Catalog& cat, const query::ScanPlan& plan, const Events& events, CellOf cell) {
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
                                                         const std::function<Input(const query::ScanPlan&, size_t)>& input,
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

}  // namespace cairn::testing
