// Journey metrics: a brute-force reference written straight from docs/QUERY.md
// ("Journey metrics") against the engine, on thousands of random small
// journeys and random documents for conversion_rate (with "by"),
// conversion_by_entry_point, checkout_abandonment, time_to_convert,
// pages_before_conversion and ab_test. The reference works on plain
// per-person lists of (time, event name, property values) and builds the
// documented answer with its own statistics and z-test; the engine gets the
// same persons through an in-memory catalog (dictionaries interned in a
// shuffled order), cut to its plan's time range as the scan would cut them,
// once into one kernel and once split over two merged ones.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/time.h"
#include "journey_fixture.h"
#include "query/metric_journey.h"

namespace cairn::query {
namespace metric_journey_test {

using nlohmann::json;

constexpr Micros kSecond = kMicrosPerSecond;
const Micros kT0 = days_from_civil(2026, 1, 1) * kMicrosPerDay;

// ---- journeys as the reference sees them ----

// A property value: a string, or a number when `number`.
struct Val {
  bool number = false;
  std::string s;
  double d = 0;
};
using Props = std::map<std::string, Val>;

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

// ---- the reference ----

std::string text_of(const Val* v) {
  if (!v) return "(none)";
  if (!v->number) return v->s;
  return v->d == std::trunc(v->d) ? std::to_string(static_cast<int64_t>(v->d)) : fmt::format("{}", v->d);
}

const Val* find(const Props& props, const std::string& key) {
  const auto it = props.find(key);
  return it == props.end() ? nullptr : &it->second;
}

// The filters the random documents use: eq (typed) and gt.
bool matches_def(const json& def, const Ev& e) {
  if (def["event"].get<std::string>() != e.name) return false;
  for (const json& f : def.value("where", json::array())) {
    const Val* v = find(e.props, f["property"].get<std::string>());
    const json& x = f["value"];
    if (f["op"] == "eq" && !(v && (v->number ? x.is_number() && x.get<double>() == v->d : x.is_string() && x.get<std::string>() == v->s)))
      return false;
    if (f["op"] == "gt" && !(v && v->number && v->d > x.get<double>())) return false;
  }
  return true;
}

struct Ref {
  const json& doc;
  std::string metric;
  Micros from = INT64_MIN, to = INT64_MAX, window = 0;
  json pick, conversion;  // pick: an event definition, or null for any event
  std::string carrying;   // the picked event must carry this property
  std::string by_property, by_trait;

  explicit Ref(const json& d) : doc(d), metric(d["metric"].get<std::string>()) {
    if (doc.contains("range")) {
      if (doc["range"].contains("from")) from = *parse_time(doc["range"]["from"].get<std::string>());
      if (doc["range"].contains("to")) to = *parse_time(doc["range"]["to"].get<std::string>());
    }
    conversion = json{{"event", "purchase"}};
    window = 30 * kMicrosPerDay;
    const char* pick_field = "entry";
    if (metric == "conversion_rate") pick = json{{"event", "page_view"}};
    if (metric == "checkout_abandonment") {
      pick_field = "checkout";
      pick = json{{"event", "checkout_started"}};
      window = kMicrosPerDay;
    }
    if (metric == "pages_before_conversion") {
      pick_field = "page";
      pick = json{{"event", "page_view"}};
    }
    const char* by_field = metric == "ab_test" ? "variant" : "by";
    if (doc.contains(by_field)) {
      by_property = doc[by_field].value("property", "");
      by_trait = doc[by_field].value("trait", "");
    } else if (metric == "conversion_by_entry_point") {
      by_property = "channel";
    }
    if (metric == "ab_test") pick_field = "exposure";
    if ((metric == "conversion_by_entry_point" || metric == "ab_test") && !doc.contains(pick_field)) carrying = by_property;
    if (metric == "ab_test") carrying = by_property;
    if (doc.contains(pick_field)) pick = doc[pick_field];
    const char* conv_field = metric == "checkout_abandonment" ? "purchase" : "conversion";
    if (doc.contains(conv_field)) conversion = doc[conv_field];
    const char* window_field = metric == "pages_before_conversion" ? "lookback" : "window";
    if (doc.contains(window_field)) window = *parse_duration(doc[window_field].get<std::string>());
  }

