#include "query/paths.h"

#include <re2/re2.h>

#include <algorithm>
#include <array>
#include <map>
#include <memory>
#include <tuple>

#include <fmt/format.h>

namespace cairn::query {

using nlohmann::json;

// ---------------------------------------------------------------- parsing

namespace {

constexpr size_t kMaxPathSteps = 20;

Result<size_t> parse_count(const json& doc, const char* field, size_t lo, size_t hi, size_t dflt) {
  if (!doc.contains(field)) return dflt;
  const auto n = whole_number(doc[field], lo, hi);
  if (!n)
    return field_error(field, hi == SIZE_MAX ? fmt::format("expected a whole number of at least {}", lo)
                                             : fmt::format("expected a whole number from {} to {}", lo, hi));
  return static_cast<size_t>(*n);
}

Status parse_def_list(const json& doc, const char* field, std::vector<EventDef>& out, std::vector<std::string>* names) {
  if (!doc.contains(field)) return Status::ok();
  const json& a = doc[field];
  if (!a.is_array()) return field_error(field, "expected an array of event definitions like {\"event\": \"webinar\"}");
  for (size_t i = 0; i < a.size(); ++i) {
    const std::string path = fmt::format("{}[{}]", field, i);
    if (!a[i].is_object()) return field_error(path, "expected an object like {\"event\": \"webinar\"}");
    auto d = parse_event_def(a[i], path);
    if (!d) return d.status();
    if (names) {
      std::string name = d->event;
      if (a[i].contains("name")) {
        if (!a[i]["name"].is_string() || a[i]["name"].get<std::string>().empty())
          return field_error(path + ".name", "expected a non-empty string");
        name = a[i]["name"].get<std::string>();
      }
      if (name == "(nothing)") return field_error(path + ".name", "\"(nothing)\" is the branch of persons with no next step");
      if (std::find(names->begin(), names->end(), name) != names->end())
        return field_error(path + ".name", fmt::format("two branches are named \"{}\"", name));
      names->push_back(name);
    }
    out.push_back(std::move(*d));
  }
  return Status::ok();
}

Result<EventDef> parse_anchor(const json& doc, const char* field) {
  if (!doc.contains(field)) return field_error(field, "is missing (an event definition like {\"event\": \"signup\"})");
  if (!doc[field].is_object()) return field_error(field, "expected an event definition like {\"event\": \"signup\"}");
  return parse_event_def(doc[field], field);
}

Status parse_bool(const json& doc, const char* field, bool& out) {
  if (!doc.contains(field)) return Status::ok();
  if (!doc[field].is_boolean()) return field_error(field, "expected true or false");
  out = doc[field].get<bool>();
  return Status::ok();
}

Status parse_common(const json& doc, PathsSpec& spec) {
  CAIRN_RETURN_IF_ERROR(parse_range(doc, spec.from, spec.to));
  CAIRN_RETURN_IF_ERROR(parse_filters(doc, spec.event_filters, spec.trait_filters));
  if (doc.contains("breakdown")) {
    auto bd = parse_breakdown(doc["breakdown"]);
    if (!bd) return bd.status();
    spec.breakdown = *bd;
  }
  if (doc.contains("label")) {
    const json& l = doc["label"];
    if (!l.is_object() || !l.contains("property") || !l["property"].is_string() || l["property"].get<std::string>().empty())
      return field_error("label", "expected {\"property\": NAME, \"events\": [EVENT, ...]}");
    spec.label_property = l["property"].get<std::string>();
    if (l.contains("events")) {
      const json& e = l["events"];
      if (!e.is_array() || e.empty()) return field_error("label.events", "expected a non-empty array of event names");
      for (size_t i = 0; i < e.size(); ++i) {
        if (!e[i].is_string()) return field_error(fmt::format("label.events[{}]", i), "expected an event name");
        spec.label_events.push_back(e[i].get<std::string>());
      }
    }
  }
  if (doc.contains("clean")) {
    const json& c = doc["clean"];
    if (!c.is_array()) return field_error("clean", "expected an array of {\"pattern\": RE2, \"replace\": TEXT}");
    for (size_t i = 0; i < c.size(); ++i) {
      const std::string path = fmt::format("clean[{}]", i);
      if (!c[i].is_object() || !c[i].contains("pattern") || !c[i]["pattern"].is_string())
        return field_error(path + ".pattern", "expected a regular expression");
      if (!c[i].contains("replace") || !c[i]["replace"].is_string()) return field_error(path + ".replace", "expected a string");
      CleanRule rule{c[i]["pattern"].get<std::string>(), c[i]["replace"].get<std::string>()};
      RE2 re(rule.pattern, RE2::Quiet);
      if (!re.ok()) return field_error(path + ".pattern", fmt::format("invalid regular expression: {}", re.error()));
      std::string why;
      if (!re.CheckRewriteString(rule.replace, &why)) return field_error(path + ".replace", why);
      spec.clean.push_back(std::move(rule));
    }
  }
  CAIRN_RETURN_IF_ERROR(parse_bool(doc, "collapse_repeats", spec.collapse));
  CAIRN_RETURN_IF_ERROR(parse_def_list(doc, "exclude", spec.exclude, nullptr));
  CAIRN_RETURN_IF_ERROR(parse_bool(doc, "session", spec.session));
  if (doc.contains("session_gap")) {
    auto g = parse_duration_field(doc["session_gap"], "session_gap");
    if (!g) return g.status();
    spec.session_gap = *g;
  }
  if (doc.contains("occurrence")) {
    const json& o = doc["occurrence"];
    if (o != "first" && o != "last") return field_error("occurrence", "expected \"first\" or \"last\"");
    spec.last_occurrence = o == "last";
  }
  return Status::ok();
}

}  // namespace

Result<PathsSpec> parse_paths(const json& doc) {
  if (!doc.is_object()) return field_error("query", "expected a JSON object");
  if (!doc.contains("type") || !doc["type"].is_string()) return field_error("type", "is missing (e.g. \"paths\")");
  const std::string type = doc["type"].get<std::string>();
  PathsSpec spec;
  if (type == "paths") spec.kind = PathsKind::kPaths;
  else if (type == "top_paths") spec.kind = PathsKind::kTopPaths;
  else if (type == "branches") spec.kind = PathsKind::kBranches;
  else return field_error("type", fmt::format("expected \"paths\", \"top_paths\" or \"branches\", got \"{}\"", type));
  CAIRN_RETURN_IF_ERROR(parse_common(doc, spec));
  auto duration = [&](const char* field, Micros dflt) -> Result<Micros> {
    if (!doc.contains(field)) return dflt;
    return parse_duration_field(doc[field], field);
  };
  switch (spec.kind) {
    case PathsKind::kPaths: {
      const bool start = doc.contains("start"), end = doc.contains("end");
      if (start == end)
        return field_error(start ? "end" : "start",
                           start ? "give either start (paths after it) or end (paths before it), not both"
                                 : "is missing: give start (paths after it) or end (paths before it)");
      auto a = parse_anchor(doc, start ? "start" : "end");
      if (!a) return a.status();
      spec.anchor = std::move(*a);
      spec.backward = end;
      auto w = duration("window", -1);
      if (!w) return w.status();
      spec.window = *w;
      auto top = parse_count(doc, "top", 1, SIZE_MAX, 10);
      if (!top) return top.status();
      spec.top = *top;
      auto minp = parse_count(doc, "min_persons", 0, SIZE_MAX, 0);
      if (!minp) return minp.status();
      spec.min_persons = *minp;
      break;
    }
    case PathsKind::kTopPaths: {
      auto g = parse_anchor(doc, "goal");
      if (!g) return g.status();
      spec.goal = std::move(*g);
      auto w = duration("lookback", 30 * kMicrosPerDay);
      if (!w) return w.status();
      spec.window = *w;
      auto limit = parse_count(doc, "limit", 1, SIZE_MAX, 20);
      if (!limit) return limit.status();
      spec.limit = *limit;
      break;
    }
    case PathsKind::kBranches: {
      auto a = parse_anchor(doc, "from");
      if (!a) return a.status();
      spec.anchor = std::move(*a);
      auto g = parse_anchor(doc, "goal");
      if (!g) return g.status();
      spec.goal = std::move(*g);
      auto w = duration("window", 30 * kMicrosPerDay);
      if (!w) return w.status();
      spec.window = *w;
      CAIRN_RETURN_IF_ERROR(parse_def_list(doc, "branches", spec.branches, &spec.branch_names));
      if (doc.contains("branches") && spec.branches.empty())
        return field_error("branches", "expected at least one event definition (or leave it out)");
      auto top = parse_count(doc, "top", 1, SIZE_MAX, 10);
      if (!top) return top.status();
      spec.top = *top;
      if (doc.contains("compare")) {
        const json& c = doc["compare"];
        if (!c.is_array() || c.size() != 2 || !c[0].is_string() || !c[1].is_string())
          return field_error("compare", "expected two branch labels, e.g. [\"webinar\", \"sales_call\"]");
        spec.compare = {c[0].get<std::string>(), c[1].get<std::string>()};
      }
      break;
    }
  }
  if (spec.kind != PathsKind::kBranches) {
    auto steps = parse_count(doc, "steps", 1, kMaxPathSteps, 5);
    if (!steps) return steps.status();
    spec.steps = *steps;
  }
  return spec;
}

// ---------------------------------------------------------------- compiling

namespace {

// The text of a value after the clean rules, each replacing every match.
std::string apply_clean(const std::vector<std::shared_ptr<const RE2>>& rules, const std::vector<CleanRule>& spec,
                        std::string text) {
  for (size_t r = 0; r < rules.size(); ++r) RE2::GlobalReplace(&text, *rules[r], spec[r].replace);
  return text;
}

}  // namespace

Result<CompiledPaths> compile_paths(const PathsSpec& spec, const Catalog& cat) {
  CompiledPaths c;
  c.spec = spec;
  c.catalog = &cat;
  const KeySlot slot = plan_key_slot(c.plan);
  const bool has_anchor = spec.kind != PathsKind::kTopPaths;
  const bool has_goal = spec.kind != PathsKind::kPaths;
  if (has_anchor) {
    const char* field = spec.kind == PathsKind::kBranches ? "from" : spec.backward ? "end" : "start";
    auto d = compile_def(spec.anchor, field, cat, slot);
    if (!d) return d.status();
    c.anchor = std::move(*d);
  }
  if (has_goal) {
    auto d = compile_def(spec.goal, "goal", cat, slot);
    if (!d) return d.status();
    c.goal = std::move(*d);
  }
  for (size_t i = 0; i < spec.branches.size(); ++i) {
    auto d = compile_def(spec.branches[i], fmt::format("branches[{}]", i), cat, slot);
    if (!d) return d.status();
    c.branches.push_back(std::move(*d));
  }
  for (size_t i = 0; i < spec.exclude.size(); ++i) {
    auto d = compile_def(spec.exclude[i], fmt::format("exclude[{}]", i), cat, slot);
    if (!d) return d.status();
    c.exclude.push_back(std::move(*d));
  }
  for (size_t i = 0; i < spec.event_filters.size(); ++i)
    CAIRN_RETURN_IF_ERROR(
        compile_filter(spec.event_filters[i], cat, slot, fmt::format("filters[{}]", i), c.event_filters, c.events_never));
  CAIRN_RETURN_IF_ERROR(c.traits.compile(spec.trait_filters, cat));
  if (!spec.label_property.empty()) {
    const uint32_t key = cat.keys.find(spec.label_property);
    if (key != StringPool::kMissing) {
      c.label_key = static_cast<int>(slot(key));
      c.label_event.assign(cat.events.size(), spec.label_events.empty() ? 1 : 0);
      for (const std::string& name : spec.label_events) {
        const uint32_t ev = cat.events.find(name);
        if (ev != StringPool::kMissing) c.label_event[ev] = 1;
      }
      if (!spec.clean.empty()) {
        // Every string the label property may hold gets the code of its
        // cleaned text, so values the rules map together are one label
        // (and collapse as repeats) while the scan compares integers.
        for (const CleanRule& r : spec.clean)
          c.clean_rules.push_back(std::make_shared<const RE2>(r.pattern, RE2::Quiet));
        std::unordered_map<std::string, uint32_t> codes;
        c.clean_code.resize(cat.strings().size());
        for (uint32_t i = 0; i < cat.strings().size(); ++i) {
          std::string text = apply_clean(c.clean_rules, spec.clean, std::string(cat.strings().get(i)));
          auto [it, added] = codes.emplace(std::move(text), static_cast<uint32_t>(c.clean_text.size()));
          if (added) c.clean_text.push_back(it->first);
          c.clean_code[i] = it->second;
        }
      }
    }
  }
  if (spec.breakdown) c.group.compile(*spec.breakdown, cat, slot);
  // Only the events a report can look at are read.
  switch (spec.kind) {
    case PathsKind::kPaths:
      c.plan.min_time = spec.backward ? window_start(spec.from, spec.window) : spec.from;
      c.plan.max_time = spec.backward ? spec.to : window_end(spec.to, spec.window);
      break;
    case PathsKind::kTopPaths:
      c.plan.min_time = window_start(spec.from, spec.window);
      c.plan.max_time = spec.to;
      break;
    case PathsKind::kBranches:
      c.plan.min_time = spec.from;
      c.plan.max_time = window_end(spec.to, spec.window);
      break;
  }
  return c;
}

// ---------------------------------------------------------------- the kernel

namespace {

struct LabelHash {
  size_t operator()(const Label& l) const {
    uint64_t h = (static_cast<uint64_t>(l.event) << 32 | l.kind) * 0x9E3779B97F4A7C15ull;
    return static_cast<size_t>(h ^ (l.bits + 0x632BE59BD9B4E019ull + (h << 6) + (h >> 2)));
  }
};

// A node of a flow (step, label) or a link (step, label, next label).
struct NodeKey {
  uint32_t step;
  Label label;
  bool operator==(const NodeKey&) const = default;
};
struct NodeKeyHash {
  size_t operator()(const NodeKey& k) const { return LabelHash()(k.label) * 31 + k.step; }
};
struct LinkKey {
  uint32_t step;
  Label from, to;
  bool operator==(const LinkKey&) const = default;
};
struct LinkKeyHash {
  size_t operator()(const LinkKey& k) const { return (LabelHash()(k.from) * 31 + LabelHash()(k.to)) * 31 + k.step; }
};

// A top path: up to kMaxPathSteps labels, oldest first.
struct PathKey {
  uint32_t n = 0;
  bool truncated = false;
  std::array<Label, kMaxPathSteps> labels{};
  bool operator==(const PathKey& o) const {
    return n == o.n && truncated == o.truncated && std::equal(labels.begin(), labels.begin() + n, o.labels.begin());
  }
};
struct PathKeyHash {
  size_t operator()(const PathKey& k) const {
    size_t h = k.n * 2 + k.truncated;
    for (uint32_t i = 0; i < k.n; ++i) h = h * 1000003 ^ LabelHash()(k.labels[i]);
    return h;
  }
};
struct PathAgg {
  uint64_t persons = 0, converted = 0;
  __int128 to_goal = 0;                            // sum over converters, microseconds
  std::array<__int128, kMaxPathSteps> step{};      // per element: sum of the time to the next one
};

struct BranchAgg {
  uint64_t persons = 0, converted = 0;
  std::vector<Micros> to_goal;
};

// Everything one group of persons adds up to (one of the three kinds is used).
struct Counts {
  uint64_t persons = 0;
  std::unordered_map<NodeKey, std::pair<uint64_t, uint64_t>, NodeKeyHash> nodes;  // persons, dropped
  std::unordered_map<LinkKey, uint64_t, LinkKeyHash> links;
  std::unordered_map<PathKey, PathAgg, PathKeyHash> paths;
  std::unordered_map<Label, BranchAgg, LabelHash> branches;

