// The bytes of a segment file (seg-NNNNNN.cseg). A segment is immutable and
// holds the rows of one partition sorted by (person, time, arrival). All
// integers are little-endian; "varint" is LEB128, "zigzag" is a varint of the
// zigzag-mapped signed value.
//
//   File    := Header Chunk* Footer Tail
//   Header  := "CAIRNSEG" | version u32 (= 3; 2 is read too)
//   Chunk   := one column of one block: a zstd frame, or the raw bytes when
//              comp_size == raw_size in its ChunkRef (message hashes, and any
//              column zstd would not shrink). Person and event columns
//              use zstd level 3, property columns level 1; the time column
//              is stored raw (it compresses its own streams). Chunks are found
//              only through the footer.
//   Footer  := zstd frame of FooterBody
//   Tail    := footer_offset u64 | footer_comp_size u64 | footer_raw_size u64
//              | xxh3_64(footer bytes) u64 | "CSEGTAIL"              (40 bytes)
//
//   FooterBody := rows varint | block_count varint | Block*
//   Block      := rows varint | persons varint | min_person varint
//                 | max_person varint | min_time zigzag | max_time zigzag
//                 | person ChunkRef | time ChunkRef | event ChunkRef
//                 | message ChunkRef
//                 | key_count varint | (key_id varint | ChunkRef)*
//   ChunkRef   := offset varint | comp_size varint | raw_size varint
//                 | xxh3_64(compressed bytes) u64
//
// A block holds whole persons (it closes at a person boundary once it has
// kBlockRows rows), so a scan hands each person to a kernel from one block.
// Column encodings, before compression:
//   person : per person run: (person − previous person in block) varint,
//            row count varint. Persons ascend within a block.
//   time   : unit varint (gcd of all time − min_time in the block, ≥ 1)
//            | mode u8 (0, or 1: second flags)
//            | firsts: width u8 (0-64), byte length varint, then per person
//              run (first time − min_time)/unit in `width` bits, packed
//              from each byte's lowest bit on (ceil(persons·width/8) bytes)
//            | codes Stream | tops Stream
//            | exception_count varint | exception varint*
//            | lows: the rest but the last 3 bytes | 3 zero bytes.
//            Each other row has a delta, in row order (nd = rows − persons
//            of them). Without flags: d = (time − previous time)/unit; a d
//            below E = 0xFFFFFFFF is v = d, else v = E and d is the next
//            exception. With second flags (mode 1): a time difference that
//            is a nonzero whole number of seconds s below E = 0x7FFFFFFF is
//            v = s, flagged; any other is d as before, unflagged, with
//            E = 0x7FFFFFFF. v takes code+1 bytes (code 0..3, the least
//            that hold it, a flagged mode's top byte holding 7 bits of it):
//            codes holds the codes, 4 per byte from the low bits
//            (ceil(nd/4) bytes, unused codes 0); tops holds v's highest
//            byte, with the flag as its bit 7 in mode 1 (nd bytes); lows
//            holds v's `code` lower bytes, little-endian, all deltas
//            concatenated. The writer writes both modes when the unit is
//            below a second and keeps the smaller chunk.
//            Version 2 had no mode byte (no flags) and firsts as a byte
//            length varint then a varint per person; it is still read.
//   event  : catalog event id varint per row.
//   key    : rows having the property: count varint, then per entry
//            (row − previous row − 1, first: row) varint and a value:
//            tag u8 0 string id varint | 1 integer zigzag | 2 double f64
//                   | 3 false | 4 true.
//   message: per row the XXH3-64 hash of its message id, u64 (0: none). Kept
//            per row so rewrites and deletions keep de-duplication exact.
// Every chunk and the footer are checksummed; a mismatch is reported with the
// file, the block and the offset, and the data is never returned.
#pragma once

#include <cstdint>

namespace cairn {

constexpr char kSegmentMagic[] = "CAIRNSEG";
constexpr char kSegmentTailMagic[] = "CSEGTAIL";
constexpr uint32_t kSegmentVersion = 3;
// The oldest version this cairn still reads (its time column differs, see above).
constexpr uint32_t kOldestSegmentVersion = 2;
constexpr size_t kSegmentTailSize = 40;
constexpr uint32_t kBlockRows = 65536;

enum ValueTag : uint8_t { kTagString = 0, kTagInteger = 1, kTagDouble = 2, kTagFalse = 3, kTagTrue = 4 };

}  // namespace cairn
