// The time column of a segment block (format version 3, and version 2 read;
// the bytes are in segment_format.h).
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
//
// Version 3 adds two things a scan hardly notices. A delta that is a whole
// number of seconds may be written in seconds, flagged by its top byte's 8th
// bit (15% of the simulator's deltas: events a whole number of seconds
// apart keep their milliseconds, which no model predicts, and would
// otherwise carry them in the delta); the encoder writes the block both
// ways and keeps the smaller, so a block without such deltas pays nothing.
// And the persons' first times are packed in the block's width of bits
// instead of varints. On the simulator's data the column is 2.91 bytes an
// event against version 2's 3.02.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.h"
#include "storage/segment_format.h"

namespace cairn {

// Whether deltas of whole seconds are written in seconds, flagged: kAuto
// writes the block both ways and keeps the smaller (tests force one).
enum class SecondFlags { kAuto, kOff, kOn };

// Encodes the times of one block's rows (version 3), sorted by (person,
// time): `runs` gives the rows of each person in order (they sum to rows);
// min_time is the block's least time.
std::string encode_time_column(const Micros* time, size_t rows, const std::vector<uint32_t>& runs, Micros min_time,
                               SecondFlags second_flags = SecondFlags::kAuto);

// Reused buffers of decode_time_column.
struct TimeColumnScratch {
  std::string codes, tops, first_bits;
  std::vector<uint64_t> firsts, exceptions;
  std::vector<uint32_t> deltas;
};

// Decodes a chunk of the segment format `version` (2 or 3; encode_time_column
// writes 3) into out[0..rows), or returns false when the bytes are malformed
// (never reads outside `chunk`).
bool decode_time_column(std::string_view chunk, Micros min_time, const std::vector<uint32_t>& runs, size_t rows,
                        Micros* out, TimeColumnScratch& scratch, uint32_t version = kSegmentVersion);

}  // namespace cairn
