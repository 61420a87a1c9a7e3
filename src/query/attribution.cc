#include "query/attribution.h"

#include "query/channels.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstring>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

namespace cairn::query {

using nlohmann::json;

namespace {

constexpr const char* kModelNames[kModels] = {"first",     "last",     "last_non_direct", "linear",     "u_shaped",
                                              "j_shaped",  "inverse_j", "w_shaped",        "full_path",  "time_decay",
                                              "markov",    "shapley",  "shapley_simple"};

}  // namespace

const char* model_name(Model m) { return kModelNames[static_cast<size_t>(m)]; }

// ---------------------------------------------------------------- parsing

Result<AttributionSpec> parse_attribution(const json& doc) {
  if (!doc.is_object()) return field_error("query", "expected a JSON object");
  if (!doc.contains("type") || doc["type"] != "attribution") return field_error("type", "expected \"attribution\"");
  AttributionSpec spec;
  CAIRN_RETURN_IF_ERROR(parse_range(doc, spec.from, spec.to));
  CAIRN_RETURN_IF_ERROR(parse_filters(doc, spec.event_filters, spec.trait_filters));
  if (!doc.contains("conversion") || !doc["conversion"].is_object())
    return field_error("conversion", "expected {\"event\": NAME, \"value\": PROPERTY} (value may be left out: each conversion counts 1)");
  const json& c = doc["conversion"];
  CAIRN_RETURN_IF_ERROR(parse_event_defs(c, "conversion", spec.conversion));
  if (c.contains("value")) {
    if (!c["value"].is_string() || c["value"].get<std::string>().empty())
      return field_error("conversion.value", "expected the name of a numeric property such as \"revenue\"");
    spec.value_property = c["value"].get<std::string>();
  }
  if (doc.contains("touchpoint")) {
    const json& t = doc["touchpoint"];
    if (!t.is_object()) return field_error("touchpoint", "expected {\"event\": NAME, \"dimension\": PROPERTY}");
    if (t.contains("dimension")) {
      if (!t["dimension"].is_string() || t["dimension"].get<std::string>().empty())
        return field_error("touchpoint.dimension", "expected a property name such as \"channel\" or \"utm_campaign\"");
      spec.dimension = t["dimension"].get<std::string>();
    }
    if (t.contains("channel_from")) {
      const json& cf = t["channel_from"];
      if (cf != "property" && cf != "rules" && cf != "property_or_rules")
        return field_error("touchpoint.channel_from", "expected \"property\", \"rules\" or \"property_or_rules\"");
      spec.channel_from = cf.get<std::string>();
    }
    if (t.contains("any_of") || t.contains("event")) CAIRN_RETURN_IF_ERROR(parse_event_defs(t, "touchpoint", spec.touch_events));
  }
  if (doc.contains("lookback")) {
    auto d = parse_duration_field(doc["lookback"], "lookback");
    if (!d) return d.status();
    spec.lookback = *d;
  }
  if (doc.contains("before_previous_conversion")) {
    if (!doc["before_previous_conversion"].is_boolean())
      return field_error("before_previous_conversion", "expected true or false");
    spec.since_previous = !doc["before_previous_conversion"].get<bool>();
  }
  if (doc.contains("models")) {
    const json& m = doc["models"];
    if (!m.is_array() || m.empty()) return field_error("models", "expected a non-empty array of model names");
    for (size_t i = 0; i < m.size(); ++i) {
      const std::string name = m[i].is_string() ? m[i].get<std::string>() : "";
      size_t k = 0;
      while (k < kModels && name != kModelNames[k]) ++k;
      if (k == kModels)
        return field_error(fmt::format("models[{}]", i),
                           fmt::format("unknown model {} (expected first, last, last_non_direct, linear, u_shaped, j_shaped, "
                                       "inverse_j, w_shaped, full_path, time_decay, markov, shapley or shapley_simple)",
                                       m[i].dump()));
      if (std::find(spec.models.begin(), spec.models.end(), static_cast<Model>(k)) == spec.models.end())
        spec.models.push_back(static_cast<Model>(k));
    }
  } else {
    for (size_t k = 0; k < kModels; ++k) spec.models.push_back(static_cast<Model>(k));
  }
  if (doc.contains("milestones")) {
    const json& ms = doc["milestones"];
    if (!ms.is_object()) return field_error("milestones", "expected {\"lead\": EVENT, \"opportunity\": EVENT, \"won\": EVENT, \"mql\": EVENT}");
    for (const auto& [name, v] : ms.items()) {
      std::optional<EventDef>* slot = name == "lead"          ? &spec.lead
                                      : name == "opportunity" ? &spec.opportunity
                                      : name == "won"         ? &spec.won
                                      : name == "mql"         ? &spec.mql
                                                              : nullptr;
      if (!slot) return field_error("milestones." + name, "unknown milestone (expected lead, opportunity, won or mql)");
      if (!v.is_object()) return field_error("milestones." + name, "expected an event definition like {\"event\": \"mql\"}");
      auto d = parse_event_def(v, "milestones." + name);
      if (!d) return d.status();
      *slot = std::move(*d);
    }
  }
  if (doc.contains("half_life")) {
    auto d = parse_duration_field(doc["half_life"], "half_life");
    if (!d) return d.status();
    if (*d <= 0) return field_error("half_life", "expected a positive duration");
    spec.half_life = *d;
  }
  if (doc.contains("decay_unit")) {
    const json& u = doc["decay_unit"];
    if (u != "exact" && u != "day") return field_error("decay_unit", "expected \"exact\" or \"day\"");
    spec.decay_days = u == "day";
  }
  auto count = [&](const char* field, size_t lo, size_t hi, size_t& out) -> Status {
    if (!doc.contains(field)) return Status::ok();
    const auto n = whole_number(doc[field], lo, hi);
    if (!n) return field_error(field, fmt::format("expected a whole number from {} to {}", lo, hi));
    out = static_cast<size_t>(*n);
    return Status::ok();
  };
  CAIRN_RETURN_IF_ERROR(count("markov_order", 1, 4, spec.markov_order));
  CAIRN_RETURN_IF_ERROR(count("bootstrap", 0, 10000, spec.bootstrap));
  CAIRN_RETURN_IF_ERROR(count("shapley_samples", 1, 1000000, spec.shapley_samples));
  size_t seed = 1;
  CAIRN_RETURN_IF_ERROR(count("seed", 0, SIZE_MAX, seed));
  spec.seed = seed;
  if (doc.contains("direct_property")) {
    if (!doc["direct_property"].is_string()) return field_error("direct_property", "expected a property name");
    spec.channel_property = doc["direct_property"].get<std::string>();
  }
  return spec;
}

// ---------------------------------------------------------------- rule-based weights

namespace {

// The last touch whose channel is not "direct", or the last touch when all are.
size_t last_non_direct(const std::vector<TouchInfo>& touches) {
  for (size_t i = touches.size(); i-- > 0;)
    if (!touches[i].direct) return i;
  return touches.size() - 1;
}

// A touch's time-decay weight before normalising: 2^(-age / half-life), the
// age counted in whole days when decay_days.
double decay_weight(Micros touch, Micros conversion_time, Micros half_life, bool decay_days) {
  const double dt = decay_days ? static_cast<double>((day_of(conversion_time) - day_of(touch)) * kMicrosPerDay)
                               : static_cast<double>(conversion_time - touch);
  return std::exp2(-dt / static_cast<double>(half_life));
}

// The time of the youngest touch (none: the conversion's).
Micros youngest_touch(const std::vector<TouchInfo>& touches, Micros conversion_time) {
  if (touches.empty()) return conversion_time;
  Micros t = touches[0].time;
  for (const TouchInfo& x : touches) t = std::max(t, x.time);
  return t;
}

}  // namespace

void rule_weights_into(Model m, const std::vector<TouchInfo>& touches, const Milestones& ms, Micros conversion_time,
                       Micros half_life, bool decay_days, std::vector<double>& w) {
  const size_t n = touches.size();
  w.assign(n, 0.0);
  if (n == 0) return;
  // Position models: roles with shares; a role without a touch drops out,
  // a touch with several roles adds their shares, a role over several
  // touches ("middle", "others") splits its share equally; then the weights
  // are renormalised to sum 1.
  double total = 0;
  auto one = [&](int i, double share) {
    if (i < 0) return;
    w[static_cast<size_t>(i)] += share;
    total += share;
  };
  auto middle = [&](double share) {
    if (n <= 2) return;
    for (size_t i = 1; i + 1 < n; ++i) w[i] += share / static_cast<double>(n - 2);
    total += share;
  };
  // "others": the touches holding none of the given roles.
  auto others = [&](std::initializer_list<int> holders, double share) {
    size_t count = 0;
    for (size_t i = 0; i < n; ++i) count += std::find(holders.begin(), holders.end(), static_cast<int>(i)) == holders.end();
    if (count == 0) return;
    for (size_t i = 0; i < n; ++i)
      if (std::find(holders.begin(), holders.end(), static_cast<int>(i)) == holders.end()) w[i] += share / static_cast<double>(count);
    total += share;
  };
  const int last = static_cast<int>(n) - 1;
  switch (m) {
    case Model::kFirst:
      w[0] = 1;
      return;
    case Model::kLast:
      w[n - 1] = 1;
      return;
    case Model::kLastNonDirect:
      w[last_non_direct(touches)] = 1;
      return;
    case Model::kLinear:
      std::fill(w.begin(), w.end(), 1.0 / static_cast<double>(n));
      return;
    case Model::kUShaped:
      one(0, 0.4), one(last, 0.4), middle(0.2);
      break;
    case Model::kJShaped:
      one(0, 0.2), middle(0.2), one(last, 0.6);
      break;
    case Model::kInverseJ:
      one(0, 0.6), middle(0.2), one(last, 0.2);
      break;
    case Model::kWShaped:
      one(0, 0.3), one(ms.lead, 0.3), one(ms.opportunity, 0.3), others({0, ms.lead, ms.opportunity}, 0.1);
      break;
    case Model::kFullPath:
      one(0, 0.225), one(ms.lead, 0.225), one(ms.opportunity, 0.225), one(ms.won, 0.225);
      others({0, ms.lead, ms.opportunity, ms.won}, 0.1);
      break;
    case Model::kTimeDecay: {
      // Ages counted from the youngest touch instead of the conversion: the
      // same weights once normalised, but the youngest is 1, so touches
      // thousands of half-lives old cannot all underflow to 0 (0 / 0).
      const Micros ref = youngest_touch(touches, conversion_time);
      for (size_t i = 0; i < n; ++i) {
        w[i] = decay_weight(touches[i].time, ref, half_life, decay_days);
        total += w[i];
      }
      break;
    }
    default:
      return;
  }
  for (double& x : w) x /= total;
}

void rule_credits_into(Model m, const std::vector<TouchInfo>& touches, const uint32_t* local, const uint32_t* count,
                       size_t values, const Milestones& ms, Micros conversion_time, Micros half_life, bool decay_days,
                       double* out) {
  std::fill(out, out + values, 0.0);
  const size_t n = touches.size();
  if (n == 0) return;
  const int last = static_cast<int>(n) - 1;
  // Roles at single touches (index, share) and a share split equally over
  // the touches holding none of them (`others`) or over the middle touches.
  int role_at[4];
  double role_share[4];
  size_t roles = 0;
  double total = 0;
  auto one = [&](int i, double share) {
    if (i < 0) return;
    role_at[roles] = i;
    role_share[roles++] = share;
    total += share;
  };
  double middle_share = 0;  // per middle touch (n > 2): every touch but the first and the last
  double others_share = 0;  // per touch holding no role
  switch (m) {
    case Model::kFirst:
      out[local[0]] = 1;
      return;
    case Model::kLast:
      out[local[n - 1]] = 1;
      return;
    case Model::kLastNonDirect:
      out[local[last_non_direct(touches)]] = 1;
      return;
    case Model::kLinear:
      for (size_t v = 0; v < values; ++v) out[v] = static_cast<double>(count[v]) / static_cast<double>(n);
      return;
    case Model::kUShaped:
    case Model::kJShaped:
    case Model::kInverseJ: {
      const double first = m == Model::kUShaped ? 0.4 : m == Model::kJShaped ? 0.2 : 0.6;
      const double lastw = m == Model::kUShaped ? 0.4 : m == Model::kJShaped ? 0.6 : 0.2;
      one(0, first);
      one(last, lastw);
      if (n > 2) {
        middle_share = 0.2 / static_cast<double>(n - 2);
        total += 0.2;
      }
      break;
    }
    case Model::kWShaped:
    case Model::kFullPath: {
      const bool w = m == Model::kWShaped;
      const double share = w ? 0.3 : 0.225;
      one(0, share);
      one(ms.lead, share);
      one(ms.opportunity, share);
      if (!w) one(ms.won, share);
      size_t holders = 0;  // distinct touches holding a role
      for (size_t r = 0; r < roles; ++r)
        holders += std::find(role_at, role_at + r, role_at[r]) == role_at + r;
      if (n > holders) {
        others_share = 0.1 / static_cast<double>(n - holders);
        total += 0.1;
      }
      break;
    }
    case Model::kTimeDecay: {
      const Micros ref = youngest_touch(touches, conversion_time);  // as in rule_weights_into
      for (size_t i = 0; i < n; ++i) {
        const double x = decay_weight(touches[i].time, ref, half_life, decay_days);
        out[local[i]] += x;
        total += x;
      }
      for (size_t v = 0; v < values; ++v) out[v] /= total;
      return;
    }
    default:
      return;
  }
  // The split share: per value, its touches outside the first and last (or
  // the role holders), counted exactly, times the share of one.
  if (middle_share > 0 || others_share > 0) {
    for (size_t v = 0; v < values; ++v) out[v] = static_cast<double>(count[v]);
    if (middle_share > 0) {
      out[local[0]] -= 1;
      out[local[n - 1]] -= 1;
    } else {
      for (size_t r = 0; r < roles; ++r)
        if (std::find(role_at, role_at + r, role_at[r]) == role_at + r) out[local[role_at[r]]] -= 1;
    }
    const double each = middle_share > 0 ? middle_share : others_share;
    for (size_t v = 0; v < values; ++v) out[v] *= each;
  }
  for (size_t r = 0; r < roles; ++r) out[local[role_at[r]]] += role_share[r];
  for (size_t v = 0; v < values; ++v) out[v] /= total;
}

std::vector<double> rule_weights(Model m, const std::vector<TouchInfo>& touches, const Milestones& ms, Micros conversion_time,
                                 Micros half_life, bool decay_days) {
  std::vector<double> w;
  rule_weights_into(m, touches, ms, conversion_time, half_life, decay_days, w);
  return w;
}

// ---------------------------------------------------------------- Markov

namespace {

// Solves a = r + Q a for the transient states of an absorbing chain, for
// two right-hand sides at once (r[0], r[1]): with r[s] the probability of
// converting directly from s, a[s] is the probability of ending in
// conversion from s; with r[s] that probability times the mean value of the
// conversions made from s, a[s] is the expected value from s. `dead` states
// are removed (they absorb to null). Dense Gaussian elimination for small
// chains, Gauss-Seidel to machine precision for large ones.
std::array<std::vector<double>, 2> absorb(const std::vector<std::vector<std::pair<uint32_t, double>>>& q,
                                          const std::array<std::vector<double>, 2>& r, const std::vector<uint8_t>& dead) {
  const size_t n = r[0].size();
  std::array<std::vector<double>, 2> a{std::vector<double>(n, 0.0), std::vector<double>(n, 0.0)};
  if (n <= 400) {
    const size_t w = n + 2;
    std::vector<double> m(n * w, 0.0);  // rows of [I - Q | r0 r1]
    for (size_t s = 0; s < n; ++s) {
      double* row = &m[s * w];
      row[s] = 1;
      if (dead[s]) continue;
      for (const auto& [t, p] : q[s])
        if (!dead[t]) row[t] -= p;
      row[n] = r[0][s];
      row[n + 1] = r[1][s];
    }
    for (size_t col = 0; col < n; ++col) {
      size_t piv = col;
      for (size_t i = col + 1; i < n; ++i)
        if (std::fabs(m[i * w + col]) > std::fabs(m[piv * w + col])) piv = i;
      if (piv != col)
        for (size_t k = 0; k < w; ++k) std::swap(m[col * w + k], m[piv * w + k]);
      const double d = m[col * w + col];
      if (d == 0) continue;  // cannot happen for an absorbing chain: every state reaches an end
      for (size_t i = 0; i < n; ++i) {
        if (i == col) continue;
        const double f = m[i * w + col] / d;
        if (f == 0) continue;
        for (size_t k = col; k < w; ++k) m[i * w + k] -= f * m[col * w + k];
      }
    }
    for (size_t s = 0; s < n; ++s) {
      const double d = m[s * w + s];
      a[0][s] = d == 0 ? 0 : m[s * w + n] / d;
      a[1][s] = d == 0 ? 0 : m[s * w + n + 1] / d;
    }
    return a;
  }
  for (size_t k = 0; k < 2; ++k) {
    // Sweeps until no value moves by more than 1e-15 (probabilities), or
    // that fraction of the largest value (money, for the second).
    for (int sweep = 0; sweep < 1000000; ++sweep) {
      double change = 0, largest = 1;
      for (size_t s = 0; s < n; ++s) {
        if (dead[s]) continue;
        double v = r[k][s];
        for (const auto& [t, p] : q[s])
          if (!dead[t]) v += p * a[k][t];
        change = std::max(change, std::fabs(v - a[k][s]));
        largest = std::max(largest, std::fabs(v));
        a[k][s] = v;
      }
      if (change < 1e-15 * largest) break;
    }
  }
  return a;
}

struct VecHash {
  size_t operator()(const std::vector<uint32_t>& v) const {
    size_t h = v.size();
    for (uint32_t x : v) h = h * 1000003 ^ x;
    return h;
  }
};

}  // namespace

std::vector<PathStat> group_journeys(const std::vector<Journey>& journeys, bool sets, std::vector<uint32_t>* of) {
  std::unordered_map<std::vector<uint32_t>, uint32_t, VecHash> index;
  std::vector<PathStat> out;
  if (of) of->assign(journeys.size(), UINT32_MAX);
  std::vector<uint32_t> key;
  for (size_t i = 0; i < journeys.size(); ++i) {
    const Journey& j = journeys[i];
    if (j.touches.empty()) continue;
    key.clear();
    if (sets) {
      key = j.touches;
      std::sort(key.begin(), key.end());
      key.erase(std::unique(key.begin(), key.end()), key.end());
    } else {
      for (uint32_t c : j.touches)
        if (key.empty() || key.back() != c) key.push_back(c);
    }
    auto [it, added] = index.emplace(key, static_cast<uint32_t>(out.size()));
    if (added) out.push_back(PathStat{key, 0, 0, 0});
    PathStat& p = out[it->second];
    p.journeys += j.weight;
    if (j.converted) {
      p.converted += j.weight;
      p.value += j.weight * j.value;
    }
    if (of) (*of)[i] = it->second;
  }
  return out;
}

MarkovResult markov(const std::vector<Journey>& journeys, size_t values, size_t order) {
  return markov_paths(group_journeys(journeys, false, nullptr), values, order);
}

MarkovChain markov_chain(const std::vector<PathStat>& paths, size_t order) {
  // States: the last `order` channels of the collapsed path (fewer at its start).
  MarkovChain c;
  std::unordered_map<std::vector<uint32_t>, uint32_t, VecHash> index;
  std::unordered_map<uint64_t, uint32_t> edge_index;
  std::vector<uint32_t> window;
  c.edge_at.push_back(0);
  for (const PathStat& ps : paths) {
    uint32_t prev = UINT32_MAX;
    for (size_t i = 0; i < ps.touches.size(); ++i) {
      window.assign(ps.touches.begin() + static_cast<ptrdiff_t>(i + 1 > order ? i + 1 - order : 0),
                    ps.touches.begin() + static_cast<ptrdiff_t>(i + 1));
      auto [it, added] = index.emplace(window, static_cast<uint32_t>(c.states.size()));
      if (added) c.states.push_back(window);
      const uint32_t st = it->second;
      if (prev == UINT32_MAX) {
        c.first.push_back(st);
      } else {
        auto [e, new_edge] = edge_index.emplace(uint64_t{prev} << 32 | st, static_cast<uint32_t>(c.edges.size()));
        if (new_edge) c.edges.emplace_back(prev, st);
        c.path_edges.push_back(e->second);
      }
      prev = st;
    }
    if (prev == UINT32_MAX) c.first.push_back(UINT32_MAX);
    c.last.push_back(prev);
    c.edge_at.push_back(static_cast<uint32_t>(c.path_edges.size()));
  }
  return c;
}

MarkovResult markov_paths(const std::vector<PathStat>& paths, size_t values, size_t order) {
  return markov_solve(markov_chain(paths, order), paths, values);
}

MarkovResult markov_solve(const MarkovChain& chain, const std::vector<PathStat>& paths, size_t values) {
  const std::vector<std::vector<uint32_t>>& states = chain.states;
  const size_t n = states.size();
  std::vector<double> edge_w(chain.edges.size(), 0.0), start(n, 0.0), to_conv(n, 0.0), out_total(n, 0.0);
  std::vector<double> end_value(n, 0.0), end_count(n, 0.0);  // converting journeys ending in the state: value, count
  double start_total = 0, conversions = 0, value_total = 0;
  for (size_t i = 0; i < paths.size(); ++i) {
    const PathStat& ps = paths[i];
    if (chain.first[i] == UINT32_MAX || ps.journeys == 0) continue;
    start[chain.first[i]] += ps.journeys;
    start_total += ps.journeys;
    for (uint32_t k = chain.edge_at[i]; k < chain.edge_at[i + 1]; ++k) {
      const uint32_t e = chain.path_edges[k];
      edge_w[e] += ps.journeys;
      out_total[chain.edges[e].first] += ps.journeys;
    }
    const uint32_t last = chain.last[i];
    out_total[last] += ps.journeys;
    to_conv[last] += ps.converted;
    conversions += ps.converted;
    value_total += ps.value;
    end_value[last] += ps.value;
    end_count[last] += ps.converted;
  }
  std::vector<std::vector<std::pair<uint32_t, double>>> q(n);
  // r[0]: the probability of converting directly from a state; r[1]: that
  // times the mean value of the conversions made from it (m_s).
  std::array<std::vector<double>, 2> r{std::vector<double>(n, 0.0), std::vector<double>(n, 0.0)};
  for (size_t e = 0; e < chain.edges.size(); ++e)
    if (edge_w[e] > 0) q[chain.edges[e].first].emplace_back(chain.edges[e].second, edge_w[e] / out_total[chain.edges[e].first]);
  for (size_t s = 0; s < n; ++s) {
    r[0][s] = out_total[s] > 0 ? to_conv[s] / out_total[s] : 0;
    r[1][s] = end_count[s] > 0 ? r[0][s] * end_value[s] / end_count[s] : 0;
  }
  // From the start: the probability of converting, or the expected value.
  auto from_start = [&](const std::vector<double>& a) {
    double p = 0;
    for (size_t st = 0; st < n; ++st)
      if (start[st] > 0) p += start[st] / start_total * a[st];
    return p;
  };
  MarkovResult out;
  out.removal.assign(values, 0.0);
  out.value_removal.assign(values, 0.0);
  out.conversions.assign(values, 0.0);
  out.value.assign(values, 0.0);
  if (n == 0 || start_total == 0) return out;
  std::vector<uint8_t> dead(n, 0);
  const std::array<std::vector<double>, 2> a = absorb(q, r, dead);
  const double p = from_start(a[0]), pv = from_start(a[1]);
  std::vector<uint8_t>& present = out.in_chain;
  present.assign(values, 0);
  for (size_t st = 0; st < n; ++st)
    if (out_total[st] > 0)
      for (uint32_t c : states[st])
        if (c < values) present[c] = 1;
  double sum_re = 0, sum_rev = 0;
  for (uint32_t c = 0; c < values; ++c) {
    if (!present[c]) continue;
    for (size_t s = 0; s < n; ++s) dead[s] = std::find(states[s].begin(), states[s].end(), c) != states[s].end();
    std::array<std::vector<double>, 2> ac = absorb(q, r, dead);
    for (size_t s = 0; s < n; ++s)
      if (dead[s]) ac[0][s] = ac[1][s] = 0;
    out.removal[c] = p > 0 ? 1 - from_start(ac[0]) / p : 0;
    out.value_removal[c] = pv > 0 ? 1 - from_start(ac[1]) / pv : 0;
    sum_re += out.removal[c];
    sum_rev += out.value_removal[c];
  }
  for (uint32_t c = 0; c < values; ++c) {
    out.conversions[c] = sum_re > 0 ? conversions * out.removal[c] / sum_re : 0;
    out.value[c] = sum_rev > 0 ? value_total * out.value_removal[c] / sum_rev : 0;
  }
  return out;
}

// ---------------------------------------------------------------- Shapley


ShapleyResult shapley(const std::vector<Journey>& journeys, size_t values, size_t samples, uint64_t seed) {
  return shapley_sets(group_journeys(journeys, true, nullptr), values, samples, seed);
}

ShapleyResult shapley_sets(const std::vector<PathStat>& list, size_t values, size_t samples, uint64_t seed) {
  // v(S): the conversion rate of journeys whose channel set is exactly S.
  std::unordered_map<std::vector<uint32_t>, const PathStat*, VecHash> sets;
  for (const PathStat& p : list)
    if (p.journeys > 0) sets.emplace(p.touches, &p);
  auto v = [&](const std::vector<uint32_t>& s) {
    if (s.empty()) return 0.0;
    auto it = sets.find(s);
    return it == sets.end() ? 0.0 : it->second->converted / it->second->journeys;
  };
  ShapleyResult out;
  out.conversions.assign(values, 0.0);
  out.value.assign(values, 0.0);
  std::mt19937_64 rng(seed);
  std::vector<uint32_t> sub;
  for (const auto& [set, stat] : sets) {
    const PathStat& tally = *stat;
    if (tally.converted == 0) continue;
    const size_t t = set.size();
    std::vector<double> phi(t, 0.0);
    if (t <= 15) {
      // Every coalition of the journey's channels, once.
      std::vector<double> val(size_t{1} << t);
      for (size_t mask = 0; mask < val.size(); ++mask) {
        sub.clear();
        for (size_t i = 0; i < t; ++i)
          if (mask >> i & 1) sub.push_back(set[i]);
        val[mask] = v(sub);
      }
      std::vector<double> weight(t);  // |S|! (t - |S| - 1)! / t!
      for (size_t s = 0; s < t; ++s) weight[s] = std::exp(std::lgamma(s + 1.0) + std::lgamma(static_cast<double>(t - s)) - std::lgamma(t + 1.0));
      for (size_t mask = 0; mask < val.size(); ++mask) {
        const size_t size = static_cast<size_t>(__builtin_popcountll(mask));
        for (size_t i = 0; i < t; ++i)
          if (!(mask >> i & 1)) phi[i] += weight[size] * (val[mask | (size_t{1} << i)] - val[mask]);
      }
    } else {
      out.sampled_journeys += static_cast<uint64_t>(tally.converted);
      std::vector<size_t> perm(t);
      std::iota(perm.begin(), perm.end(), 0);
      for (size_t k = 0; k < samples; ++k) {
        std::shuffle(perm.begin(), perm.end(), rng);
        sub.clear();
        double before = 0;
        for (size_t i : perm) {
          sub.insert(std::upper_bound(sub.begin(), sub.end(), set[i]), set[i]);
          const double after = v(sub);
          phi[i] += (after - before) / static_cast<double>(samples);
          before = after;
        }
      }
    }
    double pos = 0;
    for (double& x : phi) {
      x = std::max(x, 0.0);
      pos += x;
    }
    std::vector<double>& shares = out.shares[set];
    for (size_t i = 0; i < t; ++i) {
      const double share = pos > 0 ? phi[i] / pos : 1.0 / static_cast<double>(t);
      shares.push_back(share);
      out.conversions[set[i]] += tally.converted * share;
      out.value[set[i]] += tally.value * share;
    }
  }
  return out;
}

ShapleyResult shapley_simple(const std::vector<Journey>& journeys, size_t values) {
  return shapley_simple_sets(group_journeys(journeys, true, nullptr), values);
}

ShapleyResult shapley_simple_sets(const std::vector<PathStat>& sets, size_t values) {
  ShapleyResult out;
  out.conversions.assign(values, 0.0);
  out.value.assign(values, 0.0);
  for (const PathStat& p : sets) {
    if (p.converted == 0) continue;
    for (uint32_t c : p.touches) {
      out.conversions[c] += p.converted / static_cast<double>(p.touches.size());
      out.value[c] += p.value / static_cast<double>(p.touches.size());
    }
  }
  return out;
}

// ---------------------------------------------------------------- the kernel

namespace {

struct Compiled {
  AttributionSpec spec;
  std::vector<CompiledDef> conversion;
  std::vector<CompiledDef> mql_goal;  // the mql milestone as a goal
  std::vector<CompiledDef> touch;
  std::optional<CompiledDef> lead, opportunity, won, mql;
  std::vector<CompiledFilter> event_filters;
  bool events_never = false;
  TraitFilters traits;
  int dimension_key = -1;  // index into plan.keys
  int value_key = -1;
  int channel_key = -1;
  uint32_t direct_string = StringPool::kMissing;
  // Channel rules (dimension "channel", unless channel_from is "property").
  bool use_rules = false, prefer_property = true;
  struct Rule {
    uint32_t name;  // index into rule_names
    std::vector<CompiledFilter> when;
    bool never = false;
  };
  std::vector<Rule> rules;
  std::vector<std::string> rule_names;
  std::vector<int> tagged_keys;  // utm_source, utm_medium, referrer: a touch has one of them
  bool keep_journeys = false;  // the data-driven models need every journey
  const Catalog* catalog = nullptr;
  ScanPlan plan;
};

// A GroupKey type for channels named by the channel rules (bits: index into
// rule_names), which need not be strings of the catalog.
constexpr int kRuleChannel = 100;

// One conversion kept for the credit export.
struct ConversionRecord {
  uint32_t person;
  uint32_t ordinal;  // the person's n-th conversion (1-based)
  Micros time;
  double value;
  std::vector<Micros> touch_times;
  std::vector<uint32_t> touch_values;        // value ids
  std::vector<std::vector<double>> weights;  // per rule-based model asked for: per touch
};

// What one goal (the conversion, or the MQL milestone) adds up to.
struct GoalState {
  std::vector<Journey> journeys;         // converting (with their touches) and not converting
  std::vector<uint32_t> journey_person;  // per journey: index into persons
  uint32_t persons = 0;
  double conversions = 0, value = 0;
  uint64_t journey_count = 0, converting = 0;  // counted even when the journeys are not kept
  // Rule-based credits: per model, per value id: (conversions, value).
  std::vector<std::vector<std::pair<double, double>>> rule;
  std::vector<ConversionRecord> records;
  GoalState() : rule(kModels) {}
};

class AttributionKernel final : public Kernel {
 public:
  explicit AttributionKernel(const Compiled& c) : c_(c) {
    conv_events_ = event_table(c.conversion);
    mql_events_ = event_table(c.mql_goal);
    ids_.emplace(GroupKey{-1, 0}, 0);  // value id 0: "(none)"
    by_text_.emplace("(none)", 0);
    keys_.push_back(GroupKey{-1, 0});
  }

