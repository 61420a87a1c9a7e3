// Trends: a brute-force reference written straight from docs/QUERY.md
// ("Trends") against the engine on thousands of random small cases with
// every measure. For each period (or day) and each group the reference loops
// over all persons and events again and tests the definition literally; it
// never keeps per-person state between periods. The engine gets the same
// persons through an in-memory catalog, cut to its plan's time range as the
// scan cuts them, once into one kernel and once split over two merged ones.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/time.h"
#include "journey_fixture.h"
#include "query/period.h"
#include "query/trend.h"

namespace cairn::query {
namespace trend_test {

using nlohmann::json;
using testing::Input;
using testing::input_in_plan;
using testing::kernel_answers;
std::string json_diff(const json& want, const json& got) { return testing::json_diff(want, got, /*exact=*/true); }

constexpr Micros kSecond = kMicrosPerSecond;
constexpr Micros kMinute = 60 * kSecond;
const Micros kT0 = days_from_civil(2026, 3, 1) * kMicrosPerDay;

struct Ev {
  Micros t = 0;
  std::string name;
  std::optional<std::string> page;
  std::optional<double> n;
};

struct Person {
  std::string id;
  std::optional<std::string> country;
  std::vector<Ev> events;  // in time order
};

using Seen = std::map<std::string, uint64_t>;

// ---- the reference ----

std::string number_text(double d) { return d == std::trunc(d) ? std::to_string(static_cast<int64_t>(d)) : fmt::format("{}", d); }

class Reference {
 public:
  Reference(const json& doc, Seen& seen) : doc_(doc), seen_(seen) {
    from_ = *parse_time(doc["range"]["from"].get<std::string>());
    to_ = *parse_time(doc["range"]["to"].get<std::string>());
    zone_ = doc.value("timezone", "UTC");
    tz_ = std::make_shared<TimeZone>(*TimeZone::parse(zone_));
    period_ = doc.value("period", "day");
    if (doc.contains("session_gap")) gap_ = *parse_duration(doc["session_gap"].get<std::string>());
    for (int64_t d = local_day(from_, *tz_); d <= local_day(to_ - 1, *tz_); ++d) days_.push_back(d);
    for (int64_t d : days_)
      if (starts_.empty() || starts_.back() != start_of(d)) starts_.push_back(start_of(d));
  }

  json answer(const std::vector<Person>& persons) {
    persons_ = &persons;
    json periods = json::array();
    for (int64_t s : starts_) periods.push_back(day_label(s));
    const size_t ns = doc_["series"].size();
    // Every label seen on an event a series looks at.
    std::set<std::string> labels;
    const bool breakdown = doc_.contains("breakdown");
    for (size_t s = 0; breakdown && s < ns; ++s)
      for (const Person& p : persons)
        for (size_t i = 0; i < p.events.size(); ++i)
          if (looked_at(s, p, i)) labels.insert(label(p, p.events[i]));
    std::vector<std::string> order(labels.begin(), labels.end());
    std::vector<json> totals;
    for (const std::string& l : order) totals.push_back(column(0, [&](const std::string& x) { return x == l; }).second);
    std::vector<size_t> idx(order.size());
    for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
    std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) {
      if (totals[a].is_null() != totals[b].is_null()) return totals[b].is_null();
      return !totals[a].is_null() && totals[a].get<double>() > totals[b].get<double>();
    });
    const size_t limit = breakdown ? doc_["breakdown"].value("limit", 10u) : 0;
    std::vector<std::pair<std::string, std::function<bool(const std::string&)>>> groups;
    std::set<std::string> top;
    for (size_t r = 0; r < std::min(limit, idx.size()); ++r) {
      const std::string l = order[idx[r]];
      top.insert(l);
      groups.emplace_back(l, [l](const std::string& x) { return x == l; });
    }
    if (idx.size() > limit) {
      groups.emplace_back("other", [top](const std::string& x) { return !top.count(x); });
      ++seen_["group other"];
    }
    auto all = [](const std::string&) { return true; };
    json series = json::array();
    std::vector<std::vector<std::pair<json, json>>> cols(groups.size() + 1);  // [group + 1][series]
    for (size_t s = 0; s < ns; ++s) {
      cols[0].push_back(column(s, all));
      for (size_t g = 0; g < groups.size(); ++g) cols[g + 1].push_back(column(s, groups[g].second));
    }
    for (size_t s = 0; s < ns; ++s) {
      json j{{"name", doc_["series"][s]["name"]}, {"values", cols[0][s].first}, {"total", cols[0][s].second}};
      if (breakdown) {
        j["breakdown"] = json::array();
        for (size_t g = 0; g < groups.size(); ++g)
          j["breakdown"].push_back(json{{"value", groups[g].first}, {"values", cols[g + 1][s].first}, {"total", cols[g + 1][s].second}});
      }
      series.push_back(std::move(j));
    }
    json formulas = json::array();
    for (const json& f : doc_.value("formulas", json::array())) {
      auto eval = [&](const std::vector<std::pair<json, json>>& col) {
        json values = json::array();
        for (size_t p = 0; p < starts_.size(); ++p) {
          std::vector<json> in;
          for (const auto& c : col) in.push_back(c.first[p]);
          values.push_back(formula(f["formula"].get<std::string>(), in));
        }
        std::vector<json> in;
        for (const auto& c : col) in.push_back(c.second);
        return std::make_pair(values, formula(f["formula"].get<std::string>(), in));
      };
      const auto [values, total] = eval(cols[0]);
      json j{{"name", f["name"]}, {"formula", f["formula"]}, {"values", values}, {"total", total}};
      if (breakdown) {
        j["breakdown"] = json::array();
        for (size_t g = 0; g < groups.size(); ++g) {
          const auto [gv, gt] = eval(cols[g + 1]);
          j["breakdown"].push_back(json{{"value", groups[g].first}, {"values", gv}, {"total", gt}});
        }
      }
      formulas.push_back(std::move(j));
    }
    return json{{"type", "trend"}, {"period", period_}, {"timezone", zone_}, {"periods", periods},
                {"series", series}, {"formulas", formulas}};
  }

