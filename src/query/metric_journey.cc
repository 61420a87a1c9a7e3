#include "query/metric_journey.h"

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <tuple>
#include <utility>

#include <fmt/format.h>

namespace cairn::query {

using nlohmann::json;

// ---------------------------------------------------------------- parsing

namespace {

struct MetricInfo {
  const char* name;
  JourneyMetric metric;
  // The fields of the picked events (entry, checkout, ...), their
  // conversion and the window (nullptr where the metric has none).
  const char* pick;
  const char* conversion;
  const char* window;
  std::vector<const char*> others;  // besides type, metric, range and those
};

const std::vector<MetricInfo>& metric_infos() {
  static const std::vector<MetricInfo> kInfos = {
      {"conversion_rate", JourneyMetric::kConversionRate, "entry", "conversion", "window", {"by"}},
      {"conversion_by_entry_point", JourneyMetric::kConversionByEntryPoint, "entry", "conversion", "window", {"by"}},
      {"checkout_abandonment", JourneyMetric::kCheckoutAbandonment, "checkout", "purchase", "window", {}},
      {"time_to_convert", JourneyMetric::kTimeToConvert, "entry", "conversion", "window", {}},
      {"pages_before_conversion", JourneyMetric::kPagesBeforeConversion, "page", "conversion", "lookback", {}},
      {"ab_test", JourneyMetric::kAbTest, "exposure", "conversion", "window", {"variant", "control"}},
      {"objection_report", JourneyMetric::kObjectionReport, "call", "conversion", nullptr, {"objection", "milestones"}},
      {"communication_report", JourneyMetric::kCommunicationReport, nullptr, nullptr, nullptr, {"events", "outcome", "response"}},
  };
  return kInfos;
}

const MetricInfo& info_of(JourneyMetric metric) {
  for (const MetricInfo& m : metric_infos())
    if (m.metric == metric) return m;
  return metric_infos().front();
}

EventDef named(const char* event) { return EventDef{event, {}}; }

// {"event": NAME, "where": [...]}, nothing else; or the event's name alone.
Status parse_def_object(const json& j, const std::string& path, EventDef& out) {
  if (j.is_string() && !j.get<std::string>().empty()) {
    out = named(j.get<std::string>().c_str());
    return Status::ok();
  }
  if (!j.is_object()) return field_error(path, "expected an event name or definition like {\"event\": \"purchase\"}");
  for (const auto& [k, v] : j.items())
    if (k != "event" && k != "where") return field_error(path + "." + k, "unknown field (expected event, where)");
  auto d = parse_event_def(j, path);
  if (!d) return d.status();
  out = std::move(*d);
  return Status::ok();
}

// An event definition field; `out` keeps its default when absent.
Status parse_def_field(const json& doc, const char* field, const std::string& path, EventDef& out) {
  return doc.contains(field) ? parse_def_object(doc[field], path, out) : Status::ok();
}

Status parse_pick(const json& doc, const char* field, EventPick& out) {
  if (!doc.contains(field)) return Status::ok();
  out.any = false;
  out.carrying.clear();
  return parse_def_field(doc, field, field, out.def);
}

Status parse_window(const json& doc, const char* field, Micros& out) {
  if (!doc.contains(field)) return Status::ok();
  auto w = parse_duration_field(doc[field], field);
  if (!w) return w.status();
  out = *w;
  return Status::ok();
}

Result<std::string> parse_name(const json& doc, const char* field, const std::string& path, const char* what) {
  if (!doc[field].is_string() || doc[field].get<std::string>().empty()) return field_error(path, fmt::format("expected {}", what));
  return doc[field].get<std::string>();
}

// {"property": NAME} or {"trait": NAME}.
Status parse_by(const json& doc, const char* field, bool trait_ok, std::optional<Breakdown>& out) {
  if (!doc.contains(field)) return Status::ok();
  const json& b = doc[field];
  const std::string shape = trait_ok ? "expected {\"property\": NAME} or {\"trait\": NAME}" : "expected {\"property\": NAME}";
  if (!b.is_object() || b.size() != 1) return field_error(field, shape);
  Breakdown bd;
  const std::string k = b.begin().key();
  const json& v = b.begin().value();
  if (!v.is_string() || v.get<std::string>().empty()) return field_error(fmt::format("{}.{}", field, k), "expected a name");
  if (k == "property") bd.property = v.get<std::string>();
  else if (k == "trait" && trait_ok) bd.trait = v.get<std::string>();
  else return field_error(fmt::format("{}.{}", field, k), "unknown field; " + shape);
  out = bd;
  return Status::ok();
}

Status parse_def_list(const json& doc, const char* field, std::vector<EventDef>& out) {
  if (!doc.contains(field)) return Status::ok();
  const json& a = doc[field];
  if (!a.is_array() || a.empty()) return field_error(field, "expected a non-empty array of event definitions");
  out.clear();
  for (size_t i = 0; i < a.size(); ++i) {
    const std::string path = fmt::format("{}[{}]", field, i);
    if (a[i].is_string()) {
      out.push_back(named(a[i].get<std::string>().c_str()));
      if (out.back().event.empty()) return field_error(path, "expected an event name");
      continue;
    }
    EventDef d;
    CAIRN_RETURN_IF_ERROR(parse_def_object(a[i], path, d));
    out.push_back(std::move(d));
  }
  return Status::ok();
}

}  // namespace

std::vector<std::string_view> journey_metric_names() {
  std::vector<std::string_view> out;
  for (const MetricInfo& m : metric_infos()) out.push_back(m.name);
  return out;
}

bool is_journey_metric(std::string_view name) {
  for (const MetricInfo& m : metric_infos())
    if (name == m.name) return true;
  return false;
}

Result<JourneySpec> parse_journey(const json& doc) {
  if (!doc.is_object()) return field_error("query", "expected a JSON object");
  if (!doc.contains("metric") || !doc["metric"].is_string()) return field_error("metric", "is missing (e.g. \"conversion_rate\")");
  JourneySpec spec;
  spec.name = doc["metric"].get<std::string>();
  const MetricInfo* info = nullptr;
  for (const MetricInfo& m : metric_infos())
    if (spec.name == m.name) info = &m;
  if (!info) return field_error("metric", fmt::format("\"{}\" is not a journey metric", spec.name));
  spec.metric = info->metric;
  std::vector<const char*> fields;
  for (const char* f : {info->pick, info->conversion, info->window})
    if (f) fields.push_back(f);
  fields.insert(fields.end(), info->others.begin(), info->others.end());
  for (const auto& item : doc.items()) {
    const std::string& k = item.key();
    if (k == "type" || k == "metric" || k == "range" || k == "filters") continue;
    if (std::find_if(fields.begin(), fields.end(), [&](const char* f) { return k == f; }) == fields.end()) {
      std::string known;
      for (const char* f : fields) known += fmt::format("{}{}", known.empty() ? "" : ", ", f);
      return field_error(k, fmt::format("unknown field for metric \"{}\" (it takes range, filters, {})", spec.name, known));
    }
  }
  CAIRN_RETURN_IF_ERROR(parse_range(doc, spec.from, spec.to));
  CAIRN_RETURN_IF_ERROR(parse_metric_filters(doc, spec.trait_filters));
  // The defaults, and the fields of one metric.
  spec.conversion = named("purchase");
  switch (spec.metric) {
    case JourneyMetric::kConversionRate:
    case JourneyMetric::kConversionByEntryPoint:
    case JourneyMetric::kTimeToConvert:
      // Entry: the first page view; by entry point, the first touch (event
      // carrying the property grouped by); time to convert, the first event.
      CAIRN_RETURN_IF_ERROR(parse_by(doc, "by", true, spec.by));
      if (spec.metric == JourneyMetric::kConversionRate) {
        spec.entry.def = named("page_view");
      } else {
        spec.entry.any = true;
        if (spec.metric == JourneyMetric::kConversionByEntryPoint) {
          if (!spec.by) spec.by = Breakdown{"channel", "", 0};
          spec.entry.carrying = spec.by->property;
        }
      }
      break;
    case JourneyMetric::kCheckoutAbandonment:
      spec.entry.def = named("checkout_started");
      spec.window = kMicrosPerDay;
      break;
    case JourneyMetric::kPagesBeforeConversion:
      spec.entry.def = named("page_view");
      break;
    case JourneyMetric::kAbTest: {
      if (!doc.contains("variant"))
        return field_error("variant", "is missing: the property of the exposure ({\"property\": NAME}) or the trait ({\"trait\": NAME}) holding the variant");
      CAIRN_RETURN_IF_ERROR(parse_by(doc, "variant", true, spec.by));
      spec.entry.any = true;
      if (doc.contains("control")) {
        // A variant value as its group's label: the number 7 and the
        // string "7" name one group.
        const json& c = doc["control"];
        if (c.is_number()) spec.control = number_text(c.get<double>());
        else if (c.is_boolean()) spec.control = c.get<bool>() ? "true" : "false";
        else if (c.is_string() && !c.get<std::string>().empty()) spec.control = c.get<std::string>();
        else return field_error("control", "expected a variant value, e.g. \"A\"");
      }
      break;
    }
    case JourneyMetric::kObjectionReport: {
      spec.entry.def = named("sales_call");
      spec.by = Breakdown{"objection", "", 0};
      if (doc.contains("objection")) {
        auto o = parse_name(doc, "objection", "objection", "the property holding the objection type");
        if (!o) return o.status();
        spec.by->property = *o;
      }
      spec.milestones = {named("lead_created"), named("mql"), named("opportunity_created")};
      CAIRN_RETURN_IF_ERROR(parse_def_list(doc, "milestones", spec.milestones));
      spec.conversion = named("deal_won");
      spec.window = -1;
      break;
    }
    case JourneyMetric::kCommunicationReport: {
      spec.channels = {named("sales_call"), named("chat_started")};
      CAIRN_RETURN_IF_ERROR(parse_def_list(doc, "events", spec.channels));
      spec.outcome = "outcome";
      if (doc.contains("outcome")) {
        auto o = parse_name(doc, "outcome", "outcome", "the property holding the outcome");
        if (!o) return o.status();
        spec.outcome = *o;
      }
      spec.opened = named("support_ticket_opened");
      spec.replied = named("support_first_response");
      spec.match = "ticket_id";
      if (doc.contains("response")) {
        const json& r = doc["response"];
        if (!r.is_object()) return field_error("response", "expected {\"opened\": EVENT, \"replied\": EVENT, \"match\": PROPERTY}");
        for (const auto& [k, v] : r.items())
          if (k != "opened" && k != "replied" && k != "match")
            return field_error("response." + k, "unknown field (expected opened, replied, match)");
        CAIRN_RETURN_IF_ERROR(parse_def_field(r, "opened", "response.opened", spec.opened));
        CAIRN_RETURN_IF_ERROR(parse_def_field(r, "replied", "response.replied", spec.replied));
        if (r.contains("match")) {
          auto m = parse_name(r, "match", "response.match", "the property pairing an opening with its reply, e.g. \"ticket_id\"");
          if (!m) return m.status();
          spec.match = *m;
        }
      }
      spec.window = -1;
      break;
    }
  }
  if (info->pick) {
    CAIRN_RETURN_IF_ERROR(parse_pick(doc, info->pick, spec.entry));
    CAIRN_RETURN_IF_ERROR(parse_def_field(doc, info->conversion, info->conversion, spec.conversion));
  }
  if (info->window) CAIRN_RETURN_IF_ERROR(parse_window(doc, info->window, spec.window));
  // An A/B exposure, given or not, carries the variant property.
  if (spec.metric == JourneyMetric::kAbTest) spec.entry.carrying = spec.by->property;
  return spec;
}

// ---------------------------------------------------------------- compiling

namespace {

int optional_key(const Catalog& cat, const KeySlot& slot, const std::string& name) {
  if (name.empty()) return -1;
  const uint32_t k = cat.keys.find(name);
  return k == StringPool::kMissing ? -2 : static_cast<int>(slot(k));
}

}  // namespace

Result<CompiledJourney> compile_journey(const JourneySpec& spec, const Catalog& cat) {
  CompiledJourney c;
  c.spec = spec;
  c.catalog = &cat;
  CAIRN_RETURN_IF_ERROR(c.traits.compile(spec.trait_filters, cat));
  const KeySlot slot = plan_key_slot(c.plan);
  const MetricInfo& info = info_of(spec.metric);
  if (spec.metric != JourneyMetric::kCommunicationReport) {
    if (!spec.entry.any) {
      auto d = compile_def(spec.entry.def, info.pick, cat, slot);
      if (!d) return d.status();
      c.entry = std::move(*d);
    }
    c.carrying = optional_key(cat, slot, spec.entry.carrying);
    auto d = compile_def(spec.conversion, info.conversion, cat, slot);
    if (!d) return d.status();
    c.conversion = std::move(*d);
  }
  for (size_t i = 0; i < spec.milestones.size(); ++i) {
    auto d = compile_def(spec.milestones[i], fmt::format("milestones[{}]", i), cat, slot);
    if (!d) return d.status();
    c.milestones.push_back(std::move(*d));
  }
  if (spec.metric == JourneyMetric::kCommunicationReport) {
    for (size_t i = 0; i < spec.channels.size(); ++i) {
      auto d = compile_def(spec.channels[i], fmt::format("events[{}]", i), cat, slot);
      if (!d) return d.status();
      c.channels.push_back(std::move(*d));
    }
    auto o = compile_def(spec.opened, "response.opened", cat, slot);
    if (!o) return o.status();
    c.opened = std::move(*o);
    auto r = compile_def(spec.replied, "response.replied", cat, slot);
    if (!r) return r.status();
    c.replied = std::move(*r);
    c.outcome = optional_key(cat, slot, spec.outcome);
    c.match = optional_key(cat, slot, spec.match);
  }
  if (spec.by) c.group.compile(*spec.by, cat, slot);
  // Only the events a metric can look at are read.
  switch (spec.metric) {
    case JourneyMetric::kPagesBeforeConversion:
      c.plan.min_time = window_start(spec.from, spec.window);
      c.plan.max_time = spec.to;
      break;
    case JourneyMetric::kObjectionReport:  // milestones before, conversions after
      break;
    case JourneyMetric::kCommunicationReport:
      c.plan.min_time = spec.from;  // replies may come after the range
      break;
    default:
      c.plan.min_time = spec.from;
      c.plan.max_time = spec.to == INT64_MAX ? INT64_MAX : window_end(spec.to, spec.window);
  }
  return c;
}

// ---------------------------------------------------------------- the kernel

namespace {

struct Tally {
  uint64_t persons = 0, converted = 0;
};

// Objection report: calls, persons and persons converting after their first call.
struct CallTally {
  uint64_t calls = 0, persons = 0, converted = 0;
};

// Communication report: events and persons per (channel index, outcome).
struct OutcomeTally {
  uint64_t count = 0, persons = 0;
};

template <typename K, typename V, typename F>
void merge_map(std::map<K, V>& into, const std::map<K, V>& from, F add) {
  for (const auto& [k, v] : from) add(into[k], v);
}

constexpr uint32_t kNoStage = UINT32_MAX;

}  // namespace

struct JourneyKernel::State {
  std::map<GroupKey, Tally> groups;      // conversion families, by group
  std::vector<Micros> values;            // times to convert, page counts or response times
  uint64_t checkouts = 0, purchased = 0, checkout_persons = 0, abandoning_persons = 0;
  uint64_t pages = 0;
  std::map<GroupKey, CallTally> objections;
  std::map<uint32_t, CallTally> stages;
  std::map<std::pair<GroupKey, uint32_t>, CallTally> cross;
  CallTally calls;
  std::map<std::pair<size_t, GroupKey>, OutcomeTally> outcomes;
  std::vector<OutcomeTally> channel_totals;
  uint64_t tickets = 0, answered = 0;
  // Per-person scratch, reused.
  std::vector<std::tuple<GroupKey, uint32_t, size_t>> person_calls;  // objection, stage, index
  std::vector<std::pair<size_t, GroupKey>> person_outcomes;
};

JourneyKernel::JourneyKernel(const CompiledJourney& c) : c_(c), s_(std::make_unique<State>()) {
  s_->channel_totals.resize(c.channels.size());
}
JourneyKernel::~JourneyKernel() = default;

namespace {

bool in_range(const CompiledJourney& c, Micros t) { return t >= c.spec.from && t < c.spec.to; }

bool is_entry(const CompiledJourney& c, const PersonView& p, size_t i) {
  if (!c.spec.entry.any && !def_matches(c.entry, p, i)) return false;
  if (c.carrying == -2) return false;
  return c.carrying < 0 || p.cell(static_cast<size_t>(c.carrying), i).present;
}

bool within(const CompiledJourney& c, Micros from, Micros t) { return c.spec.window < 0 || t - from <= c.spec.window; }

// The first conversion at or after event i within the window, or n.
size_t conversion_after(const CompiledJourney& c, const PersonView& p, size_t i, size_t end) {
  for (size_t j = i; j < end && within(c, p.time[i], p.time[j]); ++j)
    if (def_matches(c.conversion, p, j)) return j;
  return p.n;
}

bool same_cell(const Cell& a, const Cell& b) { return group_key(a) == group_key(b); }

}  // namespace

void JourneyKernel::add(const PersonView& p) {
  const CompiledJourney& c = c_;
  if (c.traits.active() && !c.traits.pass(*c.catalog, p.person)) return;
  State& s = *s_;
  switch (c.spec.metric) {
    case JourneyMetric::kConversionRate:
    case JourneyMetric::kConversionByEntryPoint:
    case JourneyMetric::kTimeToConvert:
    case JourneyMetric::kAbTest: {
      size_t e = 0;
      while (e < p.n && !(in_range(c, p.time[e]) && is_entry(c, p, e))) ++e;
      if (e == p.n) return;
      Tally& g = s.groups[c.spec.by ? c.group.of(*c.catalog, p, e) : GroupKey{-1, 0}];
      ++g.persons;
      const size_t j = conversion_after(c, p, e, p.n);
      if (j == p.n) return;
      ++g.converted;
      if (c.spec.metric == JourneyMetric::kTimeToConvert) s.values.push_back(p.time[j] - p.time[e]);
      return;
    }
    case JourneyMetric::kCheckoutAbandonment: {
      bool any = false, abandoned = false;
      for (size_t i = 0; i < p.n; ++i) {
        if (!in_range(c, p.time[i]) || !is_entry(c, p, i)) continue;
        size_t next = i + 1;
        while (next < p.n && !is_entry(c, p, next)) ++next;
        any = true;
        ++s.checkouts;
        bool bought = false;
        for (size_t j = i + 1; j < next && !bought && within(c, p.time[i], p.time[j]); ++j) bought = def_matches(c.conversion, p, j);
        s.purchased += bought;
        abandoned = abandoned || !bought;
      }
      s.checkout_persons += any;
      s.abandoning_persons += abandoned;
      return;
    }
    case JourneyMetric::kPagesBeforeConversion: {
      size_t j = 0;
      while (j < p.n && !(in_range(c, p.time[j]) && def_matches(c.conversion, p, j))) ++j;
      if (j == p.n) return;
      Micros count = 0;
      for (size_t i = 0; i < j; ++i)
        if (is_entry(c, p, i) && (c.spec.window < 0 || p.time[j] - p.time[i] <= c.spec.window)) ++count;
      s.values.push_back(count);
      s.pages += static_cast<uint64_t>(count);
      ++s.groups[GroupKey{-1, 0}].converted;
      return;
    }
    case JourneyMetric::kObjectionReport: {
      s.person_calls.clear();
      uint32_t stage = kNoStage;
      size_t last_conversion = p.n;
      for (size_t i = 0; i < p.n; ++i) {
        if (def_matches(c.conversion, p, i)) last_conversion = i;
        if (in_range(c, p.time[i]) && is_entry(c, p, i)) {
          s.person_calls.emplace_back(c.group.of(*c.catalog, p, i), stage, i);
          ++s.calls.calls;
        }
        // A milestone counts for calls after it.
        for (uint32_t m = 0; m < c.milestones.size(); ++m)
          if ((stage == kNoStage || m > stage) && def_matches(c.milestones[m], p, i)) stage = m;
      }
      if (s.person_calls.empty()) return;
      auto converted_after = [&](size_t i) { return last_conversion < p.n && last_conversion > i; };
      ++s.calls.persons;
      s.calls.converted += converted_after(std::get<2>(s.person_calls.front()));
      // Each call counts in its groups; a person counts once per group, from their first call in it.
      for (size_t k = 0; k < s.person_calls.size(); ++k) {
        const auto& [obj, st, idx] = s.person_calls[k];
        bool first_obj = true, first_stage = true, first_cross = true;
        for (size_t q = 0; q < k; ++q) {
          const auto& [o2, s2, i2] = s.person_calls[q];
          first_obj = first_obj && o2 != obj;
          first_stage = first_stage && s2 != st;
          first_cross = first_cross && !(o2 == obj && s2 == st);
        }
        const uint64_t conv = converted_after(idx);
        CallTally& a = s.objections[obj];
        CallTally& b = s.stages[st];
        CallTally& x = s.cross[{obj, st}];
        ++a.calls, ++b.calls, ++x.calls;
        if (first_obj) ++a.persons, a.converted += conv;
        if (first_stage) ++b.persons, b.converted += conv;
        if (first_cross) ++x.persons, x.converted += conv;
      }
      return;
    }
    case JourneyMetric::kCommunicationReport: {
      s.person_outcomes.clear();
      for (size_t i = 0; i < p.n; ++i) {
        if (!in_range(c, p.time[i])) continue;
        for (size_t k = 0; k < c.channels.size(); ++k)
          if (def_matches(c.channels[k], p, i)) {
            const GroupKey g = c.outcome >= 0 ? group_key(p.cell(static_cast<size_t>(c.outcome), i)) : GroupKey{-1, 0};
            ++s.channel_totals[k].count;
            s.person_outcomes.emplace_back(k, g);
          }
        if (!def_matches(c.opened, p, i)) continue;
        ++s.tickets;
        const Cell none;
        const Cell& id = c.match >= 0 ? p.cell(static_cast<size_t>(c.match), i) : none;
        for (size_t j = i + 1; j < p.n; ++j)
          if (def_matches(c.replied, p, j) && same_cell(id, c.match >= 0 ? p.cell(static_cast<size_t>(c.match), j) : none)) {
            ++s.answered;
            s.values.push_back(p.time[j] - p.time[i]);
            break;
          }
      }
      // One map update per (event, outcome) the person has, not per event.
      std::vector<std::pair<size_t, GroupKey>>& seen = s.person_outcomes;
      std::sort(seen.begin(), seen.end());
      for (size_t k = 0, run = 0; k < seen.size(); k = run) {
        while (run < seen.size() && seen[run] == seen[k]) ++run;
        OutcomeTally& t = s.outcomes[seen[k]];
        t.count += run - k;
        ++t.persons;
        if (k == 0 || seen[k].first != seen[k - 1].first) ++s.channel_totals[seen[k].first].persons;
      }
      return;
    }
  }
}

void JourneyKernel::merge(Kernel& other) {
  State& s = *s_;
  const State& o = *static_cast<JourneyKernel&>(other).s_;
  auto tally = [](Tally& a, const Tally& b) { a.persons += b.persons, a.converted += b.converted; };
  auto calls = [](CallTally& a, const CallTally& b) { a.calls += b.calls, a.persons += b.persons, a.converted += b.converted; };
  auto outcome = [](OutcomeTally& a, const OutcomeTally& b) { a.count += b.count, a.persons += b.persons; };
  merge_map(s.groups, o.groups, tally);
  s.values.insert(s.values.end(), o.values.begin(), o.values.end());
  s.checkouts += o.checkouts, s.purchased += o.purchased;
  s.checkout_persons += o.checkout_persons, s.abandoning_persons += o.abandoning_persons;
  s.pages += o.pages;
  merge_map(s.objections, o.objections, calls);
  merge_map(s.stages, o.stages, calls);
  merge_map(s.cross, o.cross, calls);
  calls(s.calls, o.calls);
  merge_map(s.outcomes, o.outcomes, outcome);
  for (size_t k = 0; k < s.channel_totals.size(); ++k) outcome(s.channel_totals[k], o.channel_totals[k]);
  s.tickets += o.tickets, s.answered += o.answered;
}

// ---------------------------------------------------------------- the answer

namespace {


// Groups whose values read the same (the string "7" and the number 7) are one.
std::map<std::string, Tally> by_label(const Catalog& cat, const std::map<GroupKey, Tally>& groups) {
  std::map<std::string, Tally> out;
  for (const auto& [k, v] : groups) {
    Tally& t = out[group_label(cat, k)];
    t.persons += v.persons, t.converted += v.converted;
  }
  return out;
}

json call_row(const char* name, const std::string& label, const CallTally& t) {
  return json{{name, label}, {"calls", t.calls}, {"persons", t.persons}, {"converted", t.converted},
              {"conversion", ratio(t.converted, t.persons)}};
}

// Rows of calls folded by label, by calls then label.
template <typename K, typename Label>
json call_rows(const std::map<K, CallTally>& m, Label label, const char* name) {
  std::map<std::string, CallTally> folded;
  for (const auto& [k, v] : m) {
    CallTally& t = folded[label(k)];
    t.calls += v.calls, t.persons += v.persons, t.converted += v.converted;
  }
  std::vector<std::pair<std::string, CallTally>> rows(folded.begin(), folded.end());
  std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second.calls > b.second.calls; });
  json out = json::array();
  for (const auto& [l, t] : rows) out.push_back(call_row(name, l, t));
  return out;
}

