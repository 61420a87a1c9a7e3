#include "query/trend.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <cmath>
#include <limits>
#include <map>
#include <tuple>
#include <unordered_map>

#include <fmt/format.h>

namespace cairn::query {

using nlohmann::json;

// ---------------------------------------------------------------- parsing

namespace {

constexpr int64_t kMaxDays = 40000;  // about 110 years of days in one answer

struct MeasureName {
  const char* name;
  Measure measure;
};
constexpr MeasureName kMeasures[] = {
    {"count", Measure::kCount},       {"persons", Measure::kPersons},
    {"sum", Measure::kSum},           {"avg", Measure::kAvg},
    {"min", Measure::kMin},           {"max", Measure::kMax},
    {"median", Measure::kMedian},     {"p90", Measure::kPercentile},
    {"percentile", Measure::kPercentile},
    {"sessions", Measure::kSessions}, {"session_duration", Measure::kSessionDuration},
    {"sessions_per_person", Measure::kSessionsPerPerson},
    {"dau", Measure::kDau},           {"wau", Measure::kWau},
    {"mau", Measure::kMau},           {"stickiness", Measure::kStickiness}};

bool of_property(Measure m) { return m >= Measure::kSum && m <= Measure::kPercentile; }
bool of_sessions(Measure m) { return m >= Measure::kSessions && m <= Measure::kSessionsPerPerson; }
bool of_active(Measure m) { return m >= Measure::kDau; }


// Recursive descent over: expr = term {(+|-) term}; term = factor {(*|/) factor};
// factor = number | name | ( expr ) | - factor.
class FormulaParser {
 public:
  FormulaParser(const std::string& text, const std::vector<TrendSeries>& series, const std::string& path)
      : text_(text), series_(series), path_(path) {}

  Status parse(std::vector<FormulaNode>& out) {
    auto root = expr();
    if (!root) return root.status();
    skip();
    if (pos_ != text_.size()) return error(fmt::format("unexpected \"{}\" at character {}", text_.substr(pos_, 1), pos_ + 1));
    out = std::move(nodes_);
    return Status::ok();
  }

 private:
  Status error(const std::string& msg) const { return field_error(path_, msg); }
  void skip() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  int node(FormulaNode n) {
    nodes_.push_back(n);
    return static_cast<int>(nodes_.size()) - 1;
  }
  Result<int> expr() { return chain('+', '-', FormulaNode::kAdd, FormulaNode::kSub, &FormulaParser::term); }
  Result<int> term() { return chain('*', '/', FormulaNode::kMul, FormulaNode::kDiv, &FormulaParser::factor); }
  // operand {(op1|op2) operand}, left-associative.
  Result<int> chain(char op1, char op2, FormulaNode::Kind k1, FormulaNode::Kind k2, Result<int> (FormulaParser::*operand)()) {
    auto left = (this->*operand)();
    if (!left) return left;
    int a = *left;
    for (skip(); pos_ < text_.size() && (text_[pos_] == op1 || text_[pos_] == op2); skip()) {
      const FormulaNode::Kind kind = text_[pos_++] == op1 ? k1 : k2;
      auto right = (this->*operand)();
      if (!right) return right;
      a = node(FormulaNode{kind, 0, 0, a, *right});
    }
    return a;
  }
  Result<int> factor() {
    if (++depth_ > 100) return error("nested too deeply");
    skip();
    if (pos_ == text_.size()) return error("ends where a number, a series name or \"(\" was expected");
    const char ch = text_[pos_];
    Result<int> out = 0;
    if (ch == '(') {
      ++pos_;
      out = expr();
      if (!out) return out;
      skip();
      if (pos_ == text_.size() || text_[pos_] != ')') return error("missing \")\"");
      ++pos_;
    } else if (ch == '-') {
      ++pos_;
      auto a = factor();
      if (!a) return a;
      out = node(FormulaNode{FormulaNode::kNeg, 0, 0, *a, -1});
    } else if (std::isdigit(static_cast<unsigned char>(ch)) || ch == '.') {
      size_t end = pos_;
      while (end < text_.size() && (std::isdigit(static_cast<unsigned char>(text_[end])) || text_[end] == '.')) ++end;
      const std::string digits = text_.substr(pos_, end - pos_);
      char* stop = nullptr;
      const double v = std::strtod(digits.c_str(), &stop);
      if (stop != digits.c_str() + digits.size()) return error(fmt::format("cannot read \"{}\" as a number", digits));
      pos_ = end;
      out = node(FormulaNode{FormulaNode::kNumber, v, 0, -1, -1});
    } else if (std::isalpha(static_cast<unsigned char>(ch)) || ch == '_') {
      size_t end = pos_;
      while (end < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[end])) || text_[end] == '_')) ++end;
      const std::string name = text_.substr(pos_, end - pos_);
      const auto it = std::find_if(series_.begin(), series_.end(), [&](const TrendSeries& s) { return s.name == name; });
      if (it == series_.end()) return error(fmt::format("unknown series \"{}\"", name));
      pos_ = end;
      out = node(FormulaNode{FormulaNode::kSeries, 0, static_cast<size_t>(it - series_.begin()), -1, -1});
    } else {
      return error(fmt::format("unexpected \"{}\" at character {}", std::string(1, ch), pos_ + 1));
    }
    --depth_;
    return out;
  }

  const std::string& text_;
  const std::vector<TrendSeries>& series_;
  const std::string& path_;
  std::vector<FormulaNode> nodes_;
  size_t pos_ = 0;
  int depth_ = 0;
};