  bool in_range(Micros t) const { return t >= from && t < to; }
  bool picked(const Ev& e) const {
    return (pick.is_null() || matches_def(pick, e)) && (carrying.empty() || find(e.props, carrying));
  }
  bool converts(const Ev& e) const { return matches_def(conversion, e); }

  static json stats(std::vector<double> v) {
    if (v.empty()) return json{{"median", nullptr}, {"mean", nullptr}, {"p90", nullptr}, {"count", 0}};
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    double sum = 0;
    for (double x : v) sum += x;
    size_t rank = 1;  // nearest rank: the smallest k with k >= 0.9 n
    while (rank * 10 < 9 * n) ++rank;
    return json{{"median", n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2},
                {"mean", sum / static_cast<double>(n)},
                {"p90", v[rank - 1]},
                {"count", n}};
  }
  static json rate(double x, double n) { return n == 0 ? json(nullptr) : json(x / n); }
  // Pooled two-proportion z-test, two-sided.
  static std::pair<json, json> z(double x1, double n1, double x2, double n2) {
    if (n1 == 0 || n2 == 0) return {nullptr, nullptr};
    const double p = (x1 + x2) / (n1 + n2), se = std::sqrt(p * (1 - p) * (1 / n1 + 1 / n2));
    if (se == 0) return {0.0, 1.0};
    const double zz = (x1 / n1 - x2 / n2) / se;
    return {zz, std::erfc(std::fabs(zz) / std::sqrt(2.0))};
  }

