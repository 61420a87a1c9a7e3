// Funnel kernel tests: a brute-force reference (enumerate every path of
// every attempt, pick by the written rules) against the engine on thousands
// of random journeys and random funnels, every order mode, optional steps,
// branches, property filters, windows and ranges.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>

#include "query/funnel.h"

namespace cairn::query {
namespace funnel_test {

struct Journey {
  std::vector<Micros> time;
  std::vector<uint32_t> event;
  std::vector<std::vector<Cell>> cells;  // one key: a string id 0..2 or absent
  PersonView view() const { return PersonView{0, time.size(), time.data(), event.data(), &cells}; }
};

// ---- the reference: short and obviously right ----

bool matches(const CompiledFunnel& f, const Journey& j, size_t i, size_t step) {
  for (const CompiledDef& d : f.steps[step]) {
    if (!d.known || d.event != j.event[i]) continue;
    bool ok = true;
    for (const CompiledFilter& cf : d.where) ok = ok && cf.pass(j.cells[cf.key][i]);
    if (ok) return true;
  }
  return false;
}

struct Path {
  int reached = 0;
  std::vector<int> idx;  // per step: event index, or -1 when not passed
};

// Path a is preferred to b: further, then step by step: passed before
// skipped, earlier event before later.
bool better(const Path& a, const Path& b) {
  if (a.reached != b.reached) return a.reached > b.reached;
  for (size_t k = 1; k < a.idx.size(); ++k) {
    if ((a.idx[k] >= 0) != (b.idx[k] >= 0)) return a.idx[k] >= 0;
    if (a.idx[k] != b.idx[k]) return a.idx[k] < b.idx[k];
  }
  return false;
}

// Every path from step k on (ordered/strict): pick any valid event, skip an
// optional step, or stop.
void enumerate(const CompiledFunnel& f, const Journey& j, size_t entry, size_t k, int last, Path cur,
               std::vector<Path>& out) {
  const size_t s = f.steps.size();
  // Stopping here: reached is the last passed step.
  Path stop = cur;
  for (size_t m = k; m < s; ++m) stop.idx[m] = -1;
  stop.reached = 0;
  for (size_t m = 0; m < s; ++m)
    if (stop.idx[m] >= 0) stop.reached = static_cast<int>(m);
  out.push_back(stop);
  if (k == s) return;
  for (size_t i = static_cast<size_t>(last) + 1; i < j.time.size(); ++i) {
    if (f.spec.order == Order::kStrict && i != static_cast<size_t>(last) + 1) break;
    if (j.time[i] - j.time[entry] > f.spec.window) break;
    if (!matches(f, j, i, k)) continue;
    Path next = cur;
    next.idx[k] = static_cast<int>(i);
    enumerate(f, j, entry, k + 1, static_cast<int>(i), next, out);
  }
  if (f.spec.steps[k].optional) {
    Path next = cur;
    next.idx[k] = -1;
    enumerate(f, j, entry, k + 1, last, next, out);
  }
}

PersonFunnel reference(const CompiledFunnel& f, const Journey& j) {
  const size_t s = f.steps.size();
  PersonFunnel best;
  for (size_t e = 0; e < j.time.size(); ++e) {
    if (!matches(f, j, e, 0) || j.time[e] < f.spec.from || j.time[e] >= f.spec.to) continue;
    Path chosen;
    chosen.idx.assign(s, -1);
    chosen.idx[0] = static_cast<int>(e);
    if (f.spec.order == Order::kAny) {
      for (size_t k = 1; k < s; ++k)
        for (size_t i = e + 1; i < j.time.size() && j.time[i] - j.time[e] <= f.spec.window; ++i)
          if (matches(f, j, i, k)) {
            chosen.idx[k] = static_cast<int>(i);
            break;
          }
      chosen.reached = 0;
      for (size_t k = 1; k < s; ++k) {
        if (chosen.idx[k] < 0 && !f.spec.steps[k].optional) break;
        if (chosen.idx[k] >= 0) chosen.reached = static_cast<int>(k);
      }
      for (size_t k = static_cast<size_t>(chosen.reached) + 1; k < s; ++k) chosen.idx[k] = -1;
    } else {
      std::vector<Path> paths;
      enumerate(f, j, e, 1, static_cast<int>(e), chosen, paths);
      chosen = paths[0];
      for (const Path& p : paths)
        if (better(p, chosen)) chosen = p;
    }
    // Exclusions: an excluded event (other than the attempt's own step
    // events) strictly between the events of steps `from` and `to` (or the
    // last step passed) stops the attempt at `from`.
    for (const CompiledExclusion& x : f.exclusions) {
      if (chosen.reached <= static_cast<int>(x.from) || chosen.idx[x.from] < 0) continue;
      const int end = chosen.idx[x.to] >= 0 ? chosen.idx[x.to] : chosen.idx[static_cast<size_t>(chosen.reached)];
      bool hit = false;
      for (int m = chosen.idx[x.from] + 1; m < end && !hit; ++m) {
        if (std::find(chosen.idx.begin(), chosen.idx.end(), m) != chosen.idx.end()) continue;
        bool ok = x.def.known && x.def.event == j.event[static_cast<size_t>(m)];
        for (const CompiledFilter& cf : x.def.where) ok = ok && cf.pass(j.cells[cf.key][static_cast<size_t>(m)]);
        hit = ok;
      }
      if (hit) {
        chosen.reached = static_cast<int>(x.from);
        for (size_t k = x.from + 1; k < s; ++k) chosen.idx[k] = -1;
      }
    }
    if (chosen.reached > best.reached) {
      best.reached = chosen.reached;
      best.passed = 0;
      for (size_t k = 0; k < s; ++k)
        if (chosen.idx[k] >= 0) {
          best.passed |= 1u << k;
          best.times[k] = j.time[static_cast<size_t>(chosen.idx[k])];
        }
    }
  }
  return best;
}

// ---- random cases ----

CompiledFunnel random_funnel(std::mt19937_64& rng) {
  CompiledFunnel f;
  f.plan.keys = {0};
  const size_t steps = 2 + rng() % 3;
  for (size_t k = 0; k < steps; ++k) {
    Step step;
    std::vector<CompiledDef> defs;
    const size_t branches = rng() % 4 == 0 ? 2 : 1;
    for (size_t b = 0; b < branches; ++b) {
      EventDef def;
      CompiledDef d;
      d.event = static_cast<uint32_t>(rng() % 4);
      d.known = rng() % 20 != 0;
      def.event = "e" + std::to_string(d.event);
      if (rng() % 3 == 0) {  // where: key 0 eq / neq a string id, or exists
        CompiledFilter cf;
        cf.key = 0;
        const int kind = static_cast<int>(rng() % 3);
        cf.op = kind == 0 ? Op::kEq : kind == 1 ? Op::kNeq : Op::kExists;
        cf.strings.assign(3, 0);
        cf.strings[rng() % 3] = 1;
        d.where.push_back(cf);
      }
      step.any_of.push_back(def);
      defs.push_back(d);
    }
    step.optional = k > 0 && k + 1 < steps && rng() % 3 == 0;
    f.spec.steps.push_back(step);
    f.steps.push_back(defs);
  }
  index_events(f, 4);
  for (const Step& st : f.spec.steps) f.has_optional = f.has_optional || st.optional;
  if (rng() % 3 == 0) {  // an exclusion between two steps
    CompiledExclusion x;
    x.def.event = static_cast<uint32_t>(rng() % 4);
    x.def.known = true;
    x.from = rng() % (steps - 1);
    x.to = x.from + 1 + rng() % (steps - 1 - x.from);
    f.exclusions.push_back(x);
  }
  f.spec.window = static_cast<Micros>(1 + rng() % 40) * kMicrosPerSecond;
  f.spec.order = static_cast<Order>(rng() % 3);
  if (rng() % 2) {
    f.spec.from = static_cast<Micros>(rng() % 20) * kMicrosPerSecond;
    f.spec.to = f.spec.from + static_cast<Micros>(1 + rng() % 40) * kMicrosPerSecond;
  }
  return f;
}

Journey random_journey(std::mt19937_64& rng) {
  Journey j;
  const size_t n = 1 + rng() % 9;
  Micros t = static_cast<Micros>(rng() % 10) * kMicrosPerSecond;
  j.cells.resize(1);
  for (size_t i = 0; i < n; ++i) {
    if (rng() % 3) t += static_cast<Micros>(rng() % 15) * kMicrosPerSecond;  // equal times too
    j.time.push_back(t);
    j.event.push_back(static_cast<uint32_t>(rng() % 4));
    Cell c;
    if (rng() % 4) c = Cell{true, ValueType::kString, rng() % 3};
    j.cells[0].push_back(c);
  }
  return j;
}

TEST(Funnel, EngineMatchesBruteForceOnRandomJourneys) {
  std::mt19937_64 rng(20261125);
  size_t entered = 0, converted = 0, with_optional = 0, excluded = 0;
  for (int round = 0; round < 3000; ++round) {
    const CompiledFunnel f = random_funnel(rng);
    for (int person = 0; person < 10; ++person) {
      const Journey j = random_journey(rng);
      const PersonFunnel got = evaluate(f, j.view());
      const PersonFunnel want = reference(f, j);
      ASSERT_EQ(got.reached, want.reached) << "round " << round << " person " << person;
      ASSERT_EQ(got.passed, want.passed) << "round " << round << " person " << person;
      for (size_t k = 0; k < f.steps.size(); ++k)
        if (want.passed >> k & 1) {
          ASSERT_EQ(got.times[k], want.times[k]) << "round " << round << " step " << k;
        }
      entered += want.reached >= 0;
      if (!f.exclusions.empty()) {  // count persons an exclusion stopped short
        CompiledFunnel no_ex = f;
        no_ex.exclusions.clear();
        excluded += reference(no_ex, j).reached > want.reached;
      }
      converted += want.reached == static_cast<int>(f.steps.size()) - 1;
      for (size_t k = 1; k + 1 < f.steps.size(); ++k) with_optional += f.spec.steps[k].optional && (want.passed >> k & 1);
    }
  }
  // The random cases exercise the interesting paths, not only empty funnels.
  EXPECT_GT(entered, 5000u);
  EXPECT_GT(converted, 1000u);
  EXPECT_GT(with_optional, 200u);
  EXPECT_GT(excluded, 100u);
}

// SEMANTICS.md's worked example: A -> B -> C, window 1 h.
TEST(Funnel, WorkedExampleOfSemantics) {
  CompiledFunnel f;
  f.plan.keys = {};
  for (uint32_t e = 0; e < 3; ++e) {
    Step s;
    s.any_of.push_back(EventDef{std::string(1, static_cast<char>('A' + e)), {}});
    f.spec.steps.push_back(s);
    f.steps.push_back({CompiledDef{e, true, {}}});
  }
  index_events(f, 3);
  f.spec.window = 3600 * kMicrosPerSecond;
  auto person = [](std::vector<std::pair<char, int>> evs) {
    Journey j;
    for (auto [e, minute] : evs) {
      j.time.push_back(minute * 60 * kMicrosPerSecond);
      j.event.push_back(static_cast<uint32_t>(e - 'A'));
    }
    return j;
  };
  const Journey p1 = person({{'A', 0}, {'B', 10}, {'C', 50}});
  const Journey p2 = person({{'A', 0}, {'C', 5}, {'B', 20}});
  const Journey p3 = person({{'A', 0}, {'B', 30}, {'A', 40}, {'B', 50}, {'C', 90}});
  const Journey p4 = person({{'B', 0}});
  EXPECT_EQ(evaluate(f, p1.view()).reached, 2);
  EXPECT_EQ(evaluate(f, p2.view()).reached, 1);
  const PersonFunnel r3 = evaluate(f, p3.view());
  EXPECT_EQ(r3.reached, 2);
  EXPECT_EQ(r3.times[0], 40 * 60 * kMicrosPerSecond);  // the second attempt counts
  EXPECT_EQ(evaluate(f, p4.view()).reached, -1);
  f.spec.order = Order::kAny;
  EXPECT_EQ(evaluate(f, p2.view()).reached, 2);
}

}  // namespace funnel_test
}  // namespace cairn::query