 private:
  int64_t start_of(int64_t day) const {
    if (period_ == "day") return day;
    const Civil c = civil_from_days(day);
    if (period_ == "month") return days_from_civil(c.y, c.m, 1);
    int64_t d = day;
    while (civil_weekday(d) != 1) --d;  // back to Monday
    return d;
  }
  // 0 = Sunday, 1 = Monday ... (1970-01-01 was a Thursday).
  static int civil_weekday(int64_t day) { return static_cast<int>(((day % 7) + 7 + 4) % 7); }

  int64_t day(const Ev& e) const { return local_day(e.t, *tz_); }
  bool in_range(const Ev& e) const { return e.t >= from_ && e.t < to_; }

  static bool holds(const json& f, const Person& p, const Ev& e) {
    const std::string key = f.value("property", f.value("trait", ""));
    std::optional<std::string> s;
    std::optional<double> n;
    if (key == "page") s = e.page;
    if (key == "n") n = e.n;
    if (key == "country") s = p.country;
    const std::string op = f["op"];
    if (op == "exists") return s || n;
    if (op == "gt") return n && *n > f["value"].get<double>();
    const bool eq = f["value"].is_string() ? s && *s == f["value"].get<std::string>()
                                           : n && *n == f["value"].get<double>();
    return op == "eq" ? eq : !eq;
  }
  bool person_passes(const Person& p) const {
    for (const json& f : doc_.value("filters", json::array()))
      if (f.contains("trait") && !holds(f, p, Ev{})) return false;
    return true;
  }
  bool event_passes(const Person& p, const Ev& e) const {
    for (const json& f : doc_.value("filters", json::array()))
      if (f.contains("property") && !holds(f, p, e)) return false;
    return true;
  }
  static bool matches(const json& def, const Person& p, const Ev& e) {
    if (def["event"] != e.name) return false;
    for (const json& f : def.value("where", json::array()))
      if (!holds(f, p, e)) return false;
    return true;
  }
  // Passes the filters and is one of the series' events (any event without one).
  bool qualifies(size_t s, const Person& p, const Ev& e) const {
    const json& sj = doc_["series"][s];
    if (!person_passes(p) || !event_passes(p, e)) return false;
    if (sj.contains("any_of")) {
      for (const json& d : sj["any_of"])
        if (matches(d, p, e)) return true;
      return false;
    }
    return !sj.contains("event") || matches(sj, p, e);
  }
  std::string label(const Person& p, const Ev& e) const {
    const json& b = doc_["breakdown"];
    if (b.contains("trait")) return b["trait"] == "country" && p.country ? *p.country : "(none)";
    if (b["property"] == "page" && e.page) return *e.page;
    if (b["property"] == "n" && e.n) return number_text(*e.n);
    return "(none)";
  }
  std::string measure(size_t s) const { return doc_["series"][s].value("measure", "count"); }
  bool active(const std::string& m) const { return m == "dau" || m == "wau" || m == "mau" || m == "stickiness"; }
  bool sessions(const std::string& m) const { return m == "sessions" || m == "session_duration" || m == "sessions_per_person"; }

