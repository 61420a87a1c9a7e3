#include "query/period.h"

#include <fmt/format.h>

#include "query/spec.h"

namespace cairn::query {

Result<Period> parse_period(const nlohmann::json& j, const std::string& path) {
  if (j == "day") return Period::kDay;
  if (j == "week") return Period::kWeek;
  if (j == "month") return Period::kMonth;
  return field_error(path, "expected \"day\", \"week\" or \"month\"");
}

const char* period_name(Period p) {
  switch (p) {
    case Period::kDay: return "day";
    case Period::kWeek: return "week";
    case Period::kMonth: return "month";
  }
  return "day";
}

namespace {
// Floor division for negative day numbers too.
int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
}  // namespace

int64_t period_start_day(int64_t day, Period p) {
  switch (p) {
    case Period::kDay: return day;
    case Period::kWeek: {
      const int64_t weekday = ((day % 7) + 7 + 3) % 7;  // 1970-01-01 was a Thursday: Monday = 0
      return day - weekday;
    }
    case Period::kMonth: {
      const Civil c = civil_from_days(day);
      return days_from_civil(c.y, c.m, 1);
    }
  }
  return day;
}

int64_t period_ordinal(int64_t start_day, Period p) {
  switch (p) {
    case Period::kDay: return start_day;
    case Period::kWeek: return floor_div(start_day + 3, 7);  // Monday 1969-12-29 is day -3: ordinal 0
    case Period::kMonth: {
      const Civil c = civil_from_days(start_day);
      return c.y * 12 + static_cast<int64_t>(c.m) - 1;
    }
  }
  return start_day;
}

int64_t period_of_ordinal(int64_t ordinal, Period p) {
  switch (p) {
    case Period::kDay: return ordinal;
    case Period::kWeek: return ordinal * 7 - 3;
    case Period::kMonth: {
      const int64_t y = floor_div(ordinal, 12);
      return days_from_civil(y, static_cast<unsigned>(ordinal - y * 12 + 1), 1);
    }
  }
  return ordinal;
}

std::string day_label(int64_t day) {
  const Civil c = civil_from_days(day);
  return fmt::format("{:04d}-{:02d}-{:02d}", c.y, c.m, c.d);
}

}  // namespace cairn::query
