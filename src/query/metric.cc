#include "query/metric.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <initializer_list>
#include <tuple>

#include <fmt/format.h>

namespace cairn::query {

using nlohmann::json;

// ---------------------------------------------------------------- parsing

namespace {

// An event parameter of a KPI: its field, where it goes, and its default.
struct EventParam {
  const char* field;
  Role role;
  std::vector<const char*> defaults;  // any of these events; empty: any event
};

struct KindInfo {
  const char* name;
  MetricKind kind;
  bool needs_range;  // customers at the range's start and end, or its length in years
  std::vector<EventParam> events;
  std::vector<const char*> options;  // the KPI's other fields
  const char* property = "";         // default of "property" when it is an option
};

const std::vector<KindInfo>& kinds() {
  const EventParam customer{"customer_event", Role::kCustomer, {"purchase", "deal_won"}};
  const EventParam churn{"churn_event", Role::kChurn, {"churned"}};
  const EventParam active{"active_event", Role::kActive, {}};
  const std::vector<EventParam> email = {{"delivered_event", Role::kDelivered, {"email_sent"}},
                                         {"open_event", Role::kOpen, {"email_open"}},
                                         {"click_event", Role::kClick, {"email_click"}}};
  const std::vector<const char*> email_options = {"message_property", "unique", "period", "timezone"};
  static const std::vector<KindInfo> k = {
      {"retention_rate", MetricKind::kRetentionRate, true, {customer, churn}, {}},
      {"churn_rate", MetricKind::kChurnRate, true, {customer, churn}, {}},
      {"clv", MetricKind::kClv, true, {{"order_event", Role::kOrder, {"purchase"}}, customer, churn},
       {"property", "lifespan_years"}, "revenue"},
      {"nps", MetricKind::kNps, false, {{"event", Role::kAnswer, {"nps_response"}}}, {"property", "period", "timezone"}, "score"},
      {"csat", MetricKind::kCsat, false, {{"event", Role::kAnswer, {"csat_response"}}}, {"property", "satisfied_min", "period", "timezone"},
       "score"},
      {"ctr", MetricKind::kCtr, false,
       {{"impression_event", Role::kImpression, {"ad_impression"}}, {"click_event", Role::kClick, {"ad_click"}}},
       {"period", "timezone"}},
      {"email_open_rate", MetricKind::kEmailOpenRate, false, email, email_options},
      {"email_click_rate", MetricKind::kEmailClickRate, false, email, email_options},
      {"click_to_open_rate", MetricKind::kClickToOpenRate, false, email, email_options},
      {"social_engagement_rate", MetricKind::kSocialEngagementRate, false,
       {{"event", Role::kAction, {"social_engagement"}}}, {"action_property", "actions", "followers"}},
      {"trial_signup_rate", MetricKind::kTrialSignupRate, false, {{"trial_event", Role::kTrial, {"trial_started"}}, active}, {}},
      {"trial_to_paid_rate", MetricKind::kTrialToPaidRate, false,
       {{"trial_event", Role::kTrial, {"trial_started"}}, {"paid_event", Role::kPaid, {"purchase"}}}, {"window"}},
      {"upsell_conversion", MetricKind::kUpsellConversion, false,
       {customer, churn, {"upsell_event", Role::kUpsell, {"upgrade"}}}, {}},
      {"cross_sell_conversion", MetricKind::kCrossSellConversion, false,
       {customer, churn, {"cross_sell_event", Role::kUpsell, {"cross_sell"}}}, {}},
      {"support_contact_rate", MetricKind::kSupportContactRate, false,
       {{"event", Role::kSupport, {"support_ticket_opened"}}, active}, {}},
      {"first_response_time", MetricKind::kFirstResponseTime, false,
       {{"open_event", Role::kTicketOpen, {"support_ticket_opened"}},
        {"response_event", Role::kTicketReply, {"support_first_response"}}},
       {"ticket_property"}},
      {"tickets_resolved", MetricKind::kTicketsResolved, false,
       {{"resolved_event", Role::kTicketResolved, {"support_ticket_resolved"}},
        {"open_event", Role::kTicketOpen, {"support_ticket_opened"}}},
       {"ticket_property"}},
  };
  return k;
}

Status parse_event_param(const json& j, const std::string& field, EventSet& out) {
  out.clear();
  if (j.is_string() && !j.get<std::string>().empty()) {
    out.push_back(EventDef{j.get<std::string>(), {}});
    return Status::ok();
  }
  if (!j.is_object())
    return field_error(field, "expected an event name, an event definition like {\"event\": \"purchase\", \"where\": [...]}"
                              " or {\"any_of\": [...]}");
  return parse_event_defs(j, field, out);
}

Result<std::string> parse_name(const json& doc, const char* field) {
  if (!doc[field].is_string() || doc[field].get<std::string>().empty()) return field_error(field, "expected a property name");
  return doc[field].get<std::string>();
}

Result<double> parse_number(const json& doc, const char* field, double lo, double hi, const char* expected) {
  const json& v = doc[field];
  if (!v.is_number() || !(v.get<double>() >= lo && v.get<double>() <= hi)) return field_error(field, expected);
  return v.get<double>();
}

Status parse_option(const json& doc, const std::string& field, MetricSpec& spec) {
  const char* f = field.c_str();
  if (field == "property" || field == "message_property" || field == "ticket_property" || field == "action_property") {
    auto name = parse_name(doc, f);
    if (!name) return name.status();
    (field == "property"           ? spec.property
     : field == "message_property" ? spec.message_property
     : field == "ticket_property"  ? spec.ticket_property
                                   : spec.action_property) = *name;
  } else if (field == "unique") {
    if (!doc[f].is_boolean()) return field_error(field, "expected true or false");
    spec.unique = doc[f].get<bool>();
  } else if (field == "satisfied_min") {
    auto v = parse_number(doc, f, 1, 5, "expected a number from 1 to 5");
    if (!v) return v.status();
    spec.satisfied_min = *v;
  } else if (field == "lifespan_years") {
    auto v = parse_number(doc, f, 0, 1e6, "expected a positive number of years");
    if (!v) return v.status();
    if (*v == 0) return field_error(field, "expected a positive number of years");
    spec.lifespan_years = *v;
  } else if (field == "followers") {
    auto v = parse_number(doc, f, 0, 1e15, "expected a positive number of followers");
    if (!v) return v.status();
    if (*v == 0) return field_error(field, "expected a positive number of followers");
    spec.followers = *v;
  } else if (field == "window") {
    auto w = parse_duration_field(doc[f], field);
    if (!w) return w.status();
    spec.window = *w;
  } else if (field == "period") {
    auto period = parse_period(doc[f], field);
    if (!period) return period.status();
    spec.period = *period;
  } else if (field == "timezone") {
    return parse_timezone(doc, spec.timezone);
  } else if (field == "actions") {
    const json& a = doc[f];
    if (!a.is_array() || a.empty()) return field_error(field, "expected a non-empty array of action values like [\"like\", \"comment\"]");
    spec.actions.clear();
    for (size_t i = 0; i < a.size(); ++i) {
      if (!a[i].is_string()) return field_error(fmt::format("actions[{}]", i), "expected a string");
      if (std::find(spec.actions.begin(), spec.actions.end(), a[i].get<std::string>()) != spec.actions.end())
        return field_error(fmt::format("actions[{}]", i), fmt::format("\"{}\" is listed twice", a[i].get<std::string>()));
      spec.actions.push_back(a[i].get<std::string>());
    }
  }
  return Status::ok();
}

std::string quoted_list(const std::vector<std::string_view>& names) {
  std::string out;
  for (std::string_view n : names) out += fmt::format("{}\"{}\"", out.empty() ? "" : ", ", n);
  return out;
}

}  // namespace

const std::vector<std::string_view>& metric_names() {
  static const std::vector<std::string_view> names = [] {
    std::vector<std::string_view> v;
    for (const KindInfo& k : kinds()) v.push_back(k.name);
    return v;
  }();
  return names;
}

Result<MetricSpec> parse_metric(const json& doc) {
  if (!doc.is_object()) return field_error("query", "expected a JSON object");
  if (!doc.contains("type") || doc["type"] != "metric") return field_error("type", "expected \"metric\"");
  if (!doc.contains("metric") || !doc["metric"].is_string())
    return field_error("metric", fmt::format("is missing: one of {}", quoted_list(metric_names())));
  const std::string name = doc["metric"].get<std::string>();
  const auto& all = kinds();
  const auto info = std::find_if(all.begin(), all.end(), [&](const KindInfo& k) { return name == k.name; });
  if (info == all.end())
    return field_error("metric", fmt::format("unknown metric \"{}\" (known: {})", name, quoted_list(metric_names())));
  MetricSpec spec;
  spec.kind = info->kind;
  spec.name = name;
  spec.property = info->property;
  std::vector<std::string> fields = {"type", "metric", "range", "filters"};
  for (const EventParam& e : info->events) fields.push_back(e.field);
  for (const char* o : info->options) fields.push_back(o);
  for (const auto& [key, value] : doc.items())
    if (std::find(fields.begin(), fields.end(), key) == fields.end()) {
      std::string takes;
      for (size_t i = 4; i < fields.size(); ++i) takes += (i > 4 ? ", " : "") + fields[i];
      return field_error(key, fmt::format("unknown field for metric \"{}\" (it takes range, filters{}{})", name,
                                          takes.empty() ? "" : ", ", takes));
    }
  CAIRN_RETURN_IF_ERROR(parse_range(doc, spec.from, spec.to));
  if (info->needs_range && (spec.from == INT64_MIN || spec.to == INT64_MAX))
    return field_error("range", fmt::format("metric \"{}\" needs both range.from and range.to", name));
  CAIRN_RETURN_IF_ERROR(parse_metric_filters(doc, spec.trait_filters));
  for (const EventParam& e : info->events) {
    EventSet& set = spec.events[static_cast<size_t>(e.role)];
    for (const char* d : e.defaults) set.push_back(EventDef{d, {}});
    if (doc.contains(e.field)) CAIRN_RETURN_IF_ERROR(parse_event_param(doc[e.field], e.field, set));
  }
  for (const char* o : info->options)
    if (doc.contains(o)) CAIRN_RETURN_IF_ERROR(parse_option(doc, o, spec));
  if (spec.period) {
    constexpr int64_t kMaxPeriods = 10000;
    if (spec.from == INT64_MIN || spec.to == INT64_MAX)
      return field_error("range", "\"period\" needs both range.from and range.to");
    const Period p = *spec.period;
    if (period_ordinal(period_start(spec.to - 1, *spec.timezone, p), p) -
            period_ordinal(period_start(spec.from, *spec.timezone, p), p) >= kMaxPeriods)
      return field_error("period", fmt::format("the range holds more than {} periods", kMaxPeriods));
  }
  if (spec.kind == MetricKind::kSocialEngagementRate && spec.followers == 0)
    return field_error("followers", "is missing: the number of followers (the event data holds no follower counts)");
  return spec;
}

// ---------------------------------------------------------------- compiling

Result<CompiledMetric> compile_metric(const MetricSpec& spec, const Catalog& cat) {
  CompiledMetric c;
  c.spec = spec;
  c.catalog = &cat;
  const KeySlot slot = plan_key_slot(c.plan);
  for (const KindInfo& k : kinds()) {
    if (k.kind != spec.kind) continue;
    for (const EventParam& e : k.events) {
      const EventSet& set = spec.events[static_cast<size_t>(e.role)];
      std::vector<CompiledDef>& out = c.events[static_cast<size_t>(e.role)];
      CAIRN_RETURN_IF_ERROR(compile_defs(set, e.field, cat, slot, out));
    }
  }
  auto key = [&](const std::string& name) {
    const uint32_t k = cat.keys.find(name);
    return k == StringPool::kMissing ? -1 : static_cast<int>(slot(k));
  };
  switch (spec.kind) {
    case MetricKind::kClv:
    case MetricKind::kNps:
    case MetricKind::kCsat:
      c.property_key = key(spec.property);
      break;
    case MetricKind::kEmailOpenRate:
    case MetricKind::kEmailClickRate:
    case MetricKind::kClickToOpenRate:
      if (spec.unique) c.message_key = key(spec.message_property);
      break;
    case MetricKind::kSocialEngagementRate:
      c.action_key = key(spec.action_property);
      for (const std::string& a : spec.actions) c.action_ids.push_back(cat.find_string(a));
      break;
    case MetricKind::kFirstResponseTime:
    case MetricKind::kTicketsResolved:
      c.ticket_key = key(spec.ticket_property);
      break;
    default:
      break;
  }
  CAIRN_RETURN_IF_ERROR(c.traits.compile(spec.trait_filters, cat));
  if (spec.period) {
    const Period p = *spec.period;
    c.first_period = period_ordinal(period_start(spec.from, *spec.timezone, p), p);
    c.periods = static_cast<size_t>(period_ordinal(period_start(spec.to - 1, *spec.timezone, p), p) - c.first_period + 1);
  }
  // Customer status at the range's start needs every earlier event; replies
  // and payments may come after the range's end.
  const Micros last = spec.to == INT64_MAX ? INT64_MAX : spec.to - 1;
  c.plan.min_time = spec.from;
  c.plan.max_time = last;
  switch (spec.kind) {
    case MetricKind::kRetentionRate:
    case MetricKind::kChurnRate:
    case MetricKind::kClv:
    case MetricKind::kUpsellConversion:
    case MetricKind::kCrossSellConversion:
    case MetricKind::kTicketsResolved:
      c.plan.min_time = INT64_MIN;
      break;
    case MetricKind::kTrialToPaidRate:
      c.plan.max_time = window_end(last, spec.window);
      break;
    case MetricKind::kFirstResponseTime:
      c.plan.max_time = INT64_MAX;
      break;
    default:
      break;
  }
  return c;
}

// ---------------------------------------------------------------- the kernel

namespace {

// The slots of PeriodCounts: nps promoters, passives, detractors, invalid
// answers (csat: satisfied, -, others, invalid); ctr impressions, clicks;
// email delivered, opens, clicks (the order of the email roles).
constexpr size_t kHigh = 0, kMiddle = 1, kLow = 2, kInvalid = 3;
constexpr size_t kImpressions = 0, kAdClicks = 1;
constexpr size_t kDelivered = 0, kOpens = 1, kClicks = 2;

int64_t period_index(const CompiledMetric& c, Micros t) {
  return period_ordinal(period_start(t, *c.spec.timezone, *c.spec.period), *c.spec.period) - c.first_period;
}

}  // namespace

struct MetricKernel::State {
  // Customers: at the range's start (S) and end (E), new in the range (N),
  // of S still customers at the end, customers at any time in the range and
  // of those the ones who upgraded or cross-bought.
  uint64_t customers_start = 0, customers_end = 0, new_customers = 0, retained = 0, customers = 0, converted = 0;
  // Orders in the range with a numeric value, their sum, their buyers.
  uint64_t orders = 0, buyers = 0, orders_without_value = 0;
  double revenue = 0;
  // The counts of the KPIs that have periods (PeriodCounts), in all and per period.
  PeriodCounts totals{};
  std::vector<PeriodCounts> periods;
  std::vector<uint64_t> by_action;
  // Persons who did the KPI's event (trial starters, support contacts) and active persons.
  uint64_t persons = 0, active = 0;
  uint64_t tickets = 0, answered = 0, without_ticket_id = 0, without_open = 0;
  std::vector<Micros> durations;  // reply, resolution or trial-to-paid times

