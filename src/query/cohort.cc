#include "query/cohort.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <unordered_map>

#include <fmt/format.h>

namespace cairn::query {

using nlohmann::json;

// ---------------------------------------------------------------- parsing

namespace {

constexpr size_t kMaxPeriods = 1000;
// Cohorts times periods in one answer (each a value per measure).
constexpr int64_t kMaxCells = 1000000;

// The ordinal of the period (of the spec's length, in its time zone) that
// holds t: a cohort's number.
int64_t ordinal_at(const CohortSpec& s, Micros t) { return period_ordinal(period_start(t, *s.timezone, s.period), s.period); }


// An event definition or {"any_of": [...]} at doc[field], into `out`.
Status parse_defs_field(const json& doc, const char* field, const std::string& path, std::vector<EventDef>& out) {
  const json& j = doc[field];
  if (!j.is_object()) return field_error(path, "expected an event definition like {\"event\": \"signup\"} or {\"any_of\": [...]}");
  CAIRN_RETURN_IF_ERROR(reject_unknown(j, path, {"event", "where", "any_of"}));
  return parse_event_defs(j, path, out);
}

Status parse_measure(const json& m, const std::string& path, CohortMeasure& out) {
  if (!m.is_object()) return field_error(path, "expected an object like {\"name\": \"revenue\", \"measure\": \"sum\", ...}");
  CAIRN_RETURN_IF_ERROR(reject_unknown(m, path, {"name", "measure", "event", "where", "any_of", "property", "cumulative"}));
  if (!m.contains("name") || !m["name"].is_string() || m["name"].get<std::string>().empty())
    return field_error(path + ".name", "expected a non-empty name");
  out.name = m["name"].get<std::string>();
  static const std::pair<const char*, CohortMeasure::Kind> kKinds[] = {
      {"active", CohortMeasure::kActive}, {"conversion", CohortMeasure::kConversion}, {"count", CohortMeasure::kCount},
      {"sum", CohortMeasure::kSum},       {"avg", CohortMeasure::kAvg}};
  if (!m.contains("measure")) return field_error(path + ".measure", "is missing (active, conversion, count, sum or avg)");
  bool found = false;
  for (const auto& [text, kind] : kKinds)
    if (m["measure"] == text) out.kind = kind, found = true;
  if (!found) return field_error(path + ".measure", "expected \"active\", \"conversion\", \"count\", \"sum\" or \"avg\"");
  if (m.contains("event") || m.contains("any_of")) {
    json def = json::object();
    for (const char* k : {"event", "where", "any_of"})
      if (m.contains(k)) def[k] = m[k];
    CAIRN_RETURN_IF_ERROR(parse_event_defs(def, path, out.events));
  } else if (m.contains("where")) {
    return field_error(path + ".where", "needs an \"event\" to apply to");
  }
  const bool needs_property = out.kind == CohortMeasure::kSum || out.kind == CohortMeasure::kAvg;
  if (m.contains("property")) {
    if (!needs_property) return field_error(path + ".property", "only sum and avg read a property");
    if (!m["property"].is_string() || m["property"].get<std::string>().empty())
      return field_error(path + ".property", "expected a property name");
    out.property = m["property"].get<std::string>();
  } else if (needs_property) {
    return field_error(path + ".property", "is missing (the number to add up, e.g. \"revenue\")");
  }
  if (m.contains("cumulative")) {
    if (!m["cumulative"].is_boolean()) return field_error(path + ".cumulative", "expected true or false");
    out.cumulative = m["cumulative"].get<bool>();
    if (out.cumulative && out.kind != CohortMeasure::kCount && out.kind != CohortMeasure::kSum)
      return field_error(path + ".cumulative", "only count and sum add up over periods (conversion is cumulative already)");
  }
  return Status::ok();
}

}  // namespace

Result<CohortSpec> parse_cohorts(const json& doc) {
  CohortSpec spec;
  spec.kind = doc["type"] == "retention" ? CohortKind::kRetention : CohortKind::kCohorts;
  const bool retention = spec.kind == CohortKind::kRetention;
  if (retention)
    CAIRN_RETURN_IF_ERROR(reject_unknown(doc, "", {"type", "range", "timezone", "start", "recurring", "return", "period", "periods",
                                             "mode", "filters", "breakdown"}));
  else
    CAIRN_RETURN_IF_ERROR(reject_unknown(doc, "", {"type", "range", "timezone", "start", "recurring", "period", "periods", "measures", "filters", "breakdown"}));
  CAIRN_RETURN_IF_ERROR(parse_range(doc, spec.from, spec.to));
  CAIRN_RETURN_IF_ERROR(parse_timezone(doc, spec.timezone));
  CAIRN_RETURN_IF_ERROR(parse_filters(doc, spec.event_filters, spec.trait_filters));
  if (doc.contains("start")) CAIRN_RETURN_IF_ERROR(parse_defs_field(doc, "start", "start", spec.start));
  if (doc.contains("recurring")) {
    if (!doc["recurring"].is_boolean()) return field_error("recurring", "expected true or false");
    spec.recurring = doc["recurring"].get<bool>();
  }
  if (doc.contains("return")) CAIRN_RETURN_IF_ERROR(parse_defs_field(doc, "return", "return", spec.ret));
  if (doc.contains("period")) {
    auto p = parse_period(doc["period"], "period");
    if (!p) return p.status();
    spec.period = *p;
  }
  if (doc.contains("periods")) {
    const auto n = whole_number(doc["periods"], 1, kMaxPeriods);
    if (!n) return field_error("periods", fmt::format("expected a whole number from 1 to {}", kMaxPeriods));
    spec.periods = static_cast<size_t>(*n);
  }
  if (doc.contains("mode")) {
    if (doc["mode"] == "unbounded") spec.unbounded = true;
    else if (doc["mode"] != "bracketed") return field_error("mode", "expected \"bracketed\" or \"unbounded\"");
  }
  if (doc.contains("breakdown")) {
    const json& b = doc["breakdown"];
    if (b.is_object() && b.contains("behaviour")) {
      CAIRN_RETURN_IF_ERROR(reject_unknown(b, "breakdown", {"behaviour", "within"}));
      CAIRN_RETURN_IF_ERROR(parse_defs_field(b, "behaviour", "breakdown.behaviour", spec.behaviour));
      if (b.contains("within") && b["within"] != "first_period") {
        auto d = parse_duration_field(b["within"], "breakdown.within");
        if (!d) return d.status();
        spec.behaviour_within = *d;
      }
    } else {
      if (b.is_object()) CAIRN_RETURN_IF_ERROR(reject_unknown(b, "breakdown", {"property", "trait", "limit"}));
      auto bd = parse_breakdown(b);
      if (!bd) return bd.status();
      spec.breakdown = *bd;
    }
  }
  if (!retention) {
    if (!doc.contains("measures") || !doc["measures"].is_array() || doc["measures"].empty())
      return field_error("measures", "expected a non-empty array like [{\"name\": \"buyers\", \"measure\": \"active\", \"event\": \"purchase\"}]");
    for (size_t i = 0; i < doc["measures"].size(); ++i) {
      CohortMeasure m;
      CAIRN_RETURN_IF_ERROR(parse_measure(doc["measures"][i], fmt::format("measures[{}]", i), m));
      for (const CohortMeasure& other : spec.measures)
        if (other.name == m.name)
          return field_error(fmt::format("measures[{}].name", i), fmt::format("two measures are named \"{}\"", m.name));
      spec.measures.push_back(std::move(m));
    }
  }
  return spec;
}

// ---------------------------------------------------------------- compiling

// Event definitions (any of them matches; none: any event), with a table by
// event id when no definition has property conditions.
struct Matcher {
  std::vector<CompiledDef> defs;
  std::vector<uint8_t> by_event;  // filled when every definition is a bare event name
  bool any = true;                // no definitions
  void index(size_t events) {
    any = defs.empty();
    if (any || std::any_of(defs.begin(), defs.end(), [](const CompiledDef& d) { return !d.where.empty(); })) return;
    by_event.assign(events, 0);
    for (const CompiledDef& d : defs)
      if (d.known) by_event[d.event] = 1;
  }
  bool match(const PersonView& p, size_t i) const {
    if (any) return true;
    if (!by_event.empty()) return p.event[i] < by_event.size() && by_event[p.event[i]];
    return any_def_matches(defs, p, i);
  }
};

struct CompiledMeasure {
  Matcher events;
  int key = -1;  // plan key of the property (sum, avg); -1 when no event has it
};

struct CompiledCohorts {
  CohortSpec spec;
  Matcher start, ret, behaviour;
  bool has_behaviour = false;
  std::vector<CompiledMeasure> measures;
  std::vector<CompiledFilter> event_filters;
  bool events_never = false;
  TraitFilters traits;
  GroupBy group;
  const Catalog* catalog = nullptr;
  ScanPlan plan;
};

namespace {

Status compile_matcher(const std::vector<EventDef>& defs, const std::string& path, const Catalog& cat, const KeySlot& slot,
                       Matcher& out) {
  CAIRN_RETURN_IF_ERROR(compile_defs(defs, path, cat, slot, out.defs));
  out.index(cat.events.size());
  return Status::ok();
}

}  // namespace

Result<std::shared_ptr<CompiledCohorts>> compile_cohorts(const CohortSpec& spec, const Catalog& cat) {
  auto out = std::make_shared<CompiledCohorts>();
  CompiledCohorts& c = *out;
  c.spec = spec;
  c.catalog = &cat;
  const KeySlot slot = plan_key_slot(c.plan);
  CAIRN_RETURN_IF_ERROR(compile_matcher(spec.start, "start", cat, slot, c.start));
  CAIRN_RETURN_IF_ERROR(compile_matcher(spec.ret, "return", cat, slot, c.ret));
  CAIRN_RETURN_IF_ERROR(compile_matcher(spec.behaviour, "breakdown.behaviour", cat, slot, c.behaviour));
  c.has_behaviour = !spec.behaviour.empty();
  for (size_t m = 0; m < spec.measures.size(); ++m) {
    CompiledMeasure cm;
    CAIRN_RETURN_IF_ERROR(compile_matcher(spec.measures[m].events, fmt::format("measures[{}]", m), cat, slot, cm.events));
    if (!spec.measures[m].property.empty()) {
      const uint32_t key = cat.keys.find(spec.measures[m].property);
      if (key != StringPool::kMissing) cm.key = static_cast<int>(slot(key));
    }
    c.measures.push_back(std::move(cm));
  }
  for (size_t i = 0; i < spec.event_filters.size(); ++i)
    CAIRN_RETURN_IF_ERROR(
        compile_filter(spec.event_filters[i], cat, slot, fmt::format("filters[{}]", i), c.event_filters, c.events_never));
  CAIRN_RETURN_IF_ERROR(c.traits.compile(spec.trait_filters, cat));
  if (spec.breakdown) c.group.compile(*spec.breakdown, cat, slot);
  // A first-time start must be the person's first ever, so the whole history
  // before the range is read; recurring starts need only the range.
  c.plan.min_time = spec.recurring ? spec.from : INT64_MIN;
  // Nothing after the last period of the last cohort counts, except for
  // unbounded retention, where any later return does. Two days of slack
  // cover any time zone offset.
  if (spec.to != INT64_MAX && !(spec.kind == CohortKind::kRetention && spec.unbounded)) {
    const int64_t last = ordinal_at(spec, spec.to - 1);
    const int64_t end_day = period_of_ordinal(last + static_cast<int64_t>(spec.periods), spec.period) + 2;
    if (end_day < INT64_MAX / kMicrosPerDay) c.plan.max_time = end_day * kMicrosPerDay;
  }
  return out;
}

ScanPlan& cohort_plan(CompiledCohorts& c) { return c.plan; }

namespace {

// ---------------------------------------------------------------- the kernel

// Counts of one (group, cohort) cell of the answer.
struct Row {
  uint64_t size = 0;
  std::vector<uint64_t> retained;  // retention: per period
  // cohorts: per measure, per period: persons (active, conversion first
  // period), events, and the sum of the property.
  std::vector<std::vector<uint64_t>> persons, events;
  std::vector<std::vector<double>> sums;
  void init(size_t measures, size_t periods) {
    retained.assign(periods, 0);
    persons.assign(measures, std::vector<uint64_t>(periods, 0));
    events = persons;
    sums.assign(measures, std::vector<double>(periods, 0.0));
  }
  void add(const Row& o) {
    size += o.size;
    for (size_t k = 0; k < retained.size(); ++k) retained[k] += o.retained[k];
    for (size_t m = 0; m < persons.size(); ++m)
      for (size_t k = 0; k < persons[m].size(); ++k) {
        persons[m][k] += o.persons[m][k];
        events[m][k] += o.events[m][k];
        sums[m][k] += o.sums[m][k];
      }
  }
};

struct RowKey {
  GroupKey group;
  int64_t cohort;
  bool operator==(const RowKey&) const = default;
};
struct RowKeyHash {
  size_t operator()(const RowKey& k) const { return GroupKeyHash()(k.group) * 1000003 ^ std::hash<int64_t>()(k.cohort); }
};

class CohortKernel final : public Kernel {
 public:
  explicit CohortKernel(const CompiledCohorts& c) : c_(c) {}

