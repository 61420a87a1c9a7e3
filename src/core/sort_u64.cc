#include "core/sort_u64.h"

#include <algorithm>
#include <array>
#include <cstddef>

namespace cairn {

namespace {

constexpr int kTopBits = 8;
constexpr size_t kTopBuckets = size_t{1} << kTopBits;
constexpr int kTopShift = 64 - kTopBits;  // the bucket: bits 56..63
// Below this many values, std::sort.
constexpr size_t kSmall = 32768;
constexpr int kBits = 11;
constexpr size_t kBuckets = size_t{1} << kBits;
constexpr uint64_t kMask = kBuckets - 1;
constexpr int kInner[2] = {kTopShift - 2 * kBits, kTopShift - kBits};  // 34, 45
constexpr int kSortedShift = kInner[0];  // sorted on bits 34..63 after the passes

// Sorts [src, src + n) by bits 34..55 into dst, with buf as scratch (two
// LSD passes: src -> buf -> dst).
void sort_bucket(const uint64_t* src, uint64_t* dst, uint64_t* buf, size_t n) {
  std::array<std::array<uint32_t, kBuckets>, 2> count{};
  for (size_t i = 0; i < n; ++i) {
    const uint64_t x = src[i];
    ++count[0][(x >> kInner[0]) & kMask];
    ++count[1][(x >> kInner[1]) & kMask];
  }
  for (auto& c : count) {
    uint32_t sum = 0;
    for (uint32_t& k : c) {
      const uint32_t m = k;
      k = sum;
      sum += m;
    }
  }
  const uint64_t* from = src;
  uint64_t* const targets[2] = {buf, dst};
  for (int pass = 0; pass < 2; ++pass) {
    uint64_t* to = targets[pass];
    auto& c = count[static_cast<size_t>(pass)];
    const int shift = kInner[pass];
    for (size_t i = 0; i < n; ++i) {
      const uint64_t x = from[i];
      to[c[(x >> shift) & kMask]++] = x;
    }
    from = to;
  }
}

}  // namespace

void sort_u64(std::vector<uint64_t>& v) {
  const size_t n = v.size();
  if (n < kSmall) {
    std::sort(v.begin(), v.end());
    return;
  }
  std::vector<uint64_t> tmp(n);
  std::vector<size_t> start(kTopBuckets + 1, 0);
  for (const uint64_t x : v) ++start[(x >> kTopShift) + 1];
  for (size_t b = 0; b < kTopBuckets; ++b) start[b + 1] += start[b];
  {
    std::vector<size_t> fill(start.begin(), start.end() - 1);
    for (const uint64_t x : v) tmp[fill[x >> kTopShift]++] = x;
  }
  size_t largest = 0;
  for (size_t b = 0; b < kTopBuckets; ++b) largest = std::max(largest, start[b + 1] - start[b]);
  std::vector<uint64_t> buf(largest);
  for (size_t b = 0; b < kTopBuckets; ++b) {
    const size_t at = start[b], len = start[b + 1] - at;
    if (len > UINT32_MAX) {  // counts are 32-bit: a bucket this large takes the general sort
      std::copy(tmp.begin() + static_cast<std::ptrdiff_t>(at), tmp.begin() + static_cast<std::ptrdiff_t>(at + len),
                v.begin() + static_cast<std::ptrdiff_t>(at));
      std::sort(v.begin() + static_cast<std::ptrdiff_t>(at), v.begin() + static_cast<std::ptrdiff_t>(at + len));
      continue;
    }
    sort_bucket(tmp.data() + at, v.data() + at, buf.data(), len);
  }
  // Values now ascend by bits 34..63; values equal there finish by comparison.
  for (size_t i = 0; i + 1 < n;) {
    size_t j = i + 1;
    while (j < n && (v[j] >> kSortedShift) == (v[i] >> kSortedShift)) ++j;
    if (j - i > 1) std::sort(v.begin() + static_cast<std::ptrdiff_t>(i), v.begin() + static_cast<std::ptrdiff_t>(j));
    i = j;
  }
}

}  // namespace cairn