Result<TrendSeries> parse_series(const json& j, const std::string& path) {
  if (!j.is_object()) return field_error(path, "expected an object like {\"name\": \"buyers\", \"event\": \"purchase\", \"measure\": \"persons\"}");
  CAIRN_RETURN_IF_ERROR(reject_unknown(j, path, {"name", "event", "where", "any_of", "measure", "property", "percentile"}));
  TrendSeries s;
  std::string measure = "count";
  if (j.contains("measure")) {
    const json& m = j["measure"];
    const auto it = std::find_if(std::begin(kMeasures), std::end(kMeasures), [&](const MeasureName& n) { return m == n.name; });
    if (it == std::end(kMeasures)) {
      std::string list;
      for (const MeasureName& n : kMeasures) list += (list.empty() ? "" : ", ") + std::string(n.name);
      return field_error(path + ".measure", fmt::format("expected one of {}", list));
    }
    s.measure = it->measure;
    measure = it->name;
  }
  if (j.contains("any_of") && (j.contains("event") || j.contains("where")))
    return field_error(path + ".any_of", "give either event (with where) or any_of, not both");
  if (j.contains("event") || j.contains("any_of")) {
    CAIRN_RETURN_IF_ERROR(parse_event_defs(j, path, s.events));
    for (size_t k = 0; j.contains("any_of") && k < j["any_of"].size(); ++k)
      CAIRN_RETURN_IF_ERROR(reject_unknown(j["any_of"][k], fmt::format("{}.any_of[{}]", path, k), {"event", "where"}));
  } else if (j.contains("where")) {
    return field_error(path + ".where", "needs an event (a series without one counts every event)");
  }
  if (of_property(s.measure)) {
    if (!j.contains("property") || !j["property"].is_string() || j["property"].get<std::string>().empty())
      return field_error(path + ".property", fmt::format("is missing: measure \"{}\" needs a numeric event property", measure));
    s.property = j["property"].get<std::string>();
  } else if (j.contains("property")) {
    return field_error(path + ".property", "only the measures sum, avg, min, max, median, p90 and percentile read a property");
  }
  if (s.measure == Measure::kMedian) s.percentile = 50;
  if (measure == "p90") s.percentile = 90;
  if (measure == "percentile") {
    const json* q = j.contains("percentile") ? &j["percentile"] : nullptr;
    if (!q || !q->is_number() || !(q->get<double>() > 0 && q->get<double>() <= 100))
      return field_error(path + ".percentile", "expected a number above 0 and at most 100 (e.g. 95)");
    s.percentile = q->get<double>();
  } else if (j.contains("percentile")) {
    return field_error(path + ".percentile", "only for measure \"percentile\"");
  }
  if (j.contains("name")) {
    if (!j["name"].is_string() || j["name"].get<std::string>().empty()) return field_error(path + ".name", "expected a non-empty string");
    s.name = j["name"].get<std::string>();
  } else {
    s.name = s.events.size() == 1 && !j.contains("any_of") ? s.events[0].event : measure;
  }
  return s;
}

}  // namespace

Result<TrendSpec> parse_trend(const json& doc) {
  if (!doc.is_object()) return field_error("query", "expected a JSON object");
  CAIRN_RETURN_IF_ERROR(reject_unknown(doc, "", {"type", "range", "timezone", "period", "series", "formulas", "session_gap",
                                                 "filters", "breakdown"}));
  if (doc.value("type", json()) != "trend") return field_error("type", "expected \"trend\"");
  TrendSpec spec;
  if (!doc.contains("range") || !doc["range"].is_object() || !doc["range"].contains("from") || !doc["range"].contains("to"))
    return field_error("range", "is missing: a trend needs {\"from\": ..., \"to\": ...} to list its periods");
  CAIRN_RETURN_IF_ERROR(reject_unknown(doc["range"], "range", {"from", "to"}));
  CAIRN_RETURN_IF_ERROR(parse_range(doc, spec.from, spec.to));
  if ((spec.to - spec.from) / kMicrosPerDay > kMaxDays) return field_error("range", fmt::format("spans more than {} days", kMaxDays));
  CAIRN_RETURN_IF_ERROR(parse_timezone(doc, spec.timezone));
  if (doc.contains("period")) {
    auto p = parse_period(doc["period"], "period");
    if (!p) return p.status();
    spec.period = *p;
  }
  if (!doc.contains("series") || !doc["series"].is_array() || doc["series"].empty())
    return field_error("series", "expected a non-empty array of series like {\"name\": \"signups\", \"event\": \"signup\"}");
  for (size_t i = 0; i < doc["series"].size(); ++i) {
    const std::string path = fmt::format("series[{}]", i);
    auto s = parse_series(doc["series"][i], path);
    if (!s) return s.status();
    for (const TrendSeries& o : spec.series)
      if (o.name == s->name) return field_error(path + ".name", fmt::format("two series are named \"{}\" (give each its own name)", s->name));
    spec.series.push_back(std::move(*s));
  }
  if (doc.contains("formulas")) {
    const json& fs = doc["formulas"];
    if (!fs.is_array()) return field_error("formulas", "expected an array like [{\"name\": \"ctr\", \"formula\": \"clicks / impressions\"}]");
    for (size_t i = 0; i < fs.size(); ++i) {
      const std::string path = fmt::format("formulas[{}]", i);
      if (!fs[i].is_object()) return field_error(path, "expected {\"name\": NAME, \"formula\": TEXT}");
      CAIRN_RETURN_IF_ERROR(reject_unknown(fs[i], path, {"name", "formula"}));
      if (!fs[i].contains("name") || !fs[i]["name"].is_string() || fs[i]["name"].get<std::string>().empty())
        return field_error(path + ".name", "expected a non-empty string");
      if (!fs[i].contains("formula") || !fs[i]["formula"].is_string())
        return field_error(path + ".formula", "expected a formula like \"clicks / impressions\"");
      TrendFormula f{fs[i]["name"].get<std::string>(), fs[i]["formula"].get<std::string>(), {}};
      const bool taken = std::any_of(spec.series.begin(), spec.series.end(), [&](const TrendSeries& s) { return s.name == f.name; }) ||
                         std::any_of(spec.formulas.begin(), spec.formulas.end(), [&](const TrendFormula& o) { return o.name == f.name; });
      if (taken) return field_error(path + ".name", fmt::format("\"{}\" already names a series or formula", f.name));
      CAIRN_RETURN_IF_ERROR(FormulaParser(f.text, spec.series, path + ".formula").parse(f.nodes));
      spec.formulas.push_back(std::move(f));
    }
  }
  if (doc.contains("session_gap")) {
    auto g = parse_duration_field(doc["session_gap"], "session_gap");
    if (!g) return g.status();
    spec.session_gap = *g;
  }
  CAIRN_RETURN_IF_ERROR(parse_filters(doc, spec.event_filters, spec.trait_filters));
  if (doc.contains("breakdown")) {
    if (doc["breakdown"].is_object()) CAIRN_RETURN_IF_ERROR(reject_unknown(doc["breakdown"], "breakdown", {"property", "trait", "limit"}));
    auto bd = parse_breakdown(doc["breakdown"]);
    if (!bd) return bd.status();
    spec.breakdown = *bd;
  }
  return spec;
}