  void add(const PersonView& p) override {
    if (c_.events_never || (c_.traits.active() && !c_.traits.pass(*c_.catalog, p.person))) return;
    const CohortSpec& s = c_.spec;
    // Which events count at all.
    filtered_ = !c_.event_filters.empty();
    if (filtered_) {
      pass_.assign(p.n, 1);
      for (size_t i = 0; i < p.n; ++i)
        for (const CompiledFilter& f : c_.event_filters)
          if (!f.pass(p.cell(f.key, i))) {
            pass_[i] = 0;
            break;
          }
    }
    // The person's cohorts: the first start event (first-time), or the first
    // start event of every period (recurring), within the range.
    bool has_member = false;
    int64_t last_member = 0;
    for (size_t i = 0; i < p.n; ++i) {
      if (!counts(i) || !c_.start.match(p, i)) continue;
      const bool in_range = p.time[i] >= s.from && p.time[i] < s.to;
      if (!s.recurring) {
        if (in_range) member(p, i);
        break;
      }
      if (!in_range) continue;
      const int64_t o = ord(p.time[i]);
      if (!has_member || last_member != o) {
        member(p, i);
        has_member = true;
        last_member = o;
      }
    }
  }

  void merge(Kernel& other) override {
    auto& o = static_cast<CohortKernel&>(other);
    for (auto& [key, row] : o.rows_) {
      auto [it, added] = rows_.try_emplace(key);
      if (added) it->second = std::move(row);
      else it->second.add(row);
    }
  }

