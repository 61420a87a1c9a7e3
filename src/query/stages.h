// Lifecycle stages (docs/QUERY.md, "Lifecycle stages"): declared stages,
// each entered at a person's first (or n-th, or n-th active period's)
// matching event, counted for the persons who entered the first stage in the
// range; and the activity lifecycle per period (new, returning, resurrecting,
// dormant). The kernel keeps counts per stage and period and the stage-to-
// stage durations (for medians), per entry point value.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "query/common.h"
#include "query/period.h"
#include "query/scan.h"
#include "query/spec.h"
#include "storage/catalog.h"

namespace cairn::query {

constexpr size_t kMaxStages = 20;

struct StageDef {
  std::string name;
  std::vector<EventDef> any_of;  // one event definition, or several (any of them)
  uint32_t nth = 1;              // entered at the n-th matching event
  uint32_t active_periods = 0;   // > 0: entered at the first matching event of the n-th period with one
  Period period = Period::kWeek;
};

struct ActivityDef {
  Period period = Period::kWeek;
  std::vector<EventDef> any_of;  // empty: every event (that passes the filters) is activity
};

struct StagesSpec {
  Micros from = INT64_MIN, to = INT64_MAX;  // half-open range of the first stage's entry and of the activity periods
  std::shared_ptr<const TimeZone> timezone = utc_zone();
  std::vector<Filter> event_filters;
  std::vector<Filter> trait_filters;
  std::string preset;             // "" when the stages are declared
  std::vector<StageDef> stages;   // may be empty when activity is asked
  std::string entry_point;        // "" : no entry point groups
  size_t entry_point_limit = 10;
  bool activity = false;
  ActivityDef activity_def;
};

// Parses {"type": "stages", ...}.
Result<StagesSpec> parse_stages(const nlohmann::json& doc);

struct CompiledStage {
  std::vector<CompiledDef> any_of;
  uint32_t nth = 1;
  uint32_t active_periods = 0;
  Period period = Period::kWeek;
};

struct CompiledStages {
  StagesSpec spec;
  std::vector<CompiledStage> stages;
  std::vector<CompiledDef> activity;           // empty: every event
  std::vector<CompiledFilter> event_filters;   // key: index into plan.keys
  bool events_never = false;
  TraitFilters traits;
  int entry_key = -1;  // index into plan.keys; -1 without entry point, or when no event has the property
  int64_t first_period = INT64_MIN, last_period = INT64_MAX;  // activity period ordinals the range covers
  const Catalog* catalog = nullptr;
  ScanPlan plan;
};

Result<CompiledStages> compile_stages(const StagesSpec& spec, const Catalog& catalog);

class StagesKernel final : public Kernel {
 public:
  explicit StagesKernel(const CompiledStages& c);
  ~StagesKernel() override;
  void add(const PersonView& p) override;
  void merge(Kernel& other) override;
  nlohmann::json result() const;

 private:
  struct State;
  const CompiledStages& c_;
  std::unique_ptr<State> s_;
};

// Plans, scans and returns the answer JSON.
Result<nlohmann::json> run_stages(const Store& store, const StagesSpec& spec, unsigned threads);

}  // namespace cairn::query
