#include "storage/store.h"

#include <dirent.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_set>

#include <fmt/format.h>

#include "core/parallel.h"
#include "core/sort_u64.h"
#include "storage/codec.h"
#include "storage/wal.h"

namespace cairn {

namespace {

constexpr char kManifestMagic[] = "CAIRNMAN";
constexpr uint32_t kDefaultPartitions = 16;
// A write that would give a partition this many segments merges them (all,
// or all but a large first one: Store::apply), so reads never merge more
// than a few files per partition.
constexpr size_t kMaxSegmentsPerPartition = 8;

// The manifest's entry for a segment just written as `name`.
SegmentMeta segment_meta(const std::string& name, const SegmentStats& st) {
  return SegmentMeta{name, st.rows, st.bytes, st.core_bytes, st.min_time, st.max_time};
}

}  // namespace

bool is_store_file_name(std::string_view name) {
  // PREFIX-NNNNNN[EXT] with at least six digits (next_file_name), or one of
  // those, CURRENT or the channel rules with ".tmp" (write_file_atomic).
  if (name.ends_with(".tmp")) {
    name.remove_suffix(4);
    if (name == "CURRENT" || name == "channel_rules.json") return true;
  }
  for (const auto& [prefix, ext] : {std::pair<std::string_view, std::string_view>{"seg-", ".cseg"},
                                    {"catalog-", ".bin"},
                                    {"MANIFEST-", ""}}) {
    if (!name.starts_with(prefix) || !name.ends_with(ext)) continue;
    const std::string_view digits = name.substr(prefix.size(), name.size() - prefix.size() - ext.size());
    if (name.size() >= prefix.size() + ext.size() + 6 &&
        std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return true;
  }
  return false;
}

uint64_t segment_file_bytes(const std::string& dir, uint64_t enough) {
  std::error_code ec;
  uint64_t bytes = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with("seg-") || !is_store_file_name(name)) continue;
    const uint64_t size = entry.file_size(ec);
    if (!ec) bytes += size;
    if (bytes >= enough) break;
  }
  return bytes;
}

uint32_t Store::partition_of(uint32_t person) const {
  const uint64_t h = ((uint64_t{person} + 1) * 0x9E3779B97F4A7C15ULL) >> 32;
  const uint32_t n = manifest_.partitions;
  // h % n; for a power of two (every store so far has 16) without a division,
  // which an import makes twice an event.
  return static_cast<uint32_t>((n & (n - 1)) == 0 ? h & (n - 1) : h % n);
}

uint64_t Store::bytes_on_disk() const {
  uint64_t bytes = meta_bytes_;
  for (const auto& list : manifest_.segments)
    for (const SegmentMeta& seg : list) bytes += seg.bytes;
  return bytes;
}

std::string Store::next_file_name(Manifest& m, const char* prefix, const char* ext) const {
  return fmt::format("{}-{:06d}{}", prefix, m.next_file++, ext);
}

Result<std::unique_ptr<Store>> Store::open(const std::string& dir, Mode mode) {
  std::unique_ptr<Store> s(new Store());
  s->dir_ = dir;
  const std::string current = dir + "/CURRENT";
  if (mode == Mode::kUpdate && !file_exists(current))
    return Status::not_found(fmt::format("no cairn database at {}", dir));
  if (mode != Mode::kRead) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return Status::io_error(fmt::format("cannot create database directory {}: {}", dir, ec.message()));
    auto lock = DirLock::acquire(dir, /*blocking=*/true);
    if (!lock) return lock.status();
    s->lock_ = std::make_unique<DirLock>(std::move(*lock));
    if (!file_exists(current)) {
      Manifest m;
      m.partitions = kDefaultPartitions;
      m.segments.resize(m.partitions);
      s->manifest_ = m;
      CAIRN_RETURN_IF_ERROR(s->commit(m));
    }
    CAIRN_RETURN_IF_ERROR(s->load_current());
    CAIRN_RETURN_IF_ERROR(s->remove_unreferenced_files());
    CAIRN_RETURN_IF_ERROR(s->recover_wal());
    return s;
  }
  if (!file_exists(current))
    return Status::not_found(fmt::format("no cairn database at {} (create one with cairn import --db {} FILE)", dir, dir));
  if (file_exists(dir + "/wal.log")) {
    // A crashed import left an acknowledged batch: finish it if no writer is
    // at work (a live writer finishes it itself).
    auto lock = DirLock::acquire(dir, /*blocking=*/false);
    if (lock) {
      s->lock_ = std::make_unique<DirLock>(std::move(*lock));
      CAIRN_RETURN_IF_ERROR(s->load_current());
      CAIRN_RETURN_IF_ERROR(s->recover_wal());
      s->lock_.reset();
      return s;
    }
  }
  // A writer may replace CURRENT and delete the old files between our reads;
  // then we simply read the newer version.
  Status st;
  for (int attempt = 0; attempt < 20; ++attempt) {
    st = s->load_current();
    if (st.is_ok() || st.code() == Status::Code::kCorruption) return st.is_ok() ? Result<std::unique_ptr<Store>>(std::move(s)) : st;
    usleep(20000);
  }
  return st;
}

