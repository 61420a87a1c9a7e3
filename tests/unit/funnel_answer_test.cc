// The funnel's whole answer against a brute-force reference on random
// persons and random documents: the per-step counts, conversions, drops and
// "what they did instead", the time and event-count statistics, breakdowns
// by an entry-event property or a trait (top N and "other"), the trend by
// entry day or week, conversion by entry point, persons lists and the
// comparison of two breakdown values. funnel_test.cc checks each person's
// counted attempt under every step option (optional steps, branches,
// filters, exclusions); this test checks what the kernel makes of those
// attempts, from one kernel and from two merged.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

#include "journey_fixture.h"
#include "query/funnel.h"

namespace cairn::query {
namespace funnel_answer_test {

using nlohmann::json;
using testing::Ev;
using testing::Person;
using testing::Val;

const Micros kBase = 1767571200LL * kMicrosPerSecond;  // 2026-01-05T00:00:00Z, a Monday

std::string day_text(int64_t day) {
  const Civil c = civil_from_days(day);
  return fmt::format("{:04}-{:02}-{:02}", c.y, c.m, c.d);
}

struct Case {
  json doc;
  std::vector<std::string> steps;
  std::string order = "ordered";
  Micros window = 0;
  Micros from = INT64_MIN, to = INT64_MAX;
  std::string breakdown_property, breakdown_trait;
  size_t limit = 10;
  std::string trend;  // "", "day" or "week"
  std::string entry_point;
  int persons_step = -1;
  bool persons_converted = true;
  std::vector<std::string> compare;
};

// ---- the reference: short and obviously right ----

struct Attempt {
  int reached = -1;
  std::vector<size_t> index;  // per passed step 0..reached
};

// The counted attempt: each entry in the range, its steps taken greedily at
// the earliest event allowed; the furthest, then the earliest entry.
Attempt counted(const Case& c, const Person& p) {
  const auto& ev = p.events;
  const size_t s = c.steps.size();
  Attempt best;
  for (size_t i = 0; i < ev.size(); ++i) {
    if (ev[i].name != c.steps[0] || ev[i].t < c.from || ev[i].t >= c.to) continue;
    Attempt a;
    a.reached = 0;
    a.index = {i};
    auto in_window = [&](size_t j) { return ev[j].t - ev[i].t <= c.window; };
    if (c.order == "any") {
      for (size_t k = 1; k < s; ++k) {
        size_t found = SIZE_MAX;
        for (size_t j = i + 1; j < ev.size() && in_window(j); ++j)
          if (ev[j].name == c.steps[k]) {
            found = j;
            break;
          }
        if (found == SIZE_MAX) break;
        a.index.push_back(found);
        a.reached = static_cast<int>(k);
      }
    } else {
      size_t pos = i;
      for (size_t k = 1; k < s; ++k) {
        size_t found = SIZE_MAX;
        for (size_t j = pos + 1; j < ev.size() && in_window(j); ++j) {
          if (ev[j].name == c.steps[k]) {
            found = j;
            break;
          }
          if (c.order == "strict") break;
        }
        if (found == SIZE_MAX) break;
        a.index.push_back(found);
        a.reached = static_cast<int>(k);
        pos = found;
      }
    }
    if (a.reached > best.reached) best = a;
  }
  return best;
}

struct Group {
  std::vector<uint64_t> persons;
  std::vector<std::vector<Micros>> from_previous, from_start, events;
  std::vector<std::map<std::string, uint64_t>> instead;  // per missed step: next event name -> persons
  explicit Group(size_t s) : persons(s, 0), from_previous(s), from_start(s), events(s), instead(s) {}
};

json stats_of(std::vector<Micros> v, double unit) {
  if (v.empty()) return json{{"median", nullptr}, {"mean", nullptr}, {"p90", nullptr}, {"count", 0}};
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  double sum = 0;
  for (Micros x : v) sum += static_cast<double>(x);
  const double median = n % 2 ? static_cast<double>(v[n / 2]) : (static_cast<double>(v[n / 2 - 1]) + static_cast<double>(v[n / 2])) / 2;
  const size_t r90 = static_cast<size_t>(std::ceil(0.9 * static_cast<double>(n))) - 1;
  return json{{"median", median / unit}, {"mean", sum / static_cast<double>(n) / unit},
              {"p90", static_cast<double>(v[r90]) / unit}, {"count", n}};
}

json steps_of(const Case& c, const Group& g, const Catalog& cat) {
  json steps = json::array();
  const double entered = static_cast<double>(g.persons[0]);
  for (size_t k = 0; k < c.steps.size(); ++k) {
    json s{{"step", k}, {"label", c.steps[k]}, {"persons", g.persons[k]}};
    s["conversion_from_start"] = entered > 0 ? static_cast<double>(g.persons[k]) / entered : 0.0;
    if (k == 0) {
      s["conversion_from_previous"] = entered > 0 ? 1.0 : 0.0;
      s["dropped"] = 0;
    } else {
      const double prev = static_cast<double>(g.persons[k - 1]);
      s["conversion_from_previous"] = prev > 0 ? static_cast<double>(g.persons[k]) / prev : 0.0;
      s["dropped"] = g.persons[k - 1] - g.persons[k];
      // Most persons first, then by event id ("(nothing)" after every event).
      std::vector<std::pair<std::string, uint64_t>> top(g.instead[k].begin(), g.instead[k].end());
      auto id = [&](const std::string& name) { return name == "(nothing)" ? UINT32_MAX : cat.events.find(name); };
      std::sort(top.begin(), top.end(), [&](const auto& a, const auto& b) {
        if (a.second != b.second) return a.second > b.second;
        return id(a.first) < id(b.first);
      });
      json instead = json::array();
      for (size_t i = 0; i < top.size() && i < 5; ++i) instead.push_back(json{{"event", top[i].first}, {"persons", top[i].second}});
      s["dropped_next_events"] = instead;
      s["time_from_previous"] = stats_of(g.from_previous[k], static_cast<double>(kMicrosPerSecond));
      s["time_from_start"] = stats_of(g.from_start[k], static_cast<double>(kMicrosPerSecond));
      s["events_from_start"] = stats_of(g.events[k], 1.0);
    }
    steps.push_back(s);
  }
  return steps;
}

json reference(const Case& c, const std::vector<Person>& persons, const Catalog& cat) {
  const size_t s = c.steps.size();
  Group total(s);
  std::map<std::string, Group> groups;
  std::map<int64_t, std::pair<uint64_t, uint64_t>> trend;
  std::map<std::string, std::pair<uint64_t, uint64_t>> entry_points;
  std::vector<std::string> listed;
  for (const Person& p : persons) {
    const Attempt a = counted(c, p);
    if (a.reached < 0) continue;
    const auto& ev = p.events;
    const bool converted = a.reached == static_cast<int>(s) - 1;
    const Micros t0 = ev[a.index[0]].t;
    auto add = [&](Group& g) {
      for (int k = 0; k <= a.reached; ++k) ++g.persons[static_cast<size_t>(k)];
      // "Previous": the step passed just before in time (arrival order on ties).
      std::vector<size_t> done(static_cast<size_t>(a.reached) + 1);
      for (size_t k = 0; k < done.size(); ++k) done[k] = k;
      std::stable_sort(done.begin(), done.end(), [&](size_t x, size_t y) { return ev[a.index[x]].t < ev[a.index[y]].t; });
      for (size_t i = 1; i < done.size(); ++i) {
        const size_t k = done[i];
        g.from_previous[k].push_back(ev[a.index[k]].t - ev[a.index[done[i - 1]]].t);
        g.from_start[k].push_back(ev[a.index[k]].t - t0);
        g.events[k].push_back(static_cast<Micros>(a.index[k] - a.index[0]));
      }
      if (!converted) {
        // The event after the last passed step's, among those the scan reads
        // (up to the range's end plus the window).
        const size_t next = a.index.back() + 1;
        const Micros read_to = c.to == INT64_MAX ? INT64_MAX : c.to + c.window;
        const bool any = next < ev.size() && ev[next].t <= read_to;
        ++g.instead[static_cast<size_t>(a.reached) + 1][any ? ev[next].name : "(nothing)"];
      }
    };
    add(total);
    if (!c.breakdown_property.empty() || !c.breakdown_trait.empty()) {
      const Val& v = c.breakdown_property.empty() ? testing::get(p.traits, c.breakdown_trait)
                                                  : testing::get(ev[a.index[0]].props, c.breakdown_property);
      add(groups.try_emplace(testing::text_of(v), s).first->second);
    }
    if (!c.trend.empty()) {
      int64_t day = t0 / kMicrosPerDay;
      if (c.trend == "week") day -= ((day % 7) + 7 + 3) % 7;
      ++trend[day].first;
      trend[day].second += converted;
    }
    if (!c.entry_point.empty()) {
      std::string label = "(none)";  // the first touch: the first event up to the entry with the property
      for (size_t i = 0; i <= a.index[0]; ++i)
        if (const Val& v = testing::get(ev[i].props, c.entry_point); v.type != Val::kNone) {
          label = testing::text_of(v);
          break;
        }
      ++entry_points[label].first;
      entry_points[label].second += converted;
    }
    if (c.persons_step >= 0) {
      const int k = c.persons_step;
      if (c.persons_converted ? k <= a.reached : k == a.reached + 1) listed.push_back(p.id);
    }
  }
  json out{{"persons", total.persons[0]}, {"steps", steps_of(c, total, cat)}};
  if (!c.breakdown_property.empty() || !c.breakdown_trait.empty()) {
    std::vector<std::pair<std::string, const Group*>> order;
    for (const auto& [label, g] : groups) order.emplace_back(label, &g);
    std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
      if (a.second->persons[0] != b.second->persons[0]) return a.second->persons[0] > b.second->persons[0];
      return a.first < b.first;
    });
    json list = json::array();
    Group other(s);
    bool has_other = false;
    for (size_t i = 0; i < order.size(); ++i) {
      const Group& g = *order[i].second;
      if (i < c.limit) {
        list.push_back(json{{"value", order[i].first}, {"persons", g.persons[0]}, {"steps", steps_of(c, g, cat)}});
        continue;
      }
      has_other = true;
      for (size_t k = 0; k < s; ++k) {
        other.persons[k] += g.persons[k];
        other.from_previous[k].insert(other.from_previous[k].end(), g.from_previous[k].begin(), g.from_previous[k].end());
        other.from_start[k].insert(other.from_start[k].end(), g.from_start[k].begin(), g.from_start[k].end());
        other.events[k].insert(other.events[k].end(), g.events[k].begin(), g.events[k].end());
        for (const auto& [name, n] : g.instead[k]) other.instead[k][name] += n;
      }
    }
    if (has_other) list.push_back(json{{"value", "other"}, {"persons", other.persons[0]}, {"steps", steps_of(c, other, cat)}});
    out["breakdown"] = list;
    if (!c.compare.empty()) {
      uint64_t n[2] = {0, 0}, x[2] = {0, 0};
      json cmp;
      for (int i = 0; i < 2; ++i) {
        if (const auto it = groups.find(c.compare[static_cast<size_t>(i)]); it != groups.end()) {
          n[i] = it->second.persons[0];
          x[i] = it->second.persons[s - 1];
        }
        cmp[i == 0 ? "a" : "b"] = json{{"value", c.compare[static_cast<size_t>(i)]}, {"persons", n[i]}, {"converted", x[i]}};
      }
      if (n[0] > 0 && n[1] > 0) {
        const double p1 = static_cast<double>(x[0]) / static_cast<double>(n[0]);
        const double p2 = static_cast<double>(x[1]) / static_cast<double>(n[1]);
        const double pooled = static_cast<double>(x[0] + x[1]) / static_cast<double>(n[0] + n[1]);
        const double se = std::sqrt(pooled * (1 - pooled) * (1.0 / static_cast<double>(n[0]) + 1.0 / static_cast<double>(n[1])));
        cmp["z"] = se == 0 ? 0.0 : (p1 - p2) / se;
        cmp["p_value"] = se == 0 ? 1.0 : std::erfc(std::fabs((p1 - p2) / se) / std::sqrt(2.0));
      }
      out["comparison"] = cmp;
    }
  }
  if (!c.trend.empty()) {
    json list = json::array();
    for (const auto& [day, v] : trend)
      list.push_back(json{{"period", day_text(day)}, {"persons", v.first}, {"converted", v.second},
                          {"conversion", static_cast<double>(v.second) / static_cast<double>(v.first)}});
    out["trend"] = list;
  }
  if (!c.entry_point.empty()) {
    std::vector<std::pair<std::string, std::pair<uint64_t, uint64_t>>> rows(entry_points.begin(), entry_points.end());
    std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
      if (a.second.first != b.second.first) return a.second.first > b.second.first;
      return a.first < b.first;
    });
    json list = json::array();
    for (const auto& [label, v] : rows)
      list.push_back(json{{"value", label}, {"persons", v.first}, {"converted", v.second},
                          {"conversion", static_cast<double>(v.second) / static_cast<double>(v.first)}});
    out["entry_points"] = list;
  }
  if (c.persons_step >= 0) {
    std::sort(listed.begin(), listed.end());
    out["persons_list"] = json{{"step", static_cast<size_t>(c.persons_step)}, {"status", c.persons_converted ? "converted" : "dropped"},
                               {"persons", listed}};
  }
  return out;
}

