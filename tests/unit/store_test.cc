#include "storage/store.h"

#include <gtest/gtest.h>
#include <iterator>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>

#include "storage/binary_io.h"
#include "storage/codec.h"
#include "storage/file_util.h"
#include "storage/summary.h"
#include "storage/wal.h"
#include "store_test_util.h"

namespace cairn {
namespace store_test {

using testing::BatchBuilder;
using testing::temp_dir;

constexpr Micros kT0 = 1767607200LL * kMicrosPerSecond;  // 2026-01-05T10:00:00Z

std::unique_ptr<Store> open_write(const std::string& dir) {
  auto s = Store::open(dir, Store::Mode::kWrite);
  EXPECT_TRUE(s.is_ok()) << s.status().message();
  return std::move(*s);
}

std::unique_ptr<Store> open_read(const std::string& dir) {
  auto s = Store::open(dir, Store::Mode::kRead);
  EXPECT_TRUE(s.is_ok()) << s.status().message();
  return std::move(*s);
}

// (time, event name) of one person's timeline, looked up by any id.
std::vector<std::pair<Micros, std::string>> timeline(const Store& s, const std::string& id) {
  std::vector<std::pair<Micros, std::string>> out;
  const uint32_t idn = s.catalog().find_id(id);
  if (idn == StringPool::kMissing || s.catalog().is_erased(idn)) return out;
  RowSet rows;
  EXPECT_TRUE(s.read_person(s.catalog().root(idn), rows).is_ok());
  for (const Row& r : rows.rows) out.emplace_back(r.time, std::string(s.catalog().events.get(r.event)));
  return out;
}

TEST(Store, ImportsAndReadsTimelineInTimeThenArrivalOrder) {
  const std::string dir = temp_dir("timeline");
  BatchBuilder bb;
  bb.event("u1", "", "purchase", kT0 + 100, {{"revenue", 49.5}, {"plan", std::string("pro")}, {"trial", true}})
      .event("u1", "", "visit", kT0)
      .event("u2", "", "visit", kT0 + 5)
      .event("u1", "", "b_same_time", kT0 + 50)
      .event("u1", "", "a_same_time", kT0 + 50);
  auto store = open_write(dir);
  auto stats = store->import(bb.b);
  ASSERT_TRUE(stats.is_ok()) << stats.status().message();
  EXPECT_EQ(stats->events_added, 5u);

  auto reader = open_read(dir);
  const auto t = timeline(*reader, "u1");
  ASSERT_EQ(t.size(), 4u);
  EXPECT_EQ(t[0], std::make_pair(kT0, std::string("visit")));
  EXPECT_EQ(t[1].second, "b_same_time");  // equal times keep arrival order
  EXPECT_EQ(t[2].second, "a_same_time");
  EXPECT_EQ(t[3].second, "purchase");

  RowSet rows;
  ASSERT_TRUE(reader->read_person(reader->catalog().root(reader->catalog().find_id("u1")), rows).is_ok());
  const Row& purchase = rows.rows.back();
  ASSERT_EQ(purchase.prop_count, 3u);
  std::map<std::string, StoredProp> props;
  for (uint32_t k = 0; k < purchase.prop_count; ++k) {
    const StoredProp& p = rows.props[purchase.prop_begin + k];
    props[std::string(reader->catalog().keys.get(p.key))] = p;
  }
  double revenue;
  std::memcpy(&revenue, &props["revenue"].bits, 8);
  EXPECT_EQ(props["revenue"].type, ValueType::kNumber);
  EXPECT_DOUBLE_EQ(revenue, 49.5);
  EXPECT_EQ(reader->catalog().strings().get(static_cast<uint32_t>(props["plan"].bits)), "pro");
  EXPECT_EQ(props["trial"].type, ValueType::kBool);
  EXPECT_EQ(props["trial"].bits, 1u);

  auto sum = summarize(*reader);
  ASSERT_TRUE(sum.is_ok());
  EXPECT_EQ(sum->events, 5u);
  EXPECT_EQ(sum->persons, 2u);
  EXPECT_EQ(sum->first_time, kT0);
  EXPECT_EQ(sum->last_time, kT0 + 100);
  std::filesystem::remove_all(dir);
}

TEST(Store, RepeatedMessageIdsAreIgnored) {
  const std::string dir = temp_dir("dedupe");
  BatchBuilder bb;
  bb.event("u1", "", "visit", kT0, {}, "m1").event("u1", "", "visit", kT0 + 1, {}, "m2")
      .event("u1", "", "visit", kT0 + 2, {}, "m1")  // repeated inside the batch
      .event("u1", "", "visit", kT0 + 3);           // no message id: always kept
  auto store = open_write(dir);
  auto first = store->import(bb.b);
  ASSERT_TRUE(first.is_ok());
  EXPECT_EQ(first->events_added, 3u);
  EXPECT_EQ(first->duplicates, 1u);
  BatchBuilder again;
  again.event("u1", "", "visit", kT0, {}, "m1").event("u1", "", "visit", kT0 + 1, {}, "m2");
  auto second = store->import(again.b);
  ASSERT_TRUE(second.is_ok());
  EXPECT_EQ(second->events_added, 0u);
  EXPECT_EQ(second->duplicates, 2u);
  EXPECT_EQ(timeline(*store, "u1").size(), 3u);
  std::filesystem::remove_all(dir);
}

// Imports much smaller than the store look their message ids up while the
// stored ones stream past; larger ones sort all of them: both against a
// brute-force set of the ids seen, over imports of both sizes with ids
// stored, new, repeated inside the import, and none.
TEST(Store, RepeatedMessageIdsAreIgnoredByImportsOfEverySize) {
  const std::string dir = temp_dir("dedupe-sizes");
  auto store = open_write(dir);
  std::mt19937_64 rng(23);
  std::set<std::string> seen;
  size_t stored = 0, next_id = 0;
  for (const size_t size : {3000u, 40u, 5u, 900u, 1u, 2500u, 60u}) {
    BatchBuilder bb;
    uint64_t want_added = 0, want_duplicates = 0;
    std::set<std::string> in_batch;
    for (size_t k = 0; k < size; ++k) {
      std::string id;
      switch (rng() % 5) {
        case 0: break;  // none: always kept
        case 1:         // one stored, or the batch's own again
        case 2:
          if (!seen.empty()) {
            auto it = seen.begin();
            std::advance(it, static_cast<long>(rng() % seen.size()));
            id = *it;
            break;
          }
          [[fallthrough]];
        default: id = "m" + std::to_string(next_id++); break;
      }
      if (!id.empty() && rng() % 4 == 0 && !in_batch.empty()) id = *in_batch.begin();
      const bool duplicate = !id.empty() && !seen.insert(id).second;
      if (!id.empty()) in_batch.insert(id);
      want_added += !duplicate;
      want_duplicates += duplicate;
      bb.event("u" + std::to_string(rng() % 50), "", "visit", kT0 + static_cast<Micros>(k), {}, id);
    }
    auto got = store->import(bb.b);
    ASSERT_TRUE(got.is_ok()) << got.status().message();
    EXPECT_EQ(got->duplicates, want_duplicates) << size << " into " << stored;
    EXPECT_EQ(got->events_added, want_added) << size << " into " << stored;
    stored += want_added;
  }
  size_t timelines = 0;
  for (int u = 0; u < 50; ++u) timelines += timeline(*store, "u" + std::to_string(u)).size();
  EXPECT_EQ(timelines, stored);
  std::filesystem::remove_all(dir);
}

// The one catalog file in dir (old ones are removed at each commit).
std::string catalog_file_bytes(const std::string& dir) {
  std::vector<std::string> found;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().filename().string().starts_with("catalog-")) found.push_back(e.path().string());
  EXPECT_EQ(found.size(), 1u) << dir;
  auto bytes = found.empty() ? Result<std::string>(std::string()) : read_file(found[0]);
  EXPECT_TRUE(bytes.is_ok());
  return bytes.is_ok() ? *bytes : std::string();
}

// Small imports into a store with many stored values (a writer then looks
// their values up chunk by chunk, keeps the new ones apart and copies the
// stored chunks: Catalog::intern_strings) write the catalog that one import
// of all the batches writes, byte for byte: the same ids, values, index and
// chunks. Checked after imports in one open store (the new values of the
// first still apart at the next ones, then loaded with the stored ones) and
// after reopening it.
TEST(Store, SmallImportsWriteTheCatalogOneImportWould) {
  std::mt19937_64 rng(31);
  std::vector<ImportBatch> batches;
  for (const size_t size : {140000u, 1500u, 700u, 300u, 400u, 500u, 600u, 2000u}) {
    BatchBuilder bb;
    if (batches.empty()) bb.event("gone", "", "visit", kT0, {{"v", std::string("secret-value")}});  // in chunk 0
    for (size_t k = 0; k < size; ++k) {
      const std::string value = batches.empty() || rng() % 3 == 0 ? "v" + std::to_string(rng() % 1000000)
                                                                   : "new" + std::to_string(rng() % 100000);
      const std::string who = std::to_string(rng() % 3000);  // some events with an anonymous id of theirs too
      bb.event("u" + who, rng() % 4 ? "" : "a" + who, "visit", kT0 + static_cast<Micros>(rng() % 1000000),
               {{"v", value}, {"k" + std::to_string(rng() % 3), value}});
    }
    batches.push_back(std::move(bb.b));
  }
  const std::string one = temp_dir("catalog-one"), many = temp_dir("catalog-many");
  {
    auto store = open_write(one);
    ASSERT_TRUE(store->import(std::span<const ImportBatch>(batches)).is_ok());
  }
  {
    auto store = open_write(many);
    ASSERT_TRUE(store->import(batches[0]).is_ok());
  }
  {
    // Six in one open store: the first four look the stored values up chunk
    // by chunk, the fifth loads them (the new values of the four after them).
    auto store = open_write(many);
    for (size_t k = 1; k <= 6; ++k) ASSERT_TRUE(store->import(batches[k]).is_ok()) << k;
  }
  {
    auto store = open_write(many);
    ASSERT_TRUE(store->import(batches[7]).is_ok());
  }
  const std::string bytes = catalog_file_bytes(many);
  ASSERT_GT(bytes.size(), 0u);
  EXPECT_TRUE(bytes == catalog_file_bytes(one)) << "the catalogs differ";
  auto reader = open_read(many);
  const Catalog& c = reader->catalog();
  EXPECT_GT(c.string_count(), 2u * 65536);  // two full chunks and more
  // Every person's events with their values as text, the same in both.
  auto one_reader = open_read(one);
  auto texts = [](const Store& st, const std::string& id) {
    std::vector<std::string> out;
    const uint32_t idn = st.catalog().find_id(id);
    if (idn == StringPool::kMissing) return out;
    RowSet rows;
    EXPECT_TRUE(st.read_person(st.catalog().root(idn), rows).is_ok());
    for (const Row& r : rows.rows) {
      std::string line = std::to_string(r.time);
      for (uint32_t p = r.prop_begin; p < r.prop_begin + r.prop_count; ++p)
        line += " " + std::string(st.catalog().keys.get(rows.props[p].key)) + "=" +
                std::string(st.catalog().string_at(static_cast<uint32_t>(rows.props[p].bits)));
      out.push_back(line);
    }
    return out;
  };
  size_t events = 0;
  for (int u = 0; u < 3000; u += 7) {
    const auto a = texts(*reader, "u" + std::to_string(u)), b = texts(*one_reader, "u" + std::to_string(u));
    ASSERT_EQ(a, b) << "u" << u;
    events += a.size();
  }
  EXPECT_GT(events, 15000u);
  for (const ImportBatch& b : batches)
    for (uint32_t i = 0; i < b.strings.size(); i += 97) {
      const uint32_t id = c.find_string(b.strings.get(i));
      ASSERT_NE(id, StringPool::kMissing) << b.strings.get(i);
      EXPECT_EQ(c.string_at(id), b.strings.get(i));
    }
  EXPECT_EQ(c.find_string("never imported"), StringPool::kMissing);
  // A person deleted from a store opened anew: the value only they had is
  // in no catalog after it (the chunk that held it is written again, not
  // copied from the file the writer opened).
  const uint32_t secret = c.find_string("secret-value");
  ASSERT_LT(secret, 65536u);
  reader.reset();
  {
    auto store = open_write(many);
    ASSERT_TRUE(store->delete_person("gone").is_ok());
  }
  auto after = open_read(many);
  EXPECT_NE(after->catalog().string_at(secret), "secret-value");
  EXPECT_EQ(after->catalog().find_string("secret-value"), StringPool::kMissing);
  std::filesystem::remove_all(one);
  std::filesystem::remove_all(many);
}

// The parts of one import, each with its own dictionaries: ids, values and
// message ids repeat across parts, a part links an anonymous id of another,
// and the first store already holds some of the ids, values and messages.
std::vector<ImportBatch> make_parts(int round) {
  std::vector<ImportBatch> parts;
  std::mt19937_64 rng(77 + round);
  for (int k = 0; k < 3; ++k) {
    BatchBuilder bb;
    for (int i = 0; i < 300; ++i) {
      const int who = static_cast<int>(rng() % 40);
      const std::string user = rng() % 3 == 0 ? "u" + std::to_string(who) : "";
      const std::string anon = user.empty() || rng() % 2 ? "a" + std::to_string(who + 10 * k) : "";
      bb.event(user, anon, "e" + std::to_string(rng() % 5), kT0 + static_cast<Micros>(rng() % 100000),
               {{"v", std::string("x") + std::to_string(rng() % 50)}, {"n", static_cast<double>(rng() % 7)}},
               rng() % 4 ? "m" + std::to_string(rng() % 700) : "");
    }
    bb.link("a" + std::to_string(3 + 10 * ((k + 1) % 3)), "u" + std::to_string(k));
    bb.trait("u" + std::to_string(k), "plan", std::string("p") + std::to_string(k + round));
    parts.push_back(std::move(bb.b));
  }
  return parts;
}

// Every segment's and the catalog's bytes, without file names.
std::multiset<std::string> stored_bytes(const std::string& dir) {
  std::multiset<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.starts_with("seg-") || name.starts_with("catalog-")) out.insert(*read_file(e.path().string()));
  }
  return out;
}