Status Store::load_current() {
  auto current = read_file(dir_ + "/CURRENT");
  if (!current) return current.status();
  std::string name = *current;
  while (!name.empty() && (name.back() == '\n' || name.back() == '\r')) name.pop_back();
  if (!name.starts_with("MANIFEST-") || name.find('/') != std::string::npos)
    return Status::corruption(fmt::format("{}/CURRENT: bad content", dir_));
  const std::string mpath = dir_ + "/" + name;
  auto mbytes = read_file(mpath);
  if (!mbytes) return mbytes.status();
  auto mpayload = unseal_file(std::string_view(kManifestMagic, 8), *mbytes, mpath);
  if (!mpayload) return mpayload.status();
  auto m = Manifest::parse(*mpayload, mpath);
  if (!m) return m.status();
  uint64_t meta_bytes = current->size() + mbytes->size();
  Catalog catalog;
  if (!m->catalog.empty()) {
    const std::string cpath = dir_ + "/" + m->catalog;
    // A pure reader (no lock: it will not write) reads the value strings
    // and the persons on demand.
    // A writer reads the persons at once (every import looks ids up and
    // links them) and the value strings only if it must: a small import
    // looks its values up chunk by chunk and appends the new ones
    // (Catalog::intern_strings).
    auto c = Catalog::open_lazy(cpath);
    if (!c) return c.status();
    if (lock_) CAIRN_RETURN_IF_ERROR(c->load_persons());
    catalog = std::move(*c);
    meta_bytes += catalog.file_bytes();
  }
  std::vector<std::vector<SegmentReader>> none;
  auto readers = open_segments(*m, none);
  if (!readers) return readers.status();
  manifest_ = std::move(*m);
  catalog_ = std::move(catalog);
  readers_ = std::move(*readers);
  meta_bytes_ = meta_bytes;
  return Status::ok();
}

Result<std::vector<std::vector<SegmentReader>>> Store::open_segments(const Manifest& m,
                                                                     std::vector<std::vector<SegmentReader>>& reuse) const {
  std::vector<std::vector<SegmentReader>> readers(m.partitions);
  for (uint32_t p = 0; p < m.partitions; ++p) {
    for (const SegmentMeta& meta : m.segments[p]) {
      const std::string path = dir_ + "/" + meta.file;
      auto open = [&]() -> Result<SegmentReader> {
        if (p < reuse.size())
          for (SegmentReader& r : reuse[p])
            if (r.path() == path) return std::move(r);
        return SegmentReader::open(path);
      };
      auto r = open();
      if (!r) return r.status();
      if (r->rows() != meta.rows)
        return Status::corruption(fmt::format("{}/{}: {} rows, manifest says {}", dir_, meta.file, r->rows(), meta.rows));
      readers[p].push_back(std::move(*r));
    }
  }
  return readers;
}

Result<std::string> Store::serialize_catalog() const {
  std::string bytes = catalog_.serialize();
  if (bytes.empty()) {  // a stored part could not be read
    CAIRN_RETURN_IF_ERROR(catalog_.lazy_status());
    return Status::io_error(fmt::format("{}: the catalog could not be written", dir_));
  }
  return bytes;
}

Status Store::commit(Manifest next, const std::string& catalog_written) {
  next.version = manifest_.version + 1;
  uint64_t catalog_bytes = 0;
  if (catalog_written.empty()) {
    next.catalog = next_file_name(next, "catalog", ".bin");
    auto bytes = serialize_catalog();
    if (!bytes) return bytes.status();
    catalog_bytes = bytes->size();
    CAIRN_RETURN_IF_ERROR(write_new_file(dir_ + "/" + next.catalog, *bytes));
  } else {
    next.catalog = catalog_written;
    std::error_code ec;
    catalog_bytes = std::filesystem::file_size(dir_ + "/" + next.catalog, ec);
    if (ec) return Status::io_error(fmt::format("cannot read {}/{}: {}", dir_, next.catalog, ec.message()));
  }
  const std::string manifest_name = next_file_name(next, "MANIFEST", "");
  const std::string manifest_bytes = seal_file(std::string_view(kManifestMagic, 8), next.serialize());
  CAIRN_RETURN_IF_ERROR(write_new_file(dir_ + "/" + manifest_name, manifest_bytes));
  CAIRN_RETURN_IF_ERROR(write_file_atomic(dir_ + "/CURRENT", manifest_name + "\n"));
  meta_bytes_ = manifest_name.size() + 1 + manifest_bytes.size() + catalog_bytes;
  // The new version is what we hold in memory: keep the catalog, keep the
  // readers of segments that stay, open the new ones.
  auto readers = open_segments(next, readers_);
  if (!readers) return readers.status();
  manifest_ = std::move(next);
  readers_ = std::move(*readers);
  return remove_unreferenced_files();
}

Status Store::remove_unreferenced_files(const Manifest* also_live) {
  std::set<std::string> live;
  for (const Manifest* m : {static_cast<const Manifest*>(&manifest_), also_live}) {
    if (m == nullptr) continue;
    live.insert(m->catalog);
    for (const auto& list : m->segments)
      for (const SegmentMeta& s : list) live.insert(s.file);
  }
  auto current = read_file(dir_ + "/CURRENT");
  if (current) {
    std::string name = *current;
    while (!name.empty() && name.back() == '\n') name.pop_back();
    live.insert(name);
  }
  DIR* d = ::opendir(dir_.c_str());
  if (!d) return Status::io_error(fmt::format("cannot list {}: {}", dir_, std::strerror(errno)));
  std::vector<std::string> doomed;
  while (dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (is_store_file_name(name) && !live.count(name)) doomed.push_back(name);
  }
  ::closedir(d);
  for (const std::string& name : doomed) ::unlink((dir_ + "/" + name).c_str());
  return Status::ok();
}

