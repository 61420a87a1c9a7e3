// Lifecycle stages: a brute-force reference written straight from
// docs/QUERY.md ("Lifecycle stages") against the engine, on thousands of
// random small cases drawing every option. The reference works on plain
// per-person lists of (time, event name, properties), finds each stage's
// entry by listing the matching events, keeps each person's set of active
// periods as first days computed from the fixed offset, and classifies every
// listed period by set lookups. The engine gets the same persons through an
// in-memory catalog (dictionaries interned in a shuffled order), once into
// one kernel and once split over two merged ones.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
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
#include "query/stages.h"

namespace cairn::query {
namespace stages_test {

using nlohmann::json;

const Micros kT0 = days_from_civil(2026, 1, 1) * kMicrosPerDay;
constexpr Micros kHour = 3600 * kMicrosPerSecond;

// ---- cases as the reference sees them ----

struct Val {
  enum Type { kNone, kString, kNumber } type = kNone;
  std::string s;
  double d = 0;
};

struct Ev {
  Micros t = 0;
  std::string name;
  Val ch, f;  // properties "ch" (a string or the number 7) and "f" (a string)
};

struct Person {
  std::string id;
  std::string country;  // "" : no trait
  std::vector<Ev> events;  // in (time, arrival) order
};

// The document plus what the reference needs in numbers: it writes the range
// and the zone into the document from these.
struct Case {
  json doc;
  std::optional<Micros> from, to;
  int offset_minutes = 0;
};

using Seen = std::map<std::string, uint64_t>;

// ---- the reference ----

std::string text(const Val& v) { return v.type == Val::kString ? v.s : fmt::format("{}", static_cast<int64_t>(v.d)); }

// A period is named by its first local day.
struct Periods {
  std::string unit;  // "day", "week", "month"
  int offset_minutes = 0;
  int64_t start_of_day(int64_t day) const {
    if (unit == "day") return day;
    if (unit == "week") {
      const int64_t monday_based = ((day + 3) % 7 + 7) % 7;  // 1970-01-01 was a Thursday
      return day - monday_based;
    }
    const Civil c = civil_from_days(day);
    return days_from_civil(c.y, c.m, 1);
  }
  int64_t of(Micros t) const {
    const Micros local = t + offset_minutes * 60 * kMicrosPerSecond;
    const int64_t day = local >= 0 ? local / kMicrosPerDay : -((-local + kMicrosPerDay - 1) / kMicrosPerDay);
    return start_of_day(day);
  }
  int64_t next(int64_t p) const {
    if (unit == "day") return p + 1;
    if (unit == "week") return p + 7;
    const Civil c = civil_from_days(p);
    return c.m == 12 ? days_from_civil(c.y + 1, 1, 1) : days_from_civil(c.y, c.m + 1, 1);
  }
  int64_t previous(int64_t p) const { return start_of_day(p - 1); }
};

bool def_holds(const json& def, const Ev& e) {
  if (def["event"] != e.name) return false;
  if (def.contains("where"))
    for (const json& w : def["where"])  // only {"property": "f", "op": "eq", "value": STRING}
      if (e.f.type != Val::kString || e.f.s != w["value"].get<std::string>()) return false;
  return true;
}

bool event_holds(const json& obj, const Ev& e) {
  if (obj.contains("any_of")) {
    for (const json& d : obj["any_of"])
      if (def_holds(d, e)) return true;
    return false;
  }
  return def_holds(obj, e);
}

struct StageTally {
  uint64_t entered = 0, from_previous = 0, in_order = 0;
  std::vector<Micros> since_previous, since_first;
};

struct Member {
  bool in_report = false;
  std::set<int64_t> active;
};

struct Group {
  uint64_t persons = 0;
  std::vector<StageTally> stages;
  std::vector<Member> members;
};

json stats_of(std::vector<Micros> v) {
  if (v.empty()) return json{{"median", nullptr}, {"mean", nullptr}, {"p90", nullptr}, {"count", 0}};
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  const double s = static_cast<double>(kMicrosPerSecond);
  double sum = 0;
  for (Micros x : v) sum += static_cast<double>(x);
  const double median = n % 2 ? static_cast<double>(v[n / 2]) : (static_cast<double>(v[n / 2 - 1]) + static_cast<double>(v[n / 2])) / 2;
  size_t rank = 1;
  while (static_cast<double>(rank) < 0.9 * static_cast<double>(n)) ++rank;  // nearest rank: the smallest k with k >= 0.9 n
  return json{{"median", median / s}, {"mean", sum / static_cast<double>(n) / s}, {"p90", static_cast<double>(v[rank - 1]) / s},
              {"count", n}};
}

json share(uint64_t a, uint64_t b) { return b ? json(static_cast<double>(a) / static_cast<double>(b)) : json(nullptr); }

class Reference {
 public:
  Reference(const Case& c, Seen& seen) : c_(c), doc_(c.doc), seen_(seen) {
    stages_ = doc_.contains("stages") ? doc_["stages"] : json::array();
    if (doc_.contains("activity")) {
      activity_ = true;
      act_.unit = doc_["activity"].value("period", "week");
      act_.offset_minutes = c.offset_minutes;
      act_def_ = doc_["activity"].contains("event") || doc_["activity"].contains("any_of");
    }
  }

