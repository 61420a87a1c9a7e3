// "type": "metric": reads "metric" and hands the document to the module that
// answers that KPI (query/metric.h or the journey KPIs of
// query/metric_journey.h); prints the value and the parts it came from.
#include <cstdio>
#include <string>

#include <fmt/format.h>

#include "cli/reports.h"
#include "query/metric.h"
#include "query/metric_journey.h"
#include "query/spec.h"

namespace cairn::cli {

namespace {

using nlohmann::json;

// The journey KPIs, named in the message for an unknown metric.
constexpr const char* kJourneyMetrics =
    "\"conversion_rate\", \"conversion_by_entry_point\", \"checkout_abandonment\", \"time_to_convert\", "
    "\"pages_before_conversion\", \"ab_test\", \"objection_report\", \"communication_report\"";

std::string text_of(const json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char ch : s) out += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return out + "\"";
}

// Every part as (dotted name, value), nested objects flattened, arrays as JSON.
void flatten(const json& j, const std::string& prefix, std::vector<std::pair<std::string, std::string>>& out) {
  for (const auto& [key, value] : j.items()) {
    const std::string name = prefix.empty() ? key : prefix + "." + key;
    if (value.is_object()) flatten(value, name, out);
    else out.emplace_back(name, text_of(value));
  }
}

void print_metric(const json& r, const std::string& format) {
  const std::string name = r.contains("metric") ? text_of(r["metric"]) : "metric";
  std::vector<std::pair<std::string, std::string>> parts;
  json rest = r;
  for (const char* k : {"type", "metric", "value"}) rest.erase(k);
  flatten(rest, "", parts);
  const std::string value = r.contains("value") ? text_of(r["value"]) : "";
  if (format == "csv") {
    std::printf("metric,part,value\n%s,value,%s\n", csv_field(name).c_str(), csv_field(value).c_str());
    for (const auto& [k, v] : parts) std::printf("%s,%s,%s\n", csv_field(name).c_str(), csv_field(k).c_str(), csv_field(v).c_str());
    return;
  }
  std::printf("%-32s %s\n", name.c_str(), value.empty() ? "(none)" : value.c_str());
  for (const auto& [k, v] : parts) std::printf("  %-30s %s\n", k.c_str(), v.c_str());
}

}  // namespace

Result<Report> prepare_metric(const json& doc) {
  if (!doc.is_object()) return query::field_error("query", "expected a JSON object");
  if (doc.contains("metric") && doc["metric"].is_string() && query::is_journey_metric(doc["metric"].get<std::string>())) {
    auto run = query::prepare_journey_metric(doc);
    if (!run) return run.status();
    return Report{std::move(*run), print_metric};
  }
  auto spec = query::parse_metric(doc);
  if (!spec) {
    // The journey KPIs are known too.
    if (doc.contains("metric") && doc["metric"].is_string() && spec.status().message().rfind("metric: unknown metric", 0) == 0) {
      std::string known;
      for (std::string_view n : query::metric_names()) known += fmt::format("\"{}\", ", n);
      return query::field_error("metric", fmt::format("unknown metric \"{}\" (known: {}{})", doc["metric"].get<std::string>(),
                                                      known, kJourneyMetrics));
    }
    return spec.status();
  }
  return Report{[s = std::move(*spec)](const Store& store, unsigned threads) { return query::run_metric(store, s, threads); },
                print_metric};
}

}  // namespace cairn::cli
