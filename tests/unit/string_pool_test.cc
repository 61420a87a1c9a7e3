// StringPool (core/string_pool.h): ids in order of first appearance, lookups
// after the index grew many times (it grows by moving hash tags, without
// hashing the strings again), after a lazily indexed load, and after a
// replacement, against a std::unordered_map.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <unordered_map>

#include "core/string_pool.h"

namespace cairn {
namespace string_pool_test {

TEST(StringPool, InternAndFindMatchAMapThroughGrowth) {
  std::mt19937_64 rng(5);
  StringPool pool;
  std::unordered_map<std::string, uint32_t> ref;
  std::vector<std::string> by_id;
  for (int i = 0; i < 300000; ++i) {
    // Repeats, short and empty strings among many distinct ones.
    std::string s = rng() % 4 == 0 && !by_id.empty() ? by_id[rng() % by_id.size()]
                                                      : std::to_string(rng() % 1000000) + (rng() % 2 ? "x" : "");
    if (rng() % 1000 == 0) s.clear();
    const uint32_t id = pool.intern(s);
    auto [it, inserted] = ref.emplace(s, static_cast<uint32_t>(by_id.size()));
    if (inserted) by_id.push_back(s);
    ASSERT_EQ(id, it->second) << s;
  }
  ASSERT_EQ(pool.size(), by_id.size());
  for (uint32_t id = 0; id < by_id.size(); id += 7) {
    EXPECT_EQ(pool.get(id), by_id[id]);
    EXPECT_EQ(pool.find(by_id[id]), id);
  }
  EXPECT_EQ(pool.find("not-in-the-pool"), StringPool::kMissing);

  // A load without an index, then lookups and more interning.
  StringPool loaded;
  for (const std::string& s : by_id) loaded.append_unchecked(s);
  for (uint32_t id = 0; id < by_id.size(); id += 11) EXPECT_EQ(loaded.find(by_id[id]), id);
  EXPECT_EQ(loaded.intern(by_id[5]), 5u);
  EXPECT_EQ(loaded.intern("brand new"), by_id.size());

  // A replaced text is found under its new text only.
  pool.replace(3, "replaced text");
  EXPECT_EQ(pool.find("replaced text"), 3u);
  EXPECT_EQ(pool.find(by_id[3]), StringPool::kMissing);
  EXPECT_EQ(pool.find(by_id[4]), 4u);
}

// intern_many gives the ids intern() one by one gives: strings already in
// the pool, new ones, and repeats inside the batch.
TEST(StringPool, InternManyEqualsInternInOrder) {
  std::mt19937_64 rng(9);
  for (int trial = 0; trial < 20; ++trial) {
    StringPool a, b;
    for (int i = 0; i < 1000; ++i) {
      const std::string s = std::to_string(rng() % 3000);
      a.intern(s);
      b.intern(s);
    }
    std::vector<std::string> batch;
    const size_t n = rng() % 20000;
    for (size_t i = 0; i < n; ++i) batch.push_back(std::to_string(rng() % 6000));
    std::vector<uint32_t> got(n);
    a.intern_many(n, [&](size_t i) { return std::string_view(batch[i]); }, got.data());
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(got[i], b.intern(batch[i])) << i;
    ASSERT_EQ(a.size(), b.size());
    for (uint32_t id = 0; id < a.size(); ++id) ASSERT_EQ(a.get(id), b.get(id));
  }
}

// intern_all gives the ids intern() one by one gives, both into a pool that
// has strings (the lookups of intern_many) and into an empty one (a copy of
// the source with its index): the copy then finds, interns and grows as a
// pool built by intern() does.
TEST(StringPool, InternAllEqualsInternInOrder) {
  std::mt19937_64 rng(11);
  for (int trial = 0; trial < 20; ++trial) {
    StringPool src;
    const size_t n = rng() % 5000;
    for (size_t i = 0; i < n; ++i) src.intern(i % 97 == 0 ? std::string() : std::to_string(rng() % 8000));
    for (const bool empty : {true, false}) {
      StringPool a, b;
      if (!empty)
        for (int i = 0; i < 500; ++i) {
          const std::string s = std::to_string(rng() % 8000);
          a.intern(s);
          b.intern(s);
        }
      std::vector<uint32_t> got(src.size());
      a.intern_all(src, got.data());
      for (uint32_t i = 0; i < src.size(); ++i) ASSERT_EQ(got[i], b.intern(src.get(i))) << i;
      ASSERT_EQ(a.size(), b.size());
      for (uint32_t id = 0; id < a.size(); ++id) {
        ASSERT_EQ(a.get(id), b.get(id));
        ASSERT_EQ(a.find(b.get(id)), id);
      }
      // Enough new strings to grow the index twice over.
      for (int i = 0; i < 20000; ++i) {
        const std::string s = "new " + std::to_string(rng() % 30000);
        ASSERT_EQ(a.intern(s), b.intern(s)) << s;
      }
      for (uint32_t id = 0; id < b.size(); id += 7) ASSERT_EQ(a.find(b.get(id)), id);
      EXPECT_EQ(a.find("never interned"), StringPool::kMissing);
    }
  }
}

// A small dictionary into a large pool loaded without an index (a small
// import into a large store) is looked up by a pass over the pool
// (intern_all_by_scan): against a map of each text's first id, with texts
// the pool holds twice (erased ids are all ""), texts already in the pool,
// new ones, and batch after batch past the passes it makes before indexing.
TEST(StringPool, InternAllIntoALoadedPoolMatchesFirstIds) {
  std::mt19937_64 rng(17);
  for (int trial = 0; trial < 4; ++trial) {
    std::vector<std::string> list;
    StringPool pool;
    for (int i = 0; i < 40000; ++i) {
      std::string s = i % 101 == 0 ? std::string() : "v" + std::to_string(rng() % 1000000);
      if (i % 997 == 0 && !list.empty()) s = list[rng() % list.size()];  // held twice
      list.push_back(s);
      pool.append_unchecked(s);
    }
    std::unordered_map<std::string, uint32_t> first;
    for (uint32_t id = 0; id < list.size(); ++id) first.emplace(list[id], id);
    for (int batch = 0; batch < 7; ++batch) {
      StringPool src;
      const size_t n = 1 + rng() % 5000;
      for (size_t i = 0; i < n; ++i) {
        const uint64_t pick = rng() % 4;
        src.intern(pick == 0   ? list[rng() % list.size()]
                   : pick == 1 ? std::string()
                               : "new" + std::to_string(rng() % 20000));
      }
      std::vector<uint32_t> got(src.size());
      pool.intern_all(src, got.data());
      for (uint32_t j = 0; j < src.size(); ++j) {
        const std::string text(src.get(j));
        auto [it, added] = first.emplace(text, static_cast<uint32_t>(list.size()));
        if (added) list.push_back(text);
        ASSERT_EQ(got[j], it->second) << "trial " << trial << " batch " << batch << " string " << j;
      }
      ASSERT_EQ(pool.size(), list.size());
    }
    for (uint32_t id = 0; id < list.size(); id += 13) {
      ASSERT_EQ(pool.get(id), list[id]);
      ASSERT_EQ(pool.find(list[id]), first.at(list[id]));
    }
    EXPECT_EQ(pool.intern("after all"), list.size());
  }
}

// A pool whose index was dropped finds, interns and grows as before: the
// strings keep their ids, new ones get the next, and lookups of strings
// never interned miss (through the linear first lookups and the rebuilt
// index alike).
TEST(StringPool, DroppedIndexIsBuiltAgainOnLookup) {
  std::mt19937_64 rng(13);
  for (const bool find_first : {true, false}) {
    StringPool pool, ref;
    for (int i = 0; i < 5000; ++i) {
      const std::string s = std::to_string(rng() % 4000);
      ASSERT_EQ(pool.intern(s), ref.intern(s));
    }
    pool.drop_index();
    pool.drop_index();  // twice: nothing to free
    ASSERT_EQ(pool.size(), ref.size());
    for (uint32_t id = 0; id < ref.size(); ++id) ASSERT_EQ(pool.get(id), ref.get(id));
    if (find_first)  // more than the 16 linear lookups, then the index
      for (uint32_t id = 0; id < 40; ++id) {
        ASSERT_EQ(pool.find(ref.get(id)), id);
        ASSERT_EQ(pool.find("missing " + std::to_string(id)), StringPool::kMissing);
      }
    for (int i = 0; i < 20000; ++i) {
      const std::string s = (rng() % 2 ? "new " : "") + std::to_string(rng() % 8000);
      ASSERT_EQ(pool.intern(s), ref.intern(s)) << s;
    }
    for (uint32_t id = 0; id < ref.size(); id += 3) ASSERT_EQ(pool.find(ref.get(id)), id);
  }
}

// same_text against ==: every length up to 40, equal strings, and strings
// that differ in exactly one byte at each place (so every compare of the
// inline paths, the 8-byte steps, the overlapping tail, the 4-byte halves and
// the bytes, is the one that sees the difference).
TEST(SameText, AgreesWithEqualityAtEveryLengthAndPlace) {
  std::mt19937_64 rng(4);
  for (size_t n = 0; n <= 40; ++n) {
    for (int trial = 0; trial < 20; ++trial) {
      std::string a(n, '\0');
      for (char& c : a) c = static_cast<char>(rng());
      std::string b = a;
      ASSERT_TRUE(same_text(a, b)) << n;
      for (size_t i = 0; i < n; ++i) {
        std::string c = a;
        c[i] = static_cast<char>(c[i] ^ (1 + rng() % 255));
        ASSERT_FALSE(same_text(a, c)) << n << " " << i;
        ASSERT_FALSE(same_text(c, a)) << n << " " << i;
      }
      ASSERT_FALSE(same_text(a, a + "x"));
      ASSERT_FALSE(same_text(a + "x", a));
    }
  }
}

}  // namespace string_pool_test
}  // namespace cairn