  json answer(const std::vector<Person>& persons) {
    std::map<std::string, Group> groups;
    Group total;
    total.stages.resize(stages_.size());
    for (const Person& p : persons) {
      if (trait_filtered() && p.country != "DE") {
        ++seen_["person dropped by a trait filter"];
        continue;
      }
      std::vector<const Ev*> evs;
      for (const Ev& e : p.events) {
        if (event_filtered() && e.ch.type == Val::kString && e.ch.s == "b") {
          ++seen_["event dropped by a filter"];
          continue;
        }
        evs.push_back(&e);
      }
      // Entry point: the first event that has the property.
      std::string label = "(none)";
      for (const Ev* e : evs)
        if (e->ch.type != Val::kNone) {
          label = text(e->ch);
          break;
        }
      // Each stage's entering event (an index into evs), or none.
      std::vector<std::optional<size_t>> at(stages_.size());
      for (size_t s = 0; s < stages_.size(); ++s) {
        const json& st = stages_[s];
        std::vector<size_t> matches;
        for (size_t i = 0; i < evs.size(); ++i)
          if (event_holds(st, *evs[i])) matches.push_back(i);
        if (st.contains("active_periods")) {
          Periods per{st.value("period", "week"), c_.offset_minutes};
          std::set<int64_t> periods;
          for (size_t i : matches) {
            if (!periods.insert(per.of(evs[i]->t)).second) continue;
            if (periods.size() == st["active_periods"].get<size_t>()) {
              at[s] = i;
              ++seen_["entered by active periods"];
              if (matches.front() != i) ++seen_["active periods entry is not the first match"];
              break;
            }
          }
        } else {
          const size_t nth = st.value("nth", size_t{1});
          if (matches.size() >= nth) {
            at[s] = matches[nth - 1];
            if (nth > 1) ++seen_["entered by nth"];
          }
        }
      }
      Member m;
      m.in_report = !stages_.empty() && at[0] && (!c_.from || evs[*at[0]]->t >= *c_.from) && (!c_.to || evs[*at[0]]->t < *c_.to);
      if (!stages_.empty() && at[0] && !m.in_report) ++seen_["first stage outside the range"];
      if (activity_)
        for (const Ev* e : evs)
          if (!act_def_ || event_holds(doc_["activity"], *e)) m.active.insert(act_.of(e->t));
      // In the answer: in the report, or active or dormant in a period of the range.
      bool touches = false;
      for (int64_t a : m.active)
        touches = touches || in_bounds(a) || (!m.active.count(act_.next(a)) && in_bounds(act_.next(a)));
      if (!m.in_report && !touches) continue;
      std::vector<Group*> targets{&total};
      if (doc_.contains("entry_point")) targets.push_back(&groups[label]);
      for (Group* g : targets) {
        g->stages.resize(stages_.size());
        g->members.push_back(m);
        if (!m.in_report) continue;
        ++g->persons;
        bool chain = true;
        for (size_t s = 0; s < stages_.size(); ++s) {
          StageTally& st = g->stages[s];
          if (!at[s]) {
            chain = false;
            continue;
          }
          ++st.entered;
          if (s == 0) {
            ++st.from_previous;
            ++st.in_order;
            continue;
          }
          const bool after = at[s - 1] && *at[s] >= *at[s - 1];
          if (at[s - 1] && !after) ++seen_["stage entered before the previous one"];
          if (after && *at[s] == *at[s - 1]) ++seen_["one event enters two stages"];
          chain = chain && after;
          if (after) {
            ++st.from_previous;
            st.since_previous.push_back(evs[*at[s]]->t - evs[*at[s - 1]]->t);
          }
          if (chain) {
            ++st.in_order;
            st.since_first.push_back(evs[*at[s]]->t - evs[*at[0]]->t);
          }
        }
      }
    }
    listed_ = listed_periods(total);
    json out = part(total);
    out["type"] = "stages";
    if (doc_.contains("entry_point")) {
      std::vector<std::pair<std::string, Group*>> order;
      for (auto& [label, g] : groups) order.emplace_back(label, &g);
      std::sort(order.begin(), order.end(), [&](const auto& a, const auto& b) {
        if (a.second->persons != b.second->persons) return a.second->persons > b.second->persons;
        const uint64_t aa = active_persons(*a.second), ab = active_persons(*b.second);
        if (aa != ab) return aa > ab;
        return a.first < b.first;
      });
      const size_t limit = doc_["entry_point"].value("limit", size_t{10});
      json list = json::array();
      Group other;
      other.stages.resize(stages_.size());
      for (size_t i = 0; i < order.size(); ++i) {
        if (i < limit) {
          json g = part(*order[i].second);
          g["value"] = order[i].first;
          list.push_back(std::move(g));
          continue;
        }
        ++seen_["entry point folded into other"];
        const Group& g = *order[i].second;
        other.persons += g.persons;
        other.members.insert(other.members.end(), g.members.begin(), g.members.end());
        for (size_t s = 0; s < stages_.size(); ++s) {
          other.stages[s].entered += g.stages[s].entered;
          other.stages[s].from_previous += g.stages[s].from_previous;
          other.stages[s].in_order += g.stages[s].in_order;
          for (Micros x : g.stages[s].since_previous) other.stages[s].since_previous.push_back(x);
          for (Micros x : g.stages[s].since_first) other.stages[s].since_first.push_back(x);
        }
      }
      if (order.size() > limit) {
        json g = part(other);
        g["value"] = "other";
        list.push_back(std::move(g));
      }
      if (groups.count("7")) ++seen_["entry point 7 (string and number)"];
      out["entry_points"] = std::move(list);
    }
    return out;
  }