  void add(const PersonView& p) override {
    if (c_.traits.active() && !c_.traits.pass(*c_.catalog, p.person)) return;
    goal(p, c_.conversion, conv_events_, conv_, true);
    if (c_.mql) goal(p, c_.mql_goal, mql_events_, mql_, false);
  }

  void merge(Kernel& other) override {
    auto& o = static_cast<AttributionKernel&>(other);
    std::vector<uint32_t> map(o.keys_.size());
    for (size_t i = 0; i < o.keys_.size(); ++i) map[i] = intern(o.keys_[i]);
    merge_goal(conv_, o.conv_, map);
    merge_goal(mql_, o.mql_, map);
  }

  const std::vector<GroupKey>& keys() const { return keys_; }
  GoalState& conversion() { return conv_; }
  GoalState& mql() { return mql_; }

 private:
  // Values that read the same (the string "7" and the number 7) are one
  // value of the dimension: one row, one channel of the data-driven models.
  uint32_t intern(const GroupKey& k) {
    const bool small = k.first == static_cast<int>(ValueType::kString) && k.second < kSmallStrings;
    if (small && k.second < small_strings_.size() && small_strings_[k.second] != 0) return small_strings_[k.second] - 1;
    const uint32_t id = intern_slow(k);
    if (small) {
      if (small_strings_.size() <= k.second) small_strings_.resize(k.second + 1, 0);
      small_strings_[k.second] = id + 1;
    }
    return id;
  }
  uint32_t intern_slow(const GroupKey& k) {
    const auto it = ids_.find(k);
    if (it != ids_.end()) return it->second;
    const std::string text =
        k.first == kRuleChannel ? c_.rule_names[k.second] : group_label(*c_.catalog, k);
    const auto [t, added] = by_text_.emplace(text, static_cast<uint32_t>(keys_.size()));
    if (added) keys_.push_back(k);
    ids_.emplace(k, t->second);
    return t->second;
  }

