// The chunked value strings of a catalog (src/storage/string_chunks.h): the
// bytes of a tiny pool worked from docs/FORMAT.md, lookups by id and by text
// against the pool they were written from, corruption reported with the file
// and offset, and a catalog read lazily in both layouts.
#include "storage/string_chunks.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <thread>

#include "storage/binary_io.h"
#include "storage/catalog.h"
#include "storage/codec.h"
#include "storage/file_util.h"
#include "store_test_util.h"

namespace cairn {
namespace string_chunks_test {

StringChunks::ReadAt reader_of(const std::string& file) {
  return [&file](uint64_t at, size_t n, std::string& out) {
    if (at > file.size() || n > file.size() - at) return Status::corruption("short read");
    out.assign(file, at, n);
    return Status::ok();
  };
}

// The sealed directory part's length, from its header.
size_t dir_length(const std::string& bytes) {
  BinaryReader r(std::string_view(bytes).substr(16, 8));
  return 32 + r.get_u64();
}

Result<std::unique_ptr<StringChunks>> open_bytes(const std::string& bytes) {
  const size_t d = dir_length(bytes);
  auto dir = unseal_file(std::string_view(kStringsDirMagic, 8), std::string_view(bytes).substr(0, d), "strings");
  if (!dir) return dir.status();
  return StringChunks::open(*dir, d, bytes.size(), reader_of(bytes), "strings");
}

TEST(StringChunks, TinyPoolBytesAsDocumented) {
  StringPool pool;
  pool.intern("a");
  pool.intern("bc");
  const std::string bytes = StringChunks::serialize(pool);
  const size_t d = dir_length(bytes);
  auto dir = unseal_file(std::string_view(kStringsDirMagic, 8), std::string_view(bytes).substr(0, d), "s");
  ASSERT_TRUE(dir.is_ok());
  // count 2 | per chunk 65536 (varint 80 80 04) | index bits 0 | 2 frames | their lengths
  const std::string chunk_frame = seal_file(std::string_view(kStringsChunkMagic, 8), std::string("\x01" "a" "\x02" "bc", 5));
  // One index frame: both strings, (fingerprint = top 16 bits of xxh3) sorted, deltas, then chunk 0 twice.
  uint64_t fa = checksum64("a") >> 48, fb = checksum64("bc") >> 48;
  if (fb < fa) std::swap(fa, fb);
  BinaryWriter ix;
  ix.put_varint(2);
  ix.put_varint(fa);
  ix.put_varint(fb - fa);
  ix.put_varint(0);
  ix.put_varint(0);
  const std::string index_frame = seal_file(std::string_view(kStringsIndexMagic, 8), ix.buffer());
  BinaryWriter expect_dir;
  for (uint64_t v : {uint64_t{2}, uint64_t{65536}, uint64_t{0}, uint64_t{2}, uint64_t{chunk_frame.size()}, uint64_t{index_frame.size()}})
    expect_dir.put_varint(v);
  EXPECT_EQ(*dir, expect_dir.buffer());
  EXPECT_EQ(std::string(*dir).substr(1, 3), std::string("\x80\x80\x04", 3));
  EXPECT_EQ(bytes.substr(d), chunk_frame + index_frame);

  auto s = open_bytes(bytes);
  ASSERT_TRUE(s.is_ok()) << s.status().message();
  EXPECT_EQ((*s)->size(), 2u);
  EXPECT_EQ(*(*s)->get(1), "bc");
  EXPECT_EQ(*(*s)->find("a"), 0u);
  EXPECT_EQ(*(*s)->find("bc"), 1u);
  EXPECT_EQ(*(*s)->find("b"), StringPool::kMissing);
  EXPECT_FALSE((*s)->get(2).is_ok());
}

TEST(StringChunks, LookupsMatchThePoolAcrossChunksAndIndexFrames) {
  std::mt19937_64 rng(7);
  StringPool pool;
  pool.intern("");
  // 150,000 strings: three chunks, 2^4 index frames.
  while (pool.size() < 150000) {
    std::string s;
    const size_t len = rng() % 12;
    for (size_t i = 0; i < len; ++i) s.push_back(static_cast<char>('a' + rng() % 26));
    pool.intern(s);
  }
  const std::string bytes = StringChunks::serialize(pool, 2);
  auto s = open_bytes(bytes);
  ASSERT_TRUE(s.is_ok()) << s.status().message();
  ASSERT_EQ((*s)->size(), pool.size());
  for (int k = 0; k < 3000; ++k) {
    const auto id = static_cast<uint32_t>(rng() % pool.size());
    ASSERT_EQ(*(*s)->get(id), pool.get(id));
    ASSERT_EQ(*(*s)->find(pool.get(id)), id) << pool.get(id);
  }
  for (uint32_t id : {0u, 65535u, 65536u, 131071u, 131072u, 149999u}) {
    EXPECT_EQ(*(*s)->get(id), pool.get(id));
    EXPECT_EQ(*(*s)->find(pool.get(id)), id);
  }
  int missing = 0;
  for (int k = 0; k < 2000; ++k) {
    const std::string t = "#" + std::to_string(rng());  // '#' never occurs in the pool
    missing += *(*s)->find(t) == StringPool::kMissing;
  }
  EXPECT_EQ(missing, 2000);
  EXPECT_TRUE((*s)->verify_index().is_ok());
  StringPool loaded;
  ASSERT_TRUE((*s)->load_all(loaded).is_ok());
  ASSERT_EQ(loaded.size(), pool.size());
  for (uint32_t i = 0; i < pool.size(); ++i) ASSERT_EQ(loaded.get(i), pool.get(i));
  // Several threads reading chunks at once get the same views.
  std::vector<std::thread> threads;
  std::vector<int> wrong(4, 0);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (uint32_t id = static_cast<uint32_t>(t); id < pool.size(); id += 97) wrong[t] += *(*s)->get(id) != pool.get(id);
    });
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(wrong, std::vector<int>(4, 0));
}

