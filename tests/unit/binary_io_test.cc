// The hot-loop varint decoder against the checked BinaryReader: every length
// from 1 to 10 bytes, values at the edges of each length, at every distance
// from the end of the buffer, and cut-off or over-long input.
#include <gtest/gtest.h>

#include <random>

#include "storage/binary_io.h"

namespace cairn {
namespace binary_io_test {

TEST(BinaryIo, FastVarintDecodesWhatTheWriterWrote) {
  std::vector<uint64_t> values = {0, 1, 127, 128, 255, 16383, 16384, UINT64_MAX, UINT64_MAX - 1, uint64_t{1} << 63};
  for (int bits = 1; bits < 64; ++bits) {
    values.push_back((uint64_t{1} << bits) - 1);
    values.push_back(uint64_t{1} << bits);
  }
  std::mt19937_64 rng(7);
  for (int i = 0; i < 2000; ++i) values.push_back(rng() >> (rng() % 64));
  BinaryWriter w;
  for (uint64_t v : values) w.put_varint(v);
  const std::string& bytes = w.buffer();
  // Decode from the start and from every offset at which a value begins,
  // with the buffer ending right after that value (the slow path) or not.
  const auto* begin = reinterpret_cast<const uint8_t*>(bytes.data());
  const auto* end = begin + bytes.size();
  const uint8_t* p = begin;
  for (uint64_t want : values) {
    BinaryReader r(std::string_view(reinterpret_cast<const char*>(p), static_cast<size_t>(end - p)));
    const uint64_t checked = r.get_varint();
    const size_t len = r.position();
    ASSERT_EQ(checked, want);
    uint64_t got = 0;
    ASSERT_EQ(get_varint_fast(p, end, got), p + len);
    ASSERT_EQ(got, want);
    ASSERT_EQ(get_varint_fast(p, p + len, got), p + len) << "value ending the buffer";
    ASSERT_EQ(got, want);
    ASSERT_EQ(get_varint_fast(p, p + len - 1, got), nullptr) << "cut off";
    p += len;
  }
  EXPECT_EQ(p, end);
}

TEST(BinaryIo, FastVarintRejectsOverlongInput) {
  const std::string eleven(11, '\x80');
  const auto* b = reinterpret_cast<const uint8_t*>(eleven.data());
  uint64_t v;
  EXPECT_EQ(get_varint_fast(b, b + eleven.size(), v), nullptr);
  EXPECT_EQ(get_varint_fast(b, b + 3, v), nullptr);
}


// The bulk decoder against get_varint_fast on runs of mixed lengths: short
// and long runs (the 64-byte rounds and the checked tail), values straddling
// the rounds' edges, every prefix cut off, and over-long varints anywhere.
TEST(BinaryIo, BulkVarintsDecodeWhatTheWriterWrote) {
  std::mt19937_64 rng(11);
  for (int trial = 0; trial < 400; ++trial) {
    const size_t n = rng() % (trial < 200 ? 40 : 600);
    const int max_shift = static_cast<int>(rng() % 64);
    std::vector<uint64_t> values;
    BinaryWriter w;
    for (size_t i = 0; i < n; ++i) {
      uint64_t v = rng() >> (64 - 1 - rng() % (max_shift + 1));
      if (rng() % 50 == 0) v = rng();  // some 9 and 10 byte values
      values.push_back(v);
      w.put_varint(v);
    }
    const std::string& bytes = w.buffer();
    const auto* begin = reinterpret_cast<const uint8_t*>(bytes.data());
    const auto* end = begin + bytes.size();
    std::vector<uint64_t> got(n + 1, 12345);
    ASSERT_EQ(get_varints_fast(begin, end, got.data(), n), end) << "trial " << trial;
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(got[i], values[i]) << "trial " << trial << " value " << i;
    EXPECT_EQ(got[n], 12345u) << "wrote past n";
    std::vector<uint32_t> narrow(n);
    ASSERT_EQ(get_varints_fast(begin, end, narrow.data(), n), end);
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(narrow[i], static_cast<uint32_t>(values[i]));
    // Fewer values than the buffer holds: stops right after the k-th.
    if (n > 0) {
      const size_t k = rng() % n;
      const uint8_t* q = begin;
      uint64_t v;
      for (size_t i = 0; i < k; ++i) q = get_varint_fast(q, end, v);
      ASSERT_EQ(get_varints_fast(begin, end, got.data(), k), q);
      // Cut off inside the last value: nullptr.
      const uint8_t* after = get_varint_fast(q, end, v);
      ASSERT_EQ(get_varints_fast(begin, after - 1, got.data(), k + 1), nullptr);
    }
    // An 11-byte run of continuation bytes in place of one value.
    if (n > 2) {
      const size_t k = rng() % n;
      BinaryWriter bad;
      for (size_t i = 0; i < n; ++i) {
        if (i == k) {
          bad.put_bytes(std::string(11, '\x80'));
          bad.put_u8(1);
        } else {
          bad.put_varint(values[i]);
        }
      }
      const auto* b2 = reinterpret_cast<const uint8_t*>(bad.buffer().data());
      EXPECT_EQ(get_varints_fast(b2, b2 + bad.size(), got.data(), n), nullptr) << "trial " << trial;
    }
  }
}

}  // namespace binary_io_test
}  // namespace cairn
