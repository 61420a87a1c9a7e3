// Paths, top paths and branches: a brute-force reference written straight
// from docs/QUERY.md ("Paths, top paths and branches") against the engine, on
// thousands of random small journeys and random query documents that draw
// every option. The reference reads the JSON document itself, works on plain
// per-person lists of (time, event name, property values), computes labels as
// strings and builds the documented answer. The engine gets the same persons
// through an in-memory catalog (dictionaries interned in a shuffled order, so
// ids never sort like their texts), cut to its plan's time range as the scan
// would cut them, once into one kernel and once split over two merged ones.
#include <gtest/gtest.h>
#include <re2/re2.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/time.h"
#include "journey_fixture.h"
#include "query/paths.h"

namespace cairn::query {
namespace paths_test {

using nlohmann::json;

constexpr Micros kSecond = kMicrosPerSecond;
const Micros kT0 = days_from_civil(2026, 1, 1) * kMicrosPerDay;
const char* const kEllipsis = "\xE2\x80\xA6";  // "…"

// ---- journeys as the reference sees them ----

using testing::Catalogued;
using testing::Ev;
using testing::Input;
using testing::Person;
using testing::Props;
using testing::Val;
using testing::cell_of;
using testing::get;
using testing::input_of;
using testing::text_of;

// What the random cases exercised, so that the test cannot pass on empty answers.
using Seen = std::map<std::string, uint64_t>;

// ---- the reference: short and obviously right ----

Micros duration(const json& j) { return *parse_duration(j.get<std::string>()); }

const RE2& regex(const std::string& pattern) {
  static std::map<std::string, std::unique_ptr<RE2>> cache;
  std::unique_ptr<RE2>& re = cache[pattern];
  if (!re) re = std::make_unique<RE2>(pattern);
  return *re;
}

// Types must match: the string "7" is not the number 7.
bool equal(const Val& v, const json& x) {
  switch (v.type) {
    case Val::kString:
      return x.is_string() && x.get<std::string>() == v.s;
    case Val::kNumber:
      return x.is_number() && x.get<double>() == v.d;
    case Val::kBool:
      return x.is_boolean() && x.get<bool>() == v.b;
    case Val::kNone:
      break;
  }
  return false;
}

// One condition ({"property"|"trait", "op", "value"}) on a value.
bool holds(const json& f, const Val& v) {
  const std::string op = f["op"].get<std::string>();
  const json x = f.contains("value") ? f["value"] : json();
  if (op == "eq") return equal(v, x);
  if (op == "neq") return !equal(v, x);
  if (op == "in" || op == "not_in") {
    bool any = false;
    for (const json& e : x) any = any || equal(v, e);
    return any == (op == "in");
  }
  if (op == "exists") return v.type != Val::kNone;
  if (op == "contains") return v.type == Val::kString && v.s.find(x.get<std::string>()) != std::string::npos;
  if (op == "regex") return v.type == Val::kString && RE2::PartialMatch(v.s, regex(x.get<std::string>()));
  if (v.type != Val::kNumber) return false;
  const double bound = x.get<double>();
  if (op == "gt") return v.d > bound;
  if (op == "gte") return v.d >= bound;
  if (op == "lt") return v.d < bound;
  return v.d <= bound;  // lte
}

bool matches(const json& def, const Ev& e) {
  if (def["event"].get<std::string>() != e.name) return false;
  if (def.contains("where"))
    for (const json& f : def["where"])
      if (!holds(f, get(e.props, f["property"].get<std::string>()))) return false;
  return true;
}

double seconds(Micros t) { return static_cast<double>(t) / static_cast<double>(kSecond); }

// Median (mean of the middle two), mean, p90 (nearest rank: the ceil(0.9 n)-th smallest), count.
json stats(std::vector<Micros> v) {
  if (v.empty()) return json{{"median", nullptr}, {"mean", nullptr}, {"p90", nullptr}, {"count", 0}};
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  const double median = n % 2 ? seconds(v[n / 2]) : (seconds(v[n / 2 - 1]) + seconds(v[n / 2])) / 2;
  Micros sum = 0;
  for (Micros x : v) sum += x;
  return json{{"median", median},
              {"mean", seconds(sum) / static_cast<double>(n)},
              {"p90", seconds(v[(9 * n + 9) / 10 - 1])},
              {"count", n}};
}

// Pooled two-proportion z-test, two-sided p-value. As everywhere in cairn:
// nulls when a side is empty, z 0 and p 1 when the pooled rate is 0 or 1.
json z_test(uint64_t x1, uint64_t n1, uint64_t x2, uint64_t n2) {
  if (n1 == 0 || n2 == 0) return json{{"z", nullptr}, {"p_value", nullptr}};
  const double a = static_cast<double>(x1) / static_cast<double>(n1);
  const double b = static_cast<double>(x2) / static_cast<double>(n2);
  const double p = static_cast<double>(x1 + x2) / static_cast<double>(n1 + n2);
  const double se = std::sqrt(p * (1 - p) * (1 / static_cast<double>(n1) + 1 / static_cast<double>(n2)));
  if (se == 0) return json{{"z", 0.0}, {"p_value", 1.0}};
  const double z = (a - b) / se;
  return json{{"z", z}, {"p_value", std::erfc(std::fabs(z) / std::sqrt(2.0))}};
}

double ratio(uint64_t a, uint64_t b) { return static_cast<double>(a) / static_cast<double>(b); }

// What one person brings to a report.
struct Contribution {
  std::string group;  // breakdown value
  // paths: the labels of steps 0..m, and whether the path ends at m (no element after it within the limits)
  std::vector<std::string> labels;
  bool ends = false;
  // top paths: the path (with "…" when cut) and its elements' times; branches: labels[0] is the branch
  std::vector<Micros> times;
  bool converted = false;
  Micros goal = 0;  // top paths: goal time; branches: time from the branching point to the goal
};

// The reference. Where QUERY.md leaves room, it reads it so:
// - a path node's `dropped` counts those whose path ends there within the
//   window and session: a path that goes on past the last step is not
//   dropped at it;
// - the clean rules change the text of every label value, numbers and
//   booleans too ("e2: 2.5" with \d+ -> N is "e2: N.N");
// - explicit branches: the first path event after the branching point that
//   matches a definition, the branching point's own repeats included;
// - implicit branches: "(nothing)" takes no place in the top and never folds;
// - `compare` counts a branch's persons before labels fold into "other";
// - a named branch nobody took has share and conversion 0;
// - breakdown groups get the report's full answer, a comparison included.
class Reference {
 public:
  Reference(const json& doc, Seen& seen) : seen_(seen) {
    type_ = doc["type"].get<std::string>();
    if (doc.contains("range")) {
      if (doc["range"].contains("from")) from_ = *parse_time(doc["range"]["from"].get<std::string>());
      if (doc["range"].contains("to")) to_ = *parse_time(doc["range"]["to"].get<std::string>());
    }
    for (const char* key : {"start", "end", "from"})
      if (doc.contains(key)) anchor_ = doc[key];
    backward_ = doc.contains("end");
    last_ = doc.value("occurrence", "first") == "last";
    if (doc.contains("goal")) goal_ = doc["goal"];
    if (doc.contains("branches")) explicit_ = doc["branches"].get<std::vector<json>>();
    steps_ = doc.value("steps", size_t{5});
    if (type_ == "top_paths") window_ = duration(doc.value("lookback", json("30d")));
    if (type_ == "branches") window_ = duration(doc.value("window", json("30d")));
    if (type_ == "paths" && doc.contains("window")) window_ = duration(doc["window"]);
    if (doc.contains("label")) {
      label_property_ = doc["label"]["property"].get<std::string>();
      if (doc["label"].contains("events")) label_events_ = doc["label"]["events"].get<std::set<std::string>>();
    }
    if (doc.contains("clean"))
      for (const json& r : doc["clean"])
        clean_.emplace_back(r["pattern"].get<std::string>(), r["replace"].get<std::string>());
    collapse_ = doc.value("collapse_repeats", true);
    if (doc.contains("exclude")) exclude_ = doc["exclude"].get<std::vector<json>>();
    if (doc.contains("filters"))
      for (const json& f : doc["filters"]) (f.contains("trait") ? trait_filters_ : event_filters_).push_back(f);
    session_ = doc.value("session", false);
    if (doc.contains("session_gap")) gap_ = duration(doc["session_gap"]);
    default_gap_ = !doc.contains("session_gap");
    if (doc.contains("breakdown")) breakdown_ = doc["breakdown"];
    top_ = doc.value("top", size_t{10});
    min_persons_ = doc.value("min_persons", uint64_t{0});
    limit_ = doc.value("limit", size_t{20});
    if (doc.contains("compare")) compare_ = doc["compare"].get<std::vector<std::string>>();
  }

