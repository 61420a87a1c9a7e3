// Little-endian binary encoding used by every cairn file: fixed-width
// integers, LEB128 varints, zigzag for signed values, length-prefixed strings.
// BinaryReader never reads past its buffer: a short or malformed buffer makes
// every later read fail, and ok() turns false.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace cairn {

// The bytes are written through a pointer into a string kept larger than
// what was written (the written length is n_): a put is a bounds check and a
// store, where std::string's push_back and append cost a call, a capacity
// check and a terminator each. buffer() trims the string to what was written.
class BinaryWriter {
 public:
  void put_u8(uint8_t v) {
    *room(1) = static_cast<char>(v);
    n_ += 1;
  }
  void put_u32(uint32_t v) { put_fixed(&v, 4); }
  void put_u64(uint64_t v) { put_fixed(&v, 8); }
  void put_f64(double v) { put_fixed(&v, 8); }
  void put_varint(uint64_t v) {
    char* p = room(10);
    size_t n = 0;
    while (v >= 0x80) {
      p[n++] = static_cast<char>(v | 0x80);
      v >>= 7;
    }
    p[n++] = static_cast<char>(v);
    n_ += n;
  }
  void put_zigzag(int64_t v) { put_varint((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63)); }
  void put_string(std::string_view s) {
    put_varint(s.size());
    put_fixed(s.data(), s.size());
  }
  void put_bytes(std::string_view s) { put_fixed(s.data(), s.size()); }

  // The bytes written so far (the string may be moved from; the writer is
  // then empty after a clear()).
  std::string& buffer() {
    buf_.resize(n_);
    return buf_;
  }
  size_t size() const { return n_; }
  void clear() { n_ = 0; }

 private:
  // Room for k more bytes at the end of what was written.
  char* room(size_t k) {
    if (n_ + k > buf_.size()) grow(k);
    return buf_.data() + n_;
  }
  void grow(size_t k) { buf_.resize(std::max(buf_.size() * 2, n_ + k + 64)); }
  void put_fixed(const void* p, size_t n) {
    if (n == 0) return;
    std::memcpy(room(n), p, n);
    n_ += n;
  }
  std::string buf_;
  size_t n_ = 0;
};

// The value of a varint of len <= 8 bytes held in the low bytes of w (a
// little-endian load; later bytes ignored): its 7-bit groups packed without
// a loop.
inline uint64_t pack_varint_bytes(uint64_t w, unsigned len) {
  uint64_t x = w & 0x7F7F7F7F7F7F7F7Full;
  x = (x & 0x007F007F007F007Full) | ((x & 0x7F007F007F007F00ull) >> 1);
  x = (x & 0x00003FFF00003FFFull) | ((x & 0x3FFF00003FFF0000ull) >> 2);
  x = (x & 0x000000000FFFFFFFull) | ((x & 0x0FFFFFFF00000000ull) >> 4);
  return x & ((uint64_t{1} << (7 * len)) - 1);
}

// Decodes one LEB128 varint at p (p <= end) into v and returns the byte
// after it, or nullptr when it is cut off by `end` or longer than 10 bytes.
// For hot loops: no per-byte bounds check while 10 bytes remain.
inline const uint8_t* get_varint_fast(const uint8_t* p, const uint8_t* end, uint64_t& v) {
  if (end - p >= 8) {
    // Up to 8 bytes at once: the first byte without the continuation bit
    // ends the varint; the 7-bit groups are packed without a loop, so
    // values of varying length cost no branch mispredictions.
    uint64_t w;
    std::memcpy(&w, p, 8);  // little-endian hosts (x86-64, arm64)
    const uint64_t stops = ~w & 0x8080808080808080ull;
    if (stops != 0) {
      const unsigned len = static_cast<unsigned>(__builtin_ctzll(stops)) / 8 + 1;
      v = pack_varint_bytes(w, len);
      return p + len;
    }
  }
  uint64_t r = 0;
  for (int shift = 0; shift < 64 && p < end; shift += 7) {
    const uint64_t b = *p++;
    r |= (b & 0x7F) << shift;
    if (b < 0x80) {
      v = r;
      return p;
    }
  }
  return nullptr;
}

