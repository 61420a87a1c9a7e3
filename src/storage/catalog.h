// The catalog: everything about a database that is not event rows. The
// dictionaries (event names, property keys, string values), the identity
// graph (every person id, anonymous or known, and its canonical root), person
// traits and campaign costs. Ids only grow, so every segment stays valid
// against every later catalog. Stored as one sealed file per version
// (catalog-NNNNNN.bin, see docs/FORMAT.md).
//
// The value strings and the persons part (ids, identity links, traits) are
// most of a catalog's bytes and many reports never look at them, so a reader
// may open a catalog lazily: event names, keys and costs at once, strings and
// persons on first use (each accessor loads on demand). A reader reports a
// failed load with load_strings() / load_persons(), or lazy_status() after
// the fact.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "core/string_pool.h"
#include "storage/rows.h"
#include "storage/string_chunks.h"

namespace cairn {

class BinaryReader;

struct CostRow {
  int64_t day;
  uint32_t channel;   // string id
  uint32_t campaign;  // string id
  double cost;
};

class Catalog {
 public:
  StringPool events;
  StringPool keys;
  // Value strings (property and trait values).
  const StringPool& strings() const {
    if (lazy_) (void)load_strings();
    return strings_;
  }
  StringPool& strings() {
    if (lazy_) (void)load_strings();
    return strings_;
  }
  // A few value strings without loading them all: a lazily opened catalog
  // reads the one chunk that holds the id, or the index frame and chunk of a
  // text (docs/FORMAT.md). Thread-safe. A failed read answers "" / kMissing
  // / 0 and is reported by lazy_status().
  uint32_t string_count() const;
  std::string_view string_at(uint32_t id) const;
  uint32_t find_string(std::string_view s) const;
  // Interns every value string of src, ids to out (as
  // strings().intern_all). A writer that opened the catalog lazily and
  // has not loaded its values looks a small src up by reading the stored
  // values chunk by chunk, none kept, and keeps the new ones apart (the
  // stored values of a large store are then neither loaded, nor indexed,
  // nor written again: serialize() copies their chunks).
  Status intern_strings(const StringPool& src, uint32_t* out);

  Catalog() = default;
  Catalog(Catalog&&) = default;
  Catalog& operator=(Catalog&&) = default;

  uint32_t id_count() const { return persons().ids_.size(); }
  uint32_t intern_id(std::string_view id, bool known);
  // intern_id() of every id of `src` in order (known[i]: id i is known;
  // missing entries are not), ids written to out.
  void intern_ids(const StringPool& src, const std::vector<uint8_t>& known, uint32_t* out);
  // Frees the lookup indexes of the person ids and the value strings (the
  // big dictionaries); a later lookup builds them again.
  void drop_lookup_indexes() {
    strings_.drop_index();
    ids_.drop_index();
  }
  uint32_t find_id(std::string_view id) const { return persons().ids_.find(id); }
  std::string_view id_string(uint32_t id) const {
    return id < id_count() && !erased_[id] ? ids_.get(id) : std::string_view();
  }
  bool is_known(uint32_t id) const { return id < id_count() && known_[id] != 0; }
  bool is_erased(uint32_t id) const { return id >= id_count() || erased_[id] != 0; }

  // The canonical person of an id: the root of its identity cluster.
  uint32_t root(uint32_t id) const;
  // Joins the clusters of `from` and `to`. The root of `to` stays root unless
  // only `from`'s cluster has a known id. Returns the root that stopped being
  // a root, or kNoRoot when both were already one person.
  uint32_t link(uint32_t from, uint32_t to);
  static constexpr uint32_t kNoRoot = 0xFFFFFFFFu;
  // Every id whose root is `root`, ascending.
  std::vector<uint32_t> ids_of(uint32_t root) const;

  const std::vector<StoredProp>* traits_of(uint32_t root) const;
  void set_trait(uint32_t root, StoredProp trait);
  size_t persons_with_traits() const { return persons().traits_.size(); }
  // Removes the cluster of `root` for good: its id strings and traits.
  void erase_person(uint32_t root);
  // Replaces a value string by a placeholder (keeping the numbering), so its
  // text is in no later catalog file: for values only a deleted person used.
  void erase_string(uint32_t id);
  // Every trait of every person: (root, traits).
  const std::unordered_map<uint32_t, std::vector<StoredProp>>& all_traits() const { return persons().traits_; }

  const std::vector<CostRow>& costs() const { return costs_; }
  // Sets the cost of (day, channel, campaign); importing a costs file twice
  // leaves the same costs.
  void set_cost(const CostRow& row);

