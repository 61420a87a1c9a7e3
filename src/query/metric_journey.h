// The journey KPIs of "type": "metric" (conversion_rate,
// conversion_by_entry_point, checkout_abandonment, time_to_convert,
// pages_before_conversion, ab_test, objection_report, communication_report).
#pragma once

#include <functional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "storage/store.h"

namespace cairn::query {
// True for the metric names this module answers.
bool is_journey_metric(std::string_view name);
// Parses the whole metric document (errors name the field, invalid-argument) into a runner.
Result<std::function<Result<nlohmann::json>(const Store&, unsigned threads)>> prepare_journey_metric(const nlohmann::json& doc);
}  // namespace cairn::query
