#include "query/spec.h"

#include <charconv>

#include <fmt/format.h>

namespace cairn::query {

using nlohmann::json;

Status field_error(const std::string& path, const std::string& msg) {
  return Status::invalid_argument(fmt::format("{}: {}", path, msg));
}

std::optional<uint64_t> whole_number(const json& v, uint64_t lo, uint64_t hi) {
  uint64_t n = 0;
  if (v.is_number_unsigned()) {
    n = v.get<uint64_t>();
  } else if (v.is_number_integer() && v.get<int64_t>() >= 0) {
    n = static_cast<uint64_t>(v.get<int64_t>());
  } else {
    return std::nullopt;
  }
  if (n < lo || n > hi) return std::nullopt;
  return n;
}

namespace {

Result<Op> parse_op(const std::string& s, const std::string& path) {
  static const std::pair<const char*, Op> kOps[] = {
      {"eq", Op::kEq},   {"neq", Op::kNeq}, {"in", Op::kIn},   {"not_in", Op::kNotIn}, {"contains", Op::kContains},
      {"gt", Op::kGt},   {"gte", Op::kGte}, {"lt", Op::kLt},   {"lte", Op::kLte},      {"exists", Op::kExists},
      {"regex", Op::kRegex}};
  for (const auto& [name, op] : kOps)
    if (s == name) return op;
  return field_error(path, fmt::format("unknown op \"{}\" (expected eq, neq, in, not_in, contains, gt, gte, lt, "
                                       "lte, exists or regex)",
                                       s));
}

}  // namespace

Result<Filter> parse_filter(const json& j, const std::string& path) {
  if (!j.is_object()) return field_error(path, "expected an object like {\"property\": \"plan\", \"op\": \"eq\", \"value\": \"pro\"}");
  Filter f;
  if (!j.contains("property") || !j["property"].is_string() || j["property"].get<std::string>().empty())
    return field_error(path + ".property", "expected a property name");
  f.property = j["property"].get<std::string>();
  if (j.contains("op") && !j["op"].is_string()) return field_error(path + ".op", "expected a string");
  const std::string op = j.value("op", std::string("eq"));
  auto o = parse_op(op, path + ".op");
  if (!o) return o.status();
  f.op = *o;
  if (f.op == Op::kExists) return f;
  if (!j.contains("value")) return field_error(path + ".value", "is missing");
  const json& v = j["value"];
  if (f.op == Op::kIn || f.op == Op::kNotIn) {
    if (!v.is_array() || v.empty()) return field_error(path + ".value", "expected a non-empty array of values");
    for (size_t i = 0; i < v.size(); ++i) {
      if (!v[i].is_string() && !v[i].is_number() && !v[i].is_boolean())
        return field_error(fmt::format("{}.value[{}]", path, i), "expected a string, number or boolean");
      f.values.push_back(v[i]);
    }
    return f;
  }
  if (f.op == Op::kContains || f.op == Op::kRegex) {
    if (!v.is_string()) return field_error(path + ".value", "expected a string");
  } else if (f.op == Op::kGt || f.op == Op::kGte || f.op == Op::kLt || f.op == Op::kLte) {
    if (!v.is_number()) return field_error(path + ".value", "expected a number");
  } else if (!v.is_string() && !v.is_number() && !v.is_boolean()) {
    return field_error(path + ".value", "expected a string, number or boolean");
  }
  f.values.push_back(v);
  return f;
}

json filter_json(const Filter& f) {
  static const char* kNames[] = {"eq", "neq", "in", "not_in", "contains", "gt", "gte", "lt", "lte", "exists", "regex"};
  json j{{"property", f.property}, {"op", kNames[static_cast<int>(f.op)]}};
  if (f.op == Op::kIn || f.op == Op::kNotIn) j["value"] = f.values;
  else if (f.op != Op::kExists) j["value"] = f.values.at(0);
  return j;
}

Result<EventDef> parse_event_def(const json& j, const std::string& path) {
  EventDef d;
  if (!j.contains("event") || !j["event"].is_string() || j["event"].get<std::string>().empty())
    return field_error(path + ".event", "expected an event name");
  d.event = j["event"].get<std::string>();
  if (j.contains("where")) {
    const json& w = j["where"];
    if (!w.is_array()) return field_error(path + ".where", "expected an array of filters");
    for (size_t i = 0; i < w.size(); ++i) {
      auto f = parse_filter(w[i], fmt::format("{}.where[{}]", path, i));
      if (!f) return f.status();
      d.where.push_back(std::move(*f));
    }
  }
  return d;
}

Status parse_event_defs(const json& j, const std::string& path, std::vector<EventDef>& out) {
  if (!j.contains("any_of")) {
    auto d = parse_event_def(j, path);
    if (!d) return d.status();
    out.push_back(std::move(*d));
    return Status::ok();
  }
  const json& a = j["any_of"];
  if (!a.is_array() || a.empty()) return field_error(path + ".any_of", "expected a non-empty array of events");
  for (size_t k = 0; k < a.size(); ++k) {
    auto d = parse_event_def(a[k], fmt::format("{}.any_of[{}]", path, k));
    if (!d) return d.status();
    out.push_back(std::move(*d));
  }
  return Status::ok();
}

namespace {

Result<Micros> parse_range_time(const json& j, const std::string& path) {
  if (!j.is_string()) return field_error(path, "expected a date or time like \"2026-01-01\"");
  auto t = parse_time(j.get<std::string>());
  if (!t) return field_error(path, fmt::format("cannot parse \"{}\" as a date or time", j.get<std::string>()));
  return *t;
}

}  // namespace

std::optional<Micros> parse_duration(std::string_view text) {
  if (text.size() < 2) return std::nullopt;
  const char unit = text.back();
  int64_t n = 0;
  const auto r = std::from_chars(text.data(), text.data() + text.size() - 1, n);
  if (r.ec != std::errc() || r.ptr != text.data() + text.size() - 1 || n < 0) return std::nullopt;
  Micros per;
  switch (unit) {
    case 's': per = kMicrosPerSecond; break;
    case 'm': per = 60 * kMicrosPerSecond; break;
    case 'h': per = 3600 * kMicrosPerSecond; break;
    case 'd': per = kMicrosPerDay; break;
    case 'w': per = 7 * kMicrosPerDay; break;
    default: return std::nullopt;
  }
  if (n > INT64_MAX / per / 2) return std::nullopt;
  return n * per;
}

Status parse_range(const json& doc, Micros& from, Micros& to) {
  if (!doc.contains("range")) return Status::ok();
  const json& r = doc["range"];
  if (!r.is_object()) return field_error("range", "expected {\"from\": ..., \"to\": ...}");
  if (r.contains("from")) {
    auto t = parse_range_time(r["from"], "range.from");
    if (!t) return t.status();
    from = *t;
  }
  if (r.contains("to")) {
    auto t = parse_range_time(r["to"], "range.to");
    if (!t) return t.status();
    to = *t;
  }
  if (from >= to) return field_error("range", "from must be before to");
  return Status::ok();
}

Status parse_timezone(const json& doc, std::shared_ptr<const TimeZone>& tz) {
  if (!doc.contains("timezone")) return Status::ok();
  static constexpr const char* kExpected =
      "expected an IANA name like \"Europe/Berlin\", \"UTC\" or an offset like \"+02:00\"";
  const json& j = doc["timezone"];
  if (!j.is_string()) return field_error("timezone", kExpected);
  const std::string name = j.get<std::string>();
  auto zone = TimeZone::parse(name);
  if (!zone) {
    // A damaged zone file or an unreadable directory is worth its own message;
    // any other failure means the name names no zone.
    const Status::Code code = zone.status().code();
    if (code == Status::Code::kCorruption || code == Status::Code::kIoError)
      return field_error("timezone", zone.status().message());
    const std::string quoted = json(name).dump(-1, ' ', false, json::error_handler_t::replace);
    return field_error("timezone", fmt::format("unknown time zone {} ({})", quoted, kExpected));
  }
  tz = std::make_shared<const TimeZone>(std::move(*zone));
  return Status::ok();
}

Result<Breakdown> parse_breakdown(const json& b) {
  if (!b.is_object()) return field_error("breakdown", "expected {\"property\": NAME} or {\"trait\": NAME}");
  Breakdown bd;
  if (b.contains("property") && b["property"].is_string()) bd.property = b["property"].get<std::string>();
  if (b.contains("trait") && b["trait"].is_string()) bd.trait = b["trait"].get<std::string>();
  if (bd.property.empty() == bd.trait.empty())
    return field_error("breakdown", "expected exactly one of \"property\" (of the entry event) or \"trait\"");
  if (b.contains("limit")) {
    const auto limit = whole_number(b["limit"], 1);
    if (!limit) return field_error("breakdown.limit", "expected a positive whole number");
    bd.limit = static_cast<size_t>(*limit);
  }
  return bd;
}

Status reject_unknown(const json& obj, const std::string& path, std::initializer_list<const char*> known) {
  for (const auto& item : obj.items()) {
    const std::string& key = item.key();
    bool ok = false;
    for (const char* k : known) ok = ok || key == k;
    if (ok) continue;
    std::string list;
    for (const char* k : known) list += fmt::format("{}{}", list.empty() ? "" : ", ", k);
    return field_error(path.empty() ? key : path + "." + key, fmt::format("unknown field (expected one of {})", list));
  }
  return Status::ok();
}

Status parse_filters(const json& doc, std::vector<Filter>& event_filters, std::vector<Filter>& trait_filters) {
  if (!doc.contains("filters")) return Status::ok();
  const json& fs = doc["filters"];
  if (!fs.is_array()) return field_error("filters", "expected an array of filters");
  for (size_t i = 0; i < fs.size(); ++i) {
    const std::string path = fmt::format("filters[{}]", i);
    json f = fs[i];
    const bool trait = f.is_object() && f.contains("trait");
    if (trait) {
      if (!f["trait"].is_string()) return field_error(path + ".trait", "expected a trait name");
      f["property"] = f["trait"];
      f.erase("trait");
    }
    auto parsed = parse_filter(f, path);
    if (!parsed) return parsed.status();
    (trait ? trait_filters : event_filters).push_back(std::move(*parsed));
  }
  return Status::ok();
}

Status parse_metric_filters(const json& doc, std::vector<Filter>& trait_filters) {
  std::vector<Filter> event_filters;
  CAIRN_RETURN_IF_ERROR(parse_filters(doc, event_filters, trait_filters));
  if (event_filters.empty()) return Status::ok();
  size_t i = 0;
  while (!doc["filters"][i].is_object() || !doc["filters"][i].contains("property") || doc["filters"][i].contains("trait")) ++i;
  return field_error(fmt::format("filters[{}]", i),
                     "a metric's filters are trait filters ({\"trait\": ...}); put event property conditions in the "
                     "event's \"where\"");
}

Result<Micros> parse_duration_field(const json& j, const std::string& path) {
  auto d = j.is_string() ? parse_duration(j.get<std::string>()) : std::nullopt;
  if (!d) return field_error(path, "expected a duration like \"7d\" (s, m, h, d or w)");
  return *d;
}

Result<FunnelSpec> parse_funnel(const json& doc) {
  if (!doc.is_object()) return field_error("query", "expected a JSON object");
  if (!doc.contains("type") || !doc["type"].is_string()) return field_error("type", "is missing (e.g. \"funnel\")");
  if (doc["type"] != "funnel") return field_error("type", fmt::format("expected \"funnel\", got {}", doc["type"].dump()));
  FunnelSpec spec;
  CAIRN_RETURN_IF_ERROR(parse_range(doc, spec.from, spec.to));
  if (!doc.contains("steps") || !doc["steps"].is_array() || doc["steps"].size() < 2)
    return field_error("steps", "expected an array of at least two steps");
  const json& steps = doc["steps"];
  if (steps.size() > 32) return field_error("steps", "at most 32 steps");
  for (size_t i = 0; i < steps.size(); ++i) {
    const std::string path = fmt::format("steps[{}]", i);
    const json& s = steps[i];
    if (!s.is_object()) return field_error(path, "expected an object");
    Step step;
    if (s.contains("optional")) {
      if (!s["optional"].is_boolean()) return field_error(path + ".optional", "expected true or false");
      step.optional = s["optional"].get<bool>();
    }
    CAIRN_RETURN_IF_ERROR(parse_event_defs(s, path, step.any_of));
    spec.steps.push_back(std::move(step));
  }
  if (spec.steps.front().optional) return field_error("steps[0].optional", "the first step cannot be optional");
  if (spec.steps.back().optional)
    return field_error(fmt::format("steps[{}].optional", spec.steps.size() - 1), "the last step cannot be optional");
  if (doc.contains("window")) {
    auto d = parse_duration_field(doc["window"], "window");
    if (!d) return d.status();
    spec.window = *d;
  }
  if (doc.contains("breakdown")) {
    auto bd = parse_breakdown(doc["breakdown"]);
    if (!bd) return bd.status();
    spec.breakdown = *bd;
  }
  if (doc.contains("exclusions")) {
    const json& ex = doc["exclusions"];
    if (!ex.is_array()) return field_error("exclusions", "expected an array");
    for (size_t i = 0; i < ex.size(); ++i) {
      const std::string path = fmt::format("exclusions[{}]", i);
      if (!ex[i].is_object()) return field_error(path, "expected an object");
      auto d = parse_event_def(ex[i], path);
      if (!d) return d.status();
      Exclusion e;
      e.event = std::move(*d);
      e.from = 0;
      e.to = spec.steps.size() - 1;
      if (ex[i].contains("between")) {
        const json& b = ex[i]["between"];
        // Not a step number: from past every step, to before them.
        uint64_t from = UINT64_MAX, to = 0;
        if (b.is_array() && b.size() == 2) {
          from = whole_number(b[0], 0, spec.steps.size() - 1).value_or(UINT64_MAX);
          to = whole_number(b[1], 0, spec.steps.size() - 1).value_or(0);
        }
        if (from >= to) return field_error(path + ".between", "expected two step numbers [from, to] with from < to");
        e.from = static_cast<size_t>(from);
        e.to = static_cast<size_t>(to);
      }
      spec.exclusions.push_back(std::move(e));
    }
  }
  if (doc.contains("persons")) {
    const json& p = doc["persons"];
    if (!p.is_object()) return field_error("persons", "expected {\"step\": K, \"status\": \"converted\" or \"dropped\"}");
    PersonsRequest r;
    const auto step = p.contains("step") ? whole_number(p["step"], 0, spec.steps.size() - 1) : std::nullopt;
    if (!step) return field_error("persons.step", fmt::format("expected a step number from 0 to {}", spec.steps.size() - 1));
    r.step = static_cast<size_t>(*step);
    if (p.contains("status") && !p["status"].is_string())
      return field_error("persons.status", "expected \"converted\" or \"dropped\"");
    const std::string status = p.value("status", std::string("converted"));
    if (status != "converted" && status != "dropped")
      return field_error("persons.status", "expected \"converted\" or \"dropped\"");
    r.converted = status == "converted";
    if (!r.converted && r.step == 0) return field_error("persons.step", "nobody drops at step 0 (they never entered)");
    if (p.contains("limit")) {
      const auto limit = whole_number(p["limit"]);
      if (!limit) return field_error("persons.limit", "expected a whole number");
      r.limit = static_cast<size_t>(*limit);
    }
    spec.persons = r;
  }
  CAIRN_RETURN_IF_ERROR(parse_filters(doc, spec.event_filters, spec.trait_filters));
  CAIRN_RETURN_IF_ERROR(parse_timezone(doc, spec.timezone));
  if (doc.contains("trend")) {
    const json& t = doc["trend"];
    if (t != "day" && t != "week" && t != "month") return field_error("trend", "expected \"day\", \"week\" or \"month\"");
    spec.trend = t.get<std::string>();
  }
  if (doc.contains("entry_point")) {
    const json& e = doc["entry_point"];
    if (!e.is_object() || !e.contains("property") || !e["property"].is_string())
      return field_error("entry_point", "expected {\"property\": NAME} (e.g. \"channel\" or \"landing_page\")");
    spec.entry_point = e["property"].get<std::string>();
  }
  if (doc.contains("compare")) {
    const json& c = doc["compare"];
    if (!spec.breakdown) return field_error("compare", "needs a breakdown whose two values it compares");
    if (!c.is_array() || c.size() != 2 || !c[0].is_string() || !c[1].is_string())
      return field_error("compare", "expected two breakdown values, e.g. [\"email\", \"paid_search\"]");
    spec.compare = {c[0].get<std::string>(), c[1].get<std::string>()};
  }
  if (doc.contains("compare_funnel")) {
    json other = doc["compare_funnel"];
    if (!other.is_object()) return field_error("compare_funnel", "expected a funnel query document");
    if (!other.contains("type")) other["type"] = "funnel";
    if (other.contains("compare_funnel")) return field_error("compare_funnel.compare_funnel", "one comparison at a time");
    auto second = parse_funnel(other);
    if (!second) return Status::invalid_argument("compare_funnel." + second.status().message());
    spec.compare_funnel = std::make_shared<FunnelSpec>(std::move(*second));
  }
  if (doc.contains("order")) {
    const json& o = doc["order"];
    if (o == "ordered") spec.order = Order::kOrdered;
    else if (o == "strict") spec.order = Order::kStrict;
    else if (o == "any") spec.order = Order::kAny;
    else return field_error("order", "expected \"ordered\", \"strict\" or \"any\"");
  }
  return spec;
}

}  // namespace cairn::query
