// ChunkedArray: an append-only array kept in chunks of 65,536 elements.
// Growing never moves or copies elements (no doubling, no peak of the old
// and the new buffer at once), and each chunk is one allocation: the
// std::deque an import batch used before allocated a 512-byte node every
// dozen events, and with the one malloc arena the import shares between
// its threads (cli/main.cc) those calls contended for its lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <type_traits>
#include <vector>

namespace cairn {

template <typename T>
class ChunkedArray {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);

 public:
  static constexpr size_t kShift = 16;
  static constexpr size_t kChunk = size_t{1} << kShift;

  void push_back(const T& v) {
    if ((size_ & (kChunk - 1)) == 0) [[unlikely]]
      chunks_.push_back(std::make_unique_for_overwrite<T[]>(kChunk));
    chunks_.back()[size_ & (kChunk - 1)] = v;
    ++size_;
  }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T& operator[](size_t i) { return chunks_[i >> kShift][i & (kChunk - 1)]; }
  const T& operator[](size_t i) const { return chunks_[i >> kShift][i & (kChunk - 1)]; }
  void clear() {
    chunks_.clear();
    size_ = 0;
  }

  // Calls f(element) for each element in order, freeing each chunk once it
  // is done (so a batch appended into another does not double memory), and
  // leaves the array empty.
  template <typename F>
  void drain(F&& f) {
    for (size_t c = 0; c < chunks_.size(); ++c) {
      const size_t n = c + 1 < chunks_.size() ? kChunk : size_ - c * kChunk;
      for (size_t i = 0; i < n; ++i) f(chunks_[c][i]);
      chunks_[c].reset();
    }
    clear();
  }

  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using pointer = const T*;
    using reference = const T&;
    const_iterator() = default;
    const_iterator(const ChunkedArray* a, size_t i) : a_(a), i_(i) {}
    const T& operator*() const { return (*a_)[i_]; }
    const T* operator->() const { return &(*a_)[i_]; }
    const_iterator& operator++() {
      ++i_;
      return *this;
    }
    const_iterator operator++(int) {
      const_iterator old = *this;
      ++i_;
      return old;
    }
    bool operator==(const const_iterator& o) const { return i_ == o.i_; }

   private:
    const ChunkedArray* a_ = nullptr;
    size_t i_ = 0;
  };
  const_iterator begin() const { return const_iterator(this, 0); }
  const_iterator end() const { return const_iterator(this, size_); }

 private:
  std::vector<std::unique_ptr<T[]>> chunks_;
  size_t size_ = 0;
};

}  // namespace cairn
