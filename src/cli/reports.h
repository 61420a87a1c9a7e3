// The report types added after funnels, paths and attribution (retention,
// cohorts, stages, trend, metric) plug into `cairn query` through one table:
// each parses its document into a runner and prints its answer as a table or
// CSV. Each type lives in its own cli/report_*.cc file.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "storage/store.h"

namespace cairn::cli {

struct Report {
  // Answers the parsed query over the store on `threads` threads (0: one per core).
  std::function<Result<nlohmann::json>(const Store& store, unsigned threads)> run;
  // Prints the answer for people: format is "table" or "csv".
  std::function<void(const nlohmann::json& answer, const std::string& format)> print;
};

// Parses the whole query document; an invalid one gives an invalid-argument
// status whose message names the field ("periods: expected ...").
using PrepareReport = Result<Report> (*)(const nlohmann::json& doc);

struct ReportType {
  const char* type;
  PrepareReport prepare;
};

// One per type, each defined in its cli/report_*.cc file.
Result<Report> prepare_retention(const nlohmann::json& doc);  // report_cohorts.cc
Result<Report> prepare_cohorts(const nlohmann::json& doc);    // report_cohorts.cc
Result<Report> prepare_stages(const nlohmann::json& doc);     // report_stages.cc
Result<Report> prepare_trend(const nlohmann::json& doc);      // report_trend.cc
Result<Report> prepare_metric(const nlohmann::json& doc);     // report_metric.cc

// Prints a journey metric's answer (query/metric_journey.h): its value and
// parts, then each list of rows as a table; format is "table" or "csv".
void print_journey_metric(const nlohmann::json& answer, const std::string& format);

// Every type of the table, in the order `cairn query` lists them.
inline const std::vector<ReportType> kReportTypes = {
    {"retention", prepare_retention},
    {"cohorts", prepare_cohorts},
    {"stages", prepare_stages},
    {"trend", prepare_trend},
    {"metric", prepare_metric},
};

}  // namespace cairn::cli
