#include "storage/time_column.h"

#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

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

// The deltas d[from..nd) from the length codes, top bytes and low bytes, as
// 32-bit values (kEscape stays kEscape). Reads up to 3 bytes past the last
// low byte (the chunk's padding), never past the padding.
void unpack_deltas_scalar(const uint8_t* c, const uint8_t* top, const uint8_t* low, size_t from, size_t nd,
                          uint32_t* d) {
  for (size_t i = from; i < nd; ++i) {
    const unsigned code = (c[i >> 2] >> (2 * (i & 3))) & 3u;
    // Loaded only when the delta has a low byte: after the last one, the
    // chunk's 3 bytes of padding do not hold a 4-byte load.
    uint32_t w = 0;
    if (code != 0) std::memcpy(&w, low, 4);
    d[i] = (w & kLowMask[code]) | (static_cast<uint32_t>(top[i]) << (8 * code));
    low += code;
  }
}

#if defined(__x86_64__)
// Per code byte (the lengths of 4 deltas): shuffles that place each delta's
// low bytes (from the low stream) and its top byte (from 4 top bytes) in
// its 32-bit lane, as Stream VByte decodes; and the low bytes consumed.
struct ShuffleTables {
  alignas(16) uint8_t low[256][16];
  alignas(16) uint8_t top[256][16];
  uint8_t length[256];
};

constexpr ShuffleTables make_shuffle_tables() {
  ShuffleTables t{};
  for (unsigned cb = 0; cb < 256; ++cb) {
    unsigned off = 0;
    for (unsigned j = 0; j < 4; ++j) {
      const unsigned code = (cb >> (2 * j)) & 3u;
      for (unsigned b = 0; b < 4; ++b) {
        t.low[cb][4 * j + b] = b < code ? static_cast<uint8_t>(off + b) : 0x80;
        t.top[cb][4 * j + b] = b == code ? static_cast<uint8_t>(j) : 0x80;
      }
      off += code;
    }
    t.length[cb] = static_cast<uint8_t>(off);
  }
  return t;
}
constexpr ShuffleTables kShuffle = make_shuffle_tables();

// Four deltas a step while 16 low bytes are readable; the rest scalar.
__attribute__((target("ssse3"))) void unpack_deltas_ssse3(const uint8_t* c, const uint8_t* top, const uint8_t* low,
                                                          const uint8_t* low_readable_end, size_t nd, uint32_t* d) {
  size_t i = 0;
  for (; i + 4 <= nd && low_readable_end - low >= 16; i += 4) {
    const uint8_t cb = c[i >> 2];
    const __m128i lows = _mm_loadu_si128(reinterpret_cast<const __m128i*>(low));
    uint32_t t4;
    std::memcpy(&t4, top + i, 4);
    const __m128i tops = _mm_cvtsi32_si128(static_cast<int>(t4));
    const __m128i v =
        _mm_or_si128(_mm_shuffle_epi8(lows, _mm_load_si128(reinterpret_cast<const __m128i*>(kShuffle.low[cb]))),
                     _mm_shuffle_epi8(tops, _mm_load_si128(reinterpret_cast<const __m128i*>(kShuffle.top[cb]))));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(d + i), v);
    low += kShuffle.length[cb];
  }
  unpack_deltas_scalar(c, top, low, i, nd, d);
}

const bool kHasSsse3 = __builtin_cpu_supports("ssse3");
#endif

void unpack_deltas(const uint8_t* c, const uint8_t* top, const uint8_t* low, const uint8_t* low_readable_end,
                   size_t nd, uint32_t* d) {
#if defined(__x86_64__)
  if (kHasSsse3) return unpack_deltas_ssse3(c, top, low, low_readable_end, nd, d);
#endif
  (void)low_readable_end;
  unpack_deltas_scalar(c, top, low, 0, nd, d);
}

}  // namespace

std::string encode_time_column(const Micros* time, size_t rows, const std::vector<uint32_t>& runs, Micros min_time) {
  const uint64_t unit = time_unit(time, rows, min_time);
  BinaryWriter firsts, exceptions;
  // Written through pointers into buffers sized for the worst case (3 low
  // bytes a delta, plus 4 for the last 4-byte store), then cut to size.
  const size_t max_deltas = rows - runs.size();
  std::string codes((max_deltas + 3) / 4, '\0'), tops(max_deltas, '\0'), lows(3 * max_deltas + 4, '\0');
  char* top = tops.data();
  char* low = lows.data();
  uint64_t exception_count = 0;
  size_t nd = 0;
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
      codes[nd >> 2] = static_cast<char>(static_cast<uint8_t>(codes[nd >> 2]) | (code << (2 * (nd & 3))));
      std::memcpy(low, &v, 4);  // little-endian: the low `code` bytes first; the rest is overwritten or cut
      low += code;
      *top++ = static_cast<char>(v >> (8 * code));
      ++nd;
    }
    r += n;
  }
  codes.resize((nd + 3) / 4);
  tops.resize(nd);
  lows.resize(static_cast<size_t>(low - lows.data()));
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

  // Two passes: the deltas four at a time (no serial dependency), then each
  // person's running sum.
  s.deltas.resize(nd);
  uint32_t* deltas = s.deltas.data();
  unpack_deltas(c, reinterpret_cast<const uint8_t*>(tops.data()), low,
                reinterpret_cast<const uint8_t*>(chunk.data() + chunk.size()), nd, deltas);
  size_t i = 0, e = 0;
  for (size_t j = 0; j < runs.size(); ++j) {
    const uint32_t n = runs[j];
    // Unsigned: damaged units or deltas wrap instead of overflowing.
    uint64_t cur = static_cast<uint64_t>(min_time) + s.firsts[j] * unit;
    out[0] = static_cast<Micros>(cur);
    for (uint32_t k = 1; k < n; ++k, ++i) {
      const uint32_t v = deltas[i];
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