  // Per-person scratch space, reused so that a person costs no allocation.
  struct Ticket {
    GroupKey key;
    Micros time;  // its first opening (or resolution)
    bool done;    // first_response_time: answered; tickets_resolved: counted as opened in the range
  };
  std::vector<Ticket> tickets_seen, resolved_seen;
  struct Message {
    uint32_t role;
    GroupKey key;
    Micros time;
    bool operator<(const Message& o) const { return std::tie(role, key, time) < std::tie(o.role, o.key, o.time); }
  };
  std::vector<Message> messages;

  void count(const CompiledMetric& c, size_t slot, Micros t) {
    ++totals[slot];
    if (c.spec.period) ++periods[static_cast<size_t>(period_index(c, t))][slot];
  }
};

MetricKernel::MetricKernel(const CompiledMetric& c) : c_(c), s_(std::make_unique<State>()) {
  s_->by_action.assign(c.spec.actions.size(), 0);
  s_->periods.assign(c.periods, PeriodCounts{});
}
MetricKernel::~MetricKernel() = default;

namespace {

// The value of the key at `slot` (-1: no such key) as a number, when it is one.
bool number_at(const PersonView& p, int slot, size_t i, double& out) {
  if (slot < 0) return false;
  const Cell& c = p.cell(static_cast<size_t>(slot), i);
  if (!c.present || c.type != ValueType::kNumber) return false;
  std::memcpy(&out, &c.bits, sizeof out);
  return true;
}

GroupKey key_at(const PersonView& p, int slot, size_t i) {
  return slot < 0 ? GroupKey{-1, 0} : group_key(p.cell(static_cast<size_t>(slot), i));
}

}  // namespace

void MetricKernel::add(const PersonView& p) {
  if (c_.traits.active() && !c_.traits.pass(*c_.catalog, p.person)) return;
  State& s = *s_;
  const MetricSpec& spec = c_.spec;
  const Micros from = spec.from, to = spec.to;
  auto defs = [&](Role r) -> const std::vector<CompiledDef>& { return c_.events[static_cast<size_t>(r)]; };
  auto in_range = [&](size_t i) { return p.time[i] >= from && p.time[i] < to; };
  switch (spec.kind) {
    case MetricKind::kRetentionRate:
    case MetricKind::kChurnRate:
    case MetricKind::kClv:
    case MetricKind::kUpsellConversion:
    case MetricKind::kCrossSellConversion: {
      // A customer from a customer event until a churn event (again a
      // customer at the next customer event); the status at an instant is
      // the one after every earlier event.
      bool customer = false, at_start = false, started = false, became = false, upgraded = false, bought = false;
      for (size_t i = 0; i < p.n && p.time[i] < to; ++i) {
        if (!started && p.time[i] >= from) {
          at_start = customer;
          started = true;
        }
        if (any_def_matches(defs(Role::kCustomer), p, i)) {
          if (!customer && started) became = true;
          customer = true;
        } else if (any_def_matches(defs(Role::kChurn), p, i)) {
          customer = false;
        }
        if (!started) continue;
        if (customer && any_def_matches(defs(Role::kUpsell), p, i)) upgraded = true;
        if (any_def_matches(defs(Role::kOrder), p, i)) {
          double v = 0;
          if (number_at(p, c_.property_key, i, v)) {
            ++s.orders;
            s.revenue += v;
            bought = true;
          } else {
            ++s.orders_without_value;
          }
        }
      }
      if (!started) at_start = customer;
      s.customers_start += at_start;
      s.customers_end += customer;
      s.new_customers += !at_start && became;
      s.retained += at_start && customer;
      s.customers += at_start || became;
      s.converted += (at_start || became) && upgraded;
      s.buyers += bought;
      break;
    }
    case MetricKind::kNps:
    case MetricKind::kCsat: {
      const bool nps = spec.kind == MetricKind::kNps;
      for (size_t i = 0; i < p.n; ++i) {
        if (!in_range(i) || !any_def_matches(defs(Role::kAnswer), p, i)) continue;
        double v = 0;
        if (!number_at(p, c_.property_key, i, v) || !(v >= (nps ? 0 : 1) && v <= (nps ? 10 : 5)) || v != std::trunc(v))
          s.count(c_, kInvalid, p.time[i]);
        else if (nps ? v >= 9 : v >= spec.satisfied_min)
          s.count(c_, kHigh, p.time[i]);
        else if (nps ? v <= 6 : true)
          s.count(c_, kLow, p.time[i]);
        else
          s.count(c_, kMiddle, p.time[i]);
      }
      break;
    }
    case MetricKind::kCtr:
      for (size_t i = 0; i < p.n; ++i) {
        if (!in_range(i)) continue;
        if (any_def_matches(defs(Role::kImpression), p, i)) s.count(c_, kImpressions, p.time[i]);
        else if (any_def_matches(defs(Role::kClick), p, i)) s.count(c_, kAdClicks, p.time[i]);
      }
      break;
    case MetricKind::kEmailOpenRate:
    case MetricKind::kEmailClickRate:
    case MetricKind::kClickToOpenRate: {
      // Unique: a (person, message) counts once, in the period of its first event.
      s.messages.clear();
      for (size_t i = 0; i < p.n; ++i) {
        if (!in_range(i)) continue;
        const uint32_t role = any_def_matches(defs(Role::kDelivered), p, i) ? 0
                              : any_def_matches(defs(Role::kOpen), p, i)    ? 1
                              : any_def_matches(defs(Role::kClick), p, i)   ? 2
                                                                    : 3;
        if (role == 3) continue;
        if (spec.unique) s.messages.push_back({role, key_at(p, c_.message_key, i), p.time[i]});
        else s.count(c_, role, p.time[i]);
      }
      std::sort(s.messages.begin(), s.messages.end());
      for (size_t m = 0; m < s.messages.size(); ++m)
        if (m == 0 || s.messages[m].role != s.messages[m - 1].role || s.messages[m].key != s.messages[m - 1].key)
          s.count(c_, s.messages[m].role, s.messages[m].time);
      break;
    }
    case MetricKind::kSocialEngagementRate:
      for (size_t i = 0; i < p.n; ++i) {
        if (!in_range(i) || !any_def_matches(defs(Role::kAction), p, i) || c_.action_key < 0) continue;
        const Cell& cell = p.cell(static_cast<size_t>(c_.action_key), i);
        if (!cell.present || cell.type != ValueType::kString) continue;
        for (size_t a = 0; a < c_.action_ids.size(); ++a)
          if (c_.action_ids[a] == cell.bits) ++s.by_action[a];
      }
      break;
    case MetricKind::kTrialSignupRate:
    case MetricKind::kSupportContactRate: {
      const Role role = spec.kind == MetricKind::kTrialSignupRate ? Role::kTrial : Role::kSupport;
      const bool any = spec.events[static_cast<size_t>(Role::kActive)].empty();
      bool did = false, active = false;
      for (size_t i = 0; i < p.n; ++i) {
        if (!in_range(i)) continue;
        did = did || any_def_matches(defs(role), p, i);
        active = active || any || any_def_matches(defs(Role::kActive), p, i);
      }
      s.persons += did;
      s.active += did || active;
      break;
    }
    case MetricKind::kTrialToPaidRate: {
      size_t start = p.n;
      for (size_t i = 0; i < p.n && start == p.n; ++i)
        if (in_range(i) && any_def_matches(defs(Role::kTrial), p, i)) start = i;
      if (start == p.n) break;
      ++s.persons;
      for (size_t i = start + 1; i < p.n && p.time[i] - p.time[start] <= spec.window; ++i)
        if (any_def_matches(defs(Role::kPaid), p, i)) {
          ++s.converted;
          s.durations.push_back(p.time[i] - p.time[start]);
          break;
        }
      break;
    }
    case MetricKind::kFirstResponseTime: {
      // Tickets opened in the range; a ticket's first reply at or after its opening.
      s.tickets_seen.clear();
      for (size_t i = 0; i < p.n; ++i) {
        const bool opened = in_range(i) && any_def_matches(defs(Role::kTicketOpen), p, i);
        if (!opened && !any_def_matches(defs(Role::kTicketReply), p, i)) continue;
        const GroupKey key = key_at(p, c_.ticket_key, i);
        auto it = std::find_if(s.tickets_seen.begin(), s.tickets_seen.end(), [&](const State::Ticket& t) { return t.key == key; });
        if (opened) {
          if (key.first < 0) ++s.without_ticket_id;
          else if (it == s.tickets_seen.end()) s.tickets_seen.push_back({key, p.time[i], false});
        } else if (key.first >= 0 && it != s.tickets_seen.end() && !it->done) {
          it->done = true;
          ++s.answered;
          s.durations.push_back(p.time[i] - it->time);
        }
      }
      s.tickets += s.tickets_seen.size();
      break;
    }
    case MetricKind::kTicketsResolved: {
      // Tickets resolved in the range, once each; the time from the ticket's
      // first opening, at any time before.
      s.tickets_seen.clear();
      s.resolved_seen.clear();
      for (size_t i = 0; i < p.n && p.time[i] < to; ++i) {
        const bool resolved = in_range(i) && any_def_matches(defs(Role::kTicketResolved), p, i);
        if (!resolved && !any_def_matches(defs(Role::kTicketOpen), p, i)) continue;
        const GroupKey key = key_at(p, c_.ticket_key, i);
        auto find = [&](std::vector<State::Ticket>& v) {
          return std::find_if(v.begin(), v.end(), [&](const State::Ticket& t) { return t.key == key; });
        };
        if (key.first < 0) {
          s.without_ticket_id += resolved;
        } else if (!resolved) {
          // A ticket counts as opened in the range once, at any of its
          // openings inside it (a reopened one too); `done` marks it.
          auto open = find(s.tickets_seen);
          if (open == s.tickets_seen.end()) {
            s.tickets_seen.push_back({key, p.time[i], false});
            open = s.tickets_seen.end() - 1;
          }
          if (p.time[i] >= from && !open->done) {
            open->done = true;
            ++s.tickets;
          }
        } else if (find(s.resolved_seen) == s.resolved_seen.end()) {
          s.resolved_seen.push_back({key, p.time[i], true});
          auto open = find(s.tickets_seen);
          if (open == s.tickets_seen.end()) ++s.without_open;
          else s.durations.push_back(p.time[i] - open->time);
        }
      }
      s.answered += s.resolved_seen.size();
      break;
    }
  }
}

void MetricKernel::merge(Kernel& other) {
  State& o = *static_cast<MetricKernel&>(other).s_;
  State& s = *s_;
  for (auto [a, b] : std::initializer_list<std::pair<uint64_t*, uint64_t>>{
           {&s.customers_start, o.customers_start}, {&s.customers_end, o.customers_end},
           {&s.new_customers, o.new_customers}, {&s.retained, o.retained}, {&s.customers, o.customers},
           {&s.converted, o.converted}, {&s.orders, o.orders}, {&s.buyers, o.buyers},
           {&s.orders_without_value, o.orders_without_value}, {&s.persons, o.persons}, {&s.active, o.active},
           {&s.tickets, o.tickets}, {&s.answered, o.answered}, {&s.without_ticket_id, o.without_ticket_id},
           {&s.without_open, o.without_open}})
    *a += b;
  s.revenue += o.revenue;
  for (size_t a = 0; a < s.by_action.size(); ++a) s.by_action[a] += o.by_action[a];
  for (size_t k = 0; k < 4; ++k) s.totals[k] += o.totals[k];
  for (size_t p = 0; p < s.periods.size(); ++p)
    for (size_t k = 0; k < 4; ++k) s.periods[p][k] += o.periods[p][k];
  s.durations.insert(s.durations.end(), o.durations.begin(), o.durations.end());
}

namespace {


constexpr double kYear = 365.0 * static_cast<double>(kMicrosPerDay);

double to_real(uint64_t v) { return static_cast<double>(v); }

// The value and parts of a KPI that has periods, from its counts.
void counts_json(const MetricSpec& spec, const PeriodCounts& c, json& out) {
  switch (spec.kind) {
    case MetricKind::kNps: {
      const uint64_t n = c[kHigh] + c[kMiddle] + c[kLow];
      out["value"] = ratio(100.0 * (to_real(c[kHigh]) - to_real(c[kLow])), to_real(n));
      out["promoters"] = c[kHigh];
      out["passives"] = c[kMiddle];
      out["detractors"] = c[kLow];
      out["responses"] = n;
      out["invalid"] = c[kInvalid];
      break;
    }
    case MetricKind::kCsat:
      out["value"] = ratio(to_real(c[kHigh]), to_real(c[kHigh] + c[kLow]));
      out["satisfied"] = c[kHigh];
      out["responses"] = c[kHigh] + c[kLow];
      out["invalid"] = c[kInvalid];
      break;
    case MetricKind::kCtr:
      out["value"] = ratio(to_real(c[kAdClicks]), to_real(c[kImpressions]));
      out["clicks"] = c[kAdClicks];
      out["impressions"] = c[kImpressions];
      break;
    default: {  // the email rates
      const double delivered = to_real(c[kDelivered]), opens = to_real(c[kOpens]), clicks = to_real(c[kClicks]);
      out["value"] = spec.kind == MetricKind::kEmailOpenRate    ? ratio(opens, delivered)
                     : spec.kind == MetricKind::kEmailClickRate ? ratio(clicks, delivered)
                                                                : ratio(clicks, opens);
      out["delivered"] = c[kDelivered];
      out["opens"] = c[kOpens];
      out["clicks"] = c[kClicks];
      out["unique"] = spec.unique;
      break;
    }
  }
}

}  // namespace

json MetricKernel::result() const {
  const State& s = *s_;
  const MetricSpec& spec = c_.spec;
  json out = {{"type", "metric"}, {"metric", spec.name}};
  switch (spec.kind) {
    case MetricKind::kRetentionRate:
      // (E - N) / S can be below retained / S: new customers who churned inside the range.
      out["value"] = ratio(static_cast<double>(s.customers_end) - static_cast<double>(s.new_customers),
                           static_cast<double>(s.customers_start));
      out["customers_start"] = s.customers_start;
      out["customers_end"] = s.customers_end;
      out["new_customers"] = s.new_customers;
      out["retained"] = s.retained;
      out["retained_rate"] = ratio(static_cast<double>(s.retained), static_cast<double>(s.customers_start));
      break;
    case MetricKind::kChurnRate:
      out["value"] = ratio(static_cast<double>(s.customers_start - s.retained), static_cast<double>(s.customers_start));
      out["customers_start"] = s.customers_start;
      out["lost"] = s.customers_start - s.retained;
      out["retained"] = s.retained;
      out["customers_end"] = s.customers_end;
      out["new_customers"] = s.new_customers;
      break;
    case MetricKind::kClv: {
      const double years = static_cast<double>(spec.to - spec.from) / kYear;
      const json aov = ratio(s.revenue, static_cast<double>(s.orders));
      const json frequency = ratio(static_cast<double>(s.orders), static_cast<double>(s.buyers) * years);
      const json churn = ratio(static_cast<double>(s.customers_start - s.retained), static_cast<double>(s.customers_start));
      const json annual_churn = churn.is_null() ? json(nullptr) : json(churn.get<double>() / years);
      const json lifespan = spec.lifespan_years ? json(*spec.lifespan_years)
                            : annual_churn.is_null() ? json(nullptr)
                                                     : ratio(1, annual_churn.get<double>());
      out["value"] = aov.is_null() || frequency.is_null() || lifespan.is_null()
                         ? json(nullptr)
                         : json(aov.get<double>() * frequency.get<double>() * lifespan.get<double>());
      out["average_order_value"] = aov;
      out["purchase_frequency"] = frequency;
      out["lifespan_years"] = lifespan;
      out["lifespan_from"] = spec.lifespan_years ? "lifespan_years" : "churn_rate";
      out["revenue"] = s.revenue;
      out["orders"] = s.orders;
      out["orders_without_value"] = s.orders_without_value;
      out["buyers"] = s.buyers;
      out["years"] = years;
      out["churn_rate"] = churn;
      out["annual_churn_rate"] = annual_churn;
      out["customers_start"] = s.customers_start;
      out["lost"] = s.customers_start - s.retained;
      break;
    }
    case MetricKind::kNps:
    case MetricKind::kCsat:
    case MetricKind::kCtr:
    case MetricKind::kEmailOpenRate:
    case MetricKind::kEmailClickRate:
    case MetricKind::kClickToOpenRate:
      counts_json(spec, s.totals, out);
      if (spec.period) {
        json rows = json::array();
        for (size_t k = 0; k < s.periods.size(); ++k) {
          json row = {{"period", day_label(period_of_ordinal(c_.first_period + static_cast<int64_t>(k), *spec.period))}};
          counts_json(spec, s.periods[k], row);
          rows.push_back(std::move(row));
        }
        out["period"] = period_name(*spec.period);
        out["periods"] = std::move(rows);
      }
      break;
    case MetricKind::kSocialEngagementRate: {
      uint64_t total = 0;
      json by = json::object();
      for (size_t a = 0; a < spec.actions.size(); ++a) {
        total += s.by_action[a];
        by[spec.actions[a]] = s.by_action[a];
      }
      out["value"] = ratio(static_cast<double>(total), spec.followers);
      out["engagements"] = total;
      out["by_action"] = by;
      out["followers"] = spec.followers;
      break;
    }
    case MetricKind::kTrialSignupRate:
    case MetricKind::kSupportContactRate:
      out["value"] = ratio(static_cast<double>(s.persons), static_cast<double>(s.active));
      out[spec.kind == MetricKind::kTrialSignupRate ? "trial_starters" : "contacts"] = s.persons;
      out["active_persons"] = s.active;
      break;
    case MetricKind::kTrialToPaidRate:
      out["value"] = ratio(static_cast<double>(s.converted), static_cast<double>(s.persons));
      out["trial_starters"] = s.persons;
      out["converted"] = s.converted;
      out["window"] = static_cast<double>(spec.window) / static_cast<double>(kMicrosPerSecond);
      out["time_to_paid"] = time_stats(s.durations);
      break;
    case MetricKind::kUpsellConversion:
    case MetricKind::kCrossSellConversion:
      out["value"] = ratio(static_cast<double>(s.converted), static_cast<double>(s.customers));
      out["customers"] = s.customers;
      out["converted"] = s.converted;
      break;
    case MetricKind::kFirstResponseTime: {
      json times = time_stats(s.durations);
      out["value"] = times["median"];
      out["tickets"] = s.tickets;
      out["responded"] = s.answered;
      out["unanswered"] = s.tickets - s.answered;
      out["without_ticket_id"] = s.without_ticket_id;
      out["response_time"] = std::move(times);
      break;
    }
    case MetricKind::kTicketsResolved:
      out["value"] = s.answered;
      out["resolved"] = s.answered;
      out["opened"] = s.tickets;
      out["without_open"] = s.without_open;
      out["without_ticket_id"] = s.without_ticket_id;
      out["resolution_time"] = time_stats(s.durations);
      break;
  }
  return out;
}

Result<json> run_metric(const Store& store, const MetricSpec& spec, unsigned threads) {
  auto compiled = compile_metric(spec, store.catalog());
  if (!compiled) return compiled.status();
  CAIRN_RETURN_IF_ERROR(load_traits_if_read(store.catalog(), compiled->traits, nullptr));
  return scan_result<MetricKernel>(store, *compiled, threads);
}

}  // namespace cairn::query