// An import given as parts stores what the parts appended into one batch
// store: applied directly, and replayed from the WAL after an acknowledged
// import that was not applied; on an empty store and on one with data.
TEST(Store, ImportOfPartsEqualsImportOfTheirConcatenation) {
  const std::string merged_dir = temp_dir("parts-merged"), parts_dir = temp_dir("parts-direct"),
                    wal_dir = temp_dir("parts-wal");
  for (int round = 0; round < 2; ++round) {
    ImportBatch merged;
    for (ImportBatch& part : make_parts(round)) merged.append(std::move(part));
    const std::vector<ImportBatch> parts = make_parts(round);
    auto a = open_write(merged_dir)->import(merged);
    ASSERT_TRUE(a.is_ok());
    auto b = open_write(parts_dir)->import(parts);
    ASSERT_TRUE(b.is_ok());
    EXPECT_EQ(b->events_added, a->events_added);
    EXPECT_EQ(b->duplicates, a->duplicates);
    EXPECT_EQ(b->links, a->links);
    EXPECT_EQ(b->traits, a->traits);
    EXPECT_GT(a->duplicates, 0u);
    EXPECT_GT(a->links, 0u);
    ASSERT_TRUE(open_write(wal_dir)->import(parts, /*wal_only=*/true).is_ok());
    open_read(wal_dir);  // applies the logged parts
    EXPECT_FALSE(file_exists(wal_dir + "/wal.log"));
    const auto expected = stored_bytes(merged_dir);
    EXPECT_EQ(stored_bytes(parts_dir), expected) << "round " << round;
    EXPECT_EQ(stored_bytes(wal_dir), expected) << "round " << round;
  }
  for (const auto& d : {merged_dir, parts_dir, wal_dir}) std::filesystem::remove_all(d);
}

