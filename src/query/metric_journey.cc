// Placeholder of the journey KPIs on this branch: the module that answers
// them replaces this file when the branches merge. Until then each of its
// names is known but answered with an error, never a made-up number.
#include "query/metric_journey.h"

#include <array>
#include <string>

#include <fmt/format.h>

#include "query/spec.h"

namespace cairn::query {

namespace {
constexpr std::array<std::string_view, 8> kJourneyMetrics = {
    "conversion_rate",  "conversion_by_entry_point", "checkout_abandonment", "time_to_convert",
    "pages_before_conversion", "ab_test",             "objection_report",     "communication_report"};
}  // namespace

bool is_journey_metric(std::string_view name) {
  for (std::string_view m : kJourneyMetrics)
    if (m == name) return true;
  return false;
}

Result<std::function<Result<nlohmann::json>(const Store&, unsigned threads)>> prepare_journey_metric(const nlohmann::json& doc) {
  const std::string name = doc.is_object() && doc.contains("metric") && doc["metric"].is_string() ? doc["metric"].get<std::string>() : "";
  return Status::invalid_argument(fmt::format("metric {}: not in this build", name));
}

}  // namespace cairn::query