// Decodes exactly n LEB128 varints from [p, end) into out[0..n) (each
// narrowed to T) and returns the byte after the last, or nullptr when the
// input is cut off or holds a varint longer than 10 bytes.
//
// For columns of many varints: get_varint_fast's next start depends on the
// length of the value before (load, mask, count, add: ~11 cycles a value).
// Here the terminating bytes (high bit clear) of 64 bytes at a time are found
// first as one bit mask, and each value's end is the next set bit, so the
// only serial step left is clearing the lowest bit.
template <typename T>
inline const uint8_t* get_varints_fast(const uint8_t* p, const uint8_t* end, T* out, size_t n) {
  size_t i = 0;
  const uint8_t* base = p;
  // Each round reads the 64 bytes at base (every value before them is
  // decoded: p <= base), and 8 bytes at a value's start, which lies at most
  // 7 bytes before the value's end inside them (longer values take the
  // checked path): 72 bytes must remain.
  while (i < n && end - base >= 72) {
    uint64_t stops = 0;
    for (int w = 0; w < 8; ++w) {
      uint64_t word;
      std::memcpy(&word, base + 8 * w, 8);  // little-endian hosts (x86-64, arm64)
      // Bit 7 of each byte set where the byte ends a varint; gather the
      // eight bits into one byte.
      const uint64_t hi = (~word & 0x8080808080808080ull) >> 7;
      stops |= ((hi * 0x0102040810204080ull) >> 56) << (8 * w);
    }
    while (stops != 0 && i < n) {
      const uint8_t* last = base + __builtin_ctzll(stops);
      stops &= stops - 1;
      const size_t len = static_cast<size_t>(last - p) + 1;
      uint64_t v;
      if (len <= 8) {
        uint64_t w;
        std::memcpy(&w, p, 8);
        v = pack_varint_bytes(w, static_cast<unsigned>(len));
      } else {
        if (len > 10 || get_varint_fast(p, end, v) != last + 1) return nullptr;
      }
      out[i++] = static_cast<T>(v);
      p = last + 1;
    }
    base += 64;
  }
  for (; i < n; ++i) {
    uint64_t v;
    if (!(p = get_varint_fast(p, end, v))) return nullptr;
    out[i] = static_cast<T>(v);
  }
  return p;
}

class BinaryReader {
 public:
  explicit BinaryReader(std::string_view data) : data_(data) {}

  bool ok() const { return ok_; }
  bool at_end() const { return pos_ >= data_.size(); }
  size_t position() const { return pos_; }
  size_t remaining() const { return data_.size() - pos_; }

  uint8_t get_u8() {
    uint8_t v = 0;
    get_fixed(&v, 1);
    return v;
  }
  uint32_t get_u32() {
    uint32_t v = 0;
    get_fixed(&v, 4);
    return v;
  }
  uint64_t get_u64() {
    uint64_t v = 0;
    get_fixed(&v, 8);
    return v;
  }
  double get_f64() {
    double v = 0;
    get_fixed(&v, 8);
    return v;
  }
  uint64_t get_varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= data_.size()) return fail();
      const auto b = static_cast<uint8_t>(data_[pos_++]);
      v |= static_cast<uint64_t>(b & 0x7F) << shift;
      if (b < 0x80) return v;
    }
    return fail();
  }
  int64_t get_zigzag() {
    const uint64_t u = get_varint();
    return static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
  }
  std::string_view get_string() {
    const uint64_t n = get_varint();
    if (!ok_ || n > remaining()) {
      fail();
      return {};
    }
    std::string_view s = data_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  // A count that must be plausible: each element takes at least min_bytes.
  uint64_t get_count(size_t min_bytes = 1) {
    const uint64_t n = get_varint();
    if (!ok_ || n > remaining() / (min_bytes ? min_bytes : 1)) return fail();
    return n;
  }

 private:
  uint64_t fail() {
    ok_ = false;
    pos_ = data_.size();
    return 0;
  }
  void get_fixed(void* p, size_t n) {
    if (n > remaining()) {
      fail();
      return;
    }
    std::memcpy(p, data_.data() + pos_, n);
    pos_ += n;
  }

  std::string_view data_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace cairn