  void merge(const Counts& o) {
    persons += o.persons;
    for (const auto& [k, v] : o.nodes) {
      auto& n = nodes[k];
      n.first += v.first;
      n.second += v.second;
    }
    for (const auto& [k, v] : o.links) links[k] += v;
    for (const auto& [k, v] : o.paths) {
      PathAgg& a = paths[k];
      a.persons += v.persons;
      a.converted += v.converted;
      a.to_goal += v.to_goal;
      for (size_t i = 0; i < kMaxPathSteps; ++i) a.step[i] += v.step[i];
    }
    for (const auto& [k, v] : o.branches) {
      BranchAgg& b = branches[k];
      b.persons += v.persons;
      b.converted += v.converted;
      b.to_goal.insert(b.to_goal.end(), v.to_goal.begin(), v.to_goal.end());
    }
  }
};

constexpr size_t kNone = SIZE_MAX;

std::string label_text(const CompiledPaths& c, const Label& l);

// Reads one person's events as path events and labels.
struct Reader {
  const CompiledPaths& c;
  const PersonView& p;

  bool path_event(size_t i) const {
    if (c.events_never) return false;
    for (const CompiledDef& x : c.exclude)
      if (def_matches(x, p, i)) return false;
    for (const CompiledFilter& f : c.event_filters)
      if (!f.pass(p.cell(f.key, i))) return false;
    return true;
  }