  json answer(const std::vector<Person>& persons) {
    std::vector<Contribution> all;
    for (const Person& p : persons) {
      bool pass = true;
      for (const json& f : trait_filters_) pass = pass && holds(f, get(p.traits, f["trait"].get<std::string>()));
      if (!pass) {
        ++seen_["person dropped by a trait filter"];
        continue;
      }
      if (auto c = contribution(p)) all.push_back(std::move(*c));
    }
    json out = report(all);
    if (!breakdown_) return out;
    // Groups by persons (largest first, then value); past the limit, one "other".
    std::map<std::string, std::vector<Contribution>> groups;
    for (const Contribution& c : all) groups[c.group].push_back(c);
    std::vector<std::pair<std::string, std::vector<Contribution>>> order(groups.begin(), groups.end());
    std::stable_sort(order.begin(), order.end(),
                     [](const auto& a, const auto& b) { return a.second.size() > b.second.size(); });
    const size_t limit = breakdown_->value("limit", size_t{10});
    std::vector<Contribution> rest;
    json list = json::array();
    for (size_t i = 0; i < order.size(); ++i) {
      if (i < limit) {
        list.push_back(group_entry(order[i].first, order[i].second));
      } else {
        rest.insert(rest.end(), order[i].second.begin(), order[i].second.end());
      }
    }
    if (!rest.empty()) {
      ++seen_["breakdown folds groups into other"];
      list.push_back(group_entry("other", rest));
    }
    out["breakdown"] = std::move(list);
    return out;
  }

 private:
  // ---- one person ----

  bool in_range(Micros t) const { return t >= from_ && t < to_; }

  // Path events: not excluded, passing every property filter.
  std::vector<bool> path_events(const Person& p) {
    std::vector<bool> keep(p.events.size(), true);
    for (size_t i = 0; i < p.events.size(); ++i) {
      for (const json& x : exclude_)
        if (matches(x, p.events[i])) keep[i] = false;
      for (const json& f : event_filters_)
        if (!holds(f, get(p.events[i].props, f["property"].get<std::string>()))) keep[i] = false;
    }
    return keep;
  }

  std::string label(const Ev& e) {
    if (label_property_.empty() || (label_events_ && !label_events_->count(e.name))) return e.name;
    const Val& v = get(e.props, label_property_);
    if (v.type == Val::kNone) return e.name;
    std::string text = text_of(v);
    const std::string raw = text;
    for (const auto& [pattern, replace] : clean_) RE2::GlobalReplace(&text, regex(pattern), replace);
    ++seen_[text == raw ? "label with a value" : "label value cleaned"];
    if (v.type != Val::kString) ++seen_["label of a number or boolean"];
    return e.name + ": " + text;
  }

  // The path events of `seq` (event indices in path order) as elements: with
  // collapse_repeats a run of one label is one element, indexed by its first event.
  std::vector<std::pair<std::string, size_t>> elements(const Person& p, const std::vector<size_t>& seq) {
    std::vector<std::pair<std::string, size_t>> out;
    for (size_t i : seq) {
      std::string l = label(p.events[i]);
      if (collapse_ && !out.empty() && out.back().first == l) {
        ++seen_["repeat collapsed"];
        const Val& run = get(p.events[out.back().second].props, label_property_);
        const Val& v = get(p.events[i].props, label_property_);
        if (run.type != v.type) ++seen_["repeat of one text in two types collapsed"];
        if (run.type == v.type && text_of(run) != text_of(v))
          ++seen_["repeat of two values the clean rules join collapsed"];
        continue;
      }
      out.emplace_back(std::move(l), i);
    }
    return out;
  }

  // Whether event j is in event i's session: no gap over session_gap between
  // two consecutive events (all of them) from one to the other.
  bool same_session(const Person& p, size_t i, size_t j) {
    if (!session_) return true;
    for (size_t k = std::min(i, j); k < std::max(i, j); ++k) {
      if (p.events[k + 1].t - p.events[k].t == gap_) ++seen_["gap of exactly session_gap"];
      if (p.events[k + 1].t - p.events[k].t > gap_) return false;
    }
    return true;
  }