// One round of an import in rounds: three parts, each with its own
// dictionaries; ids, values and message ids repeat across parts and rounds,
// anonymous ids of earlier rounds are linked to user ids, and two user ids
// are aliased. Times are unique (ties between persons joined later keep no
// arrival order: docs/FORMAT.md).
std::vector<ImportBatch> make_round(int round) {
  std::vector<ImportBatch> parts;
  std::mt19937_64 rng(1000 + round);
  for (int k = 0; k < 3; ++k) {
    BatchBuilder bb;
    for (int i = 0; i < 200; ++i) {
      const int who = static_cast<int>(rng() % 60);
      const std::string user = rng() % 3 == 0 ? "u" + std::to_string(who) : "";
      const std::string anon = user.empty() || rng() % 2 ? "a" + std::to_string(who + 7 * round) : "";
      const Micros t = kT0 + static_cast<Micros>(rng() % 1000) * 100000 + round * 1000 + k * 200 + i;
      bb.event(user, anon, "e" + std::to_string(rng() % 5), t, {{"v", std::string("x") + std::to_string(rng() % 50)}},
               rng() % 4 ? "m" + std::to_string(rng() % 3000) : "");
    }
    bb.link("a" + std::to_string(rng() % (60 + 7 * round)), "u" + std::to_string(rng() % 60));
    if (k == 1) bb.link("u" + std::to_string(rng() % 60), "u" + std::to_string(rng() % 60));
    bb.trait("u" + std::to_string(k + round), "plan", std::string("p") + std::to_string(k + round));
    parts.push_back(std::move(bb.b));
  }
  return parts;
}

// Every file of a store directory but its lock: name -> bytes.
std::map<std::string, std::string> store_files(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().filename() != "LOCK") out[e.path().filename().string()] = *read_file(e.path().string());
  return out;
}

// An import in rounds stores what one import of all the rounds' parts
// stores (after compaction, the same bytes), though its rounds wrote,
// restitched and merged segments as they went; until its last round, a
// reader sees the store as it was, and no file of a replaced round stays.
TEST(Store, ImportInRoundsStoresWhatOneImportStores) {
  const std::string one_dir = temp_dir("rounds-one"), rounds_dir = temp_dir("rounds-many");
  constexpr int kRounds = 12;  // past the 8 segments a partition may have
  std::vector<ImportBatch> all;
  for (int r = 1; r <= kRounds; ++r)
    for (ImportBatch& part : make_round(r)) all.push_back(std::move(part));
  for (const auto& d : {one_dir, rounds_dir}) ASSERT_TRUE(open_write(d)->import(make_round(0)).is_ok());
  auto one = open_write(one_dir)->import(all);
  ASSERT_TRUE(one.is_ok()) << one.status().message();
  const auto before = store_files(rounds_dir);
  const uint64_t events_before = summarize(*open_read(rounds_dir))->events;
  ImportStats sum;
  uint64_t rewritten = 0;
  {
    auto store = open_write(rounds_dir);
    for (int r = 1; r <= kRounds; ++r) {
      const std::vector<ImportBatch> parts = make_round(r);
      auto st = store->import_round(parts, r == kRounds);
      ASSERT_TRUE(st.is_ok()) << st.status().message();
      sum.events_added += st->events_added;
      sum.duplicates += st->duplicates;
      sum.links += st->links;
      sum.traits += st->traits;
      rewritten += st->partitions_rewritten;
      if (r < kRounds) {
        auto reader = open_read(rounds_dir);
        EXPECT_EQ(summarize(*reader)->events, events_before) << "round " << r;
        EXPECT_TRUE(file_exists(rounds_dir + "/wal.log"));
      }
      if (r == kRounds - 1) {
        // On disk: the files before, the open WAL record, and the segments
        // of this object's state (no replaced one).
        std::set<std::string> expected;
        for (const auto& [name, bytes] : before) expected.insert(name);
        expected.insert("wal.log");
        for (uint32_t p = 0; p < store->partitions(); ++p)
          for (const SegmentReader& seg : store->segments(p))
            expected.insert(std::filesystem::path(seg.path()).filename().string());
        std::set<std::string> got;
        for (const auto& [name, bytes] : store_files(rounds_dir)) got.insert(name);
        EXPECT_EQ(got, expected);
      }
    }
  }
  EXPECT_GT(rewritten, 0u);
  EXPECT_EQ(sum.events_added, one->events_added);
  EXPECT_EQ(sum.duplicates, one->duplicates);
  EXPECT_EQ(sum.links, one->links);
  EXPECT_EQ(sum.traits, one->traits);
  EXPECT_GT(sum.duplicates, 0u);
  EXPECT_FALSE(file_exists(rounds_dir + "/wal.log"));
  EXPECT_EQ(summarize(*open_read(rounds_dir))->events, events_before + sum.events_added);
  for (const auto& d : {one_dir, rounds_dir}) ASSERT_TRUE(open_write(d)->compact().is_ok());
  EXPECT_TRUE(stored_bytes(rounds_dir) == stored_bytes(one_dir));
  if (::testing::Test::HasFailure()) return;
  for (const auto& d : {one_dir, rounds_dir}) std::filesystem::remove_all(d);
}

