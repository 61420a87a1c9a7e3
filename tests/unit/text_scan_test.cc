// The CSV reader's byte scans (core/text_scan.h) against plain loops, on
// random texts of every length to 70 (whole 16-byte steps, the tail, none):
// where the first of two bytes is, and the fields between commas (or a
// refusal when a quote or a NUL byte is there).
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "core/text_scan.h"

namespace cairn {
namespace text_scan_test {

TEST(TextScan, FindEitherIsTheFirstOfTwoBytes) {
  std::mt19937_64 rng(8);
  const std::string alphabet = "ab,\"\n\x80\xFF";
  for (size_t n = 0; n <= 70; ++n) {
    for (int trial = 0; trial < 200; ++trial) {
      std::string s(n, 'x');
      for (char& c : s)
        if (rng() % 6 == 0) c = alphabet[rng() % alphabet.size()];
      size_t want = n;
      for (size_t i = 0; i < n; ++i)
        if (s[i] == '"' || s[i] == '\n') {
          want = i;
          break;
        }
      ASSERT_EQ(find_either(s.data(), n, '"', '\n'), want) << n;
    }
  }
}

TEST(TextScan, SplitPlainCsvCutsAtEveryCommaOrRefuses) {
  std::mt19937_64 rng(9);
  size_t refused = 0, split = 0;
  for (size_t n = 0; n <= 70; ++n) {
    for (int trial = 0; trial < 200; ++trial) {
      std::string s(n, 'v');
      for (char& c : s) {
        const uint64_t r = rng() % 100;
        if (r < 30) c = ',';
        else if (r < 60) c = static_cast<char>('a' + rng() % 26);
        else if (r == 60 && trial % 2 == 0) c = '"';
        else if (r == 61 && trial % 2 == 0) c = '\0';
      }
      const bool plain = s.find('"') == std::string::npos && s.find('\0') == std::string::npos;
      std::vector<std::string_view> want;
      size_t start = 0;
      for (size_t i = 0; i <= n; ++i)
        if (i == n || s[i] == ',') {
          want.emplace_back(s.data() + start, i - start);
          start = i + 1;
        }
      std::vector<std::string_view> got = {"kept"};  // appends
      ASSERT_EQ(split_plain_csv(s, got), plain) << n;
      if (!plain) {
        ++refused;
        continue;
      }
      ++split;
      ASSERT_EQ(got.size(), want.size() + 1) << s;
      for (size_t k = 0; k < want.size(); ++k) ASSERT_EQ(got[k + 1], want[k]) << s;
    }
  }
  EXPECT_GT(refused, 1000u);
  EXPECT_GT(split, 1000u);
}

}  // namespace text_scan_test
}  // namespace cairn