  // A person's sessions of series s: index ranges [first, last] over the
  // qualifying events in the range.
  std::vector<std::pair<const Ev*, const Ev*>> sessions_of(size_t s, const Person& p) const {
    std::vector<std::pair<const Ev*, const Ev*>> out;
    for (const Ev& e : p.events) {
      if (!in_range(e) || !qualifies(s, p, e)) continue;
      if (!out.empty() && e.t - out.back().second->t <= gap_) {
        if (e.t - out.back().second->t == gap_) ++seen_["gap of exactly session_gap"];
        out.back().second = &e;
      } else {
        if (!out.empty() && e.t - out.back().second->t == gap_ + kSecond) ++seen_["gap one second over session_gap"];
        out.emplace_back(&e, &e);
      }
    }
    return out;
  }

  bool looked_at(size_t s, const Person& p, size_t i) const {
    const Ev& e = p.events[i];
    if (!qualifies(s, p, e)) return false;
    const std::string m = measure(s);
    if (active(m)) return e.t < to_ && day(e) >= days_.front() - 29;
    // Session series too: every qualifying event in the range shows its
    // group (QUERY.md), though a session counts in its first event's only.
    return in_range(e);
  }

  // The values per period and the total of series s over groups `in`.
  std::pair<json, json> column(size_t s, const std::function<bool(const std::string&)>& in) {
    json values = json::array();
    for (size_t k = 0; k < starts_.size(); ++k) values.push_back(value(s, in, [&](int64_t d) { return start_of(d) == starts_[k]; }));
    return {values, value(s, in, [](int64_t) { return true; })};
  }

  json value(size_t s, const std::function<bool(const std::string&)>& in, const std::function<bool(int64_t)>& in_period) {
    const std::string m = measure(s);
    const json& sj = doc_["series"][s];
    const bool breakdown = doc_.contains("breakdown");
    auto counted = [&](const Person& p, const Ev& e) {
      return in_range(e) && in_period(day(e)) && qualifies(s, p, e) && (!breakdown || in(label(p, e)));
    };
    if (active(m)) {
      double dau = 0, wau = 0, mau = 0, n = 0;
      for (int64_t d : days_) {
        if (!in_period(d)) continue;
        ++n;
        for (const Person& p : *persons_) {
          bool w[3] = {false, false, false};
          for (const Ev& e : p.events) {
            if (e.t >= to_ || !qualifies(s, p, e) || (breakdown && !in(label(p, e)))) continue;
            const int64_t back = d - day(e);
            if (back == 0) w[0] = true;
            if (back >= 0 && back < 7) w[1] = true;
            if (back >= 0 && back < 30) w[2] = true;
            if (back >= 1 && back < 30 && e.t < from_) ++seen_["event before the range in a window"];
          }
          dau += w[0];
          wau += w[1];
          mau += w[2];
        }
      }
      if (m == "dau") return dau / n;
      if (m == "wau") return wau / n;
      if (m == "mau") return mau / n;
      if (mau > 0 && dau < mau) ++seen_["stickiness below 1"];
      return mau == 0 ? json(nullptr) : json(dau / mau);
    }
    if (sessions(m)) {
      uint64_t n = 0, persons = 0;
      double duration = 0;
      for (const Person& p : *persons_) {
        bool any = false;
        for (const auto& [first, last] : sessions_of(s, p)) {
          if (!in_period(day(*first)) || (breakdown && !in(label(p, *first)))) continue;
          ++n;
          duration += static_cast<double>(last->t - first->t) / kSecond;
          any = true;
        }
        persons += any;
      }
      if (m == "sessions") return n;
      if (m == "session_duration") return n ? json(duration / static_cast<double>(n)) : json(nullptr);
      return persons ? json(static_cast<double>(n) / static_cast<double>(persons)) : json(nullptr);
    }
    if (m == "persons") {
      uint64_t n = 0;
      for (const Person& p : *persons_) {
        bool any = false;
        for (const Ev& e : p.events) any = any || counted(p, e);
        n += any;
      }
      return n;
    }
    uint64_t n = 0;
    std::vector<double> v;
    for (const Person& p : *persons_)
      for (const Ev& e : p.events) {
        if (!counted(p, e)) continue;
        ++n;
        if (sj.contains("property") && sj["property"] == "n" && e.n) v.push_back(*e.n);
      }
    if (m == "count") return n;
    std::sort(v.begin(), v.end());
    double sum = 0;
    for (double x : v) sum += x;
    if (m == "sum") return sum;
    if (v.empty()) return nullptr;
    if (m == "avg") return sum / static_cast<double>(v.size());
    if (m == "min") return v.front();
    if (m == "max") return v.back();
    if (m == "median") return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
    const double q = m == "p90" ? 90 : sj["percentile"].get<double>();
    // Nearest rank: the smallest value with at least q% of the values at or below it.
    for (size_t k = 1; k <= v.size(); ++k)
      if (100.0 * static_cast<double>(k) >= q * static_cast<double>(v.size())) return v[k - 1];
    return v.back();
  }