Status Store::recover_wal() {
  const std::string path = dir_ + "/wal.log";
  if (!file_exists(path)) return Status::ok();
  // A record is applied as an import in rounds (a large one in several).
  const Status replayed = wal_replay(path, [&](uint64_t seq, ImportBatch& batch, bool commit) -> Status {
    if (seq <= manifest_.wal_applied) return Status::ok();  // applied before the crash
    return apply(seq, std::span<const ImportBatch>(&batch, 1), {}, commit).status();
  });
  if (!replayed.is_ok()) {
    // The log stays, for the error to be seen again; the rounds applied go.
    (void)give_up_rounds(/*remove_wal=*/false);
    return replayed;
  }
  if (::unlink(path.c_str()) != 0) return Status::io_error(fmt::format("cannot remove {}: {}", path, std::strerror(errno)));
  return fsync_dir(dir_);
}

Result<ImportStats> Store::import(std::span<const ImportBatch> parts, bool wal_only) {
  if (!lock_) return Status::invalid_argument("import needs a store opened for writing");
  if (committed_) return Status::invalid_argument("an import in rounds is under way");
  const std::string path = dir_ + "/wal.log";
  const uint64_t seq = manifest_.wal_applied + 1;
  if (wal_only) {
    CAIRN_RETURN_IF_ERROR(wal_append(path, seq, parts));
    return ImportStats{};
  }
  return log_and_apply(seq, parts, true);
}

Result<ImportStats> Store::import_round(std::span<const ImportBatch> parts, bool last) {
  if (!lock_) return Status::invalid_argument("import needs a store opened for writing");
  // The rounds before the last leave manifest_.wal_applied as it is on disk.
  auto stats = log_and_apply(manifest_.wal_applied + 1, parts, last);
  if (!stats) {
    const Status st = abort_import();
    if (!st.is_ok()) return Status::io_error(fmt::format("{} (and giving the import up: {})", stats.status().message(), st.message()));
  }
  return stats;
}

Status Store::abort_import() { return give_up_rounds(/*remove_wal=*/true); }

Status Store::give_up_rounds(bool remove_wal) {
  if (!committed_) return Status::ok();
  committed_.reset();
  // Back to the version on disk: the rounds' segments are then unreferenced
  // and removed, and so is their WAL record, which never committed.
  CAIRN_RETURN_IF_ERROR(load_current());
  CAIRN_RETURN_IF_ERROR(remove_unreferenced_files());
  if (!remove_wal) return Status::ok();
  const std::string path = dir_ + "/wal.log";
  if (file_exists(path) && ::unlink(path.c_str()) != 0)
    return Status::io_error(fmt::format("cannot remove {}: {}", path, std::strerror(errno)));
  return fsync_dir(dir_);
}

Store::~Store() {
  if (committed_) (void)abort_import();
}

Result<ImportStats> Store::log_and_apply(uint64_t seq, std::span<const ImportBatch> parts, bool commit) {
  const std::string path = dir_ + "/wal.log";
  // The WAL is written and fsynced on another core while the batch is
  // applied; the manifest switch waits for it, so the import is acknowledged
  // (and visible) only once it is in the WAL.
  Status wal_status;
  std::thread wal_writer([&] { wal_status = wal_append(path, seq, parts, commit); });
  bool joined = false;
  auto join = [&]() -> Status {
    if (!joined) {
      wal_writer.join();
      joined = true;
    }
    return wal_status;
  };
  auto stats = apply(seq, parts, join, commit);
  if (!joined) wal_writer.join();
  if (!stats) return stats;
  if (!commit) return wal_status.is_ok() ? stats : Result<ImportStats>(wal_status);
  if (::unlink(path.c_str()) != 0) return Status::io_error(fmt::format("cannot remove {}: {}", path, std::strerror(errno)));
  CAIRN_RETURN_IF_ERROR(fsync_dir(dir_));
  return stats;
}

Status Store::read_partition(uint32_t p, RowSet& out, size_t first_segment) const {
  for (size_t s = first_segment; s < readers_[p].size(); ++s) {
    const SegmentReader& seg = readers_[p][s];
    for (size_t b = 0; b < seg.blocks().size(); ++b) CAIRN_RETURN_IF_ERROR(seg.read_rows(b, out));
  }
  return Status::ok();
}

Status Store::verify() const {
  CAIRN_RETURN_IF_ERROR(catalog_.verify());
  for (uint32_t p = 0; p < manifest_.partitions; ++p) {
    RowSet rows;
    CAIRN_RETURN_IF_ERROR(read_partition(p, rows));
  }
  return Status::ok();
}

Status Store::read_person(uint32_t person, RowSet& out) const {
  if (manifest_.partitions == 0) return Status::ok();
  const uint32_t p = partition_of(person);
  RowSet block;
  for (const SegmentReader& seg : readers_[p]) {
    for (size_t b = 0; b < seg.blocks().size(); ++b) {
      const BlockInfo& info = seg.blocks()[b];
      if (person < info.min_person || person > info.max_person) continue;
      block.rows.clear();
      block.props.clear();
      CAIRN_RETURN_IF_ERROR(seg.read_rows(b, block));
      for (const Row& r : block.rows)
        if (r.person == person) out.append(block, r);
    }
  }
  out.sort_stable();
  return Status::ok();
}

