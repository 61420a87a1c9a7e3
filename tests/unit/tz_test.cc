// Time zones: POSIX TZ rules, TZif files (real ones from the system's tzdata
// and hand-built ones), damaged bytes, zone names and the query field.
//
// The expected instants are worked out from the published rules (EU: last
// Sunday of March and October at 01:00 UTC; US since 2007: second Sunday of
// March and first Sunday of November at 02:00 local; ...) and agree with
// `zdump -v` on Debian 12's tzdata 2025b.
#include "core/tz.h"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "query/spec.h"

namespace cairn {
namespace tz_test {

Micros at(const char* iso) {
  auto t = parse_time(iso);
  EXPECT_TRUE(t) << iso;
  return t.value_or(0);
}

// An offset of hours and minutes; -5:30 is hm(-5, -30).
constexpr Micros hm(int hours, int minutes = 0) { return (hours * 60 + minutes) * 60 * kMicrosPerSecond; }

TimeZone zone(const char* name) {
  auto tz = TimeZone::load(name);
  // Without tzdata (/usr/share/zoneinfo) nothing below can pass: say so.
  EXPECT_TRUE(tz) << tz.status().message() << " (is the tzdata package installed?)";
  return tz ? *tz : TimeZone();
}

TimeZone posix(const char* rule) {
  auto tz = TimeZone::from_posix_tz(rule);
  EXPECT_TRUE(tz) << tz.status().message();
  return tz ? *tz : TimeZone();
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// ---- POSIX TZ strings (the footer rule) ----

TEST(TzPosix, ParsesFooterStrings) {
  auto berlin = parse_posix_tz("CET-1CEST,M3.5.0,M10.5.0/3");
  ASSERT_TRUE(berlin) << berlin.status().message();
  EXPECT_EQ(berlin->std_name, "CET");
  EXPECT_EQ(berlin->std_offset, 3600);
  EXPECT_TRUE(berlin->has_dst);
  EXPECT_EQ(berlin->dst_name, "CEST");
  EXPECT_EQ(berlin->dst_offset, 7200);  // one hour ahead of standard time when not given
  EXPECT_EQ(berlin->start.month, 3);
  EXPECT_EQ(berlin->start.week, 5);
  EXPECT_EQ(berlin->start.weekday, 0);
  EXPECT_EQ(berlin->start.time, 2 * 3600);  // 02:00 when not given
  EXPECT_EQ(berlin->end.month, 10);
  EXPECT_EQ(berlin->end.time, 3 * 3600);

  auto tehran = parse_posix_tz("<+0330>-3:30");
  ASSERT_TRUE(tehran) << tehran.status().message();
  EXPECT_EQ(tehran->std_name, "+0330");
  EXPECT_EQ(tehran->std_offset, 3 * 3600 + 1800);
  EXPECT_FALSE(tehran->has_dst);

  auto howe = parse_posix_tz("<+1030>-10:30<+11>-11,M10.1.0,M4.1.0");
  ASSERT_TRUE(howe) << howe.status().message();
  EXPECT_EQ(howe->std_offset, 10 * 3600 + 1800);
  EXPECT_EQ(howe->dst_offset, 11 * 3600);

  // RFC 8536 times of day: negative (America/Nuuk) and beyond 24h (America/Santiago).
  auto nuuk = parse_posix_tz("<-02>2<-01>,M3.5.0/-1,M10.5.0/0");
  ASSERT_TRUE(nuuk) << nuuk.status().message();
  EXPECT_EQ(nuuk->start.time, -3600);
  EXPECT_EQ(nuuk->end.time, 0);
  auto santiago = parse_posix_tz("<-04>4<-03>,M9.1.6/24,M4.1.6/24");
  ASSERT_TRUE(santiago) << santiago.status().message();
  EXPECT_EQ(santiago->start.time, 24 * 3600);
  EXPECT_TRUE(parse_posix_tz("<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45"));  // Pacific/Chatham
  EXPECT_TRUE(parse_posix_tz("AAA3BBB,M3.2.0/167,M11.1.0/-167"));
}

TEST(TzPosix, RejectsBadStrings) {
  for (const char* bad :
       {"", "CE", "CET", "CET-", "CET-1CE", "CET-25", "CET-1:60", "CET-1CEST,M3.5.0", "CET-1CEST,M13.5.0,M10.5.0",
        "CET-1CEST,M0.5.0,M10.5.0", "CET-1CEST,M3.6.0,M10.5.0", "CET-1CEST,M3.0.0,M10.5.0", "CET-1CEST,M3.5.7,M10.5.0",
        "CET-1CEST,J0,J365", "CET-1CEST,J366,J1", "CET-1CEST,366,1", "CET-1CEST,M3.5.0/168,M10.5.0",
        "CET-1CEST,M3.5.0,M10.5.0 ", "CET-1CEST,M3.5.0,M10.5.0,", "<+03", "<>3", "<+0-3", "C3T-1", "CET-0001"}) {
    auto r = parse_posix_tz(bad);
    EXPECT_FALSE(r) << "accepted \"" << bad << "\"";
    if (!r) {
      EXPECT_NE(r.status().message().find("POSIX TZ string"), std::string::npos);
    }
  }
}

TEST(TzPosix, EuRuleBeyond2037) {
  // Last Sunday of March 2040 is March 25, of October 2040 October 28; both
  // changes at 01:00 UTC.
  const TimeZone tz = posix("CET-1CEST,M3.5.0,M10.5.0/3");
  EXPECT_EQ(tz.offset_at(at("2040-01-15T12:00:00Z")), hm(1));
  EXPECT_EQ(tz.offset_at(at("2040-03-25T00:59:59Z")), hm(1));
  EXPECT_EQ(tz.offset_at(at("2040-03-25T01:00:00Z")), hm(2));
  EXPECT_EQ(tz.offset_at(at("2040-07-01T00:00:00Z")), hm(2));
  EXPECT_EQ(tz.offset_at(at("2040-10-28T00:59:59Z")), hm(2));
  EXPECT_EQ(tz.offset_at(at("2040-10-28T01:00:00Z")), hm(1));
  // Microseconds before a change still fall before it.
  EXPECT_EQ(tz.offset_at(at("2040-03-25T01:00:00Z") - 1), hm(1));
}

TEST(TzPosix, UsRule) {
  // Second Sunday of March 2026 is March 8 (02:00 EST = 07:00 UTC); first
  // Sunday of November is November 1 (02:00 EDT = 06:00 UTC).
  const TimeZone tz = posix("EST5EDT,M3.2.0,M11.1.0");
  EXPECT_EQ(tz.offset_at(at("2026-03-08T06:59:59Z")), hm(-5));
  EXPECT_EQ(tz.offset_at(at("2026-03-08T07:00:00Z")), hm(-4));
  EXPECT_EQ(tz.offset_at(at("2026-11-01T05:59:59Z")), hm(-4));
  EXPECT_EQ(tz.offset_at(at("2026-11-01T06:00:00Z")), hm(-5));
  // Without a rule, tzcode's default is the same US rule.
  const TimeZone bare = posix("EST5EDT");
  EXPECT_EQ(bare.offset_at(at("2026-03-08T06:59:59Z")), hm(-5));
  EXPECT_EQ(bare.offset_at(at("2026-03-08T07:00:00Z")), hm(-4));
  EXPECT_EQ(bare.offset_at(at("2026-11-01T06:00:00Z")), hm(-5));
}

TEST(TzPosix, SouthernRuleWithHalfHourDst) {
  // Lord Howe: +10:30, +11 from the first Sunday of October 02:00 (15:30 UTC
  // the day before) to the first Sunday of April 02:00 daylight time (15:00 UTC).
  const TimeZone tz = posix("<+1030>-10:30<+11>-11,M10.1.0,M4.1.0");
  EXPECT_EQ(tz.offset_at(at("2041-01-15T00:00:00Z")), hm(11));
  EXPECT_EQ(tz.offset_at(at("2026-04-04T14:59:59Z")), hm(11));
  EXPECT_EQ(tz.offset_at(at("2026-04-04T15:00:00Z")), hm(10, 30));
  EXPECT_EQ(tz.offset_at(at("2026-10-03T15:29:59Z")), hm(10, 30));
  EXPECT_EQ(tz.offset_at(at("2026-10-03T15:30:00Z")), hm(11));
  EXPECT_EQ(tz.offset_at(at("2026-12-31T23:59:59Z")), hm(11));
}

TEST(TzPosix, NegativeTimeOfDay) {
  // America/Nuuk: the changes at -1:00 and 0:00 local are 01:00 UTC, with Europe.
  const TimeZone tz = posix("<-02>2<-01>,M3.5.0/-1,M10.5.0/0");
  EXPECT_EQ(tz.offset_at(at("2026-03-29T00:59:59Z")), hm(-2));
  EXPECT_EQ(tz.offset_at(at("2026-03-29T01:00:00Z")), hm(-1));
  EXPECT_EQ(tz.offset_at(at("2026-10-25T00:59:59Z")), hm(-1));
  EXPECT_EQ(tz.offset_at(at("2026-10-25T01:00:00Z")), hm(-2));
}

TEST(TzPosix, JulianAndZeroBasedDays) {
  // AAA is UTC-3, BBB UTC-2; changes at local midnight, 03:00 / 02:00 UTC.
  // Jn never counts Feb 29: J60 is March 1 also in the leap year 2028, and
  // J300 October 27.
  const TimeZone julian = posix("AAA3BBB,J60/0,J300/0");
  EXPECT_EQ(julian.offset_at(at("2028-02-29T12:00:00Z")), hm(-3));
  EXPECT_EQ(julian.offset_at(at("2028-03-01T02:59:59Z")), hm(-3));
  EXPECT_EQ(julian.offset_at(at("2028-03-01T03:00:00Z")), hm(-2));
  EXPECT_EQ(julian.offset_at(at("2028-10-27T01:59:59Z")), hm(-2));
  EXPECT_EQ(julian.offset_at(at("2028-10-27T02:00:00Z")), hm(-3));
  EXPECT_EQ(julian.offset_at(at("2027-03-01T03:00:00Z")), hm(-2));
  // n counts from 0 and counts Feb 29: day 59 is Feb 29 in 2028, March 1 in
  // 2027; day 299 is October 26 in 2028.
  const TimeZone zero = posix("AAA3BBB,59/0,299/0");
  EXPECT_EQ(zero.offset_at(at("2028-02-29T02:59:59Z")), hm(-3));
  EXPECT_EQ(zero.offset_at(at("2028-02-29T03:00:00Z")), hm(-2));
  EXPECT_EQ(zero.offset_at(at("2027-02-28T12:00:00Z")), hm(-3));
  EXPECT_EQ(zero.offset_at(at("2027-03-01T03:00:00Z")), hm(-2));
  EXPECT_EQ(zero.offset_at(at("2028-10-26T01:59:59Z")), hm(-2));
  EXPECT_EQ(zero.offset_at(at("2028-10-26T02:00:00Z")), hm(-3));
}

TEST(TzPosix, DaylightTimeAllYear) {
  // tzfile(5)'s example of permanent daylight time: each year's end (Dec 31
  // 25:00 daylight time) is the next year's start.
  const TimeZone tz = posix("EST5EDT,0/0,J365/25");
  for (const char* t : {"2026-01-01T00:00:00Z", "2026-01-01T05:00:00Z", "2026-06-01T00:00:00Z",
                        "2026-12-31T23:59:59Z", "2027-01-01T04:59:59Z", "2027-01-01T05:00:00Z"})
    EXPECT_EQ(tz.offset_at(at(t)), hm(-4)) << t;
}

TEST(TzPosix, ExtremeInstantsDoNotOverflow) {
  const TimeZone tz = posix("CET-1CEST,M3.5.0,M10.5.0/3");
  const Micros lo = tz.offset_at(INT64_MIN), hi = tz.offset_at(INT64_MAX);
  EXPECT_TRUE(lo == hm(1) || lo == hm(2));
  EXPECT_TRUE(hi == hm(1) || hi == hm(2));
  // Before Berlin's first transition (1893): its local mean time, +0:53:28.
  EXPECT_EQ(zone("Europe/Berlin").offset_at(INT64_MIN), (53 * 60 + 28) * kMicrosPerSecond);
}

// ---- real zones from the system's tzdata ----

TEST(TzZone, Berlin) {
  const TimeZone tz = zone("Europe/Berlin");
  EXPECT_EQ(tz.name(), "Europe/Berlin");
  EXPECT_EQ(tz.offset_at(at("2026-03-29T00:59:59Z")), hm(1));
  EXPECT_EQ(tz.offset_at(at("2026-03-29T01:00:00Z")), hm(2));
  EXPECT_EQ(tz.offset_at(at("2026-10-25T00:59:59Z")), hm(2));
  EXPECT_EQ(tz.offset_at(at("2026-10-25T01:00:00Z")), hm(1));
  // West Germany had no summer time from 1950 to 1979; it came back on
  // 1980-04-06 at 02:00 CET.
  EXPECT_EQ(tz.offset_at(at("1979-07-01T12:00:00Z")), hm(1));
  EXPECT_EQ(tz.offset_at(at("1980-04-06T00:59:59Z")), hm(1));
  EXPECT_EQ(tz.offset_at(at("1980-04-06T01:00:00Z")), hm(2));
  // Beyond the file's table (2037 in Debian's "fat" files): the footer's rule.
  EXPECT_EQ(tz.offset_at(at("2040-07-01T00:00:00Z")), hm(2));
  EXPECT_EQ(tz.offset_at(at("2040-03-25T00:59:59Z")), hm(1));
  EXPECT_EQ(tz.offset_at(at("2040-03-25T01:00:00Z")), hm(2));
  EXPECT_EQ(tz.offset_at(at("2040-10-28T01:00:00Z")), hm(1));
  EXPECT_EQ(tz.offset_at(at("2199-07-01T00:00:00Z")), hm(2));
}

TEST(TzZone, NewYork) {
  const TimeZone tz = zone("America/New_York");
  EXPECT_EQ(tz.offset_at(at("2026-03-08T06:59:59Z")), hm(-5));
  EXPECT_EQ(tz.offset_at(at("2026-03-08T07:00:00Z")), hm(-4));
  EXPECT_EQ(tz.offset_at(at("2026-11-01T05:59:59Z")), hm(-4));
  EXPECT_EQ(tz.offset_at(at("2026-11-01T06:00:00Z")), hm(-5));
  // Before 2007: first Sunday of April to last Sunday of October.
  EXPECT_EQ(tz.offset_at(at("2006-04-02T06:59:59Z")), hm(-5));
  EXPECT_EQ(tz.offset_at(at("2006-04-02T07:00:00Z")), hm(-4));
  EXPECT_EQ(tz.offset_at(at("2006-10-29T05:59:59Z")), hm(-4));
  EXPECT_EQ(tz.offset_at(at("2006-10-29T06:00:00Z")), hm(-5));
  // 2040: second Sunday of March is March 11.
  EXPECT_EQ(tz.offset_at(at("2040-03-11T06:59:59Z")), hm(-5));
  EXPECT_EQ(tz.offset_at(at("2040-03-11T07:00:00Z")), hm(-4));
}

TEST(TzZone, Kolkata) {
  const TimeZone tz = zone("Asia/Kolkata");
  EXPECT_EQ(tz.offset_at(at("2026-01-15T00:00:00Z")), hm(5, 30));
  EXPECT_EQ(tz.offset_at(at("2026-07-15T00:00:00Z")), hm(5, 30));
  EXPECT_EQ(tz.offset_at(at("2040-07-01T00:00:00Z")), hm(5, 30));
  // War time (+06:30) ended on 1945-10-15 at 00:00 local.
  EXPECT_EQ(tz.offset_at(at("1943-06-01T00:00:00Z")), hm(6, 30));
  EXPECT_EQ(tz.offset_at(at("1945-10-14T17:29:59Z")), hm(6, 30));
  EXPECT_EQ(tz.offset_at(at("1945-10-14T17:30:00Z")), hm(5, 30));
}

TEST(TzZone, LordHowe) {
  const TimeZone tz = zone("Australia/Lord_Howe");
  EXPECT_EQ(tz.offset_at(at("2026-04-04T14:59:59Z")), hm(11));
  EXPECT_EQ(tz.offset_at(at("2026-04-04T15:00:00Z")), hm(10, 30));
  EXPECT_EQ(tz.offset_at(at("2026-10-03T15:29:59Z")), hm(10, 30));
  EXPECT_EQ(tz.offset_at(at("2026-10-03T15:30:00Z")), hm(11));
  EXPECT_EQ(tz.offset_at(at("2040-01-15T00:00:00Z")), hm(11));
  EXPECT_EQ(tz.offset_at(at("2040-07-15T00:00:00Z")), hm(10, 30));
}

TEST(TzZone, SaoPauloAfterDstWasAbolished) {
  const TimeZone tz = zone("America/Sao_Paulo");
  // The last summer time: 2018-11-04 00:00 -03 to 2019-02-17 00:00 -02.
  EXPECT_EQ(tz.offset_at(at("2018-11-04T02:59:59Z")), hm(-3));
  EXPECT_EQ(tz.offset_at(at("2018-11-04T03:00:00Z")), hm(-2));
  EXPECT_EQ(tz.offset_at(at("2019-02-17T01:59:59Z")), hm(-2));
  EXPECT_EQ(tz.offset_at(at("2019-02-17T02:00:00Z")), hm(-3));
  // No more: November 2019 and every summer since stay at -03.
  EXPECT_EQ(tz.offset_at(at("2019-11-10T12:00:00Z")), hm(-3));
  EXPECT_EQ(tz.offset_at(at("2026-01-15T12:00:00Z")), hm(-3));
  EXPECT_EQ(tz.offset_at(at("2040-01-15T12:00:00Z")), hm(-3));
}

// ---- hand-built TZif files ----

struct Type {
  int32_t utoff;
  bool dst;
  uint8_t desig;
};

struct Tzif {
  char version = '2';  // 0 for a version 1 file
  std::vector<int64_t> times;
  std::vector<uint8_t> indices;
  std::vector<Type> types{{3600, false, 0}};
  std::string chars = std::string("CET\0CEST\0", 9);
  std::vector<std::pair<int64_t, int32_t>> leaps;
  std::string footer = "CET-1CEST,M3.5.0,M10.5.0/3";
};

void put32(std::string& out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out += static_cast<char>(v >> s & 0xff);
}

void put64(std::string& out, uint64_t v) {
  put32(out, static_cast<uint32_t>(v >> 32));
  put32(out, static_cast<uint32_t>(v));
}

std::string build(const Tzif& z) {
  std::string out;
  auto header = [&] {
    out += "TZif";
    out += z.version;
    out += std::string(15, '\0');
    for (size_t n : {z.types.size(), z.types.size(), z.leaps.size(), z.times.size(), z.types.size(), z.chars.size()})
      put32(out, static_cast<uint32_t>(n));
  };
  auto block = [&](bool wide) {
    for (int64_t t : z.times) wide ? put64(out, static_cast<uint64_t>(t)) : put32(out, static_cast<uint32_t>(t));
    for (uint8_t i : z.indices) out += static_cast<char>(i);
    for (const Type& t : z.types) {
      put32(out, static_cast<uint32_t>(t.utoff));
      out += static_cast<char>(t.dst);
      out += static_cast<char>(t.desig);
    }
    out += z.chars;
    for (const auto& [t, corr] : z.leaps) {
      wide ? put64(out, static_cast<uint64_t>(t)) : put32(out, static_cast<uint32_t>(t));
      put32(out, static_cast<uint32_t>(corr));
    }
    out += std::string(z.types.size(), '\0');  // standard/wall
    out += std::string(z.types.size(), '\0');  // UT/local
  };
  header();
  block(false);
  if (z.version != 0) {
    header();
    block(true);
    out += "\n" + z.footer + "\n";
  }
  return out;
}

// A slim Berlin: only the transitions of 2000, then the footer's rule.
Tzif slim_berlin() {
  Tzif z;
  z.types = {{3600, false, 0}, {7200, true, 4}};
  z.times = {at("2000-03-26T01:00:00Z") / kMicrosPerSecond, at("2000-10-29T01:00:00Z") / kMicrosPerSecond};
  z.indices = {1, 0};
  return z;
}

// Offsets of the header's counts (RFC 8536 section 3.1).
constexpr size_t kIsutcnt = 20, kIsstdcnt = 24, kLeapcnt = 28, kTimecnt = 32, kTypecnt = 36, kCharcnt = 40;

// Where the second (64-bit) header starts.
size_t second_header(const std::string& bytes) { return bytes.find("TZif", 4); }

void set32(std::string& bytes, size_t pos, uint32_t v) {
  std::string b;
  put32(b, v);
  bytes.replace(pos, 4, b);
}

TEST(TzTzif, SlimFileUsesTheFooterAfterItsTable) {
  auto tz = TimeZone::from_tzif(build(slim_berlin()), "slim");
  ASSERT_TRUE(tz) << tz.status().message();
  EXPECT_EQ(tz->offset_at(at("1999-07-01T00:00:00Z")), hm(1));  // before the first transition: type 0
  EXPECT_EQ(tz->offset_at(at("2000-03-26T00:59:59Z")), hm(1));
  EXPECT_EQ(tz->offset_at(at("2000-03-26T01:00:00Z")), hm(2));
  EXPECT_EQ(tz->offset_at(at("2000-10-29T01:00:00Z")), hm(1));
  EXPECT_EQ(tz->offset_at(at("2026-03-29T00:59:59Z")), hm(1));
  EXPECT_EQ(tz->offset_at(at("2026-03-29T01:00:00Z")), hm(2));
  EXPECT_EQ(tz->offset_at(at("2026-10-25T00:59:59Z")), hm(2));
  EXPECT_EQ(tz->offset_at(at("2026-10-25T01:00:00Z")), hm(1));
}

TEST(TzTzif, NoTransitionsMeansTheFooterAlways) {
  Tzif z;
  auto tz = TimeZone::from_tzif(build(z), "rule only");
  ASSERT_TRUE(tz) << tz.status().message();
  EXPECT_EQ(tz->offset_at(at("1990-07-01T00:00:00Z")), hm(2));
  EXPECT_EQ(tz->offset_at(at("1990-01-01T00:00:00Z")), hm(1));
}

TEST(TzTzif, EmptyFooterKeepsTheLastType) {
  Tzif z = slim_berlin();
  z.indices = {0, 1};
  z.footer = "";
  auto tz = TimeZone::from_tzif(build(z), "no footer rule");
  ASSERT_TRUE(tz) << tz.status().message();
  EXPECT_EQ(tz->offset_at(at("2030-01-01T00:00:00Z")), hm(2));
}

TEST(TzTzif, VersionOneFile) {
  Tzif z = slim_berlin();
  z.version = 0;
  auto tz = TimeZone::from_tzif(build(z), "v1");
  ASSERT_TRUE(tz) << tz.status().message();
  EXPECT_EQ(tz->offset_at(at("2000-06-01T00:00:00Z")), hm(2));
  EXPECT_EQ(tz->offset_at(at("2026-07-01T00:00:00Z")), hm(1));  // no footer in version 1
}

TEST(TzTzif, DamagedCountsAndFieldsAreErrors) {
  const std::string good = build(slim_berlin());
  ASSERT_TRUE(TimeZone::from_tzif(good, "good"));
  const size_t h2 = second_header(good);
  ASSERT_NE(h2, std::string::npos);
  const size_t data = h2 + 44;            // 64-bit block: times (2 x 8), indices (2), types (2 x 6), ...
  const size_t types = data + 16 + 2;
  auto expect_error = [&](std::string bytes, const char* what, const char* message_part) {
    auto tz = TimeZone::from_tzif(bytes, "damaged");
    ASSERT_FALSE(tz) << what;
    EXPECT_NE(tz.status().message().find(message_part), std::string::npos) << what << ": " << tz.status().message();
  };
  for (size_t base : {size_t{0}, h2}) {
    for (size_t field : {kTimecnt, kTypecnt, kCharcnt, kLeapcnt, kIsstdcnt, kIsutcnt}) {
      std::string b = good;
      set32(b, base + field, 0xffffffffu);
      expect_error(b, "count 0xffffffff", "damaged");
    }
  }
  std::string b = good;
  set32(b, h2 + kTypecnt, 0);
  expect_error(b, "no types", "damaged");
  b = good;
  set32(b, h2 + kTimecnt, 3);
  expect_error(b, "one transition more than there is", "damaged");
  b = good;
  b[data + 16] = 2;
  expect_error(b, "type index out of range", "local time type 2 of 2");
  b = good;
  b.replace(data, 8, b.substr(data + 8, 8));
  expect_error(b, "equal transition times", "not after");
  b = good;
  set32(b, types, 0x7fffffff);
  expect_error(b, "huge offset", "offset");
  b = good;
  b[types + 4] = 2;
  expect_error(b, "daylight flag 2", "daylight flag");
  b = good;
  b[types + 5] = 9;
  expect_error(b, "designation index out of range", "designation");
  b = good;
  b[0] = 'X';
  expect_error(b, "bad magic", "TZif");
  b = good;
  b[4] = '1';
  expect_error(b, "version '1'", "version");
  b = good;
  b[h2 + 4] = '3';
  expect_error(b, "versions differ", "version");
  b = good;
  b.pop_back();
  expect_error(b, "no newline after the footer", "footer");
  b = good + "x";
  expect_error(b, "bytes after the footer", "after the footer");
  Tzif z = slim_berlin();
  z.footer = "CET-1CEST,M3.5";
  expect_error(build(z), "bad footer", "footer");
  z = slim_berlin();
  z.chars = std::string("CET\0CEST", 8);  // the last designation has no NUL
  expect_error(build(z), "unterminated designation", "designation");
  z = slim_berlin();
  z.leaps = {{78796800, 1}};
  auto leap = TimeZone::from_tzif(build(z), "right/X");
  ASSERT_FALSE(leap);
  EXPECT_NE(leap.status().message().find("leap seconds"), std::string::npos) << leap.status().message();
}

TEST(TzTzif, EveryTruncationOfARealFileIsAnError) {
  const std::string bytes = file_bytes(zoneinfo_dir() + "/Europe/Berlin");
  ASSERT_GT(bytes.size(), 100u) << "no Europe/Berlin (is tzdata installed?)";
  ASSERT_TRUE(TimeZone::from_tzif(bytes, "Europe/Berlin"));
  for (size_t n = 0; n < bytes.size(); ++n)
    EXPECT_FALSE(TimeZone::from_tzif(bytes.substr(0, n), "cut")) << "accepted the first " << n << " bytes";
}

TEST(TzTzif, FlippedBytesNeverCrash) {
  // Every byte of real files changed in two ways: each result is an error or
  // a zone that answers for any instant.
  for (const char* name : {"Europe/Berlin", "Australia/Lord_Howe"}) {
    const std::string bytes = file_bytes(zoneinfo_dir() + "/" + name);
    ASSERT_GT(bytes.size(), 100u) << name;
    size_t errors = 0;
    for (size_t i = 0; i < bytes.size(); ++i)
      for (unsigned char change : {0xff, 0x01}) {
        std::string b = bytes;
        b[i] = static_cast<char>(static_cast<unsigned char>(b[i]) ^ change);
        auto tz = TimeZone::from_tzif(b, name);
        if (!tz) {
          ++errors;
          continue;
        }
        for (Micros t : {INT64_MIN, Micros{0}, at("2026-03-29T01:00:00Z"), at("2040-07-01"), INT64_MAX})
          EXPECT_LE(std::abs(tz->offset_at(t)), hm(26)) << name << " byte " << i;
      }
    EXPECT_GT(errors, 0u) << name;
  }
}

// ---- names and loading ----

TEST(TzLoad, ValidatesNames) {
  for (const char* bad : {"", "/etc/passwd", "../../etc/passwd", "Europe/../../etc/passwd", "Europe/./Berlin",
                          "Europe//Berlin", "Europe/Berlin/", "Europe/Ber lin", "Europe/Berlin\n", "Europe\\Berlin",
                          "Europe/Berlin;rm"}) {
    EXPECT_FALSE(valid_zone_name(bad)) << bad;
    auto tz = TimeZone::load(bad);
    ASSERT_FALSE(tz) << bad;
    EXPECT_EQ(tz.status().code(), Status::Code::kInvalidArgument) << bad;
  }
  EXPECT_FALSE(valid_zone_name(std::string(256, 'a')));
  for (const char* good : {"Europe/Berlin", "America/Port-au-Prince", "Etc/GMT+5", "America/Argentina/Buenos_Aires"})
    EXPECT_TRUE(valid_zone_name(good)) << good;
  EXPECT_TRUE(TimeZone::load("America/Argentina/Buenos_Aires"));
  EXPECT_TRUE(TimeZone::load("Etc/GMT+5"));
}

TEST(TzLoad, UnknownZonesAndDirectories) {
  for (const char* name : {"Mars/Olympus", "America", "Europe/Berlin/x"}) {
    auto tz = TimeZone::load(name);
    ASSERT_FALSE(tz) << name;
    EXPECT_EQ(tz.status().code(), Status::Code::kNotFound) << name << ": " << tz.status().message();
  }
}

TEST(TzLoad, DamagedFileInADirectory) {
  const std::string dir = ::testing::TempDir() + "cairn-tz-test-" + std::to_string(::getpid());
  std::remove((dir + "/Bad/Zone").c_str());
  std::remove((dir + "/Bad").c_str());
  std::remove(dir.c_str());
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((dir + "/Bad").c_str(), 0755), 0);
  std::string bytes = build(slim_berlin());
  bytes.resize(bytes.size() - 20);
  std::ofstream(dir + "/Bad/Zone", std::ios::binary) << bytes;
  auto tz = TimeZone::load("Bad/Zone", dir);
  ASSERT_FALSE(tz);
  EXPECT_EQ(tz.status().code(), Status::Code::kCorruption);
  EXPECT_NE(tz.status().message().find("Bad/Zone"), std::string::npos) << tz.status().message();
  std::ofstream(dir + "/Bad/Zone", std::ios::binary) << build(slim_berlin());
  auto ok = TimeZone::load("Bad/Zone", dir);
  ASSERT_TRUE(ok) << ok.status().message();
  EXPECT_EQ(ok->name(), "Bad/Zone");
  std::remove((dir + "/Bad/Zone").c_str());
  std::remove((dir + "/Bad").c_str());
  std::remove(dir.c_str());
}

TEST(TzLoad, UtcAndFixedOffsetsNeedNoFiles) {
  for (const char* utc : {"UTC", "Z", "Etc/UTC"}) {
    auto tz = TimeZone::parse(utc);
    ASSERT_TRUE(tz) << utc;
    EXPECT_EQ(tz->offset_at(at("2026-07-01")), 0);
  }
  auto plus = TimeZone::parse("+02:00");
  ASSERT_TRUE(plus);
  EXPECT_EQ(plus->name(), "+02:00");
  EXPECT_EQ(plus->offset_at(at("2026-01-01")), hm(2));
  auto minus = TimeZone::parse("-05:30");
  ASSERT_TRUE(minus);
  EXPECT_EQ(minus->offset_at(at("2026-07-01")), hm(-5, -30));
  for (const char* bad : {"+15:00", "+02", "+0200", "+02:60", "-1:00", "+ab:cd"})
    EXPECT_FALSE(TimeZone::parse(bad)) << bad;
  auto berlin = TimeZone::parse("Europe/Berlin");
  ASSERT_TRUE(berlin) << berlin.status().message();
  EXPECT_EQ(berlin->offset_at(at("2026-07-01")), hm(2));
}

// ---- the query field ----

Result<query::FunnelSpec> funnel_with(const nlohmann::json& timezone) {
  nlohmann::json doc = {{"type", "funnel"}, {"steps", {{{"event", "a"}}, {{"event", "b"}}}}};
  if (!timezone.is_null()) doc["timezone"] = timezone;
  return query::parse_funnel(doc);
}

TEST(TzQuery, TimezoneField) {
  auto none = funnel_with(nullptr);
  ASSERT_TRUE(none);
  EXPECT_EQ(none->timezone->name(), "UTC");
  auto ny = funnel_with("America/New_York");
  ASSERT_TRUE(ny) << ny.status().message();
  EXPECT_EQ(ny->timezone->name(), "America/New_York");
  EXPECT_EQ(ny->timezone->offset_at(at("2026-03-08T07:00:00Z")), hm(-4));
  auto fixed = funnel_with("+02:00");
  ASSERT_TRUE(fixed);
  EXPECT_EQ(fixed->timezone->offset_at(at("2026-01-01")), hm(2));

  const std::string expected = "(expected an IANA name like \"Europe/Berlin\", \"UTC\" or an offset like \"+02:00\")";
  auto mars = funnel_with("Mars/Olympus");
  ASSERT_FALSE(mars);
  EXPECT_EQ(mars.status().message(), "timezone: unknown time zone \"Mars/Olympus\" " + expected);
  auto escape = funnel_with("../../etc/passwd");
  ASSERT_FALSE(escape);
  EXPECT_EQ(escape.status().message(), "timezone: unknown time zone \"../../etc/passwd\" " + expected);
  auto number = funnel_with(2);
  ASSERT_FALSE(number);
  EXPECT_EQ(number.status().message(), "timezone: " + expected.substr(1, expected.size() - 2));
}

}  // namespace tz_test
}  // namespace cairn
