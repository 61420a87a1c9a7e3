#include "storage/time_column.h"

#include <cstring>
#include <numeric>

#include "storage/binary_io.h"
#include "storage/codec.h"

namespace cairn {
namespace {

// A delta at or above this is written as it and taken from the exceptions.
constexpr uint32_t kEscape = 0xFFFFFFFF;
// Lower bytes of a delta by its length code: the code's count of low bytes.
constexpr uint32_t kLowMask[4] = {0, 0xFF, 0xFFFF, 0xFFFFFF};

void put_stream(BinaryWriter& out, const std::string& raw) {
  const std::string comp = zstd_compress(raw, 3);
  out.put_varint(raw.size());
  out.put_string(comp.size() < raw.size() ? comp : raw);
}

// A stream of exactly raw_size bytes: a view of the chunk when stored raw,
// else decompressed into buf. False when malformed.
bool get_stream(BinaryReader& r, size_t raw_size, std::string& buf, std::string_view& out) {
  const uint64_t size = r.get_varint();
  const std::string_view stored = r.get_string();
  if (!r.ok() || size != raw_size) return false;
  if (stored.size() == raw_size) {
    out = stored;
    return true;
  }
  if (!zstd_decompress_into(stored, raw_size, buf).is_ok()) return false;
  out = buf;
  return true;
}

}  // namespace

std::string encode_time_column(const Micros* time, size_t rows, const std::vector<uint32_t>& runs, Micros min_time) {
  uint64_t unit = 0;
  for (size_t i = 0; i < rows; ++i) unit = std::gcd(unit, static_cast<uint64_t>(time[i] - min_time));
  if (unit == 0) unit = 1;
  BinaryWriter firsts, exceptions;
  std::string codes, tops, lows;
  uint64_t exception_count = 0;
  size_t nd = 0;
  uint8_t code_byte = 0;
  size_t r = 0;
  for (uint32_t n : runs) {
    firsts.put_varint(static_cast<uint64_t>(time[r] - min_time) / unit);
    for (size_t k = r + 1; k < r + n; ++k) {
      const uint64_t d = static_cast<uint64_t>(time[k] - time[k - 1]) / unit;
      uint32_t v = static_cast<uint32_t>(d);
      if (d >= kEscape) {
        v = kEscape;
        exceptions.put_varint(d);
        ++exception_count;
      }
      const unsigned code = v < (1u << 8) ? 0 : v < (1u << 16) ? 1 : v < (1u << 24) ? 2 : 3;
      code_byte = static_cast<uint8_t>(code_byte | (code << (2 * (nd & 3))));
      if ((nd & 3) == 3) {
        codes.push_back(static_cast<char>(code_byte));
        code_byte = 0;
      }
      for (unsigned b = 0; b < code; ++b) lows.push_back(static_cast<char>(v >> (8 * b)));
      tops.push_back(static_cast<char>(v >> (8 * code)));
      ++nd;
    }
    r += n;
  }
  if (nd & 3) codes.push_back(static_cast<char>(code_byte));
  BinaryWriter out;
  out.put_varint(unit);
  out.put_string(firsts.buffer());
  put_stream(out, codes);
  put_stream(out, tops);
  out.put_varint(exception_count);
  out.put_bytes(exceptions.buffer());
  out.put_bytes(lows);
  out.put_bytes(std::string_view("\0\0\0", 3));  // lets the decoder load 4 bytes at any delta
  return std::move(out.buffer());
}

bool decode_time_column(std::string_view chunk, Micros min_time, const std::vector<uint32_t>& runs, size_t rows,
                        Micros* out, TimeColumnScratch& s) {
  size_t total = 0;
  for (uint32_t n : runs) {
    if (n == 0) return false;
    total += n;
  }
  if (total != rows) return false;
  const size_t nd = rows - runs.size();
  BinaryReader r(chunk);
  const uint64_t unit = r.get_varint();
  const std::string_view firsts = r.get_string();
  std::string_view codes, tops;
  if (!r.ok() || !get_stream(r, (nd + 3) / 4, s.codes, codes) || !get_stream(r, nd, s.tops, tops)) return false;
  const uint64_t exception_count = r.get_varint();
  if (!r.ok() || exception_count > nd) return false;
  s.exceptions.resize(exception_count);
  for (uint64_t& e : s.exceptions) e = r.get_varint();
  if (!r.ok() || r.remaining() < 3) return false;
  const auto* low = reinterpret_cast<const uint8_t*>(chunk.data() + r.position());
  const size_t low_size = r.remaining() - 3;
  // The codes give the low bytes' total: checked once, so the loop below
  // reads inside the chunk without a check per delta.
  const auto* c = reinterpret_cast<const uint8_t*>(codes.data());
  size_t low_total = 0;
  for (size_t i = 0; i < codes.size(); ++i)
    low_total += (c[i] & 3u) + ((c[i] >> 2) & 3u) + ((c[i] >> 4) & 3u) + (c[i] >> 6);
  if (low_total != low_size) return false;
  s.firsts.resize(runs.size());
  const auto* fp = reinterpret_cast<const uint8_t*>(firsts.data());
  if (get_varints_fast(fp, fp + firsts.size(), s.firsts.data(), runs.size()) != fp + firsts.size()) return false;

  const auto* top = reinterpret_cast<const uint8_t*>(tops.data());
  size_t i = 0, e = 0;
  for (size_t j = 0; j < runs.size(); ++j) {
    const uint32_t n = runs[j];
    // Unsigned: damaged units or deltas wrap instead of overflowing.
    uint64_t cur = static_cast<uint64_t>(min_time) + s.firsts[j] * unit;
    out[0] = static_cast<Micros>(cur);
    for (uint32_t k = 1; k < n; ++k, ++i) {
      const unsigned code = (c[i >> 2] >> (2 * (i & 3))) & 3u;
      uint32_t w;
      std::memcpy(&w, low, 4);
      const uint32_t v = (w & kLowMask[code]) | (static_cast<uint32_t>(top[i]) << (8 * code));
      low += code;
      uint64_t d = v;
      if (v == kEscape) [[unlikely]] {
        if (e == s.exceptions.size()) return false;
        d = s.exceptions[e++];
      }
      cur += d * unit;
      out[k] = static_cast<Micros>(cur);
    }
    out += n;
  }
  return i == nd && e == s.exceptions.size();
}

}  // namespace cairn
