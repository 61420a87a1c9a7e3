#include "core/time.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <numeric>

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

bool in_range(Micros t) { return t >= kMinTime && t < kMaxTime; }

std::optional<Micros> checked(Micros t) {
  if (!in_range(t)) return std::nullopt;
  return t;
}

// The common form "YYYY-MM-DDTHH:MM:SS.sssZ" (what JavaScript's
// toISOString and most trackers write) read at fixed places: the value the
// general reader below gives for it in out, or false when s has another
// form (or is invalid), which the general reader then decides. (A plain
// bool and out-parameter: an optional returned through memory here cost a
// store-forwarding stall, half of the call.)
bool parse_iso_millis_utc(std::string_view s, Micros& out) {
  if (s.size() != 24) return false;
  // Three 8-byte words: "YYYY-MM-", "DDTHH:MM", ":SS.sssZ". In each, the
  // separators must be the expected bytes, and every digit byte XOR '0'
  // must be at most 9 (checked without carries between bytes).
  struct Word {
    uint64_t sep_mask, seps, digit_mask;
  };
  static constexpr Word kWords[3] = {
      {0xFF0000FF00000000ull, 0x2D00002D00000000ull, 0x00FFFF00FFFFFFFFull},  // '-' at 4 and 7
      {0x0000FF0000FF0000ull, 0x00003A0000540000ull, 0xFFFF00FFFF00FFFFull},  // 'T' at 10, ':' at 13
      {0xFF000000FF0000FFull, 0x5A0000002E00003Aull, 0x00FFFFFF00FFFF00ull},  // ':' at 16, '.' at 19, 'Z' at 23
  };
  uint64_t x[3];
  uint64_t bad = 0;
  for (int k = 0; k < 3; ++k) {
    uint64_t w;
    std::memcpy(&w, s.data() + 8 * k, 8);  // little-endian: byte i of the word is s[8k + i]
    const Word& c = kWords[k];
    bad |= (w & c.sep_mask) ^ c.seps;
    x[k] = (w ^ 0x3030303030303030ull) & c.digit_mask;
    bad |= (((x[k] & 0x7F7F7F7F7F7F7F7Full) + 0x7676767676767676ull) | x[k]) & c.digit_mask & 0x8080808080808080ull;
  }
  if (bad) return false;
  auto digit = [&](int i) { return static_cast<unsigned>((x[i / 8] >> (8 * (i % 8))) & 0xFF); };
  const unsigned year = digit(0) * 1000 + digit(1) * 100 + digit(2) * 10 + digit(3);
  const unsigned month = digit(5) * 10 + digit(6), day = digit(8) * 10 + digit(9);
  const unsigned hour = digit(11) * 10 + digit(12), minute = digit(14) * 10 + digit(15);
  const unsigned second = digit(17) * 10 + digit(18);
  const unsigned millis = digit(20) * 100 + digit(21) * 10 + digit(22);
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || hour > 23 || minute > 59 ||
      second > 60)
    return false;
  const Micros t = days_from_civil(year, month, day) * kMicrosPerDay +
                   (static_cast<Micros>(hour) * 3600 + minute * 60 + second) * kMicrosPerSecond + millis * Micros{1000};
  if (!in_range(t)) return false;
  out = t;
  return true;
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

namespace {

// Every form parse_time accepts.
std::optional<Micros> parse_time_general(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (s.empty()) return std::nullopt;
  if (all_digits(s)) {
    if (s.size() > 17) return std::nullopt;
    return time_from_unix_number(static_cast<double>(std::stoll(std::string(s))));
  }
  // A unix time with a fraction, as text ("1767607200.5"), as a JSON number
  // with one is read.
  if (const size_t dot = s.find('.'); dot != std::string_view::npos && dot > 0 && dot <= 17 && dot + 1 < s.size() &&
                                      s.size() - dot - 1 <= 9 && all_digits(s.substr(0, dot)) &&
                                      all_digits(s.substr(dot + 1)))
    return time_from_unix_number(std::strtod(std::string(s).c_str(), nullptr));
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
  if (pos < s.size()) {  // minutes: "+05:30" or "+0530" ("+05" has none, "+05:" is cut short)
    if (s[pos] == ':') ++pos;
    if (!read_digits(s, pos, 2, om)) return std::nullopt;
  }
  if (pos != s.size() || oh > 23 || om > 59) return std::nullopt;
  t -= sign * (static_cast<Micros>(oh) * 3600 + om * 60) * kMicrosPerSecond;
  return checked(t);
}

}  // namespace

bool parse_time(std::string_view s, Micros& out) {
  // The common form first, then the general reader.
  if (parse_iso_millis_utc(s, out)) return true;
  const std::optional<Micros> t = parse_time_general(s);
  if (t) out = *t;
  return t.has_value();
}

std::optional<Micros> parse_time(std::string_view s) {
  if (Micros t; parse_time(s, t)) return t;
  return std::nullopt;
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

uint64_t time_unit(const Micros* time, size_t rows, Micros min_time) {
  uint64_t unit = 0;
  for (size_t i = 0; i < rows; ++i) {
    const auto x = static_cast<uint64_t>(time[i] - min_time);
    const bool divides = unit == 1000      ? x % 1000 == 0
                         : unit == 1000000 ? x % 1000000 == 0
                         : unit != 0       ? x % unit == 0
                                           : x == 0;
    if (!divides) unit = std::gcd(unit, x);
  }
  return unit == 0 ? 1 : unit;
}

}  // namespace cairn
