// The KPI library of "type": "metric" (docs/QUERY.md, "Metrics (KPIs)"):
// customer retention and churn, CLV, NPS and CSAT, CTR and email rates,
// social engagement, trial, upsell and cross-sell conversion, and support.
// Each KPI reads a few event definitions (parameters with defaults that
// match the simulator) and folds persons into counters, sums and durations,
// so its state does not grow with the data except for the durations that
// the time statistics need. The journey KPIs live in query/metric_journey.h.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "query/common.h"
#include "query/period.h"
#include "query/scan.h"
#include "query/spec.h"
#include "storage/catalog.h"

namespace cairn::query {

enum class MetricKind {
  kRetentionRate, kChurnRate, kClv, kNps, kCsat, kCtr, kEmailOpenRate, kEmailClickRate, kClickToOpenRate,
  kSocialEngagementRate, kTrialSignupRate, kTrialToPaidRate, kUpsellConversion, kCrossSellConversion,
  kSupportContactRate, kFirstResponseTime, kTicketsResolved
};

// The events a KPI reads, by their role.
enum class Role {
  kCustomer, kChurn, kOrder, kAnswer, kImpression, kClick, kDelivered, kOpen, kAction, kTrial, kPaid, kActive,
  kUpsell, kSupport, kTicketOpen, kTicketReply, kTicketResolved, kCount
};
constexpr size_t kRoles = static_cast<size_t>(Role::kCount);

// An event parameter: one event definition or any of several; empty: any event.
using EventSet = std::vector<EventDef>;

struct MetricSpec {
  MetricKind kind = MetricKind::kNps;
  std::string name;
  Micros from = INT64_MIN, to = INT64_MAX;
  std::vector<Filter> trait_filters;
  std::array<EventSet, kRoles> events;  // by Role; the KPI's roles only
  std::string property;                // nps, csat: the answer; clv: the order value
  std::string message_property = "email_id";
  std::string ticket_property = "ticket_id";
  std::string action_property = "action";
  std::vector<std::string> actions = {"like", "comment", "share"};
  bool unique = true;                  // email rates: once per (person, message)
  double satisfied_min = 4;            // csat
  double followers = 0;                // social engagement rate
  std::optional<double> lifespan_years;  // clv
  Micros window = 30 * kMicrosPerDay;  // trial_to_paid_rate
  std::optional<Period> period;        // nps, csat, ctr, email rates: the value per period too
  std::shared_ptr<const TimeZone> timezone = utc_zone();
};

// The counts of the KPIs that can give a value per period (nps, csat, ctr,
// email rates); their meaning depends on the KPI.
using PeriodCounts = std::array<uint64_t, 4>;

// The KPI names this module answers, in the order the docs list them.
const std::vector<std::string_view>& metric_names();
// Parses {"type": "metric", "metric": NAME, ...}; every error names its field.
Result<MetricSpec> parse_metric(const nlohmann::json& doc);

struct CompiledMetric {
  MetricSpec spec;
  std::array<std::vector<CompiledDef>, kRoles> events;  // by Role
  int property_key = -1, message_key = -1, ticket_key = -1, action_key = -1;  // indexes into plan.keys
  std::vector<uint64_t> action_ids;  // catalog string ids of spec.actions (kMissing: not in the database)
  TraitFilters traits;
  int64_t first_period = 0;  // the ordinal of the period that holds range.from
  size_t periods = 0;        // from it to the one that holds the range's last instant
  const Catalog* catalog = nullptr;
  ScanPlan plan;
};

Result<CompiledMetric> compile_metric(const MetricSpec& spec, const Catalog& catalog);

class MetricKernel final : public Kernel {
 public:
  explicit MetricKernel(const CompiledMetric& c);
  ~MetricKernel() override;
  void add(const PersonView& p) override;
  void merge(Kernel& other) override;
  nlohmann::json result() const;

 private:
  struct State;
  const CompiledMetric& c_;
  std::unique_ptr<State> s_;
};

// Plans, scans and returns the answer JSON.
Result<nlohmann::json> run_metric(const Store& store, const MetricSpec& spec, unsigned threads);

}  // namespace cairn::query
