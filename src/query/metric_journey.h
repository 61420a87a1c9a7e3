// The journey KPIs of `"type": "metric"` (docs/QUERY.md, "Journey metrics"):
// conversion rate (overall, by a property or trait, by entry point),
// checkout abandonment, time to convert, pages before conversion, A/B test
// comparison, the objection report and the communication report. One
// compiled spec and one kernel serve every metric; the kernel keeps counts
// per group and the per-person figures the statistics need.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "query/common.h"
#include "query/scan.h"
#include "query/spec.h"
#include "storage/store.h"

namespace cairn::query {

// True for the metric names this module answers.
bool is_journey_metric(std::string_view name);
// Those names, in the order of docs/QUERY.md.
std::vector<std::string_view> journey_metric_names();

enum class JourneyMetric {
  kConversionRate, kConversionByEntryPoint, kCheckoutAbandonment, kTimeToConvert,
  kPagesBeforeConversion, kAbTest, kObjectionReport, kCommunicationReport
};

// An event definition, or any event when `any` (optionally only events that
// carry `carrying`, a property name).
struct EventPick {
  bool any = false;
  EventDef def;
  std::string carrying;
};

struct JourneySpec {
  JourneyMetric metric = JourneyMetric::kConversionRate;
  std::string name;
  Micros from = INT64_MIN, to = INT64_MAX;
  EventPick entry;                  // entry, exposure, checkout, page or call events
  EventDef conversion;              // conversion, purchase
  Micros window = 30 * kMicrosPerDay;  // -1: none
  std::optional<Breakdown> by;      // conversion by; A/B variant; objection property (property only)
  std::string control;              // ab_test: the control variant's label ("" : the first)
  std::vector<EventDef> milestones;  // objection_report stages, in order
  std::vector<EventDef> channels;    // communication_report events
  std::string outcome;               // communication_report outcome property
  EventDef opened, replied;          // communication_report response times
  std::string match;                 // the property pairing them
  std::vector<Filter> trait_filters;  // persons who fail them are left out
};

// Parses the whole metric document ({"type": "metric", "metric": NAME, ...}).
Result<JourneySpec> parse_journey(const nlohmann::json& doc);

struct CompiledJourney {
  JourneySpec spec;
  CompiledDef entry, conversion, opened, replied;
  int carrying = -1;  // index into plan.keys; -2: a property nobody has
  std::vector<CompiledDef> milestones, channels;
  int outcome = -1, match = -1;  // index into plan.keys
  GroupBy group;
  TraitFilters traits;
  const Catalog* catalog = nullptr;
  ScanPlan plan;
};

Result<CompiledJourney> compile_journey(const JourneySpec& spec, const Catalog& catalog);

class JourneyKernel final : public Kernel {
 public:
  explicit JourneyKernel(const CompiledJourney& c);
  ~JourneyKernel() override;
  void add(const PersonView& p) override;
  void merge(Kernel& other) override;
  // The answer; an invalid-argument status when `control` names no variant.
  Result<nlohmann::json> result() const;

 private:
  struct State;
  const CompiledJourney& c_;
  std::unique_ptr<State> s_;
};

// Parses the whole metric document (errors name the field, invalid-argument) into a runner.
Result<std::function<Result<nlohmann::json>(const Store&, unsigned threads)>> prepare_journey_metric(
    const nlohmann::json& doc);

}  // namespace cairn::query
