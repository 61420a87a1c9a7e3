// Retention and cohorts (docs/QUERY.md, "Retention" and "Cohorts"): persons
// grouped into cohorts by the period of their start event, and what each
// cohort did in the periods after it. One spec and one kernel serve both
// report types: retention counts the persons who returned in period k
// (bracketed) or in k or later (unbounded); cohorts reports any measure per
// cohort and period (events, sums of a property, active share, conversion).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "query/common.h"
#include "query/period.h"
#include "query/scan.h"
#include "query/spec.h"

namespace cairn::query {

enum class CohortKind { kRetention, kCohorts };

// One measure per cohort and period of a "cohorts" report.
struct CohortMeasure {
  enum Kind { kActive, kConversion, kCount, kSum, kAvg };
  std::string name;
  Kind kind = kActive;
  std::vector<EventDef> events;  // empty: any event
  std::string property;          // kSum, kAvg
  bool cumulative = false;       // kCount, kSum: running totals over periods 0..k
};

struct CohortSpec {
  CohortKind kind = CohortKind::kRetention;
  Micros from = INT64_MIN, to = INT64_MAX;  // half-open range of the start events
  std::shared_ptr<const TimeZone> timezone = utc_zone();
  std::vector<EventDef> start;  // empty: the person's first event
  bool recurring = false;       // every period with a start event is a cohort of the person
  std::vector<EventDef> ret;    // retention: the return event (empty: any event)
  Period period = Period::kWeek;
  size_t periods = 12;
  bool unbounded = false;
  std::vector<Filter> event_filters;
  std::vector<Filter> trait_filters;
  std::optional<Breakdown> breakdown;  // a property of the start event or a trait
  // Breakdown by a behaviour: persons who did it within `behaviour_within` of
  // their start (-1: in their start period) against those who did not.
  std::vector<EventDef> behaviour;
  Micros behaviour_within = -1;
  std::vector<CohortMeasure> measures;  // cohorts
};

// Parses {"type": "retention" | "cohorts", ...}.
Result<CohortSpec> parse_cohorts(const nlohmann::json& doc);

// The spec resolved against a catalog, with its scan plan.
struct CompiledCohorts;
Result<std::shared_ptr<CompiledCohorts>> compile_cohorts(const CohortSpec& spec, const Catalog& catalog);
ScanPlan& cohort_plan(CompiledCohorts& c);
std::unique_ptr<Kernel> make_cohort_kernel(const CompiledCohorts& c);
// The answer from the merged kernel. `data_end` is the time of the
// database's last event: periods that begin after it have not been observed
// yet, and their shares are null.
nlohmann::json cohort_result(const Kernel& merged, Micros data_end);

// Plans, scans and returns the answer JSON.
Result<nlohmann::json> run_cohorts(const Store& store, const CohortSpec& spec, unsigned threads);

}  // namespace cairn::query