  bool passes(const PersonView& p, size_t i) const {
    if (c_.events_never) return false;
    for (const CompiledFilter& f : c_.event_filters)
      if (!f.pass(p.cell(f.key, i))) return false;
    return true;
  }

  bool is_touch(const PersonView& p, size_t i) const {
    if (!passes(p, i)) return false;
    if (c_.touch.empty()) {
      // Every event with a value of the dimension; with channel rules, also
      // every event tagged with utm_source / utm_medium / referrer.
      if (c_.dimension_key >= 0 && (!c_.use_rules || c_.prefer_property) && p.cell(static_cast<size_t>(c_.dimension_key), i).present)
        return true;
      for (int k : c_.tagged_keys)
        if (p.cell(static_cast<size_t>(k), i).present) return true;
      return false;
    }
    for (const CompiledDef& d : c_.touch)
      if (def_matches(d, p, i)) return true;
    return false;
  }

  uint32_t value_of(const PersonView& p, size_t i) {
    if (c_.dimension_key >= 0 && (!c_.use_rules || c_.prefer_property)) {
      const Cell& v = p.cell(static_cast<size_t>(c_.dimension_key), i);
      if (v.present || !c_.use_rules) return intern(group_key(v));
    }
    if (!c_.use_rules) return 0;
    for (const Compiled::Rule& r : c_.rules) {
      if (r.never) continue;
      bool ok = true;
      for (const CompiledFilter& f : r.when) ok = ok && f.pass(p.cell(f.key, i));
      if (ok) return intern(GroupKey{kRuleChannel, r.name});
    }
    return 0;
  }