  // Event indices of the path events after (before, backward) `a` within
  // the window and the session, nearest first; counts what the limits cut.
  std::vector<size_t> reach(const Person& p, const std::vector<bool>& keep, size_t a, bool backward) {
    std::vector<size_t> out;
    const auto n = static_cast<ptrdiff_t>(p.events.size());
    for (ptrdiff_t i = static_cast<ptrdiff_t>(a) + (backward ? -1 : 1); i >= 0 && i < n; i += backward ? -1 : 1) {
      const auto k = static_cast<size_t>(i);
      if (!keep[k]) continue;
      const bool in_window = window_ < 0 || std::abs(p.events[k].t - p.events[a].t) <= window_;
      if (std::abs(p.events[k].t - p.events[a].t) == window_) ++seen_["event exactly at the window's end"];
      const bool in_session = same_session(p, a, k);
      if (!in_window) ++seen_["window cuts a path"];
      if (!in_session) ++seen_[default_gap_ ? "session cuts a path at the default gap" : "session cuts a path"];
      if (in_window && in_session && p.events[k].t == p.events[a].t) ++seen_["event at the anchor's time follows it"];
      if (in_window && in_session) out.push_back(k);
    }
    return out;
  }

  std::string group_of(const Person& p, size_t event) const {
    if (breakdown_ && breakdown_->contains("trait"))
      return text_of(get(p.traits, (*breakdown_)["trait"].get<std::string>()));
    if (breakdown_) return text_of(get(p.events[event].props, (*breakdown_)["property"].get<std::string>()));
    return "";
  }

  // The anchor (paths) or branching point: the first or last path event inside range that matches.
  std::optional<size_t> anchor(const Person& p, const std::vector<bool>& keep) {
    std::optional<size_t> first, last;
    for (size_t i = 0; i < p.events.size(); ++i)
      if (keep[i] && in_range(p.events[i].t) && matches(anchor_, p.events[i])) {
        if (!first) first = i;
        last = i;
      }
    if (last_ && first != last) ++seen_["last occurrence is not the first"];
    return last_ ? last : first;
  }

  std::optional<Contribution> contribution(const Person& p) {
    const std::vector<bool> keep = path_events(p);
    for (size_t i = 0; i < keep.size(); ++i)
      if (!keep[i]) ++seen_["event removed from paths"];
    if (type_ == "top_paths") return top_path(p, keep);
    const std::optional<size_t> a = anchor(p, keep);
    if (!a) return std::nullopt;
    Contribution c;
    c.group = group_of(p, *a);
    if (type_ == "paths") {
      std::vector<size_t> seq{*a};
      for (size_t i : reach(p, keep, *a, backward_)) seq.push_back(i);
      const auto els = elements(p, seq);
      for (size_t k = 0; k < els.size() && k <= steps_; ++k) c.labels.push_back(els[k].first);
      c.ends = els.size() <= steps_ + 1;
      if (c.labels.size() > 6) ++seen_["path longer than 6 elements"];
      if (!c.ends) ++seen_["path goes on past the last step"];
      return c;
    }
    // Branches: the goal is any later event within the window, in or out of the session.
    for (size_t i = *a + 1; i < p.events.size() && !c.converted; ++i)
      if (p.events[i].t - p.events[*a].t <= window_ && matches(goal_, p.events[i])) {
        c.converted = true;
        c.goal = p.events[i].t - p.events[*a].t;
        if (!same_session(p, *a, i)) ++seen_["goal outside the session"];
      }
    std::string branch = "(nothing)";
    const std::string own = explicit_.empty() ? label(p.events[*a]) : "";
    for (size_t i : reach(p, keep, *a, false)) {
      if (!explicit_.empty()) {
        const auto d = std::find_if(explicit_.begin(), explicit_.end(),
                                    [&](const json& def) { return matches(def, p.events[i]); });
        if (d == explicit_.end()) continue;
        branch = d->value("name", (*d)["event"].get<std::string>());
        if (p.events[i].name == p.events[*a].name) ++seen_["explicit branch of the branching point's event"];
        break;
      }
      const std::string l = label(p.events[i]);
      if (collapse_ && l == own) continue;  // the branching point's own run
      branch = l;
      break;
    }
    c.labels.push_back(branch);
    return c;
  }

  std::optional<Contribution> top_path(const Person& p, const std::vector<bool>& keep) {
    Contribution c;
    // Converted: a goal event (among all events) inside range; the first is the end point.
    std::optional<size_t> end;
    for (size_t i = 0; i < p.events.size() && !end; ++i)
      if (in_range(p.events[i].t) && matches(goal_, p.events[i])) end = i;
    c.converted = end.has_value();
    // Everyone else: their last path event inside range, which is part of the path.
    if (!end)
      for (size_t i = 0; i < p.events.size(); ++i)
        if (keep[i] && in_range(p.events[i].t)) end = i;
    if (!end) return std::nullopt;
    c.group = group_of(p, *end);
    std::vector<size_t> seq;
    for (size_t i = 0; i < *end + (c.converted ? 0 : 1); ++i) {
      if (!keep[i] || matches(goal_, p.events[i])) continue;
      if (p.events[*end].t - p.events[i].t == window_) ++seen_["event exactly at the window's end"];
      if (p.events[*end].t - p.events[i].t > window_) {
        ++seen_["lookback cuts a path"];
        continue;
      }
      if (!same_session(p, i, *end)) {
        ++seen_[default_gap_ ? "session cuts a path at the default gap" : "session cuts a path"];
        continue;
      }
      seq.push_back(i);
    }
    const auto els = elements(p, seq);
    const size_t skip = els.size() > steps_ ? els.size() - steps_ : 0;
    if (skip) c.labels.push_back(kEllipsis);
    for (size_t k = skip; k < els.size(); ++k) {
      c.labels.push_back(els[k].first);
      c.times.push_back(p.events[els[k].second].t);
    }
    c.goal = p.events[*end].t;
    return c;
  }

  // ---- answers ----

  json report(const std::vector<Contribution>& all) {
    if (type_ == "paths") {
      json out = flow(all);
      out["type"] = "paths";
      out["direction"] = backward_ ? "backward" : "forward";
      out["persons"] = all.size();
      out["steps"] = steps_;
      return out;
    }
    if (type_ == "top_paths") {
      json out = top_paths(all);
      out["type"] = "top_paths";
      return out;
    }
    json out = branches(all);
    out["type"] = "branches";
    if (!compare_.empty()) out["comparison"] = comparison(all);
    return out;
  }

  json group_entry(const std::string& value, const std::vector<Contribution>& members) {
    const json whole = report(members);
    json e{{"value", value}, {"persons", members.size()}};
    const std::vector<const char*> keys = type_ == "paths" ? std::vector<const char*>{"nodes", "links"}
                                          : type_ == "top_paths"
                                              ? std::vector<const char*>{"converted", "paths", "other"}
                                              : std::vector<const char*>{"converted", "branches", "comparison"};
    // "Each group gets the report's full answer": with compare, a comparison too.
    for (const char* k : keys)
      if (whole.contains(k)) e[k] = whole[k];
    return e;
  }