 private:
  bool trait_filtered() const { return doc_.contains("filters") && doc_["filters"].dump().find("trait") != std::string::npos; }
  bool event_filtered() const {
    return doc_.contains("filters") && doc_["filters"].dump().find("\"property\"") != std::string::npos;
  }
  // Inside the periods the range touches (either end may be open).
  bool in_bounds(int64_t p) const { return (!c_.from || p >= act_.of(*c_.from)) && (!c_.to || p <= act_.of(*c_.to - 1)); }

  std::vector<int64_t> listed_periods(const Group& total) const {
    std::vector<int64_t> out;
    if (!activity_) return out;
    std::set<int64_t> candidates;
    for (const Member& m : total.members)
      for (int64_t a : m.active)
        if (in_bounds(a)) candidates.insert(a);
    if ((!c_.from || !c_.to) && candidates.empty()) return out;
    const int64_t lo = c_.from ? act_.of(*c_.from) : *candidates.begin();
    const int64_t hi = c_.to ? act_.of(*c_.to - 1) : *candidates.rbegin();
    for (int64_t p = lo; p <= hi; p = act_.next(p)) out.push_back(p);
    return out;
  }

  uint64_t active_persons(const Group& g) const {
    uint64_t n = 0;
    for (const Member& m : g.members) {
      bool any = false;
      for (int64_t a : m.active) any = any || in_bounds(a);
      n += any;
    }
    return n;
  }