  // The formulas the random documents use, evaluated by hand.
  json formula(const std::string& text, const std::vector<json>& in) {
    auto num = [&](size_t i) -> std::optional<double> {
      return in[i].is_null() ? std::nullopt : std::optional<double>(in[i].get<double>());
    };
    auto out = [&](std::optional<double> v) { return v ? json(*v) : json(nullptr); };
    if (text == "s0 / s1") {
      if (num(1) && *num(1) == 0) ++seen_["formula divides by zero"];
      return num(0) && num(1) && *num(1) != 0 ? out(*num(0) / *num(1)) : json(nullptr);
    }
    if (text == "(s0 + 1) * 2") return num(0) ? out((*num(0) + 1) * 2) : json(nullptr);
    if (text == "s0 - s1 / 2") return num(0) && num(1) ? out(*num(0) - *num(1) / 2) : json(nullptr);
    if (text == "-s0 * 3 + s0") return num(0) ? out(-*num(0) * 3 + *num(0)) : json(nullptr);
    ADD_FAILURE() << "formula " << text;
    return nullptr;
  }

  json doc_;
  Seen& seen_;
  Micros from_ = 0, to_ = 0, gap_ = 30 * kMinute;
  std::string zone_, period_;
  std::shared_ptr<TimeZone> tz_;
  std::vector<int64_t> days_, starts_;
  const std::vector<Person>* persons_ = nullptr;
};

// ---- the engine's side ----

const std::vector<std::string> kPages = {"/a", "/b", "/c"};
const std::vector<std::string> kCountries = {"DE", "US"};

struct Catalogued {
  Catalog cat;
  std::vector<uint32_t> ids;
};

Catalogued catalog_of(std::mt19937_64& rng, const std::vector<Person>& persons) {
  Catalogued out;
  auto intern = [&](StringPool& pool, std::vector<std::string> texts) {
    std::shuffle(texts.begin(), texts.end(), rng);
    for (const std::string& t : texts) pool.intern(t);
  };
  intern(out.cat.events, {"e0", "e1", "e2", "e3"});
  intern(out.cat.keys, {"page", "n", "country"});
  std::vector<std::string> strings = kPages;
  strings.insert(strings.end(), kCountries.begin(), kCountries.end());
  intern(out.cat.strings(), strings);
  for (const Person& p : persons) {
    const uint32_t id = out.cat.intern_id(p.id, true);
    out.ids.push_back(id);
    if (p.country)
      out.cat.set_trait(id, StoredProp{out.cat.keys.find("country"), ValueType::kString, out.cat.strings().find(*p.country)});
  }
  return out;
}

Input input_of(const Catalog& cat, const ScanPlan& plan, const Person& p) {
  return input_in_plan(cat, plan, p.events, [&](const Ev& e, const std::string& key) {
    if (key == "page" && e.page) return Cell{true, ValueType::kString, cat.strings().find(*e.page)};
    if (key == "n" && e.n) return Cell{true, ValueType::kNumber, std::bit_cast<uint64_t>(*e.n)};
    return Cell{};
  });
}

std::pair<json, json> engine_answers(const json& doc, const std::vector<Person>& persons, std::mt19937_64& rng) {
  const Catalogued c = catalog_of(rng, persons);
  return kernel_answers<TrendKernel>(
      doc, parse_trend, compile_trend, c.cat, c.ids,
      [&](const ScanPlan& plan, size_t i) { return input_of(c.cat, plan, persons[i]); }, rng);
}

// ---- random cases ----

template <typename T>
T pick(std::mt19937_64& rng, const std::vector<T>& v) {
  return v[rng() % v.size()];
}