  // Nodes and links of a Sankey chart, folded per step.
  json flow(const std::vector<Contribution>& all) {
    std::map<std::pair<size_t, std::string>, uint64_t> reached;
    for (const Contribution& c : all)
      for (size_t k = 0; k < c.labels.size(); ++k) ++reached[{k, c.labels[k]}];
    // Per step, labels ranked by persons (then label): past the top or under min_persons, "other".
    std::map<std::pair<size_t, std::string>, std::string> shown;
    std::map<size_t, std::vector<std::pair<std::string, uint64_t>>> per_step;
    for (const auto& [node, n] : reached) per_step[node.first].emplace_back(node.second, n);
    for (auto& [k, labels] : per_step) {
      std::stable_sort(labels.begin(), labels.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
      for (size_t r = 0; r < labels.size(); ++r) {
        const bool keep = r < top_ && labels[r].second >= min_persons_;
        shown[{k, labels[r].first}] = keep ? labels[r].first : "other";
        if (!keep) ++seen_["label folded into other"];
      }
    }
    std::map<std::pair<size_t, std::string>, std::pair<uint64_t, uint64_t>> nodes;  // persons, dropped
    std::map<std::tuple<size_t, std::string, std::string>, uint64_t> links;         // step k to k + 1
    for (const Contribution& c : all) {
      std::vector<std::string> l;
      for (size_t k = 0; k < c.labels.size(); ++k) l.push_back(shown[{k, c.labels[k]}]);
      for (size_t k = 0; k < l.size(); ++k) {
        auto& node = nodes[{k, l[k]}];
        ++node.first;
        if (k + 1 == l.size() && c.ends) ++node.second;
        if (k + 1 < l.size()) ++links[{k, l[k], l[k + 1]}];
      }
    }
    std::vector<std::pair<std::pair<size_t, std::string>, std::pair<uint64_t, uint64_t>>> order(nodes.begin(),
                                                                                                nodes.end());
    std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
      if (a.first.first != b.first.first) return a.first.first < b.first.first;
      return a.second.first > b.second.first;
    });
    auto id = [](size_t k, const std::string& l) { return std::to_string(k) + ":" + l; };
    json node_list = json::array();
    for (const auto& [node, n] : order) {
      node_list.push_back(json{{"id", id(node.first, node.second)},
                               {"step", node.first},
                               {"label", node.second},
                               {"persons", n.first},
                               {"dropped", n.second}});
    }
    // Backward links run in time order: from step k + 1 to step k. Links are
    // ordered by k, then persons (largest first), then source and target ids.
    std::vector<std::pair<size_t, json>> link_list;
    for (const auto& [link, n] : links) {
      const auto& [k, a, b] = link;
      std::string source = id(k, a), target = id(k + 1, b);
      if (backward_) std::swap(source, target);
      link_list.emplace_back(k, json{{"source", source}, {"target", target}, {"persons", n}});
    }
    std::sort(link_list.begin(), link_list.end(), [](const auto& a, const auto& b) {
      auto key = [](const std::pair<size_t, json>& l) {
        return std::tuple(l.first, -static_cast<int64_t>(l.second["persons"].get<uint64_t>()),
                          l.second["source"].get<std::string>(), l.second["target"].get<std::string>());
      };
      return key(a) < key(b);
    });
    json link_json = json::array();
    for (auto& [k, l] : link_list) link_json.push_back(std::move(l));
    return json{{"nodes", node_list}, {"links", link_json}};
  }