  // The answer, or nullopt when the document must be refused at run time.
  std::optional<json> answer(const std::vector<Person>& persons, std::map<std::string, uint64_t>& seen) const {
    json out{{"metric", metric}};
    const json win = window / kSecond;
    if (metric == "checkout_abandonment") {
      uint64_t checkouts = 0, bought = 0, persons_in = 0, abandoning = 0;
      for (const Person& p : persons) {
        bool any = false, abandoned = false;
        for (size_t i = 0; i < p.events.size(); ++i) {
          if (!in_range(p.events[i].t) || !picked(p.events[i])) continue;
          size_t next = i + 1;
          while (next < p.events.size() && !picked(p.events[next])) ++next;
          bool b = false;
          for (size_t j = i + 1; j < next; ++j)
            if (converts(p.events[j]) && p.events[j].t - p.events[i].t <= window) b = true;
          any = true;
          ++checkouts;
          bought += b;
          abandoned = abandoned || !b;
          if (!b && next < p.events.size()) ++seen["checkout abandoned before a later checkout"];
        }
        persons_in += any;
        abandoning += abandoned;
      }
      out["value"] = checkouts == 0 ? json(nullptr) : json(1.0 - static_cast<double>(bought) / static_cast<double>(checkouts));
      out["checkouts"] = checkouts;
      out["purchased"] = bought;
      out["abandoned"] = checkouts - bought;
      out["persons"] = persons_in;
      out["persons_abandoning"] = abandoning;
      out["window"] = win;
      if (bought > 0 && bought < checkouts) ++seen["abandonment strictly between 0 and 1"];
      return out;
    }
    if (metric == "pages_before_conversion") {
      std::vector<double> counts;
      std::map<int64_t, uint64_t> dist;
      uint64_t pages = 0;
      for (const Person& p : persons) {
        size_t j = 0;
        while (j < p.events.size() && !(in_range(p.events[j].t) && converts(p.events[j]))) ++j;
        if (j == p.events.size()) continue;
        int64_t k = 0;
        for (size_t i = 0; i < j; ++i)
          if (picked(p.events[i]) && p.events[j].t - p.events[i].t <= window) ++k;
          else if (picked(p.events[i])) ++seen["page outside the lookback"];
        counts.push_back(static_cast<double>(k));
        ++dist[k];
        pages += static_cast<uint64_t>(k);
      }
      const json st = stats(counts);
      out["value"] = st["median"];
      out["converters"] = counts.size();
      out["page_views"] = pages;
      out["lookback"] = win;
      out["pages"] = st;
      out["distribution"] = json::array();
      for (const auto& [k, n] : dist) out["distribution"].push_back(json{{"pages", k}, {"persons", n}});
      if (pages > 0) ++seen["pages counted"];
      return out;
    }
    // Entrants and their conversion.
    std::map<std::string, std::pair<uint64_t, uint64_t>> groups;  // label -> persons, converted
    std::vector<double> times;
    uint64_t entrants = 0, converters = 0;
    for (const Person& p : persons) {
      size_t e = 0;
      while (e < p.events.size() && !(in_range(p.events[e].t) && picked(p.events[e]))) ++e;
      if (e == p.events.size()) continue;
      std::string label = "(none)";
      if (!by_property.empty()) label = text_of(find(p.events[e].props, by_property));
      if (!by_trait.empty()) label = text_of(find(p.traits, by_trait));
      auto& g = groups[label];
      ++g.first, ++entrants;
      for (size_t j = e; j < p.events.size(); ++j)
        if (converts(p.events[j]) && p.events[j].t - p.events[e].t <= window) {
          ++g.second, ++converters;
          times.push_back(static_cast<double>(p.events[j].t - p.events[e].t) / kSecond);
          if (j == e) ++seen["entry event is the conversion"];
          break;
        } else if (converts(p.events[j])) {
          ++seen["conversion after the window"];
        }
    }
    if (converters > 0) ++seen["converted"];
    if (metric == "time_to_convert") {
      const json st = stats(times);
      out["value"] = st["median"];
      out["entrants"] = entrants;
      out["converters"] = converters;
      out["window"] = win;
      out["time"] = st;
      const std::vector<double> edges = {0, 3600, 86400, 7 * 86400, 30 * 86400};
      const std::vector<std::string> names = {"<1h", "1h-1d", "1d-7d", "7d-30d", "30d+"};
      for (size_t b = 0; b < edges.size(); ++b) {
        const double hi = b + 1 < edges.size() ? edges[b + 1] : INFINITY;
        uint64_t n = 0;
        for (double t : times) n += t >= edges[b] && t < hi;
        out["histogram"].push_back(json{{"bucket", names[b]}, {"from", edges[b]}, {"to", b + 1 < edges.size() ? json(hi) : json(nullptr)}, {"persons", n}});
      }
      return out;
    }
    if (metric == "ab_test") {
      out["value"] = rate(static_cast<double>(converters), static_cast<double>(entrants));
      out["exposed"] = entrants;
      out["converted"] = converters;
      out["window"] = win;
      std::string control = doc.value("control", "");
      if (!control.empty() && !groups.count(control)) return std::nullopt;
      if (control.empty() && !groups.empty()) control = groups.begin()->first;
      out["control"] = groups.empty() ? json(nullptr) : json(control);
      out["variants"] = json::array();
      for (const auto& [label, g] : groups) {
        const double n = static_cast<double>(g.first), x = static_cast<double>(g.second);
        json row{{"variant", label}, {"persons", g.first}, {"converted", g.second}, {"conversion", x / n},
                 {"lift", nullptr}, {"z", nullptr}, {"p_value", nullptr}};
        if (label != control) {
          const double cn = static_cast<double>(groups.at(control).first), cx = static_cast<double>(groups.at(control).second);
          if (cx > 0) row["lift"] = (x / n) / (cx / cn) - 1;
          std::tie(row["z"], row["p_value"]) = z(x, n, cx, cn);
          ++seen["variant compared"];
        }
        out["variants"].push_back(row);
      }
      return out;
    }
    out["value"] = rate(static_cast<double>(converters), static_cast<double>(entrants));
    out["entrants"] = entrants;
    out["converters"] = converters;
    out["window"] = win;
    if (by_property.empty() && by_trait.empty()) return out;
    std::vector<std::pair<std::string, std::pair<uint64_t, uint64_t>>> rows(groups.begin(), groups.end());
    std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second.first > b.second.first; });
    out["by"] = json::array();
    for (const auto& [label, g] : rows) {
      const double n = static_cast<double>(g.first), x = static_cast<double>(g.second);
      json row{{"value", label}, {"persons", g.first}, {"converted", g.second}, {"conversion", x / n}, {"vs_rest", nullptr}};
      if (rows.size() > 1) {
        auto [zz, pv] = z(x, n, static_cast<double>(converters) - x, static_cast<double>(entrants) - n);
        row["vs_rest"] = json{{"z", zz}, {"p_value", pv}};
      }
      out["by"].push_back(row);
    }
    if (rows.size() > 2) ++seen["three or more groups"];
    return out;
  }
};