  json part(const Group& g) {
    json out = json::object();
    if (!stages_.empty()) {
      out["persons"] = g.persons;
      json list = json::array();
      for (size_t s = 0; s < stages_.size(); ++s) {
        const StageTally& st = g.stages[s];
        const uint64_t previous = s == 0 ? g.persons : g.stages[s - 1].entered;
        list.push_back(json{{"stage", s + 1},
                            {"name", stages_[s]["name"]},
                            {"entered", st.entered},
                            {"entered_share", share(st.entered, g.persons)},
                            {"from_previous", st.from_previous},
                            {"conversion_from_previous", share(st.from_previous, previous)},
                            {"in_order", st.in_order},
                            {"conversion_from_start", share(st.in_order, g.persons)},
                            {"time_from_previous", stats_of(st.since_previous)},
                            {"time_from_start", stats_of(st.since_first)}});
      }
      out["stages"] = std::move(list);
    }
    if (activity_) {
      json periods = json::array();
      for (int64_t p : listed_) {
        const int64_t before = act_.previous(p);
        uint64_t active = 0, fresh = 0, returning = 0, resurrecting = 0, dormant = 0;
        for (const Member& m : g.members) {
          const bool now = m.active.count(p) > 0, then = m.active.count(before) > 0;
          if (then && !now) ++dormant;
          if (!now) continue;
          ++active;
          if (*m.active.begin() == p) ++fresh;
          else if (then) ++returning;
          else ++resurrecting;
        }
        seen_["new"] += fresh;
        seen_["returning"] += returning;
        seen_["resurrecting"] += resurrecting;
        seen_["dormant"] += dormant;
        periods.push_back(json{{"period", fmt::format("{:04}-{:02}-{:02}", civil_from_days(p).y, civil_from_days(p).m, civil_from_days(p).d)},
                               {"active", active},
                               {"new", fresh},
                               {"returning", returning},
                               {"resurrecting", resurrecting},
                               {"dormant", dormant},
                               {"quick_ratio", share(fresh + resurrecting, dormant)}});
      }
      out["activity"] = json{{"period", act_.unit}, {"active_persons", active_persons(g)}, {"periods", std::move(periods)}};
    }
    return out;
  }