  Label label(size_t i) const {
    const uint32_t ev = p.event[i];
    if (c.label_key >= 0 && ev < c.label_event.size() && c.label_event[ev]) {
      const Cell& v = p.cell(static_cast<size_t>(c.label_key), i);
      if (v.present) switch (v.type) {
          case ValueType::kString:
            return Label{ev, Label::kString, c.clean_code.empty() || v.bits >= c.clean_code.size() ? v.bits : c.clean_code[v.bits]};
          case ValueType::kNumber:
            return Label{ev, Label::kNumber, v.bits};
          case ValueType::kBool:
            return Label{ev, Label::kBool, v.bits};
        }
    }
    return Label{ev, Label::kPlain, 0};
  }

  // Labels compare as byte strings: two labels of one event whose values
  // differ in type (the string "7" and the number 7), or numbers the clean
  // rules map together, read the same, and are one label in a run of
  // repeats. String codes are distinct texts already.
  bool same(const Label& a, const Label& b) const {
    if (a == b) return true;
    if (a.event != b.event || a.kind == Label::kPlain || b.kind == Label::kPlain) return false;
    if (a.kind == Label::kString && b.kind == Label::kString) return false;
    return label_text(c, a) == label_text(c, b);
  }

  bool in_range(size_t i) const { return p.time[i] >= c.spec.from && p.time[i] < c.spec.to; }