// Rounds given up (abort_import, the store closed before the last round, a
// process killed between rounds, which leaves an open WAL record) leave the
// store exactly as it was; a record continued and committed is replayed as
// one import of its parts.
TEST(Store, AbandonedImportRoundsLeaveTheStoreAsItWas) {
  const std::string dir = temp_dir("rounds-abandoned"), one_dir = temp_dir("rounds-abandoned-one");
  for (const auto& d : {dir, one_dir}) ASSERT_TRUE(open_write(d)->import(make_parts(0)).is_ok());
  const auto before = store_files(dir);
  {
    auto store = open_write(dir);
    ASSERT_TRUE(store->import_round(make_round(1), false).is_ok());
    ASSERT_TRUE(store->import_round(make_round(2), false).is_ok());
    EXPECT_NE(store_files(dir), before);
    ASSERT_TRUE(store->abort_import().is_ok());
    EXPECT_EQ(store_files(dir), before);
    ASSERT_TRUE(store->import_round(make_round(1), false).is_ok());
  }  // closed before the last round
  EXPECT_EQ(store_files(dir), before);
  const uint64_t seq = open_read(dir)->manifest().wal_applied + 1;
  ASSERT_TRUE(wal_append(dir + "/wal.log", seq, make_round(1), /*commit=*/false).is_ok());
  EXPECT_EQ(summarize(*open_read(dir))->events, summarize(*open_read(one_dir))->events);
  EXPECT_EQ(store_files(dir), before);  // the open record was dropped
  ASSERT_TRUE(wal_append(dir + "/wal.log", seq, make_round(1), /*commit=*/false).is_ok());
  ASSERT_TRUE(wal_append(dir + "/wal.log", seq, make_round(2), /*commit=*/true).is_ok());
  open_read(dir);  // applies the committed record
  std::vector<ImportBatch> both = make_round(1);
  for (ImportBatch& part : make_round(2)) both.push_back(std::move(part));
  ASSERT_TRUE(open_write(one_dir)->import(both).is_ok());
  EXPECT_FALSE(file_exists(dir + "/wal.log"));
  EXPECT_EQ(stored_bytes(dir), stored_bytes(one_dir));
  for (const auto& d : {dir, one_dir}) std::filesystem::remove_all(d);
}

TEST(Store, IdentifyLaterStitchesEarlierAnonymousEvents) {
  const std::string dir = temp_dir("stitch");
  auto store = open_write(dir);
  BatchBuilder visits;
  visits.event("", "anon-1", "visit", kT0).event("", "anon-1", "visit", kT0 + 10).event("", "anon-2", "visit", kT0 + 20);
  ASSERT_TRUE(store->import(visits.b).is_ok());
  BatchBuilder later;
  later.link("anon-1", "alice").event("alice", "", "signup", kT0 + 30).trait("alice", "plan", std::string("pro"));
  auto stats = later.b.links.size();
  ASSERT_EQ(stats, 1u);
  ASSERT_TRUE(store->import(later.b).is_ok());
  auto reader = open_read(dir);
  const auto t = timeline(*reader, "anon-1");
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t, timeline(*reader, "alice"));
  EXPECT_EQ(t[2].second, "signup");
  auto sum = summarize(*reader);
  EXPECT_EQ(sum->persons, 2u);  // alice (with anon-1) and anon-2
  const uint32_t alice = reader->catalog().root(reader->catalog().find_id("anon-1"));
  EXPECT_EQ(reader->catalog().id_string(alice), "alice");  // the known id is the root
  ASSERT_NE(reader->catalog().traits_of(alice), nullptr);
  std::filesystem::remove_all(dir);
}

// Rows that restitching moves into another partition arrived before the
// rows of the import that linked them: where times tie, they come first,
// as they would had both been imported at once.
TEST(Store, RestitchedRowsKeepArrivalOrderOnTies) {
  const std::string dir = temp_dir("stitch-ties");
  auto store = open_write(dir);
  constexpr int kPersons = 48;  // most pairs of ids land in different partitions
  BatchBuilder visits;
  for (int i = 0; i < kPersons; ++i) visits.event("", "anon-" + std::to_string(i), "first", kT0);
  ASSERT_TRUE(store->import(visits.b).is_ok());
  for (int round = 0; round < 2; ++round) {  // the second time into partitions with this import's rows already
    BatchBuilder later;
    for (int i = round; i < kPersons; i += 2)
      later.link("anon-" + std::to_string(i), "user-" + std::to_string(i)).event("user-" + std::to_string(i), "", "second", kT0);
    ASSERT_TRUE(store->import(later.b).is_ok());
  }
  int moved = 0;
  for (int i = 0; i < kPersons; ++i) {
    const uint32_t anon = store->catalog().find_id("anon-" + std::to_string(i));
    moved += store->partition_of(anon) != store->partition_of(store->catalog().root(anon));
    const auto t = timeline(*store, "user-" + std::to_string(i));
    ASSERT_EQ(t.size(), 2u) << i;
    EXPECT_EQ(t[0].second, "first") << i;
    EXPECT_EQ(t[1].second, "second") << i;
  }
  EXPECT_GT(moved, kPersons / 2);
  ASSERT_TRUE(store->compact().is_ok());
  for (int i = 0; i < kPersons; ++i) EXPECT_EQ(timeline(*store, "anon-" + std::to_string(i))[0].second, "first") << i;
  std::filesystem::remove_all(dir);
}

TEST(Store, AliasMergesTwoKnownPersons) {
  const std::string dir = temp_dir("alias");
  auto store = open_write(dir);
  BatchBuilder a;
  a.event("old@x.com", "", "visit", kT0).event("new@x.com", "", "purchase", kT0 + 5);
  ASSERT_TRUE(store->import(a.b).is_ok());
  BatchBuilder alias;
  alias.b.links.push_back(BatchLink{alias.b.intern_id("old@x.com", true), alias.b.intern_id("new@x.com", true)});
  ASSERT_TRUE(store->import(alias.b).is_ok());
  EXPECT_EQ(timeline(*store, "old@x.com").size(), 2u);
  EXPECT_EQ(store->catalog().id_string(store->catalog().root(store->catalog().find_id("old@x.com"))), "new@x.com");
  std::filesystem::remove_all(dir);
}

