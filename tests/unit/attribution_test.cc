// Attribution models against SEMANTICS.md's worked examples and the
// published ones it quotes (Adobe's time-decay dollars, ChannelAttribution's
// two Markov examples, the Shapley example), plus properties on random
// journeys: every model's credits add up to the conversions and the value.
#include <gtest/gtest.h>

#include <random>

#include "query/attribution.h"

namespace cairn::query {
namespace attribution_test {

std::vector<TouchInfo> touches(size_t n) { return std::vector<TouchInfo>(n); }

void expect_weights(const std::vector<double>& got, const std::vector<double>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-12) << "touch " << i;
}

std::vector<double> w(Model m, size_t n, Milestones ms = {}) { return rule_weights(m, touches(n), ms, 0, kMicrosPerDay, false); }

TEST(Attribution, SingleTouchModels) {
  expect_weights(w(Model::kFirst, 3), {1, 0, 0});
  expect_weights(w(Model::kLast, 3), {0, 0, 1});
  expect_weights(w(Model::kLinear, 4), {0.25, 0.25, 0.25, 0.25});
  std::vector<TouchInfo> t(3);
  t[2].direct = true;
  expect_weights(rule_weights(Model::kLastNonDirect, t, {}, 0, kMicrosPerDay, false), {0, 1, 0});
  for (TouchInfo& x : t) x.direct = true;  // all direct: the last
  expect_weights(rule_weights(Model::kLastNonDirect, t, {}, 0, kMicrosPerDay, false), {0, 0, 1});
}

// 1, 2, 3 and 5 touches of the position models (SEMANTICS.md: a role without
// a touch drops out and the rest renormalise; shared roles add up).
TEST(Attribution, PositionModelsWithOneTwoThreeAndFiveTouches) {
  expect_weights(w(Model::kUShaped, 1), {1});
  expect_weights(w(Model::kUShaped, 2), {0.5, 0.5});
  expect_weights(w(Model::kUShaped, 3), {0.4, 0.2, 0.4});
  expect_weights(w(Model::kUShaped, 5), {0.4, 0.2 / 3, 0.2 / 3, 0.2 / 3, 0.4});
  expect_weights(w(Model::kJShaped, 1), {1});
  expect_weights(w(Model::kJShaped, 2), {0.25, 0.75});  // as Adobe publishes
  expect_weights(w(Model::kJShaped, 3), {0.2, 0.2, 0.6});
  expect_weights(w(Model::kJShaped, 5), {0.2, 0.2 / 3, 0.2 / 3, 0.2 / 3, 0.6});
  expect_weights(w(Model::kInverseJ, 2), {0.75, 0.25});
  expect_weights(w(Model::kInverseJ, 3), {0.6, 0.2, 0.2});
  expect_weights(w(Model::kInverseJ, 5), {0.6, 0.2 / 3, 0.2 / 3, 0.2 / 3, 0.2});
}

TEST(Attribution, MilestoneModels) {
  // W with 5 touches, lead at t2, opportunity at t4 -> .30 .30 .05 .30 .05.
  expect_weights(w(Model::kWShaped, 5, {1, 3, -1}), {0.30, 0.30, 0.05, 0.30, 0.05});
  // Full path, 3 touches, lead t1, opportunity t2, won t3 -> .50 .25 .25.
  expect_weights(w(Model::kFullPath, 3, {0, 1, 2}), {0.5, 0.25, 0.25});
  // W without milestones: first .3 and others .1 (4 touches: .1/3 each) -> renormalised by .4.
  expect_weights(w(Model::kWShaped, 4), {0.75, 0.25 / 3, 0.25 / 3, 0.25 / 3});
  // One touch holding every role.
  expect_weights(w(Model::kFullPath, 1, {0, 0, 0}), {1});
  // Lead and opportunity on the same touch: .3 + .3 there, first .3, two others .05 each.
  expect_weights(w(Model::kWShaped, 4, {2, 2, -1}), {0.3, 0.05, 0.6, 0.05});
  // Full path, 5 touches, lead t2, opportunity t3, won t5: .225 x4, others (t4) .1.
  expect_weights(w(Model::kFullPath, 5, {1, 2, 4}), {0.225, 0.225, 0.225, 0.1, 0.225});
}

// Every rule-based model with 1, 2, 3 and 5 touches, worked by hand.
TEST(Attribution, EveryRuleModelWithOneTwoThreeAndFiveTouches) {
  const double t = 1.0 / 3, f = 0.2 / 3;
  struct Case {
    Model m;
    Milestones ms;
    std::vector<std::vector<double>> want;  // for 1, 2, 3 and 5 touches
  };
  const std::vector<Case> cases = {
      {Model::kFirst, {}, {{1}, {1, 0}, {1, 0, 0}, {1, 0, 0, 0, 0}}},
      {Model::kLast, {}, {{1}, {0, 1}, {0, 0, 1}, {0, 0, 0, 0, 1}}},
      {Model::kLastNonDirect, {}, {{1}, {0, 1}, {0, 0, 1}, {0, 0, 0, 0, 1}}},  // no direct touch: the last
      {Model::kLinear, {}, {{1}, {0.5, 0.5}, {t, t, t}, {0.2, 0.2, 0.2, 0.2, 0.2}}},
      {Model::kUShaped, {}, {{1}, {0.5, 0.5}, {0.4, 0.2, 0.4}, {0.4, f, f, f, 0.4}}},
      {Model::kJShaped, {}, {{1}, {0.25, 0.75}, {0.2, 0.2, 0.6}, {0.2, f, f, f, 0.6}}},
      {Model::kInverseJ, {}, {{1}, {0.75, 0.25}, {0.6, 0.2, 0.2}, {0.6, f, f, f, 0.2}}},
      // W without milestones: first .3, others .1 split, renormalised by .4.
      {Model::kWShaped, {}, {{1}, {0.75, 0.25}, {0.75, 0.125, 0.125}, {0.75, 0.0625, 0.0625, 0.0625, 0.0625}}},
      // Full path without milestones: first .225, others .1 split, renormalised by .325.
      {Model::kFullPath,
       {},
       {{1}, {0.225 / 0.325, 0.1 / 0.325}, {0.225 / 0.325, 0.05 / 0.325, 0.05 / 0.325}, {0.225 / 0.325, 0.025 / 0.325, 0.025 / 0.325, 0.025 / 0.325, 0.025 / 0.325}}},
  };
  const size_t sizes[] = {1, 2, 3, 5};
  for (const Case& c : cases)
    for (size_t k = 0; k < 4; ++k) {
      SCOPED_TRACE(std::string(model_name(c.m)) + " with " + std::to_string(sizes[k]) + " touches");
      expect_weights(w(c.m, sizes[k], c.ms), c.want[k]);
    }
  // W with lead and opportunity on touches 2 and 3 of 3: a third each (no others).
  expect_weights(w(Model::kWShaped, 3, {1, 2, -1}), {t, t, t});
  // Time decay, half-life 1 h, touches 1 h apart ending 1 h before the
  // conversion: weights 2^-k, normalised.
  const Micros hour = 3600 * kMicrosPerSecond;
  for (size_t n : {1, 2, 3, 5}) {
    std::vector<TouchInfo> ts;
    for (size_t i = 0; i < n; ++i) ts.push_back({-static_cast<Micros>(n - i) * hour});
    std::vector<double> want;
    double total = 0;
    for (size_t i = 0; i < n; ++i) total += std::exp2(-static_cast<double>(n - i));
    for (size_t i = 0; i < n; ++i) want.push_back(std::exp2(-static_cast<double>(n - i)) / total);
    expect_weights(rule_weights(Model::kTimeDecay, ts, {}, 0, hour, false), want);
  }
  // n = 5 by hand: 1/31, 2/31, 4/31, 8/31, 16/31.
  std::vector<TouchInfo> five;
  for (int i = 5; i >= 1; --i) five.push_back({-i * hour});
  expect_weights(rule_weights(Model::kTimeDecay, five, {}, 0, hour, false), {1.0 / 31, 2.0 / 31, 4.0 / 31, 8.0 / 31, 16.0 / 31});
}

// Adobe's example: touches 9, 6, 0 and 0 days before a $50 purchase, half-life
// 7 days, whole days -> $6.92, $9.32, $16.88, $16.88.
TEST(Attribution, TimeDecayAdobeExample) {
  const Micros conv = 20 * kMicrosPerDay + 15 * 3600 * kMicrosPerSecond;
  std::vector<TouchInfo> t = {{conv - 9 * kMicrosPerDay}, {conv - 6 * kMicrosPerDay}, {conv - 3600 * kMicrosPerSecond}, {conv}};
  const std::vector<double> weights = rule_weights(Model::kTimeDecay, t, {}, conv, 7 * kMicrosPerDay, true);
  EXPECT_NEAR(50 * weights[0], 6.92, 0.005);
  EXPECT_NEAR(50 * weights[1], 9.32, 0.005);
  EXPECT_NEAR(50 * weights[2], 16.88, 0.005);
  EXPECT_NEAR(50 * weights[3], 16.88, 0.005);
  // Exact time: a touch one half-life earlier weighs half.
  const std::vector<double> exact =
      rule_weights(Model::kTimeDecay, {{conv - 7 * kMicrosPerDay}, {conv}}, {}, conv, 7 * kMicrosPerDay, false);
  EXPECT_NEAR(exact[0], 1.0 / 3, 1e-12);
  EXPECT_NEAR(exact[1], 2.0 / 3, 1e-12);
}

Journey journey(std::vector<uint32_t> t, bool converted, double value = 1) { return Journey{std::move(t), converted, value, 1}; }

// Touches thousands of half-lives old: each 2^(-age / half-life) is 0 in a
// double, but the weights are relative, so they still sum to 1 (were 0 / 0,
// NaN). A half-life of 1 s: ages 3 h and 2 h, the younger gets it all; ages
// 10,000 s and 10,001 s, 2/3 and 1/3.
TEST(Attribution, TimeDecayOfVeryOldTouches) {
  const Micros hour = 3600 * kMicrosPerSecond;
  const std::vector<double> w = rule_weights(Model::kTimeDecay, {{0}, {hour}}, {}, 3 * hour, kMicrosPerSecond, false);
  EXPECT_EQ(w[0], 0.0);
  EXPECT_EQ(w[1], 1.0);
  const Micros conv2 = 20000 * kMicrosPerSecond;
  const std::vector<double> w2 = rule_weights(Model::kTimeDecay, {{9999 * kMicrosPerSecond}, {10000 * kMicrosPerSecond}}, {}, conv2,
                                              kMicrosPerSecond, false);
  EXPECT_NEAR(w2[0], 1.0 / 3, 1e-12);
  EXPECT_NEAR(w2[1], 2.0 / 3, 1e-12);
  // In whole days: touches 2,000 and 1,999 days before, half-life 1 day.
  const Micros conv3 = 3000 * kMicrosPerDay;
  const std::vector<double> w3 = rule_weights(Model::kTimeDecay, {{1000 * kMicrosPerDay}, {1001 * kMicrosPerDay}}, {}, conv3,
                                              kMicrosPerDay, true);
  EXPECT_NEAR(w3[0], 1.0 / 3, 1e-12);
  EXPECT_NEAR(w3[1], 2.0 / 3, 1e-12);
}

// ChannelAttribution: C1>C2>C3 (1 conversion), C1 (null), C2>C3 (null):
// removal effects 0.5 / 1 / 1, conversions 0.2 / 0.4 / 0.4.
TEST(Attribution, MarkovFirstPublishedExample) {
  const std::vector<Journey> js = {journey({1, 2, 3}, true), journey({1}, false), journey({2, 3}, false)};
  const MarkovResult r = markov(js, 4, 1);
  EXPECT_NEAR(r.removal[1], 0.5, 1e-12);
  EXPECT_NEAR(r.removal[2], 1.0, 1e-12);
  EXPECT_NEAR(r.removal[3], 1.0, 1e-12);
  EXPECT_NEAR(r.conversions[1], 0.2, 1e-12);
  EXPECT_NEAR(r.conversions[2], 0.4, 1e-12);
  EXPECT_NEAR(r.conversions[3], 0.4, 1e-12);
}

// A>B>A>B>B>A, A>B>B>A>A, A>A (one conversion each): A 2, B 1.
TEST(Attribution, MarkovSecondPublishedExample) {
  const std::vector<Journey> js = {journey({1, 2, 1, 2, 2, 1}, true), journey({1, 2, 2, 1, 1}, true), journey({1, 1}, true)};
  const MarkovResult r = markov(js, 3, 1);
  EXPECT_NEAR(r.conversions[1], 2.0, 1e-12);
  EXPECT_NEAR(r.conversions[2], 1.0, 1e-12);
  EXPECT_NEAR(r.removal[1], 1.0, 1e-12);
  EXPECT_NEAR(r.removal[2], 0.5, 1e-12);
}

// A small graph worked by hand, with values. Journeys: A>B conv $100,
// A conv $50, B null, A>B null.
//   start -> A 3/4, B 1/4; A -> B 2/3, conv 1/3; B -> conv 1/3, null 2/3.
//   a_B = 1/3, a_A = 1/3 + 2/3 * 1/3 = 5/9; P = 3/4 * 5/9 + 1/4 * 1/3 = 1/2.
//   Without A: P = 1/4 * 1/3 = 1/12 -> RE_A = 5/6. Without B: a_A = 1/3,
//   P = 3/4 * 1/3 = 1/4 -> RE_B = 1/2. Conversions 2 x (5/6, 1/2) / (4/3)
//   = 1.25 and 0.75.
//   Value: m_B = 100 (A>B ends in B), m_A = 50. The expected value from a
//   state, b = r*m + Q b: b_B = 100/3, b_A = 50/3 + 2/3 * 100/3 = 350/9;
//   from the start V = 3/4 * 350/9 + 1/4 * 100/3 = 37.5 (= 150 / 4
//   journeys). Without A: V = 1/4 * 100/3 = 25/3 -> RE^V_A = 1 - 2/9 = 7/9.
//   Without B: b_A = 50/3, V = 12.5 -> RE^V_B = 2/3. Value 150 x (7/13, 6/13).
TEST(Attribution, MarkovSmallGraphByHand) {
  const std::vector<Journey> js = {journey({1, 2}, true, 100), journey({1}, true, 50), journey({2}, false),
                                   journey({1, 2}, false)};
  const MarkovResult r = markov(js, 3, 1);
  EXPECT_NEAR(r.removal[1], 5.0 / 6, 1e-12);
  EXPECT_NEAR(r.removal[2], 0.5, 1e-12);
  EXPECT_NEAR(r.conversions[1], 1.25, 1e-12);
  EXPECT_NEAR(r.conversions[2], 0.75, 1e-12);
  EXPECT_NEAR(r.value_removal[1], 7.0 / 9, 1e-12);
  EXPECT_NEAR(r.value_removal[2], 2.0 / 3, 1e-12);
  EXPECT_NEAR(r.value[1], 150.0 * 7 / 13, 1e-9);
  EXPECT_NEAR(r.value[2], 150.0 * 6 / 13, 1e-9);
}

// When every conversion is worth the same, the value-weighted removal
// effects are the plain ones, so each channel's value is its conversions
// times that worth (the published first example, with $10 a conversion:
// 2 / 4 / 4, not all of it to the last channel). Also on random journeys,
// orders 1 to 3.
TEST(Attribution, MarkovEqualValuesCreditValueAsConversions) {
  const MarkovResult r = markov({journey({1, 2, 3}, true, 10), journey({1}, false), journey({2, 3}, false)}, 4, 1);
  EXPECT_NEAR(r.value[1], 2.0, 1e-9);
  EXPECT_NEAR(r.value[2], 4.0, 1e-9);
  EXPECT_NEAR(r.value[3], 4.0, 1e-9);
  std::mt19937_64 rng(5);
  for (int round = 0; round < 30; ++round) {
    std::vector<Journey> js;
    for (int i = 0; i < 100; ++i) {
      std::vector<uint32_t> t;
      for (size_t k = 0, n = 1 + rng() % 5; k < n; ++k) t.push_back(1 + static_cast<uint32_t>(rng() % 4));
      js.push_back(journey(t, rng() % 3 == 0, 25));
    }
    const MarkovResult m = markov(js, 5, 1 + static_cast<size_t>(round % 3));
    for (size_t c = 1; c < 5; ++c) {
      EXPECT_NEAR(m.value_removal[c], m.removal[c], 1e-9);
      EXPECT_NEAR(m.value[c], 25 * m.conversions[c], 1e-7);
    }
  }
}

// Order 2: states are pairs; with one path per state the chain is the paths.
TEST(Attribution, MarkovOrderTwoKeepsContext) {
  // A>B converts, C>B does not: in order 1, B converts half the time for
  // both; in order 2, (A,B) always converts and (C,B) never, so removing A
  // loses everything and removing C nothing.
  const std::vector<Journey> js = {journey({1, 2}, true), journey({3, 2}, false)};
  // Order 1: start -> A 1/2, C 1/2; A, C -> B; B -> conv 1/2. P = 1/2;
  // without C, P = 1/4: C's removal effect is 1/2, like A's.
  const MarkovResult r1 = markov(js, 4, 1);
  EXPECT_NEAR(r1.removal[1], 0.5, 1e-12);
  EXPECT_NEAR(r1.removal[3], 0.5, 1e-12);
  // Order 2: (A) -> (A,B) -> conv, (C) -> (C,B) -> null.
  const MarkovResult r2 = markov(js, 4, 2);
  EXPECT_NEAR(r2.removal[1], 1.0, 1e-12);
  EXPECT_NEAR(r2.removal[3], 0.0, 1e-12);
  EXPECT_NEAR(r2.conversions[1] + r2.conversions[2], 1.0, 1e-12);
}

// SEMANTICS.md: sets {a,b}: 2 persons, 1 converts; {a}: 2, 1 converts;
// {b}: 4, 1 converts. For {a,b}: a 3/8, b 1/8 -> 3/4 and 1/4 of that
// conversion; totals a 1.75, b 1.25 of 3 conversions.
TEST(Attribution, ShapleyExample) {
  const uint32_t a = 1, b = 2;
  std::vector<Journey> js = {journey({a, b}, true), journey({b, a}, false), journey({a}, true), journey({a}, false),
                             journey({b}, true),    journey({b}, false),    journey({b}, false), journey({b}, false)};
  const ShapleyResult r = shapley(js, 3, 1000, 1);
  EXPECT_NEAR(r.conversions[a], 1.75, 1e-12);
  EXPECT_NEAR(r.conversions[b], 1.25, 1e-12);
  // The per-set shares the credit export uses: {a,b} -> 3/4, 1/4.
  const std::vector<double>& ab = r.shares.at({a, b});
  EXPECT_NEAR(ab[0], 0.75, 1e-12);
  EXPECT_NEAR(ab[1], 0.25, 1e-12);
  const ShapleyResult s = shapley_simple(js, 3);
  EXPECT_NEAR(s.conversions[a], 1.5, 1e-12);
  EXPECT_NEAR(s.conversions[b], 1.5, 1e-12);
}

// Three channels by hand: rates v(a)=1/2, v(b)=0, v(c)=0, v(ab)=1/2,
// v(ac)=1, v(bc)=1/2, v(abc)=1 (each set 2 journeys).
// phi_a = 1/3(1/2) + 1/6(1/2 - 0) + 1/6(1 - 0) + 1/3(1 - 1/2) = 1/6 + 1/12 + 1/6 + 1/6 = 7/12
// phi_b = 1/3(0) + 1/6(1/2 - 1/2) + 1/6(1/2 - 0) + 1/3(1 - 1) = 1/12
// phi_c = 1/3(0) + 1/6(1 - 1/2) + 1/6(1/2 - 0) + 1/3(1 - 1/2) = 1/12 + 1/12 + 1/6 = 1/3
// (sum 1 = v(abc)); the two {a,b,c} conversions split 7/12, 1/12, 4/12.
TEST(Attribution, ShapleyThreeChannelsByHand) {
  std::vector<Journey> js;
  auto add = [&](std::vector<uint32_t> set, int converted) {
    for (int i = 0; i < 2; ++i) js.push_back(journey(set, i < converted));
  };
  add({1}, 1);
  add({2}, 0);
  add({3}, 0);
  add({1, 2}, 1);
  add({1, 3}, 2);
  add({2, 3}, 1);
  add({1, 2, 3}, 2);
  const ShapleyResult r = shapley(js, 4, 1000, 1);
  // Credited: {a}: a 1. {a,b} (v: a 1/2, b 0 -> phi_a = 1/2(1/2) + 1/2(1/2 - 0) = 1/2, phi_b = 1/2(0) + 1/2(1/2 - 1/2) = 0): a 1.
  // {a,c} x2 (phi_a = 1/2(1/2) + 1/2(1 - 0) = 3/4, phi_c = 1/2(0) + 1/2(1 - 1/2) = 1/4): a 1.5, c 0.5.
  // {b,c} (phi_b = 1/2(0) + 1/2(1/2) = 1/4, phi_c = 1/4): b .5, c .5. {a,b,c} x2: a 7/6, b 1/6, c 2/3.
  EXPECT_NEAR(r.conversions[1], 1 + 1 + 1.5 + 7.0 / 6, 1e-12);
  EXPECT_NEAR(r.conversions[2], 0.5 + 1.0 / 6, 1e-12);
  EXPECT_NEAR(r.conversions[3], 0.5 + 0.5 + 2.0 / 3, 1e-12);
}

// Above 15 channels Shapley samples permutations; with a value function
// that is additive (each channel alone converts with its own rate and sets
// add up) every permutation gives the exact values, so sampling must too.
TEST(Attribution, ShapleySamplesLongJourneys) {
  std::vector<Journey> js;
  std::vector<uint32_t> all;
  for (uint32_t c = 1; c <= 17; ++c) all.push_back(c);
  js.push_back(journey(all, true));
  const ShapleyResult r = shapley(js, 18, 50, 3);
  EXPECT_EQ(r.sampled_journeys, 1u);
  double sum = 0;
  for (uint32_t c = 1; c <= 17; ++c) sum += r.conversions[c];
  EXPECT_NEAR(sum, 1.0, 1e-12);  // v is 0 below the full set: all credit falls on the last player of each permutation
}

// Every model's credits add up to the conversions and the value, on random journeys.
TEST(Attribution, CreditsSumToTotalsOnRandomJourneys) {
  std::mt19937_64 rng(11);
  for (int round = 0; round < 50; ++round) {
    std::vector<Journey> js;
    double conversions = 0, value = 0;
    for (int i = 0; i < 200; ++i) {
      std::vector<uint32_t> t;
      const size_t n = 1 + rng() % 6;
      for (size_t k = 0; k < n; ++k) t.push_back(1 + static_cast<uint32_t>(rng() % 5));
      const bool conv = rng() % 3 == 0;
      const double v = static_cast<double>(rng() % 100);
      js.push_back(journey(t, conv, v));
      if (conv) {
        conversions += 1;
        value += v;
      }
    }
    const size_t order = 1 + static_cast<size_t>(round % 3);
    const MarkovResult m = markov(js, 6, order);
    const ShapleyResult s = shapley(js, 6, 100, 1);
    const ShapleyResult ss = shapley_simple(js, 6);
    double mc = 0, mv = 0, sc = 0, sv = 0, ssc = 0, ssv = 0;
    for (size_t c = 0; c < 6; ++c) {
      mc += m.conversions[c];
      mv += m.value[c];
      sc += s.conversions[c];
      sv += s.value[c];
      ssc += ss.conversions[c];
      ssv += ss.value[c];
    }
    EXPECT_NEAR(mc, conversions, 1e-9);
    EXPECT_NEAR(mv, value, 1e-6);
    EXPECT_NEAR(sc, conversions, 1e-9);
    EXPECT_NEAR(sv, value, 1e-6);
    EXPECT_NEAR(ssc, conversions, 1e-9);
    EXPECT_NEAR(ssv, value, 1e-6);
    for (Model model : {Model::kFirst, Model::kLast, Model::kLinear, Model::kUShaped, Model::kJShaped, Model::kInverseJ,
                        Model::kWShaped, Model::kFullPath, Model::kTimeDecay}) {
      const size_t n = 1 + rng() % 6;
      std::vector<TouchInfo> t(n);
      for (size_t k = 0; k < n; ++k) t[k].time = static_cast<Micros>(rng() % 1000) * kMicrosPerSecond;
      std::sort(t.begin(), t.end(), [](const TouchInfo& a, const TouchInfo& b) { return a.time < b.time; });
      Milestones ms{static_cast<int>(rng() % (n + 1)) - 1, static_cast<int>(rng() % (n + 1)) - 1, static_cast<int>(rng() % (n + 1)) - 1};
      const std::vector<double> weights = rule_weights(model, t, ms, 1000 * kMicrosPerSecond, 100 * kMicrosPerSecond, false);
      double total = 0;
      for (double x : weights) {
        EXPECT_GE(x, 0);
        total += x;
      }
      EXPECT_NEAR(total, 1.0, 1e-12) << model_name(model);
    }
  }
}

// The kernel credits a conversion per value (rule_credits_into, O(touches));
// the per-touch weights, added up by value, are the reference.
TEST(Attribution, CreditsPerValueEqualTheWeightsAddedUp) {
  std::mt19937_64 rng(11);
  for (int round = 0; round < 3000; ++round) {
    const size_t n = 1 + rng() % 12;
    const size_t values = 1 + rng() % std::min<size_t>(n, 5);
    std::vector<TouchInfo> t(n);
    std::vector<uint32_t> local(n), count(values, 0);
    for (size_t k = 0; k < n; ++k) {
      t[k].time = static_cast<Micros>(rng() % 100000) * kMicrosPerSecond;
      t[k].direct = rng() % 3 == 0;
      local[k] = k < values ? static_cast<uint32_t>(k) : static_cast<uint32_t>(rng() % values);  // every value used
    }
    std::sort(t.begin(), t.end(), [](const TouchInfo& a, const TouchInfo& b) { return a.time < b.time; });
    for (uint32_t v : local) ++count[v];
    auto milestone = [&] { return rng() % 3 == 0 ? -1 : static_cast<int>(rng() % n); };
    Milestones ms{milestone(), milestone(), milestone()};
    if (rng() % 4 == 0) ms.opportunity = ms.lead;  // coinciding milestones
    const Micros conv = 100000 * kMicrosPerSecond;
    const bool days = rng() % 2 == 0;
    for (Model model : {Model::kFirst, Model::kLast, Model::kLastNonDirect, Model::kLinear, Model::kUShaped, Model::kJShaped,
                        Model::kInverseJ, Model::kWShaped, Model::kFullPath, Model::kTimeDecay}) {
      const std::vector<double> weights = rule_weights(model, t, ms, conv, 3600 * kMicrosPerSecond, days);
      std::vector<double> want(values, 0.0), got(values, -1.0);
      for (size_t k = 0; k < n; ++k) want[local[k]] += weights[k];
      rule_credits_into(model, t, local.data(), count.data(), values, ms, conv, 3600 * kMicrosPerSecond, days, got.data());
      for (size_t v = 0; v < values; ++v)
        ASSERT_NEAR(got[v], want[v], 1e-12) << model_name(model) << " round " << round << " value " << v << " of " << n << " touches";
    }
  }
}

}  // namespace attribution_test
}  // namespace cairn::query