TEST(StringChunks, DamageIsReportedWithTheOffset) {
  StringPool pool;
  for (int i = 0; i < 70000; ++i) pool.intern("v" + std::to_string(i));  // two chunks
  const std::string bytes = StringChunks::serialize(pool);
  const size_t d = dir_length(bytes);
  // Flip a byte inside the second chunk's body: ids of the first chunk still
  // read, the second's report a checksum mismatch at its offset.
  const size_t first = d;
  BinaryReader h(std::string_view(bytes).substr(first + 16, 8));
  const size_t second = first + 32 + h.get_u64();
  std::string bad = bytes;
  bad[second + 40] ^= 1;
  auto s = open_bytes(bad);
  ASSERT_TRUE(s.is_ok());
  EXPECT_EQ(*(*s)->get(5), "v5");
  auto g = (*s)->get(66000);
  ASSERT_FALSE(g.is_ok());
  EXPECT_NE(g.status().message().find("checksum mismatch in block at offset " + std::to_string(second + 32)), std::string::npos)
      << g.status().message();
  StringPool loaded;
  EXPECT_FALSE((*s)->load_all(loaded).is_ok());
  // A flipped index frame: lookups by text and verify_index fail, by id not.
  std::string bad_index = bytes;
  bad_index[bytes.size() - 3] ^= 1;
  auto t = open_bytes(bad_index);
  ASSERT_TRUE(t.is_ok());
  EXPECT_EQ(*(*t)->get(69999), "v69999");
  EXPECT_FALSE((*t)->verify_index().is_ok());
  // Cut short or grown: refused at open.
  auto cut = open_bytes(bytes.substr(0, bytes.size() - 1));
  ASSERT_FALSE(cut.is_ok());
  EXPECT_NE(cut.status().message().find("runs past the end"), std::string::npos) << cut.status().message();
  auto grown = open_bytes(bytes + "x");
  ASSERT_FALSE(grown.is_ok());
  EXPECT_NE(grown.status().message().find("1 bytes after the value strings"), std::string::npos) << grown.status().message();
}

TEST(StringChunks, ParsersRefuseMalformedPayloads) {
  StringsDirectory dir;
  EXPECT_FALSE(StringChunks::parse_directory("", dir));
  // 2 strings, 0 per chunk.
  EXPECT_FALSE(StringChunks::parse_directory(std::string("\x02\x00\x00\x02\x20\x20", 6), dir));
  // 2 strings of 1 per chunk: 2 chunks + 1 index frame, but only 2 frames listed.
  EXPECT_FALSE(StringChunks::parse_directory(std::string("\x02\x01\x00\x02\x20\x20", 6), dir));
  EXPECT_TRUE(StringChunks::parse_directory(std::string("\x02\x01\x00\x03\x20\x20\x20", 7), dir));
  // A frame shorter than its header.
  EXPECT_FALSE(StringChunks::parse_directory(std::string("\x02\x01\x00\x03\x20\x1f\x20", 7), dir));
  std::vector<std::string_view> strings;
  EXPECT_TRUE(StringChunks::parse_chunk(std::string("\x01" "a" "\x00", 3), 2, strings));
  EXPECT_FALSE(StringChunks::parse_chunk(std::string("\x01" "a" "\x00", 3), 3, strings));
  EXPECT_FALSE(StringChunks::parse_chunk(std::string("\x05" "a", 2), 1, strings));
  std::vector<std::pair<uint16_t, uint32_t>> entries;
  EXPECT_TRUE(StringChunks::parse_index(std::string("\x01\x05\x00", 3), 1, entries));
  EXPECT_FALSE(StringChunks::parse_index(std::string("\x01\x05\x01", 3), 1, entries));  // chunk 1 of 1
  EXPECT_FALSE(StringChunks::parse_index(std::string("\x02\xff\xff\x03\x05\x00\x00", 7), 1, entries));  // fingerprint > 16 bits
}