  json top_paths(const std::vector<Contribution>& all) {
    struct Row {
      uint64_t persons = 0, converted = 0;
      Micros to_goal = 0;
      std::vector<Micros> steps;  // summed over converters
      bool timed = false;         // has elements after "…"
    };
    std::map<std::vector<std::string>, Row> rows;
    uint64_t converted = 0;
    for (const Contribution& c : all) {
      Row& r = rows[c.labels];
      ++r.persons;
      r.timed = !c.times.empty();
      if (!c.converted) continue;
      ++converted;
      ++r.converted;
      if (c.times.empty()) continue;
      r.to_goal += c.goal - c.times[0];
      r.steps.resize(c.times.size());
      for (size_t k = 0; k < c.times.size(); ++k)
        r.steps[k] += (k + 1 < c.times.size() ? c.times[k + 1] : c.goal) - c.times[k];
    }
    std::vector<std::pair<std::vector<std::string>, Row>> order(rows.begin(), rows.end());
    std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
      if (a.second.converted != b.second.converted) return a.second.converted > b.second.converted;
      return a.second.persons > b.second.persons;
    });
    json list = json::array();
    uint64_t other_persons = 0, other_converted = 0;
    for (size_t i = 0; i < order.size(); ++i) {
      const auto& [path, r] = order[i];
      if (!path.empty() && path[0] == kEllipsis) ++seen_["path truncated"];
      if (path.size() > 6) ++seen_["path longer than 6 elements"];
      if (path.empty() && r.converted) ++seen_["converters with an empty path"];
      if (i >= limit_) {
        other_persons += r.persons;
        other_converted += r.converted;
        ++seen_["path folded into other"];
        continue;
      }
      json avg_steps = json::array();
      json to_goal = nullptr;
      if (r.converted && r.timed) {
        const double n = static_cast<double>(r.converted);
        to_goal = seconds(r.to_goal) / n;
        for (Micros s : r.steps) avg_steps.push_back(seconds(s) / n);
      }
      list.push_back(json{{"path", path},
                          {"persons", r.persons},
                          {"converted", r.converted},
                          {"conversion_rate", ratio(r.converted, r.persons)},
                          {"avg_seconds_to_goal", to_goal},
                          {"avg_step_seconds", avg_steps}});
    }
    seen_["converted"] += converted;
    return json{{"persons", all.size()},
                {"converted", converted},
                {"paths", list},
                {"other", json{{"persons", other_persons}, {"converted", other_converted}}}};
  }

  struct Branch {
    uint64_t persons = 0, converted = 0;
    std::vector<Micros> to_goal;
  };

  std::map<std::string, Branch> branch_counts(const std::vector<Contribution>& all) const {
    std::map<std::string, Branch> out;
    for (const Contribution& c : all) {
      Branch& b = out[c.labels[0]];
      ++b.persons;
      if (c.converted) {
        ++b.converted;
        b.to_goal.push_back(c.goal);
      }
    }
    return out;
  }

  json branches(const std::vector<Contribution>& all) {
    const uint64_t persons = all.size();
    uint64_t converted = 0;
    for (const Contribution& c : all) converted += c.converted;
    std::map<std::string, Branch> raw = branch_counts(all);
    // Every named branch is listed, even with no persons. Without explicit
    // branches, labels past the top fold into "other"; "(nothing)" is no
    // label and keeps its own row.
    std::map<std::string, Branch> shown;
    for (const json& d : explicit_) shown[d.value("name", d["event"].get<std::string>())];
    std::vector<std::pair<std::string, Branch>> ranked;
    for (const auto& [label, b] : raw) {
      if (label == "(nothing)" || !explicit_.empty()) {
        shown[label] = b;
      } else {
        ranked.emplace_back(label, b);
      }
    }
    std::stable_sort(ranked.begin(), ranked.end(),
                     [](const auto& a, const auto& b) { return a.second.persons > b.second.persons; });
    for (size_t r = 0; r < ranked.size(); ++r) {
      Branch& b = shown[r < top_ ? ranked[r].first : "other"];
      b.persons += ranked[r].second.persons;
      b.converted += ranked[r].second.converted;
      b.to_goal.insert(b.to_goal.end(), ranked[r].second.to_goal.begin(), ranked[r].second.to_goal.end());
      if (r >= top_) {
        ++seen_["branch folded into other"];
        if (std::count(compare_.begin(), compare_.end(), ranked[r].first)) ++seen_["compared branch folded into other"];
      }
    }
    std::vector<std::pair<std::string, Branch>> order(shown.begin(), shown.end());
    std::stable_sort(order.begin(), order.end(),
                     [](const auto& a, const auto& b) { return a.second.persons > b.second.persons; });
    json list = json::array();
    for (const auto& [label, b] : order) {
      const bool alone = b.persons == persons;  // nobody else is in the report
      if (alone) ++seen_["branch with nobody else"];
      if (label == "(nothing)") ++seen_["branch (nothing)"];
      list.push_back(json{{"label", label},
                          {"persons", b.persons},
                          {"share", persons ? ratio(b.persons, persons) : 0.0},
                          {"converted", b.converted},
                          {"conversion", b.persons ? ratio(b.converted, b.persons) : 0.0},
                          {"time_to_goal", stats(b.to_goal)},
                          {"vs_rest", b.persons == 0 || alone ? json()
                                                              : z_test(b.converted, b.persons, converted - b.converted,
                                                                       persons - b.persons)}});
    }
    seen_["converted"] += converted;
    return json{{"persons", persons}, {"converted", converted}, {"branches", list}};
  }

  // compare: two branch labels, counted before folding (a label folded into
  // "other" still names its persons).
  json comparison(const std::vector<Contribution>& all) const {
    const std::map<std::string, Branch> raw = branch_counts(all);
    Branch side[2];
    for (int i = 0; i < 2; ++i)
      if (raw.count(compare_[static_cast<size_t>(i)])) side[i] = raw.at(compare_[static_cast<size_t>(i)]);
    json out = z_test(side[0].converted, side[0].persons, side[1].converted, side[1].persons);
    for (int i = 0; i < 2; ++i)
      out[i ? "b" : "a"] = json{{"value", compare_[static_cast<size_t>(i)]},
                                {"persons", side[i].persons},
                                {"converted", side[i].converted},
                                {"conversion", side[i].persons ? ratio(side[i].converted, side[i].persons) : 0.0}};
    return out;
  }

  Seen& seen_;
  std::string type_;
  Micros from_ = INT64_MIN, to_ = INT64_MAX;
  json anchor_, goal_;
  std::vector<json> explicit_, exclude_, event_filters_, trait_filters_;
  bool backward_ = false, last_ = false, collapse_ = true, session_ = false, default_gap_ = true;
  size_t steps_ = 5, top_ = 10, limit_ = 20;
  uint64_t min_persons_ = 0;
  Micros window_ = -1;
  Micros gap_ = 30 * 60 * kSecond;
  std::string label_property_;
  std::optional<std::set<std::string>> label_events_;
  std::vector<std::pair<std::string, std::string>> clean_;
  std::optional<json> breakdown_;
  std::vector<std::string> compare_;
};

// ---- comparing answers ----

// The first difference between two answers, with its path; "" when they
// agree (numbers to 1e-9 relative, integers and fractions not mixed).
std::string json_diff(const json& want, const json& got) { return testing::json_diff(want, got, /*exact=*/true); }

// ---- the engine's side ----

const std::vector<std::string> kPages = {"/product/1", "/product/2", "/product/10", "/home", "7"};
const std::vector<std::string> kCountries = {"DE", "US", "FR"};

Catalogued catalogued(std::mt19937_64& rng, const std::vector<Person>& persons) {
  std::vector<std::string> strings = kPages;
  strings.insert(strings.end(), kCountries.begin(), kCountries.end());
  return testing::catalog_of(rng, persons, {"e0", "e1", "e2", "e3"}, {"page", "n", "country", "tier"}, strings);
}

// ---- random cases ----

template <typename T>
const T& pick(std::mt19937_64& rng, const std::vector<T>& v) {
  return v[rng() % v.size()];
}

std::string pick_text(std::mt19937_64& rng, const std::vector<std::string>& v) { return pick(rng, v); }

json random_scalar(std::mt19937_64& rng) {
  static const std::vector<json> kValues = {"/product/1", "/product/2", "/home", "7",  "/nope", "DE", "US", 1, 2,
                                            2.5,          -3,           7,       true, false};
  return pick(rng, kValues);
}

json random_filter(std::mt19937_64& rng, bool trait) {
  json f;
  f[trait ? "trait" : "property"] =
      trait ? pick_text(rng, {"country", "country", "tier", "zz"}) : pick_text(rng, {"page", "page", "n", "zz"});
  const std::string op =
      pick_text(rng, {"eq", "neq", "in", "not_in", "contains", "regex", "gt", "gte", "lt", "lte", "exists"});
  f["op"] = op;
  if (op == "eq" || op == "neq") f["value"] = random_scalar(rng);
  if (op == "in" || op == "not_in") f["value"] = json::array({random_scalar(rng), random_scalar(rng)});
  if (op == "contains") f["value"] = pick_text(rng, {"product", "/", "7", "D"});
  if (op == "regex") f["value"] = pick_text(rng, {"^/p", "\\d$", "home", "^(DE|US)$"});
  if (op == "gt" || op == "gte" || op == "lt" || op == "lte")
    f["value"] = pick(rng, std::vector<json>{0, 1.5, 2, -5, 7});
  return f;
}

std::string random_event(std::mt19937_64& rng) { return rng() % 20 == 0 ? "e9" : "e" + std::to_string(rng() % 4); }

json random_def(std::mt19937_64& rng) {
  json d{{"event", random_event(rng)}};
  if (rng() % 3 == 0) {
    d["where"] = json::array({random_filter(rng, false)});
    if (rng() % 5 == 0) d["where"].push_back(random_filter(rng, false));
  }
  return d;
}