  // The first (or last) path event in the range matching the anchor.
  size_t anchor() const {
    size_t found = kNone;
    for (size_t i = 0; i < p.n; ++i) {
      if (!in_range(i) || !def_matches(c.anchor, p, i) || !path_event(i)) continue;
      found = i;
      if (!c.spec.last_occurrence) break;
    }
    return found;
  }

  bool session_break(size_t earlier, size_t later) const {
    return c.spec.session && p.time[later] - p.time[earlier] > c.spec.session_gap;
  }
  bool beyond_window(size_t a, size_t j) const {
    if (c.spec.window < 0) return false;
    const Micros d = p.time[a] > p.time[j] ? p.time[a] - p.time[j] : p.time[j] - p.time[a];
    return d > c.spec.window;
  }

  // Up to `limit` path elements after (before) the anchor `a`, whose own
  // element has label `first`; `more` tells whether another one follows.
  size_t walk(size_t a, bool backward, Label first, size_t limit, Label* out, bool& more) const {
    size_t m = 0;
    Label last = first;
    more = false;
    for (size_t step = 1;; ++step) {
      if (backward ? step > a : a + step >= p.n) break;
      const size_t j = backward ? a - step : a + step;
      if (backward ? session_break(j, j + 1) : session_break(j - 1, j)) break;
      if (beyond_window(a, j)) break;
      if (!path_event(j)) continue;
      const Label l = label(j);
      if (c.spec.collapse && same(l, last)) continue;
      if (m == limit) {
        more = true;
        break;
      }
      out[m++] = l;
      last = l;
    }
    return m;
  }
};

}  // namespace

struct PathsKernel::State {
  Counts total;
  std::unordered_map<GroupKey, Counts, GroupKeyHash> groups;
  Counts& group(const CompiledPaths& c, const PersonView& p, size_t event) {
    return groups[c.group.of(*c.catalog, p, event)];
  }
};

PathsKernel::PathsKernel(const CompiledPaths& c) : c_(c), s_(std::make_unique<State>()) {}
PathsKernel::~PathsKernel() = default;

void PathsKernel::add(const PersonView& p) {
  if (c_.traits.active() && !c_.traits.pass(*c_.catalog, p.person)) return;
  const Reader r{c_, p};
  const PathsSpec& spec = c_.spec;
  switch (spec.kind) {
    case PathsKind::kPaths: {
      const size_t a = r.anchor();
      if (a == kNone) return;
      std::array<Label, kMaxPathSteps + 1> el;
      el[0] = r.label(a);
      bool more = false;
      const size_t m = r.walk(a, spec.backward, el[0], spec.steps, el.data() + 1, more);
      for (Counts* g : {&s_->total, c_.group.active ? &s_->group(c_, p, a) : nullptr}) {
        if (!g) continue;
        ++g->persons;
        for (size_t k = 0; k <= m; ++k) {
          auto& node = g->nodes[NodeKey{static_cast<uint32_t>(k), el[k]}];
          ++node.first;
          if (k == m && !more) ++node.second;
          if (k < m) ++g->links[LinkKey{static_cast<uint32_t>(k), el[k], el[k + 1]}];
        }
      }
      return;
    }
    case PathsKind::kTopPaths: {
      // The end point: the first goal in the range, or else the last path
      // event in the range.
      size_t end = kNone;
      bool converted = false;
      for (size_t i = 0; i < p.n; ++i)
        if (r.in_range(i) && def_matches(c_.goal, p, i)) {
          end = i;
          converted = true;
          break;
        }
      if (!converted)
        for (size_t i = p.n; i-- > 0;)
          if (r.in_range(i) && r.path_event(i)) {
            end = i;
            break;
          }
      if (end == kNone) return;
      // Walk back from the end point (included for non-converters),
      // leaving goal events out; a run's time is its earliest event seen.
      std::array<Label, kMaxPathSteps> rev;
      std::array<Micros, kMaxPathSteps> rev_time;
      size_t m = 0;
      bool truncated = false;
      for (size_t j = converted ? end : end + 1; j-- > 0;) {
        if (j + 1 <= end && r.session_break(j, j + 1)) break;
        if (p.time[end] - p.time[j] > spec.window) break;
        if (def_matches(c_.goal, p, j) || !r.path_event(j)) continue;
        const Label l = r.label(j);
        if (spec.collapse && m > 0 && r.same(l, rev[m - 1])) {
          rev_time[m - 1] = p.time[j];
          continue;
        }
        if (m == spec.steps) {
          truncated = true;
          break;
        }
        rev[m] = l;
        rev_time[m] = p.time[j];
        ++m;
      }
      PathKey key;
      key.n = static_cast<uint32_t>(m);
      key.truncated = truncated;
      for (size_t i = 0; i < m; ++i) key.labels[i] = rev[m - 1 - i];
      for (Counts* g : {&s_->total, c_.group.active ? &s_->group(c_, p, end) : nullptr}) {
        if (!g) continue;
        ++g->persons;
        PathAgg& agg = g->paths[key];
        ++agg.persons;
        if (!converted) continue;
        ++agg.converted;
        if (m > 0) agg.to_goal += p.time[end] - rev_time[m - 1];
        for (size_t i = 0; i < m; ++i) {
          const size_t at = m - 1 - i;  // element i, oldest first
          const Micros next = at == 0 ? p.time[end] : rev_time[at - 1];
          agg.step[i] += next - rev_time[at];
        }
      }
      return;
    }
    case PathsKind::kBranches: {
      const size_t a = r.anchor();
      if (a == kNone) return;
      Label branch{0, Label::kNothing, 0};
      if (!c_.branches.empty()) {
        for (size_t j = a + 1; j < p.n && branch.kind == Label::kNothing; ++j) {
          if (r.session_break(j - 1, j) || r.beyond_window(a, j)) break;
          if (!r.path_event(j)) continue;
          for (size_t b = 0; b < c_.branches.size(); ++b)
            if (def_matches(c_.branches[b], p, j)) {
              branch = Label{0, Label::kBranch, b};
              break;
            }
        }
      } else {
        Label next;
        bool more = false;
        if (r.walk(a, false, r.label(a), 1, &next, more) == 1) branch = next;
      }
      size_t goal = kNone;
      for (size_t j = a + 1; j < p.n && !r.beyond_window(a, j); ++j)
        if (def_matches(c_.goal, p, j)) {
          goal = j;
          break;
        }
      for (Counts* g : {&s_->total, c_.group.active ? &s_->group(c_, p, a) : nullptr}) {
        if (!g) continue;
        ++g->persons;
        BranchAgg& b = g->branches[branch];
        ++b.persons;
        if (goal != kNone) {
          ++b.converted;
          b.to_goal.push_back(p.time[goal] - p.time[a]);
        }
      }
      return;
    }
  }
}

void PathsKernel::merge(Kernel& other) {
  auto& o = static_cast<PathsKernel&>(other);
  s_->total.merge(o.s_->total);
  for (const auto& [k, v] : o.s_->groups) s_->groups[k].merge(v);
}

// ---------------------------------------------------------------- the answer

namespace {

std::string label_text(const CompiledPaths& c, const Label& l) {
  const Catalog& cat = *c.catalog;
  switch (l.kind) {
    case Label::kString:
      return fmt::format("{}: {}", cat.events.get(l.event),
                         c.clean_code.empty() ? value_text(cat, ValueType::kString, l.bits) : c.clean_text[l.bits]);
    case Label::kNumber:
    case Label::kBool: {
      // The clean rules change every label value, numbers and booleans as text.
      const ValueType type = l.kind == Label::kNumber ? ValueType::kNumber : ValueType::kBool;
      return fmt::format("{}: {}", cat.events.get(l.event),
                         apply_clean(c.clean_rules, c.spec.clean, value_text(cat, type, l.bits)));
    }
    case Label::kBranch:
      return c.spec.branch_names[l.bits];
    case Label::kNothing:
      return "(nothing)";
    default:
      return std::string(cat.events.get(l.event));
  }
}

double share_of(uint64_t a, uint64_t b) { return b ? static_cast<double>(a) / static_cast<double>(b) : 0.0; }

json flow_json(const CompiledPaths& c, const Counts& g) {
  // Nodes and links by text (two labels may read the same), then per step
  // the labels outside the top fold into "other".
  std::map<std::pair<uint32_t, std::string>, std::pair<uint64_t, uint64_t>> nodes;
  for (const auto& [k, v] : g.nodes) {
    auto& n = nodes[{k.step, label_text(c, k.label)}];
    n.first += v.first;
    n.second += v.second;
  }
  std::map<std::pair<uint32_t, std::string>, std::string> fold;
  {
    std::map<uint32_t, std::vector<std::pair<uint64_t, std::string>>> per_step;
    for (const auto& [k, v] : nodes) per_step[k.first].emplace_back(v.first, k.second);
    for (auto& [step, list] : per_step) {
      std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) {
        return a.first != b.first ? a.first > b.first : a.second < b.second;
      });
      for (size_t i = 0; i < list.size(); ++i)
        fold[{step, list[i].second}] = i < c.spec.top && list[i].first >= c.spec.min_persons ? list[i].second : "other";
    }
  }
  std::map<std::pair<uint32_t, std::string>, std::pair<uint64_t, uint64_t>> folded;
  for (const auto& [k, v] : nodes) {
    auto& n = folded[{k.first, fold.at(k)}];
    n.first += v.first;
    n.second += v.second;
  }
  std::map<std::tuple<uint32_t, std::string, std::string>, uint64_t> links;
  for (const auto& [k, v] : g.links)
    links[{k.step, fold.at({k.step, label_text(c, k.from)}), fold.at({k.step + 1, label_text(c, k.to)})}] += v;
  auto id = [](uint32_t step, const std::string& label) { return fmt::format("{}:{}", step, label); };
  std::vector<std::tuple<uint32_t, uint64_t, std::string, uint64_t>> node_rows;
  for (const auto& [k, v] : folded) node_rows.emplace_back(k.first, v.first, k.second, v.second);
  std::sort(node_rows.begin(), node_rows.end(), [](const auto& a, const auto& b) {
    if (std::get<0>(a) != std::get<0>(b)) return std::get<0>(a) < std::get<0>(b);
    if (std::get<1>(a) != std::get<1>(b)) return std::get<1>(a) > std::get<1>(b);
    return std::get<2>(a) < std::get<2>(b);
  });
  json jn = json::array();
  for (const auto& [step, persons, label, dropped] : node_rows)
    jn.push_back(json{{"id", id(step, label)}, {"step", step}, {"label", label}, {"persons", persons}, {"dropped", dropped}});
  // Links: (step, persons, source, target).
  std::vector<std::tuple<uint32_t, uint64_t, std::string, std::string>> link_rows;
  for (const auto& [k, v] : links) {
    const auto& [step, from, to] = k;
    // Forward: step k -> k+1. Backward: time order, step k+1 -> k.
    if (c.spec.backward)
      link_rows.emplace_back(step, v, id(step + 1, to), id(step, from));
    else
      link_rows.emplace_back(step, v, id(step, from), id(step + 1, to));
  }
  std::sort(link_rows.begin(), link_rows.end(), [](const auto& a, const auto& b) {
    if (std::get<0>(a) != std::get<0>(b)) return std::get<0>(a) < std::get<0>(b);
    if (std::get<1>(a) != std::get<1>(b)) return std::get<1>(a) > std::get<1>(b);
    return std::tie(std::get<2>(a), std::get<3>(a)) < std::tie(std::get<2>(b), std::get<3>(b));
  });
  json jl = json::array();
  for (const auto& [step, persons, source, target] : link_rows)
    jl.push_back(json{{"source", source}, {"target", target}, {"persons", persons}});
  return json{{"persons", g.persons}, {"nodes", std::move(jn)}, {"links", std::move(jl)}};
}