// ---- random cases ----

std::vector<Person> random_persons(std::mt19937_64& rng) {
  std::vector<Person> persons(30 + rng() % 30);
  for (size_t i = 0; i < persons.size(); ++i) {
    Person& p = persons[i];
    p.id = fmt::format("p{:03}", i);
    if (rng() % 3) p.traits["plan"] = Val::str(rng() % 2 ? "pro" : "free");
    Micros t = kBase + static_cast<Micros>(rng() % (3 * 24 * 60)) * 60 * kMicrosPerSecond;
    const size_t n = 1 + rng() % 12;
    for (size_t k = 0; k < n; ++k) {
      if (rng() % 4) t += static_cast<Micros>(rng() % 600) * 60 * kMicrosPerSecond;  // equal times too
      Ev e{t, fmt::format("e{}", rng() % 4), {}};
      switch (rng() % 6) {
        case 0: e.props["ch"] = Val::str("ads"); break;
        case 1: e.props["ch"] = Val::str("email"); break;
        case 2: e.props["ch"] = Val::str("seo"); break;
        case 3: e.props["ch"] = rng() % 2 ? Val::num(7) : Val::str("7"); break;  // one label, two types
        default: break;
      }
      p.events.push_back(e);
    }
  }
  return persons;
}

Case random_case(std::mt19937_64& rng) {
  Case c;
  const size_t s = 2 + rng() % 3;
  json steps = json::array();
  for (size_t k = 0; k < s; ++k) {
    c.steps.push_back(fmt::format("e{}", rng() % 4));
    steps.push_back(json{{"event", c.steps.back()}});
  }
  c.doc = json{{"type", "funnel"}, {"steps", steps}};
  static const char* kOrders[] = {"ordered", "strict", "any"};
  c.order = kOrders[rng() % 3];
  c.doc["order"] = c.order;
  const int hours = 1 + static_cast<int>(rng() % 30);
  c.window = hours * 3600LL * kMicrosPerSecond;
  c.doc["window"] = fmt::format("{}h", hours);
  if (rng() % 2) {
    const int64_t from_day = static_cast<int64_t>(rng() % 2), to_day = from_day + 1 + static_cast<int64_t>(rng() % 2);
    c.from = kBase + from_day * kMicrosPerDay;
    c.to = kBase + to_day * kMicrosPerDay;
    c.doc["range"] = json{{"from", day_text(c.from / kMicrosPerDay)}, {"to", day_text(c.to / kMicrosPerDay)}};
  }
  switch (rng() % 3) {
    case 0:
      c.breakdown_property = "ch";
      c.limit = 1 + rng() % 4;
      c.doc["breakdown"] = json{{"property", "ch"}, {"limit", c.limit}};
      break;
    case 1:
      c.breakdown_trait = "plan";
      c.doc["breakdown"] = json{{"trait", "plan"}};
      break;
    default:
      break;
  }
  if (c.doc.contains("breakdown") && rng() % 2) {
    static const char* kValues[] = {"ads", "email", "seo", "7", "pro", "free", "(none)"};
    c.compare = {kValues[rng() % 7], kValues[rng() % 7]};
    c.doc["compare"] = c.compare;
  }
  if (rng() % 3 == 0) {
    c.trend = rng() % 2 ? "day" : "week";
    c.doc["trend"] = c.trend;
  }
  if (rng() % 3 == 0) {
    c.entry_point = "ch";
    c.doc["entry_point"] = json{{"property", "ch"}};
  }
  if (rng() % 3 == 0) {
    const size_t step = rng() % s;
    c.persons_step = static_cast<int>(step);
    c.persons_converted = step == 0 || rng() % 2;  // nobody drops at the entry
    c.doc["persons"] = json{{"step", step}, {"status", c.persons_converted ? "converted" : "dropped"}};
  }
  return c;
}