// Which of a batch's distinct message hashes (sorted, none 0) the store
// holds already, sorted. A batch much smaller than the store (a day's
// events into months of them) looks its few hashes up while the stored ones
// stream past block by block; a larger one sorts all the stored hashes and
// intersects. (Reading and sorting every stored hash took 3.3 s and 840 MB
// for a 5,725-event import into a 105M-event store.)
Result<std::vector<uint64_t>> Store::stored_message_hashes(const std::vector<uint64_t>& distinct) const {
  size_t stored_rows = 0;
  for (const auto& list : readers_)
    for (const SegmentReader& seg : list) stored_rows += seg.rows();
  std::vector<uint64_t> found;
  if (stored_rows == 0 || distinct.empty()) return found;
  if (distinct.size() * 8 <= stored_rows) {
    // Open addressing on the hashes' low bits (they are XXH3 values); 0 is
    // an empty slot, and no batch hash is 0.
    size_t slots = 64;
    while (slots < 2 * distinct.size()) slots *= 2;
    const size_t mask = slots - 1;
    std::vector<uint64_t> table(slots, 0);
    for (const uint64_t h : distinct) {
      size_t i = h & mask;
      while (table[i] != 0) i = (i + 1) & mask;
      table[i] = h;
    }
    std::vector<uint64_t> block;
    for (const auto& list : readers_)
      for (const SegmentReader& seg : list)
        for (size_t b = 0; b < seg.blocks().size(); ++b) {
          CAIRN_RETURN_IF_ERROR(seg.read_block_hashes(b, block));
          for (const uint64_t h : block) {
            if (h == 0) continue;
            for (size_t i = h & mask; table[i] != 0; i = (i + 1) & mask)
              if (table[i] == h) {
                found.push_back(h);
                break;
              }
          }
        }
    sort_u64(found);
    found.erase(std::unique(found.begin(), found.end()), found.end());
    return found;
  }
  // A large batch: a bitmap of its hashes' top bits (8 bits or more a hash,
  // a power of two: 16 MiB for 16M hashes, about one stored hash in nine
  // passes by chance) lets through the stored hashes that may be among
  // them, and only those are sorted and intersected. Sorting all the stored
  // hashes instead took 16 bytes a stored event (the hashes and the sort's
  // buffer: 1.4 GB for an import's last round into 90M events).
  unsigned log_bits = 6;
  while ((uint64_t{1} << log_bits) < 8 * distinct.size()) ++log_bits;
  const unsigned shift = 64 - log_bits;
  std::vector<uint64_t> filter(size_t{1} << (log_bits - 6), 0);
  for (const uint64_t h : distinct) filter[h >> shift >> 6] |= uint64_t{1} << (h >> shift & 63);
  std::vector<uint64_t> maybe, block;
  for (const auto& list : readers_)
    for (const SegmentReader& seg : list)
      for (size_t b = 0; b < seg.blocks().size(); ++b) {
        CAIRN_RETURN_IF_ERROR(seg.read_block_hashes(b, block));
        for (const uint64_t h : block)
          if ((filter[h >> shift >> 6] >> (h >> shift & 63) & 1) != 0 && h != 0) maybe.push_back(h);
      }
  sort_u64(maybe);
  std::set_intersection(distinct.begin(), distinct.end(), maybe.begin(), maybe.end(), std::back_inserter(found));
  found.erase(std::unique(found.begin(), found.end()), found.end());
  return found;
}

// De-duplication by message id: against the store, and within the batch
// (the first occurrence wins). Hashes are sorted (sort_u64) to find the values
// that repeat; then one pass in arrival order keeps each first occurrence.
Status Store::find_duplicates(std::span<const ImportBatch> parts, std::vector<uint8_t>& keep,
                              uint64_t& duplicates) const {
  std::vector<uint64_t> repeated, distinct;
  {
    std::vector<uint64_t> mine;
    mine.reserve(keep.size());
    for (const ImportBatch& b : parts)
      for (const BatchEvent& e : b.events)
        if (e.message_hash != 0) mine.push_back(e.message_hash);
    sort_u64(mine);
    for (size_t i = 1; i < mine.size(); ++i)
      if (mine[i] == mine[i - 1] && (repeated.empty() || repeated.back() != mine[i])) repeated.push_back(mine[i]);
    mine.erase(std::unique(mine.begin(), mine.end()), mine.end());
    distinct = std::move(mine);
  }
  auto stored_result = stored_message_hashes(distinct);
  if (!stored_result) return stored_result.status();
  const std::vector<uint64_t>& stored = *stored_result;
  if (stored.empty() && repeated.empty()) return Status::ok();
  std::vector<uint8_t> repeat_seen(repeated.size(), 0);
  uint32_t i = 0;  // the event's number across the parts
  for (const ImportBatch& b : parts)
    for (const BatchEvent& e : b.events) {
      const uint64_t h = e.message_hash;
      const uint32_t at = i++;
      if (h == 0) continue;
      bool drop = !stored.empty() && std::binary_search(stored.begin(), stored.end(), h);
      if (!drop && !repeated.empty()) {
        const auto it = std::lower_bound(repeated.begin(), repeated.end(), h);
        if (it != repeated.end() && *it == h) {
          uint8_t& seen = repeat_seen[static_cast<size_t>(it - repeated.begin())];
          drop = seen;
          seen = 1;
        }
      }
      if (drop) {
        keep[at] = 0;
        ++duplicates;
      }
    }
  return Status::ok();
}

