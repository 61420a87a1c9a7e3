#include "query/stages.h"

#include <algorithm>
#include <array>
#include <initializer_list>
#include <map>
#include <unordered_map>

#include <fmt/format.h>

namespace cairn::query {

using nlohmann::json;

// ---------------------------------------------------------------- parsing

namespace {

Result<uint32_t> parse_positive(const json& j, const std::string& path) {
  const auto n = whole_number(j, 1, 1000000);
  if (!n) return field_error(path, "expected a whole number from 1 to 1000000");
  return static_cast<uint32_t>(*n);
}

// One event definition ({"event", "where"}) or "any_of" several, in `obj`
// beside other fields; `required` when the object must name events.
Status parse_events(const json& obj, const std::string& path, bool required, std::vector<EventDef>& out) {
  const bool event = obj.contains("event"), any_of = obj.contains("any_of");
  if (event && any_of) return field_error(path + ".any_of", "give either event or any_of, not both");
  if (any_of && obj.contains("where")) return field_error(path + ".where", "goes inside each event of any_of");
  if (!event && !any_of) {
    if (obj.contains("where")) return field_error(path + ".event", "is missing (where filters the events of one name)");
    if (required) return field_error(path + ".event", "is missing (an event name, or any_of: [{\"event\": ...}, ...])");
    return Status::ok();
  }
  if (any_of && obj["any_of"].is_array())
    for (size_t k = 0; k < obj["any_of"].size(); ++k) {
      const json& d = obj["any_of"][k];
      const std::string p = fmt::format("{}.any_of[{}]", path, k);
      if (!d.is_object()) return field_error(p, "expected an event definition like {\"event\": \"signup\"}");
      CAIRN_RETURN_IF_ERROR(reject_unknown(d, p, {"event", "where"}));
    }
  return parse_event_defs(obj, path, out);
}

Result<StageDef> parse_stage(const json& j, const std::string& path) {
  if (!j.is_object()) return field_error(path, "expected a stage like {\"name\": \"activation\", \"event\": \"signup\"}");
  CAIRN_RETURN_IF_ERROR(reject_unknown(j, path, {"name", "event", "where", "any_of", "nth", "active_periods", "period"}));
  StageDef s;
  if (!j.contains("name") || !j["name"].is_string() || j["name"].get<std::string>().empty())
    return field_error(path + ".name", "expected a non-empty stage name");
  s.name = j["name"].get<std::string>();
  CAIRN_RETURN_IF_ERROR(parse_events(j, path, true, s.any_of));
  if (j.contains("nth") && j.contains("active_periods"))
    return field_error(path + ".active_periods", "give either nth (the n-th matching event) or active_periods, not both");
  if (j.contains("nth")) {
    auto n = parse_positive(j["nth"], path + ".nth");
    if (!n) return n.status();
    s.nth = *n;
  }
  if (j.contains("active_periods")) {
    auto n = parse_positive(j["active_periods"], path + ".active_periods");
    if (!n) return n.status();
    s.active_periods = *n;
  }
  if (j.contains("period")) {
    if (s.active_periods == 0) return field_error(path + ".period", "only goes with active_periods");
    auto p = parse_period(j["period"], path + ".period");
    if (!p) return p.status();
    s.period = *p;
  }
  return s;
}

StageDef preset_stage(const char* name, std::initializer_list<const char*> events, uint32_t active_weeks = 0) {
  StageDef s;
  s.name = name;
  for (const char* e : events) s.any_of.push_back(EventDef{e, {}});
  s.active_periods = active_weeks;
  return s;
}

// The presets name the simulator's events (sim/catalogue.h); docs/QUERY.md lists them.
bool preset_stages(const std::string& name, std::vector<StageDef>& out) {
  if (name == "acquisition_activation_adoption") {
    out = {preset_stage("acquisition", {"page_view"}), preset_stage("activation", {"signup", "trial_started"}),
           preset_stage("adoption", {"login"}, 3)};
    return true;
  }
  if (name == "attract_capture_nurture_convert_expand") {
    out = {preset_stage("attract", {"ad_click", "page_view"}),
           preset_stage("capture", {"form_submit", "signup", "lead_created"}),
           preset_stage("nurture", {"email_click", "webinar_attended", "mql"}),
           preset_stage("convert", {"purchase", "deal_won"}), preset_stage("expand", {"upgrade", "cross_sell"})};
    return true;
  }
  return false;
}

}  // namespace

Result<StagesSpec> parse_stages(const json& doc) {
  if (!doc.is_object()) return field_error("query", "expected a JSON object");
  if (doc.value("type", json()) != "stages") return field_error("type", "expected \"stages\"");
  CAIRN_RETURN_IF_ERROR(
      reject_unknown(doc, "", {"type", "range", "timezone", "filters", "stages", "preset", "entry_point", "activity"}));
  StagesSpec spec;
  CAIRN_RETURN_IF_ERROR(parse_range(doc, spec.from, spec.to));
  CAIRN_RETURN_IF_ERROR(parse_timezone(doc, spec.timezone));
  CAIRN_RETURN_IF_ERROR(parse_filters(doc, spec.event_filters, spec.trait_filters));
  if (doc.contains("stages") && doc.contains("preset")) return field_error("preset", "give either stages or preset, not both");
  if (doc.contains("stages")) {
    const json& a = doc["stages"];
    if (!a.is_array() || a.empty() || a.size() > kMaxStages)
      return field_error("stages", fmt::format("expected an array of 1 to {} stages", kMaxStages));
    for (size_t i = 0; i < a.size(); ++i) {
      const std::string path = fmt::format("stages[{}]", i);
      auto s = parse_stage(a[i], path);
      if (!s) return s.status();
      for (const StageDef& other : spec.stages)
        if (other.name == s->name) return field_error(path + ".name", fmt::format("two stages are named \"{}\"", s->name));
      spec.stages.push_back(std::move(*s));
    }
  } else if (doc.contains("preset")) {
    if (!doc["preset"].is_string() || !preset_stages(doc["preset"].get<std::string>(), spec.stages))
      return field_error("preset",
                         "expected \"acquisition_activation_adoption\" or \"attract_capture_nurture_convert_expand\"");
    spec.preset = doc["preset"].get<std::string>();
  } else if (!doc.contains("activity")) {
    return field_error("stages", "is missing (declare stages, or give a preset, or ask for activity)");
  }
  if (doc.contains("entry_point")) {
    const json& e = doc["entry_point"];
    if (!e.is_object() || !e.contains("property") || !e["property"].is_string() || e["property"].get<std::string>().empty())
      return field_error("entry_point", "expected {\"property\": NAME} (e.g. \"channel\"), optionally with \"limit\"");
    CAIRN_RETURN_IF_ERROR(reject_unknown(e, "entry_point", {"property", "limit"}));
    spec.entry_point = e["property"].get<std::string>();
    if (e.contains("limit")) {
      auto n = parse_positive(e["limit"], "entry_point.limit");
      if (!n) return n.status();
      spec.entry_point_limit = *n;
    }
  }
  if (doc.contains("activity")) {
    const json& a = doc["activity"];
    if (!a.is_object()) return field_error("activity", "expected {\"period\": \"week\"}, optionally with an event or any_of");
    CAIRN_RETURN_IF_ERROR(reject_unknown(a, "activity", {"period", "event", "where", "any_of"}));
    spec.activity = true;
    if (a.contains("period")) {
      auto p = parse_period(a["period"], "activity.period");
      if (!p) return p.status();
      spec.activity_def.period = *p;
    }
    CAIRN_RETURN_IF_ERROR(parse_events(a, "activity", false, spec.activity_def.any_of));
  }
  return spec;
}

// ---------------------------------------------------------------- compiling

namespace {

int64_t ordinal_at(Micros t, const TimeZone& tz, Period p) { return period_ordinal(period_start(t, tz, p), p); }

}  // namespace

Result<CompiledStages> compile_stages(const StagesSpec& spec, const Catalog& cat) {
  CompiledStages c;
  c.spec = spec;
  c.catalog = &cat;
  const KeySlot slot = plan_key_slot(c.plan);
  for (size_t s = 0; s < spec.stages.size(); ++s) {
    CompiledStage cs;
    CAIRN_RETURN_IF_ERROR(compile_defs(spec.stages[s].any_of, fmt::format("stages[{}]", s), cat, slot, cs.any_of));
    cs.nth = spec.stages[s].nth;
    cs.active_periods = spec.stages[s].active_periods;
    cs.period = spec.stages[s].period;
    c.stages.push_back(std::move(cs));
  }
  CAIRN_RETURN_IF_ERROR(compile_defs(spec.activity_def.any_of, "activity", cat, slot, c.activity));
  for (size_t i = 0; i < spec.event_filters.size(); ++i)
    CAIRN_RETURN_IF_ERROR(
        compile_filter(spec.event_filters[i], cat, slot, fmt::format("filters[{}]", i), c.event_filters, c.events_never));
  CAIRN_RETURN_IF_ERROR(c.traits.compile(spec.trait_filters, cat));
  if (!spec.entry_point.empty()) {
    const uint32_t key = cat.keys.find(spec.entry_point);
    if (key != StringPool::kMissing) c.entry_key = static_cast<int>(slot(key));
  }
  const Period p = spec.activity_def.period;
  if (spec.from != INT64_MIN) c.first_period = ordinal_at(spec.from, *spec.timezone, p);
  if (spec.to != INT64_MAX) c.last_period = ordinal_at(spec.to - 1, *spec.timezone, p);
  // First entries, first touches and "new" need each person's whole history,
  // and later stages count whenever they happen: every event is read.
  c.plan.min_time = INT64_MIN;
  c.plan.max_time = INT64_MAX;
  return c;
}

// ---------------------------------------------------------------- the kernel

namespace {

constexpr size_t kNone = SIZE_MAX;

struct StageCounts {
  uint64_t entered = 0;
  uint64_t from_previous = 0;  // entered the previous stage and this one at or after it
  uint64_t in_order = 0;       // entered every stage up to this one, each at or after the one before
  std::vector<Micros> since_previous, since_first;
};

struct PeriodCounts {
  uint64_t active = 0, fresh = 0, returning = 0, resurrecting = 0, dormant = 0;
};

// The answer's counts for all persons or for one entry point value.
struct Counts {
  uint64_t persons = 0;         // entered the first stage in the range
  uint64_t active_persons = 0;  // active in at least one period of the range
  std::vector<StageCounts> stages;
  std::map<int64_t, PeriodCounts> periods;  // by period ordinal

