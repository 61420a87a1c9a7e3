// StringPool interns strings: each distinct string gets a dense uint32 id in
// order of first appearance. Views returned by get() stay valid for the life
// of the pool (strings live in fixed arena blocks that never move).
//
// The index is an open-addressing table of (hash tag, id) in one flat array,
// probed linearly: interning is on the import hot path (every id, event name,
// key and string value of every event goes through it).
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace cairn {

// a == b for the short strings of interning (ids, names, keys, values):
// inline 8-, 4- and 1-byte compares that never read outside either string,
// where a call to memcmp costs more than the compare.
inline bool same_text(std::string_view a, std::string_view b) {
  const size_t n = a.size();
  if (n != b.size()) return false;
  const char* p = a.data();
  const char* q = b.data();
  if (n >= 8) {
    uint64_t x, y;
    for (size_t i = 0; i + 8 < n; i += 8) {
      std::memcpy(&x, p + i, 8);
      std::memcpy(&y, q + i, 8);
      if (x != y) return false;
    }
    std::memcpy(&x, p + n - 8, 8);  // the last 8 (overlapping the loop's last)
    std::memcpy(&y, q + n - 8, 8);
    return x == y;
  }
  if (n >= 4) {
    uint32_t x0, y0, x1, y1;
    std::memcpy(&x0, p, 4);
    std::memcpy(&y0, q, 4);
    std::memcpy(&x1, p + n - 4, 4);
    std::memcpy(&y1, q + n - 4, 4);
    return x0 == y0 && x1 == y1;
  }
  for (size_t i = 0; i < n; ++i)
    if (p[i] != q[i]) return false;
  return true;
}

class StringPool {
 public:
  StringPool() = default;
  StringPool(const StringPool&) = delete;
  StringPool& operator=(const StringPool&) = delete;
  StringPool(StringPool&&) = default;
  StringPool& operator=(StringPool&&) = default;

  uint32_t intern(std::string_view s);
  // intern() in two steps, for a caller with several strings to intern: the
  // hash of each (hash_of) and a prefetch of its index slot first, then
  // intern(s, hash) for each in order. The slots' cache misses then overlap
  // instead of coming one after another; the ids are those of intern().
  static uint64_t hash_of(std::string_view s) { return hash(s); }
  void prefetch(uint64_t hash) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[hash >> shift_]);
  }
  uint32_t intern(std::string_view s, uint64_t hash) {
    ensure_index();
    if ((strings_.size() + 1) * 2 > slots_.size()) grow();  // load factor <= 1/2
    return insert_hashed(s, hash);
  }
  // Interns n strings, at(i) giving the i-th, and writes their ids to out:
  // the ids n intern() calls in order would give, with the index slots of
  // the strings a few places ahead prefetched (a big dictionary's index is
  // mostly out of the cache, and mapping one dictionary into another is
  // otherwise a wait on memory per string).
  template <typename At>
  void intern_many(size_t n, At&& at, uint32_t* out) {
    ensure_index();
    while ((strings_.size() + n + 1) * 2 > slots_.size()) grow();
    constexpr size_t kAhead = 8;
    uint64_t ahead[kAhead];
    for (size_t j = 0; j < n && j < kAhead; ++j) {
      ahead[j] = hash(at(j));
      __builtin_prefetch(&slots_[ahead[j] >> shift_]);
    }
    for (size_t i = 0; i < n; ++i) {
      const uint64_t h = ahead[i % kAhead];
      if (i + kAhead < n) {
        ahead[i % kAhead] = hash(at(i + kAhead));
        __builtin_prefetch(&slots_[ahead[i % kAhead] >> shift_]);
      }
      out[i] = insert_hashed(at(i), h);
    }
  }
  // Interns every string of src in id order, writing their ids to out (as
  // intern_many). Into an empty pool this is a copy instead: src's strings
  // keep their ids and src's index is taken over as it is, with no lookup
  // (a first import into an empty database maps its dictionaries this way).
  // A small src into a large pool without an index (a dictionary just loaded
  // from a file: a small import into a large store) is looked up by one pass
  // over the pool's strings instead of indexing them (intern_all_by_scan).
  void intern_all(const StringPool& src, uint32_t* out);
  // Appends s as the next id without looking it up (loading a dictionary
  // that is known to hold distinct strings); the lookup index is built on
  // the first intern() or find() after, so opening a database for a scan
  // does not pay for indexing millions of values it never looks up.
  uint32_t append_unchecked(std::string_view s);
  // Keeps `buffer` for the life of the pool and returns a view of it that
  // never moves; append_view_unchecked() then adds strings that are views
  // into it, without copying (a dictionary loaded from a file).
  std::string_view keep(std::string buffer);
  uint32_t append_view_unchecked(std::string_view s);
  // Room for n more strings (a dictionary's count known before loading it).
  void reserve(size_t n);
  // Id of s, or kMissing when it was never interned.
  uint32_t find(std::string_view s) const;
  // Frees the index, keeping the strings: for a pool no one looks up in
  // any more, such as a parsed batch's once the store has mapped it into
  // the catalog (its index is ~16-32 bytes a string). A later lookup builds
  // it again. Not while another thread looks up in this pool.
  void drop_index() const {
    std::vector<uint64_t>().swap(slots_);
    shift_ = 64;
    indexed_ = false;
    unindexed_lookups_ = 0;
  }
  std::string_view get(uint32_t id) const { return strings_[id]; }
  // Gives id a new text (which must not be interned already) and forgets the
  // old one; O(size) (the index is rebuilt), for rare erasures.
  void replace(uint32_t id, std::string_view text);
  uint32_t size() const { return static_cast<uint32_t>(strings_.size()); }

  static constexpr uint32_t kMissing = 0xFFFFFFFFu;

 private:
  static uint64_t hash(std::string_view s);
  // The slot holding s, or the empty slot where it would go. A string's
  // home slot is the top bits of its hash, which its tag keeps: the index
  // grows by moving the tags, without hashing the strings again.
  size_t probe(std::string_view s, uint64_t h) const;
  // intern() once the index has room: s with its hash h.
  uint32_t insert_hashed(std::string_view s, uint64_t h) {
    const size_t i = probe(s, h);
    if (slots_[i] != 0) return static_cast<uint32_t>(slots_[i]) - 1;
    const auto id = static_cast<uint32_t>(strings_.size());
    strings_.push_back(store(s));
    slots_[i] = (h >> 32 << 32) | (uint64_t{id} + 1);
    return id;
  }
  void grow();
  // intern_all for a src at most 1/8 the size of this unindexed pool: src's
  // strings go in a small table, and each of the pool's strings is hashed
  // and looked up in it, one pass in order (ScanLookup, below); src's
  // strings not found are appended. The ids are those intern_many would
  // give (a text the pool holds twice maps to its first id). At 23M values
  // and a 5,000-event batch: ~0.3 s against ~1.8 s to index the pool.
  void intern_all_by_scan(const StringPool& src, uint32_t* out);
  void rebuild(size_t slots) const;  // from the strings (hashing them); slots: a power of two
  std::string_view store(std::string_view s);

  std::vector<std::unique_ptr<char[]>> blocks_;
  size_t block_used_ = 0;
  size_t block_size_ = 0;
  std::vector<std::string_view> strings_;
  std::vector<std::unique_ptr<std::string>> kept_;  // buffers that views in strings_ point into
  // Not safe for two threads' first lookups at once (the index is built
  // lazily); the store looks up from one thread at a time.
  void ensure_index() const {
    if (!indexed_) rebuild(64);
  }

  // Each slot: high 32 bits the hash's top 32 bits (the tag), low 32 bits
  // id + 1; 0 = empty. A hash's home slot is its top log2(slots) bits.
  mutable std::vector<uint64_t> slots_;
  mutable int shift_ = 64;  // 64 - log2(slots_.size())
  mutable bool indexed_ = true;  // slots_ covers every string
  mutable uint32_t unindexed_lookups_ = 0;
  // Passes of intern_all_by_scan so far: after a few (many small batches
  // into one pool, as a WAL's replay), indexing once costs less.
  uint32_t scans_ = 0;
};

// A small dictionary's strings looked up in a stream of (id, text) pairs
// instead of an index of the texts: the dictionary goes in a small table,
// and each text seen is hashed and looked up in it (StringPool's
// intern_all_by_scan; a catalog's stored values, chunk by chunk). out[j] is
// the first id seen with src's string j; finish() gives the strings never
// seen ids from append(text), in src's order. The ids are those intern_many
// would give over the same texts.
class ScanLookup {
 public:
  ScanLookup(const StringPool& src, uint32_t* out);
  void see(uint32_t id, std::string_view s) { see(id, s, StringPool::hash_of(s)); }
  void see(uint32_t id, std::string_view s, uint64_t hash);  // hash: StringPool::hash_of(s)
  void finish(const std::function<uint32_t(std::string_view)>& append);

 private:
  const StringPool& src_;
  uint32_t* out_;
  std::vector<uint32_t> first_;  // the first src id with the same text
  std::vector<uint64_t> table_;  // (hash tag << 32) | (src id + 1)
  int shift_ = 64;
};

}  // namespace cairn
