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
#include <numeric>
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

// Random rows over `rows` rows (persons ascending, a few rows each) with
// random properties of every type, sparse keys, and a key given twice on
// some rows.
RowSet random_rows(uint64_t seed, size_t rows) {
  std::mt19937_64 rng(seed);
  RowSet set;
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
  return set;
}

// back holds want's rows `rows`, in that order, as a reader gives them back
// (expected_props).
void expect_rows(const RowSet& want, const std::vector<size_t>& rows, const RowSet& back) {
  ASSERT_EQ(back.rows.size(), rows.size());
  for (size_t j = 0; j < rows.size(); ++j) {
    const Row& w = want.rows[rows[j]];
    const Row& got = back.rows[j];
    ASSERT_EQ(got.person, w.person) << j;
    ASSERT_EQ(got.event, w.event) << j;
    ASSERT_EQ(got.time, w.time) << j;
    ASSERT_EQ(got.message_hash, w.message_hash) << j;
    const std::vector<StoredProp> props = expected_props(want, w);
    ASSERT_EQ(got.prop_count, props.size()) << j;
    for (uint32_t k = 0; k < got.prop_count; ++k) {
      const StoredProp& g = back.props[got.prop_begin + k];
      ASSERT_EQ(g.key, props[k].key) << j;
      ASSERT_EQ(g.type, props[k].type) << j;
      ASSERT_EQ(g.bits, props[k].bits) << j;
    }
  }
}

TEST(Segment, RowsAndPropertiesRoundTripOverBlocks) {
  const std::string dir = testing::temp_dir("segment");
  std::filesystem::create_directories(dir);
  const size_t rows = 2 * kBlockRows + 12345;
  const RowSet set = random_rows(17, rows);
  const std::string path = dir + "/seg.cseg";
  auto st = write_segment(path, set);
  ASSERT_TRUE(st.is_ok()) << st.status().message();
  EXPECT_EQ(st->rows, rows);
  auto reader = SegmentReader::open(path);
  ASSERT_TRUE(reader.is_ok()) << reader.status().message();
  ASSERT_GE(reader->blocks().size(), 3u);
  RowSet back;
  for (size_t b = 0; b < reader->blocks().size(); ++b) ASSERT_TRUE(reader->read_rows(b, back).is_ok());
  std::vector<size_t> every(rows);
  std::iota(every.begin(), every.end(), size_t{0});
  expect_rows(set, every, back);
  std::filesystem::remove_all(dir);
}

// A segment copied without some persons (write_segment_without, which a
// restitching import uses): the rows left are the others in order, the
// persons' rows come out in order, the blocks that hold none of them are
// copied byte for byte (and counted), a block that holds them is written
// again shorter, a segment of only them gives no file, and a copied block
// whose bytes were damaged is reported, not copied.
TEST(Segment, CopyWithoutSomePersonsCopiesTheOtherBlocks) {
  const std::string dir = testing::temp_dir("segment-without");
  std::filesystem::create_directories(dir);
  const RowSet set = random_rows(23, 3 * kBlockRows + 999);
  const std::string path = dir + "/seg.cseg";
  ASSERT_TRUE(write_segment(path, set).is_ok());
  auto source = SegmentReader::open(path);
  ASSERT_TRUE(source.is_ok()) << source.status().message();
  ASSERT_EQ(source->blocks().size(), 4u);
  // Persons of block 1 only (its first, one inside, its last), and one no
  // row has (between two of block 2's persons, or past them all).
  const BlockInfo& b1 = source->blocks()[1];
  std::vector<uint32_t> persons{b1.min_person, b1.max_person};
  for (const Row& r : set.rows)
    if (r.person > b1.min_person + 20 && r.person < b1.max_person) {
      persons.push_back(r.person);
      break;
    }
  uint32_t absent = source->blocks()[2].min_person + 1;
  while (std::any_of(set.rows.begin(), set.rows.end(), [&](const Row& r) { return r.person == absent; })) ++absent;
  persons.push_back(absent);
  std::sort(persons.begin(), persons.end());
  ASSERT_EQ(persons.size(), 4u);
  std::vector<size_t> kept_rows, removed_rows;
  for (size_t i = 0; i < set.rows.size(); ++i)
    (std::binary_search(persons.begin(), persons.end(), set.rows[i].person) ? removed_rows : kept_rows).push_back(i);
  ASSERT_GT(removed_rows.size(), 3u);

  const std::string out = dir + "/without.cseg";
  RowSet removed;
  auto st = write_segment_without(out, *source, persons, removed);
  ASSERT_TRUE(st.is_ok()) << st.status().message();
  EXPECT_EQ(st->rows, kept_rows.size());
  // Blocks 0 and 3; block 2's range of persons takes in the absent one, so
  // it is decoded, and written again to the same bytes.
  EXPECT_EQ(st->blocks_copied, 2u);
  expect_rows(set, removed_rows, removed);
  auto copy = SegmentReader::open(out);
  ASSERT_TRUE(copy.is_ok()) << copy.status().message();
  ASSERT_EQ(copy->blocks().size(), 4u);
  EXPECT_EQ(copy->blocks()[1].rows, b1.rows - (removed_rows.size()));
  RowSet back;
  for (size_t b = 0; b < copy->blocks().size(); ++b) ASSERT_TRUE(copy->read_rows(b, back).is_ok());
  expect_rows(set, kept_rows, back);
  for (const size_t b : {0u, 2u, 3u}) {
    std::string a, c;
    uint64_t first = 0;
    auto x = source->read_block_stored(b, a, first);
    auto y = copy->read_block_stored(b, c, first);
    ASSERT_TRUE(x.is_ok() && *x && y.is_ok() && *y) << b;
    EXPECT_TRUE(a == c) << "block " << b << " differs from the source's";
  }
  EXPECT_EQ(st->core_bytes, copy->core_bytes());

  // Every person of the segment: no rows left, no file.
  std::vector<uint32_t> all;
  for (const Row& r : set.rows)
    if (all.empty() || all.back() != r.person) all.push_back(r.person);
  RowSet everything;
  const std::string none = dir + "/none.cseg";
  auto empty = write_segment_without(none, *source, all, everything);
  ASSERT_TRUE(empty.is_ok()) << empty.status().message();
  EXPECT_EQ(empty->rows, 0u);
  EXPECT_EQ(everything.rows.size(), set.rows.size());
  EXPECT_FALSE(std::filesystem::exists(none));

  // A byte flipped in block 3's event column, a block that would be copied.
  {
    const ChunkRef& event = source->blocks()[3].event;
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(event.offset + event.comp_size / 2));
    char c = 0;
    f.get(c);
    f.seekp(static_cast<std::streamoff>(event.offset + event.comp_size / 2));
    f.put(static_cast<char>(c ^ 0x10));
  }
  auto damaged = SegmentReader::open(path);
  ASSERT_TRUE(damaged.is_ok());
  RowSet ignored;
  auto bad = write_segment_without(dir + "/bad.cseg", *damaged, persons, ignored);
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("checksum mismatch in block 3 column 'event'"), std::string::npos)
      << bad.status().message();
  EXPECT_FALSE(std::filesystem::exists(dir + "/bad.cseg"));
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
