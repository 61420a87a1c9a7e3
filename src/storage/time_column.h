// The time column of a segment block (format version 2; the bytes are in
// segment_format.h).
//
// Every scan decodes it for every row it reads, so it is laid out for a
// decoder without serial dependencies or entropy decoding of the bulk: a
// delta's length comes from a 2-bit code (4 per byte, as in Stream VByte),
// its lower bytes are stored as they are (they are near-random: the
// simulator's and most real timestamps carry milliseconds no model
// predicts), and only the two small skewed streams (length codes and each
// delta's top byte) go through zstd. Against LEB128 varints in one zstd
// frame (version 1) this is ~3% smaller on simulator data (3.04 against
// 3.12 bytes an event) and puts a quarter of the bytes through zstd.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.h"

namespace cairn {

// Encodes the times of one block's rows, sorted by (person, time): `runs`
// gives the rows of each person in order (they sum to rows); min_time is the
// block's least time.
std::string encode_time_column(const Micros* time, size_t rows, const std::vector<uint32_t>& runs, Micros min_time);

// Reused buffers of decode_time_column.
struct TimeColumnScratch {
  std::string codes, tops;
  std::vector<uint64_t> firsts, exceptions;
  std::vector<uint32_t> deltas;
};

// Decodes a chunk written by encode_time_column into out[0..rows), or
// returns false when the bytes are malformed (never reads outside `chunk`).
bool decode_time_column(std::string_view chunk, Micros min_time, const std::vector<uint32_t>& runs, size_t rows,
                        Micros* out, TimeColumnScratch& scratch);

}  // namespace cairn