// A catalog opened lazily answers lookups by id and text from its chunks,
// and one written in the earlier layout (the value strings as one part) is
// still read.
TEST(StringChunks, LazyCatalogInBothLayouts) {
  const std::string dir = testing::temp_dir("chunks");  // per process: test runs may overlap
  Catalog c;
  for (int i = 0; i < 100000; ++i) c.strings().intern("s-" + std::to_string(i));
  c.events.intern("visit");
  ASSERT_TRUE(write_new_file(dir + "/new.bin", c.serialize()).is_ok());
  auto lazy = Catalog::open_lazy(dir + "/new.bin");
  ASSERT_TRUE(lazy.is_ok()) << lazy.status().message();
  EXPECT_EQ(lazy->string_count(), 100000u);
  EXPECT_EQ(lazy->string_at(76543), "s-76543");
  EXPECT_EQ(lazy->find_string("s-99999"), 99999u);
  EXPECT_EQ(lazy->find_string("s-100000"), StringPool::kMissing);
  EXPECT_TRUE(lazy->lazy_status().is_ok());
  EXPECT_EQ(lazy->strings().size(), 100000u);  // the whole load after lookups
  EXPECT_EQ(lazy->strings().get(12), "s-12");
  EXPECT_TRUE(lazy->verify().is_ok());
  EXPECT_EQ(lazy->events.find("visit"), 0u);

  // The earlier layout: names | strings (one pool) | ids | traits.
  BinaryWriter strings;
  strings.put_varint(2);
  strings.put_string("a");
  strings.put_string("bc");
  const std::string old = seal_file("CAIRNCAT", std::string("\x01\x05visit\x00\x00", 9)) + seal_file("CAIRNSTR", strings.buffer()) +
                          seal_file("CAIRNIDS", std::string(1, '\0')) + seal_file("CAIRNTRT", std::string(1, '\0'));
  ASSERT_TRUE(write_new_file(dir + "/old.bin", old).is_ok());
  auto was = Catalog::open_lazy(dir + "/old.bin");
  ASSERT_TRUE(was.is_ok()) << was.status().message();
  EXPECT_EQ(was->string_count(), 2u);
  EXPECT_EQ(was->string_at(1), "bc");
  EXPECT_EQ(was->find_string("a"), 0u);
  EXPECT_EQ(was->events.get(0), "visit");
  auto eager = Catalog::read(old, "old.bin");
  ASSERT_TRUE(eager.is_ok()) << eager.status().message();
  EXPECT_EQ(eager->strings().get(1), "bc");
  // Written again, it is in the chunked layout and reads the same.
  auto again = Catalog::read(eager->serialize(), "again");
  ASSERT_TRUE(again.is_ok()) << again.status().message();
  EXPECT_EQ(again->strings().size(), 2u);
  EXPECT_EQ(again->find_string("bc"), 1u);
  std::filesystem::remove_all(dir);
}

// A catalog opened from its file, its values loaded (as a writer's for a
// large import), and written again after more strings copies the full
// chunks of the file it opened (StoredChunks) instead of compressing them
// again: the bytes are those of a catalog built afresh with the same
// strings. After a string is erased (its text replaced) nothing is copied,
// so the old text is in no later file.
TEST(StringChunks, ACatalogWrittenAgainCopiesItsUnchangedChunks) {
  auto build = [](Catalog& c, int from, int to) {
    for (int i = from; i < to; ++i) c.strings().intern("value-" + std::to_string(i * 7919 % 1000003));
    for (int i = from; i < to; i += 1000) c.intern_id("person-" + std::to_string(i), i % 2000 == 0);
  };
  const std::string dir = testing::temp_dir("chunks-again");
  for (const bool erase : {false, true}) {
    Catalog fresh;
    fresh.events.intern("visit");
    build(fresh, 0, 150000);  // two full chunks of 65,536 and part of a third
    ASSERT_TRUE(write_new_file(dir + "/first.bin", fresh.serialize()).is_ok());
    auto read = Catalog::open_lazy(dir + "/first.bin");
    ASSERT_TRUE(read.is_ok()) << read.status().message();
    build(fresh, 150000, 210000);  // the third chunk filled, a fourth begun
    build(*read, 150000, 210000);
    if (erase) {
      fresh.erase_string(70000);  // in the second chunk
      read->erase_string(70000);
    }
    const std::string bytes = read->serialize();
    ASSERT_EQ(bytes, fresh.serialize()) << "erase " << erase;
    auto again = Catalog::read(bytes, "second");
    ASSERT_TRUE(again.is_ok()) << again.status().message();
    ASSERT_EQ(again->strings().size(), 210000u);
    for (uint32_t id = 0; id < 210000; id += 997) EXPECT_EQ(again->strings().get(id), fresh.strings().get(id)) << id;
    EXPECT_EQ(again->find_string(fresh.strings().get(131072)), 131072u);
    EXPECT_EQ(again->strings().get(70000), fresh.strings().get(70000));
    std::filesystem::remove(dir + "/first.bin");
  }
  std::filesystem::remove_all(dir);
}

}  // namespace string_chunks_test
}  // namespace cairn
