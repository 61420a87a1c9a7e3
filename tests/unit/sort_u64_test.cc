// sort_u64 (core/sort_u64.h), the de-duplication's sort of message-id
// hashes, against std::sort: random hashes, repeats, values that share their
// top 30 bits (the comparison fix-up), skewed buckets and small arrays.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "core/sort_u64.h"

namespace cairn {
namespace sort_u64_test {

void expect_sorts(std::vector<uint64_t> v) {
  std::vector<uint64_t> ref = v;
  std::sort(ref.begin(), ref.end());
  sort_u64(v);
  ASSERT_EQ(v, ref);
}

TEST(SortU64, RandomHashesOfManySizes) {
  std::mt19937_64 rng(3);
  for (size_t n : {size_t{0}, size_t{1}, size_t{2}, size_t{32767}, size_t{32768}, size_t{32769}, size_t{100000},
                   size_t{1000003}}) {
    std::vector<uint64_t> v(n);
    for (uint64_t& x : v) x = rng();
    expect_sorts(v);
  }
}

TEST(SortU64, RepeatsAndSharedTopBits) {
  std::mt19937_64 rng(5);
  std::vector<uint64_t> v;
  for (int i = 0; i < 50000; ++i) {
    const uint64_t x = rng();
    v.push_back(x);
    if (i % 7 == 0) v.push_back(x);  // an exact repeat
    // The same top 30 bits, other low 34 bits: order decided by the fix-up.
    if (i % 5 == 0) v.push_back((x & ~uint64_t{0x3FFFFFFFF}) | (rng() & 0x3FFFFFFFF));
    if (i % 11 == 0) v.push_back(x & ~uint64_t{0x3FFFFFFFF});
  }
  std::shuffle(v.begin(), v.end(), rng);
  expect_sorts(v);
}

TEST(SortU64, SkewedAndSmallValues) {
  std::mt19937_64 rng(9);
  std::vector<uint64_t> v;
  for (int i = 0; i < 60000; ++i) v.push_back(rng() % 1000);  // all in one bucket, all in one 30-bit run
  for (int i = 0; i < 60000; ++i) v.push_back(~uint64_t{0} - rng() % 100000);  // the last bucket
  for (int i = 0; i < 60000; ++i) v.push_back(rng() >> 11 << 11);  // low bits constant
  std::shuffle(v.begin(), v.end(), rng);
  expect_sorts(v);
  std::vector<uint64_t> same(20000, 0x123456789ABCDEF0ULL);
  expect_sorts(same);
  std::vector<uint64_t> descending(30000);
  for (size_t i = 0; i < descending.size(); ++i) descending[i] = ~uint64_t{0} - i * 0x10000000001ULL;
  expect_sorts(descending);
}

}  // namespace sort_u64_test
}  // namespace cairn
