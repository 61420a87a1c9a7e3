#include "core/time.h"

#include <cmath>
#include <cstdio>

namespace cairn {

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

Civil civil_from_days(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2), m, d};
}

bool is_leap_year(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned days_in_month(int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap_year(y) ? 29 : kDays[m - 1];
}

namespace {

// Reads exactly n digits at pos.
bool read_digits(std::string_view s, size_t& pos, size_t n, unsigned& out) {
  if (pos + n > s.size()) return false;
  unsigned v = 0;
  for (size_t i = 0; i < n; ++i) {
    const char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  pos += n;
  out = v;
  return true;
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// Earliest and latest accepted instants: years 1900..2200 keep every later
// computation (deltas, bucketing) far from overflow.
constexpr Micros kMinTime = -2208988800LL * kMicrosPerSecond;
constexpr Micros kMaxTime = 7258118400LL * kMicrosPerSecond;

std::optional<Micros> checked(Micros t) {
  if (t < kMinTime || t >= kMaxTime) return std::nullopt;
  return t;
}

// The common form "YYYY-MM-DDTHH:MM:SS.sssZ" (what JavaScript's
// toISOString and most trackers write) read at fixed places: the value the
// general reader below gives for it, or nullopt when s has another form (or
// is invalid), which the general reader then decides.
std::optional<Micros> parse_iso_millis_utc(std::string_view s) {
  if (s.size() != 24 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != '.' ||
      s[23] != 'Z')
    return std::nullopt;
  static constexpr unsigned char kDigitAt[] = {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22};
  unsigned d[sizeof kDigitAt];
  unsigned bad = 0;
  for (size_t i = 0; i < sizeof kDigitAt; ++i) {
    d[i] = static_cast<unsigned>(static_cast<unsigned char>(s[kDigitAt[i]]) - '0');
    bad |= d[i] > 9;
  }
  if (bad) return std::nullopt;
  const unsigned year = d[0] * 1000 + d[1] * 100 + d[2] * 10 + d[3], month = d[4] * 10 + d[5],
                 day = d[6] * 10 + d[7], hour = d[8] * 10 + d[9], minute = d[10] * 10 + d[11],
                 second = d[12] * 10 + d[13], millis = d[14] * 100 + d[15] * 10 + d[16];
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || hour > 23 || minute > 59 ||
      second > 60)
    return std::nullopt;
  return checked(days_from_civil(year, month, day) * kMicrosPerDay +
                 (static_cast<Micros>(hour) * 3600 + minute * 60 + second) * kMicrosPerSecond + millis * Micros{1000});
}

}  // namespace

std::optional<Micros> time_from_unix_number(double value) {
  if (!std::isfinite(value) || value < 0) return std::nullopt;
  double micros;
  if (value < 1e11) {
    micros = value * 1e6;
  } else if (value < 1e14) {
    micros = value * 1e3;
  } else {
    micros = value;
  }
  if (micros >= static_cast<double>(kMaxTime)) return std::nullopt;
  return checked(static_cast<Micros>(std::llround(micros)));
}

std::optional<Micros> parse_time(std::string_view s) {
  if (const auto t = parse_iso_millis_utc(s)) return t;
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (s.empty()) return std::nullopt;
  if (all_digits(s)) {
    if (s.size() > 17) return std::nullopt;
    return time_from_unix_number(static_cast<double>(std::stoll(std::string(s))));
  }
  size_t pos = 0;
  unsigned year = 0, month = 0, day = 0;
  if (!read_digits(s, pos, 4, year)) return std::nullopt;
  if (pos >= s.size() || s[pos++] != '-') return std::nullopt;
  if (!read_digits(s, pos, 2, month)) return std::nullopt;
  if (pos >= s.size() || s[pos++] != '-') return std::nullopt;
  if (!read_digits(s, pos, 2, day)) return std::nullopt;
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month)) return std::nullopt;
  Micros t = days_from_civil(year, month, day) * kMicrosPerDay;
  if (pos == s.size()) return checked(t);
  if (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ') return std::nullopt;
  ++pos;
  unsigned hour = 0, minute = 0, second = 0;
  if (!read_digits(s, pos, 2, hour)) return std::nullopt;
  if (pos >= s.size() || s[pos++] != ':') return std::nullopt;
  if (!read_digits(s, pos, 2, minute)) return std::nullopt;
  if (pos < s.size() && s[pos] == ':') {
    ++pos;
    if (!read_digits(s, pos, 2, second)) return std::nullopt;
  }
  if (hour > 23 || minute > 59 || second > 60) return std::nullopt;
  t += (static_cast<Micros>(hour) * 3600 + minute * 60 + second) * kMicrosPerSecond;
  if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
    ++pos;
    Micros frac = 0;
    int digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 6) {
        frac = frac * 10 + (s[pos] - '0');
      }
      ++digits;
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (int i = digits; i < 6; ++i) frac *= 10;
    t += frac;
  }
  if (pos == s.size()) return checked(t);
  if (s[pos] == 'Z' || s[pos] == 'z') {
    return pos + 1 == s.size() ? checked(t) : std::nullopt;
  }
  if (s[pos] != '+' && s[pos] != '-') return std::nullopt;
  const int sign = s[pos] == '+' ? 1 : -1;
  ++pos;
  unsigned oh = 0, om = 0;
  if (!read_digits(s, pos, 2, oh)) return std::nullopt;
  if (pos < s.size() && s[pos] == ':') ++pos;
  if (pos < s.size() && !read_digits(s, pos, 2, om)) return std::nullopt;
  if (pos != s.size() || oh > 23 || om > 59) return std::nullopt;
  t -= sign * (static_cast<Micros>(oh) * 3600 + om * 60) * kMicrosPerSecond;
  return checked(t);
}

std::string format_time(Micros t) {
  int64_t days = t / kMicrosPerDay;
  Micros rem = t % kMicrosPerDay;
  if (rem < 0) {
    rem += kMicrosPerDay;
    --days;
  }
  const Civil c = civil_from_days(days);
  const int64_t secs = rem / kMicrosPerSecond;
  const int64_t frac = rem % kMicrosPerSecond;
  char buf[48];
  if (frac == 0) {
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lldZ", static_cast<long long>(c.y), c.m,
                  c.d, static_cast<long long>(secs / 3600), static_cast<long long>(secs / 60 % 60),
                  static_cast<long long>(secs % 60));
  } else {
    // Milliseconds when that is exact, else microseconds.
    const bool millis = frac % 1000 == 0;
    std::snprintf(buf, sizeof buf, millis ? "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ"
                                          : "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%06lldZ",
                  static_cast<long long>(c.y), c.m, c.d, static_cast<long long>(secs / 3600),
                  static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60),
                  static_cast<long long>(millis ? frac / 1000 : frac));
  }
  return buf;
}

}  // namespace cairn