std::string at(Micros offset_seconds) { return format_time(kT0 + offset_seconds * kSecond); }
std::string seconds_text(uint64_t n) { return std::to_string(n) + "s"; }

json random_doc(std::mt19937_64& rng, const std::string& type, bool mixed) {
  json doc{{"type", type}};
  if (rng() % 2) {
    const Micros from = static_cast<Micros>(rng() % 30), to = from + 5 + static_cast<Micros>(rng() % 60);
    const int which = static_cast<int>(rng() % 3);
    if (which != 1) doc["range"]["from"] = at(from);
    if (which != 0) doc["range"]["to"] = at(to);
  }
  if (type == "paths") {
    doc[rng() % 2 ? "start" : "end"] = random_def(rng);
    if (rng() % 2) doc["window"] = seconds_text(3 + rng() % 30);
  } else {
    if (type == "branches") doc["from"] = random_def(rng);
    doc["goal"] = random_def(rng);
    if (type == "branches" && rng() % 2) doc["window"] = seconds_text(3 + rng() % 30);
    if (type == "top_paths" && rng() % 2) doc["lookback"] = seconds_text(3 + rng() % 40);
  }
  if (type != "top_paths" && rng() % 2) doc["occurrence"] = rng() % 2 ? "first" : "last";
  if (type != "branches" && rng() % 4) doc["steps"] = rng() % 8 ? 1 + rng() % 4 : rng() % 2 ? 8 : 20;
  if (type == "paths" && rng() % 2) doc["top"] = 1 + rng() % 3;
  if (type == "branches" && rng() % 3) doc["top"] = 1 + rng() % 2;
  if (type == "paths" && rng() % 3 == 0) doc["min_persons"] = 1 + rng() % 3;
  if (type == "top_paths" && rng() % 2) doc["limit"] = 1 + rng() % 5;
  if (type == "branches" && rng() % 2) {
    // Names (given, or the event's) must differ; "e1" may name another event.
    const size_t n = 1 + rng() % 3;
    std::set<std::string> names;
    for (size_t i = 0; i < n; ++i) {
      json d = random_def(rng);
      if (rng() % 2) d["name"] = pick_text(rng, {"A", "B", "e1"});
      if (!names.insert(d.value("name", d["event"].get<std::string>())).second) {
        d["name"] = "X" + std::to_string(i);
        names.insert(d["name"].get<std::string>());
      }
      doc["branches"].push_back(d);
    }
  }
  if (type == "branches" && rng() % 2) {
    const std::vector<std::string> labels = {"e0", "e1", "e2",        "e3", "e0", "e1",
                                             "e2", "e3", "(nothing)", "A",  "B",  "e1: /home"};
    doc["compare"] = {pick(rng, labels), pick(rng, labels)};
  }
  if (rng() % 2) {
    doc["label"]["property"] = pick_text(rng, {"page", "page", "page", "n", "zz"});
    if (rng() % 3 == 0) {
      doc["label"]["events"] = json::array();
      for (const char* e : {"e0", "e1", "e2", "e3", "e9"})
        if (rng() % 2) doc["label"]["events"].push_back(e);
      if (doc["label"]["events"].empty()) doc["label"]["events"].push_back("e1");
    }
    if (rng() % 2) {
      static const std::vector<std::pair<std::string, std::string>> kRules = {
          {"/product/\\d+", "/product/*"}, {"\\d+", "N"},   {"^/(\\w+)/.*$", "/\\1"}, {"o", "0"},
          {"^/home$", "/product/1"},       {"^7$", "/home"}};
      const size_t n = 1 + rng() % 2;
      for (size_t i = 0; i < n; ++i) {
        const auto& [pattern, replace] = pick(rng, kRules);
        doc["clean"].push_back(json{{"pattern", pattern}, {"replace", replace}});
      }
    }
  }
  if (rng() % 3) doc["collapse_repeats"] = rng() % 2 == 0;
  if (rng() % 3 == 0) {
    doc["exclude"].push_back(random_def(rng));
    if (rng() % 3 == 0) doc["exclude"].push_back(random_def(rng));
  }
  if (rng() % 3 == 0) {
    const size_t n = 1 + rng() % 2;
    for (size_t i = 0; i < n; ++i) doc["filters"].push_back(random_filter(rng, rng() % 2));
  }
  if (rng() % 3 == 0) {
    doc["session"] = true;
    if (rng() % 2) doc["session_gap"] = seconds_text(2 + rng() % 10);
  } else if (rng() % 8 == 0) {
    doc["session"] = false;
  }
  if (rng() % 4 == 0) {
    // Not by "page" when it mixes types: the string "7" and the number 7 are
    // two groups with one label, whose order the answer leaves open.
    if (rng() % 2)
      doc["breakdown"]["property"] = mixed ? pick_text(rng, {"n", "zz"}) : pick_text(rng, {"page", "n", "zz"});
    else
      doc["breakdown"]["trait"] = pick_text(rng, {"country", "tier", "zz"});
    if (rng() % 2) doc["breakdown"]["limit"] = 1 + rng() % 3;
  }
  return doc;
}

Val string_val(const std::string& s) { return Val{Val::kString, s, 0, false}; }
Val number_val(double d) { return Val{Val::kNumber, "", d, false}; }

// Up to ten events (now and then 25) of e0..e3 with equal times, gaps of
// seconds and now and then of the default session gap or lookback/window
// (exactly, and one second more); a page (sometimes a number or boolean when
// `mixed`) and a number.
Person random_person(std::mt19937_64& rng, size_t index, bool mixed) {
  Person p;
  p.id = "u" + std::to_string(index);
  if (rng() % 3) p.traits["country"] = string_val(pick(rng, kCountries));
  if (rng() % 2) p.traits["tier"] = number_val(rng() % 2 ? 1 : 2.5);
  const size_t n = 1 + rng() % (rng() % 10 ? 10 : 25);
  Micros t = kT0 + static_cast<Micros>(rng() % 20) * kSecond;
  for (size_t i = 0; i < n; ++i) {
    const uint64_t r = rng() % 40;
    if (r >= 10 && r < 36) t += static_cast<Micros>(r - 9) * kSecond;
    if (r == 36) t += 30 * 60 * kSecond;
    if (r == 37) t += 30 * 60 * kSecond + kSecond;
    if (r == 38) t += 30 * kMicrosPerDay;
    if (r == 39) t += 30 * kMicrosPerDay + kSecond;
    Ev e;
    e.t = t;
    e.name = "e" + std::to_string(rng() % 4);
    if (rng() % 4) {
      if (mixed && rng() % 5 == 0) {
        e.props["page"] = rng() % 2 ? number_val(7) : Val{Val::kBool, "", 0, true};
      } else {
        e.props["page"] = string_val(pick(rng, kPages));
      }
    }
    if (rng() % 2) e.props["n"] = number_val(pick(rng, std::vector<double>{1, 2, 2.5, -3}));
    p.events.push_back(std::move(e));
  }
  return p;
}

