// The segment time column (format version 3, and version 2 read): its bytes
// for small blocks worked out by hand from segment_format.h, with second
// flags and without, round trips of random blocks (every length code,
// escaped deltas, whole-second deltas, equal times, one-row persons, first
// times of every width), and damaged chunks, which must be refused or
// decoded without reading outside the chunk (this test also runs under
// AddressSanitizer).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
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

// Two persons: the first at 5 ms, 6 ms, 306 ms, 70,306 ms and 72,306 ms,
// the second once at 18 ms. Offsets from min_time are whole milliseconds,
// so the unit is 1000 µs; the first times 0 and 13 take 4 bits each.
const std::vector<Micros> kSmallTimes = {5000, 6000, 306000, 70306000, 72306000, 18000};
const std::vector<uint32_t> kSmallRuns = {5, 1};

TEST(TimeColumn, BytesOfASmallBlockWithSecondFlags) {
  // Deltas 1 ms and 300 ms in units; 70 s and 2 s are whole seconds,
  // written in seconds with the top byte's 8th bit set. With flags a code's
  // top byte holds 7 bits: 1 and 70 and 2 take code 0, 300 = 0x012C code 1.
  const std::string want(
      "\xE8\x07"                  // unit 1000
      "\x01"                      // mode: second flags
      "\x04"                      // firsts: 4 bits each
      "\x01\xD0"                  // 1 byte: 0 in bits 0-3, 13 in bits 4-7
      "\x01\x01\x04"              // codes: raw 1 byte, stored 1 (raw), 0 | 1 << 2 | 0 << 4 | 0 << 6
      "\x04\x04\x01\x01\xC6\x82"  // tops: raw 4, stored 4: 1, 0x01 of 300, 70 | 0x80, 2 | 0x80
      "\x00"                      // no exceptions
      "\x2C"                      // lows: 0x2C of 300
      "\x00\x00\x00",             // padding
      20);
  const std::string on = encode_time_column(kSmallTimes.data(), kSmallTimes.size(), kSmallRuns, 5000, SecondFlags::kOn);
  EXPECT_EQ(hex(on), hex(want));
  // Smaller than without flags (below), so chosen by default.
  EXPECT_EQ(hex(encode_time_column(kSmallTimes.data(), kSmallTimes.size(), kSmallRuns, 5000)), hex(want));
  std::vector<Micros> out(kSmallTimes.size());
  TimeColumnScratch scratch;
  ASSERT_TRUE(decode_time_column(on, 5000, kSmallRuns, kSmallTimes.size(), out.data(), scratch));
  EXPECT_EQ(out, kSmallTimes);
}

TEST(TimeColumn, BytesOfASmallBlockWithoutSecondFlags) {
  // Every delta in units: 1 (code 0), 300 = 0x012C (code 1), 70000 =
  // 0x011170 (code 2) and 2000 = 0x07D0 (code 1).
  const std::string want(
      "\xE8\x07"                  // unit 1000
      "\x00"                      // mode: no flags
      "\x04\x01\xD0"              // firsts as above
      "\x01\x01\x64"              // codes: 0 | 1 << 2 | 2 << 4 | 1 << 6
      "\x04\x04\x01\x01\x01\x07"  // tops
      "\x00"                      // no exceptions
      "\x2C\x70\x11\xD0"          // lows: 0x2C of 300; 0x70 0x11 of 70000; 0xD0 of 2000
      "\x00\x00\x00",             // padding
      23);
  const std::string off = encode_time_column(kSmallTimes.data(), kSmallTimes.size(), kSmallRuns, 5000, SecondFlags::kOff);
  EXPECT_EQ(hex(off), hex(want));
  std::vector<Micros> out(kSmallTimes.size());
  TimeColumnScratch scratch;
  ASSERT_TRUE(decode_time_column(off, 5000, kSmallRuns, kSmallTimes.size(), out.data(), scratch));
  EXPECT_EQ(out, kSmallTimes);
}

// Version 2's chunk (firsts as varints, no mode byte) still decodes.
TEST(TimeColumn, Version2BytesStillDecode) {
  // One person at 5 ms, 6 ms, 306 ms and 70,306 ms: deltas 1 (code 0),
  // 300 = 0x012C (code 1) and 70000 = 0x011170 (code 2).
  const std::vector<Micros> t = {5000, 6000, 306000, 70306000};
  const std::vector<uint32_t> runs = {4};
  const std::string v2(
      "\xE8\x07"              // unit 1000
      "\x01\x00"              // firsts: 1 byte, offset 0
      "\x01\x01\x24"          // codes: raw 1 byte, stored 1 (raw), 0 | 1 << 2 | 2 << 4
      "\x03\x03\x01\x01\x01"  // tops: raw 3, stored 3 (raw): 0x01, 0x01, 0x01
      "\x00"                  // no exceptions
      "\x2C\x70\x11"          // lows: 0x2C of 300; 0x70 0x11 of 70000
      "\x00\x00\x00",         // padding
      19);
  std::vector<Micros> out(t.size());
  TimeColumnScratch scratch;
  ASSERT_TRUE(decode_time_column(v2, 5000, runs, t.size(), out.data(), scratch, 2));
  EXPECT_EQ(out, t);
  // Read as version 3 the same bytes are malformed (mode byte 1, then a
  // firsts width of 0 with a byte of bits).
  EXPECT_FALSE(decode_time_column(v2, 5000, runs, t.size(), out.data(), scratch, 3));
}

