// The hot-loop varint decoder against the checked BinaryReader: every length
// from 1 to 10 bytes, values at the edges of each length, at every distance
// from the end of the buffer, and cut-off or over-long input.
#include <gtest/gtest.h>

#include <random>

#include "storage/binary_io.h"

namespace cairn {
namespace {

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

}  // namespace
}  // namespace cairn
