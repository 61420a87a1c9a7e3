// The summary statistics every report prints (query/common.h stats()): the
// median, p90 and mean against a sort, on small and large inputs (the two
// ways stats() selects), skewed, repeated, negative and extreme values; and
// the chunked ValueLog the funnel keeps its samples in, against a vector.
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <random>

#include "query/common.h"

namespace cairn::query {
namespace stats_test {

void expect_like_sorted(std::vector<Micros> v) {
  const nlohmann::json got = stats(v, 1.0);
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  const double median = n % 2 ? static_cast<double>(v[n / 2]) : (static_cast<double>(v[n / 2 - 1]) + static_cast<double>(v[n / 2])) / 2;
  EXPECT_EQ(got["median"].get<double>(), median) << n;
  EXPECT_EQ(got["p90"].get<double>(), static_cast<double>(v[nearest_rank(n, 90)])) << n;
  EXPECT_EQ(got["count"].get<size_t>(), n);
}

TEST(Stats, SelectionsEqualASort) {
  std::mt19937_64 rng(3);
  for (size_t n : {size_t{1}, size_t{2}, size_t{3}, size_t{10}, size_t{4096}, size_t{4097}, size_t{20000}, size_t{300001}}) {
    std::vector<Micros> uniform(n), skewed(n), few(n), wide(n);
    for (size_t i = 0; i < n; ++i) {
      uniform[i] = static_cast<Micros>(rng() % 1'000'000'000'000);
      // Log-normal-like gaps: most in one histogram bucket.
      skewed[i] = static_cast<Micros>(std::exp2(static_cast<double>(rng() % 4000) / 100.0));
      few[i] = static_cast<Micros>(rng() % 5) - 2;
      wide[i] = static_cast<Micros>(rng());  // the whole signed range
    }
    if (n > 2) {
      wide[0] = std::numeric_limits<Micros>::min();
      wide[1] = std::numeric_limits<Micros>::max();
    }
    expect_like_sorted(uniform);
    expect_like_sorted(skewed);
    expect_like_sorted(few);
    expect_like_sorted(wide);
  }
  EXPECT_TRUE(stats(std::vector<Micros>{}, 1.0)["median"].is_null());
  EXPECT_TRUE(stats(ValueLog(), 1.0)["median"].is_null());
  // 1..10: median 5.5, p90 the 9th value, mean 5.5.
  std::vector<Micros> ten{10, 9, 8, 7, 6, 5, 4, 3, 2, 1};
  const nlohmann::json s = stats(ten, 1.0);
  EXPECT_EQ(s["median"].get<double>(), 5.5);
  EXPECT_EQ(s["p90"].get<double>(), 9.0);
  EXPECT_EQ(s["mean"].get<double>(), 5.5);
}

// A value of one kind: 0 whole milliseconds (kept as 32-bit milliseconds up
// to 2^32 - 1 of them), 1 counts (32 bits as they are), 2 negative, 3 any;
// each kind with its edges.
Micros value_of(int kind, std::mt19937_64& rng) {
  constexpr uint64_t kMax32 = 0xFFFFFFFFu;
  switch (kind) {
    case 0: {
      const uint64_t edges[] = {0, kMax32 * 1000, (kMax32 + 1) * 1000};
      return static_cast<Micros>(rng() % 50 == 0 ? edges[rng() % 3] : (rng() % 5'000'000) * 1000);
    }
    case 1: {
      const uint64_t edges[] = {1, 999, 1001, kMax32, kMax32 + 1};
      return static_cast<Micros>(rng() % 50 == 0 ? edges[rng() % 5] : rng() % 100);
    }
    case 2:
      return -static_cast<Micros>(rng() % 1'000'000) - 1;
    default:
      return static_cast<Micros>(rng());
  }
}

// Logs filled, appended to one another (some empty, some partly filled) and
// copied hold exactly the values pushed, in order, and give the same
// statistics as the vector of those values.
TEST(Stats, ValueLogHoldsWhatWasPushedInOrder) {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    ValueLog log;
    std::vector<Micros> expect;
    const int pieces = 1 + static_cast<int>(rng() % 6);
    for (int p = 0; p < pieces; ++p) {
      ValueLog other;
      const size_t n = rng() % 4 == 0 ? 0 : rng() % 3 == 0 ? rng() % 40000 : rng() % 50;
      // Mostly one kind of value a piece, now and then another, so that
      // chunks are kept as milliseconds, as 32-bit counts or in 64 bits,
      // and widened part-filled.
      const int kind = static_cast<int>(rng() % 4);
      for (size_t i = 0; i < n; ++i) {
        const int k = rng() % 500 == 0 ? static_cast<int>(rng() % 4) : kind;
        const Micros v = value_of(k, rng);
        other.push_back(v);
        expect.push_back(v);
      }
      if (rng() % 2) {  // append, then push more onto the joined log
        log.append(std::move(other));
        EXPECT_TRUE(other.empty());
        for (int i = 0; i < 3; ++i) {
          log.push_back(i);
          expect.push_back(i);
        }
      } else {
        log.append(ValueLog(other));  // a copy
        EXPECT_EQ(other.size(), n);
      }
    }
    ASSERT_EQ(log.size(), expect.size());
    std::vector<Micros> got;
    log.for_each([&](Micros x) { got.push_back(x); });
    ASSERT_EQ(got, expect) << trial;
    EXPECT_EQ(stats(log, 1.0), stats(expect, 1.0)) << trial;
    const ValueLog copy = log;
    std::vector<Micros> copied;
    copy.for_each([&](Micros x) { copied.push_back(x); });
    EXPECT_EQ(copied, expect) << trial;
  }
}

}  // namespace stats_test
}  // namespace cairn::query