json random_filter(std::mt19937_64& rng, bool trait) {
  if (trait) return json{{"trait", "country"}, {"op", pick<std::string>(rng, {"eq", "neq"})}, {"value", "DE"}};
  return pick<json>(rng, {json{{"property", "page"}, {"op", "eq"}, {"value", "/a"}},
                          json{{"property", "page"}, {"op", "neq"}, {"value", "/b"}},
                          json{{"property", "n"}, {"op", "gt"}, {"value", 1}},
                          json{{"property", "n"}, {"op", "exists"}}});
}

json random_series(std::mt19937_64& rng, size_t i) {
  static const std::vector<std::string> kMeasureNames = {
      "count", "persons", "sum", "avg", "min", "max", "median", "p90", "percentile", "sessions", "session_duration",
      "sessions_per_person", "dau", "wau", "mau", "stickiness"};
  json s{{"name", "s" + std::to_string(i)}};
  const std::string m = pick(rng, kMeasureNames);
  if (m != "count" || rng() % 2) s["measure"] = m;
  if (m == "sum" || m == "avg" || m == "min" || m == "max" || m == "median" || m == "p90" || m == "percentile")
    s["property"] = rng() % 6 ? "n" : "page";
  if (m == "percentile") s["percentile"] = pick<json>(rng, {50, 25, 75, 95, 100, 33.3});
  const uint64_t r = rng() % 4;
  if (r == 1) s["event"] = "e" + std::to_string(rng() % 4);
  if (r == 1 && rng() % 3 == 0) s["where"] = json::array({random_filter(rng, false)});
  if (r == 2) {
    s["any_of"] = json::array({json{{"event", "e0"}}, json{{"event", rng() % 2 ? "e1" : "e9"}}});
    if (rng() % 2) s["any_of"][1]["where"] = json::array({random_filter(rng, false)});
  }
  return s;
}

json random_doc(std::mt19937_64& rng) {
  const int64_t start = static_cast<int64_t>(rng() % 40);
  const int64_t len = rng() % 4 ? 1 + static_cast<int64_t>(rng() % 20) : 20 + static_cast<int64_t>(rng() % 50);
  const Micros from = kT0 + start * kMicrosPerDay + (rng() % 4 == 0 ? static_cast<Micros>(rng() % 24) * 3600 * kSecond : 0);
  json doc{{"type", "trend"}, {"range", {{"from", format_time(from)}, {"to", format_time(from + len * kMicrosPerDay)}}}};
  if (rng() % 3) doc["period"] = pick<std::string>(rng, {"day", "week", "month"});
  if (rng() % 2) doc["timezone"] = pick<std::string>(rng, {"UTC", "+05:30", "-08:00", "Europe/Berlin"});
  const size_t ns = 1 + rng() % 3;
  for (size_t i = 0; i < ns; ++i) doc["series"].push_back(random_series(rng, i));
  if (rng() % 2) {
    doc["formulas"].push_back(json{{"name", "f0"}, {"formula", ns > 1 ? pick<std::string>(rng, {"s0 / s1", "s0 - s1 / 2"}) : "(s0 + 1) * 2"}});
    if (rng() % 2) doc["formulas"].push_back(json{{"name", "f1"}, {"formula", "-s0 * 3 + s0"}});
  }
  if (rng() % 3 == 0) doc["session_gap"] = pick<std::string>(rng, {"10m", "1h", "30m", "0s"});
  if (rng() % 3 == 0) {
    doc["filters"].push_back(random_filter(rng, rng() % 2));
    if (rng() % 3 == 0) doc["filters"].push_back(random_filter(rng, rng() % 2));
  }
  if (rng() % 3 == 0) {
    const uint64_t b = rng() % 4;
    doc["breakdown"] = b == 0 ? json{{"trait", "country"}} : json{{"property", b == 1 ? "n" : b == 2 ? "page" : "zz"}};
    if (rng() % 2) doc["breakdown"]["limit"] = 1 + rng() % 3;
  }
  return doc;
}