Result<ImportStats> Store::apply(uint64_t seq, std::span<const ImportBatch> parts,
                                 const std::function<Status()>& before_commit, bool commit_now) {
  // With CAIRN_TIMING set, the seconds each phase took go to stderr.
  const bool timing = std::getenv("CAIRN_TIMING") != nullptr;
  auto phase_start = std::chrono::steady_clock::now();
  auto mark = [&](const char* phase) {
    if (!timing) return;
    const auto now = std::chrono::steady_clock::now();
    struct rusage usage {};
    ::getrusage(RUSAGE_SELF, &usage);
    std::fprintf(stderr, "  apply: %-8s %.3f s (peak so far %ld MiB)\n", phase,
                 std::chrono::duration<double>(now - phase_start).count(), usage.ru_maxrss / 1024);
    phase_start = now;
  };
  ImportStats stats;
  // Events are numbered across the parts in order: part k's event j is
  // first[k] + j. Each part has its own dictionaries, mapped one after the
  // other into the catalog's, which gives the catalog the ids it would get
  // from the parts appended into one batch.
  const size_t K = parts.size();
  std::vector<uint32_t> first(K + 1, 0);
  for (size_t k = 0; k < K; ++k) first[k + 1] = static_cast<uint32_t>(first[k] + parts[k].events.size());
  const uint32_t total = first[K];
  auto part_of = [&](uint32_t i) {
    size_t k = 0;
    while (i >= first[k + 1]) ++k;
    return k;
  };
  // Duplicates are found on another thread while the dictionaries and links
  // are mapped: it needs only the message hashes.
  std::vector<uint8_t> keep(total, 1);
  Status dedupe_status;
  std::jthread dedupe([&] { dedupe_status = find_duplicates(parts, keep, stats.duplicates); });
  const uint32_t old_ids = catalog_.id_count();
  struct Maps {  // a part's ids in the catalog
    std::vector<uint32_t> event, key, str, id;
  };
  std::vector<Maps> maps(K);
  for (size_t k = 0; k < K; ++k) {
    maps[k].event.resize(parts[k].event_names.size());
    maps[k].key.resize(parts[k].keys.size());
    maps[k].str.resize(parts[k].strings.size());
    maps[k].id.resize(parts[k].ids.size());
  }
  {
    // Person ids and value strings are the big dictionaries; they live in
    // separate parts of the catalog, so they are mapped on two threads.
    std::thread ids([&] {
      for (size_t k = 0; k < K; ++k) catalog_.intern_ids(parts[k].ids, parts[k].id_is_known, maps[k].id.data());
    });
    Status strings_status;
    for (size_t k = 0; k < K && strings_status.is_ok(); ++k) {
      const ImportBatch& b = parts[k];
      for (uint32_t i = 0; i < b.event_names.size(); ++i) maps[k].event[i] = catalog_.events.intern(b.event_names.get(i));
      for (uint32_t i = 0; i < b.keys.size(); ++i) maps[k].key[i] = catalog_.keys.intern(b.keys.get(i));
      strings_status = catalog_.intern_strings(b.strings, maps[k].str.data());
    }
    ids.join();
    CAIRN_RETURN_IF_ERROR(strings_status);
  }
  // The parts' ids and value strings are mapped now, and nothing looks them
  // up again (the WAL writer reads the strings, not the index): their
  // indexes (~100 MB at 10M events) are freed before the partitions' rows
  // are built, which then take that memory instead of fresh pages.
  for (const ImportBatch& b : parts) {
    b.ids.drop_index();
    b.strings.drop_index();
  }
  if (single_import_ && commit_now) catalog_.drop_lookup_indexes();

  mark("dicts");
  // Identity: the batch's links in order (explicit ones and those of events
  // that carry both ids).
  std::vector<uint32_t> moved;  // roots with stored rows that stopped being roots
  auto link = [&](uint32_t from, uint32_t to) {
    const uint32_t gone = catalog_.link(from, to);
    if (gone == Catalog::kNoRoot) return;
    ++stats.links;
    if (gone < old_ids) moved.push_back(gone);
  };
  auto map_value = [&](const Maps& m, uint32_t key, const TypedValue& v) {
    return StoredProp{m.key[key], v.type, v.type == ValueType::kString ? m.str[v.bits] : v.bits};
  };
  // Links and traits in the order they arrived: a trait goes to its id's
  // person as linked so far, and a merge keeps the surviving person's value
  // of a trait both have (Catalog::link), whether the links came in this
  // import or an earlier one.
  for (size_t k = 0; k < K; ++k) {
    const Maps& m = maps[k];
    const std::vector<BatchLink>& links = parts[k].links;
    size_t next_link = 0;
    auto link_up_to = [&](size_t end) {  // the part's links before `end`
      for (; next_link < std::min(end, links.size()); ++next_link)
        link(m.id[links[next_link].from], m.id[links[next_link].to]);
    };
    for (const BatchTrait& t : parts[k].traits) {
      link_up_to(t.links_before);
      catalog_.set_trait(catalog_.root(m.id[t.id]), map_value(m, t.key, t.value));
    }
    link_up_to(links.size());
    stats.traits += parts[k].traits.size();
    for (const BatchCost& c : parts[k].costs)
      catalog_.set_cost(CostRow{c.day, m.str[c.channel], m.str[c.campaign], c.cost});
    stats.costs += parts[k].costs.size();
  }

  mark("links");
  // The catalog is final now: it is serialized and written to a new file
  // (fsynced, not yet referenced) on threads of its own while the events are
  // assigned and the partitions built. A failed import leaves only an
  // unreferenced file, which the next commit removes.
  Manifest next = manifest_;
  const std::string catalog_file = next_file_name(next, "catalog", ".bin");
  Status catalog_status;
  std::jthread catalog_writer([&] {
    if (!commit_now) return;  // a later round writes it
    auto bytes = serialize_catalog();
    catalog_status = bytes ? write_new_file(dir_ + "/" + catalog_file, *bytes) : bytes.status();
  });
  const uint32_t P = manifest_.partitions;
  auto person_of = [&](const Maps& m, const BatchEvent& e) {
    return catalog_.root(m.id[e.person]);
  };
  // Each event's person, found once here (two dependent lookups) for the
  // partition workers below, and each partition's events, in a bucket
  // allocated once at its size (counted first: grown by doubling, the
  // buckets held up to twice their events and were copied as they grew).
  // This goes on while duplicates are still being found; the duplicates are
  // taken out of the buckets after.
  std::vector<std::vector<uint32_t>> bucket(P);
  std::vector<uint32_t> person(total);
  {
    std::vector<uint32_t> sizes(P, 0);
    for (size_t k = 0; k < K; ++k) {
      uint32_t i = first[k];
      for (const BatchEvent& e : parts[k].events) {
        person[i] = person_of(maps[k], e);
        ++sizes[partition_of(person[i])];
        ++i;
      }
    }
    for (uint32_t p = 0; p < P; ++p) bucket[p].reserve(sizes[p]);
    for (uint32_t i = 0; i < total; ++i) bucket[partition_of(person[i])].push_back(i);
  }
  mark("bucket");
  dedupe.join();
  CAIRN_RETURN_IF_ERROR(dedupe_status);
  if (stats.duplicates > 0)
    for (std::vector<uint32_t>& list : bucket) std::erase_if(list, [&](uint32_t i) { return !keep[i]; });
  mark("dedupe");
  std::vector<uint8_t> rewritten(P, 0);  // partitions restitched or merged
  const unsigned workers = std::min(resolve_threads(0), 4u);
  std::mutex next_mu;  // guards `next` (file names, segment lists)
  auto new_segment_name = [&] {
    std::lock_guard<std::mutex> g(next_mu);
    return next_file_name(next, "seg", ".cseg");
  };

  // Merging. A partition that would pass kMaxSegmentsPerPartition with this
  // import's segment has its segments merged into one: all of them, or,
  // when its first segment holds at least twice the rows of the others
  // together, all but that one, which stays as it is (so a partition of
  // many rows is not read and written again for each few small imports:
  // a row is merged again only when its segment grows past half of the
  // base). merge_from[p] is the first segment merged (kNoMerge: none).
  constexpr size_t kNoMerge = SIZE_MAX;
  std::vector<size_t> merge_from(P, kNoMerge);
  auto merge_start = [&](uint32_t p) -> size_t {
    uint64_t rest = 0;
    for (size_t s = 1; s < readers_[p].size(); ++s) rest += readers_[p][s].rows();
    return !readers_[p].empty() && readers_[p][0].rows() >= 2 * rest ? 1 : 0;
  };
  auto at_limit = [&](uint32_t p) { return readers_[p].size() + 1 >= kMaxSegmentsPerPartition; };

  // Restitching: a stored person who stopped being a root has their rows
  // filed under the new root, which may live in another partition. Those
  // rows are taken out first (spill[from][to]), so that each partition is
  // then written with its rows in arrival order: its old rows, the rows
  // moved into it (by partition they came from), this import's rows. A
  // segment of them written after this import's rows would put them after
  // those rows wherever times tie.
  //
  // A partition the moved rows leave is not read whole: each segment it
  // keeps is copied without them (write_segment_without: the blocks that
  // hold none of them are copied as stored), and they, those that stay in
  // the partition under their new root too, go into its new segment with
  // this import's rows, after its stored ones. So linking a few stored
  // visitors costs the blocks that hold them, not the partition. Segments
  // about to be merged are read instead: the moved rows that leave are
  // taken out here, and the merge keeps the rest.
  std::vector<std::vector<RowSet>> spill(P);
  std::vector<uint8_t> receives(P, 0);
  {
    std::vector<std::vector<uint32_t>> movers(P);
    for (uint32_t gone : moved) movers[partition_of(gone)].push_back(gone);
    std::vector<uint32_t> sources;
    for (uint32_t p = 0; p < P; ++p)
      if (!movers[p].empty()) {
        sources.push_back(p);
        std::sort(movers[p].begin(), movers[p].end());
        movers[p].erase(std::unique(movers[p].begin(), movers[p].end()), movers[p].end());
        if (at_limit(p)) merge_from[p] = merge_start(p);
      }
    CAIRN_RETURN_IF_ERROR(parallel_for(sources.size(), workers, [&](size_t si, unsigned) -> Status {
      const uint32_t p = sources[si];
      std::vector<RowSet>& out = spill[p];
      out.resize(P);
      const size_t copied = std::min(merge_from[p], readers_[p].size());
      if (copied < readers_[p].size()) {
        RowSet merged;
        CAIRN_RETURN_IF_ERROR(read_partition(p, merged, copied));
        for (Row r : merged.rows) {
          r.person = catalog_.root(r.person);
          const uint32_t q = partition_of(r.person);
          if (q != p) out[q].append(merged, r);
        }
      }
      if (copied == 0) return Status::ok();
      RowSet removed;
      std::vector<SegmentMeta> kept;
      for (size_t s = 0; s < copied; ++s) {
        const std::string name = new_segment_name();
        auto st = write_segment_without(dir_ + "/" + name, readers_[p][s], movers[p], removed);
        if (!st) return st.status();
        if (st->rows > 0)
          kept.push_back(segment_meta(name, *st));
      }
      for (Row r : removed.rows) {
        r.person = catalog_.root(r.person);
        out[partition_of(r.person)].append(removed, r);
      }
      std::lock_guard<std::mutex> g(next_mu);
      // The copies, then (the worker below) the merged segment or the new one.
      next.segments[p].erase(next.segments[p].begin(), next.segments[p].begin() + static_cast<std::ptrdiff_t>(copied));
      next.segments[p].insert(next.segments[p].begin(), kept.begin(), kept.end());
      rewritten[p] = 1;
      return Status::ok();
    }));
    for (const uint32_t p : sources)
      for (uint32_t q = 0; q < P; ++q) receives[q] |= spill[p][q].rows.empty() ? 0 : 1;
  }
  for (uint32_t p = 0; p < P; ++p)
    if (merge_from[p] == kNoMerge && at_limit(p) && (!bucket[p].empty() || receives[p])) merge_from[p] = merge_start(p);
  mark("restitch");

  // Partitions are built and written in parallel: each worker takes the next
  // partition, builds its rows (rewritten old rows, rows moved in, new ones),
  // sorts and writes them.
  auto write_rows = [&](uint32_t p, RowSet& rs) -> Status {
    rs.sort_stable();
    const std::string name = new_segment_name();
    auto st = write_segment(dir_ + "/" + name, rs);
    if (!st) return st.status();
    std::lock_guard<std::mutex> g(next_mu);
    next.segments[p].push_back(segment_meta(name, *st));
    return Status::ok();
  };
  // Each worker reuses its row buffers from one partition to the next: a
  // new 100 MB buffer per partition would be fresh pages to fault in.
  std::vector<RowSet> worker_rows(workers);
  size_t total_props = 0;
  for (const ImportBatch& b : parts) total_props += b.props.size();
  const double props_per_event = total == 0 ? 0.0 : static_cast<double>(total_props) / static_cast<double>(total);
  auto event_at = [&](uint32_t i) -> const BatchEvent& {
    const size_t k = part_of(i);
    return parts[k].events[i - first[k]];
  };
  CAIRN_RETURN_IF_ERROR(parallel_for(P, workers, [&](size_t pi, unsigned w) -> Status {
    const uint32_t p = static_cast<uint32_t>(pi);
    RowSet& rs = worker_rows[w];
    rs.rows.clear();
    rs.props.clear();
    if (merge_from[p] != kNoMerge) {
      // The segments merged, read (again, for a partition the moved rows
      // left: the pass above kept only those): the rows that stay. They are
      // the last entries of next.segments[p], after the segments kept (or
      // their copies without the moved rows).
      {
        std::lock_guard<std::mutex> g(next_mu);
        next.segments[p].resize(next.segments[p].size() - (readers_[p].size() - merge_from[p]));
      }
      RowSet old;
      CAIRN_RETURN_IF_ERROR(read_partition(p, old, merge_from[p]));
      for (Row r : old.rows) {
        r.person = catalog_.root(r.person);
        if (partition_of(r.person) == p) rs.append(old, r);
      }
      rewritten[p] = 1;
    }
    for (uint32_t from = 0; from < P; ++from)
      if (!spill[from].empty())
        for (const Row& r : spill[from][p].rows) rs.append(spill[from][p], r);
    {
      // With room to spare (the batch's average properties an event, and a
      // quarter more): the next partition, a little larger, then fits the
      // same buffers. The vectors grow if an estimate is short.
      const std::vector<uint32_t>& mine = bucket[p];
      const size_t rows = rs.rows.size() + mine.size();
      const size_t props =
          rs.props.size() + static_cast<size_t>(static_cast<double>(mine.size()) * props_per_event);
      if (rs.rows.capacity() < rows) rs.rows.reserve(rows + rows / 4);
      if (rs.props.capacity() < props) rs.props.reserve(props + props / 4);
    }
    // The partition's events are spread over the whole batch: each is a
    // cache miss, and its properties another, so both are prefetched a few
    // events ahead (the event further, as its properties' place is in it).
    const std::vector<uint32_t>& mine = bucket[p];
    constexpr size_t kEventAhead = 16, kPropsAhead = 8;
    for (size_t j = 0; j < mine.size(); ++j) {
      if (j + kEventAhead < mine.size()) __builtin_prefetch(&event_at(mine[j + kEventAhead]));
      if (j + kPropsAhead < mine.size()) {
        const uint32_t a = mine[j + kPropsAhead];
        const BatchEvent& ahead = event_at(a);
        if (ahead.prop_count > 0) __builtin_prefetch(parts[part_of(a)].props.address(ahead.prop_begin));
      }
      const uint32_t i = mine[j];
      const size_t k = part_of(i);
      const ImportBatch& b = parts[k];
      const Maps& m = maps[k];
      const BatchEvent& e = b.events[i - first[k]];
      Row r{person[i], m.event[e.event], e.time, static_cast<uint32_t>(rs.props.size()), e.prop_count,
            e.message_hash};
      for (uint32_t q = 0; q < e.prop_count; ++q) {
        const BatchProperty bp = b.props[e.prop_begin + q];
        rs.props.push_back(map_value(m, bp.key, bp.value()));
      }
      rs.rows.push_back(r);
    }
    return rs.rows.empty() ? Status::ok() : write_rows(p, rs);
  }));
  for (uint32_t p = 0; p < P; ++p) stats.events_added += bucket[p].size();
  stats.partitions_rewritten = static_cast<uint64_t>(std::count(rewritten.begin(), rewritten.end(), 1));
  mark("workers");
  if (before_commit) CAIRN_RETURN_IF_ERROR(before_commit());
  mark("wal wait");
  catalog_writer.join();
  CAIRN_RETURN_IF_ERROR(catalog_status);
  mark("catalog");
  if (!commit_now) {
    // A round before an import's last: its segments become this object's
    // state (what the next round dedupes against, restitches and merges),
    // not yet the store's, whose manifest on disk committed_ keeps. A
    // segment of an earlier round that this one replaced is in neither: it
    // goes now.
    if (!committed_) committed_ = manifest_;
    auto readers = open_segments(next, readers_);
    if (!readers) return readers.status();
    manifest_ = std::move(next);
    readers_ = std::move(*readers);
    CAIRN_RETURN_IF_ERROR(remove_unreferenced_files(&*committed_));
    mark("round");
    return stats;
  }
  next.wal_applied = seq;
  CAIRN_RETURN_IF_ERROR(commit(std::move(next), catalog_file));
  committed_.reset();  // the rounds, if any, are the store's now
  mark("commit");
  return stats;
}