// ---------------------------------------------------------------- compiling

namespace {

// The zone's offsets over [lo, hi] as segments of one offset each, found
// by asking every hour and, where two answers differ, bisecting for the
// change (zones change their offset months apart, never twice in an hour).
std::vector<ZoneSegment> zone_segments(const TimeZone& tz, Micros lo, Micros hi) {
  constexpr Micros kStep = 3600 * kMicrosPerSecond;
  std::vector<ZoneSegment> out{{lo, hi + 1, tz.offset_at(lo)}};
  for (Micros at = lo; at < hi;) {
    const Micros next = hi - at > kStep ? at + kStep : hi;
    if (tz.offset_at(next) != out.back().offset) {
      Micros a = at, b = next;  // offset_at(a) is the segment's, offset_at(b) is not
      while (b - a > 1) {
        const Micros mid = a + (b - a) / 2;
        (tz.offset_at(mid) == out.back().offset ? a : b) = mid;
      }
      out.back().to = b;
      out.push_back(ZoneSegment{b, hi + 1, tz.offset_at(b)});
    }
    at = next;
  }
  return out;
}

bool same_defs(const std::vector<EventDef>& a, const std::vector<EventDef>& b) {
  auto text = [](const std::vector<EventDef>& defs) {
    json j = json::array();
    for (const EventDef& d : defs) {
      json w = json::array();
      for (const Filter& f : d.where) w.push_back(filter_json(f));
      j.push_back(json{d.event, w});
    }
    return j.dump();
  };
  return text(a) == text(b);
}

}  // namespace

Result<CompiledTrend> compile_trend(const TrendSpec& spec, const Catalog& cat) {
  CompiledTrend c;
  c.spec = spec;
  c.catalog = &cat;
  const KeySlot slot = plan_key_slot(c.plan);
  for (size_t i = 0; i < spec.event_filters.size(); ++i)
    CAIRN_RETURN_IF_ERROR(compile_filter(spec.event_filters[i], cat, slot, fmt::format("filters[{}]", i), c.event_filters, c.events_never));
  CAIRN_RETURN_IF_ERROR(c.traits.compile(spec.trait_filters, cat));
  bool active = false;
  for (size_t s = 0; s < spec.series.size(); ++s) {
    const TrendSeries& ts = spec.series[s];
    CompiledSeries cs;
    CAIRN_RETURN_IF_ERROR(compile_defs(ts.events, fmt::format("series[{}]", s), cat, slot, cs.defs));
    // Every definition names an event the database does not have: nothing matches.
    cs.never = !cs.defs.empty() && std::none_of(cs.defs.begin(), cs.defs.end(), [](const CompiledDef& d) { return d.known; });
    if (!ts.property.empty()) {
      const uint32_t key = cat.keys.find(ts.property);
      if (key != StringPool::kMissing) cs.property = static_cast<int>(slot(key));
    }
    if (of_active(ts.measure))
      for (size_t o = 0; o < s && cs.days_of == SIZE_MAX; ++o)
        if (of_active(spec.series[o].measure) && c.series[o].days_of == SIZE_MAX && same_defs(spec.series[o].events, ts.events))
          cs.days_of = o;
    active = active || of_active(ts.measure);
    c.series.push_back(std::move(cs));
  }
  if (spec.breakdown) c.group.compile(*spec.breakdown, cat, slot);
  const TimeZone& tz = *spec.timezone;
  c.first_day = local_day(spec.from, tz);
  c.last_day = std::max(c.first_day, local_day(spec.to - 1, tz));
  c.first_ordinal = period_ordinal(period_start_day(c.first_day, spec.period), spec.period);
  for (int64_t d = c.first_day; d <= c.last_day; ++d) {
    const int64_t start = period_start_day(d, spec.period);
    const size_t index = static_cast<size_t>(period_ordinal(start, spec.period) - c.first_ordinal);
    if (index == c.period_days.size()) c.period_days.push_back(start);
    c.day_period.push_back(static_cast<uint32_t>(index));
  }
  // Active-user windows reach back 29 local days before the range's first
  // day; a day is at most 24 h plus a DST hour, offsets at most 26 h apart.
  c.plan.min_time = active ? spec.from - (kLookbackDays + 2) * kMicrosPerDay : spec.from;
  c.plan.max_time = spec.to - 1;
  c.offsets = zone_segments(tz, c.plan.min_time, c.plan.max_time);
  return c;
}