std::string describe(const std::vector<Person>& persons) {
  auto val = [](const Val& v) { return v.type == Val::kString ? "\"" + v.s + "\"" : text_of(v); };
  std::string out;
  for (const Person& p : persons) {
    out += p.id + " {";
    for (const auto& [k, v] : p.traits) out += " " + k + "=" + val(v);
    out += " }:";
    for (const Ev& e : p.events) {
      out += fmt::format(" {}@{}", e.name, seconds(e.t - kT0));
      for (const auto& [k, v] : e.props) out += "," + k + "=" + val(v);
    }
    out += "\n";
  }
  return out;
}

// The engine's answers for `doc`: from one kernel that gets every person,
// and from two that each get some (drawn by `rng`) and merge.
std::pair<json, json> engine_answers(const json& doc, const std::vector<Person>& persons, std::mt19937_64& rng) {
  const Catalogued c = catalogued(rng, persons);
  return testing::kernel_answers<PathsKernel>(
      doc, parse_paths, compile_paths, c.cat, c.ids,
      [&](const ScanPlan& plan, size_t i) { return input_of(c.cat, plan, persons[i]); }, rng);
}

TEST(Paths, EngineMatchesReferenceOnRandomJourneys) {
  std::mt19937_64 rng(20261126);
  Seen seen;
  std::map<std::string, uint64_t> rounds;
  for (int round = 0; round < 12000; ++round) {
    const bool mixed = rng() % 4 == 0;
    const std::string type = pick_text(rng, {"paths", "top_paths", "branches"});
    const json doc = random_doc(rng, type, mixed);
    std::vector<Person> persons;
    const size_t n = 4 + rng() % 12;
    for (size_t i = 0; i < n; ++i) persons.push_back(random_person(rng, i, mixed));
    const auto [whole, merged] = engine_answers(doc, persons, rng);
    ASSERT_FALSE(HasFailure());
    Reference ref(doc, seen);
    const json want = ref.answer(persons);
    for (const auto& [what, got] :
         {std::pair<const char*, const json&>{"one kernel", whole}, {"merged kernels", merged}}) {
      const std::string diff = json_diff(want, got);
      ASSERT_EQ(diff, "") << "round " << round << ", " << what << "\nquery: " << doc.dump() << "\npersons:\n"
                          << describe(persons) << "want: " << want.dump() << "\ngot:  " << got.dump();
    }
    ++rounds[type];
    if (want["persons"].get<uint64_t>() > 0) ++rounds[type + " with persons"];
    if (doc.contains("breakdown")) ++rounds["breakdown"];
    if (doc.contains("end")) ++rounds["backward paths"];
    if (doc.contains("branches")) ++rounds["explicit branches"];
    if (doc.contains("compare")) ++rounds["comparison"];
  }
  // The random cases exercise the interesting paths, not only empty answers.
  for (const auto& [what, n] : rounds) EXPECT_GT(n, 500u) << what;
  for (const char* what : {"person dropped by a trait filter",
                           "event removed from paths",
                           "label with a value",
                           "label value cleaned",
                           "label of a number or boolean",
                           "repeat collapsed",
                           "repeat of one text in two types collapsed",
                           "repeat of two values the clean rules join collapsed",
                           "window cuts a path",
                           "session cuts a path",
                           "session cuts a path at the default gap",
                           "lookback cuts a path",
                           "last occurrence is not the first",
                           "event at the anchor's time follows it",
                           "path goes on past the last step",
                           "label folded into other",
                           "path truncated",
                           "path longer than 6 elements",
                           "converters with an empty path",
                           "path folded into other",
                           "branch folded into other",
                           "branch (nothing)",
                           "explicit branch of the branching point's event",
                           "branch with nobody else",
                           "goal outside the session",
                           "event exactly at the window's end",
                           "gap of exactly session_gap",
                           "breakdown folds groups into other",
                           "converted"})
    EXPECT_GT(seen[what], 100u) << what;
  EXPECT_GT(seen["compared branch folded into other"], 20u);
}

// ---- hand-worked answers, for the reference as much as for the engine ----

struct HandEvent {
  std::string name;
  int second = 0;
  std::string page;  // "" : none
};

Person person(const std::string& id, const std::vector<HandEvent>& events) {
  Person p;
  p.id = id;
  for (const HandEvent& h : events) {
    Ev e;
    e.t = kT0 + h.second * kSecond;
    e.name = h.name;
    if (!h.page.empty()) e.props["page"] = string_val(h.page);
    p.events.push_back(std::move(e));
  }
  return p;
}

void expect_answer(const json& doc, const std::vector<Person>& persons, const json& want) {
  Seen seen;
  Reference ref(doc, seen);
  EXPECT_EQ(json_diff(want, ref.answer(persons)), "") << "reference";
  std::mt19937_64 rng(1);
  const auto [whole, merged] = engine_answers(doc, persons, rng);
  EXPECT_EQ(json_diff(want, whole), "") << "engine";
  EXPECT_EQ(json_diff(want, merged), "") << "engine, merged kernels";
}

