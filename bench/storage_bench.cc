// Micro-benchmarks of the segment codec: encoding rows into a segment and
// decoding the core columns (person, time, event) that every scan reads;
// and the import's sort of message-id hashes.
// Run: build/bench/storage_bench
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <algorithm>
#include <random>

#include "core/sort_u64.h"
#include "storage/segment.h"
#include "storage/time_column.h"

namespace cairn {
namespace {

// Journeys shaped like the simulator's: ~50 events per person, seconds to
// days apart, 30 event names, 3 properties per event.
RowSet make_rows(size_t n) {
  RowSet rs;
  std::mt19937_64 rng(1);
  uint32_t person = 0;
  Micros t = 1767607200LL * kMicrosPerSecond;
  for (size_t i = 0; i < n; ++i) {
    if (rng() % 50 == 0) {
      ++person;
      t = 1767607200LL * kMicrosPerSecond + static_cast<Micros>(rng() % (86400ULL * 90)) * kMicrosPerSecond;
    }
    t += static_cast<Micros>(rng() % 2 ? rng() % 600 : rng() % 86400 * 3) * kMicrosPerSecond;
    Row r{person, static_cast<uint32_t>(rng() % 30), t, static_cast<uint32_t>(rs.props.size()), 3, rng()};
    for (uint32_t k = 0; k < 3; ++k) rs.props.push_back(StoredProp{k, ValueType::kString, rng() % 100});
    rs.rows.push_back(r);
  }
  return rs;
}

std::string bench_path() {
  return (std::filesystem::temp_directory_path() / ("cairn-bench-" + std::to_string(::getpid()) + ".cseg")).string();
}

void BM_WriteSegment(benchmark::State& state) {
  const RowSet rows = make_rows(static_cast<size_t>(state.range(0)));
  const std::string path = bench_path();
  for (auto _ : state) {
    std::filesystem::remove(path);
    auto stats = write_segment(path, rows);
    benchmark::DoNotOptimize(stats);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  std::filesystem::remove(path);
}
BENCHMARK(BM_WriteSegment)->Arg(1 << 20)->Unit(benchmark::kMillisecond);

void BM_ReadCoreColumns(benchmark::State& state) {
  const RowSet rows = make_rows(static_cast<size_t>(state.range(0)));
  const std::string path = bench_path();
  auto stats = write_segment(path, rows);
  auto reader = SegmentReader::open(path);
  BlockColumns cols;
  for (auto _ : state) {
    for (size_t b = 0; b < reader->blocks().size(); ++b) {
      Status st = reader->read_core(b, cols);
      benchmark::DoNotOptimize(st);
    }
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.counters["core_bytes_per_event"] =
      static_cast<double>(stats->core_bytes) / static_cast<double>(state.range(0));
  std::filesystem::remove(path);
}
BENCHMARK(BM_ReadCoreColumns)->Arg(1 << 20)->Unit(benchmark::kMillisecond);

// One block's time column as the simulator's data has it: ~20 events a
// person, gaps of seconds to weeks, random milliseconds.
void BM_DecodeTimeColumn(benchmark::State& state) {
  const size_t rows = 65536;
  std::mt19937_64 rng(2);
  std::vector<Micros> time(rows);
  std::vector<uint32_t> runs;
  const Micros base = 1767607200LL * kMicrosPerSecond;
  for (size_t i = 0; i < rows;) {
    const uint32_t n = static_cast<uint32_t>(std::min<size_t>(1 + rng() % 40, rows - i));
    runs.push_back(n);
    Micros t = base + static_cast<Micros>(rng() % (86400000ULL * 180)) * 1000;
    for (uint32_t k = 0; k < n; ++k, ++i) {
      const uint64_t r = rng() % 10;
      t += static_cast<Micros>(r < 6 ? rng() % 120000 : r < 9 ? rng() % 86400000 : rng() % (86400000ULL * 30)) * 1000;
      time[i] = t;
    }
  }
  const Micros min_time = *std::min_element(time.begin(), time.end());
  const std::string chunk = encode_time_column(time.data(), rows, runs, min_time);
  std::vector<Micros> out(rows);
  TimeColumnScratch scratch;
  for (auto _ : state) {
    const bool ok = decode_time_column(chunk, min_time, runs, rows, out.data(), scratch);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(out.data());
  }
  if (out != time) state.SkipWithError("decoded times differ");
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * rows));
  state.counters["bytes_per_event"] = static_cast<double>(chunk.size()) / rows;
}
BENCHMARK(BM_DecodeTimeColumn)->Unit(benchmark::kMicrosecond);

// The import's de-duplication sorts every message-id hash of the batch:
// sort_u64 against std::sort (Arg 1) on 10M random hashes.
void BM_SortHashes(benchmark::State& state) {
  std::mt19937_64 rng(7);
  std::vector<uint64_t> hashes(10'000'000);
  for (uint64_t& h : hashes) h = rng();
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<uint64_t> v = hashes;
    state.ResumeTiming();
    if (state.range(0) == 0) {
      sort_u64(v);
    } else {
      std::sort(v.begin(), v.end());
    }
    benchmark::DoNotOptimize(v.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * hashes.size()));
}
BENCHMARK(BM_SortHashes)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace cairn

BENCHMARK_MAIN();