  // The first event matching `def` in (lo, conv], or -1.
  static int milestone(const std::optional<CompiledDef>& def, const PersonView& p, size_t lo, size_t conv) {
    if (!def) return -1;
    for (size_t i = lo; i <= conv; ++i)
      if (def_matches(*def, p, i)) return static_cast<int>(i);
    return -1;
  }

  // Per event id: 0 when no definition names it, 1 when one matches on the
  // name alone, 2 when the definitions' filters decide.
  static std::vector<uint8_t> event_table(const std::vector<CompiledDef>& defs) {
    std::vector<uint8_t> t;
    for (const CompiledDef& d : defs) {
      if (!d.known) continue;
      if (t.size() <= d.event) t.resize(d.event + 1, 0);
      t[d.event] = d.where.empty() || t[d.event] == 1 ? 1 : 2;
    }
    return t;
  }

  void goal(const PersonView& p, const std::vector<CompiledDef>& def, const std::vector<uint8_t>& events, GoalState& g,
            bool is_conversion) {
    const AttributionSpec& s = c_.spec;
    const uint32_t person = g.persons;
    bool any = false, in_range_conv = false;
    size_t lo = 0;  // the first event after the previous goal event
    uint32_t ordinal = 0;
    const size_t nevents = events.size();
    for (size_t i = 0; i < p.n; ++i) {
      const uint32_t e = p.event[i];
      const uint8_t t = e < nevents ? events[e] : 0;
      if (t == 0 || (t == 2 && !any_def_matches(def, p, i)) || !passes(p, i)) continue;
      if (p.time[i] >= s.from && p.time[i] < s.to) {
        in_range_conv = true;
        any = true;
        ++ordinal;
        conversion_at(p, i, s.since_previous ? lo : 0, g, person, ordinal, is_conversion);
      }
      lo = i + 1;
    }
    if (!in_range_conv) {
      // A journey that did not convert: the person's touches in the range
      // (kept only for the data-driven models; else only counted).
      Journey j;
      for (size_t i = 0; i < p.n; ++i) {
        if (p.time[i] < s.from || p.time[i] >= s.to || !is_touch(p, i)) continue;
        any = true;
        if (!c_.keep_journeys) break;
        j.touches.push_back(value_of(p, i));
      }
      if (any) {
        ++g.journey_count;
        if (c_.keep_journeys) {
          g.journeys.push_back(std::move(j));
          g.journey_person.push_back(person);
        }
      }
    }
    if (any) ++g.persons;
  }

