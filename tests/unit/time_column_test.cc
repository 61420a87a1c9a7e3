// The segment time column (format version 2): its bytes for a small block
// worked out by hand from segment_format.h, round trips of random blocks
// (every length code, escaped deltas, equal times, one-row persons), and
// damaged chunks, which must be refused or decoded without reading outside
// the chunk (this test also runs under AddressSanitizer).
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <random>

#include "storage/time_column.h"

namespace cairn {
namespace time_column_test {

std::string hex(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    static const char* d = "0123456789ABCDEF";
    out += d[c >> 4];
    out += d[c & 15];
    out += ' ';
  }
  return out;
}

TEST(TimeColumn, BytesOfASmallBlockAsTheFormatSays) {
  // One person at 5 ms, 6 ms, 306 ms and 70,306 ms: offsets from min_time
  // 0, 1000, 301000, 70301000 µs, so the unit is 1000 µs and the deltas are
  // 1 (code 0), 300 = 0x012C (code 1) and 70000 = 0x011170 (code 2).
  const std::vector<Micros> t = {5000, 6000, 306000, 70306000};
  const std::vector<uint32_t> runs = {4};
  const std::string got = encode_time_column(t.data(), t.size(), runs, 5000);
  const std::string want(
      "\xE8\x07"           // unit 1000
      "\x01\x00"           // firsts: 1 byte, offset 0
      "\x01\x01\x24"       // codes: raw 1 byte, stored 1 (raw), 0 | 1 << 2 | 2 << 4
      "\x03\x03\x01\x01\x01"  // tops: raw 3, stored 3 (raw): 0x01, 0x01, 0x01
      "\x00"               // no exceptions
      "\x2C\x70\x11"       // lows: 0x2C of 300; 0x70 0x11 of 70000
      "\x00\x00\x00",      // padding
      19);
  EXPECT_EQ(hex(got), hex(want));
  std::vector<Micros> out(t.size());
  TimeColumnScratch scratch;
  ASSERT_TRUE(decode_time_column(got, 5000, runs, t.size(), out.data(), scratch));
  EXPECT_EQ(out, t);
}

struct Block {
  std::vector<Micros> time;
  std::vector<uint32_t> runs;
  Micros min_time = 0;
  std::string chunk;  // encoded
};

// Decodes a chunk for block b's rows with the given runs into out.
bool decode(const Block& b, std::string_view chunk, const std::vector<uint32_t>& runs, std::vector<Micros>& out,
            TimeColumnScratch& scratch) {
  out.assign(b.time.size(), 0);
  return decode_time_column(chunk, b.min_time, runs, b.time.size(), out.data(), scratch);
}

Block random_block(std::mt19937_64& rng) {
  Block b;
  const Micros unit = std::vector<Micros>{1, 1000, 1000000, 7}[rng() % 4];
  const Micros base = static_cast<Micros>(rng() % 4000000000ull) * 1000000 - 2000000000000000ll;
  const size_t persons = 1 + rng() % 300;
  for (size_t p = 0; p < persons; ++p) {
    const uint32_t n = 1 + static_cast<uint32_t>(rng() % (rng() % 4 == 0 ? 200 : 12));
    Micros t = base + static_cast<Micros>(rng() % 100000000) * unit;
    for (uint32_t k = 0; k < n; ++k) {
      if (k > 0) {
        switch (rng() % 8) {
          case 0: break;  // the same time
          case 1: t += static_cast<Micros>(rng() % 256) * unit; break;
          case 2: t += static_cast<Micros>(rng() % 65536) * unit; break;
          case 3: t += static_cast<Micros>(rng() % (1u << 24)) * unit; break;
          case 4: t += static_cast<Micros>(rng() % 0xFFFFFFFFull) * unit; break;
          case 5: t += static_cast<Micros>(0xFFFFFFFFull + rng() % 3) * unit; break;  // escaped
          case 6: t += static_cast<Micros>(rng() % (1ull << 36)) * unit; break;  // 200 of these stay far inside int64
          default: t += static_cast<Micros>(rng() % 1000) * unit; break;
        }
      }
      b.time.push_back(t);
    }
    b.runs.push_back(n);
  }
  b.min_time = *std::min_element(b.time.begin(), b.time.end());
  b.chunk = encode_time_column(b.time.data(), b.time.size(), b.runs, b.min_time);
  return b;
}

// A chunk in a buffer of exactly its size (as the fuzzer hands one over; a
// std::string has a terminator past its end): blocks whose last deltas
// have no low bytes decode without reading past the padding (AddressSanitizer
// reports it otherwise, as it did for a fuzz input).
TEST(TimeColumn, DecodesFromAnExactSizeBuffer) {
  for (const std::vector<Micros>& t : std::vector<std::vector<Micros>>{
           {5000, 6000},                      // one delta of 1: code 0, no low bytes
           {5000, 306000, 307000, 308000},    // a low byte, then two deltas without
           {5000, 5000, 5000, 5000, 5000, 5000}}) {
    const std::vector<uint32_t> runs = {static_cast<uint32_t>(t.size())};
    const std::string chunk = encode_time_column(t.data(), t.size(), runs, 5000);
    auto exact = std::make_unique<char[]>(chunk.size());
    std::memcpy(exact.get(), chunk.data(), chunk.size());
    std::vector<Micros> out(t.size());
    TimeColumnScratch scratch;
    ASSERT_TRUE(decode_time_column(std::string_view(exact.get(), chunk.size()), 5000, runs, t.size(), out.data(),
                                   scratch));
    EXPECT_EQ(out, t);
  }
}

TEST(TimeColumn, RandomBlocksRoundTrip) {
  std::mt19937_64 rng(5);
  size_t escaped_blocks = 0;
  for (int trial = 0; trial < 300; ++trial) {
    const Block b = random_block(rng);
    std::vector<Micros> out;
    TimeColumnScratch scratch;
    ASSERT_TRUE(decode(b, b.chunk, b.runs, out, scratch)) << trial;
    ASSERT_EQ(out, b.time) << trial;
    escaped_blocks += !scratch.exceptions.empty();
  }
  EXPECT_GT(escaped_blocks, 50u) << "the exceptions were exercised";
}

TEST(TimeColumn, DamagedChunksAreRefusedOrStayInside) {
  std::mt19937_64 rng(9);
  size_t refused = 0;
  for (int trial = 0; trial < 300; ++trial) {
    const Block b = random_block(rng);
    const std::string& chunk = b.chunk;
    std::vector<Micros> out;
    TimeColumnScratch scratch;
    // Cut short anywhere: refused.
    const size_t cut = rng() % chunk.size();
    EXPECT_FALSE(decode(b, chunk.substr(0, cut), b.runs, out, scratch)) << cut;
    // A byte changed: refused, or decoded (a changed low or top byte is
    // still well-formed) without reading outside the chunk.
    std::string flipped = chunk;
    flipped[rng() % flipped.size()] ^= static_cast<char>(1 + rng() % 255);
    refused += !decode(b, flipped, b.runs, out, scratch);
    // Runs that do not sum to the rows: refused.
    std::vector<uint32_t> runs = b.runs;
    runs.back() += 1;
    EXPECT_FALSE(decode(b, chunk, runs, out, scratch));
    runs = b.runs;
    runs.push_back(0);
    EXPECT_FALSE(decode(b, chunk, runs, out, scratch));
  }
  EXPECT_GT(refused, 30u);
}

}  // namespace time_column_test
}  // namespace cairn
