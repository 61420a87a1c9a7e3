// The data-driven attribution models after the scan, on 1M journeys
// (converting and not): Markov (order 1 and 2), Shapley, and 200 bootstrap
// resamples of persons, as run_attribution does them. Journeys are drawn
// like the simulator's: 1 to 8 touches over 7 channels, about 18% convert,
// conversion more likely with more (and stronger) channels.
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>

#include "query/attribution.h"

namespace {

using cairn::query::Journey;
using cairn::query::PathStat;

const std::vector<Journey>& journeys() {
  static const std::vector<Journey> js = [] {
    std::mt19937_64 rng(1);
    const double effect[8] = {0, 0.0, 0.15, 1.3, 0.45, 1.0, 0.7, 0.35};
    std::vector<Journey> out;
    out.reserve(1000000);
    for (int i = 0; i < 1000000; ++i) {
      Journey j;
      const size_t n = 1 + rng() % 8;
      double logit = -2.8;
      std::vector<uint8_t> seen(8, 0);
      for (size_t k = 0; k < n; ++k) {
        const uint32_t c = 1 + static_cast<uint32_t>(rng() % 7);
        j.touches.push_back(c);
        if (!seen[c]) logit += effect[c], seen[c] = 1;
      }
      j.converted = std::uniform_real_distribution<double>(0, 1)(rng) < 1 / (1 + std::exp(-logit));
      j.value = j.converted ? static_cast<double>(50 + rng() % 500) : 0;
      out.push_back(std::move(j));
    }
    return out;
  }();
  return js;
}

void BM_Markov(benchmark::State& state) {
  const auto& js = journeys();
  for (auto _ : state) benchmark::DoNotOptimize(cairn::query::markov(js, 8, static_cast<size_t>(state.range(0))));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * js.size()));
}
BENCHMARK(BM_Markov)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);

void BM_Shapley(benchmark::State& state) {
  const auto& js = journeys();
  for (auto _ : state) benchmark::DoNotOptimize(cairn::query::shapley(js, 8, 1000, 1));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * js.size()));
}
BENCHMARK(BM_Shapley)->Unit(benchmark::kMillisecond);

// 200 resamples of the persons (one journey each here): re-weigh the path and
// set groups, then run Markov and Shapley on them.
void BM_Bootstrap200(benchmark::State& state) {
  const auto& js = journeys();
  std::vector<uint32_t> path_of, set_of;
  std::vector<PathStat> paths = cairn::query::group_journeys(js, false, &path_of);
  const cairn::query::MarkovChain chain = cairn::query::markov_chain(paths, 1);
  std::vector<PathStat> sets = cairn::query::group_journeys(js, true, &set_of);
  std::vector<double> weight(js.size());
  for (auto _ : state) {
    std::mt19937_64 rng(7);
    std::uniform_int_distribution<uint32_t> pick(0, static_cast<uint32_t>(js.size() - 1));
    for (int b = 0; b < 200; ++b) {
      std::fill(weight.begin(), weight.end(), 0.0);
      for (size_t i = 0; i < js.size(); ++i) weight[pick(rng)] += 1;
      for (auto* list : {&paths, &sets})
        for (PathStat& p : *list) p.journeys = p.converted = p.value = 0;
      for (size_t i = 0; i < js.size(); ++i) {
        const double w = weight[i];
        if (w == 0) continue;
        for (PathStat* p : {&paths[path_of[i]], &sets[set_of[i]]}) {
          p->journeys += w;
          if (js[i].converted) {
            p->converted += w;
            p->value += w * js[i].value;
          }
        }
      }
      benchmark::DoNotOptimize(cairn::query::markov_solve(chain, paths, 8));
      benchmark::DoNotOptimize(cairn::query::shapley_sets(sets, 8, 1000, 1));
    }
  }
}
BENCHMARK(BM_Bootstrap200)->Unit(benchmark::kSecond)->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
