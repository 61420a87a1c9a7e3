// Retention and cohorts: a brute-force reference written straight from
// docs/QUERY.md ("Retention", "Cohorts") against the engine, on thousands of
// random small journeys and random documents that draw every option. The
// reference works on plain per-person event lists, finds periods with
// <chrono> calendar types, and answers each cell of the matrix by asking
// "is there an event that ..." over the person's events; the engine gets the
// same persons through an in-memory catalog, once into one kernel and once
// split over two merged ones.
#include <gtest/gtest.h>

#include <chrono>

#include "journey_fixture.h"
#include "query/cohort.h"

namespace cairn::query {
namespace cohort_test {

using nlohmann::json;
using testing::Ev;
using testing::Person;
using testing::Val;

constexpr Micros kHour = 3600 * kMicrosPerSecond;
const Micros kT0 = days_from_civil(2026, 1, 1) * kMicrosPerDay;

template <typename T>
const T& pick(std::mt19937_64& rng, const std::vector<T>& v) {
  return v[rng() % v.size()];
}

// ---- the reference ----

int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

struct Calendar {
  Micros offset = 0;  // fixed offsets only in these tests
  std::string period;
  // The local day of an instant.
  std::chrono::sys_days day(Micros t) const {
    return std::chrono::sys_days(std::chrono::days(floor_div(t + offset, kMicrosPerDay)));
  }
  // The first day of the period holding local day d.
  std::chrono::sys_days first(std::chrono::sys_days d) const {
    using namespace std::chrono;
    if (period == "day") return d;
    if (period == "week") return d - (weekday(d) - Monday);
    const year_month_day ymd(d);
    return sys_days(ymd.year() / ymd.month() / 1);
  }
  // Periods counted so that consecutive ones differ by one.
  int64_t index(std::chrono::sys_days d) const {
    using namespace std::chrono;
    const sys_days f = first(d);
    if (period == "day") return f.time_since_epoch().count();
    if (period == "week") return floor_div(f.time_since_epoch().count(), 7);
    const year_month_day ymd(f);
    return static_cast<int>(ymd.year()) * 12 + static_cast<int64_t>(static_cast<unsigned>(ymd.month())) - 1;
  }
  int64_t of(Micros t) const { return index(day(t)); }
  static std::string label(std::chrono::sys_days d) {
    const std::chrono::year_month_day ymd(d);
    return fmt::format("{:04d}-{:02d}-{:02d}", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                       static_cast<unsigned>(ymd.day()));
  }
};

bool equal(const Val& v, const json& x) {
  if (v.type == Val::kString) return x.is_string() && x.get<std::string>() == v.s;
  if (v.type == Val::kNumber) return x.is_number() && x.get<double>() == v.d;
  return false;
}

// The conditions these tests draw: eq, neq, gt.
bool holds(const json& f, const Val& v) {
  const std::string op = f["op"].get<std::string>();
  if (op == "eq") return equal(v, f["value"]);
  if (op == "neq") return !equal(v, f["value"]);
  return v.type == Val::kNumber && v.d > f["value"].get<double>();
}

// An event definition ({"event", "where"}) or {"any_of": [...]}; null: any event.
bool matches(const json& def, const Ev& e) {
  if (def.is_null()) return true;
  if (def.contains("any_of")) {
    for (const json& d : def["any_of"])
      if (matches(d, e)) return true;
    return false;
  }
  if (def["event"] != e.name) return false;
  if (def.contains("where"))
    for (const json& f : def["where"])
      if (!holds(f, testing::get(e.props, f["property"].get<std::string>()))) return false;
  return true;
}

json ratio(double num, double den) { return den != 0 ? json(num / den) : json(nullptr); }

struct Cell {
  uint64_t size = 0;
  std::vector<uint64_t> retained;
  // Per measure, per period: active persons, first conversions, events, sums.
  std::vector<std::vector<double>> persons, events, sums;
};

// a += x; an empty `a` (no periods yet) becomes x.
void add_into(Cell& a, const Cell& x) {
  if (a.retained.empty()) {
    a = x;
    return;
  }
  a.size += x.size;
  for (size_t k = 0; k < a.retained.size(); ++k) a.retained[k] += x.retained[k];
  for (size_t m = 0; m < a.persons.size(); ++m)
    for (size_t k = 0; k < a.persons[m].size(); ++k)
      a.persons[m][k] += x.persons[m][k], a.events[m][k] += x.events[m][k], a.sums[m][k] += x.sums[m][k];
}

json reference(const json& doc, const std::vector<Person>& persons, Micros data_end) {
  const bool retention = doc["type"] == "retention";
  Calendar cal;
  cal.period = doc.value("period", "week");
  const std::string tz = doc.value("timezone", "UTC");
  if (tz != "UTC") cal.offset = (tz[0] == '-' ? -1 : 1) * (std::stoi(tz.substr(1, 2)) * 60 + std::stoi(tz.substr(4, 2))) * 60 *
                                kMicrosPerSecond;
  const size_t periods = doc.value("periods", 12);
  const bool unbounded = doc.value("mode", "bracketed") == "unbounded";
  const bool recurring = doc.value("recurring", false);
  const json start = doc.value("start", json()), ret = doc.value("return", json());
  Micros from = INT64_MIN, to = INT64_MAX;
  if (doc.contains("range")) {
    if (doc["range"].contains("from")) from = *parse_time(doc["range"]["from"].get<std::string>());
    if (doc["range"].contains("to")) to = *parse_time(doc["range"]["to"].get<std::string>());
  }
  const json measures = doc.value("measures", json::array());
  const size_t nm = measures.size();
  const json breakdown = doc.value("breakdown", json());

  std::map<std::string, std::map<int64_t, Cell>> groups;
  std::map<int64_t, std::chrono::sys_days> first_day;  // of each period seen
  auto cell = [&](const std::string& g, int64_t c) -> Cell& {
    Cell& x = groups[g][c];
    if (x.retained.empty()) {
      x.retained.assign(periods, 0);
      x.persons.assign(nm, std::vector<double>(periods, 0));
      x.events = x.sums = x.persons;
    }
    return x;
  };
  for (const Person& p : persons) {
    bool pass = true;
    std::vector<Ev> evs;
    for (const json& f : doc.value("filters", json::array())) {
      if (f.contains("trait")) pass = pass && holds(f, testing::get(p.traits, f["trait"].get<std::string>()));
    }
    if (!pass) continue;
    for (const Ev& e : p.events) {
      bool ok = true;
      for (const json& f : doc.value("filters", json::array()))
        if (f.contains("property")) ok = ok && holds(f, testing::get(e.props, f["property"].get<std::string>()));
      if (ok) evs.push_back(e);
    }
    // The person's starts: the first ever, or the first of every period.
    std::vector<size_t> starts;
    std::set<int64_t> started;
    for (size_t i = 0; i < evs.size(); ++i) {
      if (!matches(start, evs[i])) continue;
      const bool in_range = evs[i].t >= from && evs[i].t < to;
      if (!recurring) {
        if (in_range) starts.push_back(i);
        break;
      }
      if (in_range && started.insert(cal.of(evs[i].t)).second) starts.push_back(i);
    }
    for (size_t s0 : starts) {
      const int64_t c = cal.of(evs[s0].t);
      first_day[c] = cal.first(cal.day(evs[s0].t));
      std::string group;
      if (!breakdown.is_null()) {
        if (breakdown.contains("behaviour")) {
          bool did = false;
          const bool first_period = breakdown.value("within", "first_period") == "first_period";
          const Micros within = first_period ? 0 : *parse_duration(breakdown["within"].get<std::string>());
          for (size_t j = s0; j < evs.size(); ++j)
            if (matches(breakdown["behaviour"], evs[j]) &&
                (first_period ? cal.of(evs[j].t) == c : evs[j].t - evs[s0].t < within))
              did = true;
          group = did ? "did" : "did not";
        } else if (breakdown.contains("trait")) {
          group = testing::text_of(testing::get(p.traits, breakdown["trait"].get<std::string>()));
        } else {
          group = testing::text_of(testing::get(evs[s0].props, breakdown["property"].get<std::string>()));
        }
      }
      Cell& x = cell(group, c);
      ++x.size;
      for (size_t k = 0; k < periods; ++k) {
        bool r = false;
        for (size_t j = s0; j < evs.size(); ++j) {
          const int64_t at = cal.of(evs[j].t) - c;
          if (matches(ret, evs[j]) && (unbounded ? at >= static_cast<int64_t>(k) : at == static_cast<int64_t>(k))) r = true;
        }
        x.retained[k] += r;
      }
      for (size_t m = 0; m < nm; ++m) {
        const json& mj = measures[m];
        const json def = mj.contains("event") ? json{{"event", mj["event"]}} : json();
        const std::string kind = mj["measure"];
        bool converted = false;
        for (size_t j = s0; j < evs.size(); ++j) {
          const int64_t k = cal.of(evs[j].t) - c;
          if (k >= static_cast<int64_t>(periods) || !matches(def, evs[j])) continue;
          const auto kk = static_cast<size_t>(k);
          if (kind == "conversion") {
            if (!converted) x.persons[m][kk] += 1;
            converted = true;
          } else if (kind == "active") {
            // counted below, once per period
          } else if (kind == "count") {
            x.events[m][kk] += 1;
          } else {
            const Val& v = testing::get(evs[j].props, mj["property"].get<std::string>());
            if (v.type == Val::kNumber) x.sums[m][kk] += v.d, x.events[m][kk] += 1;
          }
        }
        if (kind == "active")
          for (size_t k = 0; k < periods; ++k) {
            bool any = false;
            for (size_t j = s0; j < evs.size(); ++j)
              any = any || (cal.of(evs[j].t) - c == static_cast<int64_t>(k) && matches(def, evs[j]));
            x.persons[m][k] += any;
          }
      }
    }
  }

  // The cohorts listed: every period of a bounded range, else from the
  // first to the last with persons.
  std::map<int64_t, std::chrono::sys_days> span;
  if (from != INT64_MIN && to != INT64_MAX && from < to) {
    for (auto d = cal.day(from); d <= cal.day(to - 1); d += std::chrono::days(1)) span.emplace(cal.index(d), cal.first(d));
  } else if (!first_day.empty()) {
    for (auto d = first_day.begin()->second; d <= first_day.rbegin()->second; d += std::chrono::days(1))
      span.emplace(cal.index(d), cal.first(d));
  }
  const int64_t last = data_end == INT64_MIN ? INT64_MIN : cal.of(data_end);

  struct Total {
    uint64_t size = 0;
    std::vector<uint64_t> persons, retained;
  };
  auto answer = [&](const std::map<int64_t, Cell>& cohorts, Total& t) {
    t.persons.assign(periods, 0);
    t.retained.assign(periods, 0);
    json list = json::array();
    for (const auto& [c, first] : span) {
      Cell x;
      x.retained.assign(periods, 0);
      x.persons.assign(nm, std::vector<double>(periods, 0));
      x.events = x.sums = x.persons;
      if (cohorts.count(c)) x = cohorts.at(c);
      t.size += x.size;
      json cj{{"start", Calendar::label(first)}, {"size", x.size}};
      json shares = json::array();
      for (size_t k = 0; k < periods; ++k) {
        const bool seen = c + static_cast<int64_t>(k) <= last;
        if (seen) t.persons[k] += x.size, t.retained[k] += x.retained[k];
        shares.push_back(seen ? ratio(static_cast<double>(x.retained[k]), static_cast<double>(x.size)) : json(nullptr));
      }
      if (retention) {
        cj["retained"] = x.retained;
        cj["shares"] = shares;
      } else {
        json ms = json::object();
        for (size_t m = 0; m < nm; ++m) {
          const std::string kind = measures[m]["measure"];
          const bool run = kind == "conversion" || measures[m].value("cumulative", false);
          json values = json::array(), totals = json::array();
          double persons_run = 0, events_run = 0, sums_run = 0;
          for (size_t k = 0; k < periods; ++k) {
            persons_run = run ? persons_run + x.persons[m][k] : x.persons[m][k];
            events_run = run ? events_run + x.events[m][k] : x.events[m][k];
            sums_run = run ? sums_run + x.sums[m][k] : x.sums[m][k];
            const double total = kind == "active" || kind == "conversion" ? persons_run
                                 : kind == "count"                        ? events_run
                                                                          : sums_run;
            const double den = kind == "avg" ? events_run : static_cast<double>(x.size);
            totals.push_back(total);
            values.push_back(c + static_cast<int64_t>(k) <= last ? ratio(total, den) : json(nullptr));
          }
          ms[measures[m]["name"].get<std::string>()] = json{{"values", values}, {"totals", totals}};
        }
        cj["measures"] = ms;
      }
      list.push_back(cj);
    }
    return list;
  };
  auto total_json = [&](const Total& t) {
    json j{{"size", t.size}, {"persons", t.persons}};
    if (retention) {
      j["retained"] = t.retained;
      json shares = json::array();
      for (size_t k = 0; k < periods; ++k)
        shares.push_back(ratio(static_cast<double>(t.retained[k]), static_cast<double>(t.persons[k])));
      j["shares"] = shares;
    }
    return j;
  };
  std::map<int64_t, Cell> all;
  for (const auto& [g, cohorts] : groups)
    for (const auto& [c, x] : cohorts) {
      add_into(all[c], x);
    }
  Total total;
  json out{{"cohorts", answer(all, total)}};
  out["total"] = total_json(total);
  if (breakdown.is_null()) return out;
  // Groups by size (then label); beyond the limit folded into "other".
  std::vector<std::pair<uint64_t, std::string>> order;
  for (const auto& [g, cohorts] : groups) {
    uint64_t size = 0;
    for (const auto& [c, x] : cohorts) size += x.size;
    order.emplace_back(size, g);
  }
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
  const bool behaviour = breakdown.contains("behaviour");
  const size_t limit = behaviour ? 2 : breakdown.value("limit", 10);
  std::vector<std::pair<std::string, std::map<int64_t, Cell>>> shown;
  for (size_t i = 0; i < order.size(); ++i) {
    if (i < limit) {
      shown.emplace_back(order[i].second, groups[order[i].second]);
      continue;
    }
    if (i == limit) shown.emplace_back("other", std::map<int64_t, Cell>{});
    for (const auto& [c, x] : groups[order[i].second]) {
      add_into(shown.back().second[c], x);
    }
  }
  if (behaviour) {
    for (const char* g : {"did", "did not"})
      if (std::none_of(shown.begin(), shown.end(), [&](const auto& s) { return s.first == g; }))
        shown.emplace_back(g, std::map<int64_t, Cell>{});
    std::sort(shown.begin(), shown.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  }
  json list = json::array();
  for (const auto& [g, cohorts] : shown) {
    Total t;
    json gj{{"value", g}, {"cohorts", answer(cohorts, t)}};
    gj["total"] = total_json(t);
    list.push_back(gj);
  }
  out["breakdown"] = list;
  return out;
}

// ---- random cases ----

Person random_person(std::mt19937_64& rng, size_t index, Micros span) {
  Person p;
  p.id = fmt::format("p{}", index);
  const std::vector<Val> tiers = {Val::str("gold"), Val::str("silver"), Val::num(7), Val::str("7"), Val{}};
  if (const Val& t = pick(rng, tiers); t.type != Val::kNone) p.traits["tier"] = t;
  const size_t n = rng() % 9;
  Micros t = kT0 + static_cast<Micros>(rng() % static_cast<uint64_t>(span));
  for (size_t i = 0; i < n; ++i) {
    Ev e;
    e.t = t;
    e.name = pick(rng, std::vector<std::string>{"e0", "e0", "e1", "e1", "e2", "e3"});
    if (rng() % 2) e.props["page"] = pick(rng, std::vector<Val>{Val::str("/a"), Val::str("/b"), Val::num(7)});
    if (rng() % 2) e.props["n"] = pick(rng, std::vector<Val>{Val::num(1), Val::num(2), Val::num(2.5), Val::str("x")});
    p.events.push_back(e);
    // Often the same instant, often the same day, sometimes weeks later.
    const uint64_t gap = rng() % 6;
    t += gap == 0 ? 0 : gap < 3 ? static_cast<Micros>(rng() % 20) * kHour : static_cast<Micros>(rng() % 40) * kMicrosPerDay;
  }
  return p;
}

json random_def(std::mt19937_64& rng, const std::string& event) {
  switch (rng() % 4) {
    case 0: return json{{"event", event}, {"where", {{{"property", "page"}, {"op", "eq"}, {"value", "/a"}}}}};
    case 1: return json{{"any_of", {{{"event", event}}, {{"event", "e3"}}}}};
    default: return json{{"event", event}};
  }
}

std::string date(Micros t) {
  const Civil c = civil_from_days(day_of(t));
  return fmt::format("{:04d}-{:02d}-{:02d}", c.y, c.m, c.d);
}

json random_doc(std::mt19937_64& rng, bool retention, Micros span) {
  json doc{{"type", retention ? "retention" : "cohorts"}};
  const std::string period = pick(rng, std::vector<std::string>{"day", "week", "week", "month"});
  doc["period"] = period;
  doc["periods"] = 1 + rng() % (period == "day" ? 10 : 6);
  if (rng() % 4) {
    const Micros a = kT0 + static_cast<Micros>(rng() % static_cast<uint64_t>(span));
    const Micros b = a + static_cast<Micros>(1 + rng() % 60) * kMicrosPerDay;
    doc["range"] = json::object();
    if (rng() % 5) doc["range"]["from"] = date(a);
    if (rng() % 5) doc["range"]["to"] = date(b);
  }
  if (rng() % 3 == 0) doc["timezone"] = pick(rng, std::vector<std::string>{"+05:00", "-03:30", "UTC"});
  if (rng() % 4) doc["start"] = random_def(rng, "e0");
  if (rng() % 2) doc["recurring"] = true;
  if (retention) {
    if (rng() % 4) doc["return"] = random_def(rng, "e1");
    if (rng() % 2) doc["mode"] = "unbounded";
  } else {
    json ms = json::array();
    const size_t n = 1 + rng() % 3;
    for (size_t i = 0; i < n; ++i) {
      json m{{"name", fmt::format("m{}", i)}};
      const std::string kind = pick(rng, std::vector<std::string>{"active", "conversion", "count", "sum", "avg"});
      m["measure"] = kind;
      if (kind != "active" || rng() % 2) m["event"] = pick(rng, std::vector<std::string>{"e1", "e2", "e3"});
      if (kind == "sum" || kind == "avg") m["property"] = "n";
      if ((kind == "count" || kind == "sum") && rng() % 2) m["cumulative"] = true;
      ms.push_back(m);
    }
    doc["measures"] = ms;
  }
  switch (rng() % 4) {
    case 0: doc["filters"] = {{{"property", "page"}, {"op", "neq"}, {"value", "/b"}}}; break;
    case 1: doc["filters"] = {{{"trait", "tier"}, {"op", "neq"}, {"value", "silver"}}}; break;
    default: break;
  }
  switch (rng() % 5) {
    case 0: doc["breakdown"] = {{"trait", "tier"}, {"limit", 1 + rng() % 3}}; break;
    case 1: doc["breakdown"] = {{"property", "page"}}; break;
    case 2:
      doc["breakdown"] = {{"behaviour", {{"event", "e2"}}}};
      if (rng() % 2) doc["breakdown"]["within"] = pick(rng, std::vector<std::string>{"3d", "first_period", "12h"});
      break;
    default: break;
  }
  return doc;
}

TEST(Cohorts, EngineMatchesReferenceOnRandomJourneys) {
  std::mt19937_64 rng(20261125);
  std::map<std::string, uint64_t> seen;
  for (int round = 0; round < 6000; ++round) {
    const bool retention = rng() % 3 != 0;
    const Micros span = static_cast<Micros>(10 + rng() % 120) * kMicrosPerDay;
    const json doc = random_doc(rng, retention, span);
    std::vector<Person> persons;
    const size_t n = 3 + rng() % 10;
    for (size_t i = 0; i < n; ++i) persons.push_back(random_person(rng, i, span));
    Micros data_end = INT64_MIN;
    for (const Person& p : persons)
      for (const Ev& e : p.events) data_end = std::max(data_end, e.t);

    const testing::Catalogued c = testing::catalog_of(rng, persons, {"e0", "e1", "e2", "e3"}, {"page", "n", "tier"});
    auto spec = parse_cohorts(doc);
    ASSERT_TRUE(spec.is_ok()) << spec.status().message() << "\n" << doc.dump();
    auto compiled = compile_cohorts(*spec, c.cat);
    ASSERT_TRUE(compiled.is_ok()) << compiled.status().message() << "\n" << doc.dump();
    auto whole = make_cohort_kernel(**compiled), left = make_cohort_kernel(**compiled), right = make_cohort_kernel(**compiled);
    for (size_t i = 0; i < persons.size(); ++i) {
      const testing::Input in = testing::input_of(c.cat, cohort_plan(**compiled), persons[i]);
      if (in.time.empty()) continue;  // the scan skips persons without events in range
      whole->add(in.view(c.ids[i]));
      (rng() % 2 ? left : right)->add(in.view(c.ids[i]));
    }
    left->merge(*right);
    const json want = reference(doc, persons, data_end);
    for (const auto& [what, got] : {std::pair<const char*, json>{"one kernel", cohort_result(*whole, data_end)},
                                    {"merged kernels", cohort_result(*left, data_end)}}) {
      const std::string diff = testing::json_diff(want, got, /*exact=*/false);
      ASSERT_EQ(diff, "") << "round " << round << ", " << what << "\nquery: " << doc.dump() << "\nwant: " << want.dump()
                          << "\ngot:  " << got.dump();
    }
    // What the rounds exercised, so that the test cannot pass on empty answers.
    const uint64_t size = want["total"]["size"].get<uint64_t>();
    if (size > 0) ++seen[std::string(doc["type"]) + " with persons"];
    if (retention && size > 0 && want["total"]["retained"].size() > 1 && want["total"]["retained"][1].get<uint64_t>() > 0)
      ++seen["retained after period 0"];
    if (doc.contains("breakdown") && want.contains("breakdown") && want["breakdown"].size() > 1) ++seen["several groups"];
    if (doc.value("recurring", false) && size > 0) ++seen["recurring"];
    for (const json& cj : want["cohorts"])
      if (cj.contains("shares") && !cj["shares"].empty() && cj["shares"].back().is_null() && cj["size"].get<uint64_t>())
        ++seen["unobserved periods"];
  }
  for (const char* what : {"retention with persons", "cohorts with persons", "retained after period 0", "several groups",
                           "recurring", "unobserved periods"})
    EXPECT_GT(seen[what], 50u) << what;
}

}  // namespace cohort_test
}  // namespace cairn::query
