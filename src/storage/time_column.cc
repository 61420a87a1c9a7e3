#include "storage/time_column.h"

#include <algorithm>
#include <bit>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "storage/binary_io.h"
#include "storage/codec.h"

namespace cairn {
namespace {

// A delta at or above this is written as it and taken from the exceptions;
// with second flags, 31 bits hold a value.
constexpr uint32_t kEscape = 0xFFFFFFFF;
constexpr uint32_t kFlagEscape = 0x7FFFFFFF;
// The chunk's mode byte (version 3): deltas carry second flags.
constexpr uint8_t kModeSecondFlags = 1;
constexpr auto kSecond = static_cast<uint64_t>(kMicrosPerSecond);
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
void unpack_deltas_scalar(const uint8_t* c, const uint8_t* top, uint8_t top_mask, const uint8_t* low, size_t from,
                          size_t nd, uint32_t* d) {
  for (size_t i = from; i < nd; ++i) {
    const unsigned code = (c[i >> 2] >> (2 * (i & 3))) & 3u;
    // Loaded only when the delta has a low byte: after the last one, the
    // chunk's 3 bytes of padding do not hold a 4-byte load.
    uint32_t w = 0;
    if (code != 0) std::memcpy(&w, low, 4);
    d[i] = (w & kLowMask[code]) | (static_cast<uint32_t>(top[i] & top_mask) << (8 * code));
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
__attribute__((target("ssse3"))) void unpack_deltas_ssse3(const uint8_t* c, const uint8_t* top, uint8_t top_mask,
                                                          const uint8_t* low, const uint8_t* low_readable_end,
                                                          size_t nd, uint32_t* d) {
  const uint32_t mask4 = top_mask * 0x01010101u;
  size_t i = 0;
  for (; i + 4 <= nd && low_readable_end - low >= 16; i += 4) {
    const uint8_t cb = c[i >> 2];
    const __m128i lows = _mm_loadu_si128(reinterpret_cast<const __m128i*>(low));
    uint32_t t4;
    std::memcpy(&t4, top + i, 4);
    t4 &= mask4;
    const __m128i tops = _mm_cvtsi32_si128(static_cast<int>(t4));
    const __m128i v =
        _mm_or_si128(_mm_shuffle_epi8(lows, _mm_load_si128(reinterpret_cast<const __m128i*>(kShuffle.low[cb]))),
                     _mm_shuffle_epi8(tops, _mm_load_si128(reinterpret_cast<const __m128i*>(kShuffle.top[cb]))));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(d + i), v);
    low += kShuffle.length[cb];
  }
  unpack_deltas_scalar(c, top, top_mask, low, i, nd, d);
}

const bool kHasSsse3 = __builtin_cpu_supports("ssse3");
#endif

// top_mask: the bits of each top byte that are the value's (0x7F with
// second flags, whose flag is bit 7).
void unpack_deltas(const uint8_t* c, const uint8_t* top, uint8_t top_mask, const uint8_t* low,
                   const uint8_t* low_readable_end, size_t nd, uint32_t* d) {
#if defined(__x86_64__)
  if (kHasSsse3) return unpack_deltas_ssse3(c, top, top_mask, low, low_readable_end, nd, d);
#endif
  (void)low_readable_end;
  unpack_deltas_scalar(c, top, top_mask, low, 0, nd, d);
}

// Each person's first time as (first − min_time)/unit in `width` bits,
// packed from the low bits of each byte on (version 3).
std::string pack_firsts(const std::vector<uint64_t>& firsts, unsigned width) {
  std::string out((firsts.size() * width + 7) / 8, '\0');
  size_t pos = 0;
  for (uint64_t f : firsts) {
    for (unsigned b = 0; b < width;) {  // a byte's worth of bits a step
      const unsigned shift = pos & 7, take = std::min(8 - shift, width - b);
      out[pos >> 3] = static_cast<char>(static_cast<uint8_t>(out[pos >> 3]) | (((f >> b) & ((1u << take) - 1)) << shift));
      b += take;
      pos += take;
    }
  }
  return out;
}

// One way of writing the deltas (second flags on or off), before the chunk
// is put together.
struct DeltaStreams {
  std::string codes, tops, lows;
  BinaryWriter exceptions;
  uint64_t exception_count = 0;
};

DeltaStreams delta_streams(const Micros* time, size_t rows, const std::vector<uint32_t>& runs, uint64_t unit,
                           bool flags) {
  DeltaStreams s;
  const uint32_t escape = flags ? kFlagEscape : kEscape;
  // The least code whose bytes hold a value: with flags, each code's top
  // byte has 7 bits for it (its 8th is the flag).
  const unsigned top_bits = flags ? 7 : 8;
  // Written through pointers into buffers sized for the worst case (3 low
  // bytes a delta, plus 4 for the last 4-byte store), then cut to size.
  const size_t max_deltas = rows - runs.size();
  s.codes.assign((max_deltas + 3) / 4, '\0');
  s.tops.assign(max_deltas, '\0');
  s.lows.assign(3 * max_deltas + 4, '\0');
  char* top = s.tops.data();
  char* low = s.lows.data();
  size_t nd = 0;
  size_t r = 0;
  for (uint32_t n : runs) {
    for (size_t k = r + 1; k < r + n; ++k) {
      const uint64_t micros = static_cast<uint64_t>(time[k] - time[k - 1]);
      const uint64_t d = micros / unit;
      // A whole number of seconds is written in seconds, flagged (equal
      // times are 0 either way, and left unflagged).
      const bool whole = flags && micros != 0 && micros % kSecond == 0 && micros / kSecond < escape;
      const uint64_t value = whole ? micros / kSecond : d;
      uint32_t v = static_cast<uint32_t>(value);
      if (value >= escape) {
        v = escape;
        s.exceptions.put_varint(d);
        ++s.exception_count;
      }
      const unsigned code = v < (1u << top_bits)            ? 0
                            : v < (1u << (8 + top_bits))  ? 1
                            : v < (1u << (16 + top_bits)) ? 2
                                                          : 3;
      s.codes[nd >> 2] = static_cast<char>(static_cast<uint8_t>(s.codes[nd >> 2]) | (code << (2 * (nd & 3))));
      std::memcpy(low, &v, 4);  // little-endian: the low `code` bytes first; the rest is overwritten or cut
      low += code;
      *top++ = static_cast<char>((v >> (8 * code)) | (whole ? 0x80u : 0u));
      ++nd;
    }
    r += n;
  }
  s.codes.resize((nd + 3) / 4);
  s.tops.resize(nd);
  s.lows.resize(static_cast<size_t>(low - s.lows.data()));
  return s;
}

}  // namespace

std::string encode_time_column(const Micros* time, size_t rows, const std::vector<uint32_t>& runs, Micros min_time,
                               SecondFlags second_flags) {
  const uint64_t unit = time_unit(time, rows, min_time);
  std::vector<uint64_t> firsts;
  firsts.reserve(runs.size());
  uint64_t most = 0;
  size_t r = 0;
  for (uint32_t n : runs) {
    firsts.push_back(static_cast<uint64_t>(time[r] - min_time) / unit);
    most = std::max(most, firsts.back());
    r += n;
  }
  const auto width = static_cast<unsigned>(std::bit_width(most));
  const std::string firsts_bits = pack_firsts(firsts, width);
  auto chunk = [&](bool flags) {
    DeltaStreams s = delta_streams(time, rows, runs, unit, flags);
    BinaryWriter out;
    out.put_varint(unit);
    out.put_u8(flags ? kModeSecondFlags : 0);
    out.put_u8(static_cast<uint8_t>(width));
    out.put_string(firsts_bits);
    put_stream(out, s.codes);
    put_stream(out, s.tops);
    out.put_varint(s.exception_count);
    out.put_bytes(s.exceptions.buffer());
    out.put_bytes(s.lows);
    out.put_bytes(std::string_view("\0\0\0", 3));  // lets the decoder load 4 bytes at any delta
    return std::move(out.buffer());
  };
  // With a unit of a second or more every delta is whole seconds already,
  // and the flags would only take a bit from each top byte.
  if (second_flags == SecondFlags::kOff || (second_flags == SecondFlags::kAuto && unit >= kSecond))
    return chunk(false);
  if (second_flags == SecondFlags::kOn) return chunk(true);
  std::string off = chunk(false), on = chunk(true);
  return on.size() < off.size() ? std::move(on) : std::move(off);
}

namespace {

// The persons' first offsets (version 3's packed bits) into out. False when
// the bytes do not match the count and width.
bool unpack_firsts(std::string_view bits, unsigned width, size_t count, std::string& buf, uint64_t* out) {
  if (width > 64 || bits.size() != (count * width + 7) / 8) return false;
  buf.assign(bits);
  buf.append(16, '\0');  // each value is read with two 8-byte loads at most
  const auto* p = reinterpret_cast<const uint8_t*>(buf.data());
  const uint64_t mask = width == 64 ? ~uint64_t{0} : (uint64_t{1} << width) - 1;
  for (size_t j = 0; j < count; ++j) {
    const size_t pos = j * width, at = pos >> 3;
    const unsigned shift = pos & 7;
    uint64_t w;
    std::memcpy(&w, p + at, 8);
    w >>= shift;
    if (shift + width > 64) w |= static_cast<uint64_t>(p[at + 8]) << (64 - shift);
    out[j] = w & mask;
  }
  return true;
}

// Each person's running sum of the deltas. With second flags, a delta whose
// top byte has bit 7 set is in seconds, the others in units; the escape is
// the mode's. A function of its own (not inlined), so that its running
// state stays in registers.
template <bool kFlags>
__attribute__((noinline)) bool sum_deltas(const std::vector<uint32_t>& runs, const uint64_t* firsts,
                                          const uint32_t* deltas, const uint8_t* tops,
                                          const std::vector<uint64_t>& exceptions, uint64_t min_time, uint64_t unit,
                                          Micros* out) {
  const uint32_t escape = kFlags ? kFlagEscape : kEscape;
  size_t i = 0, e = 0;
  for (size_t j = 0; j < runs.size(); ++j) {
    const uint32_t n = runs[j];
    // Unsigned: damaged units or deltas wrap instead of overflowing.
    uint64_t cur = min_time + firsts[j] * unit;
    out[0] = static_cast<Micros>(cur);
    for (uint32_t k = 1; k < n; ++k, ++i) {
      const uint32_t v = deltas[i];
      uint64_t d = v;
      uint64_t m = unit;
      if constexpr (kFlags) m = tops[i] & 0x80 ? kSecond : unit;
      if (v == escape) [[unlikely]] {
        if (e == exceptions.size()) return false;
        d = exceptions[e++];
        m = unit;
      }
      cur += d * m;
      out[k] = static_cast<Micros>(cur);
    }
    out += n;
  }
  return e == exceptions.size();
}

}  // namespace

bool decode_time_column(std::string_view chunk, Micros min_time, const std::vector<uint32_t>& runs, size_t rows,
                        Micros* out, TimeColumnScratch& s, uint32_t version) {
  size_t total = 0;
  for (uint32_t n : runs) {
    if (n == 0) return false;
    total += n;
  }
  if (total != rows) return false;
  const size_t nd = rows - runs.size();
  BinaryReader r(chunk);
  const uint64_t unit = r.get_varint();
  bool flags = false;
  unsigned width = 0;
  if (version >= 3) {
    const uint8_t mode = r.get_u8();
    if (mode & ~kModeSecondFlags) return false;
    flags = mode == kModeSecondFlags;
    width = r.get_u8();
  }
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
  if (version >= 3) {
    if (!unpack_firsts(firsts, width, runs.size(), s.first_bits, s.firsts.data())) return false;
  } else {
    const auto* fp = reinterpret_cast<const uint8_t*>(firsts.data());
    if (get_varints_fast(fp, fp + firsts.size(), s.firsts.data(), runs.size()) != fp + firsts.size()) return false;
  }
  // Two passes: the deltas four at a time (no serial dependency), then each
  // person's running sum.
  const auto* top = reinterpret_cast<const uint8_t*>(tops.data());
  s.deltas.resize(nd);
  unpack_deltas(c, top, flags ? 0x7F : 0xFF, low, reinterpret_cast<const uint8_t*>(chunk.data() + chunk.size()), nd,
                s.deltas.data());
  const auto base = static_cast<uint64_t>(min_time);
  return flags ? sum_deltas<true>(runs, s.firsts.data(), s.deltas.data(), top, s.exceptions, base, unit, out)
               : sum_deltas<false>(runs, s.firsts.data(), s.deltas.data(), nullptr, s.exceptions, base, unit, out);
}

}  // namespace cairn
