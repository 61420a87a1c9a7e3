// Store: one cairn database directory (layout in docs/FORMAT.md).
//
// Opening gives a consistent snapshot: the manifest named by CURRENT, its
// catalog, and every segment file held open. Writes (import, compact,
// delete-person) take DIR/LOCK, write new files, and commit by replacing
// CURRENT; a reader that opened before keeps its snapshot.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "ingest/batch.h"
#include "storage/catalog.h"
#include "storage/file_util.h"
#include "storage/manifest.h"
#include "storage/rows.h"
#include "storage/segment.h"

namespace cairn {

struct ImportStats {
  uint64_t events_added = 0;
  uint64_t duplicates = 0;  // events whose message_id was already stored or repeated
  uint64_t links = 0;
  uint64_t traits = 0;
  uint64_t costs = 0;
  uint64_t partitions_rewritten = 0;  // partitions restitched (ids linked later) or their segments merged
};

// True for the names of the files a Store writes and may delete when no
// manifest names them (docs/FORMAT.md); other files in the directory are
// the user's and are left alone.
bool is_store_file_name(std::string_view name);

// The bytes of the segment files in dir, counted up to at least `enough`
// (a look at the directory only, without opening the store: for a process
// deciding how to run before it does); 0 when dir cannot be read.
uint64_t segment_file_bytes(const std::string& dir, uint64_t enough);

class Store {
 public:
  enum class Mode {
    kRead,    // never writes, except to finish a crashed import when no writer holds the lock
    kWrite,   // holds the writer lock; creates the database when missing
    kUpdate,  // holds the writer lock; the database must exist
  };
  static Result<std::unique_ptr<Store>> open(const std::string& dir, Mode mode);
  ~Store();  // gives up an import whose last round did not come

  const std::string& dir() const { return dir_; }
  const Manifest& manifest() const { return manifest_; }
  const Catalog& catalog() const { return catalog_; }
  uint32_t partitions() const { return manifest_.partitions; }
  const std::vector<SegmentReader>& segments(uint32_t partition) const { return readers_[partition]; }
  uint32_t partition_of(uint32_t person) const;
  // The bytes of this snapshot's files: CURRENT, the manifest, the catalog
  // and the segments (not files a writer adds or removes meanwhile).
  uint64_t bytes_on_disk() const;

  // REQUIRES: Mode::kWrite. Logs the batch to the WAL (fsync: the import is
  // acknowledged), then applies it. With wal_only, stops after the WAL (the
  // next open applies it); used to test recovery.
  Result<ImportStats> import(const ImportBatch& batch, bool wal_only = false) {
    return import(std::span<const ImportBatch>(&batch, 1), wal_only);
  }
  // The same for one import given as parts, each with its own dictionaries
  // (parse_file_parts): the result is that of importing the parts appended
  // in order (ImportBatch::append) as one batch, without that merge.
  Result<ImportStats> import(std::span<const ImportBatch> parts, bool wal_only = false);
  // A streamed import, in rounds, for inputs too large to hold at once: each
  // round's parts are logged to the WAL as parts of one record (committed by
  // the last round's) and applied to new segments that later rounds build
  // on, as consecutive imports would; only the last round (last = true)
  // switches the manifest, so the import becomes visible all at once. Until
  // then nothing a reader or a later open sees has changed; abort_import()
  // (or closing the store) gives the rounds up and removes their files.
  // The stats are the round's.
  Result<ImportStats> import_round(std::span<const ImportBatch> parts, bool last);
  Status abort_import();
  // For a process that imports once and then exits (cairn import): once an
  // import's dictionaries are mapped, the catalog's lookup indexes of person
  // ids and value strings (~100 MB at 10M events) are freed instead of kept
  // for a next import, which lowers the import's peak memory; a later
  // lookup builds them again (a cost each later import would pay).
  void set_single_import() { single_import_ = true; }
  // Merges every partition's segments into one.
  Status compact();
  // Removes every event, id and trait of the person with this id, for good.
  // Returns the number of events removed.
  Result<uint64_t> delete_person(std::string_view id);

  // Reads and checks every block of every segment.
  Status verify() const;

  // All rows of one person (canonical root), in (time, arrival) order.
  Status read_person(uint32_t person, RowSet& out) const;

 private:
  Store() = default;
  Status load_current();
  Status recover_wal();
  // Back to the version on disk from an import's rounds (abort_import); the
  // WAL stays unless remove_wal.
  Status give_up_rounds(bool remove_wal);
  // Applies a batch: new segments, then one manifest switch. before_commit
  // runs just before the switch (import waits there for its WAL write).
  // With `commit_now` false (an import round before the last), the new
  // segments become this object's state without the switch.
  Result<ImportStats> apply(uint64_t seq, std::span<const ImportBatch> parts,
                            const std::function<Status()>& before_commit = {}, bool commit_now = true);
  // Logs one import's parts (record seq; committed with `commit`) while they
  // are applied.
  Result<ImportStats> log_and_apply(uint64_t seq, std::span<const ImportBatch> parts, bool commit);
  // The catalog file's bytes, or why its stored parts could not be read.
  Result<std::string> serialize_catalog() const;
  // Writes catalog + manifest for the next version and switches CURRENT.
  // With catalog_written, the catalog is already in that (new, fsynced)
  // file of the directory.
  Status commit(Manifest next, const std::string& catalog_written = {});
  // Marks with 0 in `keep` every event whose message hash is stored already
  // or repeats an earlier event of the batch.
  // Events are numbered across the parts, in order.
  Status find_duplicates(std::span<const ImportBatch> parts, std::vector<uint8_t>& keep, uint64_t& duplicates) const;
  // Of a batch's distinct message hashes (sorted), those the store holds, sorted.
  Result<std::vector<uint64_t>> stored_message_hashes(const std::vector<uint64_t>& distinct) const;
  // Removes the store's files that neither this version nor `also_live`
  // (the manifest on disk, while an import's rounds are applied) names.
  Status remove_unreferenced_files(const Manifest* also_live = nullptr);
  // Opens the segments of m, taking readers of files it already has from
  // `reuse`; checks each file's row count against the manifest.
  Result<std::vector<std::vector<SegmentReader>>> open_segments(const Manifest& m,
                                                                std::vector<std::vector<SegmentReader>>& reuse) const;
  // The rows of partition p's segments from first_segment on, appended to out.
  Status read_partition(uint32_t p, RowSet& out, size_t first_segment = 0) const;
  std::string next_file_name(Manifest& m, const char* prefix, const char* ext) const;

  std::string dir_;
  std::unique_ptr<DirLock> lock_;
  Manifest manifest_;
  Catalog catalog_;
  std::vector<std::vector<SegmentReader>> readers_;
  bool single_import_ = false;  // set_single_import()
  // While an import's rounds are applied: the manifest on disk (manifest_
  // holds the rounds' segments).
  std::optional<Manifest> committed_;
  uint64_t meta_bytes_ = 0;  // CURRENT, the manifest and the catalog of this snapshot
};

}  // namespace cairn