// Time-to-convert histogram buckets, in seconds.
constexpr std::array<int64_t, 5> kBucketStarts = {0, 3600, 86400, 7 * 86400, 30 * 86400};
constexpr std::array<const char*, 5> kBucketNames = {"<1h", "1h-1d", "1d-7d", "7d-30d", "30d+"};

}  // namespace

Result<json> JourneyKernel::result() const {
  const CompiledJourney& c = c_;
  const State& s = *s_;
  const Catalog& cat = *c.catalog;
  json out{{"metric", c.spec.name}};
  uint64_t persons = 0, converted = 0;
  for (const auto& [k, v] : s.groups) persons += v.persons, converted += v.converted;
  auto window = [&] { return c.spec.window < 0 ? json(nullptr) : json(c.spec.window / kMicrosPerSecond); };
  switch (c.spec.metric) {
    case JourneyMetric::kConversionRate:
    case JourneyMetric::kConversionByEntryPoint: {
      out["value"] = ratio(converted, persons);
      out["entrants"] = persons;
      out["converters"] = converted;
      out["window"] = window();
      if (!c.spec.by) break;
      std::vector<std::pair<std::string, Tally>> rows;
      for (const auto& r : by_label(cat, s.groups)) rows.push_back(r);
      std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second.persons > b.second.persons; });
      json& by = out["by"] = json::array();
      for (const auto& [label, t] : rows)
        by.push_back(json{{"value", label}, {"persons", t.persons}, {"converted", t.converted},
                          {"conversion", ratio(t.converted, t.persons)},
                          {"vs_rest", rows.size() < 2 ? json(nullptr)
                                                      : z_test(t.converted, t.persons, converted - t.converted, persons - t.persons)}});
      break;
    }
    case JourneyMetric::kTimeToConvert: {
      json st = time_stats(s.values);
      out["value"] = st["median"];
      out["entrants"] = persons;
      out["converters"] = converted;
      out["window"] = window();
      out["time"] = st;
      std::array<uint64_t, kBucketStarts.size()> counts{};
      for (Micros v : s.values) {
        size_t b = kBucketStarts.size() - 1;
        while (v < kBucketStarts[b] * kMicrosPerSecond) --b;
        ++counts[b];
      }
      json& h = out["histogram"] = json::array();
      for (size_t b = 0; b < counts.size(); ++b)
        h.push_back(json{{"bucket", kBucketNames[b]}, {"from", kBucketStarts[b]},
                         {"to", b + 1 < counts.size() ? json(kBucketStarts[b + 1]) : json(nullptr)}, {"persons", counts[b]}});
      break;
    }
    case JourneyMetric::kCheckoutAbandonment:
      out["value"] = s.checkouts == 0 ? json(nullptr) : json(1.0 - static_cast<double>(s.purchased) / static_cast<double>(s.checkouts));
      out["checkouts"] = s.checkouts;
      out["purchased"] = s.purchased;
      out["abandoned"] = s.checkouts - s.purchased;
      out["persons"] = s.checkout_persons;
      out["persons_abandoning"] = s.abandoning_persons;
      out["window"] = window();
      break;
    case JourneyMetric::kPagesBeforeConversion: {
      json st = count_stats(s.values);
      out["value"] = st["median"];
      out["converters"] = converted;
      out["page_views"] = s.pages;
      out["lookback"] = window();
      out["pages"] = st;
      std::map<Micros, uint64_t> dist;
      for (Micros v : s.values) ++dist[v];
      json& d = out["distribution"] = json::array();
      for (const auto& [k, v] : dist) d.push_back(json{{"pages", k}, {"persons", v}});
      break;
    }
    case JourneyMetric::kAbTest: {
      out["value"] = ratio(converted, persons);
      out["exposed"] = persons;
      out["converted"] = converted;
      out["window"] = window();
      const std::map<std::string, Tally> rows = by_label(cat, s.groups);
      std::string control = c.spec.control;
      if (control.empty() && !rows.empty()) control = rows.begin()->first;
      const auto ctl = rows.find(control);
      if (!c.spec.control.empty() && ctl == rows.end())
        return field_error("control", fmt::format("no exposed person has the variant \"{}\"", control));
      out["control"] = rows.empty() ? json(nullptr) : json(control);
      json& vs = out["variants"] = json::array();
      for (const auto& [label, t] : rows) {
        json row{{"variant", label}, {"persons", t.persons}, {"converted", t.converted}, {"conversion", ratio(t.converted, t.persons)},
                 {"lift", nullptr}, {"z", nullptr}, {"p_value", nullptr}};
        if (label != control) {
          const Tally& b = ctl->second;
          if (b.converted > 0)
            row["lift"] = (static_cast<double>(t.converted) / static_cast<double>(t.persons)) /
                              (static_cast<double>(b.converted) / static_cast<double>(b.persons)) - 1.0;
          const json z = z_test(t.converted, t.persons, b.converted, b.persons);
          row["z"] = z["z"];
          row["p_value"] = z["p_value"];
        }
        vs.push_back(row);
      }
      break;
    }
    case JourneyMetric::kObjectionReport: {
      out["value"] = ratio(s.calls.converted, s.calls.persons);
      out["calls"] = s.calls.calls;
      out["persons"] = s.calls.persons;
      out["converted"] = s.calls.converted;
      auto obj = [&](const GroupKey& k) { return group_label(cat, k); };
      auto stage = [&](uint32_t st) { return st == kNoStage ? std::string("(none)") : c.spec.milestones[st].event; };
      out["by_objection"] = call_rows(s.objections, obj, "objection");
      out["by_stage"] = call_rows(s.stages, stage, "stage");
      json cross = call_rows(s.cross, [&](const std::pair<GroupKey, uint32_t>& k) { return obj(k.first) + "\x1f" + stage(k.second); }, "objection");
      for (json& r : cross) {
        const std::string both = r["objection"].get<std::string>();
        const size_t cut = both.find('\x1f');
        r["objection"] = both.substr(0, cut);
        r["stage"] = both.substr(cut + 1);
      }
      out["by_objection_and_stage"] = cross;
      break;
    }
    case JourneyMetric::kCommunicationReport: {
      json st = time_stats(s.values);
      out["value"] = st["median"];
      json& evs = out["events"] = json::array();
      for (size_t k = 0; k < c.channels.size(); ++k) {
        std::map<std::string, OutcomeTally> folded;
        for (const auto& [key, v] : s.outcomes)
          if (key.first == k) {
            OutcomeTally& t = folded[group_label(cat, key.second)];
            t.count += v.count, t.persons += v.persons;
          }
        std::vector<std::pair<std::string, OutcomeTally>> rows(folded.begin(), folded.end());
        std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second.count > b.second.count; });
        const OutcomeTally& total = s.channel_totals[k];
        json outcomes = json::array();
        for (const auto& [label, t] : rows)
          outcomes.push_back(json{{"outcome", label}, {"count", t.count}, {"persons", t.persons}, {"share", ratio(t.count, total.count)}});
        evs.push_back(json{{"event", c.spec.channels[k].event}, {"count", total.count}, {"persons", total.persons}, {"by_outcome", outcomes}});
      }
      out["response"] = json{{"tickets", s.tickets}, {"answered", s.answered}, {"unanswered", s.tickets - s.answered},
                             {"answered_share", ratio(s.answered, s.tickets)}, {"time", st}};
      break;
    }
  }
  return out;
}

Result<std::function<Result<json>(const Store&, unsigned threads)>> prepare_journey_metric(const json& doc) {
  auto spec = parse_journey(doc);
  if (!spec) return spec.status();
  std::function<Result<json>(const Store&, unsigned)> run = [spec = std::move(*spec)](const Store& store, unsigned threads) -> Result<json> {
    auto compiled = compile_journey(spec, store.catalog());
    if (!compiled) return compiled.status();
    CAIRN_RETURN_IF_ERROR(load_traits_if_read(store.catalog(), compiled->traits, &compiled->group));
    compiled->plan.threads = threads;
    const CompiledJourney& c = *compiled;
    auto kernel = scan(store, c.plan, [&] { return std::make_unique<JourneyKernel>(c); });
    if (!kernel) return kernel.status();
    auto out = static_cast<JourneyKernel&>(**kernel).result();
    if (!out) return out.status();
    CAIRN_RETURN_IF_ERROR(store.catalog().lazy_status());
    return std::move(*out);
  };
  return run;
}

}  // namespace cairn::query