// ---------------------------------------------------------------- the kernel

namespace {

// What one series adds up to in one group. Arrays are indexed by period
// (n, sum, lo, hi, values, persons) or by day of the range (active).
struct Acc {
  std::vector<uint64_t> n;        // events, values read, or sessions
  std::vector<double> sum;        // values, or session durations (microseconds)
  std::vector<double> lo, hi;     // min / max
  std::vector<std::vector<double>> values;  // median and percentiles
  std::vector<uint64_t> persons;  // distinct persons (persons; sessions_per_person: with a session)
  uint64_t persons_total = 0;     // distinct over the range
  // Per day (one more slot): differences of the persons active in the 1-,
  // 7- and 30-day windows ending that day; prefix sums give the counts.
  std::array<std::vector<int64_t>, 3> active;

  // `distinct`: with the arrays of distinct persons (left out in kernels
  // under a property breakdown, which keep Triples instead).
  void init(const CompiledTrend& c, Measure m, bool distinct) {
    const size_t np = c.periods();
    n.assign(np, 0);
    sum.assign(np, 0);
    if (m == Measure::kMin || m == Measure::kMax) {
      lo.assign(np, std::numeric_limits<double>::infinity());
      hi.assign(np, -std::numeric_limits<double>::infinity());
    }
    if (m == Measure::kMedian || m == Measure::kPercentile) values.resize(np);
    if (!distinct) return;
    if (m == Measure::kPersons || m == Measure::kSessionsPerPerson) persons.assign(np, 0);
    if (of_active(m))
      for (auto& a : active) a.assign(c.days() + 1, 0);
  }
  // REQUIRES: this has every array `o` has (o may lack the distinct ones).
  void merge(const Acc& o) {
    for (size_t p = 0; p < n.size(); ++p) {
      n[p] += o.n[p];
      sum[p] += o.sum[p];
    }
    for (size_t p = 0; p < lo.size(); ++p) {
      lo[p] = std::min(lo[p], o.lo[p]);
      hi[p] = std::max(hi[p], o.hi[p]);
    }
    for (size_t p = 0; p < values.size(); ++p) values[p].insert(values[p].end(), o.values[p].begin(), o.values[p].end());
    for (size_t p = 0; p < o.persons.size(); ++p) persons[p] += o.persons[p];
    persons_total += o.persons_total;
    for (size_t w = 0; w < active.size(); ++w)
      for (size_t d = 0; d < o.active[w].size(); ++d) active[w][d] += o.active[w][d];
  }
};

constexpr std::array<int64_t, 3> kWindows = {1, 7, 30};

bool by_property(const CompiledTrend& c) { return c.group.active && c.group.key >= 0; }

bool uses_window(Measure m, size_t w) {
  switch (m) {
    case Measure::kDau: return w == 0;
    case Measure::kWau: return w == 1;
    case Measure::kMau: return w == 2;
    case Measure::kStickiness: return w == 0 || w == 2;
    default: return false;
  }
}

// One person's distinct units, sorted: period indices (persons,
// sessions_per_person) or day indices from first_day - 29 (active users).
// Active users: the union of the windows [u, u + W - 1] covering each
// active day u, clipped to the range's days, goes into the differences.
void add_units(const CompiledTrend& c, Measure m, const int64_t* u, size_t n, Acc& a) {
  if (n == 0) return;
  if (!of_active(m)) {
    for (size_t i = 0; i < n; ++i) ++a.persons[static_cast<size_t>(u[i])];
    ++a.persons_total;
    return;
  }
  const int64_t last = static_cast<int64_t>(c.days()) - 1;
  for (size_t w = 0; w < kWindows.size(); ++w) {
    if (!uses_window(m, w)) continue;
    std::vector<int64_t>& diff = a.active[w];
    auto flush = [&](int64_t s, int64_t e) {
      s = std::max<int64_t>(s - kLookbackDays, 0);
      e = std::min(e - kLookbackDays, last);
      if (s > e) return;
      ++diff[static_cast<size_t>(s)];
      --diff[static_cast<size_t>(e + 1)];
    };
    int64_t s = u[0], e = u[0] + kWindows[w] - 1;
    for (size_t i = 1; i < n; ++i) {
      if (u[i] <= e + 1) {
        e = u[i] + kWindows[w] - 1;
      } else {
        flush(s, e);
        s = u[i];
        e = u[i] + kWindows[w] - 1;
      }
    }
    flush(s, e);
  }
}

// A distinct unit of one person in a group, kept under a breakdown by an
// event property, where groups share persons and "other" (or two values
// with one label) must count a person once.
struct Triple {
  GroupKey group;
  uint32_t person;
  int64_t unit;
};

void sort_unique(std::vector<int64_t>& v) {
  if (!std::is_sorted(v.begin(), v.end())) std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

}  // namespace

struct TrendKernel::State {
  struct Series {
    std::unordered_map<GroupKey, Acc, GroupKeyHash> groups;
    std::vector<Triple> triples;
    GroupKey last_key{-2, 0};
    Acc* last = nullptr;
  };
  std::vector<Series> series;
  // Scratch, reused across persons: per event its day index from
  // first_day - 29 (-1: outside), and whether it passed the filters and lies in the range.
  std::vector<int32_t> day;
  std::vector<uint8_t> flags;
  // Per series: the person's distinct units (without / with a group).
  std::vector<std::vector<int64_t>> units;
  std::vector<std::vector<std::pair<GroupKey, int64_t>>> group_units;
  size_t segment = 0;  // in CompiledTrend::offsets: the last instant's