// Equal JSON; numbers to 1e-9 relative.
std::string json_diff(const json& want, const json& got, const std::string& path = "") {
  if (want.is_number() && got.is_number()) {
    const double a = want.get<double>(), b = got.get<double>();
    return std::fabs(a - b) <= 1e-9 * std::max(1.0, std::fabs(a)) ? "" : fmt::format("{}: want {} got {}", path, a, b);
  }
  if (want.is_object() && got.is_object()) {
    if (want.size() != got.size()) return fmt::format("{}: want {} keys got {}", path, want.size(), got.size());
    for (const auto& [k, v] : want.items()) {
      if (!got.contains(k)) return fmt::format("{}.{}: missing", path, k);
      const std::string d = json_diff(v, got[k], path + "." + k);
      if (!d.empty()) return d;
    }
    return "";
  }
  if (want.is_array() && got.is_array()) {
    if (want.size() != got.size()) return fmt::format("{}: want {} elements got {}", path, want.size(), got.size());
    for (size_t i = 0; i < want.size(); ++i) {
      const std::string d = json_diff(want[i], got[i], fmt::format("{}[{}]", path, i));
      if (!d.empty()) return d;
    }
    return "";
  }
  return want == got ? "" : fmt::format("{}: want {} got {}", path, want.dump(), got.dump());
}

// ---- the engine's side ----

const std::vector<std::string> kEvents = {"page_view", "purchase", "checkout_started", "e3"};
const std::vector<std::string> kValues = {"ads", "seo", "7", "A", "B"};

Cell cell_of(const Catalog& cat, const Val* v) {
  Cell c;
  if (!v) return c;
  c.present = true;
  if (v->number) {
    c.type = ValueType::kNumber;
    std::memcpy(&c.bits, &v->d, sizeof v->d);
  } else {
    c.type = ValueType::kString;
    c.bits = cat.strings().find(v->s);
  }
  return c;
}

void shuffle_intern(std::mt19937_64& rng, StringPool& pool, std::vector<std::string> texts) {
  std::shuffle(texts.begin(), texts.end(), rng);
  for (const std::string& t : texts) pool.intern(t);
}

// A kernel's answer, or nullopt when it refuses the document.
using Answer = std::optional<json>;