TEST(FunnelAnswer, MatchesBruteForceOnRandomDocuments) {
  std::mt19937_64 rng(20261126);
  size_t converted = 0, with_groups = 0, with_other = 0, compared = 0, listed = 0;
  for (int round = 0; round < 400; ++round) {
    const std::vector<Person> persons = random_persons(rng);
    const testing::Catalogued cg = testing::catalog_of(rng, persons);
    const Case c = random_case(rng);
    const json want = reference(c, persons, cg.cat);
    const auto [whole, merged] = testing::kernel_answers<FunnelKernel>(
        c.doc, parse_funnel, compile_funnel, cg.cat, cg.ids,
        [&](const ScanPlan& plan, size_t i) { return testing::input_of(cg.cat, plan, persons[i]); }, rng);
    ASSERT_EQ(testing::json_diff(want, whole, false), "") << "round " << round << "\n" << c.doc.dump();
    ASSERT_EQ(testing::json_diff(want, merged, false), "") << "round " << round << " (merged)\n" << c.doc.dump();
    converted += want["steps"].back()["persons"].get<uint64_t>();
    with_groups += want.contains("breakdown") && want["breakdown"].size() > 1;
    with_other += want.contains("breakdown") && !want["breakdown"].empty() && want["breakdown"].back()["value"] == "other";
    compared += want.contains("comparison") && want["comparison"].contains("z");
    listed += want.contains("persons_list") && !want["persons_list"]["persons"].empty();
  }
  // The random documents reach the interesting parts, not only empty answers.
  EXPECT_GT(converted, 400u);
  EXPECT_GT(with_groups, 60u);
  EXPECT_GT(with_other, 10u);
  EXPECT_GT(compared, 10u);
  EXPECT_GT(listed, 40u);
}

}  // namespace funnel_answer_test
}  // namespace cairn::query