  const Case& c_;
  const json& doc_;
  Seen& seen_;
  json stages_;
  bool activity_ = false, act_def_ = false;
  Periods act_;
  std::vector<int64_t> listed_;
};

// ---- comparing answers ----

std::string json_diff(const json& want, const json& got, const std::string& path = "$") {
  if (want.is_number() && got.is_number()) {
    const double a = want.get<double>(), b = got.get<double>();
    return std::fabs(a - b) <= 1e-9 * std::max(1.0, std::fabs(a)) ? "" : fmt::format("{}: want {} got {}", path, a, b);
  }
  if (want.type() != got.type()) return fmt::format("{}: want {} got {}", path, want.dump(), got.dump());
  if (want.is_object()) {
    for (const auto& [k, v] : want.items()) {
      if (!got.contains(k)) return fmt::format("{}.{}: missing", path, k);
      if (std::string d = json_diff(v, got[k], path + "." + k); !d.empty()) return d;
    }
    for (const auto& [k, v] : got.items())
      if (!want.contains(k)) return fmt::format("{}.{}: unexpected", path, k);
    return "";
  }
  if (want.is_array()) {
    if (want.size() != got.size()) return fmt::format("{}: want {} elements got {}", path, want.size(), got.size());
    for (size_t i = 0; i < want.size(); ++i)
      if (std::string d = json_diff(want[i], got[i], fmt::format("{}[{}]", path, i)); !d.empty()) return d;
    return "";
  }
  return want == got ? "" : fmt::format("{}: want {} got {}", path, want.dump(), got.dump());
}

// ---- the engine's side ----

template <typename T>
const T& pick(std::mt19937_64& rng, const std::vector<T>& v) {
  return v[rng() % v.size()];
}

void shuffle_intern(std::mt19937_64& rng, StringPool& pool, std::vector<std::string> texts) {
  std::shuffle(texts.begin(), texts.end(), rng);
  for (const std::string& t : texts) pool.intern(t);
}

Cell cell_of(const Catalog& cat, const Val& v) {
  Cell c;
  if (v.type == Val::kString) c = Cell{true, ValueType::kString, cat.strings().find(v.s)};
  if (v.type == Val::kNumber) {
    c.present = true;
    c.type = ValueType::kNumber;
    std::memcpy(&c.bits, &v.d, sizeof v.d);
  }
  return c;
}

std::pair<json, json> engine_answers(const Case& cs, const std::vector<Person>& persons, std::mt19937_64& rng) {
  Catalog cat;
  shuffle_intern(rng, cat.events, {"e0", "e1", "e2", "e3"});
  shuffle_intern(rng, cat.keys, {"ch", "f", "country"});
  shuffle_intern(rng, cat.strings(), {"a", "b", "7", "x", "y", "DE", "US"});
  std::vector<uint32_t> ids;
  for (const Person& p : persons) {
    ids.push_back(cat.intern_id(p.id, true));
    if (!p.country.empty())
      cat.set_trait(ids.back(), StoredProp{cat.keys.find("country"), ValueType::kString, cat.strings().find(p.country)});
  }
  return testing::kernel_answers<StagesKernel>(
      cs.doc, parse_stages, compile_stages, cat, ids,
      [&](const ScanPlan& plan, size_t i) {
        return testing::input_in_plan(cat, plan, persons[i].events, [&](const Ev& e, const std::string& key) {
          return cell_of(cat, key == "ch" ? e.ch : key == "f" ? e.f : Val{});
        });
      },
      rng);
}

// ---- random cases ----

std::string iso(Micros t) {
  const Civil c = civil_from_days(t / kMicrosPerDay);
  const int64_t s = (t % kMicrosPerDay) / kMicrosPerSecond;
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", c.y, c.m, c.d, s / 3600, s / 60 % 60, s % 60);
}

json random_def(std::mt19937_64& rng) {
  json d{{"event", fmt::format("e{}", rng() % 4)}};
  if (rng() % 4 == 0) d["where"] = json::array({json{{"property", "f"}, {"op", "eq"}, {"value", rng() % 2 ? "x" : "y"}}});
  return d;
}

// An event definition or any_of two, into `obj`.
void add_events(std::mt19937_64& rng, json& obj) {
  if (rng() % 3 == 0) {
    obj["any_of"] = json::array({random_def(rng), random_def(rng)});
    return;
  }
  const json def = random_def(rng);
  for (const auto& [k, v] : def.items()) obj[k] = v;
}

Case random_case(std::mt19937_64& rng) {
  Case c;
  c.doc = json{{"type", "stages"}};
  if (rng() % 5) {
    const Micros from = kT0 + static_cast<Micros>(rng() % 30) * kMicrosPerDay + (rng() % 2 ? static_cast<Micros>(rng() % 24) * kHour : 0);
    const Micros to = from + static_cast<Micros>(1 + rng() % 25) * kMicrosPerDay + (rng() % 2 ? static_cast<Micros>(rng() % 24) * kHour : 0);
    json range = json::object();
    if (rng() % 5) {
      c.from = from;
      range["from"] = iso(from);
    }
    if (rng() % 5 || range.empty()) {
      c.to = to;
      range["to"] = iso(to);
    }
    c.doc["range"] = range;
  }
  const int zone = static_cast<int>(rng() % 5);
  static const char* const kZones[] = {"UTC", "+02:00", "-05:00", "+05:30"};
  static const int kOffsets[] = {0, 120, -300, 330};
  if (zone < 4) {
    c.doc["timezone"] = kZones[zone];
    c.offset_minutes = kOffsets[zone];
  }
  const bool stages = rng() % 5 != 0;
  if (stages) {
    json list = json::array();
    const size_t n = 1 + rng() % 4;
    for (size_t s = 0; s < n; ++s) {
      json st{{"name", fmt::format("s{}", s)}};
      add_events(rng, st);
      switch (rng() % 4) {
        case 0:
          st["nth"] = 1 + rng() % 3;
          break;
        case 1:
          st["active_periods"] = 1 + rng() % 3;
          if (rng() % 4) st["period"] = pick<std::string>(rng, {"day", "week", "month"});
          break;
        default:
          break;
      }
      list.push_back(std::move(st));
    }
    c.doc["stages"] = std::move(list);
  }
  if (!stages || rng() % 2) {
    json a = json::object();
    if (rng() % 4) a["period"] = pick<std::string>(rng, {"day", "week", "month"});
    if (rng() % 3 == 0) add_events(rng, a);
    c.doc["activity"] = std::move(a);
  }
  if (rng() % 2) {
    json e{{"property", "ch"}};
    if (rng() % 2) e["limit"] = 1 + rng() % 3;
    c.doc["entry_point"] = std::move(e);
  }
  json filters = json::array();
  if (rng() % 5 == 0) filters.push_back(json{{"property", "ch"}, {"op", "neq"}, {"value", "b"}});
  if (rng() % 6 == 0) filters.push_back(json{{"trait", "country"}, {"op", "eq"}, {"value", "DE"}});
  if (!filters.empty()) c.doc["filters"] = std::move(filters);
  return c;
}

Person random_person(std::mt19937_64& rng, size_t i) {
  Person p;
  p.id = fmt::format("p{}", i);
  p.country = pick<std::string>(rng, {"", "DE", "US"});
  const size_t n = rng() % 12;
  // Events over about seven weeks around the ranges, some at equal times.
  for (size_t k = 0; k < n; ++k) {
    Ev e;
    e.t = !p.events.empty() && rng() % 6 == 0 ? p.events.back().t
                                              : kT0 - 10 * kMicrosPerDay + static_cast<Micros>(rng() % (60 * 24)) * kHour;
    e.name = fmt::format("e{}", rng() % 4);
    switch (rng() % 6) {
      case 0: e.ch = Val{Val::kString, "a", 0}; break;
      case 1: e.ch = Val{Val::kString, "b", 0}; break;
      case 2: e.ch = Val{Val::kString, "7", 0}; break;
      case 3: e.ch = Val{Val::kNumber, "", 7}; break;
      default: break;
    }
    if (rng() % 2) e.f = Val{Val::kString, rng() % 2 ? "x" : "y", 0};
    p.events.push_back(std::move(e));
  }
  std::stable_sort(p.events.begin(), p.events.end(), [](const Ev& a, const Ev& b) { return a.t < b.t; });
  return p;
}

TEST(Stages, EngineMatchesReferenceOnRandomCases) {
  std::mt19937_64 rng(20261125);
  Seen seen;
  std::map<std::string, uint64_t> rounds;
  for (int round = 0; round < 6000; ++round) {
    const Case c = random_case(rng);
    std::vector<Person> persons;
    const size_t n = 3 + rng() % 10;
    for (size_t i = 0; i < n; ++i) persons.push_back(random_person(rng, i));
    const auto [whole, merged] = engine_answers(c, persons, rng);
    ASSERT_FALSE(HasFailure());
    Reference ref(c, seen);
    const json want = ref.answer(persons);
    for (const auto& [what, got] : {std::pair<const char*, const json&>{"one kernel", whole}, {"merged kernels", merged}}) {
      const std::string diff = json_diff(want, got);
      ASSERT_EQ(diff, "") << "round " << round << ", " << what << "\nquery: " << c.doc.dump() << "\nwant: " << want.dump()
                          << "\ngot:  " << got.dump();
    }
    if (want.value("persons", 0) > 0) ++rounds["persons in the report"];
    if (want.contains("activity") && !want["activity"]["periods"].empty()) ++rounds["activity periods"];
    if (want.contains("entry_points") && want["entry_points"].size() > 1) ++rounds["several entry points"];
    if (!c.from || !c.to) ++rounds["open range end"];
    if (c.offset_minutes != 0) ++rounds["time zone with an offset"];
  }
  for (const auto& [what, n] : rounds) EXPECT_GT(n, 500u) << what;
  EXPECT_EQ(rounds.size(), 5u);
  for (const char* what : {"person dropped by a trait filter", "event dropped by a filter", "entered by active periods",
                           "active periods entry is not the first match", "entered by nth", "first stage outside the range",
                           "stage entered before the previous one", "one event enters two stages",
                           "entry point folded into other", "entry point 7 (string and number)", "new", "returning",
                           "resurrecting", "dormant"})
    EXPECT_GT(seen[what], 200u) << what;
}

// ---- hand-worked cases, for the reference as much as for the engine ----

void expect_answer(const Case& c, const std::vector<Person>& persons, const json& want) {
  Seen seen;
  Reference ref(c, seen);
  EXPECT_EQ(json_diff(want, ref.answer(persons)), "") << "reference";
  std::mt19937_64 rng(1);
  const auto [whole, merged] = engine_answers(c, persons, rng);
  EXPECT_EQ(json_diff(want, whole), "") << "engine";
  EXPECT_EQ(json_diff(want, merged), "") << "engine, merged kernels";
}

Ev ev(const std::string& name, Micros t) {
  Ev e;
  e.name = name;
  e.t = t;
  return e;
}

TEST(Stages, WorkedStagesAndLifecycle) {
  // 2026-01-05 is a Monday. Range: the two weeks from Jan 5.
  const Micros jan5 = days_from_civil(2026, 1, 5) * kMicrosPerDay;
  Case c;
  c.from = jan5;
  c.to = jan5 + 14 * kMicrosPerDay;
  c.doc = json::parse(R"({"type": "stages", "range": {"from": "2026-01-05", "to": "2026-01-19"},
    "stages": [{"name": "visit", "event": "e0"}, {"name": "key", "event": "e1", "nth": 2}],
    "activity": {"period": "week"}})");
  // a: e0 Jan 5 00:00, e1 Jan 5 01:00 and Jan 6 00:00 (2nd e1: 1 day after the visit), active weeks {Jan 5}.
  // b: e1 Jan 1 (week Dec 29), e0 Jan 13 00:00, e1 Jan 12 (2nd e1 before the visit), weeks {Dec 29, Jan 12}.
  // d: e0 Dec 30 (before the range: not in the report), e2 Jan 6: weeks {Dec 29, Jan 5}.
  const std::vector<Person> persons = {
      Person{"a", "", {ev("e0", jan5), ev("e1", jan5 + kHour), ev("e1", jan5 + kMicrosPerDay)}},
      Person{"b", "", {ev("e1", jan5 - 4 * kMicrosPerDay), ev("e1", jan5 + 7 * kMicrosPerDay), ev("e0", jan5 + 8 * kMicrosPerDay)}},
      Person{"d", "", {ev("e0", jan5 - 6 * kMicrosPerDay), ev("e2", jan5 + kMicrosPerDay)}},
  };
  // persons a, b: key entered 2, from previous 1 (a) of 2, time 86400 s.
  // Week Jan 5: a new, d returning; dormant b (active Dec 29) -> quick ratio 1 / 1.
  // Week Jan 12: b resurrecting; dormant a, d -> quick ratio 1 / 2.
  const json want = json::parse(R"({"type": "stages", "persons": 2,
    "stages": [{"stage": 1, "name": "visit", "entered": 2, "entered_share": 1.0, "from_previous": 2,
                "conversion_from_previous": 1.0, "in_order": 2, "conversion_from_start": 1.0,
                "time_from_previous": {"median": null, "mean": null, "p90": null, "count": 0},
                "time_from_start": {"median": null, "mean": null, "p90": null, "count": 0}},
               {"stage": 2, "name": "key", "entered": 2, "entered_share": 1.0, "from_previous": 1,
                "conversion_from_previous": 0.5, "in_order": 1, "conversion_from_start": 0.5,
                "time_from_previous": {"median": 86400, "mean": 86400, "p90": 86400, "count": 1},
                "time_from_start": {"median": 86400, "mean": 86400, "p90": 86400, "count": 1}}],
    "activity": {"period": "week", "active_persons": 3,
      "periods": [{"period": "2026-01-05", "active": 2, "new": 1, "returning": 1, "resurrecting": 0, "dormant": 1, "quick_ratio": 1.0},
                  {"period": "2026-01-12", "active": 1, "new": 0, "returning": 0, "resurrecting": 1, "dormant": 2, "quick_ratio": 0.5}]}})");
  expect_answer(c, persons, want);
}

}  // namespace stages_test
}  // namespace cairn::query
