#include "core/string_pool.h"

#include <cstring>

#include <xxhash.h>

#include "core/huge_pages.h"

namespace cairn {

uint64_t StringPool::hash(std::string_view s) { return XXH3_64bits(s.data(), s.size()); }

std::string_view StringPool::store(std::string_view s) {
  constexpr size_t kBlock = 1 << 16;
  if (s.empty()) return {};
  if (blocks_.empty() || block_used_ + s.size() > block_size_) {
    block_size_ = s.size() > kBlock ? s.size() : kBlock;
    blocks_.push_back(std::unique_ptr<char[]>(new char[block_size_]));
    block_used_ = 0;
  }
  char* dst = blocks_.back().get() + block_used_;
  std::memcpy(dst, s.data(), s.size());
  block_used_ += s.size();
  return {dst, s.size()};
}

size_t StringPool::probe(std::string_view s, uint64_t h) const {
  const size_t mask = slots_.size() - 1;
  const uint64_t tag = h >> 32;
  for (size_t i = static_cast<size_t>(h >> shift_);; i = (i + 1) & mask) {
    const uint64_t slot = slots_[i];
    if (slot == 0) return i;
    if ((slot >> 32) == tag) {
      const std::string_view t = strings_[static_cast<uint32_t>(slot) - 1];
      if (same_text(t, s)) return i;
    }
  }
}

namespace {

int log2_of(size_t pow2) { return __builtin_ctzll(pow2); }

}  // namespace

void StringPool::grow() {
  const size_t slots = slots_.empty() ? 64 : slots_.size() * 2;
  // Home slots come from the tag alone while the index has at most 2^32 slots.
  if (slots_.empty() || slots > (size_t{1} << 32)) return rebuild(slots);
  std::vector<uint64_t> old(slots, 0);
  old.swap(slots_);
  shift_ = 64 - log2_of(slots);
  const size_t mask = slots - 1;
  for (const uint64_t slot : old) {
    if (slot == 0) continue;
    size_t i = static_cast<size_t>((slot >> 32 << 32) >> shift_);
    while (slots_[i] != 0) i = (i + 1) & mask;
    slots_[i] = slot;
  }
}

void StringPool::rebuild(size_t slots) const {
  indexed_ = true;
  while (slots < 2 * (strings_.size() + 1)) slots *= 2;
  slots_.assign(slots, 0);
  shift_ = 64 - log2_of(slots);
  const size_t mask = slots_.size() - 1;
  for (uint32_t id = 0; id < strings_.size(); ++id) {
    const uint64_t h = hash(strings_[id]);
    size_t i = static_cast<size_t>(h >> shift_);
    while (slots_[i] != 0) i = (i + 1) & mask;
    slots_[i] = (h >> 32 << 32) | (uint64_t{id} + 1);
  }
}

void StringPool::intern_all(const StringPool& src, uint32_t* out) {
  constexpr uint32_t kMaxScans = 4;
  if (!indexed_ && scans_ < kMaxScans && !src.strings_.empty() && uint64_t{src.size()} * 8 <= strings_.size()) {
    ++scans_;
    return intern_all_by_scan(src, out);
  }
  if (!strings_.empty() || !src.indexed_ || src.slots_.empty()) {
    intern_many(src.size(), [&](size_t i) { return src.get(static_cast<uint32_t>(i)); }, out);
    return;
  }
  // One block for all the text, each string copied in id order.
  size_t bytes = 0;
  for (const std::string_view s : src.strings_) bytes += s.size();
  strings_.reserve(src.strings_.size());
  if (bytes > 0) {
    blocks_.push_back(std::unique_ptr<char[]>(new char[bytes]));
    block_size_ = bytes;
    block_used_ = 0;
  }
  for (const std::string_view s : src.strings_) strings_.push_back(store(s));
  // The same strings with the same ids and the same hash: the same slots.
  slots_ = src.slots_;
  shift_ = src.shift_;
  indexed_ = true;
  for (uint32_t i = 0; i < src.size(); ++i) out[i] = i;
}

void StringPool::intern_all_by_scan(const StringPool& src, uint32_t* out) {
  ScanLookup lookup(src, out);
  for (uint32_t id = 0; id < strings_.size(); ++id) lookup.see(id, strings_[id]);
  lookup.finish([this](std::string_view s) { return append_unchecked(s); });
}

ScanLookup::ScanLookup(const StringPool& src, uint32_t* out) : src_(src), out_(out), first_(src.size()) {
  size_t slots = 64;
  while (slots < 2 * (size_t{src.size()} + 1)) slots *= 2;
  table_.assign(slots, 0);
  shift_ = 64 - log2_of(slots);
  for (uint32_t j = 0; j < src.size(); ++j) {
    out[j] = StringPool::kMissing;
    const std::string_view s = src.get(j);
    const uint64_t h = StringPool::hash_of(s);
    size_t i = static_cast<size_t>(h >> shift_);
    for (; table_[i] != 0; i = (i + 1) & (slots - 1)) {
      const auto other = static_cast<uint32_t>(table_[i]) - 1;
      if ((table_[i] >> 32) == (h >> 32) && same_text(src.get(other), s)) break;
    }
    if (table_[i] == 0) table_[i] = (h >> 32 << 32) | (uint64_t{j} + 1);
    first_[j] = static_cast<uint32_t>(table_[i]) - 1;
  }
}

void ScanLookup::see(uint32_t id, std::string_view s, uint64_t h) {
  const size_t mask = table_.size() - 1;
  for (size_t i = static_cast<size_t>(h >> shift_); table_[i] != 0; i = (i + 1) & mask) {
    const auto j = static_cast<uint32_t>(table_[i]) - 1;
    if ((table_[i] >> 32) == (h >> 32) && same_text(src_.get(j), s)) {
      if (out_[j] == StringPool::kMissing) out_[j] = id;
      return;
    }
  }
}

void ScanLookup::finish(const std::function<uint32_t(std::string_view)>& append) {
  for (uint32_t j = 0; j < src_.size(); ++j) {
    if (first_[j] != j) out_[j] = out_[first_[j]];
    else if (out_[j] == StringPool::kMissing) out_[j] = append(src_.get(j));
  }
}

uint32_t StringPool::append_unchecked(std::string_view s) {
  indexed_ = false;
  strings_.push_back(store(s));
  return static_cast<uint32_t>(strings_.size() - 1);
}

std::string_view StringPool::keep(std::string buffer) {
  kept_.push_back(std::make_unique<std::string>(std::move(buffer)));
  return *kept_.back();
}

void StringPool::reserve(size_t n) {
  if (strings_.capacity() >= strings_.size() + n) return;
  strings_.reserve(strings_.size() + n);
  advise_huge_pages(strings_.data() + strings_.size(), n * sizeof(std::string_view));
}

uint32_t StringPool::append_view_unchecked(std::string_view s) {
  indexed_ = false;
  strings_.push_back(s);
  return static_cast<uint32_t>(strings_.size() - 1);
}

uint32_t StringPool::intern(std::string_view s) { return intern(s, hash(s)); }

void StringPool::replace(uint32_t id, std::string_view text) {
  strings_[id] = store(text);
  rebuild(slots_.empty() ? 64 : slots_.size());
}

uint32_t StringPool::find(std::string_view s) const {
  // A loaded dictionary of a million values is indexed only once lookups
  // are many: the first few (a query's filter values) compare linearly,
  // which costs a fraction of building the index.
  if (!indexed_ && unindexed_lookups_ < 16) {
    ++unindexed_lookups_;
    for (uint32_t i = 0; i < strings_.size(); ++i)
      if (strings_[i].size() == s.size() && strings_[i] == s) return i;
    return kMissing;
  }
  ensure_index();
  if (slots_.empty()) return kMissing;
  const size_t i = probe(s, hash(s));
  return slots_[i] == 0 ? kMissing : static_cast<uint32_t>(slots_[i]) - 1;
}

}  // namespace cairn