// First times 63 bits wide (offsets up to 2^63 - 1, the most a time minus
// the block's least can be without overflowing): values that straddle two
// 8-byte loads.
TEST(TimeColumn, WideFirstTimes) {
  for (const std::vector<Micros>& t : std::vector<std::vector<Micros>>{
           {INT64_MIN, -1, INT64_MIN + 12345, -3, INT64_MIN + 1}, {INT64_MIN + 1, -2, -1, INT64_MIN + 7}}) {
    const std::vector<uint32_t> runs(t.size(), 1);
    const Micros min_time = *std::min_element(t.begin(), t.end());
    const std::string chunk = encode_time_column(t.data(), t.size(), runs, min_time);
    std::vector<Micros> out(t.size());
    TimeColumnScratch scratch;
    ASSERT_TRUE(decode_time_column(chunk, min_time, runs, t.size(), out.data(), scratch));
    EXPECT_EQ(out, t);
  }
}

struct Block {
  std::vector<Micros> time;
  std::vector<uint32_t> runs;
  Micros min_time = 0;
  std::string chunk;  // encoded (second flags as the encoder chooses)
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
  const bool whole_seconds = rng() % 2;  // blocks with and without deltas of whole seconds
  for (size_t p = 0; p < persons; ++p) {
    const uint32_t n = 1 + static_cast<uint32_t>(rng() % (rng() % 4 == 0 ? 200 : 12));
    Micros t = base + static_cast<Micros>(rng() % 100000000) * unit;
    for (uint32_t k = 0; k < n; ++k) {
      if (k > 0) {
        switch (rng() % (whole_seconds ? 10 : 8)) {
          case 0: break;  // the same time
          case 1: t += static_cast<Micros>(rng() % 256) * unit; break;
          case 2: t += static_cast<Micros>(rng() % 65536) * unit; break;
          case 3: t += static_cast<Micros>(rng() % (1u << 24)) * unit; break;
          case 4: t += static_cast<Micros>(rng() % 0xFFFFFFFFull) * unit; break;
          case 5: t += static_cast<Micros>(0xFFFFFFFFull + rng() % 3) * unit; break;  // escaped
          case 6: t += static_cast<Micros>(rng() % (1ull << 36)) * unit; break;  // 200 of these stay far inside int64
          case 8: t += static_cast<Micros>(rng() % (1ull << (rng() % 32))) * 1000000; break;  // whole seconds
          case 9: t += static_cast<Micros>(0x7FFFFFFFull + rng() % 3) * 1000000; break;  // ... escaped with flags
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
  size_t escaped_blocks = 0, flagged_blocks = 0;
  for (int trial = 0; trial < 300; ++trial) {
    const Block b = random_block(rng);
    std::vector<Micros> out;
    TimeColumnScratch scratch;
    ASSERT_TRUE(decode(b, b.chunk, b.runs, out, scratch)) << trial;
    ASSERT_EQ(out, b.time) << trial;
    escaped_blocks += !scratch.exceptions.empty();
    // Either way decodes to the same times; the default is the smaller.
    std::string way[2];
    for (const bool on : {false, true}) {
      way[on] = encode_time_column(b.time.data(), b.time.size(), b.runs, b.min_time,
                                   on ? SecondFlags::kOn : SecondFlags::kOff);
      ASSERT_TRUE(decode(b, way[on], b.runs, out, scratch)) << trial << " flags " << on;
      ASSERT_EQ(out, b.time) << trial << " flags " << on;
    }
    // (With a unit of a second or more flags are not tried.)
    const bool tried = time_unit(b.time.data(), b.time.size(), b.min_time) < 1000000;
    const std::string& smaller = tried && way[1].size() < way[0].size() ? way[1] : way[0];
    EXPECT_EQ(b.chunk, smaller) << trial;
    flagged_blocks += b.chunk == way[1];
  }
  EXPECT_GT(escaped_blocks, 50u) << "the exceptions were exercised";
  EXPECT_GT(flagged_blocks, 50u) << "second flags were chosen";
  EXPECT_LT(flagged_blocks, 250u) << "second flags were not always chosen";
}

TEST(TimeColumn, DamagedChunksAreRefusedOrStayInside) {
  std::mt19937_64 rng(9);
  size_t refused = 0;
  for (int trial = 0; trial < 300; ++trial) {
    const Block b = random_block(rng);
    const std::string chunk = encode_time_column(b.time.data(), b.time.size(), b.runs, b.min_time,
                                                 trial % 2 ? SecondFlags::kOn : SecondFlags::kOff);
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