  json result(Micros data_end) const;

 private:
  // The person joins the cohort of their start event `s0`.
  void member(const PersonView& p, size_t s0) {
    const CohortSpec& s = c_.spec;
    const int64_t cohort = ord(p.time[s0]);
    const int64_t periods = static_cast<int64_t>(s.periods);
    GroupKey group{-1, 0};
    if (c_.has_behaviour) {
      bool did = false;
      for (size_t i = s0; i < p.n && !did; ++i) {
        if (s.behaviour_within < 0 ? ord(p.time[i]) != cohort : p.time[i] - p.time[s0] >= s.behaviour_within) break;
        did = counts(i) && c_.behaviour.match(p, i);
      }
      group = {0, did ? 1 : 0};
    } else if (c_.group.active) {
      group = c_.group.of(*c_.catalog, p, s0);
    }
    auto [it, added] = rows_.try_emplace(RowKey{group, cohort});
    Row& row = it->second;
    if (added) row.init(c_.measures.size(), s.periods);
    ++row.size;
    if (s.kind == CohortKind::kRetention) {
      if (s.unbounded) {
        // The latest period with a return, capped at the last one shown.
        int64_t latest = -1;
        for (size_t i = s0; i < p.n && latest < periods - 1; ++i)
          if (counts(i) && c_.ret.match(p, i)) latest = std::min(ord(p.time[i]) - cohort, periods - 1);
        for (int64_t k = 0; k <= latest; ++k) ++row.retained[static_cast<size_t>(k)];
      } else {
        int64_t marked = -1;
        for (size_t i = s0; i < p.n; ++i) {
          const int64_t k = ord(p.time[i]) - cohort;
          if (k >= periods) break;
          if (k != marked && counts(i) && c_.ret.match(p, i)) {
            ++row.retained[static_cast<size_t>(k)];
            marked = k;
          }
        }
      }
      return;
    }
    for (size_t m = 0; m < c_.measures.size(); ++m) {
      const CompiledMeasure& cm = c_.measures[m];
      const CohortMeasure::Kind kind = c_.spec.measures[m].kind;
      int64_t marked = -1;
      for (size_t i = s0; i < p.n; ++i) {
        const int64_t k = ord(p.time[i]) - cohort;
        if (k >= periods) break;
        if (!counts(i) || !cm.events.match(p, i)) continue;
        const auto kk = static_cast<size_t>(k);
        if (kind == CohortMeasure::kActive || kind == CohortMeasure::kConversion) {
          if (k != marked) ++row.persons[m][kk], marked = k;
          if (kind == CohortMeasure::kConversion) break;  // the first period only
          continue;
        }
        if (kind == CohortMeasure::kSum || kind == CohortMeasure::kAvg) {
          if (cm.key < 0) continue;
          const Cell& v = p.cell(static_cast<size_t>(cm.key), i);
          if (!v.present || v.type != ValueType::kNumber) continue;
          double d;
          std::memcpy(&d, &v.bits, sizeof d);
          row.sums[m][kk] += d;
        }
        ++row.events[m][kk];
      }
    }
  }