  void conversion_at(const PersonView& p, size_t c, size_t lo, GoalState& g, uint32_t person, uint32_t ordinal,
                     bool is_conversion) {
    const AttributionSpec& s = c_.spec;
    double value = 1;
    if (is_conversion && !s.value_property.empty()) {
      value = 0;
      if (c_.value_key >= 0) {
        const Cell& v = p.cell(static_cast<size_t>(c_.value_key), c);
        if (v.present && v.type == ValueType::kNumber) std::memcpy(&value, &v.bits, sizeof value);
      }
    }
    g.conversions += 1;
    g.value += value;
    idx_.clear();
    size_t first = lo;  // times are in order: skip what is older than the lookback
    while (first < c && p.time[c] - p.time[first] > s.lookback) ++first;
    for (size_t j = first; j < c; ++j)
      if (is_touch(p, j)) idx_.push_back(j);
    // Kept for the data-driven models; else a reused buffer (no allocation
    // per conversion).
    Journey kept;
    Journey& journey = c_.keep_journeys ? kept : scratch_;
    journey.touches.clear();
    journey.converted = true;
    journey.value = value;
    infos_.clear();
    for (size_t j : idx_) {
      journey.touches.push_back(value_of(p, j));
      bool direct = false;
      if (c_.channel_key >= 0) {
        const Cell& ch = p.cell(static_cast<size_t>(c_.channel_key), j);
        direct = ch.present && ch.type == ValueType::kString && ch.bits == c_.direct_string;
      }
      infos_.push_back(TouchInfo{p.time[j], direct});
    }
    // A milestone's touch: the last touchpoint at or before the milestone.
    auto touch_of = [&](int m) {
      int t = -1;
      if (m < 0) return t;
      for (size_t k = 0; k < idx_.size(); ++k)
        if (idx_[k] <= static_cast<size_t>(m)) t = static_cast<int>(k);
      return t;
    };
    const Milestones ms{touch_of(milestone(c_.lead, p, lo, c)), touch_of(milestone(c_.opportunity, p, lo, c)),
                        touch_of(milestone(c_.won, p, lo, c))};
    ConversionRecord* rec = nullptr;
    if (s.credits && is_conversion) {
      g.records.push_back(ConversionRecord{p.person, ordinal, p.time[c], value, {}, {}, {}});
      for (uint32_t t : journey.touches) g.records.back().touch_values.push_back(t);
      rec = &g.records.back();
      for (const TouchInfo& t : infos_) rec->touch_times.push_back(t.time);
    }
    // The journey's distinct values, densely numbered, and their touches.
    if (slot_.size() < keys_.size()) slot_.resize(keys_.size(), 0);
    distinct_.clear();
    local_.clear();
    counts_.clear();
    for (uint32_t t : journey.touches) {
      if (slot_[t] == 0) {
        distinct_.push_back(t);
        counts_.push_back(0);
        slot_[t] = static_cast<uint32_t>(distinct_.size());
      }
      local_.push_back(slot_[t] - 1);
      ++counts_[slot_[t] - 1];
    }
    for (uint32_t t : distinct_) slot_[t] = 0;
    sums_.resize(distinct_.size());
    for (Model m : s.models) {
      if (!is_rule_based(m)) continue;
      auto& credit = g.rule[static_cast<size_t>(m)];
      if (credit.size() < keys_.size()) credit.resize(keys_.size());
      if (journey.touches.empty()) {
        credit[0].first += 1;
        credit[0].second += value;
        if (rec) rec->weights.emplace_back();
        continue;
      }
      rule_credits_into(m, infos_, local_.data(), counts_.data(), distinct_.size(), ms, p.time[c], s.half_life, s.decay_days,
                        sums_.data());
      for (size_t v = 0; v < distinct_.size(); ++v) {
        credit[distinct_[v]].first += sums_[v];
        credit[distinct_[v]].second += sums_[v] * value;
      }
      if (rec) {
        rule_weights_into(m, infos_, ms, p.time[c], s.half_life, s.decay_days, weights_);
        rec->weights.push_back(weights_);
      }
    }
    ++g.journey_count;
    ++g.converting;
    if (c_.keep_journeys) {
      g.journeys.push_back(std::move(journey));
      g.journey_person.push_back(person);
    }
  }