double seconds(__int128 micros, uint64_t n) {
  return static_cast<double>(micros) / static_cast<double>(n) / static_cast<double>(kMicrosPerSecond);
}

json top_paths_json(const CompiledPaths& c, const Counts& g) {
  struct Row {
    std::vector<std::string> path;
    PathAgg agg;
    uint32_t n = 0;  // elements, without the "…"
  };
  std::map<std::vector<std::string>, Row> by_text;
  uint64_t converted = 0;
  for (const auto& [k, v] : g.paths) {
    std::vector<std::string> path;
    if (k.truncated) path.emplace_back("\u2026");
    for (uint32_t i = 0; i < k.n; ++i) path.push_back(label_text(c, k.labels[i]));
    Row& row = by_text[path];
    row.path = path;
    row.n = k.n;
    row.agg.persons += v.persons;
    row.agg.converted += v.converted;
    row.agg.to_goal += v.to_goal;
    for (size_t i = 0; i < kMaxPathSteps; ++i) row.agg.step[i] += v.step[i];
    converted += v.converted;
  }
  std::vector<const Row*> rows;
  for (const auto& [k, row] : by_text) rows.push_back(&row);
  std::stable_sort(rows.begin(), rows.end(), [](const Row* a, const Row* b) {
    if (a->agg.converted != b->agg.converted) return a->agg.converted > b->agg.converted;
    return a->agg.persons > b->agg.persons;  // ties keep the path order of the map
  });
  json list = json::array();
  uint64_t other_persons = 0, other_converted = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = *rows[i];
    if (i >= c.spec.limit) {
      other_persons += r.agg.persons;
      other_converted += r.agg.converted;
      continue;
    }
    json steps = json::array();
    json to_goal = nullptr;
    if (r.agg.converted > 0 && r.n > 0) {
      to_goal = seconds(r.agg.to_goal, r.agg.converted);
      for (uint32_t e = 0; e < r.n; ++e) steps.push_back(seconds(r.agg.step[e], r.agg.converted));
    }
    list.push_back(json{{"path", r.path},
                        {"persons", r.agg.persons},
                        {"converted", r.agg.converted},
                        {"conversion_rate", share_of(r.agg.converted, r.agg.persons)},
                        {"avg_seconds_to_goal", to_goal},
                        {"avg_step_seconds", std::move(steps)}});
  }
  return json{{"persons", g.persons},
              {"converted", converted},
              {"paths", std::move(list)},
              {"other", json{{"persons", other_persons}, {"converted", other_converted}}}};
}

