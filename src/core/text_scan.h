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

// Appends the fields of s cut at every `sep` (s must hold no quotes: the
// fields are the bytes between separators, as they are).
inline void split_unquoted(std::string_view s, char sep, std::vector<std::string_view>& fields) {
  const char* p = s.data();
  const size_t n = s.size();
  size_t start = 0, i = 0;
#if defined(__SSE2__)
  const __m128i vs = _mm_set1_epi8(sep);
  for (; i + 16 <= n; i += 16) {
    unsigned mask = static_cast<unsigned>(
        _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i)), vs)));
    while (mask != 0) {
      const size_t at = i + static_cast<size_t>(__builtin_ctz(mask));
      fields.emplace_back(p + start, at - start);
      start = at + 1;
      mask &= mask - 1;
    }
  }
#endif
  for (; i < n; ++i)
    if (p[i] == sep) {
      fields.emplace_back(p + start, i - start);
      start = i + 1;
    }
  fields.emplace_back(p + start, n - start);
}

}  // namespace cairn