Status Store::compact() {
  if (!lock_) return Status::invalid_argument("compact needs a store opened for writing");
  Manifest next = manifest_;
  // The partitions of several segments, each with its new file's name (named
  // in partition order), rewritten on a few threads.
  std::vector<uint32_t> parts;
  std::vector<std::string> names;
  for (uint32_t p = 0; p < manifest_.partitions; ++p)
    if (readers_[p].size() > 1) {
      parts.push_back(p);
      names.push_back(next_file_name(next, "seg", ".cseg"));
    }
  const unsigned workers = std::min(resolve_threads(0), 4u);
  // Each worker reuses its row buffers (fresh pages for each partition
  // would be faulted in again).
  std::vector<RowSet> worker_rows(workers);
  CAIRN_RETURN_IF_ERROR(parallel_for(parts.size(), workers, [&](size_t i, unsigned w) -> Status {
    const uint32_t p = parts[i];
    RowSet& rs = worker_rows[w];
    rs.rows.clear();
    rs.props.clear();
    CAIRN_RETURN_IF_ERROR(read_partition(p, rs));
    rs.sort_stable();
    auto st = write_segment(dir_ + "/" + names[i], rs);
    if (!st) return st.status();
    next.segments[p] = {segment_meta(names[i], *st)};  // each worker its own partition's list
    return Status::ok();
  }));
  return commit(std::move(next));
}