  void merge(const Counts& o) {
    persons += o.persons;
    active_persons += o.active_persons;
    if (stages.size() < o.stages.size()) stages.resize(o.stages.size());
    for (size_t s = 0; s < o.stages.size(); ++s) {
      StageCounts& a = stages[s];
      const StageCounts& b = o.stages[s];
      a.entered += b.entered;
      a.from_previous += b.from_previous;
      a.in_order += b.in_order;
      a.since_previous.insert(a.since_previous.end(), b.since_previous.begin(), b.since_previous.end());
      a.since_first.insert(a.since_first.end(), b.since_first.begin(), b.since_first.end());
    }
    for (const auto& [k, v] : o.periods) {
      PeriodCounts& a = periods[k];
      a.active += v.active;
      a.fresh += v.fresh;
      a.returning += v.returning;
      a.resurrecting += v.resurrecting;
      a.dormant += v.dormant;
    }
  }
};

}  // namespace

struct StagesKernel::State {
  Counts total;
  std::unordered_map<GroupKey, Counts, GroupKeyHash> groups;
  std::vector<int64_t> active;  // one person's activity periods (reused)
};

StagesKernel::StagesKernel(const CompiledStages& c) : c_(c), s_(std::make_unique<State>()) {}
StagesKernel::~StagesKernel() = default;

void StagesKernel::add(const PersonView& p) {
  if (c_.traits.active() && !c_.traits.pass(*c_.catalog, p.person)) return;
  if (c_.events_never) return;
  const StagesSpec& spec = c_.spec;
  const TimeZone& tz = *spec.timezone;
  const size_t ns = c_.stages.size();
  std::array<size_t, kMaxStages> at;  // the event that entered each stage
  std::array<uint32_t, kMaxStages> seen{};
  std::array<int64_t, kMaxStages> last_period;
  at.fill(kNone);
  last_period.fill(INT64_MIN);
  size_t entered = 0;
  GroupKey group = group_key(Cell{});
  bool group_found = c_.entry_key < 0;
  std::vector<int64_t>& active = s_->active;
  active.clear();
  for (size_t i = 0; i < p.n; ++i) {
    bool pass = true;
    for (const CompiledFilter& f : c_.event_filters)
      if (!f.pass(p.cell(f.key, i))) {
        pass = false;
        break;
      }
    if (!pass) continue;
    if (!group_found && p.cell(static_cast<size_t>(c_.entry_key), i).present) {
      group = group_key(p.cell(static_cast<size_t>(c_.entry_key), i));
      group_found = true;
    }
    if (spec.activity && (c_.activity.empty() || any_def_matches(c_.activity, p, i))) {
      const int64_t o = ordinal_at(p.time[i], tz, spec.activity_def.period);
      if (active.empty() || active.back() != o) active.push_back(o);
    }
    if (entered == ns) continue;
    for (size_t s = 0; s < ns; ++s) {
      const CompiledStage& st = c_.stages[s];
      if (at[s] != kNone || !any_def_matches(st.any_of, p, i)) continue;
      if (st.active_periods > 0) {
        const int64_t o = ordinal_at(p.time[i], tz, st.period);
        if (o <= last_period[s]) continue;  // a period already counted
        last_period[s] = o;
        if (++seen[s] < st.active_periods) continue;
      } else if (++seen[s] < st.nth) {
        continue;
      }
      at[s] = i;
      ++entered;
    }
  }
  const bool in_report = ns > 0 && at[0] != kNone && p.time[at[0]] >= spec.from && p.time[at[0]] < spec.to;
  // Periods are in time order except where a time zone's clock goes back
  // over a period boundary.
  if (!std::is_sorted(active.begin(), active.end())) {
    std::sort(active.begin(), active.end());
    active.erase(std::unique(active.begin(), active.end()), active.end());
  }
  auto in_periods = [&](int64_t o) { return o >= c_.first_period && o <= c_.last_period; };
  // Active in a period of the range, or dormant in one (active just before it).
  bool any_active = false, any_dormant = false;
  for (size_t j = 0; j < active.size(); ++j) {
    any_active = any_active || in_periods(active[j]);
    any_dormant = any_dormant || (in_periods(active[j] + 1) && (j + 1 == active.size() || active[j + 1] != active[j] + 1));
  }
  if (!in_report && !any_active && !any_dormant) return;
  for (Counts* g : {&s_->total, spec.entry_point.empty() ? nullptr : &s_->groups[group]}) {
    if (!g) continue;
    if (in_report) {
      ++g->persons;
      g->stages.resize(ns);
      bool chain = true;
      for (size_t s = 0; s < ns; ++s) {
        StageCounts& sc = g->stages[s];
        if (at[s] == kNone) {
          chain = false;
          continue;
        }
        ++sc.entered;
        if (s == 0) {
          ++sc.from_previous;
          ++sc.in_order;
          continue;
        }
        const bool after_previous = at[s - 1] != kNone && at[s] >= at[s - 1];
        chain = chain && after_previous;
        if (after_previous) {
          ++sc.from_previous;
          sc.since_previous.push_back(p.time[at[s]] - p.time[at[s - 1]]);
        }
        if (chain) {
          ++sc.in_order;
          sc.since_first.push_back(p.time[at[s]] - p.time[at[0]]);
        }
      }
    }
    g->active_persons += any_active;
    for (size_t j = 0; j < active.size(); ++j) {
      const int64_t a = active[j];
      if (in_periods(a)) {
        PeriodCounts& pc = g->periods[a];
        ++pc.active;
        if (j == 0) ++pc.fresh;
        else if (active[j - 1] == a - 1) ++pc.returning;
        else ++pc.resurrecting;
      }
      const bool next_active = j + 1 < active.size() && active[j + 1] == a + 1;
      if (!next_active && in_periods(a + 1)) ++g->periods[a + 1].dormant;
    }
  }
}

void StagesKernel::merge(Kernel& other) {
  auto& o = static_cast<StagesKernel&>(other);
  s_->total.merge(o.s_->total);
  for (const auto& [k, v] : o.s_->groups) s_->groups[k].merge(v);
}

// ---------------------------------------------------------------- the answer

namespace {


json stages_json(const CompiledStages& c, const Counts& g) {
  json list = json::array();
  for (size_t s = 0; s < c.stages.size(); ++s) {
    const StageCounts sc = s < g.stages.size() ? g.stages[s] : StageCounts{};
    const uint64_t previous = s == 0 ? g.persons : s - 1 < g.stages.size() ? g.stages[s - 1].entered : 0;
    list.push_back(json{{"stage", s + 1},
                        {"name", c.spec.stages[s].name},
                        {"entered", sc.entered},
                        {"entered_share", ratio(sc.entered, g.persons)},
                        {"from_previous", sc.from_previous},
                        {"conversion_from_previous", ratio(sc.from_previous, previous)},
                        {"in_order", sc.in_order},
                        {"conversion_from_start", ratio(sc.in_order, g.persons)},
                        {"time_from_previous", time_stats(sc.since_previous)},
                        {"time_from_start", time_stats(sc.since_first)}});
  }
  return list;
}

// The listed activity periods (ordinals): the range's, and at an open end
// the first (last) period anyone is active in; one span for every group.
std::pair<int64_t, int64_t> activity_span(const CompiledStages& c, const Counts& total) {
  int64_t lo = c.first_period, hi = c.last_period;
  int64_t min_active = INT64_MAX, max_active = INT64_MIN;
  for (const auto& [o, pc] : total.periods)
    if (pc.active > 0) {
      min_active = std::min(min_active, o);
      max_active = std::max(max_active, o);
    }
  if (lo == INT64_MIN) lo = min_active;
  if (hi == INT64_MAX) hi = max_active;
  return {lo, hi};
}

json activity_json(const CompiledStages& c, const Counts& g, std::pair<int64_t, int64_t> span) {
  const Period period = c.spec.activity_def.period;
  const auto [lo, hi] = span;
  json list = json::array();
  for (int64_t o = lo; o <= hi && o != INT64_MAX; ++o) {
    const auto it = g.periods.find(o);
    const PeriodCounts pc = it == g.periods.end() ? PeriodCounts{} : it->second;
    list.push_back(json{{"period", day_label(period_of_ordinal(o, period))},
                        {"active", pc.active},
                        {"new", pc.fresh},
                        {"returning", pc.returning},
                        {"resurrecting", pc.resurrecting},
                        {"dormant", pc.dormant},
                        {"quick_ratio", ratio(pc.fresh + pc.resurrecting, pc.dormant)}});
  }
  return json{{"period", period_name(period)}, {"active_persons", g.active_persons}, {"periods", std::move(list)}};
}

json counts_json(const CompiledStages& c, const Counts& g, std::pair<int64_t, int64_t> span) {
  json out = json::object();
  if (!c.stages.empty()) {
    out["persons"] = g.persons;
    out["stages"] = stages_json(c, g);
  }
  if (c.spec.activity) out["activity"] = activity_json(c, g, span);
  return out;
}

}  // namespace

json StagesKernel::result() const {
  const auto span = activity_span(c_, s_->total);
  json out = counts_json(c_, s_->total, span);
  out["type"] = "stages";
  if (!c_.spec.preset.empty()) out["preset"] = c_.spec.preset;
  if (!c_.spec.entry_point.empty()) {
    // The largest groups by persons, then active persons (ties by label); the rest is "other".
    const auto before = [](const Counts& a, const Counts& b) {
      return a.persons != b.persons ? a.persons > b.persons : a.active_persons > b.active_persons;
    };
    json list = json::array();
    for (const auto& [label, counts] : top_groups(*c_.catalog, s_->groups, c_.spec.entry_point_limit, before)) {
      json g = counts_json(c_, counts, span);
      g["value"] = label;
      list.push_back(std::move(g));
    }
    out["entry_points"] = std::move(list);
  }
  return out;
}

Result<json> run_stages(const Store& store, const StagesSpec& spec, unsigned threads) {
  auto compiled = compile_stages(spec, store.catalog());
  if (!compiled) return compiled.status();
  CAIRN_RETURN_IF_ERROR(load_traits_if_read(store.catalog(), compiled->traits, nullptr));
  return scan_result<StagesKernel>(store, *compiled, threads);
}

}  // namespace cairn::query
