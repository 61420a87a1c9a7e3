// Byte scans of the CSV reader, 16 bytes a step (SSE2, which every x86-64
// has; a plain loop elsewhere): a CSV record is mostly short and empty
// fields, where a byte loop or a memchr call per field costs more than the
// compare.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace cairn {

// The index of the first byte of p[0..n) that is a or b; n when none is.
inline size_t find_either(const char* p, size_t n, char a, char b) {
  size_t i = 0;
#if defined(__SSE2__)
  const __m128i va = _mm_set1_epi8(a), vb = _mm_set1_epi8(b);
  for (; i + 16 <= n; i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    const unsigned mask =
        static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, va), _mm_cmpeq_epi8(v, vb))));
    if (mask != 0) return i + static_cast<size_t>(__builtin_ctz(mask));
  }
#endif
  for (; i < n; ++i)
    if (p[i] == a || p[i] == b) return i;
  return n;
}

// Appends the fields of s cut at every comma, and returns true, when s has
// no quote and no NUL byte; else returns false (fields then holds some of
// them: the caller clears it and reads s the general way).
inline bool split_plain_csv(std::string_view s, std::vector<std::string_view>& fields) {
  const char* p = s.data();
  const size_t n = s.size();
  size_t start = 0, i = 0;
#if defined(__SSE2__)
  const __m128i comma = _mm_set1_epi8(','), quote = _mm_set1_epi8('"'), zero = _mm_setzero_si128();
  for (; i + 16 <= n; i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    if (_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, zero))) != 0) return false;
    unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, comma)));
    while (mask != 0) {
      const size_t at = i + static_cast<size_t>(__builtin_ctz(mask));
      fields.emplace_back(p + start, at - start);
      start = at + 1;
      mask &= mask - 1;
    }
  }
#endif
  for (; i < n; ++i) {
    if (p[i] == '"' || p[i] == '\0') return false;
    if (p[i] == ',') {
      fields.emplace_back(p + start, i - start);
      start = i + 1;
    }
  }
  fields.emplace_back(p + start, n - start);
  return true;
}

}  // namespace cairn
