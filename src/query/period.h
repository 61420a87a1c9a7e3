// Period buckets (day, ISO week from Monday, month) in a report's time zone.
// A period is named by the day number (days since 1970-01-01) of its first
// local day; its ordinal counts periods, so that "k periods later" is a
// subtraction for days, weeks and months alike.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "core/time.h"
#include "core/tz.h"

namespace cairn::query {

enum class Period { kDay, kWeek, kMonth };

// "day" | "week" | "month"; `path` names the field in errors.
Result<Period> parse_period(const nlohmann::json& j, const std::string& path);
const char* period_name(Period p);

// The local day number of an instant: its local date, with the offset in
// effect at that instant (so DST moves day boundaries by an hour).
inline int64_t local_day(Micros t, const TimeZone& tz) { return day_of(t + tz.offset_at(t)); }

// The first day of the period that holds local day `day`.
int64_t period_start_day(int64_t day, Period p);
inline int64_t period_start(Micros t, const TimeZone& tz, Period p) { return period_start_day(local_day(t, tz), p); }

// Consecutive periods have consecutive ordinals (days: the day number; weeks:
// the Monday's day number / 7; months: year * 12 + month - 1).
int64_t period_ordinal(int64_t start_day, Period p);
// The first day of the period with this ordinal.
int64_t period_of_ordinal(int64_t ordinal, Period p);

// "2026-01-05".
std::string day_label(int64_t day);

}  // namespace cairn::query
