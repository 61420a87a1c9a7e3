// Multi-touch attribution, as SEMANTICS.md ("Attribution") defines it: each
// conversion's touchpoints are the person's touchpoint events within the
// lookback before it (after their previous conversion, by default); rule-based
// models weight those touches; the data-driven models (Markov chain removal
// effects, Shapley values) learn from every journey, converting or not.
// docs/QUERY.md documents the query and the answer.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "query/common.h"
#include "query/scan.h"
#include "query/spec.h"
#include "storage/catalog.h"

namespace cairn::query {

enum class Model {
  kFirst,
  kLast,
  kLastNonDirect,
  kLinear,
  kUShaped,
  kJShaped,
  kInverseJ,
  kWShaped,
  kFullPath,
  kTimeDecay,
  kMarkov,
  kShapley,
  kShapleySimple,
};
constexpr size_t kModels = 13;
const char* model_name(Model m);
inline bool is_rule_based(Model m) { return m <= Model::kTimeDecay; }

struct AttributionSpec {
  Micros from = INT64_MIN, to = INT64_MAX;  // half-open range of the conversions
  std::vector<EventDef> conversion;  // any of these events is a conversion
  std::string value_property;           // "": each conversion is worth 1
  std::vector<EventDef> touch_events;   // empty: every event with a value of the dimension
  std::string dimension = "channel";
  // For the channel dimension: "property" (the events' channel property),
  // "rules" (derived by the database's channel rules from utm_* / referrer),
  // or "property_or_rules" (the default: the property, else the rules).
  std::string channel_from = "property_or_rules";
  Micros lookback = 90 * kMicrosPerDay;
  bool since_previous = true;  // touches before the person's previous conversion do not count
  std::vector<Model> models;
  std::optional<EventDef> lead, opportunity, won, mql;
  Micros half_life = 7 * kMicrosPerDay;
  bool decay_days = false;  // time decay counts whole UTC days (Adobe) instead of exact time
  size_t markov_order = 1;
  size_t bootstrap = 0;  // resamples of persons for the data-driven models' 95% intervals
  uint64_t seed = 1;
  size_t shapley_samples = 1000;  // permutations per journey above 15 channels
  std::string channel_property = "channel";  // what last_non_direct reads for "direct"
  std::vector<Filter> event_filters;
  std::vector<Filter> trait_filters;
  bool credits = false;  // keep every conversion's credits (for the CSV export)
};

Result<AttributionSpec> parse_attribution(const nlohmann::json& doc);

// The answer, and (when spec.credits) the per-conversion credit rows as CSV.
struct AttributionAnswer {
  nlohmann::json json;
  std::string credits_csv;
  double scan_seconds = 0, model_seconds = 0, bootstrap_seconds = 0;  // where the time went
};

Result<AttributionAnswer> run_attribution(const Store& store, const AttributionSpec& spec, unsigned threads);

// The data-driven models on plain journeys, for tests and the engine alike.
struct Journey {
  std::vector<uint32_t> touches;  // dimension value ids, in time order (repeats not yet collapsed)
  bool converted = false;
  double value = 0;      // conversion value (revenue, or 1)
  double weight = 1;     // how many times the journey counts (bootstrap)
};

// Journeys with the same collapsed path (or channel set), added up.
struct PathStat {
  std::vector<uint32_t> touches;
  double journeys = 0, converted = 0, value = 0;  // weighted counts; value of the converting ones
};
// Groups journeys by collapsed path (sets = false) or by set of channels;
// `of` (when given) gets each journey's group (UINT32_MAX: no touches).
std::vector<PathStat> group_journeys(const std::vector<Journey>& journeys, bool sets, std::vector<uint32_t>* of);

struct MarkovResult {
  std::vector<double> removal;        // per value id: removal effect on conversions
  std::vector<double> value_removal;  // per value id: value-weighted removal effect
  std::vector<double> conversions;    // per value id: credited conversions
  std::vector<double> value;          // per value id: credited value
  std::vector<uint8_t> in_chain;      // per value id: 1 when a state of the chain holds it
};
// `values`: the number of distinct value ids.
MarkovResult markov(const std::vector<Journey>& journeys, size_t values, size_t order);
MarkovResult markov_paths(const std::vector<PathStat>& paths, size_t values, size_t order);
// The chain's structure (states, edges, each path's states) does not depend
// on the paths' weights: built once, it is solved for every bootstrap resample.
struct MarkovChain {
  std::vector<std::vector<uint32_t>> states;            // the channels of each state
  std::vector<std::pair<uint32_t, uint32_t>> edges;     // (from, to) states
  std::vector<uint32_t> first, last;                    // per path: its first and last state (UINT32_MAX: none)
  std::vector<uint32_t> edge_at;                        // per path: where its edges start in path_edges (+1 at the end)
  std::vector<uint32_t> path_edges;
};
MarkovChain markov_chain(const std::vector<PathStat>& paths, size_t order);
MarkovResult markov_solve(const MarkovChain& chain, const std::vector<PathStat>& paths, size_t values);

struct ShapleyResult {
  std::vector<double> conversions, value;  // per value id
  uint64_t sampled_journeys = 0;           // converting journeys with more than 15 channels
  // Per converting channel set (sorted value ids): each channel's share of
  // a conversion with that set (in the set's order), for the credit export.
  std::map<std::vector<uint32_t>, std::vector<double>> shares;
};
ShapleyResult shapley(const std::vector<Journey>& journeys, size_t values, size_t samples, uint64_t seed);
ShapleyResult shapley_simple(const std::vector<Journey>& journeys, size_t values);
ShapleyResult shapley_sets(const std::vector<PathStat>& sets, size_t values, size_t samples, uint64_t seed);
ShapleyResult shapley_simple_sets(const std::vector<PathStat>& sets, size_t values);

// Rule-based weights of one conversion's n touches (they sum to 1).
struct TouchInfo {
  Micros time = 0;
  bool direct = false;  // its channel is "direct"
};
struct Milestones {
  int lead = -1, opportunity = -1, won = -1;  // index of the milestone's touch, -1: none
};
// The same into `out` (reused, so the hot loop does not allocate).
void rule_weights_into(Model m, const std::vector<TouchInfo>& touches, const Milestones& ms, Micros conversion_time,
                       Micros half_life, bool decay_days, std::vector<double>& out);
std::vector<double> rule_weights(Model m, const std::vector<TouchInfo>& touches, const Milestones& ms, Micros conversion_time,
                                 Micros half_life, bool decay_days);
// The same weights summed per value: touch k has value local[k] < values,
// count[v] touches have value v, and out[v] (out holds `values` doubles)
// becomes the sum of rule_weights' w[k] over those touches, equal up to
// rounding. In O(touches) without a weight per touch: the scan's kernel adds
// a conversion's credit once per value instead of once per touch and model.
void rule_credits_into(Model m, const std::vector<TouchInfo>& touches, const uint32_t* local, const uint32_t* count,
                       size_t values, const Milestones& ms, Micros conversion_time, Micros half_life, bool decay_days,
                       double* out);

}  // namespace cairn::query
