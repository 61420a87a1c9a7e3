// "type": "metric": reads "metric" and hands the document to the module that
// answers that KPI (query/metric.h or the journey KPIs of
// query/metric_journey.h); prints the value and the parts it came from.
#include <cstdio>
#include <string>

#include <fmt/format.h>

#include "cli/output.h"
#include "cli/reports.h"
#include "query/metric.h"
#include "query/metric_journey.h"
#include "query/spec.h"

namespace cairn::cli {

namespace {

using nlohmann::json;

// A value as text: numbers and booleans as JSON writes them, null as nothing.
std::string text_of(const json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

// A value as a CSV field: strings quoted.
std::string csv_value(const json& v) { return v.is_string() ? csv_field(v.get<std::string>()) : text_of(v); }

// Every part as (dotted name, value), nested objects flattened, the rows of
// "periods" named by their period ("periods.2026-03-01.value").
void flatten(const json& j, const std::string& prefix, std::vector<std::pair<std::string, json>>& out) {
  for (const auto& [key, value] : j.items()) {
    const std::string name = prefix.empty() ? key : prefix + "." + key;
    if (value.is_object()) {
      flatten(value, name, out);
    } else if (key == "periods" && value.is_array()) {
      for (json row : value) {
        const std::string period = text_of(row["period"]);
        row.erase("period");
        flatten(row, name + "." + period, out);
      }
    } else {
      out.emplace_back(name, value);
    }
  }
}

// Metric and part names are identifiers: they need no quoting.
void print_metric(const json& r, const std::string& format) {
  const std::string name = r.contains("metric") ? text_of(r["metric"]) : "metric";
  std::vector<std::pair<std::string, json>> parts;
  json rest = r;
  for (const char* k : {"type", "metric", "value"}) rest.erase(k);
  flatten(rest, "", parts);
  const json value = r.contains("value") ? r["value"] : json(nullptr);
  if (format == "csv") {
    std::printf("metric,part,value\n%s,value,%s\n", name.c_str(), csv_value(value).c_str());
    for (const auto& [k, v] : parts) std::printf("%s,%s,%s\n", name.c_str(), k.c_str(), csv_value(v).c_str());
    return;
  }
  std::printf("%-32s %s\n", name.c_str(), value.is_null() ? "(none)" : text_of(value).c_str());
  for (const auto& [k, v] : parts) std::printf("  %-30s %s\n", k.c_str(), text_of(v).c_str());
}

// Every metric name, quoted, for the messages of a missing or unknown one.
std::string all_metric_names() {
  std::string known;
  for (std::string_view n : query::metric_names()) known += fmt::format("\"{}\", ", n);
  for (std::string_view n : query::journey_metric_names()) known += fmt::format("\"{}\", ", n);
  known.resize(known.size() - 2);
  return known;
}

}  // namespace

Result<Report> prepare_metric(const json& doc) {
  if (!doc.is_object()) return query::field_error("query", "expected a JSON object");
  if (!doc.contains("metric") || !doc["metric"].is_string())
    return query::field_error("metric", "is missing: one of " + all_metric_names());
  if (doc.contains("metric") && doc["metric"].is_string() && query::is_journey_metric(doc["metric"].get<std::string>())) {
    auto run = query::prepare_journey_metric(doc);
    if (!run) return run.status();
    return Report{std::move(*run), print_journey_metric};
  }
  auto spec = query::parse_metric(doc);
  if (!spec) {
    // The journey KPIs are known too.
    if (doc.contains("metric") && doc["metric"].is_string() && spec.status().message().rfind("metric: unknown metric", 0) == 0) {
      return query::field_error("metric", fmt::format("unknown metric \"{}\" (known: {})", doc["metric"].get<std::string>(),
                                                      all_metric_names()));
    }
    return spec.status();
  }
  return Report{[s = std::move(*spec)](const Store& store, unsigned threads) { return query::run_metric(store, s, threads); },
                print_metric};
}

}  // namespace cairn::cli