// Random persons, ids and links over several imports: every stored person's
// timeline equals a brute-force model built from the same inputs. With
// single, through set_single_import(), where each import frees the catalog's
// lookup indexes and the next one builds them again.
void check_random_identity_graph(bool single) {
  const std::string dir = temp_dir(single ? "random-identity-single" : "random-identity");
  std::mt19937_64 rng(7);
  std::vector<std::string> ids;
  for (int i = 0; i < 300; ++i) ids.push_back((i % 3 ? "a" : "u") + std::to_string(i));
  std::map<std::string, std::string> parent;  // model union-find
  for (const auto& id : ids) parent[id] = id;
  std::function<std::string(const std::string&)> find = [&](const std::string& x) {
    return parent[x] == x ? x : find(parent[x]);
  };
  std::vector<std::pair<std::string, Micros>> events;  // id, time (times unique)
  auto store = open_write(dir);
  if (single) store->set_single_import();
  Micros t = kT0;
  // A large first import, then small ones: partitions reach their segment
  // limit, and merge the small segments alone (a large first one) or all.
  for (int round = 0; round < 16; ++round) {
    BatchBuilder bb;
    for (int k = 0; k < (round == 0 ? 6000 : 400); ++k) {
      const std::string& id = ids[rng() % ids.size()];
      const bool known = id[0] == 'u';
      t += 1 + static_cast<Micros>(rng() % 1000);
      bb.event(known ? id : "", known ? "" : id, "e" + std::to_string(rng() % 5), t);
      events.emplace_back(id, t);
    }
    for (int k = 0; k < 25; ++k) {
      const std::string& a = ids[rng() % ids.size()];
      const std::string& u = ids[(rng() % 100) * 3];
      bb.b.links.push_back(BatchLink{bb.b.intern_id(a, a[0] == 'u'), bb.b.intern_id(u, true)});
      parent[find(a)] = find(u);
    }
    ASSERT_TRUE(store->import(bb.b).is_ok());
  }
  for (uint32_t p = 0; p < store->partitions(); ++p) EXPECT_LT(store->segments(p).size(), 8u);
  auto reader = open_read(dir);
  std::map<std::string, std::vector<Micros>> expected;  // model root -> times
  for (const auto& [id, time] : events) expected[find(id)].push_back(time);
  uint64_t persons = 0;
  for (auto& [root, times] : expected) {
    std::sort(times.begin(), times.end());
    const auto got = timeline(*reader, root);
    ASSERT_EQ(got.size(), times.size()) << root;
    for (size_t i = 0; i < times.size(); ++i) EXPECT_EQ(got[i].first, times[i]);
    ++persons;
  }
  auto sum = summarize(*reader);
  ASSERT_TRUE(sum.is_ok());
  EXPECT_EQ(sum->persons, persons);
  EXPECT_EQ(sum->events, events.size());
  std::filesystem::remove_all(dir);
}

TEST(Store, RandomIdentityGraphMatchesBruteForce) { check_random_identity_graph(false); }

TEST(Store, RandomIdentityGraphMatchesBruteForceOneImportAStore) { check_random_identity_graph(true); }

// A partition at its segment limit merges its small segments and leaves a
// first segment of at least twice their rows as it is (the same file);
// when the others grow past half of it, it merges them all. Every event
// reads back in every person's timeline.
TEST(Store, SmallImportsMergeTheirSegmentsAndLeaveALargeFirstOne) {
  const std::string dir = temp_dir("merge-small");
  auto store = open_write(dir);
  std::mt19937_64 rng(11);
  std::map<std::string, std::vector<Micros>> expected;
  Micros t = kT0;
  auto import_events = [&](int n) {
    BatchBuilder bb;
    for (int k = 0; k < n; ++k) {
      const std::string who = "u" + std::to_string(rng() % 400);
      t += 1 + static_cast<Micros>(rng() % 1000);
      bb.event(who, "", "e", t);
      expected[who].push_back(t);
    }
    ASSERT_TRUE(store->import(bb.b).is_ok());
  };
  auto first_files = [&] {
    std::vector<std::string> files;
    for (uint32_t p = 0; p < store->partitions(); ++p) files.push_back(store->manifest().segments[p].at(0).file);
    return files;
  };
  import_events(4000);  // some 250 rows a partition
  const std::vector<std::string> large = first_files();
  size_t most = 0;
  for (int i = 0; i < 20; ++i) {  // some 2.5 rows a partition each
    import_events(40);
    for (uint32_t p = 0; p < store->partitions(); ++p) {
      ASSERT_LT(store->segments(p).size(), 8u);
      most = std::max(most, store->segments(p).size());
    }
  }
  EXPECT_EQ(most, 7u);          // partitions reached the limit ...
  EXPECT_EQ(first_files(), large);  // ... and merged their small segments only
  for (int i = 0; i < 7; ++i) import_events(4000);
  const std::vector<std::string> after = first_files();
  for (uint32_t p = 0; p < store->partitions(); ++p) {
    EXPECT_NE(after[p], large[p]) << p;  // merged whole once the others grew
    EXPECT_LT(store->segments(p).size(), 8u);
  }
  auto reader = open_read(dir);
  for (auto& [who, times] : expected) {
    const auto got = timeline(*reader, who);
    ASSERT_EQ(got.size(), times.size()) << who;
    for (size_t i = 0; i < times.size(); ++i) EXPECT_EQ(got[i].first, times[i]) << who;
  }
  std::filesystem::remove_all(dir);
}

TEST(Store, CompactMergesSegmentsAndKeepsRows) {
  const std::string dir = temp_dir("compact");
  auto store = open_write(dir);
  for (int i = 0; i < 5; ++i) {
    BatchBuilder bb;
    for (int p = 0; p < 40; ++p) bb.event("u" + std::to_string(p), "", "e", kT0 + i * 100 + p);
    ASSERT_TRUE(store->import(bb.b).is_ok());
  }
  ASSERT_TRUE(store->compact().is_ok());
  uint64_t segments = 0;
  for (uint32_t p = 0; p < store->partitions(); ++p) {
    EXPECT_LE(store->segments(p).size(), 1u);
    segments += store->segments(p).size();
  }
  EXPECT_GT(segments, 0u);
  auto reader = open_read(dir);
  for (int p = 0; p < 40; ++p) EXPECT_EQ(timeline(*reader, "u" + std::to_string(p)).size(), 5u);
  EXPECT_EQ(summarize(*reader)->events, 200u);
  // Only the live files remain.
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) files += e.path().filename().string().rfind("seg-", 0) == 0;
  EXPECT_EQ(files, segments);
  std::filesystem::remove_all(dir);
}

TEST(Store, WritesRemoveOnlyTheirOwnUnreferencedFiles) {
  const std::string dir = temp_dir("own_files");
  std::filesystem::create_directories(dir);
  // The user's files, some with names like the store's; and what a crash
  // between writing and switching leaves behind.
  const std::vector<std::string> users = {"seg-2026-01.csv", "catalog-2025.pdf", "upload.tmp", "MANIFEST-old",
                                          "seg-000001.cseg.bak", "catalog-00001.bin", "seg-12345x.cseg"};
  const std::vector<std::string> stale = {"seg-000900.cseg", "catalog-000901.bin", "MANIFEST-000902",
                                          "CURRENT.tmp", "channel_rules.json.tmp", "seg-1234567.cseg"};
  for (const auto& name : users) std::ofstream(dir + "/" + name) << "keep";
  {
    auto store = open_write(dir);  // creates the database here
    for (const auto& name : stale) std::ofstream(dir + "/" + name) << "stale";
    BatchBuilder bb;
    bb.event("u1", "", "e", kT0);
    ASSERT_TRUE(store->import(bb.b).is_ok());
  }
  for (const auto& name : users) EXPECT_TRUE(std::filesystem::exists(dir + "/" + name)) << name;
  for (const auto& name : stale) EXPECT_FALSE(std::filesystem::exists(dir + "/" + name)) << name;
  EXPECT_EQ(timeline(*open_read(dir), "u1").size(), 1u);
  std::filesystem::remove_all(dir);
}

