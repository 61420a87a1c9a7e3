// Little-endian binary encoding used by every cairn file: fixed-width
// integers, LEB128 varints, zigzag for signed values, length-prefixed strings.
// BinaryReader never reads past its buffer: a short or malformed buffer makes
// every later read fail, and ok() turns false.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace cairn {

class BinaryWriter {
 public:
  void put_u8(uint8_t v) { buf_.push_back(static_cast<char>(v)); }
  void put_u32(uint32_t v) { put_fixed(&v, 4); }
  void put_u64(uint64_t v) { put_fixed(&v, 8); }
  void put_f64(double v) { put_fixed(&v, 8); }
  void put_varint(uint64_t v) {
    while (v >= 0x80) {
      buf_.push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    buf_.push_back(static_cast<char>(v));
  }
  void put_zigzag(int64_t v) { put_varint((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63)); }
  void put_string(std::string_view s) {
    put_varint(s.size());
    buf_.append(s.data(), s.size());
  }
  void put_bytes(std::string_view s) { buf_.append(s.data(), s.size()); }

  std::string& buffer() { return buf_; }
  size_t size() const { return buf_.size(); }
  void clear() { buf_.clear(); }

 private:
  void put_fixed(const void* p, size_t n) { buf_.append(static_cast<const char*>(p), n); }
  std::string buf_;
};

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
      uint64_t x = w & 0x7F7F7F7F7F7F7F7Full;
      x = (x & 0x007F007F007F007Full) | ((x & 0x7F007F007F007F00ull) >> 1);
      x = (x & 0x00003FFF00003FFFull) | ((x & 0x3FFF00003FFF0000ull) >> 2);
      x = (x & 0x000000000FFFFFFFull) | ((x & 0x0FFFFFFF00000000ull) >> 4);
      v = x & ((uint64_t{1} << (7 * len)) - 1);
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
