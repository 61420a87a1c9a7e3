// ChunkedArray (core/chunked_array.h), the import batch's event and property
// arrays: indexing, iteration and draining across chunk boundaries, against
// a std::vector of the same pushes.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "core/chunked_array.h"

namespace cairn {
namespace chunked_array_test {

struct Pair {
  uint64_t a;
  uint32_t b;
};

TEST(ChunkedArray, MatchesAVectorAcrossChunks) {
  constexpr size_t kChunk = ChunkedArray<Pair>::kChunk;
  std::mt19937_64 rng(11);
  for (size_t n : {size_t{0}, size_t{1}, kChunk - 1, kChunk, kChunk + 1, 3 * kChunk + 17}) {
    ChunkedArray<Pair> arr;
    std::vector<Pair> ref;
    for (size_t i = 0; i < n; ++i) {
      const Pair p{rng(), static_cast<uint32_t>(i)};
      arr.push_back(p);
      ref.push_back(p);
    }
    ASSERT_EQ(arr.size(), n);
    EXPECT_EQ(arr.empty(), n == 0);
    for (size_t i = 0; i < n; i += 1 + rng() % 1000) {
      EXPECT_EQ(arr[i].a, ref[i].a);
      EXPECT_EQ(arr[i].b, ref[i].b);
    }
    if (n > 0) {
      arr[n - 1].b = 7;  // writable in place
      ref[n - 1].b = 7;
    }
    size_t i = 0;
    for (const Pair& p : arr) {
      ASSERT_LT(i, n);
      EXPECT_EQ(p.a, ref[i].a);
      ++i;
    }
    EXPECT_EQ(i, n);
    std::vector<Pair> drained;
    arr.drain([&](const Pair& p) { drained.push_back(p); });
    EXPECT_TRUE(arr.empty());
    ASSERT_EQ(drained.size(), n);
    for (size_t k = 0; k < n; ++k) EXPECT_EQ(drained[k].b, ref[k].b);
    arr.push_back(Pair{1, 2});  // usable again after draining
    EXPECT_EQ(arr.size(), 1u);
    EXPECT_EQ(arr[0].b, 2u);
  }
}

}  // namespace chunked_array_test
}  // namespace cairn