// bytes_on_disk counts the snapshot's files: all of the directory's when no
// writer is at work, and not what a writer adds meanwhile.
TEST(Store, BytesOnDiskAreTheSnapshotsFiles) {
  const std::string dir = temp_dir("bytes");
  auto directory_bytes = [&] {
    uint64_t n = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir)) n += e.file_size();
    return n;
  };
  for (int i = 0; i < 3; ++i) {
    {
      auto store = open_write(dir);
      BatchBuilder bb;
      for (int p = 0; p < 30; ++p) bb.event("u" + std::to_string(p), "", "e", kT0 + i * 100 + p, {{"k", std::string("v")}});
      ASSERT_TRUE(store->import(bb.b).is_ok());
      EXPECT_EQ(summarize(*store)->bytes_on_disk, directory_bytes());
    }
    EXPECT_EQ(summarize(*open_read(dir))->bytes_on_disk, directory_bytes());
  }
  auto reader = open_read(dir);
  const uint64_t before = summarize(*reader)->bytes_on_disk;
  std::ofstream(dir + "/seg-000999.cseg") << std::string(5000, 'x');  // a writer's file, not yet committed
  std::ofstream(dir + "/catalog-000998.bin") << std::string(7000, 'x');
  EXPECT_EQ(summarize(*reader)->bytes_on_disk, before);
  EXPECT_EQ(summarize(*open_read(dir))->bytes_on_disk, before);
  std::filesystem::remove_all(dir);
}

TEST(Store, DeletePersonRemovesEventsIdsAndTraits) {
  const std::string dir = temp_dir("delete");
  auto store = open_write(dir);
  BatchBuilder bb;
  bb.event("", "anon-9", "visit", kT0, {{"note", std::string("bob-only-note")}})
      .link("anon-9", "bob")
      .event("bob", "", "purchase", kT0 + 1, {{"plan", std::string("shared-plan")}})
      .trait("bob", "email", std::string("bob@example.com"))
      .event("carol", "", "visit", kT0 + 2, {{"plan", std::string("shared-plan")}});
  for (int c = 0; c < 32; ++c) bb.event("c" + std::to_string(c), "", "visit", kT0 + 3);
  ASSERT_TRUE(store->import(bb.b).is_ok());
  // A value bob shares only with someone in another partition.
  const Catalog& before = store->catalog();
  const uint32_t bob_partition = store->partition_of(before.root(before.find_id("bob")));
  std::string elsewhere;
  for (int c = 0; c < 32 && elsewhere.empty(); ++c)
    if (store->partition_of(before.root(before.find_id("c" + std::to_string(c)))) != bob_partition)
      elsewhere = "c" + std::to_string(c);
  ASSERT_FALSE(elsewhere.empty());
  BatchBuilder shared;
  shared.event("bob", "", "visit", kT0 + 4, {{"team", std::string("shared-elsewhere")}})
      .event(elsewhere, "", "visit", kT0 + 5, {{"team", std::string("shared-elsewhere")}});
  ASSERT_TRUE(store->import(shared.b).is_ok());
  auto removed = store->delete_person("anon-9");
  ASSERT_TRUE(removed.is_ok());
  EXPECT_EQ(*removed, 3u);
  auto reader = open_read(dir);
  EXPECT_TRUE(timeline(*reader, "bob").empty());
  EXPECT_TRUE(timeline(*reader, "anon-9").empty());
  EXPECT_EQ(timeline(*reader, "carol").size(), 1u);
  EXPECT_EQ(summarize(*reader)->events, 34u);
  EXPECT_EQ(summarize(*reader)->persons_with_traits, 0u);
  // The id strings are gone from every file on disk (the catalog is
  // compressed, so decode it through the store and check the raw ids).
  const Catalog& cat = reader->catalog();
  for (uint32_t i = 0; i < cat.id_count(); ++i) {
    EXPECT_NE(cat.id_string(i), "bob");
    EXPECT_NE(cat.id_string(i), "anon-9");
  }
  // So are the values only bob had (a property, a trait), while a value
  // carol shares stays and her event still shows it.
  EXPECT_EQ(cat.strings().find("bob-only-note"), StringPool::kMissing);
  EXPECT_EQ(cat.strings().find("bob@example.com"), StringPool::kMissing);
  ASSERT_NE(cat.strings().find("shared-plan"), StringPool::kMissing);
  EXPECT_NE(cat.strings().find("shared-elsewhere"), StringPool::kMissing);
  RowSet carol;
  ASSERT_TRUE(reader->read_person(cat.root(cat.find_id("carol")), carol).is_ok());
  ASSERT_EQ(carol.rows.size(), 1u);
  ASSERT_EQ(carol.props.size(), 1u);
  EXPECT_EQ(cat.strings().get(static_cast<uint32_t>(carol.props[0].bits)), "shared-plan");
  EXPECT_FALSE(store->delete_person("bob").is_ok());
  std::filesystem::remove_all(dir);
}

TEST(Store, WalRecordIsAppliedOnNextOpen) {
  const std::string dir = temp_dir("wal");
  {
    auto store = open_write(dir);
    BatchBuilder bb;
    bb.event("u1", "", "visit", kT0, {}, "m1");
    ASSERT_TRUE(store->import(bb.b, /*wal_only=*/true).is_ok());
  }
  ASSERT_TRUE(file_exists(dir + "/wal.log"));
  auto reader = open_read(dir);  // finishes the acknowledged import
  EXPECT_EQ(timeline(*reader, "u1").size(), 1u);
  EXPECT_FALSE(file_exists(dir + "/wal.log"));
  std::filesystem::remove_all(dir);
}