  // The catalog file: names, persons and the value strings in chunks (sealed
  // parts, see docs/FORMAT.md). A lazily opened catalog whose stored values
  // cannot be read gives "" and lazy_status() the error.
  std::string serialize() const;
  // Reads a whole catalog file, every part checked and parsed (`path` names
  // it in errors): for a writer.
  static Result<Catalog> read(std::string file, const std::string& path);
  // Opens the catalog file at path for a reader: reads only the parts'
  // headers and the names part, and keeps the file open to read the value
  // strings and the persons parts when first used (a funnel over event names
  // reads neither of their ~12 MB per 10M events).
  static Result<Catalog> open_lazy(const std::string& path);
  // Parses the unsealed payloads of the parts of the earlier layout, value
  // strings as one pool (the fuzzer's entry).
  static Result<Catalog> parse(std::string_view names, std::string_view strings, std::string_view ids,
                               std::string_view traits, const std::string& what);
  // The same without the value strings (read from their chunks after).
  static Result<Catalog> parse_without_strings(std::string_view names, std::string_view ids, std::string_view traits,
                                               const std::string& what);
  // Reads the strings / the persons part of a lazily opened catalog (once);
  // its error, if any.
  Status load_strings() const;
  Status load_persons() const;
  // Reads and checks every part of a lazily opened catalog (`cairn verify`,
  // the corruption tests).
  Status verify() const;
  // The first error of a lazy load so far (ok when none failed or not lazy).
  Status lazy_status() const;
  // The size of the file this catalog was read or opened from (0: none).
  uint64_t file_bytes() const { return lazy_ ? lazy_->size : file_bytes_; }

 private:
  struct Lazy {
    std::once_flag strings_once, persons_once, chunks_once;
    Status strings_status, persons_status, chunks_status;
    std::atomic<bool> strings_loaded{false};  // strings_ holds every value string
    int fd = -1;  // the open catalog file
    uint64_t size = 0;
    std::vector<std::pair<size_t, size_t>> parts;  // (offset, length) of each sealed part before the strings' frames
    bool chunked = false;  // value strings in chunks (parts: names, ids, traits, strings directory)
    std::unique_ptr<StringChunks> chunks;
    std::mutex status_mu;
    Status read_status;  // the first failed read of a chunk or index frame
    std::string path;
    ~Lazy();
  };
  // Where the persons' parts are: names | strings | ids | traits in the
  // earlier layout, names | ids | traits | strings directory in the chunked one.
  static size_t ids_part(bool chunked) { return chunked ? 1 : 2; }
  static size_t traits_part(bool chunked) { return chunked ? 2 : 3; }
  // Parent (itself), known and erased entries for ids interned since the last call.
  void add_new_ids();
  // The chunked strings of a lazy catalog (opened once), or null when the
  // strings are not chunked, are loaded whole or could not be opened.
  const StringChunks* chunks() const;
  void record(const Status& st) const;
  // The unsealed payload of lazy part k, read from the open file.
  static Result<std::string> lazy_part(const Lazy& lazy, size_t k, const char* magic);
  static Result<Catalog> read_whole(std::string file, const std::string& path);
  // The names part's payload (event names, keys, costs) into this catalog;
  // false when malformed (n then stops at the fault).
  bool parse_names(BinaryReader& n);
  std::unique_ptr<Lazy> lazy_;
  StringPool strings_;
  // The catalog with its persons part loaded (loading it when lazy).
  const Catalog& persons() const {
    if (lazy_) (void)load_persons();
    return *this;
  }
  Status read_strings(const Lazy& lazy);
  Status read_persons(const Lazy& lazy);

  StringPool ids_;
  std::vector<uint32_t> parent_;
  std::vector<uint8_t> known_;
  std::vector<uint8_t> erased_;
  std::unordered_map<uint32_t, std::vector<StoredProp>> traits_;
  std::vector<CostRow> costs_;
  uint64_t file_bytes_ = 0;
  // Values interned by intern_strings() while the stored ones are not
  // loaded: value id = stored count + id here. Loading the stored values
  // appends these after them.
  StringPool tail_;
  // The stored values' hashes (checksum64, which is StringPool::hash_of),
  // kept from intern_strings' pass over them for the next serialize(),
  // which takes them.
  mutable std::vector<uint64_t> stored_hashes_;
  uint32_t string_scans_ = 0;  // intern_strings' passes over the stored values
  bool values_replaced_ = false;  // erase_string() ran: no stored chunk may be copied
};

}  // namespace cairn