json branches_json(const CompiledPaths& c, const Counts& g) {
  std::map<std::string, BranchAgg> by_text;
  uint64_t converted = 0;
  for (const auto& [k, v] : g.branches) {
    BranchAgg& b = by_text[label_text(c, k)];
    b.persons += v.persons;
    b.converted += v.converted;
    b.to_goal.insert(b.to_goal.end(), v.to_goal.begin(), v.to_goal.end());
    converted += v.converted;
  }
  // compare names persons by their branch, also when it folds into "other" below.
  uint64_t n[2] = {0, 0}, x[2] = {0, 0};
  for (int i = 0; i < 2 && !c.spec.compare.empty(); ++i) {
    const auto it = by_text.find(c.spec.compare[static_cast<size_t>(i)]);
    if (it != by_text.end()) {
      n[i] = it->second.persons;
      x[i] = it->second.converted;
    }
  }
  if (c.branches.empty()) {
    // Labels outside the top fold into "other"; "(nothing)" never does.
    std::vector<std::pair<uint64_t, std::string>> ranked;
    for (const auto& [label, b] : by_text)
      if (label != "(nothing)") ranked.emplace_back(b.persons, label);
    std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    for (size_t i = c.spec.top; i < ranked.size(); ++i) {
      BranchAgg b = std::move(by_text.at(ranked[i].second));
      by_text.erase(ranked[i].second);
      BranchAgg& o = by_text["other"];
      o.persons += b.persons;
      o.converted += b.converted;
      o.to_goal.insert(o.to_goal.end(), b.to_goal.begin(), b.to_goal.end());
    }
  } else {
    for (const std::string& name : c.spec.branch_names) by_text[name];  // named branches show even when empty
  }
  std::vector<std::pair<std::string, const BranchAgg*>> rows;
  for (const auto& [label, b] : by_text) rows.emplace_back(label, &b);
  std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second->persons > b.second->persons; });
  json list = json::array();
  for (const auto& [label, b] : rows) {
    // vs_rest is null (not {"z": null, ...}) when the branch or everyone else is empty.
    json vs = b->persons > 0 && g.persons > b->persons ? z_test(b->converted, b->persons, converted - b->converted, g.persons - b->persons)
                                     : json(nullptr);
    list.push_back(json{{"label", label},
                        {"persons", b->persons},
                        {"share", share_of(b->persons, g.persons)},
                        {"converted", b->converted},
                        {"conversion", share_of(b->converted, b->persons)},
                        {"time_to_goal", time_stats(b->to_goal)},
                        {"vs_rest", std::move(vs)}});
  }
  json out{{"persons", g.persons}, {"converted", converted}, {"branches", std::move(list)}};
  if (!c.spec.compare.empty()) {
    json cmp = z_test(x[0], n[0], x[1], n[1]);
    for (int i = 0; i < 2; ++i)
      cmp[i == 0 ? "a" : "b"] = json{{"value", c.spec.compare[static_cast<size_t>(i)]},
                                     {"persons", n[i]},
                                     {"converted", x[i]},
                                     {"conversion", share_of(x[i], n[i])}};
    out["comparison"] = std::move(cmp);
  }
  return out;
}

