// Metrics (KPIs): a brute-force reference written straight from docs/QUERY.md
// ("Metrics (KPIs)") against the engine, on thousands of random small
// histories and random documents, for retention and churn, NPS and email
// rates (in all and per day), first response time, tickets resolved and
// trial-to-paid. The reference
// works on plain per-person lists of (time, event, score, ticket, email) and
// recomputes each definition directly (customer status by replaying the
// events before an instant, tickets by searching the list); the engine gets
// the same persons through an in-memory catalog, cut to its plan's time
// range as the scan would cut them, once into one kernel and once split over
// two merged ones.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/time.h"
#include "journey_fixture.h"
#include "query/metric.h"

namespace cairn::query {
namespace metric_test {

using PersonInput = testing::Input;

using nlohmann::json;

constexpr Micros kHour = 3600 * kMicrosPerSecond;
const Micros kT0 = days_from_civil(2026, 1, 1) * kMicrosPerDay;

struct Ev {
  Micros t = 0;
  std::string name;
  std::optional<double> score;   // "score"
  std::optional<double> ticket;  // "ticket_id"
  std::optional<std::string> email;  // "email_id"
};

struct Person {
  std::string id;
  std::string country;  // "" : no trait
  std::vector<Ev> events;  // in (time, arrival) order
};

const std::vector<std::string> kNames = {"purchase", "deal_won", "churned", "nps_response", "support_ticket_opened",
                                         "support_first_response", "support_ticket_resolved", "trial_started",
                                         "email_sent", "email_open", "email_click", "page_view", "upgrade"};

std::vector<Person> random_persons(std::mt19937_64& rng) {
  std::vector<Person> persons(1 + rng() % 12);
  for (size_t i = 0; i < persons.size(); ++i) {
    Person& p = persons[i];
    p.id = fmt::format("p{}", i);
    p.country = std::vector<std::string>{"", "DE", "US"}[rng() % 3];
    const size_t n = rng() % 14;
    for (size_t k = 0; k < n; ++k) {
      Ev e;
      // Whole hours over 40 days from Dec 27, so that equal times happen.
      e.t = kT0 - 5 * kMicrosPerDay + static_cast<Micros>(rng() % (40 * 24 / 6)) * 6 * kHour;
      e.name = kNames[rng() % kNames.size()];
      if (rng() % 2) e.name = kNames[rng() % 8];  // more customers, answers, tickets and trials
      const std::vector<double> scores = {-1, 0, 3, 6, 7, 8, 9, 10, 11, 8.5};
      if (rng() % 6) e.score = scores[rng() % scores.size()];
      if (rng() % 6) e.ticket = static_cast<double>(rng() % 3);
      if (rng() % 6) e.email = std::vector<std::string>{"e1", "e2"}[rng() % 2];
      p.events.push_back(e);
    }
    std::stable_sort(p.events.begin(), p.events.end(), [](const Ev& a, const Ev& b) { return a.t < b.t; });
  }
  return persons;
}

// ---- the reference ----

bool passes(const json& doc, const Person& p) { return !doc.contains("filters") || p.country == "DE"; }

// A customer from a purchase or deal_won until churned; the status at an
// instant: after every event strictly before it.
bool customer_before(const Person& p, Micros t, size_t upto = SIZE_MAX) {
  bool c = false;
  for (size_t i = 0; i < p.events.size() && i < upto && p.events[i].t < t; ++i) {
    if (p.events[i].name == "purchase" || p.events[i].name == "deal_won") c = true;
    else if (p.events[i].name == "churned") c = false;
  }
  return c;
}

Micros day_start(Micros t) { return t - ((t % kMicrosPerDay) + kMicrosPerDay) % kMicrosPerDay; }

json nullable(double num, double den) { return den == 0 ? json(nullptr) : json(num / den); }

json reference_stats(std::vector<Micros> v) {
  if (v.empty()) return {{"median", nullptr}, {"mean", nullptr}, {"p90", nullptr}, {"count", 0}};
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  const double s = 1e6;
  double sum = 0;
  for (Micros x : v) sum += static_cast<double>(x);
  const double median = n % 2 ? static_cast<double>(v[n / 2]) : (static_cast<double>(v[n / 2 - 1]) + static_cast<double>(v[n / 2])) / 2;
  const size_t rank = static_cast<size_t>(std::ceil(0.9 * static_cast<double>(n)));
  return {{"median", median / s}, {"mean", sum / static_cast<double>(n) / s}, {"p90", static_cast<double>(v[rank - 1]) / s}, {"count", n}};
}

json reference(const json& doc, const std::vector<Person>& persons) {
  const std::string metric = doc["metric"];
  const Micros from = *parse_time(doc["range"]["from"].get<std::string>());
  const Micros to = *parse_time(doc["range"]["to"].get<std::string>());
  auto in = [&](const Ev& e) { return e.t >= from && e.t < to; };
  json out = {{"metric", metric}};
  if (metric == "upsell_conversion") {
    // Customers at some time in the range (at its start, or becoming one
    // inside it); converted: an upgrade in the range while a customer.
    uint64_t customers = 0, converted = 0;
    for (const Person& p : persons) {
      if (!passes(doc, p)) continue;
      bool became = false, upgraded = false;
      for (size_t i = 0; i < p.events.size(); ++i) {
        if (!in(p.events[i])) continue;
        if (customer_before(p, INT64_MAX, i + 1) && !customer_before(p, INT64_MAX, i)) became = true;
        if (p.events[i].name == "upgrade" && customer_before(p, INT64_MAX, i + 1)) upgraded = true;
      }
      const bool customer = customer_before(p, from) || became;
      customers += customer;
      converted += customer && upgraded;
    }
    out["customers"] = customers;
    out["converted"] = converted;
    out["value"] = nullable(static_cast<double>(converted), static_cast<double>(customers));
    return out;
  }
  if (metric == "retention_rate" || metric == "churn_rate") {
    uint64_t S = 0, E = 0, N = 0, R = 0;
    for (const Person& p : persons) {
      if (!passes(doc, p)) continue;
      const bool s = customer_before(p, from), e = customer_before(p, to);
      bool became = false;  // not a customer at an event in range, a customer after it
      for (size_t i = 0; i < p.events.size(); ++i)
        if (in(p.events[i]) && customer_before(p, INT64_MAX, i + 1) && !customer_before(p, INT64_MAX, i)) became = true;
      S += s;
      E += e;
      N += !s && became;
      R += s && e;
    }
    out["customers_start"] = S;
    out["customers_end"] = E;
    out["new_customers"] = N;
    out["retained"] = R;
    out["value"] = metric == "retention_rate" ? nullable(static_cast<double>(E) - static_cast<double>(N), static_cast<double>(S))
                                              : nullable(static_cast<double>(S - R), static_cast<double>(S));
  } else if (metric == "nps") {
    // The answers of the events `counted` picks.
    auto nps = [&](const std::function<bool(const Ev&)>& counted) {
      uint64_t pro = 0, pas = 0, det = 0, bad = 0;
      for (const Person& p : persons) {
        if (!passes(doc, p)) continue;
        for (const Ev& e : p.events) {
          if (!in(e) || !counted(e) || e.name != "nps_response") continue;
          if (!e.score || *e.score < 0 || *e.score > 10 || *e.score != std::floor(*e.score)) ++bad;
          else if (*e.score >= 9) ++pro;
          else if (*e.score >= 7) ++pas;
          else ++det;
        }
      }
      const double n = static_cast<double>(pro + pas + det);
      return json{{"value", n == 0 ? json(nullptr) : json((static_cast<double>(pro) / n - static_cast<double>(det) / n) * 100)},
                  {"promoters", pro}, {"passives", pas}, {"detractors", det}, {"invalid", bad}};
    };
    out.update(nps([](const Ev&) { return true; }));
    if (doc.contains("period")) {
      out["periods"] = json::array();
      for (Micros day = day_start(from); day < to; day += kMicrosPerDay) {
        json row = nps([&](const Ev& e) { return day_start(e.t) == day; });
        row["period"] = format_time(day).substr(0, 10);
        out["periods"].push_back(row);
      }
    }
  } else if (metric == "email_open_rate" || metric == "email_click_rate") {
    // Every counted (event, message) with its time: unique ones at their first event.
    const bool unique = !doc.contains("unique") || doc["unique"].get<bool>();
    std::vector<std::pair<std::string, Micros>> counted;
    for (const Person& p : persons) {
      if (!passes(doc, p)) continue;
      std::map<std::string, std::vector<std::string>> seen;
      for (const Ev& e : p.events) {
        if (!in(e) || (e.name != "email_sent" && e.name != "email_open" && e.name != "email_click")) continue;
        const std::string msg = e.email ? *e.email : "(none)";
        auto& v = seen[e.name];
        if (unique && std::find(v.begin(), v.end(), msg) != v.end()) continue;
        v.push_back(msg);
        counted.emplace_back(e.name, e.t);
      }
    }
    auto rates = [&](const std::function<bool(Micros)>& when) {
      std::map<std::string, uint64_t> count;
      for (const auto& [name, t] : counted)
        if (when(t)) ++count[name];
      return json{{"delivered", count["email_sent"]}, {"opens", count["email_open"]}, {"clicks", count["email_click"]},
                  {"value", nullable(static_cast<double>(count[metric == "email_open_rate" ? "email_open" : "email_click"]),
                                     static_cast<double>(count["email_sent"]))}};
    };
    out.update(rates([](Micros) { return true; }));
    if (doc.contains("period")) {
      out["periods"] = json::array();
      for (Micros day = day_start(from); day < to; day += kMicrosPerDay) {
        json row = rates([&](Micros t) { return day_start(t) == day; });
        row["period"] = format_time(day).substr(0, 10);
        out["periods"].push_back(row);
      }
    }
  } else if (metric == "first_response_time") {
    uint64_t tickets = 0, responded = 0, no_id = 0;
    std::vector<Micros> times;
    for (const Person& p : persons) {
      if (!passes(doc, p)) continue;
      for (size_t i = 0; i < p.events.size(); ++i) {
        const Ev& e = p.events[i];
        if (!in(e) || e.name != "support_ticket_opened") continue;
        if (!e.ticket) {
          ++no_id;
          continue;
        }
        bool earlier = false;  // the ticket's first opening in the range counts
        for (size_t k = 0; k < i; ++k)
          earlier = earlier || (in(p.events[k]) && p.events[k].name == e.name && p.events[k].ticket == e.ticket);
        if (earlier) continue;
        ++tickets;
        for (size_t k = i + 1; k < p.events.size(); ++k)
          if (p.events[k].name == "support_first_response" && p.events[k].ticket == e.ticket) {
            ++responded;
            times.push_back(p.events[k].t - e.t);
            break;
          }
      }
    }
    out["tickets"] = tickets;
    out["responded"] = responded;
    out["without_ticket_id"] = no_id;
    out["response_time"] = reference_stats(times);
    out["value"] = out["response_time"]["median"];
  } else if (metric == "tickets_resolved") {
    uint64_t resolved = 0, opened = 0, without_open = 0, no_id = 0;
    std::vector<Micros> times;
    for (const Person& p : persons) {
      if (!passes(doc, p)) continue;
      std::vector<double> done, opened_in_range;
      for (size_t i = 0; i < p.events.size(); ++i) {
        const Ev& e = p.events[i];
        if (e.t >= to || !e.ticket) {
          no_id += e.t < to && in(e) && e.name == "support_ticket_resolved";
          continue;
        }
        // Opened in the range: any of the ticket's openings inside it, once.
        if (e.name == "support_ticket_opened" && in(e) &&
            std::find(opened_in_range.begin(), opened_in_range.end(), *e.ticket) == opened_in_range.end()) {
          opened_in_range.push_back(*e.ticket);
          ++opened;
        }
        if (!in(e) || e.name != "support_ticket_resolved" || std::find(done.begin(), done.end(), *e.ticket) != done.end())
          continue;
        done.push_back(*e.ticket);
        ++resolved;
        size_t k = 0;
        while (k < i && !(p.events[k].name == "support_ticket_opened" && p.events[k].ticket == e.ticket)) ++k;
        if (k == i) ++without_open;
        else times.push_back(e.t - p.events[k].t);
      }
    }
    out["value"] = resolved;
    out["opened"] = opened;
    out["without_open"] = without_open;
    out["without_ticket_id"] = no_id;
    out["resolution_time"] = reference_stats(times);
  } else {  // trial_to_paid_rate
    const Micros window = doc.contains("window") ? *parse_duration(doc["window"].get<std::string>()) : 30 * kMicrosPerDay;
    uint64_t starters = 0, converted = 0;
    std::vector<Micros> times;
    for (const Person& p : persons) {
      if (!passes(doc, p)) continue;
      size_t i = 0;
      while (i < p.events.size() && !(in(p.events[i]) && p.events[i].name == "trial_started")) ++i;
      if (i == p.events.size()) continue;
      ++starters;
      for (size_t k = i + 1; k < p.events.size(); ++k)
        if (p.events[k].name == "purchase" && p.events[k].t - p.events[i].t <= window) {
          ++converted;
          times.push_back(p.events[k].t - p.events[i].t);
          break;
        }
    }
    out["trial_starters"] = starters;
    out["converted"] = converted;
    out["value"] = nullable(static_cast<double>(converted), static_cast<double>(starters));
    out["time_to_paid"] = reference_stats(times);
  }
  return out;
}

// ---- the engine's side ----

struct Catalogued {
  Catalog cat;
  std::vector<uint32_t> ids;
};

Catalogued catalog_of(std::mt19937_64& rng, const std::vector<Person>& persons) {
  Catalogued out;
  std::vector<std::string> names = kNames;
  std::shuffle(names.begin(), names.end(), rng);
  for (const std::string& n : names) out.cat.events.intern(n);
  for (const char* k : {"ticket_id", "email_id", "score", "country"}) out.cat.keys.intern(k);
  for (const char* s : {"e2", "US", "e1", "DE"}) out.cat.strings().intern(s);
  for (const Person& p : persons) {
    const uint32_t id = out.cat.intern_id(p.id, true);
    out.ids.push_back(id);
    if (!p.country.empty())
      out.cat.set_trait(id, StoredProp{out.cat.keys.find("country"), ValueType::kString, out.cat.strings().find(p.country)});
  }
  return out;
}

Cell number_cell(const std::optional<double>& v) {
  Cell c;
  if (!v) return c;
  c.present = true;
  c.type = ValueType::kNumber;
  std::memcpy(&c.bits, &*v, sizeof(double));
  return c;
}

PersonInput input_of(const Catalog& cat, const ScanPlan& plan, const Person& p) {
  PersonInput in;
  in.cells.resize(plan.keys.size());
  for (const Ev& e : p.events) {
    if (e.t < plan.min_time || e.t > plan.max_time) continue;
    in.time.push_back(e.t);
    in.event.push_back(cat.events.find(e.name));
    for (size_t k = 0; k < plan.keys.size(); ++k) {
      const std::string key(cat.keys.get(plan.keys[k]));
      Cell c;
      if (key == "score") c = number_cell(e.score);
      else if (key == "ticket_id") c = number_cell(e.ticket);
      else if (key == "email_id" && e.email) c = Cell{true, ValueType::kString, cat.strings().find(*e.email)};
      in.cells[k].push_back(c);
    }
  }
  return in;
}

std::pair<json, json> engine_answers(const json& doc, const std::vector<Person>& persons, std::mt19937_64& rng) {
  const Catalogued c = catalog_of(rng, persons);
  auto spec = parse_metric(doc);
  EXPECT_TRUE(spec.is_ok()) << spec.status().message() << "\n" << doc.dump();
  if (!spec.is_ok()) return {};
  auto compiled = compile_metric(*spec, c.cat);
  EXPECT_TRUE(compiled.is_ok()) << compiled.status().message();
  if (!compiled.is_ok()) return {};
  MetricKernel whole(*compiled), left(*compiled), right(*compiled);
  for (size_t i = 0; i < persons.size(); ++i) {
    const PersonInput in = input_of(c.cat, compiled->plan, persons[i]);
    if (in.time.empty()) continue;  // the scan skips persons without events in its range
    whole.add(in.view(c.ids[i]));
    (rng() % 2 ? left : right).add(in.view(c.ids[i]));
  }
  left.merge(right);
  return {whole.result(), left.result()};
}

// Every key of `want` in `got`, numbers to 1e-9 relative (means sum in another order).
void expect_subset(const json& want, const json& got, const std::string& where) {
  for (const auto& [key, w] : want.items()) {
    ASSERT_TRUE(got.contains(key)) << where << ": no " << key << " in " << got.dump();
    const json& g = got[key];
    if (w.is_object()) {
      expect_subset(w, g, where + "." + key);
    } else if (w.is_array()) {
      ASSERT_TRUE(g.is_array() && g.size() == w.size()) << where << "." << key << ": " << g.dump();
      for (size_t i = 0; i < w.size(); ++i) expect_subset(w[i], g[i], fmt::format("{}.{}[{}]", where, key, i));
    }
    else if (w.is_number() && g.is_number())
      EXPECT_NEAR(w.get<double>(), g.get<double>(), 1e-9 * std::max(1.0, std::abs(w.get<double>()))) << where << "." << key;
    else EXPECT_EQ(w, g) << where << "." << key;
  }
}

TEST(Metric, EngineMatchesReferenceOnRandomHistories) {
  std::mt19937_64 rng(20261125);
  const std::vector<std::string> metrics = {"retention_rate", "churn_rate", "nps", "email_open_rate", "email_click_rate",
                                            "first_response_time", "tickets_resolved", "trial_to_paid_rate",
                                            "upsell_conversion"};
  std::map<std::string, uint64_t> seen;  // non-trivial answers per metric, so the test cannot pass on empty ones
  for (int round = 0; round < 8000; ++round) {
    const std::vector<Person> persons = random_persons(rng);
    json doc = {{"type", "metric"}, {"metric", metrics[rng() % metrics.size()]}};
    const Micros from = kT0 + static_cast<Micros>(rng() % 10) * kMicrosPerDay + static_cast<Micros>(rng() % 4) * 6 * kHour;
    const Micros to = from + static_cast<Micros>(1 + rng() % 20) * kMicrosPerDay;
    doc["range"] = {{"from", format_time(from)}, {"to", format_time(to)}};
    if (rng() % 4 == 0) doc["filters"] = json::array({{{"trait", "country"}, {"op", "eq"}, {"value", "DE"}}});
    if (doc["metric"] == "trial_to_paid_rate" && rng() % 2) doc["window"] = fmt::format("{}d", rng() % 15);
    if (doc["metric"].get<std::string>().rfind("email", 0) == 0 && rng() % 2) doc["unique"] = false;
    if ((doc["metric"] == "nps" || doc["metric"].get<std::string>().rfind("email", 0) == 0) && rng() % 2) doc["period"] = "day";
    const json want = reference(doc, persons);
    const auto [one, merged] = engine_answers(doc, persons, rng);
    const std::string where = fmt::format("round {} {}", round, doc.dump());
    expect_subset(want, one, where);
    expect_subset(want, merged, where + " (merged)");
    if (::testing::Test::HasFailure()) return;
    if (!want["value"].is_null() && want["value"] != 0) ++seen[doc["metric"]];
    if (want.contains("periods") && want["periods"].size() > 1) ++seen["periods"];
  }
  for (const std::string& m : metrics) EXPECT_GE(seen[m], 50u) << m;
  EXPECT_GE(seen["periods"], 500u);
}

}  // namespace metric_test
}  // namespace cairn::query