std::pair<Answer, Answer> engine_answers(const json& doc, const std::vector<Person>& persons, std::mt19937_64& rng) {
  Catalog cat;
  shuffle_intern(rng, cat.events, kEvents);
  shuffle_intern(rng, cat.keys, {"channel", "variant", "n", "tier"});
  shuffle_intern(rng, cat.strings(), kValues);
  std::vector<uint32_t> ids;
  for (const Person& p : persons) {
    ids.push_back(cat.intern_id(p.id, true));
    for (const auto& [key, v] : p.traits) {
      const Cell c = cell_of(cat, &v);
      cat.set_trait(ids.back(), StoredProp{cat.keys.find(key), c.type, c.bits});
    }
  }
  auto spec = parse_journey(doc);
  EXPECT_TRUE(spec.is_ok()) << spec.status().message() << "\n" << doc.dump();
  if (!spec.is_ok()) return {};
  auto compiled = compile_journey(*spec, cat);
  EXPECT_TRUE(compiled.is_ok()) << compiled.status().message() << "\n" << doc.dump();
  if (!compiled.is_ok()) return {};
  const ScanPlan& plan = compiled->plan;
  JourneyKernel whole(*compiled), left(*compiled), right(*compiled);
  for (size_t i = 0; i < persons.size(); ++i) {
    const testing::Input in = testing::input_in_plan(cat, plan, persons[i].events, [&](const Ev& e, const std::string& key) {
      return cell_of(cat, find(e.props, key));
    });
    if (in.time.empty()) continue;  // the scan skips persons without events in range
    const PersonView view = in.view(ids[i]);
    whole.add(view);
    (rng() % 2 ? left : right).add(view);
  }
  left.merge(right);
  auto a = whole.result(), b = left.result();
  return {a.is_ok() ? Answer(*a) : std::nullopt, b.is_ok() ? Answer(*b) : std::nullopt};
}

// ---- random cases ----

template <typename T>
const T& pick(std::mt19937_64& rng, const std::vector<T>& v) {
  return v[rng() % v.size()];
}

json random_def(std::mt19937_64& rng) {
  json d{{"event", pick(rng, kEvents)}};
  if (rng() % 4 == 0) {
    if (rng() % 2) d["where"] = json::array({json{{"property", "channel"}, {"op", "eq"}, {"value", rng() % 3 ? json("ads") : json(7)}}});
    else d["where"] = json::array({json{{"property", "n"}, {"op", "gt"}, {"value", 1}}});
  }
  return d;
}

std::string at(Micros seconds) { return format_time(kT0 + seconds * kSecond); }

json random_doc(std::mt19937_64& rng) {
  static const std::vector<std::string> kMetrics = {"conversion_rate", "conversion_by_entry_point", "checkout_abandonment",
                                                    "time_to_convert", "pages_before_conversion", "ab_test"};
  const std::string metric = pick(rng, kMetrics);
  json doc{{"type", "metric"}, {"metric", metric}};
  if (rng() % 2) {
    const Micros from = static_cast<Micros>(rng() % 40), to = from + 5 + static_cast<Micros>(rng() % 80);
    const int which = static_cast<int>(rng() % 3);
    if (which != 1) doc["range"]["from"] = at(from);
    if (which != 0) doc["range"]["to"] = at(to);
  }
  const bool lookback = metric == "pages_before_conversion";
  if (rng() % 3) doc[lookback ? "lookback" : "window"] = std::to_string(1 + rng() % 30) + "s";
  const char* pick_field = metric == "checkout_abandonment"      ? "checkout"
                           : metric == "pages_before_conversion" ? "page"
                           : metric == "ab_test"                 ? "exposure"
                                                                 : "entry";
  if (rng() % 3 == 0) doc[pick_field] = random_def(rng);
  if (rng() % 3 == 0) doc[metric == "checkout_abandonment" ? "purchase" : "conversion"] = random_def(rng);
  if (metric == "conversion_rate" || metric == "conversion_by_entry_point") {
    if (rng() % 2) doc["by"] = rng() % 3 ? json{{"property", rng() % 2 ? "channel" : "n"}} : json{{"trait", "tier"}};
  }
  if (metric == "ab_test") {
    doc["variant"] = rng() % 3 ? json{{"property", rng() % 4 ? "variant" : "channel"}} : json{{"trait", "tier"}};
    if (rng() % 3 == 0) doc["control"] = pick(rng, std::vector<std::string>{"A", "B", "7", "ads", "(none)", "zz"});
  }
  return doc;
}

Val str(const std::string& s) { return Val{false, s, 0}; }
Val num(double d) { return Val{true, "", d}; }

