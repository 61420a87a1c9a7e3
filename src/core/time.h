// Time values: int64 microseconds since the Unix epoch, UTC.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cairn {

using Micros = int64_t;
constexpr Micros kMicrosPerSecond = 1'000'000;
constexpr Micros kMicrosPerDay = 86'400 * kMicrosPerSecond;

// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's algorithm).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);

struct Civil {
  int64_t y;
  unsigned m, d;
};
// The date of a day number (the inverse of days_from_civil).
Civil civil_from_days(int64_t days);

// Proleptic Gregorian leap years, like the day numbers above.
bool is_leap_year(int64_t y);
// Days in month m (1..12) of year y.
unsigned days_in_month(int64_t y, unsigned m);

// The day number of an instant (rounding down, also before 1970).
inline int64_t day_of(Micros t) { return t >= 0 ? t / kMicrosPerDay : -((-t + kMicrosPerDay - 1) / kMicrosPerDay); }

// The end and the start of a window of length d after / before t, clamped
// to the representable times; d < 0 stands for no bound.
inline Micros window_end(Micros t, Micros d) { return d < 0 || t > INT64_MAX - d ? INT64_MAX : t + d; }
inline Micros window_start(Micros t, Micros d) { return d < 0 || t < INT64_MIN + d ? INT64_MIN : t - d; }

// Parses ISO-8601 ("2026-01-05", "2026-01-05T10:00:00Z",
// "2026-01-05 10:00:00.25+02:00"; no zone means UTC) or a unix time given as
// digits: seconds below 1e11, milliseconds below 1e14, microseconds above.
// Returns nothing when the text is not a valid time (month 13, Feb 30, ...).
std::optional<Micros> parse_time(std::string_view text);
// The same, into out; false when the text is not a valid time. For the
// parsers' hot path (GCC returns the optional above through memory in a way
// that stalls the load of its result).
bool parse_time(std::string_view text, Micros& out);

// A unix time given as a JSON number, with the same unit rule as parse_time.
std::optional<Micros> time_from_unix_number(double value);

// "2026-01-05T10:00:00Z", with ".123" or ".123456" only when there are fractions.
std::string format_time(Micros t);

// The greatest common divisor of every time[i] − min_time (1 when all are
// 0): the unit a block's times are counted in. Most of a block's offsets
// are multiples of the divisor found so far, which a division checks
// (constant for milliseconds and seconds) before a gcd is computed.
uint64_t time_unit(const Micros* time, size_t rows, Micros min_time);

}  // namespace cairn