// Events of e0..e3 from 35 days before kT0 to 100 days after, with gaps of
// seconds, minutes, exactly 30 minutes (and one second more), hours and days.
Person random_person(std::mt19937_64& rng, size_t index) {
  Person p;
  p.id = "u" + std::to_string(index);
  if (rng() % 3) p.country = pick(rng, kCountries);
  const size_t n = 1 + rng() % (rng() % 8 ? 12 : 30);
  Micros t = kT0 - 35 * kMicrosPerDay + static_cast<Micros>(rng() % (120 * 24)) * 3600 * kSecond;
  for (size_t i = 0; i < n; ++i) {
    switch (rng() % 10) {
      case 0: break;
      case 1: t += static_cast<Micros>(rng() % 100) * kSecond; break;
      case 2: t += static_cast<Micros>(rng() % 40) * kMinute; break;
      case 3: t += 30 * kMinute; break;
      case 4: t += 30 * kMinute + kSecond; break;
      case 5: t += 10 * kMinute; break;
      case 6: t += static_cast<Micros>(rng() % 30) * 3600 * kSecond; break;
      default: t += static_cast<Micros>(rng() % 12) * kMicrosPerDay + static_cast<Micros>(rng() % 3600) * kSecond; break;
    }
    Ev e;
    e.t = t;
    e.name = "e" + std::to_string(rng() % 4);
    if (rng() % 4) e.page = pick(rng, kPages);
    if (rng() % 3) e.n = pick<double>(rng, {1, 2, 2.5, -3, 7});
    p.events.push_back(std::move(e));
  }
  return p;
}

std::string describe(const std::vector<Person>& persons) {
  std::string out;
  for (const Person& p : persons) {
    out += p.id + (p.country ? " " + *p.country : "") + ":";
    for (const Ev& e : p.events)
      out += fmt::format(" {}@{}{}{}", e.name, format_time(e.t), e.page ? ",page=" + *e.page : "",
                         e.n ? ",n=" + number_text(*e.n) : "");
    out += "\n";
  }
  return out;
}

TEST(Trend, EngineMatchesReferenceOnRandomCases) {
  std::mt19937_64 rng(20261125);
  Seen seen;
  std::map<std::string, uint64_t> rounds;
  for (int round = 0; round < 3000; ++round) {
    const json doc = random_doc(rng);
    std::vector<Person> persons;
    const size_t n = 3 + rng() % 8;
    for (size_t i = 0; i < n; ++i) persons.push_back(random_person(rng, i));
    const auto [whole, merged] = engine_answers(doc, persons, rng);
    ASSERT_FALSE(HasFailure());
    Reference ref(doc, seen);
    const json want = ref.answer(persons);
    for (const auto& [what, got] : {std::pair<const char*, const json&>{"one kernel", whole}, {"merged kernels", merged}}) {
      const std::string diff = json_diff(want, got);
      ASSERT_EQ(diff, "") << "round " << round << ", " << what << "\nquery: " << doc.dump() << "\npersons:\n"
                          << describe(persons) << "want: " << want.dump() << "\ngot:  " << got.dump();
    }
    for (const json& s : doc["series"]) {
      const json& out = *std::find_if(want["series"].begin(), want["series"].end(), [&](const json& o) { return o["name"] == s["name"]; });
      const bool nonzero = out["total"].is_number() && out["total"].get<double>() != 0;
      ++rounds[s.value("measure", "count") + (nonzero ? " nonzero" : " zero or null")];
    }
    std::set<std::string> active_defs;
    for (const json& s : doc["series"]) {
      const std::string m = s.value("measure", "count");
      if ((m == "dau" || m == "wau" || m == "mau" || m == "stickiness") &&
          !active_defs.insert(s.value("event", json()).dump() + s.value("where", json()).dump() + s.value("any_of", json()).dump()).second)
        ++rounds["active series sharing one definition"];
    }
    if (doc.contains("breakdown")) ++rounds["breakdown"];
    if (doc.contains("formulas")) ++rounds["formulas"];
    if (doc.value("period", "day") != "day") ++rounds["week or month"];
    if (doc.value("timezone", "UTC") == "Europe/Berlin") ++rounds["Europe/Berlin"];
  }
  for (const auto& [what, n] : rounds) EXPECT_GT(n, what.ends_with("zero or null") ? 0u : 50u) << what;
  for (const char* m : {"count", "persons", "sum", "avg", "min", "max", "median", "p90", "percentile", "sessions",
                        "session_duration", "sessions_per_person", "dau", "wau", "mau", "stickiness"})
    EXPECT_GT(rounds[std::string(m) + " nonzero"], 50u) << m;
  for (const char* what : {"group other", "gap of exactly session_gap", "gap one second over session_gap",
                           "event before the range in a window", "stickiness below 1", "formula divides by zero"})
    EXPECT_GT(seen[what], 50u) << what;
}

}  // namespace trend_test
}  // namespace cairn::query