  bool counts(size_t i) const { return !filtered_ || pass_[i]; }

  // The period ordinal of an instant. Events come in time order, so the
  // local bounds [lo_, hi_) of the last period found answer most calls with
  // two comparisons.
  int64_t ord(Micros t) {
    const Micros local = utc_ ? t : t + c_.spec.timezone->offset_at(t);
    if (local >= lo_ && local < hi_) return cached_;
    const Period per = c_.spec.period;
    const int64_t first = period_start_day(day_of(local), per);
    cached_ = period_ordinal(first, per);
    const int64_t next = period_of_ordinal(cached_ + 1, per);
    constexpr int64_t kSafeDays = INT64_MAX / kMicrosPerDay - 1;
    if (first > -kSafeDays && next < kSafeDays) {
      lo_ = first * kMicrosPerDay;
      hi_ = next * kMicrosPerDay;
    } else {
      lo_ = hi_ = 0;  // no caching out there
    }
    return cached_;
  }

  const CompiledCohorts& c_;
  const bool utc_ = c_.spec.timezone == utc_zone() || c_.spec.timezone->name() == "UTC";
  std::unordered_map<RowKey, Row, RowKeyHash> rows_;
  bool filtered_ = false;
  std::vector<uint8_t> pass_;
  Micros lo_ = 0, hi_ = 0;
  int64_t cached_ = 0;
};


// One group's answer: its cohorts in order and the total over them.
struct GroupAnswer {
  std::string label;
  std::map<int64_t, Row> cohorts;
  uint64_t size = 0;
};

json CohortKernel::result(Micros data_end) const {
  const CohortSpec& s = c_.spec;
  const Period per = s.period;
  const size_t periods = s.periods;
  // Periods that began before the data ended have been observed.
  const int64_t last_ord = data_end == INT64_MIN ? INT64_MIN : ordinal_at(s, data_end);
  auto observed = [&](int64_t cohort, size_t k) { return cohort + static_cast<int64_t>(k) <= last_ord; };

  // Groups by label text (a value stored as 7 and as "7" is one group).
  std::map<std::string, GroupAnswer> by_label;
  const bool grouped = c_.group.active || c_.has_behaviour;
  for (const auto& [key, row] : rows_) {
    std::string label;
    if (c_.has_behaviour) label = key.group.second ? "did" : "did not";
    else if (grouped) label = group_label(*c_.catalog, key.group);
    GroupAnswer& g = by_label[label];
    g.label = label;
    auto [it, added] = g.cohorts.try_emplace(key.cohort);
    if (added) it->second.init(c_.measures.size(), periods);
    it->second.add(row);
    g.size += row.size;
  }
  // The cohorts listed: every period of a bounded range, else from the first
  // to the last with persons.
  int64_t first = INT64_MAX, last = INT64_MIN;
  if (s.from != INT64_MIN && s.to != INT64_MAX && s.from < s.to) {
    first = ordinal_at(s, s.from);
    last = ordinal_at(s, s.to - 1);
  } else {
    for (const auto& [label, g] : by_label)
      if (!g.cohorts.empty()) first = std::min(first, g.cohorts.begin()->first), last = std::max(last, g.cohorts.rbegin()->first);
  }

  struct Totals {
    uint64_t size = 0;
    std::vector<uint64_t> observed_size;  // per period: persons of cohorts that reached it
    Row sum;
  };
  auto answer_group = [&](const std::map<int64_t, Row>& cohorts, Totals& t) {
    json list = json::array();
    t.observed_size.assign(periods, 0);
    t.sum.init(c_.measures.size(), periods);
    if (first > last) return list;
    for (int64_t c = first; c <= last; ++c) {
      Row empty;
      empty.init(c_.measures.size(), periods);
      const auto it = cohorts.find(c);
      const Row& row = it == cohorts.end() ? empty : it->second;
      t.size += row.size;
      json cj{{"start", day_label(period_of_ordinal(c, per))}, {"size", row.size}};
      for (size_t k = 0; k < periods; ++k)
        if (observed(c, k)) {
          t.observed_size[k] += row.size;
          t.sum.retained[k] += row.retained[k];
          for (size_t m = 0; m < c_.measures.size(); ++m) {
            t.sum.persons[m][k] += row.persons[m][k];
            t.sum.events[m][k] += row.events[m][k];
            t.sum.sums[m][k] += row.sums[m][k];
          }
        }
      if (s.kind == CohortKind::kRetention) {
        json shares = json::array();
        for (size_t k = 0; k < periods; ++k)
          shares.push_back(observed(c, k) ? ratio(static_cast<double>(row.retained[k]), row.size) : json(nullptr));
        cj["retained"] = row.retained;
        cj["shares"] = std::move(shares);
      } else {
        json ms = json::object();
        for (size_t m = 0; m < c_.measures.size(); ++m)
          ms[s.measures[m].name] = [&] {
            json values = json::array(), raw = json::array();
            // Running totals of persons (conversion), events and sums.
            uint64_t persons = 0, events = 0;
            double sum = 0;
            for (size_t k = 0; k < periods; ++k) {
              const CohortMeasure& sm = s.measures[m];
              const bool run = sm.cumulative || sm.kind == CohortMeasure::kConversion;
              persons = run ? persons + row.persons[m][k] : row.persons[m][k];
              events = run ? events + row.events[m][k] : row.events[m][k];
              sum = run ? sum + row.sums[m][k] : row.sums[m][k];
              json v = nullptr, r = nullptr;
              switch (sm.kind) {
                case CohortMeasure::kActive:
                case CohortMeasure::kConversion:
                  r = persons, v = ratio(static_cast<double>(persons), row.size);
                  break;
                case CohortMeasure::kCount:
                  r = events, v = ratio(static_cast<double>(events), row.size);
                  break;
                case CohortMeasure::kSum:
                  r = sum, v = ratio(sum, row.size);
                  break;
                case CohortMeasure::kAvg:
                  r = sum, v = ratio(sum, events);
                  break;
              }
              if (!observed(c, k)) v = nullptr;
              values.push_back(v);
              raw.push_back(r);
            }
            return json{{"values", values}, {"totals", raw}};
          }();
        cj["measures"] = std::move(ms);
      }
      list.push_back(std::move(cj));
    }
    return list;
  };
  // The total of a group: each period over the cohorts that reached it.
  auto total_json = [&](const Totals& t) {
    json j{{"size", t.size}, {"persons", t.observed_size}};
    if (s.kind == CohortKind::kRetention) {
      json shares = json::array();
      for (size_t k = 0; k < periods; ++k) shares.push_back(ratio(static_cast<double>(t.sum.retained[k]), t.observed_size[k]));
      j["retained"] = t.sum.retained;
      j["shares"] = std::move(shares);
    }
    return j;
  };

  json out{{"period", period_name(per)}, {"periods", periods}};
  if (s.kind == CohortKind::kRetention) out["mode"] = s.unbounded ? "unbounded" : "bracketed";
  std::map<int64_t, Row> all;
  for (const auto& [label, g] : by_label)
    for (const auto& [c, row] : g.cohorts) {
      auto [it, added] = all.try_emplace(c);
      if (added) it->second.init(c_.measures.size(), periods);
      it->second.add(row);
    }
  Totals total;
  out["cohorts"] = answer_group(all, total);
  out["total"] = total_json(total);
  if (!grouped) return out;

  // Groups: the largest `limit` by persons, the rest folded into "other".
  std::vector<const GroupAnswer*> order;
  for (const auto& [label, g] : by_label) order.push_back(&g);
  std::sort(order.begin(), order.end(), [](const GroupAnswer* a, const GroupAnswer* b) {
    return a->size != b->size ? a->size > b->size : a->label < b->label;
  });
  const size_t limit = c_.has_behaviour ? 2 : s.breakdown->limit;
  std::vector<std::pair<std::string, std::map<int64_t, Row>>> groups;
  for (size_t i = 0; i < order.size(); ++i) {
    if (i < limit) {
      groups.emplace_back(order[i]->label, order[i]->cohorts);
      continue;
    }
    if (i == limit) groups.emplace_back("other", std::map<int64_t, Row>{});
    for (const auto& [c, row] : order[i]->cohorts) {
      auto [it, added] = groups.back().second.try_emplace(c);
      if (added) it->second.init(c_.measures.size(), periods);
      it->second.add(row);
    }
  }
  if (c_.has_behaviour) {
    // Always both groups, "did" first.
    for (const char* label : {"did", "did not"})
      if (std::none_of(groups.begin(), groups.end(), [&](const auto& g) { return g.first == label; }))
        groups.emplace_back(label, std::map<int64_t, Row>{});
    std::sort(groups.begin(), groups.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  }
  json list = json::array();
  for (const auto& [label, cohorts] : groups) {
    Totals t;
    json g{{"value", label}, {"cohorts", answer_group(cohorts, t)}, {"total", total_json(t)}};
    if (s.kind == CohortKind::kRetention) {
      // Each period's retention of the group against everyone else's.
      json vs = json::array();
      for (size_t k = 0; k < periods; ++k)
        vs.push_back(z_test(t.sum.retained[k], t.observed_size[k], total.sum.retained[k] - t.sum.retained[k],
                            total.observed_size[k] - t.observed_size[k]));
      g["vs_rest"] = std::move(vs);
    }
    list.push_back(std::move(g));
  }
  out["breakdown"] = std::move(list);
  return out;
}

}  // namespace

std::unique_ptr<Kernel> make_cohort_kernel(const CompiledCohorts& c) { return std::make_unique<CohortKernel>(c); }

json cohort_result(const Kernel& merged, Micros data_end) { return static_cast<const CohortKernel&>(merged).result(data_end); }

Result<json> run_cohorts(const Store& store, const CohortSpec& spec, unsigned threads) {
  auto compiled = compile_cohorts(spec, store.catalog());
  if (!compiled) return compiled.status();
  CompiledCohorts& c = **compiled;
  CAIRN_RETURN_IF_ERROR(load_traits_if_read(store.catalog(), c.traits, &c.group));
  // The first and last event of the database, from the segments' time ranges.
  Micros data_begin = INT64_MAX, data_end = INT64_MIN;
  for (const auto& part : store.manifest().segments)
    for (const SegmentMeta& seg : part)
      if (seg.rows) data_begin = std::min(data_begin, seg.min_time), data_end = std::max(data_end, seg.max_time);
  // The answer lists a cohort per period of the range (or, without one, of
  // the data's span), each with `periods` values: bounded, so that a range
  // of centuries of days cannot ask for gigabytes.
  const Micros lo = spec.from != INT64_MIN ? spec.from : data_begin;
  const Micros hi = spec.to != INT64_MAX ? spec.to - 1 : data_end;
  if (lo <= hi && data_begin <= data_end) {
    const int64_t cohorts = ordinal_at(spec, hi) - ordinal_at(spec, lo) + 1;
    if (cohorts > 0 && static_cast<double>(cohorts) * static_cast<double>(spec.periods) > static_cast<double>(kMaxCells))
      return field_error("range", fmt::format("{} {} cohorts of {} periods each are more than {} values; narrow the range "
                                              "or use a longer period",
                                              cohorts, period_name(spec.period), spec.periods, kMaxCells));
  }
  return scan_result<CohortKernel>(store, c, threads, data_end);
}

}  // namespace cairn::query