  static void merge_goal(GoalState& a, GoalState& b, const std::vector<uint32_t>& map) {
    for (size_t i = 0; i < b.journeys.size(); ++i) {
      Journey& j = b.journeys[i];
      for (uint32_t& t : j.touches) t = map[t];
      a.journeys.push_back(std::move(j));
      a.journey_person.push_back(a.persons + b.journey_person[i]);
    }
    a.persons += b.persons;
    a.conversions += b.conversions;
    a.value += b.value;
    a.journey_count += b.journey_count;
    a.converting += b.converting;
    for (size_t m = 0; m < kModels; ++m)
      for (size_t v = 0; v < b.rule[m].size(); ++v) {
        const uint32_t to = map[v];
        if (a.rule[m].size() <= to) a.rule[m].resize(to + 1);
        a.rule[m][to].first += b.rule[m][v].first;
        a.rule[m][to].second += b.rule[m][v].second;
      }
    for (ConversionRecord& r : b.records) {
      for (uint32_t& t : r.touch_values) t = map[t];
      a.records.push_back(std::move(r));
    }
  }

  const Compiled& c_;
  std::unordered_map<GroupKey, uint32_t, GroupKeyHash> ids_;  // dimension value -> id (0: none)
  std::unordered_map<std::string, uint32_t> by_text_;           // a value's text -> id
  std::vector<GroupKey> keys_;
  GoalState conv_, mql_;
  std::vector<uint8_t> conv_events_, mql_events_;
  Journey scratch_;
  std::vector<double> weights_;
  std::vector<size_t> idx_;
  std::vector<TouchInfo> infos_;
  // One conversion's distinct values (value ids), each touch's index among
  // them, touches per value and credit per value; slot_[value id] is its
  // index + 1 while the conversion is credited, else 0.
  std::vector<uint32_t> distinct_, local_, counts_, slot_;
  std::vector<double> sums_;
  // Value id + 1 of string values with small ids (0: not seen yet), so most
  // touches skip the hash map.
  std::vector<uint32_t> small_strings_;
  static constexpr uint64_t kSmallStrings = 65536;
};

// Credits of every asked model per value id: (conversions, value).
struct ModelCredits {
  std::vector<std::pair<double, double>> rows;
  MarkovResult markov;  // for the Markov model
  uint64_t sampled = 0;
  std::map<std::vector<uint32_t>, std::vector<double>> shares;  // Shapley: per channel set, the channels' shares
};

// The journeys grouped once by collapsed path (Markov) and by channel set
// (Shapley), so a bootstrap resample only re-weighs the groups.
struct Groups {
  std::vector<PathStat> paths, sets;
  MarkovChain chain;  // of `paths`, built once
  std::vector<uint32_t> path_of, set_of;
  double none_conv = 0, none_value = 0;  // conversions without a touchpoint
};

// Only the groupings the asked models read: paths and the chain for Markov,
// channel sets for the two Shapley models.
Groups group_all(const GoalState& g, const AttributionSpec& spec) {
  auto asked = [&](Model m) { return std::find(spec.models.begin(), spec.models.end(), m) != spec.models.end(); };
  Groups out;
  if (asked(Model::kMarkov)) {
    out.paths = group_journeys(g.journeys, false, &out.path_of);
    out.chain = markov_chain(out.paths, spec.markov_order);
  }
  if (asked(Model::kShapley) || asked(Model::kShapleySimple)) out.sets = group_journeys(g.journeys, true, &out.set_of);
  for (const Journey& j : g.journeys)
    if (j.converted && j.touches.empty()) {
      out.none_conv += j.weight;
      out.none_value += j.weight * j.value;
    }
  return out;
}

// The groups' weights when person p counts person_weight[p] times.
void reweigh(const GoalState& g, const std::vector<double>& person_weight, Groups& out) {
  for (auto* list : {&out.paths, &out.sets})
    for (PathStat& p : *list) p.journeys = p.converted = p.value = 0;
  out.none_conv = out.none_value = 0;
  for (size_t i = 0; i < g.journeys.size(); ++i) {
    const double w = person_weight[g.journey_person[i]];
    if (w == 0) continue;
    const Journey& j = g.journeys[i];
    if (j.touches.empty()) {
      if (j.converted) {
        out.none_conv += w;
        out.none_value += w * j.value;
      }
      continue;
    }
    PathStat* groups[2] = {out.path_of.empty() ? nullptr : &out.paths[out.path_of[i]],
                           out.set_of.empty() ? nullptr : &out.sets[out.set_of[i]]};
    for (PathStat* p : groups) {
      if (!p) continue;
      p->journeys += w;
      if (j.converted) {
        p->converted += w;
        p->value += w * j.value;
      }
    }
  }
}

std::vector<ModelCredits> all_credits(const Compiled& c, const GoalState& g, const Groups& groups, size_t values,
                                      bool data_driven_only) {
  std::vector<ModelCredits> out(kModels);
  for (Model m : c.spec.models) {
    ModelCredits& mc = out[static_cast<size_t>(m)];
    mc.rows.assign(values, {0.0, 0.0});
    if (is_rule_based(m)) {
      if (data_driven_only) continue;
      const auto& r = g.rule[static_cast<size_t>(m)];
      for (size_t v = 0; v < r.size() && v < values; ++v) mc.rows[v] = r[v];
      continue;
    }
    if (m == Model::kMarkov) {
      mc.markov = markov_solve(groups.chain, groups.paths, values);
      for (size_t v = 0; v < values; ++v) mc.rows[v] = {mc.markov.conversions[v], mc.markov.value[v]};
    } else {
      const ShapleyResult s = m == Model::kShapley ? shapley_sets(groups.sets, values, c.spec.shapley_samples, c.spec.seed)
                                                   : shapley_simple_sets(groups.sets, values);
      for (size_t v = 0; v < values; ++v) mc.rows[v] = {s.conversions[v], s.value[v]};
      mc.sampled = s.sampled_journeys;
      if (!data_driven_only && m == Model::kShapley) mc.shares = s.shares;
    }
    // Conversions without touches go to "(none)" (value id 0) in every model.
    mc.rows[0].first += groups.none_conv;
    mc.rows[0].second += groups.none_value;
  }
  return out;
}

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size())));
  return v[std::max<size_t>(rank, 1) - 1];
}

