// Fuzzes the readers of stored bytes: a segment file, the WAL, the manifest
// and catalog payloads, time parsing, TZif time zone files, a segment's
// time column without its checksum (which keeps mode 0 away from it), and the
// catalog's chunked value strings (their payloads, and a whole catalog file);
// a segment that opens is also copied without some persons (a restitch's
// write_segment_without) and the copy read back. Damaged input
// must give an error Status, never a crash, a hang or a huge allocation.
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/time.h"
#include "core/tz.h"
#include "storage/catalog.h"
#include "storage/file_util.h"
#include "storage/manifest.h"
#include "storage/segment.h"
#include "storage/string_chunks.h"
#include "storage/time_column.h"
#include "storage/wal.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cairn;
  if (size == 0) return 0;
  static const std::string path = "/tmp/cairn-fuzz-storage-" + std::to_string(::getpid());
  static const std::string copy_path = path + ".copy";
  static const bool removed_at_exit = std::atexit([] {
    std::remove(path.c_str());
    std::remove(copy_path.c_str());
  }) == 0;
  (void)removed_at_exit;
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 8) {
    case 0: {
      std::remove(path.c_str());
      if (!write_new_file(path, body).is_ok()) return 0;
      auto reader = SegmentReader::open(path);
      if (!reader) return 0;
      std::vector<uint64_t> hashes;
      for (size_t b = 0; b < reader->blocks().size(); ++b) {
        BlockColumns cols;
        (void)reader->read_core(b, cols);
        RowSet rows;
        (void)reader->read_rows(b, rows);
        (void)reader->read_block_hashes(b, hashes);
      }
      // A restitch's copy without some persons (the first block's first
      // and last), and what it wrote read back.
      if (!reader->blocks().empty()) {
        std::vector<uint32_t> persons{reader->blocks()[0].min_person, reader->blocks()[0].max_person};
        std::sort(persons.begin(), persons.end());
        persons.erase(std::unique(persons.begin(), persons.end()), persons.end());
        RowSet moved;
        std::remove(copy_path.c_str());
        auto st = write_segment_without(copy_path, *reader, persons, moved);
        if (st && st->rows > 0) {
          auto copy = SegmentReader::open(copy_path);
          if (!copy) __builtin_trap();  // what it wrote must open
          for (size_t b = 0; b < copy->blocks().size(); ++b) {
            RowSet rows;
            (void)copy->read_rows(b, rows);
          }
        }
      }
      break;
    }
    case 1: {
      std::remove(path.c_str());
      if (!write_new_file(path, body).is_ok()) return 0;
      (void)wal_replay(path, [](uint64_t, ImportBatch&, bool) { return Status::ok(); }, 3);
      break;
    }
    case 2:
      (void)Manifest::parse(body, "manifest");
      break;
    case 3: {
      // Four payloads: the first three bytes give the lengths of the first three.
      if (body.size() < 3) return 0;
      std::string_view rest = body.substr(3);
      std::string_view parts[3];
      for (int i = 0; i < 3; ++i) {
        const size_t n = std::min<size_t>(static_cast<uint8_t>(body[static_cast<size_t>(i)]) * 4, rest.size());
        parts[i] = rest.substr(0, n);
        rest.remove_prefix(n);
      }
      (void)Catalog::parse(parts[0], parts[1], parts[2], rest, "catalog");
      break;
    }
    case 4:
      (void)parse_time(body);
      break;
    case 5: {
      // A zone that parses must answer for any instant, around its table's
      // ends and far past them (the footer's rule).
      auto tz = TimeZone::from_tzif(body, "fuzz");
      if (!tz) return 0;
      for (Micros t : {INT64_MIN, Micros{-1}, Micros{0}, Micros{1'774'746'000'000'000}, Micros{2'224'800'000'000'000},
                       INT64_MAX}) {
        // Offsets are checked to lie within -25h..26h when parsed.
        const Micros off = tz->offset_at(t);
        if (off < -25 * 3600 * kMicrosPerSecond || off > 26 * 3600 * kMicrosPerSecond) __builtin_trap();
      }
      break;
    }
    case 6: {
      // Byte 0: person runs (1-8, low 3 bits) and the format version (2 or
      // 3, bit 3); the next bytes: each run's rows (1-32); the rest: the chunk.
      if (body.empty()) return 0;
      const size_t nruns = 1 + static_cast<uint8_t>(body[0]) % 8;
      if (body.size() < 1 + nruns) return 0;
      std::vector<uint32_t> runs;
      size_t rows = 0;
      for (size_t k = 0; k < nruns; ++k) {
        runs.push_back(1 + static_cast<uint8_t>(body[1 + k]) % 32);
        rows += runs.back();
      }
      std::vector<Micros> out(rows);
      TimeColumnScratch scratch;
      const uint32_t version = 2 + ((static_cast<uint8_t>(body[0]) >> 3) & 1);
      (void)decode_time_column(body.substr(1 + nruns), 1'767'225'600'000'000, runs, rows, out.data(), scratch,
                               version);
      break;
    }
    case 7: {
      // Byte 0 picks the reader, byte 1 is a count for the payload parsers.
      if (body.size() < 2) return 0;
      const std::string_view rest = body.substr(2);
      const size_t n = static_cast<uint8_t>(body[1]);
      switch (static_cast<uint8_t>(body[0]) % 4) {
        case 0: {
          StringsDirectory d;
          (void)StringChunks::parse_directory(rest, d);
          break;
        }
        case 1: {
          std::vector<std::string_view> strings;
          (void)StringChunks::parse_chunk(rest, n, strings);
          break;
        }
        case 2: {
          std::vector<std::pair<uint16_t, uint32_t>> entries;
          (void)StringChunks::parse_index(rest, n, entries);
          break;
        }
        default: {
          auto c = Catalog::read(std::string(rest), "catalog");
          if (c) (void)c->find_string("direct");
          break;
        }
      }
      break;
    }
  }
  return 0;
}
