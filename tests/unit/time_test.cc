#include "core/time.h"

#include <gtest/gtest.h>

namespace cairn {
namespace {

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

}  // namespace
}  // namespace cairn