Result<uint64_t> Store::delete_person(std::string_view id) {
  if (!lock_) return Status::invalid_argument("delete-person needs a store opened for writing");
  const uint32_t idn = catalog_.find_id(id);
  if (idn == StringPool::kMissing || catalog_.is_erased(idn))
    return Status::not_found(fmt::format("no person with id '{}'", id));
  const uint32_t person = catalog_.root(idn);
  const uint32_t p = partition_of(person);
  // Their partition's segments are copied without their rows (the blocks
  // that hold none of them as stored; those that do are decoded and written
  // again, so the rows are gone from the new files).
  Manifest next = manifest_;
  next.segments[p].clear();
  RowSet theirs;
  std::vector<SegmentReader> copies;
  for (const SegmentReader& segment : readers_[p]) {
    const std::string name = next_file_name(next, "seg", ".cseg");
    auto st = write_segment_without(dir_ + "/" + name, segment, {person}, theirs);
    if (!st) return st.status();
    if (st->rows == 0) continue;
    next.segments[p].push_back(segment_meta(name, *st));
    auto copy = SegmentReader::open(dir_ + "/" + name);
    if (!copy) return copy.status();
    copies.push_back(std::move(*copy));
  }
  const uint64_t removed = theirs.rows.size();
  // Value strings that only this person used (an email in a property, a
  // name in a trait) leave the dictionary too.
  std::unordered_set<uint32_t> only_theirs;
  for (const StoredProp& sp : theirs.props)
    if (sp.type == ValueType::kString) only_theirs.insert(static_cast<uint32_t>(sp.bits));
  if (const auto* traits = catalog_.traits_of(person))
    for (const StoredProp& sp : *traits)
      if (sp.type == ValueType::kString) only_theirs.insert(static_cast<uint32_t>(sp.bits));
  // Which of them any other row still has: the property columns of every
  // segment (their partition's copies, the others as stored), not the rows.
  KeyColumn column;
  auto still_used = [&](const SegmentReader& segment) -> Status {
    for (size_t b = 0; b < segment.blocks().size() && !only_theirs.empty(); ++b)
      for (size_t k = 0; k < segment.blocks()[b].keys.size() && !only_theirs.empty(); ++k) {
        CAIRN_RETURN_IF_ERROR(segment.read_key(b, k, column));
        for (const StoredProp& sp : column.values)
          if (sp.type == ValueType::kString) only_theirs.erase(static_cast<uint32_t>(sp.bits));
      }
    return Status::ok();
  };
  for (const SegmentReader& segment : copies) CAIRN_RETURN_IF_ERROR(still_used(segment));
  for (uint32_t q = 0; q < manifest_.partitions && !only_theirs.empty(); ++q)
    if (q != p)
      for (const SegmentReader& segment : readers_[q]) CAIRN_RETURN_IF_ERROR(still_used(segment));
  for (const auto& [root, traits] : catalog_.all_traits())
    if (root != person)
      for (const StoredProp& sp : traits)
        if (sp.type == ValueType::kString) only_theirs.erase(static_cast<uint32_t>(sp.bits));
  for (const CostRow& c : catalog_.costs()) {
    only_theirs.erase(c.channel);
    only_theirs.erase(c.campaign);
  }
  catalog_.erase_person(person);
  for (uint32_t s : only_theirs) catalog_.erase_string(s);
  CAIRN_RETURN_IF_ERROR(commit(std::move(next)));
  return removed;
}

}  // namespace cairn