json answer(const CompiledPaths& c, const Counts& g) {
  switch (c.spec.kind) {
    case PathsKind::kPaths:
      return flow_json(c, g);
    case PathsKind::kTopPaths:
      return top_paths_json(c, g);
    case PathsKind::kBranches:
      return branches_json(c, g);
  }
  return json();
}

}  // namespace

json PathsKernel::result() const {
  static constexpr const char* kTypes[] = {"paths", "top_paths", "branches"};
  json out = answer(c_, s_->total);
  out["type"] = kTypes[static_cast<int>(c_.spec.kind)];
  if (c_.spec.kind == PathsKind::kPaths) {
    out["direction"] = c_.spec.backward ? "backward" : "forward";
    out["steps"] = c_.spec.steps;
  }
  if (c_.spec.breakdown) {
    // The largest groups by persons (ties by label); the rest is "other".
    json list = json::array();
    for (const auto& [label, counts] : top_groups(*c_.catalog, s_->groups, c_.spec.breakdown->limit,
                                                  [](const Counts& a, const Counts& b) { return a.persons > b.persons; })) {
      json g = answer(c_, counts);
      g["value"] = label;
      list.push_back(std::move(g));
    }
    out["breakdown"] = std::move(list);
  }
  return out;
}

Result<json> run_paths(const Store& store, const PathsSpec& spec, unsigned threads) {
  auto compiled = compile_paths(spec, store.catalog());
  if (!compiled) return compiled.status();
  CAIRN_RETURN_IF_ERROR(load_traits_if_read(store.catalog(), compiled->traits, &compiled->group));
  return scan_result<PathsKernel>(store, *compiled, threads);
}

}  // namespace cairn::query