// A log written before the events frame had one person column (frame type
// 8: the user id + 1 and the anonymous id + 1, 0 for none) is still
// applied, each event filed under its user id, else its anonymous id. The
// log is built here byte by byte as wal.h describes it.
TEST(Store, WalWithTwoIdColumnsIsApplied) {
  const std::string dir = temp_dir("wal-two-ids");
  { auto store = open_write(dir); }
  std::string log;
  auto frame = [&](uint8_t type, BinaryWriter& body) {
    BinaryWriter h;
    h.put_bytes("CWAL");
    h.put_u8(type);
    h.put_u64(1);  // the record's seq: the manifest's wal_applied is 0
    h.put_u32(static_cast<uint32_t>(body.buffer().size()));
    h.put_u32(static_cast<uint32_t>(body.buffer().size()));  // stored raw
    h.put_u64(checksum64(body.buffer()));
    h.put_u32(static_cast<uint32_t>(checksum64(h.buffer())));
    log += h.buffer();
    log += body.buffer();
  };
  BinaryWriter ids, names, keys, strings, events, hashes, links, none, commit;
  ids.put_u8(0);
  ids.put_varint(3);
  for (auto [id, known] : {std::pair<const char*, uint8_t>{"u1", 1}, {"a1", 0}, {"a2", 0}}) {
    ids.put_string(id);
    ids.put_u8(known);
  }
  names.put_u8(1);
  names.put_varint(1);
  names.put_string("visit");
  keys.put_u8(2);
  keys.put_varint(0);
  strings.put_u8(3);
  strings.put_varint(0);
  // a1 alone, then u1 with a1, then a2 alone.
  events.put_varint(3);
  for (int64_t delta : {kT0, kMicrosPerSecond, kMicrosPerSecond}) events.put_zigzag(delta);
  for (uint64_t user : {0, 1, 0}) events.put_varint(user);
  for (uint64_t anon : {2, 2, 3}) events.put_varint(anon);
  for (int k = 0; k < 3; ++k) events.put_varint(0);  // event "visit"
  for (int k = 0; k < 3; ++k) events.put_varint(0);  // no properties
  hashes.put_varint(3);
  for (const char* m : {"m1", "m2", "m3"}) hashes.put_u64(message_hash(m));
  links.put_varint(1);
  links.put_varint(1);  // a1
  links.put_varint(0);  // -> u1
  none.put_varint(0);
  commit.put_varint(3);
  commit.put_varint(0);
  for (BinaryWriter* pool : {&ids, &names, &keys, &strings}) frame(1, *pool);
  frame(8, events);
  frame(10, hashes);
  frame(4, links);
  frame(5, none);
  frame(6, none);
  frame(7, commit);
  std::ofstream(dir + "/wal.log", std::ios::binary) << log;
  auto reader = open_read(dir);
  EXPECT_EQ(timeline(*reader, "u1").size(), 2u);  // a1's event and u1's, one person
  EXPECT_EQ(timeline(*reader, "a1").size(), 2u);
  EXPECT_EQ(timeline(*reader, "a2").size(), 1u);
  EXPECT_FALSE(file_exists(dir + "/wal.log"));
  std::filesystem::remove_all(dir);
}

TEST(Store, TornWalTailIsDropped) {
  const std::string dir = temp_dir("torn");
  {
    auto store = open_write(dir);
    BatchBuilder first;
    first.event("u1", "", "visit", kT0);
    ASSERT_TRUE(store->import(first.b).is_ok());
    BatchBuilder second;
    second.event("u2", "", "visit", kT0);
    ASSERT_TRUE(store->import(second.b, /*wal_only=*/true).is_ok());
  }
  const auto size = std::filesystem::file_size(dir + "/wal.log");
  std::filesystem::resize_file(dir + "/wal.log", size - 7);  // the commit frame never finished
  auto reader = open_read(dir);
  EXPECT_EQ(timeline(*reader, "u1").size(), 1u);
  EXPECT_TRUE(timeline(*reader, "u2").empty());
  std::filesystem::remove_all(dir);
}

// A record written in rounds (parts logged by three calls, the last with the
// commit) is replayed in batches of at least round_events events, whole
// parts in order, the last one with the commit; a record whose commit never
// came, or with a damaged frame anywhere, applies nothing.
TEST(Wal, RecordOfRoundsIsReplayedInBatchesOnlyOnceCommitted) {
  const std::string dir = temp_dir("wal-rounds");
  const std::string path = dir + "/wal.log";
  std::vector<Micros> logged;
  for (int r = 1; r <= 3; ++r) {
    const std::vector<ImportBatch> parts = make_round(r);
    for (const ImportBatch& part : parts)
      for (const BatchEvent& e : part.events) logged.push_back(e.time);
    ASSERT_TRUE(wal_append(path, 5, parts, /*commit=*/r == 3).is_ok());
  }
  std::vector<std::pair<size_t, bool>> calls;  // events, commit
  std::vector<Micros> replayed;
  auto collect = [&](uint64_t seq, ImportBatch& batch, bool commit) {
    EXPECT_EQ(seq, 5u);
    calls.emplace_back(batch.events.size(), commit);
    for (const BatchEvent& e : batch.events) replayed.push_back(e.time);
    return Status::ok();
  };
  ASSERT_TRUE(wal_replay(path, collect, 500).is_ok());
  // Parts of 200 events: three make a batch of 600.
  EXPECT_EQ(calls, (std::vector<std::pair<size_t, bool>>{{600, false}, {600, false}, {600, true}}));
  EXPECT_EQ(replayed, logged);
  calls.clear();
  replayed.clear();
  ASSERT_TRUE(wal_replay(path, collect).is_ok());
  EXPECT_EQ(calls, (std::vector<std::pair<size_t, bool>>{{1800, true}}));
  EXPECT_EQ(replayed, logged);
  // A byte of the last part's frames damaged: nothing is applied.
  std::string bytes = *read_file(path);
  std::string damaged = bytes;
  damaged[damaged.size() - 200] ^= 0x40;
  ASSERT_TRUE(write_new_file(path, damaged).is_ok());
  calls.clear();
  EXPECT_EQ(wal_replay(path, collect, 500).code(), Status::Code::kCorruption);
  EXPECT_TRUE(calls.empty());
  // The rounds without their commit: dropped.
  std::filesystem::remove(path);
  ASSERT_TRUE(wal_append(path, 5, make_round(1), false).is_ok());
  ASSERT_TRUE(wal_append(path, 5, make_round(2), false).is_ok());
  EXPECT_TRUE(wal_replay(path, collect, 500).is_ok());
  EXPECT_TRUE(calls.empty());
  std::filesystem::remove_all(dir);
}

// Events of one byte a column (equal times, small ids, no properties) take
// four bytes each in the WAL's events frame, and replay.
TEST(Store, WalOfSmallEventsIsApplied) {
  const std::string dir = temp_dir("wal-small");
  {
    auto store = open_write(dir);
    BatchBuilder bb;
    for (int i = 0; i < 300; ++i) bb.event("u" + std::to_string(i % 100), "", "e", kT0, {}, "m" + std::to_string(i));
    ASSERT_TRUE(store->import(bb.b, /*wal_only=*/true).is_ok());
  }
  auto reader = open_read(dir);
  EXPECT_EQ(summarize(*reader)->events, 300u);
  EXPECT_EQ(timeline(*reader, "u7").size(), 3u);
  std::filesystem::remove_all(dir);
}

