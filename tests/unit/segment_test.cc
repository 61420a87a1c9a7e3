// Segments (storage/segment.h): rows written by write_segment and read back
// by SegmentReader::read_rows over several blocks are the rows written, with
// every property (strings, integers, doubles, booleans, keys present on some
// rows only) in the row's key order of the columns; a key given twice on one
// row keeps its first value.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

#include "storage/segment.h"
#include "storage/segment_format.h"
#include "store_test_util.h"

namespace cairn {
namespace segment_test {

StoredProp number(uint32_t key, double d) {
  StoredProp p{key, ValueType::kNumber, 0};
  std::memcpy(&p.bits, &d, 8);
  return p;
}

// The properties a reader gives back for a row: one per key, the first
// written, ordered by key (columns come in key order).
std::vector<StoredProp> expected_props(const RowSet& set, const Row& r) {
  std::vector<StoredProp> out;
  for (uint32_t k = 0; k < r.prop_count; ++k) {
    const StoredProp& p = set.props[r.prop_begin + k];
    if (std::none_of(out.begin(), out.end(), [&](const StoredProp& q) { return q.key == p.key; })) out.push_back(p);
  }
  std::stable_sort(out.begin(), out.end(), [](const StoredProp& a, const StoredProp& b) { return a.key < b.key; });
  return out;
}

TEST(Segment, RowsAndPropertiesRoundTripOverBlocks) {
  const std::string dir = testing::temp_dir("segment");
  std::filesystem::create_directories(dir);
  std::mt19937_64 rng(17);
  RowSet set;
  const size_t rows = 2 * kBlockRows + 12345;
  uint32_t person = 3;
  Micros t = 1'767'225'600'000'000;
  for (size_t i = 0; i < rows; ++i) {
    if (rng() % 20 == 0) {
      person += 1 + static_cast<uint32_t>(rng() % 5);
      t = 1'767'225'600'000'000 + static_cast<Micros>(rng() % 1'000'000'000) * 1000;
    }
    t += static_cast<Micros>(rng() % 100'000'000);
    Row r{person, static_cast<uint32_t>(rng() % 40), t, static_cast<uint32_t>(set.props.size()), 0, rng()};
    const uint32_t n = static_cast<uint32_t>(rng() % 7);
    for (uint32_t k = 0; k < n; ++k) {
      const uint32_t key = static_cast<uint32_t>(rng() % 300);  // sparse keys, some rows repeat one
      switch (rng() % 5) {
        case 0: set.props.push_back(StoredProp{key, ValueType::kString, rng() % 100000}); break;
        case 1: set.props.push_back(number(key, static_cast<double>(static_cast<int64_t>(rng() % 2000) - 1000))); break;
        case 2: set.props.push_back(number(key, static_cast<double>(rng() % 100000) / 7.0)); break;
        case 3: set.props.push_back(StoredProp{key, ValueType::kBool, rng() % 2}); break;
        default: set.props.push_back(number(key, -0.0)); break;
      }
    }
    if (n > 0 && rng() % 10 == 0) {  // the row's first key again, with another value: the first wins
      set.props.push_back(StoredProp{set.props[r.prop_begin].key, ValueType::kString, 7});
      ++r.prop_count;
    }
    r.prop_count += n;
    set.rows.push_back(r);
  }
  const std::string path = dir + "/seg.cseg";
  auto st = write_segment(path, set);
  ASSERT_TRUE(st.is_ok()) << st.status().message();
  EXPECT_EQ(st->rows, rows);
  auto reader = SegmentReader::open(path);
  ASSERT_TRUE(reader.is_ok()) << reader.status().message();
  ASSERT_GE(reader->blocks().size(), 3u);
  RowSet back;
  for (size_t b = 0; b < reader->blocks().size(); ++b) ASSERT_TRUE(reader->read_rows(b, back).is_ok());
  ASSERT_EQ(back.rows.size(), rows);
  for (size_t i = 0; i < rows; ++i) {
    const Row& want = set.rows[i];
    const Row& got = back.rows[i];
    ASSERT_EQ(got.person, want.person) << i;
    ASSERT_EQ(got.event, want.event) << i;
    ASSERT_EQ(got.time, want.time) << i;
    ASSERT_EQ(got.message_hash, want.message_hash) << i;
    const std::vector<StoredProp> props = expected_props(set, want);
    ASSERT_EQ(got.prop_count, props.size()) << i;
    for (uint32_t k = 0; k < got.prop_count; ++k) {
      const StoredProp& g = back.props[got.prop_begin + k];
      ASSERT_EQ(g.key, props[k].key) << i;
      ASSERT_EQ(g.type, props[k].type) << i;
      ASSERT_EQ(g.bits, props[k].bits) << i;
    }
  }
  std::filesystem::remove_all(dir);
}

// The header's version: 3 is written, 2 is still read (its time column is
// decoded the old way, see time_column_test), others are refused with the
// versions this cairn reads.
TEST(Segment, VersionsOtherThanTwoAndThreeAreRefused) {
  const std::string dir = testing::temp_dir("segment-version");
  std::filesystem::create_directories(dir);
  RowSet set;
  for (uint32_t i = 0; i < 10; ++i) set.rows.push_back(Row{1 + i / 4, i % 3, 1'767'225'600'000'000 + i * 1000, 0, 0, i});
  const std::string path = dir + "/seg.cseg";
  ASSERT_TRUE(write_segment(path, set).is_ok());
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  uint32_t written;
  std::memcpy(&written, bytes.data() + 8, 4);
  EXPECT_EQ(written, 3u);
  for (const uint32_t version : {1u, 2u, 3u, 4u}) {
    std::memcpy(bytes.data() + 8, &version, 4);
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
    auto reader = SegmentReader::open(path);
    if (version == 2 || version == 3) {
      EXPECT_TRUE(reader.is_ok()) << version << ": " << reader.status().message();
    } else {
      ASSERT_FALSE(reader.is_ok()) << version;
      EXPECT_EQ(reader.status().message(), path + ": segment format version " + std::to_string(version) +
                                               " at offset 8, but this cairn reads versions 2 to 3 (re-import the data)");
    }
  }
  std::filesystem::remove_all(dir);
}

}  // namespace segment_test
}  // namespace cairn
