#include "ingest/batch.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace cairn {
namespace batch_test {

BatchProperty number(uint32_t key, double d) { return BatchProperty{std::bit_cast<uint64_t>(d), key, ValueType::kNumber}; }

void expect_same(const BatchProperty& got, const BatchProperty& want, size_t i) {
  EXPECT_EQ(got.key, want.key) << i;
  EXPECT_EQ(got.type, want.type) << i;
  EXPECT_EQ(got.bits, want.bits) << i;  // bit for bit: -0.0 and NaN's payload too
}

// Every kind of property comes back as it went in, whichever form the
// column keeps it in: the 8-byte word (strings, bools, numbers that are
// 32-bit integers, keys below 2^30) or the wide side array (everything else).
TEST(BatchProps, EveryPropertyComesBackBitForBit) {
  const uint32_t big_key = (1u << 30) + 5;
  std::vector<BatchProperty> in = {
      {0, 0, ValueType::kString},
      {UINT32_MAX, 3, ValueType::kString},
      {7, big_key, ValueType::kString},
      {uint64_t{1} << 32, 4, ValueType::kString},  // an id the word cannot hold
      {1, 2, ValueType::kBool},
      {0, (1u << 30) - 1, ValueType::kBool},
      {1, UINT32_MAX, ValueType::kBool},
      number(1, 0.0),
      number(1, -0.0),
      number(1, 12.0),
      number(1, -12.0),
      number(1, 19.9),
      number(1, 0.5),
      number(1, 2147483647.0),
      number(1, -2147483648.0),
      number(1, 2147483648.0),
      number(1, -2147483649.0),
      number(1, 2147483647.5),
      number(1, 1e300),
      number(1, std::numeric_limits<double>::infinity()),
      number(1, -std::numeric_limits<double>::infinity()),
      number(1, std::numeric_limits<double>::quiet_NaN()),
      number(big_key, 3.0),
  };
  std::mt19937_64 rng(7);
  for (int i = 0; i < 200000; ++i) {  // over chunk boundaries, mixed
    const uint32_t key = static_cast<uint32_t>(rng() % 3 == 0 ? rng() : rng() % 100);
    switch (rng() % 4) {
      case 0: in.push_back({rng() % 5000000, key, ValueType::kString}); break;
      case 1: in.push_back({rng() % 2, key, ValueType::kBool}); break;
      case 2: in.push_back(number(key, static_cast<double>(static_cast<int32_t>(rng())))); break;
      default: in.push_back(number(key, std::bit_cast<double>(rng()))); break;
    }
  }
  BatchProps props;
  for (const BatchProperty& p : in) props.push_back(p);
  ASSERT_EQ(props.size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) expect_same(props[i], in[i], i);
  size_t i = 0;
  props.drain([&](BatchProperty p) {
    ASSERT_LT(i, in.size());
    expect_same(p, in[i], i);
    ++i;
  });
  EXPECT_EQ(i, in.size());
  EXPECT_TRUE(props.empty());
}

}  // namespace batch_test
}  // namespace cairn