TEST(Paths, WorkedFlowForwardAndBackward) {
  const std::vector<Person> persons = {
      person("u0", {{"e0", 0, "/home"}, {"e1", 5, "/product/1"}, {"e1", 6, "/product/2"}, {"e2", 10}}),
      person("u1", {{"e0", 0}, {"e2", 3}}),
      person("u2", {{"e0", 0}, {"e1", 4, "/home"}, {"e3", 100}}),
      person("u3", {{"e1", 0}}),
  };
  // Forward: u0's two product pages clean to one label and collapse; u2's
  // e3 is outside the window, so u2 drops at step 1.
  expect_answer(json::parse(R"({"type": "paths", "start": {"event": "e0"}, "steps": 2, "window": "50s",
      "label": {"property": "page", "events": ["e1"]},
      "clean": [{"pattern": "/product/\\d+", "replace": "/product/*"}]})"),
                persons, json::parse(R"({"type": "paths", "direction": "forward", "persons": 3, "steps": 2,
      "nodes": [{"id": "0:e0", "step": 0, "label": "e0", "persons": 3, "dropped": 0},
                {"id": "1:e1: /home", "step": 1, "label": "e1: /home", "persons": 1, "dropped": 1},
                {"id": "1:e1: /product/*", "step": 1, "label": "e1: /product/*", "persons": 1, "dropped": 0},
                {"id": "1:e2", "step": 1, "label": "e2", "persons": 1, "dropped": 1},
                {"id": "2:e2", "step": 2, "label": "e2", "persons": 1, "dropped": 1}],
      "links": [{"source": "0:e0", "target": "1:e1: /home", "persons": 1},
                {"source": "0:e0", "target": "1:e1: /product/*", "persons": 1},
                {"source": "0:e0", "target": "1:e2", "persons": 1},
                {"source": "1:e1: /product/*", "target": "2:e2", "persons": 1}]})"));
  // Backward from e2 with top 1: at step 1, e0 and e1 tie and e1 (the
  // larger label) folds into "other"; links run in time order.
  expect_answer(json::parse(R"({"type": "paths", "end": {"event": "e2"}, "steps": 2, "top": 1})"), persons,
                json::parse(R"({"type": "paths", "direction": "backward", "persons": 2, "steps": 2,
      "nodes": [{"id": "0:e2", "step": 0, "label": "e2", "persons": 2, "dropped": 0},
                {"id": "1:e0", "step": 1, "label": "e0", "persons": 1, "dropped": 1},
                {"id": "1:other", "step": 1, "label": "other", "persons": 1, "dropped": 0},
                {"id": "2:e0", "step": 2, "label": "e0", "persons": 1, "dropped": 1}],
      "links": [{"source": "1:e0", "target": "0:e2", "persons": 1},
                {"source": "1:other", "target": "0:e2", "persons": 1},
                {"source": "2:e0", "target": "1:other", "persons": 1}]})"));
}

TEST(Paths, WorkedTopPaths) {
  const std::vector<Person> persons = {
      person("u0", {{"e0", 0}, {"e1", 10}, {"e1", 12}, {"e3", 20}}),  // the e1 run is timed by its first event
      person("u1", {{"e0", 0}, {"e1", 5}, {"e3", 10}}),
      person("u2", {{"e1", 0}, {"e2", 4}}),  // no goal: the path ends at the last event
      person("u3", {{"e3", 7}}),             // converted with nothing before
      person("u4", {{"e0", 0}, {"e1", 1}, {"e2", 2}, {"e0", 3}, {"e3", 4}}),  // four elements, two kept
  };
  expect_answer(json::parse(R"({"type": "top_paths", "goal": {"event": "e3"}, "steps": 2, "limit": 3})"), persons,
                json::parse(R"({"type": "top_paths", "persons": 5, "converted": 4,
      "paths": [{"path": ["e0", "e1"], "persons": 2, "converted": 2, "conversion_rate": 1.0,
                 "avg_seconds_to_goal": 15.0, "avg_step_seconds": [7.5, 7.5]},
                {"path": [], "persons": 1, "converted": 1, "conversion_rate": 1.0,
                 "avg_seconds_to_goal": null, "avg_step_seconds": []},
                {"path": ["…", "e2", "e0"], "persons": 1, "converted": 1, "conversion_rate": 1.0,
                 "avg_seconds_to_goal": 2.0, "avg_step_seconds": [1.0, 1.0]}],
      "other": {"persons": 1, "converted": 0}})"));
}

TEST(Paths, WorkedBranches) {
  const std::vector<Person> persons = {
      person("u0", {{"e0", 0}, {"e0", 2}, {"e1", 5}, {"e3", 30}}),  // the repeat of e0 is no branch
      person("u1", {{"e0", 0}, {"e1", 5}, {"e3", 100}}),            // the goal is outside the window
      person("u2", {{"e0", 0}, {"e2", 1}, {"e3", 10}}),
      person("u3", {{"e0", 0}}),
      person("u4", {{"e1", 0}}),  // no branching point
  };
  const double z = 2 / std::sqrt(3.0), p = std::erfc(z / std::sqrt(2.0));  // 1 of 1 against 1 of 3
  json want = json::parse(R"j({"type": "branches", "persons": 4, "converted": 2,
      "branches": [{"label": "e1", "persons": 2, "share": 0.5, "converted": 1, "conversion": 0.5,
                    "time_to_goal": {"median": 30.0, "mean": 30.0, "p90": 30.0, "count": 1},
                    "vs_rest": {"z": 0.0, "p_value": 1.0}},
                   {"label": "(nothing)", "persons": 1, "share": 0.25, "converted": 0, "conversion": 0.0,
                    "time_to_goal": {"median": null, "mean": null, "p90": null, "count": 0}},
                   {"label": "e2", "persons": 1, "share": 0.25, "converted": 1, "conversion": 1.0,
                    "time_to_goal": {"median": 10.0, "mean": 10.0, "p90": 10.0, "count": 1}}],
      "comparison": {"a": {"value": "e2", "persons": 1, "converted": 1, "conversion": 1.0},
                     "b": {"value": "(nothing)", "persons": 1, "converted": 0, "conversion": 0.0}}})j");
  want["branches"][1]["vs_rest"] = json{{"z", -z}, {"p_value", p}};
  want["branches"][2]["vs_rest"] = json{{"z", z}, {"p_value", p}};
  want["comparison"]["z"] = std::sqrt(2.0);  // 1 of 1 against 0 of 1
  want["comparison"]["p_value"] = std::erfc(1.0);
  expect_answer(json::parse(R"j({"type": "branches", "from": {"event": "e0"}, "goal": {"event": "e3"}, "window": "60s",
      "compare": ["e2", "(nothing)"]})j"),
                persons, want);
  // Explicit branches: every named one is listed, also with nobody in it.
  expect_answer(json::parse(R"j({"type": "branches", "from": {"event": "e0"}, "goal": {"event": "e3"}, "window": "60s",
      "branches": [{"event": "e1", "name": "one"}, {"event": "e9"}]})j"),
                persons, json::parse(R"j({"type": "branches", "persons": 4, "converted": 2,
      "branches": [{"label": "(nothing)", "persons": 2, "share": 0.5, "converted": 1, "conversion": 0.5,
                    "time_to_goal": {"median": 10.0, "mean": 10.0, "p90": 10.0, "count": 1},
                    "vs_rest": {"z": 0.0, "p_value": 1.0}},
                   {"label": "one", "persons": 2, "share": 0.5, "converted": 1, "conversion": 0.5,
                    "time_to_goal": {"median": 30.0, "mean": 30.0, "p90": 30.0, "count": 1},
                    "vs_rest": {"z": 0.0, "p_value": 1.0}},
                   {"label": "e9", "persons": 0, "share": 0.0, "converted": 0, "conversion": 0.0,
                    "time_to_goal": {"median": null, "mean": null, "p90": null, "count": 0},
                    "vs_rest": null}]})j"));
}

}  // namespace paths_test
}  // namespace cairn::query
