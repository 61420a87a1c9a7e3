#include "core/time.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <string>
#include <vector>

namespace cairn {
namespace time_test {

TEST(Time, ParsesIsoWithZone) {
  // 2026-01-05T10:00:00Z = 1767607200 s, checked with `date -u -d @1767607200`.
  EXPECT_EQ(parse_time("2026-01-05T10:00:00Z"), 1767607200LL * kMicrosPerSecond);
  EXPECT_EQ(parse_time("2026-01-05T12:00:00+02:00"), 1767607200LL * kMicrosPerSecond);
  EXPECT_EQ(parse_time("2026-01-05T05:30:00-0430"), 1767607200LL * kMicrosPerSecond);
  EXPECT_EQ(parse_time("2026-01-05 10:00:00"), 1767607200LL * kMicrosPerSecond);
  EXPECT_EQ(parse_time("2026-01-05T10:00:00.25Z"), 1767607200LL * kMicrosPerSecond + 250000);
  EXPECT_EQ(parse_time("2026-01-05"), 1767571200LL * kMicrosPerSecond);
}

TEST(Time, ParsesUnixSecondsAndMillis) {
  EXPECT_EQ(parse_time("1767607200"), 1767607200LL * kMicrosPerSecond);
  EXPECT_EQ(parse_time("1767607200123"), 1767607200123LL * 1000);
  EXPECT_EQ(time_from_unix_number(1767607200.5), 1767607200500000LL);
  // With a fraction as text, the same as the JSON number.
  EXPECT_EQ(parse_time("1767607200.5"), 1767607200500000LL);
  EXPECT_EQ(parse_time("1767607200.000001"), 1767607200000001LL);
  EXPECT_EQ(parse_time("1767607200123.5"), 1767607200123500LL);
  EXPECT_FALSE(parse_time("1767607200."));
  EXPECT_FALSE(parse_time(".5"));
  EXPECT_FALSE(parse_time("1767607200.5.5"));
  EXPECT_FALSE(parse_time("-1767607200.5"));
}

TEST(Time, OffsetMinutesAreWholeOrAbsent) {
  EXPECT_EQ(parse_time("2026-01-05T15:00:00+05"), 1767607200LL * kMicrosPerSecond);
  EXPECT_EQ(parse_time("2026-01-05T15:30:00+0530"), 1767607200LL * kMicrosPerSecond);
  EXPECT_FALSE(parse_time("2026-01-05T15:00:00+05:"));
  EXPECT_FALSE(parse_time("2026-01-05T15:00:00+05:3"));
  EXPECT_FALSE(parse_time("2026-01-05T15:00:00+053"));
}

TEST(Time, RejectsInvalidDates) {
  EXPECT_FALSE(parse_time("2026-13-40"));
  EXPECT_FALSE(parse_time("2026-02-29"));
  EXPECT_TRUE(parse_time("2024-02-29"));
  EXPECT_FALSE(parse_time("2026-01-05T24:00:00Z"));
  EXPECT_FALSE(parse_time("2026-01-05T10:00:00Q"));
  EXPECT_FALSE(parse_time("yesterday"));
  EXPECT_FALSE(parse_time(""));
  EXPECT_FALSE(parse_time("2026-01-05T10:00:00Zjunk"));
}

TEST(Time, FormatsRoundTrip) {
  EXPECT_EQ(format_time(1767607200LL * kMicrosPerSecond), "2026-01-05T10:00:00Z");
  EXPECT_EQ(format_time(1767607200LL * kMicrosPerSecond + 5), "2026-01-05T10:00:00.000005Z");
  EXPECT_EQ(format_time(-kMicrosPerSecond), "1969-12-31T23:59:59Z");
  for (Micros t = -5 * kMicrosPerDay; t < 5000 * kMicrosPerDay; t += 7919LL * 3600 * kMicrosPerSecond + 13) {
    EXPECT_EQ(parse_time(format_time(t)), t);
  }
}

// "YYYY-MM-DDTHH:MM:SS.sssZ" is read by a fixed-place fast path: its value
// must be what the general reader gives. Random instants with milliseconds
// (format_time writes exactly that form) round trip, and every string made
// by changing one character of one (a digit, a separator, a letter) parses
// as the same string with "+00:00" in place of "Z" (general reader) does:
// the same instant or both refused.
TEST(Time, FastIsoMillisFormAgreesWithTheGeneralReader) {
  std::mt19937_64 rng(21);
  // \xB5 XOR '0' is 0x85: its low 7 bits pass as a digit, only its top bit does not.
  const std::string alphabet = "0123456789-:T.,Z +x\xB5\xC3";
  size_t valid = 0, invalid = 0;
  for (int i = 0; i < 20000; ++i) {
    const Micros t = static_cast<Micros>(rng() % (250ull * 365 * 86400 * 1000)) * 1000 - 60ll * 365 * 86400 * kMicrosPerSecond;
    std::string s = format_time(t);
    if (s.size() != 24) continue;  // whole seconds: another form
    ASSERT_EQ(parse_time(s), t) << s;
    const size_t at = rng() % 23;  // not the Z
    s[at] = alphabet[rng() % alphabet.size()];
    const std::string general = s.substr(0, 23) + "+00:00";
    const auto fast = parse_time(s);
    ASSERT_EQ(fast, parse_time(general)) << s;
    (fast ? valid : invalid) += 1;
  }
  EXPECT_GT(valid, 1000u);
  EXPECT_GT(invalid, 1000u);
  EXPECT_EQ(parse_time("2024-02-29T23:59:60.999Z"), parse_time("2024-02-29T23:59:60.999+00:00"));
  EXPECT_FALSE(parse_time("2026-02-29T10:00:00.000Z"));
  EXPECT_FALSE(parse_time("2026-01-05T10:00:00.00aZ"));
  EXPECT_EQ(parse_time("2026-01-05T10:00:00.250Z"), 1767607200LL * kMicrosPerSecond + 250000);
}

// time_unit against the gcd of every offset, taken one by one: blocks of
// milliseconds, seconds, other units, mixed ones, and all-equal times.
TEST(TimeUnit, EqualsTheGcdOfEveryOffset) {
  std::mt19937_64 rng(3);
  for (int trial = 0; trial < 2000; ++trial) {
    const Micros unit = std::vector<Micros>{1, 7, 1000, 3000, 1'000'000, 60'000'000, 250}[rng() % 7];
    const size_t rows = rng() % 50;
    std::vector<Micros> time;
    const Micros base = static_cast<Micros>(rng() % 1'000'000'000'000);
    for (size_t i = 0; i < rows; ++i) {
      Micros t = base + static_cast<Micros>(rng() % 100'000) * unit;
      if (rng() % 30 == 0) t += static_cast<Micros>(rng() % 5000);  // an odd one out
      time.push_back(t);
    }
    const Micros min_time = time.empty() ? 0 : *std::min_element(time.begin(), time.end());
    uint64_t want = 0;
    for (const Micros t : time) want = std::gcd(want, static_cast<uint64_t>(t - min_time));
    EXPECT_EQ(time_unit(time.data(), time.size(), min_time), want == 0 ? 1 : want) << trial;
  }
}

}  // namespace time_test
}  // namespace cairn