json num_or_null(double x, bool ok) { return ok ? json(x) : json(nullptr); }

}  // namespace

Result<AttributionAnswer> run_attribution(const Store& store, const AttributionSpec& spec, unsigned threads) {
  const Catalog& cat = store.catalog();
  Compiled c;
  c.spec = spec;
  c.catalog = &cat;
  const KeySlot slot = plan_key_slot(c.plan);
  auto def = [&](const EventDef& d, const std::string& path) -> Result<CompiledDef> { return compile_def(d, path, cat, slot); };
  for (size_t i = 0; i < spec.conversion.size(); ++i) {
    auto d = def(spec.conversion[i], spec.conversion.size() > 1 ? fmt::format("conversion.any_of[{}]", i) : "conversion");
    if (!d) return d.status();
    c.conversion.push_back(std::move(*d));
  }
  for (size_t i = 0; i < spec.touch_events.size(); ++i) {
    auto d = def(spec.touch_events[i], spec.touch_events.size() > 1 ? fmt::format("touchpoint.any_of[{}]", i) : "touchpoint");
    if (!d) return d.status();
    c.touch.push_back(std::move(*d));
  }
  for (auto [from, to, name] : {std::tuple{&spec.lead, &c.lead, "lead"}, std::tuple{&spec.opportunity, &c.opportunity, "opportunity"},
                                std::tuple{&spec.won, &c.won, "won"}, std::tuple{&spec.mql, &c.mql, "mql"}}) {
    if (!*from) continue;
    auto d = def(**from, std::string("milestones.") + name);
    if (!d) return d.status();
    *to = std::move(*d);
  }
  if (c.mql) c.mql_goal.push_back(*c.mql);
  for (size_t i = 0; i < spec.event_filters.size(); ++i)
    CAIRN_RETURN_IF_ERROR(compile_filter(spec.event_filters[i], cat, slot, fmt::format("filters[{}]", i), c.event_filters, c.events_never));
  CAIRN_RETURN_IF_ERROR(c.traits.compile(spec.trait_filters, cat));
  CAIRN_RETURN_IF_ERROR(load_traits_if_read(cat, c.traits, nullptr));
  auto key = [&](const std::string& name) {
    const uint32_t k = cat.keys.find(name);
    return k == StringPool::kMissing ? -1 : static_cast<int>(slot(k));
  };
  c.dimension_key = key(spec.dimension);
  if (spec.dimension == "channel" && spec.channel_from != "property") {
    auto rules = load_channel_rules(store.dir());
    if (!rules) return rules.status();
    c.use_rules = true;
    c.prefer_property = spec.channel_from == "property_or_rules";
    for (const ChannelRule& r : *rules) {
      Compiled::Rule cr;
      auto it = std::find(c.rule_names.begin(), c.rule_names.end(), r.channel);
      cr.name = static_cast<uint32_t>(it - c.rule_names.begin());
      if (it == c.rule_names.end()) c.rule_names.push_back(r.channel);
      for (size_t i = 0; i < r.when.size(); ++i)
        CAIRN_RETURN_IF_ERROR(compile_filter(r.when[i], cat, slot, fmt::format("channel rule {}", r.channel), cr.when, cr.never));
      c.rules.push_back(std::move(cr));
    }
    for (const char* tag : {"utm_source", "utm_medium", "referrer"})
      if (int k = key(tag); k >= 0) c.tagged_keys.push_back(k);
  }
  if (!spec.value_property.empty()) c.value_key = key(spec.value_property);
  c.channel_key = key(spec.channel_property);
  c.direct_string = cat.find_string("direct");
  c.plan.min_time = spec.from == INT64_MIN || spec.from < INT64_MIN + spec.lookback ? INT64_MIN : spec.from - spec.lookback;
  c.plan.max_time = spec.to;
  c.plan.threads = threads;
  for (Model m : spec.models) c.keep_journeys = c.keep_journeys || !is_rule_based(m);
  using Clock = std::chrono::steady_clock;
  auto since = [](Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); };
  const auto t_scan = Clock::now();
  auto kernel = scan(store, c.plan, [&] { return std::make_unique<AttributionKernel>(c); });
  if (!kernel) return kernel.status();
  const double scan_seconds = since(t_scan);
  const auto t_models = Clock::now();
  auto& k = static_cast<AttributionKernel&>(**kernel);
  const std::vector<GroupKey>& keys = k.keys();
  const size_t values = keys.size();
  GoalState& g = k.conversion();

  Groups groups = c.keep_journeys ? group_all(g, spec) : Groups{};
  std::vector<ModelCredits> credits = all_credits(c, g, groups, values, false);
  std::vector<ModelCredits> mql_credits;
  if (spec.mql) mql_credits = all_credits(c, k.mql(), c.keep_journeys ? group_all(k.mql(), spec) : Groups{}, values, false);
  const double model_seconds = since(t_models);
  const auto t_boot = Clock::now();
  // Bootstrap: resample persons with replacement; the data-driven models'
  // credits per resample give 95% intervals (2.5th and 97.5th percentiles).
  std::vector<std::vector<std::vector<double>>> boot_conv(kModels), boot_value(kModels);
  if (spec.bootstrap > 0 && g.persons > 0) {
    std::mt19937_64 rng(spec.seed);
    std::uniform_int_distribution<uint32_t> pick(0, g.persons - 1);
    std::vector<double> weights(g.persons);
    for (size_t b = 0; b < spec.bootstrap; ++b) {
      std::fill(weights.begin(), weights.end(), 0.0);
      for (uint32_t i = 0; i < g.persons; ++i) weights[pick(rng)] += 1;
      reweigh(g, weights, groups);
      const std::vector<ModelCredits> r = all_credits(c, g, groups, values, true);
      for (Model m : spec.models) {
        if (is_rule_based(m) || m == Model::kShapleySimple) continue;
        auto& bc = boot_conv[static_cast<size_t>(m)];
        auto& bv = boot_value[static_cast<size_t>(m)];
        bc.resize(values);
        bv.resize(values);
        for (size_t v = 0; v < values; ++v) {
          bc[v].push_back(r[static_cast<size_t>(m)].rows[v].first);
          bv[v].push_back(r[static_cast<size_t>(m)].rows[v].second);
        }
      }
    }
  }
  const double bootstrap_seconds = since(t_boot);
  auto label = [&](size_t v) {
    return keys[v].first == kRuleChannel ? c.rule_names[keys[v].second] : group_label(cat, keys[v]);
  };
  // Costs by the text of the dimension's value, over the days of the range:
  // a channel named by the channel rules meets its costs as one read from
  // the `channel` property does.
  std::map<std::string, double> cost;
  const bool has_costs = (spec.dimension == "channel" || spec.dimension == "campaign") && !cat.costs().empty();
  if (has_costs) {
    const int64_t d0 = spec.from == INT64_MIN ? INT64_MIN : day_of(spec.from);
    const int64_t d1 = spec.to == INT64_MAX ? INT64_MAX : day_of(spec.to - 1);
    for (const CostRow& r : cat.costs())
      if (r.day >= d0 && r.day <= d1)
        cost[std::string(cat.string_at(spec.dimension == "channel" ? r.channel : r.campaign))] += r.cost;
  }
  // A row per value credited, or with MQLs, or with costs in the range (a
  // channel that was paid for and earned nothing shows its spend); costs of
  // values that no touch had come after the values of the data.
  struct Entry {
    std::string label;
    size_t v;  // value id, or SIZE_MAX for a value only the costs name
    double spend;
  };
  std::vector<Entry> entries;
  std::set<std::string> labels;  // of the values of the data
  for (size_t v = 0; v < values; ++v) {
    std::string text = label(v);
    const auto it = cost.find(text);
    labels.insert(text);
    entries.push_back(Entry{std::move(text), v, it == cost.end() ? 0.0 : it->second});
  }
  for (const auto& [text, spend] : cost)
    if (!labels.contains(text)) entries.push_back(Entry{text, SIZE_MAX, spend});
  // Credits equal in exact arithmetic can differ in their last bits; rows
  // are ordered on credits rounded to 1e-9, then by label.
  auto rounded = [](double x) { return std::round(x * 1e9) / 1e9; };
  json models = json::object();
  const bool by_value = !spec.value_property.empty();
  for (Model m : spec.models) {
    const ModelCredits& mc = credits[static_cast<size_t>(m)];
    auto credit_of = [&](const Entry& e) {
      return e.v == SIZE_MAX ? std::pair<double, double>{0.0, 0.0} : mc.rows[e.v];
    };
    auto mqls_of = [&](const Entry& e) {
      return !spec.mql || e.v == SIZE_MAX ? 0.0 : mql_credits[static_cast<size_t>(m)].rows[e.v].first;
    };
    std::vector<size_t> order;
    for (size_t i = 0; i < entries.size(); ++i) {
      const auto [conv_credit, value_credit] = credit_of(entries[i]);
      if (conv_credit != 0 || value_credit != 0 || mqls_of(entries[i]) != 0 || entries[i].spend != 0) order.push_back(i);
    }
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      const double ca = rounded(credit_of(entries[a]).first), cb = rounded(credit_of(entries[b]).first);
      if (ca != cb) return ca > cb;
      return entries[a].label < entries[b].label;
    });
    json rows = json::array();
    for (size_t i : order) {
      const Entry& e = entries[i];
      const auto [conv_credit, value_credit] = credit_of(e);
      json row{{"value", e.label},
               {"conversions", conv_credit},
               {"revenue", value_credit},
               {"conversion_share", num_or_null(conv_credit / g.conversions, g.conversions > 0)},
               {"revenue_share", num_or_null(value_credit / g.value, g.value > 0)}};
      row["share"] = by_value ? row["revenue_share"] : row["conversion_share"];
      if (has_costs) {
        const double spend = e.spend;
        row["cost"] = spend;
        row["roi"] = num_or_null((value_credit - spend) / spend, spend > 0);
        row["cost_per_conversion"] = num_or_null(spend / conv_credit, conv_credit > 0);
        if (spec.mql) {
          const double mqls = mqls_of(e);
          row["mqls"] = mqls;
          row["cost_per_mql"] = num_or_null(spend / mqls, mqls > 0);
        }
      } else if (spec.mql) {
        row["mqls"] = mqls_of(e);
      }
      if (!boot_conv[static_cast<size_t>(m)].empty() && e.v != SIZE_MAX) {
        const auto& bc = boot_conv[static_cast<size_t>(m)][e.v];
        const auto& bv = boot_value[static_cast<size_t>(m)][e.v];
        row["conversions_ci"] = json::array({quantile(bc, 0.025), quantile(bc, 0.975)});
        row["revenue_ci"] = json::array({quantile(bv, 0.025), quantile(bv, 0.975)});
      }
      rows.push_back(std::move(row));
    }
    json model{{"rows", std::move(rows)}};
    if (m == Model::kMarkov) {
      // Every state of the chain's values, "(none)" (touches without a
      // value of the dimension) and effects of 0 included.
      json re = json::object();
      for (size_t v = 0; v < values; ++v)
        if (v < mc.markov.in_chain.size() && mc.markov.in_chain[v])
          re[label(v)] = json{{"conversions", mc.markov.removal[v]}, {"value", mc.markov.value_removal[v]}};
      model["removal_effects"] = std::move(re);
      model["order"] = spec.markov_order;
    }
    if (m == Model::kShapley) {
      model["sampled_journeys"] = mc.sampled;
      model["samples_per_journey"] = spec.shapley_samples;
    }
    if (!boot_conv[static_cast<size_t>(m)].empty()) model["bootstrap_resamples"] = spec.bootstrap;
    models[model_name(m)] = std::move(model);
  }
  AttributionAnswer answer;
  answer.scan_seconds = scan_seconds;
  answer.model_seconds = model_seconds;
  answer.bootstrap_seconds = bootstrap_seconds;
  answer.json = json{{"type", "attribution"},
                     {"dimension", spec.dimension},
                     {"conversions", g.conversions},
                     {"revenue", g.value},
                     {"persons", g.persons},
                     {"journeys", g.journey_count},
                     {"converting_journeys", g.converting},
                     {"models", std::move(models)}};
  if (spec.credits) {
    // conversion_id, person, conversion_time, touchpoint, touch_time, value, model, weight, credit
    std::string csv = "conversion_id,person,conversion_time,touchpoint,touch_time,dimension_value,model,weight,credit\n";
    auto quote = [](std::string s) {
      std::string out = "\"";
      for (char ch : s) out += ch == '"' ? std::string("\"\"") : std::string(1, ch);
      return out + "\"";
    };
    // By person and conversion, whatever thread scanned them.
    std::vector<const ConversionRecord*> records;
    for (const ConversionRecord& r : g.records) records.push_back(&r);
    std::sort(records.begin(), records.end(), [&](const ConversionRecord* a, const ConversionRecord* b) {
      const std::string_view pa = cat.id_string(a->person), pb = cat.id_string(b->person);
      return pa != pb ? pa < pb : a->ordinal < b->ordinal;
    });
    for (const ConversionRecord* rp : records) {
      const ConversionRecord& r = *rp;
      const std::string person(cat.id_string(r.person));
      const std::string id = quote(fmt::format("{}:{}", person, r.ordinal));
      size_t w = 0;
      // Shapley and simple Shapley split a conversion over its distinct
      // channels; a channel's share is split over its touches.
      std::vector<uint32_t> set = r.touch_values;
      std::sort(set.begin(), set.end());
      set.erase(std::unique(set.begin(), set.end()), set.end());
      std::vector<double> shapley_w(r.touch_values.size()), simple_w(r.touch_values.size());
      if (!set.empty()) {
        const auto it = credits[static_cast<size_t>(Model::kShapley)].shares.find(set);
        for (size_t t = 0; t < r.touch_values.size(); ++t) {
          const size_t k = static_cast<size_t>(std::lower_bound(set.begin(), set.end(), r.touch_values[t]) - set.begin());
          const double n = static_cast<double>(std::count(r.touch_values.begin(), r.touch_values.end(), r.touch_values[t]));
          simple_w[t] = 1.0 / static_cast<double>(set.size()) / n;
          shapley_w[t] = it == credits[static_cast<size_t>(Model::kShapley)].shares.end() ? 0.0 : it->second[k] / n;
        }
      }
      for (Model m : spec.models) {
        if (m == Model::kMarkov) continue;  // a model of all journeys at once, with no per-conversion split
        const std::vector<double>& weights =
            m == Model::kShapley ? shapley_w : m == Model::kShapleySimple ? simple_w : r.weights[w++];
        if (r.touch_values.empty()) {
          csv += fmt::format("{},{},{},0,,{},{},1,{}\n", id, quote(person), format_time(r.time), quote("(none)"), model_name(m), r.value);
          continue;
        }
        for (size_t t = 0; t < weights.size(); ++t)
          csv += fmt::format("{},{},{},{},{},{},{},{},{}\n", id, quote(person), format_time(r.time), t + 1,
                             format_time(r.touch_times[t]), quote(label(r.touch_values[t])), model_name(m), weights[t],
                             weights[t] * r.value);
      }
    }
    answer.credits_csv = std::move(csv);
  }
  CAIRN_RETURN_IF_ERROR(cat.lazy_status());
  return answer;
}

}  // namespace cairn::query
