// The write-ahead log (DIR/wal.log). An import is acknowledged once its
// batch is in the WAL and fsynced; it is then applied to segments and the
// WAL is removed. After a crash, the next writer applies every committed
// record whose sequence number is above the manifest's wal_applied.
//
//   Log    := Record*
//   Record := Part (PartEndFrame Part)* CommitFrame  (all frames of a
//             record share its seq)
//   Part   := Frame*  (one batch, with its own pools: an import parsed in
//             pieces is logged piece by piece; replay appends the parts
//             in order, ImportBatch::append)
//   Frame  := "CWAL" | type u8 | seq u64 | comp_size u32 | raw_size u32
//             | xxh3_64(stored body) u64 | low 32 bits of xxh3_64 of the
//             29 header bytes before it u32 | body   (33-byte header)
//   body   : an LZ4 block of raw_size bytes, or, when comp_size ==
//            raw_size, the raw bytes as they are (message hashes; any
//            frame LZ4 would not shrink)
//   type   : 1 pool (u8 which: 0 ids, 1 event names, 2 keys, 3 strings;
//                    varint count; strings; for ids one u8 known flag each)
//           12 events (varint n; then column by column, n values each:
//                      the time minus the previous event's in the frame
//                      (0 before the first) zigzag; person varint (the
//                      user id, or the anonymous id when there is none);
//                      event varint; prop_count varint)
//            8 events as written before: as 12 with two id columns for
//                     the person one, user_id varint+1 and anonymous_id
//                     varint+1 (0: none); still read
//           10 hashes (varint n; n message_hash u64), right after each
//                      events frame, for its n events
//            9 props (varint n; n keys varint; then n values: for a
//                     number the varint 1 and its bits u64, else the
//                     varint bits << 2 | type), in the events' order
//            4 links (varint count; from varint, to varint)
//           13 traits (varint count; id varint, key varint, type u8, bits
//                      u64, links_before varint: how many of the part's
//                      links came before the trait)
//            5 traits as written before: as 13 without links_before (each
//                     after all the part's links); still read
//            6 costs (varint count; day zigzag, channel varint, campaign
//                     varint, cost f64)
//            7 commit (varint events, varint props: the last part's)
//           11 part end (varint events, varint props: the part's; another
//                        part of the record follows)
//            (2 and 3, events and properties of earlier versions, are
//            refused with a message naming them)
// A frame cut short at the end of the file (or a zero-filled tail) is a write
// that never finished: its record never committed, was never acknowledged,
// and is dropped. A header or body checksum mismatch is corruption and is
// reported with the offset, so a flipped bit never silently drops an
// acknowledged import.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "core/status.h"
#include "ingest/batch.h"

namespace cairn {

// Appends the parts of one import as record `seq` to the log at path and
// fsyncs it. Without `commit`, the record stays open: the parts of a later
// call with the same seq continue it (an import in rounds), and a replay
// drops a record whose commit never came.
Status wal_append(const std::string& path, uint64_t seq, std::span<const ImportBatch> parts, bool commit = true);
inline Status wal_append(const std::string& path, uint64_t seq, const ImportBatch& batch) {
  return wal_append(path, seq, std::span<const ImportBatch>(&batch, 1));
}

// Calls apply(seq, batch, commit) for each committed record, in order: its
// parts appended in order, in batches of round_events events or more (whole
// parts), the last one with commit set; a record that holds fewer is one
// batch. A record without its commit (never acknowledged) is not applied at
// all. Apply the batches of a record as one import in rounds
// (Store::import_round): after an error, give them up.
Status wal_replay(const std::string& path, const std::function<Status(uint64_t, ImportBatch&, bool)>& apply,
                  uint64_t round_events = 16'000'000);

}  // namespace cairn