  Acc& acc(const CompiledTrend& c, size_t s, const GroupKey& g) {
    Series& st = series[s];
    if (st.last && st.last_key == g) return *st.last;
    auto [it, added] = st.groups.try_emplace(g);
    if (added) it->second.init(c, c.spec.series[s].measure, !by_property(c));
    st.last_key = g;
    st.last = &it->second;
    return it->second;
  }
};

TrendKernel::TrendKernel(const CompiledTrend& c) : c_(c), s_(std::make_unique<State>()) {
  if (c.event_filters.empty() && !by_property(c))
    for (size_t s = 0; s < c.series.size() && fast_days_ == SIZE_MAX; ++s)
      if (of_active(c.spec.series[s].measure) && c.series[s].days_of == SIZE_MAX && c.series[s].defs.empty() &&
          !c.series[s].never)
        fast_days_ = s;
  // Only series other than those active days need each event's day and flags.
  per_event_ = false;
  for (size_t s = 0; s < c.series.size(); ++s)
    if (fast_days_ == SIZE_MAX || (s != fast_days_ && c.series[s].days_of != fast_days_)) per_event_ = true;
  s_->series.resize(c.series.size());
  s_->units.resize(c.series.size());
  s_->group_units.resize(c.series.size());
}
TrendKernel::~TrendKernel() = default;

void TrendKernel::add(const PersonView& p) {
  if (c_.traits.active() && !c_.traits.pass(*c_.catalog, p.person)) return;
  if (c_.events_never) return;
  State& st = *s_;
  const TrendSpec& spec = c_.spec;
  const TimeZone& tz = *spec.timezone;
  if (per_event_) {
    st.day.resize(p.n);
    st.flags.resize(p.n);
  }
  const int64_t base = c_.first_day - kLookbackDays;
  // An active-user series of any event without filters or a property
  // breakdown takes its active days straight from this loop: they change
  // only where the local day does.
  std::vector<int64_t>* days = fast_days_ == SIZE_MAX ? nullptr : &st.units[fast_days_];
  if (days) days->clear();
  // Events come in time order: the UTC bounds [day_lo, day_hi) of the last
  // local day found answer most of them without a division.
  Micros day_lo = 0, day_hi = 0;
  int64_t local = 0;
  for (size_t i = 0; i < p.n; ++i) {
    const Micros t = p.time[i];
    if (t < day_lo || t >= day_hi) {
      if (t < c_.offsets[st.segment].from || t >= c_.offsets[st.segment].to) {
        const auto it = std::upper_bound(c_.offsets.begin(), c_.offsets.end(), t,
                                         [](Micros x, const ZoneSegment& z) { return x < z.from; });
        st.segment = it == c_.offsets.begin() ? 0 : static_cast<size_t>(it - c_.offsets.begin()) - 1;
      }
      const ZoneSegment& z = c_.offsets[st.segment];
      day_lo = day_hi = 0;
      if (t >= z.from && t < z.to) {
        local = day_of(t + z.offset);
        constexpr int64_t kSafeDays = 100'000'000;  // local * kMicrosPerDay cannot overflow
        if (local > -kSafeDays && local < kSafeDays) {
          day_lo = std::max(z.from, local * kMicrosPerDay - z.offset);
          day_hi = std::min(z.to, (local + 1) * kMicrosPerDay - z.offset);
        }
      } else {
        local = local_day(t, tz);  // outside the plan's range (never, as the scan cuts there) the zone is asked
      }
      if (days && local - base >= 0 && local <= c_.last_day && (days->empty() || days->back() != local - base))
        days->push_back(local - base);
    }
    if (!per_event_) continue;
    const int64_t d = local - base;
    st.day[i] = d >= 0 && local <= c_.last_day ? static_cast<int32_t>(d) : -1;
    bool pass = true;
    for (const CompiledFilter& f : c_.event_filters) pass = pass && f.pass(p.cell(f.key, i));
    st.flags[i] = static_cast<uint8_t>((pass ? 1 : 0) | (pass && t >= spec.from && t < spec.to ? 2 : 0));
  }
  const bool by_property = query::by_property(c_);
  const GroupKey person_group = c_.group.active && !by_property ? c_.group.of(*c_.catalog, p, 0) : group_key(Cell{});
  auto group_of = [&](size_t i) { return by_property ? group_key(p.cell(static_cast<size_t>(c_.group.key), i)) : person_group; };
  auto period_of = [&](size_t i) { return static_cast<size_t>(c_.day_period[static_cast<size_t>(st.day[i] - kLookbackDays)]); };

  for (size_t s = 0; s < c_.series.size(); ++s) {
    const CompiledSeries& cs = c_.series[s];
    if (cs.never) continue;
    const Measure m = spec.series[s].measure;
    auto qualifies = [&](size_t i, uint8_t need) {
      if ((st.flags[i] & need) != need) return false;
      return cs.defs.empty() || any_def_matches(cs.defs, p, i);
    };
    // Active-user series of one definition share the person's active days.
    const bool shared = cs.days_of != SIZE_MAX;
    std::vector<int64_t>& units = st.units[shared ? cs.days_of : s];
    std::vector<std::pair<GroupKey, int64_t>>& group_units = st.group_units[shared ? cs.days_of : s];
    if (!shared && s != fast_days_) {
      units.clear();
      group_units.clear();
    }
    auto unit = [&](const GroupKey& g, int64_t u) {
      if (by_property) group_units.emplace_back(g, u);
      else if (units.empty() || units.back() != u) units.push_back(u);
    };
    if (m == Measure::kCount || of_property(m)) {
      for (size_t i = 0; i < p.n; ++i) {
        if (!qualifies(i, 3)) continue;
        Acc& a = st.acc(c_, s, group_of(i));
        const size_t per = period_of(i);
        if (m == Measure::kCount) {
          ++a.n[per];
          continue;
        }
        const Cell v = cs.property >= 0 ? p.cell(static_cast<size_t>(cs.property), i) : Cell{};
        if (!v.present || v.type != ValueType::kNumber) continue;
        const double x = std::bit_cast<double>(v.bits);
        ++a.n[per];
        a.sum[per] += x;
        if (!a.lo.empty()) {
          a.lo[per] = std::min(a.lo[per], x);
          a.hi[per] = std::max(a.hi[per], x);
        }
        if (!a.values.empty()) a.values[per].push_back(x);
      }
      continue;
    }
    if (m == Measure::kPersons) {
      for (size_t i = 0; i < p.n; ++i)
        if (qualifies(i, 3)) unit(group_of(i), static_cast<int64_t>(period_of(i)));
    } else if (of_sessions(m)) {
      // Sessions of the series' qualifying events in the range, each in the
      // period (and group) of its first event.
      size_t first = SIZE_MAX, prev = 0;
      auto close = [&] {
        const GroupKey g = group_of(first);
        Acc& a = st.acc(c_, s, g);
        const size_t per = period_of(first);
        ++a.n[per];
        a.sum[per] += static_cast<double>(p.time[prev] - p.time[first]);
        if (m == Measure::kSessionsPerPerson) unit(g, static_cast<int64_t>(per));
      };
      GroupKey shown{-2, 0};  // the last group made to show (none yet)
      for (size_t i = 0; i < p.n; ++i) {
        if (!qualifies(i, 3)) continue;
        if (by_property) {
          // Every qualifying event's group shows, also one that starts no
          // session (a session counts in its first event's group only).
          const GroupKey g = group_of(i);
          if (g != shown) {
            st.acc(c_, s, g);
            shown = g;
          }
        }
        if (first != SIZE_MAX && p.time[i] - p.time[prev] > spec.session_gap) {
          close();
          first = SIZE_MAX;
        }
        if (first == SIZE_MAX) first = i;
        prev = i;
      }
      if (first != SIZE_MAX) close();
      if (m != Measure::kSessionsPerPerson) continue;
    } else if (!shared && s != fast_days_) {
      for (size_t i = 0; i < p.n; ++i)
        if (st.day[i] >= 0 && qualifies(i, 1)) unit(group_of(i), st.day[i]);
    }
    if (!by_property) {
      if (!shared) sort_unique(units);
      if (!units.empty()) add_units(c_, m, units.data(), units.size(), st.acc(c_, s, person_group));
      continue;
    }
    if (!shared) {
      std::sort(group_units.begin(), group_units.end());
      group_units.erase(std::unique(group_units.begin(), group_units.end()), group_units.end());
    }
    for (const auto& [g, u] : group_units) {
      st.acc(c_, s, g);  // the group shows even when only its persons count
      st.series[s].triples.push_back(Triple{g, p.person, u});
    }
  }
}

void TrendKernel::merge(Kernel& other) {
  auto& o = static_cast<TrendKernel&>(other);
  for (size_t s = 0; s < s_->series.size(); ++s) {
    State::Series& mine = s_->series[s];
    State::Series& theirs = o.s_->series[s];
    for (const auto& [g, acc] : theirs.groups) {
      auto [it, added] = mine.groups.try_emplace(g);
      if (added) it->second.init(c_, c_.spec.series[s].measure, !by_property(c_));
      it->second.merge(acc);
    }
    mine.triples.insert(mine.triples.end(), theirs.triples.begin(), theirs.triples.end());
    mine.last = nullptr;
  }
}

// ---------------------------------------------------------------- the answer

namespace {

// Median: the mean of the middle two for an even count; other quantiles:
// nearest rank, as common.h's stats().
json quantile(std::vector<double> v, Measure m, double percent) {
  if (v.empty()) return nullptr;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  if (m == Measure::kMedian) return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  return v[nearest_rank(n, percent)];
}


// The value of one series in one group, for the periods in [p0, p1] (one
// period, or all of them for the total).
// Per period: the sums over its days (in the range) of the persons active
// in the 1-, 7- and 30-day windows, and the number of those days.
struct PeriodActive {
  std::array<int64_t, 3> active{};
  int64_t days = 0;
};

json value(const TrendSeries& ts, const Acc& a, size_t p0, size_t p1, bool total,
           const std::vector<PeriodActive>& by_period) {
  uint64_t n = 0, persons = 0;
  double sum = 0;
  for (size_t p = p0; p <= p1; ++p) {
    n += a.n[p];
    sum += a.sum[p];
    if (!a.persons.empty()) persons += a.persons[p];
  }
  if (total && !a.persons.empty()) persons = a.persons_total;
  switch (ts.measure) {
    case Measure::kCount:
    case Measure::kSessions:
      return n;
    case Measure::kPersons:
      return persons;
    case Measure::kSum:
      return sum;
    case Measure::kAvg:
      return ratio(sum, static_cast<double>(n));
    case Measure::kMin:
    case Measure::kMax: {
      if (n == 0) return nullptr;
      double x = ts.measure == Measure::kMin ? std::numeric_limits<double>::infinity() : -std::numeric_limits<double>::infinity();
      for (size_t p = p0; p <= p1; ++p) x = ts.measure == Measure::kMin ? std::min(x, a.lo[p]) : std::max(x, a.hi[p]);
      return x;
    }
    case Measure::kMedian:
    case Measure::kPercentile: {
      std::vector<double> v;
      for (size_t p = p0; p <= p1; ++p) v.insert(v.end(), a.values[p].begin(), a.values[p].end());
      return quantile(std::move(v), ts.measure, ts.percentile);
    }
    case Measure::kSessionDuration:
      return ratio(sum / static_cast<double>(kMicrosPerSecond), static_cast<double>(n));
    case Measure::kSessionsPerPerson:
      return ratio(static_cast<double>(n), static_cast<double>(persons));
    default: {
      // Active users: the mean over the days of the periods (in the range);
      // stickiness: the sum of DAU over the sum of MAU.
      double dau = 0, wau = 0, mau = 0, days = 0;
      for (size_t p = p0; p <= p1 && p < by_period.size(); ++p) {
        dau += static_cast<double>(by_period[p].active[0]);
        wau += static_cast<double>(by_period[p].active[1]);
        mau += static_cast<double>(by_period[p].active[2]);
        days += static_cast<double>(by_period[p].days);
      }
      if (ts.measure == Measure::kDau) return dau / days;
      if (ts.measure == Measure::kWau) return wau / days;
      if (ts.measure == Measure::kMau) return mau / days;
      return ratio(dau, mau);
    }
  }
}

// The persons active on each day of the range in the 1-, 7- and 30-day
// windows (a running sum of the day deltas), summed by period: one pass over
// the days, so a series costs days + periods, not their product (a long
// range by week would otherwise take seconds).
std::vector<PeriodActive> period_active(const CompiledTrend& c, const Acc& a) {
  std::vector<PeriodActive> out(a.active[0].empty() ? 0 : c.periods());
  if (out.empty()) return out;
  std::array<int64_t, 3> run{};
  for (size_t d = 0; d < c.days(); ++d) {
    PeriodActive& pa = out[c.day_period[d]];
    for (size_t w = 0; w < 3; ++w) pa.active[w] += run[w] += a.active[w][d];
    ++pa.days;
  }
  return out;
}

struct Column {
  json values = json::array();
  json total;
};

Column column(const CompiledTrend& c, const TrendSeries& ts, const Acc& a) {
  Column col;
  const auto by_period = period_active(c, a);
  for (size_t p = 0; p < c.periods(); ++p) col.values.push_back(value(ts, a, p, p, false, by_period));
  col.total = value(ts, a, 0, c.periods() - 1, true, by_period);
  return col;
}

std::optional<double> number_of(const json& v) {
  if (v.is_number()) return v.get<double>();
  return std::nullopt;
}

// Null when an operand is null or a divisor is 0.
std::optional<double> evaluate(const std::vector<FormulaNode>& nodes, int at, const std::vector<std::optional<double>>& series) {
  const FormulaNode& n = nodes[static_cast<size_t>(at)];
  if (n.kind == FormulaNode::kNumber) return n.number;
  if (n.kind == FormulaNode::kSeries) return series[n.series];
  const auto a = evaluate(nodes, n.a, series);
  if (!a) return std::nullopt;
  if (n.kind == FormulaNode::kNeg) return -*a;
  const auto b = evaluate(nodes, n.b, series);
  if (!b) return std::nullopt;
  switch (n.kind) {
    case FormulaNode::kAdd: return *a + *b;
    case FormulaNode::kSub: return *a - *b;
    case FormulaNode::kMul: return *a * *b;
    default: return *b == 0 ? std::nullopt : std::optional<double>(*a / *b);
  }
}

Column formula_column(const CompiledTrend& c, const TrendFormula& f, const std::vector<Column>& series) {
  Column col;
  const int root = static_cast<int>(f.nodes.size()) - 1;
  auto eval = [&](auto&& pick) {
    std::vector<std::optional<double>> in;
    for (const Column& s : series) in.push_back(number_of(pick(s)));
    const auto v = evaluate(f.nodes, root, in);
    return v && std::isfinite(*v) ? json(*v) : json(nullptr);
  };
  for (size_t p = 0; p < c.periods(); ++p) col.values.push_back(eval([&](const Column& s) -> const json& { return s.values[p]; }));
  col.total = eval([](const Column& s) -> const json& { return s.total; });
  return col;
}

// The series' groups folded into `slots` accumulators by `slot_of` (-1:
// left out); distinct persons under a property breakdown are counted from
// the kept units, so that a person in several groups of one slot counts once.
std::vector<Acc> fold(const CompiledTrend& c, size_t s, const std::unordered_map<GroupKey, Acc, GroupKeyHash>& groups,
                      const std::vector<Triple>& triples, const std::function<int(const GroupKey&)>& slot_of, size_t slots) {
  const Measure m = c.spec.series[s].measure;
  std::vector<Acc> out(slots);
  for (Acc& a : out) a.init(c, m, true);
  for (const auto& [g, a] : groups)
    if (const int k = slot_of(g); k >= 0) out[static_cast<size_t>(k)].merge(a);
  if (triples.empty()) return out;
  std::vector<std::tuple<int, uint32_t, int64_t>> mapped;
  mapped.reserve(triples.size());
  for (const Triple& t : triples)
    if (const int k = slot_of(t.group); k >= 0) mapped.emplace_back(k, t.person, t.unit);
  std::sort(mapped.begin(), mapped.end());
  mapped.erase(std::unique(mapped.begin(), mapped.end()), mapped.end());
  std::vector<int64_t> units;
  for (size_t i = 0; i < mapped.size();) {
    size_t j = i;
    units.clear();
    for (; j < mapped.size() && std::get<0>(mapped[j]) == std::get<0>(mapped[i]) && std::get<1>(mapped[j]) == std::get<1>(mapped[i]); ++j)
      units.push_back(std::get<2>(mapped[j]));
    add_units(c, m, units.data(), units.size(), out[static_cast<size_t>(std::get<0>(mapped[i]))]);
    i = j;
  }
  return out;
}

}  // namespace

json TrendKernel::result() const {
  const CompiledTrend& c = c_;
  const TrendSpec& spec = c.spec;
  const size_t ns = spec.series.size();
  json periods = json::array();
  for (int64_t d : c.period_days) periods.push_back(day_label(d));
  // Groups (several values may read the same) by label, ranked by the first
  // series' total, largest first, nulls last, ties by label.
  std::vector<std::string> labels;
  std::unordered_map<GroupKey, int, GroupKeyHash> label_of;
  if (spec.breakdown) {
    std::map<std::string, std::vector<GroupKey>> by_label;
    for (const auto& st : s_->series)
      for (const auto& [g, a] : st.groups) by_label[group_label(*c.catalog, g)].push_back(g);
    for (const auto& [label, keys] : by_label) {
      for (const GroupKey& g : keys) label_of[g] = static_cast<int>(labels.size());
      labels.push_back(label);
    }
  }
  const auto& first = s_->series[0];
  std::vector<size_t> order(labels.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  if (!labels.empty()) {
    const std::vector<Acc> per_label =
        fold(c, 0, first.groups, first.triples, [&](const GroupKey& g) { return label_of.at(g); }, labels.size());
    std::vector<json> totals;
    for (const Acc& a : per_label) totals.push_back(column(c, spec.series[0], a).total);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      const json &x = totals[a], &y = totals[b];
      if (x.is_null() != y.is_null()) return y.is_null();
      return !x.is_null() && x.get<double>() > y.get<double>();
    });
  }
  const size_t limit = spec.breakdown ? spec.breakdown->limit : 0;
  const size_t shown = std::min(limit, labels.size());
  const bool other = labels.size() > shown;
  std::vector<int> slot_of_label(labels.size());
  for (size_t r = 0; r < order.size(); ++r) slot_of_label[order[r]] = static_cast<int>(std::min(r, shown));
  // Slot 0: everyone; slots 1..: the shown groups, then "other".
  const size_t slots = 1 + shown + (other ? 1 : 0);
  std::vector<std::vector<Column>> cols(slots);  // [slot][series]
  for (size_t s = 0; s < ns; ++s) {
    const auto& st = s_->series[s];
    const std::vector<Acc> all = fold(c, s, st.groups, st.triples, [](const GroupKey&) { return 0; }, 1);
    cols[0].push_back(column(c, spec.series[s], all[0]));
    if (slots == 1) continue;
    const std::vector<Acc> parts = fold(c, s, st.groups, st.triples, [&](const GroupKey& g) { return slot_of_label[static_cast<size_t>(label_of.at(g))]; }, slots - 1);
    for (size_t k = 0; k < parts.size(); ++k) cols[k + 1].push_back(column(c, spec.series[s], parts[k]));
  }
  auto group_rows = [&](auto&& column_of) {
    json rows = json::array();
    for (size_t k = 1; k < slots; ++k) {
      const Column col = column_of(k);
      rows.push_back(json{{"value", k <= shown ? labels[order[k - 1]] : "other"}, {"values", col.values}, {"total", col.total}});
    }
    return rows;
  };
  json series = json::array();
  for (size_t s = 0; s < ns; ++s) {
    json j{{"name", spec.series[s].name}, {"values", cols[0][s].values}, {"total", cols[0][s].total}};
    if (spec.breakdown) j["breakdown"] = group_rows([&](size_t k) { return cols[k][s]; });
    series.push_back(std::move(j));
  }
  json formulas = json::array();
  for (const TrendFormula& f : spec.formulas) {
    const Column col = formula_column(c, f, cols[0]);
    json j{{"name", f.name}, {"formula", f.text}, {"values", col.values}, {"total", col.total}};
    if (spec.breakdown) j["breakdown"] = group_rows([&](size_t k) { return formula_column(c, f, cols[k]); });
    formulas.push_back(std::move(j));
  }
  return json{{"type", "trend"},
              {"period", period_name(spec.period)},
              {"timezone", spec.timezone->name()},
              {"periods", std::move(periods)},
              {"series", std::move(series)},
              {"formulas", std::move(formulas)}};
}

Result<json> run_trend(const Store& store, const TrendSpec& spec, unsigned threads) {
  auto compiled = compile_trend(spec, store.catalog());
  if (!compiled) return compiled.status();
  CAIRN_RETURN_IF_ERROR(load_traits_if_read(store.catalog(), compiled->traits, &compiled->group));
  return scan_result<TrendKernel>(store, *compiled, threads);
}

}  // namespace cairn::query