// A crash can save the log's new size but not its last pages, which then
// read as zeros: from inside a frame's header or body to the end.
TEST(Store, ZeroFilledWalTailIsDropped) {
  const std::string dir = temp_dir("torn-zeros");
  uint64_t first_size = 0;
  {
    auto store = open_write(dir);
    BatchBuilder first;
    first.event("u1", "", "visit", kT0);
    ASSERT_TRUE(store->import(first.b, /*wal_only=*/true).is_ok());
    first_size = std::filesystem::file_size(dir + "/wal.log");
    BatchBuilder second;
    for (int p = 0; p < 2000; ++p) second.event("v" + std::to_string(p), "", "visit", kT0 + p, {}, "m" + std::to_string(p));
    ASSERT_TRUE(store->import(second.b, /*wal_only=*/true).is_ok());
  }
  const std::string wal = dir + "/wal.log";
  std::string log;
  {
    std::ifstream in(wal, std::ios::binary);
    log.assign(std::istreambuf_iterator<char>(in), {});
  }
  // Zeros from several places inside the second record: its first frame's
  // header, bodies, and page boundaries, to the end of the file.
  for (uint64_t from : {first_size + 3, first_size + 40, first_size + 4096 - first_size % 4096, uint64_t{log.size() / 2},
                        uint64_t{log.size() - 200}}) {
    ASSERT_LT(from, log.size());
    std::string torn = log;
    std::fill(torn.begin() + static_cast<std::ptrdiff_t>(from), torn.end(), '\0');
    std::filesystem::remove_all(dir + "-copy");
    std::filesystem::copy(dir, dir + "-copy");
    std::ofstream(dir + "-copy/wal.log", std::ios::binary | std::ios::trunc) << torn;
    auto reader = Store::open(dir + "-copy", Store::Mode::kRead);
    ASSERT_TRUE(reader.is_ok()) << "zeros from " << from << ": " << reader.status().message();
    EXPECT_EQ(timeline(**reader, "u1").size(), 1u) << from;
    EXPECT_TRUE(timeline(**reader, "v0").empty()) << from;
  }
  // Zeros that stop before the end are damage, reported as before.
  std::string holed = log;
  std::fill(holed.begin() + static_cast<std::ptrdiff_t>(first_size + 40), holed.begin() + static_cast<std::ptrdiff_t>(first_size + 400), '\0');
  std::ofstream(wal, std::ios::binary | std::ios::trunc) << holed;
  auto reader = Store::open(dir, Store::Mode::kRead);
  ASSERT_FALSE(reader.is_ok());
  EXPECT_NE(reader.status().message().find("checksum mismatch"), std::string::npos) << reader.status().message();
  std::filesystem::remove_all(dir);
  std::filesystem::remove_all(dir + "-copy");
}

void flip_byte(const std::string& path, uint64_t offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char c;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x5A);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(&c, 1);
}

TEST(Store, CorruptSegmentIsReportedWithFileAndOffset) {
  const std::string dir = temp_dir("corrupt-seg");
  {
    auto store = open_write(dir);
    BatchBuilder bb;
    for (int p = 0; p < 50; ++p) bb.event("u" + std::to_string(p), "", "visit", kT0 + p, {{"k", std::string("v")}});
    ASSERT_TRUE(store->import(bb.b).is_ok());
  }
  std::string seg;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().filename().string().rfind("seg-", 0) == 0) seg = e.path().string();
  ASSERT_FALSE(seg.empty());
  flip_byte(seg, 14);  // inside the first chunk (after the 12-byte header)
  auto reader = Store::open(dir, Store::Mode::kRead);
  ASSERT_TRUE(reader.is_ok());
  auto sum = summarize(**reader);
  ASSERT_FALSE(sum.is_ok());
  EXPECT_EQ(sum.status().code(), Status::Code::kCorruption);
  EXPECT_NE(sum.status().message().find(seg), std::string::npos) << sum.status().message();
  EXPECT_NE(sum.status().message().find("offset 12"), std::string::npos) << sum.status().message();
  std::filesystem::remove_all(dir);
}

TEST(Store, CorruptWalIsReportedNotApplied) {
  const std::string dir = temp_dir("corrupt-wal");
  {
    auto store = open_write(dir);
    BatchBuilder bb;
    for (int p = 0; p < 50; ++p) bb.event("u" + std::to_string(p), "", "visit", kT0 + p);
    ASSERT_TRUE(store->import(bb.b, /*wal_only=*/true).is_ok());
  }
  flip_byte(dir + "/wal.log", 40);  // inside the first frame's body
  auto reader = Store::open(dir, Store::Mode::kRead);
  ASSERT_FALSE(reader.is_ok());
  EXPECT_NE(reader.status().message().find("wal.log: checksum mismatch in frame at offset 0"), std::string::npos)
      << reader.status().message();
  std::filesystem::remove_all(dir);
}

// Every single-byte flip anywhere in a segment, the catalog or the manifest
// is reported, with the file and an offset, and no data is returned.
TEST(Store, EveryFlippedByteInStoredFilesIsDetected) {
  const std::string dir = temp_dir("flip-all");
  {
    auto store = open_write(dir);
    BatchBuilder bb;
    for (int p = 0; p < 3; ++p)
      bb.event("u" + std::to_string(p), "", "visit", kT0 + p, {{"k", std::string("v")}, {"n", 2.5}}, "m" + std::to_string(p));
    ASSERT_TRUE(store->import(bb.b).is_ok());
  }
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name != "LOCK" && name != "CURRENT") files.push_back(e.path().string());
  }
  ASSERT_GE(files.size(), 3u);
  for (const std::string& file : files) {
    const auto size = std::filesystem::file_size(file);
    for (uint64_t off = 0; off < size; ++off) {
      flip_byte(file, off);
      auto reader = Store::open(dir, Store::Mode::kRead);
      Status st = reader.is_ok() ? summarize(**reader).status() : reader.status();
      if (st.is_ok()) st = (*reader)->verify();
      EXPECT_FALSE(st.is_ok()) << file << " flipped at " << off << " was not detected";
      EXPECT_NE(st.message().find(file), std::string::npos) << st.message();
      EXPECT_NE(st.message().find("offset"), std::string::npos) << st.message();
      flip_byte(file, off);  // restore
    }
  }
  EXPECT_TRUE(summarize(*open_read(dir)).is_ok());
  std::filesystem::remove_all(dir);
}

TEST(Store, EveryFlippedByteInTheWalIsDetected) {
  const std::string dir = temp_dir("flip-wal");
  {
    auto store = open_write(dir);
    BatchBuilder bb;
    bb.event("u1", "", "visit", kT0, {{"k", std::string("v")}}, "m1").link("a1", "u1");
    ASSERT_TRUE(store->import(bb.b, /*wal_only=*/true).is_ok());
  }
  const std::string wal = dir + "/wal.log";
  const std::string pristine = *read_file(wal);
  for (uint64_t off = 0; off < pristine.size(); ++off) {
    flip_byte(wal, off);
    {
      auto reader = Store::open(dir, Store::Mode::kRead);
      ASSERT_FALSE(reader.is_ok()) << "flip at " << off << " was not detected";
      EXPECT_NE(reader.status().message().find("wal.log"), std::string::npos) << reader.status().message();
      EXPECT_NE(reader.status().message().find("offset"), std::string::npos) << reader.status().message();
    }
    ASSERT_TRUE(write_file_atomic(wal, pristine).is_ok());
  }
  auto reader = open_read(dir);
  EXPECT_EQ(timeline(*reader, "a1").size(), 1u);
  std::filesystem::remove_all(dir);
}

}  // namespace store_test
}  // namespace cairn