// Up to twelve events with equal times, gaps of seconds, and now and then
// a day or a month; channel (sometimes the number 7, reading like "7"),
// variant and n.
Person random_person(std::mt19937_64& rng, size_t index) {
  Person p;
  p.id = "u" + std::to_string(index);
  if (rng() % 2) p.traits["tier"] = rng() % 3 ? str(pick(rng, kValues)) : num(7);
  const size_t n = 1 + rng() % 12;
  Micros t = kT0 + static_cast<Micros>(rng() % 30) * kSecond;
  for (size_t i = 0; i < n; ++i) {
    const uint64_t r = rng() % 30;
    if (r >= 6 && r < 28) t += static_cast<Micros>(r - 5) * kSecond;
    if (r == 28) t += kMicrosPerDay;
    if (r == 29) t += 30 * kMicrosPerDay;
    Ev e;
    e.t = t;
    e.name = pick(rng, kEvents);
    if (rng() % 3 == 0) e.props["channel"] = rng() % 5 ? str(pick(rng, kValues)) : num(7);
    if (rng() % 3 == 0) e.props["variant"] = str(rng() % 2 ? "A" : "B");
    if (rng() % 2) e.props["n"] = num(rng() % 2 ? 1 : 2.5);
    p.events.push_back(std::move(e));
  }
  return p;
}

std::string describe(const std::vector<Person>& persons) {
  std::string out;
  for (const Person& p : persons) {
    out += p.id + " {";
    for (const auto& [k, v] : p.traits) out += " " + k + "=" + text_of(&v);
    out += " }:";
    for (const Ev& e : p.events) {
      out += fmt::format(" {}@{}", e.name, (e.t - kT0) / kSecond);
      for (const auto& [k, v] : e.props) out += "," + k + "=" + (v.number ? "#" : "") + text_of(&v);
    }
    out += "\n";
  }
  return out;
}

TEST(MetricJourney, EngineMatchesReferenceOnRandomJourneys) {
  std::mt19937_64 rng(20261125);
  std::map<std::string, uint64_t> seen, rounds;
  for (int round = 0; round < 12000; ++round) {
    const json doc = random_doc(rng);
    std::vector<Person> persons;
    const size_t n = 3 + rng() % 10;
    for (size_t i = 0; i < n; ++i) persons.push_back(random_person(rng, i));
    const auto [whole, merged] = engine_answers(doc, persons, rng);
    ASSERT_FALSE(HasFailure());
    const std::optional<json> want = Ref(doc).answer(persons, seen);
    for (const auto& [what, got] : {std::pair<const char*, const Answer&>{"one kernel", whole}, {"merged kernels", merged}}) {
      ASSERT_EQ(want.has_value(), got.has_value()) << "round " << round << ", " << what << ": refused or not\nquery: " << doc.dump()
                                                   << "\npersons:\n" << describe(persons);
      if (!want) continue;
      const std::string diff = json_diff(*want, *got);
      ASSERT_EQ(diff, "") << "round " << round << ", " << what << "\nquery: " << doc.dump() << "\npersons:\n"
                          << describe(persons) << "want: " << want->dump() << "\ngot:  " << got->dump();
    }
    const std::string metric = doc["metric"].get<std::string>();
    ++rounds[metric];
    if (!want) ++rounds["refused control"];
    else if (!(*want)["value"].is_null()) ++rounds[metric + " with a value"];
  }
  // The random cases exercise the interesting paths, not only empty answers.
  for (const auto& [what, n] : rounds) EXPECT_GT(n, what == "refused control" ? 50u : 500u) << what;
  EXPECT_EQ(rounds.size(), 13u);
  for (const char* what : {"checkout abandoned before a later checkout", "abandonment strictly between 0 and 1",
                           "page outside the lookback", "pages counted", "entry event is the conversion",
                           "conversion after the window", "converted", "variant compared", "three or more groups"})
    EXPECT_GT(seen[what], 100u) << what;
}

}  // namespace metric_journey_test
}  // namespace cairn::query
