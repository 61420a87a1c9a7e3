// Micro-benchmark of the funnel kernel alone (no storage): persons shaped
// like the simulator's (~20 events each, page views the most common, few
// signups, fewer trials and purchases) folded by FunnelKernel::add, the
// per-person work of bench/funnel.json. One block's worth of persons
// (~65K events, in the L2 cache as a scan's freshly decoded block is),
// folded 50 times an iteration.
// Run: build/bench/funnel_bench
#include <benchmark/benchmark.h>

#include <random>

#include "query/funnel.h"

namespace cairn::query {
namespace {

struct Persons {
  std::vector<size_t> begin;  // per person, and one past the last
  std::vector<Micros> time;
  std::vector<uint32_t> event;
};

// Event ids: 0 page_view, 1 signup, 2 trial_started, 3 purchase, 4..29 others.
Persons make_persons(size_t persons) {
  std::mt19937_64 rng(3);
  Persons p;
  const Micros start = 1767225600LL * kMicrosPerSecond;  // 2026-01-01
  for (size_t k = 0; k < persons; ++k) {
    p.begin.push_back(p.time.size());
    size_t n = 1;
    while (n < 200 && rng() % 20 != 0) ++n;  // geometric, mean 20
    const bool signs = rng() % 100 < 19, trials = signs && rng() % 100 < 44, buys = trials && rng() % 100 < 15;
    const size_t at_signup = rng() % n, at_trial = at_signup + rng() % (n - at_signup), at_buy = at_trial + rng() % (n - at_trial);
    Micros t = start + static_cast<Micros>(rng() % (86400ULL * 170)) * kMicrosPerSecond;
    for (size_t i = 0; i < n; ++i) {
      const uint64_t r = rng() % 100;
      uint32_t e = r < 35 ? 0 : 4 + static_cast<uint32_t>(r % 26);
      if (signs && i == at_signup) e = 1;
      if (trials && i == at_trial && i != at_signup) e = 2;
      if (buys && i == at_buy && i != at_trial) e = 3;
      t += static_cast<Micros>(rng() % 2 ? rng() % 600000 : rng() % 86400000) * 1000;
      p.time.push_back(t);
      p.event.push_back(e);
    }
  }
  p.begin.push_back(p.time.size());
  return p;
}

void BM_FunnelKernel(benchmark::State& state) {
  const Persons persons = make_persons(3300);
  CompiledFunnel f;
  for (const char* name : {"page_view", "signup", "trial_started", "purchase"}) {
    Step step;
    EventDef def;
    def.event = name;
    step.any_of.push_back(def);
    f.spec.steps.push_back(step);
    CompiledDef d;
    d.event = static_cast<uint32_t>(f.steps.size());
    d.known = true;
    f.steps.push_back({d});
  }
  index_events(f, 30);
  f.spec.window = 7 * kMicrosPerDay;
  f.spec.from = 1767225600LL * kMicrosPerSecond;
  f.spec.to = f.spec.from + 181 * kMicrosPerDay;
  std::vector<std::vector<Cell>> cells;
  for (auto _ : state) {
    FunnelKernel kernel(f);
    for (int rep = 0; rep < 50; ++rep)
      for (size_t k = 0; k + 1 < persons.begin.size(); ++k) {
        const size_t b = persons.begin[k];
        kernel.add(PersonView{static_cast<uint32_t>(k), persons.begin[k + 1] - b, persons.time.data() + b,
                              persons.event.data() + b, &cells, b});
      }
    benchmark::DoNotOptimize(kernel);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * 50 * persons.time.size()));
}
BENCHMARK(BM_FunnelKernel)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace cairn::query

BENCHMARK_MAIN();
