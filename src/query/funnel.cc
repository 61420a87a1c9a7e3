#include "query/funnel.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <span>
#include <unordered_map>

#include <fmt/format.h>

#include "core/parallel.h"
#include "query/period.h"

namespace cairn::query {

using nlohmann::json;

void index_events(CompiledFunnel& f, size_t event_names) {
  f.event_any.assign(event_names, 0);
  f.event_plain.assign(event_names, 0);
  for (size_t s = 0; s < f.steps.size(); ++s)
    for (const CompiledDef& d : f.steps[s]) {
      if (!d.known || d.event >= event_names) continue;
      f.event_any[d.event] |= 1u << s;
      if (d.where.empty()) f.event_plain[d.event] |= 1u << s;
    }
  f.plain_only = f.event_any == f.event_plain;
}

Result<CompiledFunnel> compile_funnel(const FunnelSpec& spec, const Catalog& cat) {
  CompiledFunnel f;
  f.spec = spec;
  f.catalog = &cat;
  const KeySlot key_index = plan_key_slot(f.plan);
  for (size_t s = 0; s < spec.steps.size(); ++s) {
    std::vector<CompiledDef> defs;
    for (size_t d = 0; d < spec.steps[s].any_of.size(); ++d) {
      const std::string path =
          spec.steps[s].any_of.size() > 1 ? fmt::format("steps[{}].any_of[{}]", s, d) : fmt::format("steps[{}]", s);
      // The query's event filters hold for every step's events.
      EventDef def = spec.steps[s].any_of[d];
      def.where.insert(def.where.end(), spec.event_filters.begin(), spec.event_filters.end());
      auto c = compile_def(def, path, cat, key_index);
      if (!c) return c.status();
      defs.push_back(std::move(*c));
    }
    f.steps.push_back(std::move(defs));
  }
  index_events(f, cat.events.size());
  for (const Step& step : spec.steps) f.has_optional = f.has_optional || step.optional;
  for (size_t e = 0; e < spec.exclusions.size(); ++e) {
    auto c = compile_def(spec.exclusions[e].event, fmt::format("exclusions[{}]", e), cat, key_index);
    if (!c) return c.status();
    f.exclusions.push_back(CompiledExclusion{std::move(*c), spec.exclusions[e].from, spec.exclusions[e].to});
  }
  CAIRN_RETURN_IF_ERROR(f.traits.compile(spec.trait_filters, cat));
  if (!spec.entry_point.empty()) {
    const uint32_t key = cat.keys.find(spec.entry_point);
    if (key != StringPool::kMissing) f.entry_point_key = static_cast<int>(key_index(key));
  }
  if (spec.breakdown) f.group.compile(*spec.breakdown, cat, key_index);
  // Only events that can take part: entries in the range, later steps within
  // the window after the last possible entry.
  // (A person's first touch may come before the range.)
  f.plan.min_time = spec.entry_point.empty() ? spec.from : INT64_MIN;
  f.plan.max_time = spec.to == INT64_MAX ? INT64_MAX : spec.to + spec.window;
  return f;
}

uint32_t step_mask_conditions(const CompiledFunnel& f, const PersonView& p, size_t i, uint32_t mask, uint32_t rest) {
  for (; rest != 0; rest &= rest - 1) {
    const size_t s = static_cast<size_t>(__builtin_ctz(rest));
    for (const CompiledDef& d : f.steps[s])
      if (def_matches(d, p, i)) {
        mask |= 1u << s;
        break;
      }
  }
  return mask;
}

namespace {

using Attempt = PersonFunnel;

// Ordered and strict: from step k on, the previous step matched at event
// index `pos`. Returns the furthest step passed (k - 1 when step k fails).
struct Walker {
  const CompiledFunnel& f;
  const PersonView& p;
  const std::vector<uint32_t>& masks;
  Micros t0;
  Micros deadline;
  // An optional step is both taken and skipped to see which gets further,
  // so the same (step, position) comes up again and again: remembered, per
  // optional step and position, the reach and whether the step is taken.
  // (Without it 24 optional steps took 27 s on one person of 30 events.)
  mutable std::unordered_map<uint64_t, std::pair<int, bool>> memo;
  static uint64_t memo_key(size_t k, size_t pos) { return static_cast<uint64_t>(pos) << 6 | k; }  // k < 64

  // The earliest event after `pos` that can be step k, or SIZE_MAX.
  size_t next(size_t k, size_t pos) const {
    if (f.spec.order == Order::kStrict)
      return pos + 1 < p.n && p.time[pos + 1] <= deadline && (masks[pos + 1] >> k & 1) ? pos + 1 : SIZE_MAX;
    for (size_t i = pos + 1; i < p.n && p.time[i] <= deadline; ++i)
      if (masks[i] >> k & 1) return i;
    return SIZE_MAX;
  }

  // How far the best path from (k, pos) gets.
  int reach(size_t k, size_t pos) const {
    const size_t s = f.steps.size();
    if (k == s) return static_cast<int>(s) - 1;
    const size_t j = next(k, pos);
    if (!f.spec.steps[k].optional) return j == SIZE_MAX ? static_cast<int>(k) - 1 : reach(k + 1, j);
    const uint64_t key = memo_key(k, pos);
    if (const auto it = memo.find(key); it != memo.end()) return it->second.first;
    const int take_reach = j != SIZE_MAX ? reach(k + 1, j) : static_cast<int>(k) - 1;
    const int skip_reach = reach(k + 1, pos);
    // A skipped optional step that leads nowhere further is not "reached".
    const int skip_eff = skip_reach >= static_cast<int>(k) + 1 ? skip_reach : static_cast<int>(k) - 1;
    const bool take = j != SIZE_MAX && take_reach >= skip_eff;
    const int r = take ? take_reach : skip_eff;
    memo.emplace(key, std::pair<int, bool>{r, take});
    return r;
  }

  // Writes the chosen path from (k, pos) into a and returns how far it gets.
  int walk(size_t k, size_t pos, Attempt& a) const {
    const int r = reach(k, pos);
    for (const size_t s = f.steps.size(); k < s; ++k) {
      const size_t j = next(k, pos);
      const bool take = f.spec.steps[k].optional ? memo.at(memo_key(k, pos)).second : j != SIZE_MAX;
      if (!f.spec.steps[k].optional && !take) break;
      if (!take) continue;
      a.passed |= 1u << k;
      a.times[k] = p.time[j];
      a.index[k] = static_cast<uint32_t>(j);
      pos = j;
    }
    return r;
  }
};

}  // namespace

PersonFunnel evaluate(const CompiledFunnel& f, const PersonView& p, std::vector<uint32_t>& masks) {
  const size_t s = f.steps.size();
  // Grown only: resizing to each person's size zeroes the growth every time.
  if (masks.size() < p.n) masks.resize(std::max(p.n, 2 * masks.size()));
  uint32_t* mask = masks.data();
  const Micros from = f.spec.from, to = f.spec.to;
  PersonFunnel best;
  // The furthest step any attempt can reach. For ordered funnels without
  // optional steps or exclusions one pass finds it (as ClickHouse's
  // windowFunnel does: per step, the latest entry whose chain got there),
  // in the same loop that finds each event's steps; attempts are then tried
  // in order only until one gets that far.
  int bound = static_cast<int>(s) - 1;
  if (f.spec.order == Order::kOrdered && f.exclusions.empty() && !f.has_optional) {
    // First each event's steps, and the last event of a step after the
    // entry (rare next to entries and other events).
    size_t last_later = 0;  // 0 also when there is none: never after the entry
    if (f.plain_only) {
      // The table in locals: the stores to mask[] could alias f's vectors,
      // which would reload them every event.
      const uint32_t* plain = f.event_plain.data();
      const size_t events = f.event_plain.size();
      const uint32_t* ev = p.event;
      for (size_t i = 0; i < p.n; ++i) {
        const uint32_t e = ev[i];
        const uint32_t m = e < events ? plain[e] : 0;
        mask[i] = m;
        last_later = m > 1 ? i : last_later;
      }
    } else {
      for (size_t i = 0; i < p.n; ++i) {
        const uint32_t m = step_mask(f, p, i);
        mask[i] = m;
        last_later = m > 1 ? i : last_later;
      }
    }
    // The first entry in the range: no chain starts before it.
    size_t first = 0;
    while (first < p.n && !((mask[first] & 1) && p.time[first] >= from && p.time[first] < to)) ++first;
    if (first == p.n) return best;
    if (last_later <= first) {
      // No attempt gets past the entry (most persons of a typical funnel):
      // the first entry is the answer.
      best.reached = 0;
      best.passed = 1;
      best.times[0] = p.time[first];
      best.index[0] = static_cast<uint32_t>(first);
      return best;
    }
    std::array<Micros, kMaxSteps> latest;
    uint32_t has = 0;  // bit 0: an entry in the range
    Micros latest0 = 0;  // latest[0], in a register
    for (size_t i = first; i <= last_later; ++i) {
      const uint32_t m = mask[i];
      const Micros t = p.time[i];
      // Steps k >= 1 this event matches whose step k - 1 some chain has
      // reached, highest first (so each reads latest[k - 1] as it was
      // before this event; the bits of lower steps do not change here).
      // Rare next to entries and other events, so the one branch per event
      // is well predicted; entries are taken without a branch.
      if (uint32_t r = m & (has << 1) & ~1u; r != 0) [[unlikely]] {
        latest[0] = latest0;
        do {
          const size_t k = static_cast<size_t>(31 - __builtin_clz(r));
          r &= ~(1u << k);
          if (t - latest[k - 1] <= f.spec.window && (!(has >> k & 1) || latest[k - 1] > latest[k])) {
            latest[k] = latest[k - 1];
            has |= 1u << k;
          }
        } while (r != 0);
      }
      const bool entry = (m & 1) & (t >= from) & (t < to);
      latest0 = entry ? t : latest0;
      has |= static_cast<uint32_t>(entry);
    }
    bound = 31 - __builtin_clz(has);  // bit 0 is set: the loop began at an entry
  } else {
    uint32_t any_entry = 0;
    for (size_t i = 0; i < p.n; ++i) {
      const uint32_t m = step_mask(f, p, i);
      mask[i] = m;
      any_entry |= m & static_cast<uint32_t>(p.time[i] >= from) & static_cast<uint32_t>(p.time[i] < to);
    }
    if (!any_entry) return best;
  }
  Attempt a;  // reused: times and index are read only where passed
  for (size_t i = 0; i < p.n; ++i) {
    if (!(masks[i] & 1) || p.time[i] < f.spec.from || p.time[i] >= f.spec.to) continue;
    a.passed = 1;
    a.times[0] = p.time[i];
    a.index[0] = static_cast<uint32_t>(i);
    const Micros deadline = window_end(p.time[i], f.spec.window);
    if (bound == 0) {
      // No attempt gets past the entry (most persons of a typical funnel):
      // the first entry is the answer, without walking its window.
      a.reached = 0;
    } else if (f.spec.order == Order::kAny) {
      // Each later step: its first matching event after the entry, within the window.
      for (size_t k = 1; k < s; ++k)
        for (size_t j = i + 1; j < p.n && p.time[j] <= deadline; ++j)
          if (masks[j] >> k & 1) {
            a.passed |= 1u << k;
            a.times[k] = p.time[j];
            a.index[k] = static_cast<uint32_t>(j);
            break;
          }
      a.reached = 0;
      for (size_t k = 1; k < s; ++k) {
        if (!(a.passed >> k & 1)) {
          if (f.spec.steps[k].optional) continue;
          break;
        }
        a.reached = static_cast<int>(k);
      }
      // Optional steps beyond the furthest step do not count as passed.
      for (size_t k = static_cast<size_t>(a.reached) + 1; k < s; ++k) a.passed &= ~(1u << k);
    } else {
      Walker w{f, p, masks, p.time[i], deadline, {}};
      a.reached = w.walk(1, i, a);
      for (size_t k = static_cast<size_t>(a.reached) + 1; k < s; ++k) a.passed &= ~(1u << k);
    }
    // Exclusions: an excluded event between steps `from` and `to` (or the
    // last step passed, when `to` was not) stops the attempt at `from`.
    for (const CompiledExclusion& x : f.exclusions) {
      if (a.reached <= static_cast<int>(x.from) || !(a.passed >> x.from & 1)) continue;
      const size_t end = a.passed >> x.to & 1 ? a.index[x.to] : a.index[static_cast<size_t>(a.reached)];
      for (size_t m = a.index[x.from] + 1; m < end; ++m) {
        bool own = false;  // the attempt's own step events are not exclusions
        for (size_t k = 0; k < s; ++k) own = own || ((a.passed >> k & 1) && a.index[k] == m);
        if (!own && def_matches(x.def, p, m)) {
          a.reached = static_cast<int>(x.from);
          for (size_t k = x.from + 1; k < s; ++k) a.passed &= ~(1u << k);
          break;
        }
      }
    }
    if (a.reached > best.reached) {
      best.reached = a.reached;
      best.passed = a.passed;
      for (size_t k = 0; k < s; ++k)  // only passed steps' entries are set
        if (a.passed >> k & 1) {
          best.times[k] = a.times[k];
          best.index[k] = a.index[k];
        }
      if (best.reached == bound) break;  // nothing later can beat it
    }
  }
  return best;
}

FunnelCounts::FunnelCounts(size_t steps)
    : persons(steps, 0),
      skipped(steps, 0),
      from_previous(steps),
      from_start(steps),
      instead(steps),
      events_from_start(steps) {}

void FunnelCounts::merge(FunnelCounts& o) {
  for (size_t k = 0; k < persons.size(); ++k) {
    persons[k] += o.persons[k];
    skipped[k] += o.skipped[k];
    from_previous[k].append(std::move(o.from_previous[k]));
    from_start[k].append(std::move(o.from_start[k]));
    if (instead[k].size() < o.instead[k].size()) instead[k].resize(o.instead[k].size());
    for (size_t slot = 0; slot < o.instead[k].size(); ++slot) instead[k][slot] += o.instead[k][slot];
    events_from_start[k].append(std::move(o.events_from_start[k]));
  }
}

// The start of t's period in the query's timezone, as a day number.
int64_t FunnelKernel::period_of(Micros t) const {
  const Period p = f_.spec.trend == "week" ? Period::kWeek : f_.spec.trend == "month" ? Period::kMonth : Period::kDay;
  return period_start(t, *f_.spec.timezone, p);
}

FunnelKernel::FunnelKernel(const CompiledFunnel& f) : f_(f), total_(f.steps.size()) {}

void FunnelKernel::add(const PersonView& p) {
  if (f_.traits.active() && !f_.traits.pass(*f_.catalog, p.person)) return;
  const PersonFunnel r = evaluate(f_, p, masks_);
  if (r.reached < 0) return;
  const size_t s = f_.steps.size();
  const bool converted = r.reached == static_cast<int>(s) - 1;
  if (!f_.spec.trend.empty()) {
    auto& t = trend_[period_of(r.times[0])];
    ++t.first;
    t.second += converted;
  }
  if (f_.entry_point_key >= 0 || !f_.spec.entry_point.empty()) {
    GroupKey key = group_key(Cell{});
    if (f_.entry_point_key >= 0)
      for (size_t i = 0; i <= r.index[0]; ++i) {
        const Cell& c = p.cell(static_cast<size_t>(f_.entry_point_key), i);
        if (c.present) {
          key = group_key(c);
          break;
        }
      }
    auto& e = entry_points_[key];
    ++e.first;
    e.second += converted;
  }
  FunnelCounts* group = nullptr;
  if (f_.spec.breakdown) {
    const GroupKey key = f_.group.of(*f_.catalog, p, r.index[0]);
    auto it = groups_.find(key);
    if (it == groups_.end()) it = groups_.emplace(key, FunnelCounts(s)).first;
    group = &it->second;
  }
  // "Previous" is the step passed just before in the person's own time
  // order: the previous step of the funnel in ordered and strict modes, the
  // previous one they did in any mode.
  struct Done {  // trivial, so the buffer is not zeroed per person (512 bytes)
    Micros first;
    size_t second;
  };
  std::array<Done, kMaxSteps> done_buf;
  size_t ndone = 0;
  for (int k = 0; k <= r.reached; ++k)
    if (r.passed >> k & 1) done_buf[ndone++] = {r.times[static_cast<size_t>(k)], static_cast<size_t>(k)};
  const auto done = std::span(done_buf.data(), ndone);
  // By time, stable (an insertion sort: at most 32 entries, already in order
  // in ordered and strict modes, and no buffer to allocate).
  for (size_t i = 1; i < ndone; ++i)
    for (size_t j = i; j > 0 && done[j].first < done[j - 1].first; --j) std::swap(done[j], done[j - 1]);
  // What a person who dropped did instead: the event after their last
  // passed step's event, counted at the first required step they missed.
  size_t missed = static_cast<size_t>(r.reached) + 1;
  while (missed < s && f_.spec.steps[missed].optional) ++missed;
  const size_t last = r.index[static_cast<size_t>(r.reached)];
  const uint32_t next_event = last + 1 < p.n ? p.event[last + 1] : kNoEvent;
  for (FunnelCounts* c : {&total_, group}) {
    if (!c) continue;
    for (int k = 0; k <= r.reached; ++k) {  // within reach, only optional steps can be unpassed
      std::vector<uint64_t>& counts = r.passed >> k & 1 ? c->persons : c->skipped;
      ++counts[static_cast<size_t>(k)];
    }
    for (size_t i = 1; i < done.size(); ++i) {
      const size_t k = done[i].second;
      c->from_previous[k].push_back(done[i].first - done[i - 1].first);
      c->from_start[k].push_back(done[i].first - r.times[0]);
      c->events_from_start[k].push_back(static_cast<Micros>(r.index[k] - r.index[0]));
    }
    if (missed < s) {
      std::vector<uint64_t>& counts = c->instead[missed];
      const size_t slot = static_cast<uint32_t>(next_event + 1);  // kNoEvent: 0
      if (slot >= counts.size()) counts.resize(slot + 1);
      ++counts[slot];
    }
  }
  if (f_.spec.persons && persons_.size() < f_.spec.persons->limit) {
    const size_t k = f_.spec.persons->step;
    const bool passed = static_cast<int>(k) <= r.reached && (r.passed >> k & 1);
    if (f_.spec.persons->converted ? passed : !passed && static_cast<int>(k) == r.reached + 1) persons_.push_back(p.person);
  }
}

void FunnelKernel::merge(Kernel& other) {
  auto& o = static_cast<FunnelKernel&>(other);
  total_.merge(o.total_);
  for (auto& [key, counts] : o.groups_) {
    auto it = groups_.find(key);
    if (it == groups_.end())
      groups_.emplace(key, std::move(counts));
    else
      it->second.merge(counts);
  }
  for (uint32_t person : o.persons_)
    if (!f_.spec.persons || persons_.size() < f_.spec.persons->limit) persons_.push_back(person);
  for (const auto& [k, v] : o.trend_) {
    trend_[k].first += v.first;
    trend_[k].second += v.second;
  }
  for (const auto& [k, v] : o.entry_points_) {
    entry_points_[k].first += v.first;
    entry_points_[k].second += v.second;
  }
}

namespace {

std::string step_label(const Step& s) {
  std::string out;
  for (const EventDef& d : s.any_of) out += (out.empty() ? "" : " | ") + d.event;
  return out;
}

// Time-to-step histogram buckets (upper bounds in seconds; the last is open).
constexpr double kBuckets[] = {60, 600, 3600, 6 * 3600, 86400, 3 * 86400, 7 * 86400, 14 * 86400, 30 * 86400};

json histogram(const ValueLog& v) {
  std::vector<uint64_t> counts(std::size(kBuckets) + 1, 0);
  v.for_each([&](Micros x) {
    const double sec = static_cast<double>(x) / static_cast<double>(kMicrosPerSecond);
    size_t b = 0;
    while (b < std::size(kBuckets) && sec > kBuckets[b]) ++b;
    ++counts[b];
  });
  json out = json::array();
  for (size_t b = 0; b < counts.size(); ++b)
    out.push_back(json{{"up_to_seconds", b < std::size(kBuckets) ? json(kBuckets[b]) : json(nullptr)}, {"persons", counts[b]}});
  return out;
}

}  // namespace

std::string FunnelKernel::group_label(const GroupKey& k) const { return query::group_label(*f_.catalog, k); }

json FunnelKernel::counts_json(const FunnelCounts& c) const {
  // The time and count statistics are selections over each step's
  // converters (a million at 100M events; 60 ms on one thread for this
  // answer): independent, so computed on the scan's threads.
  const size_t nsteps = c.persons.size();
  std::vector<json> from_previous(nsteps), from_start(nsteps), events(nsteps);
  (void)parallel_for(3 * nsteps, resolve_threads(f_.plan.threads), [&](size_t task, unsigned) {
    const size_t k = task / 3;
    if (k == 0) return Status::ok();
    switch (task % 3) {
      case 0:
        from_previous[k] = time_stats(c.from_previous[k]);
        break;
      case 1:
        from_start[k] = time_stats(c.from_start[k]);
        from_start[k]["histogram"] = histogram(c.from_start[k]);
        break;
      default:
        events[k] = count_stats(c.events_from_start[k]);
    }
    return Status::ok();
  });
  json steps = json::array();
  const double entered = static_cast<double>(c.persons[0]);
  size_t prev_required = 0;
  for (size_t k = 0; k < c.persons.size(); ++k) {
    const Step& step = f_.spec.steps[k];
    json s;
    s["step"] = k;
    s["label"] = step_label(step);
    s["optional"] = step.optional;
    s["persons"] = c.persons[k];
    s["conversion_from_start"] = entered > 0 ? static_cast<double>(c.persons[k]) / entered : 0.0;
    if (k == 0) {
      s["conversion_from_previous"] = entered > 0 ? 1.0 : 0.0;
      s["dropped"] = 0;
      s["drop_rate"] = 0.0;
    } else {
      const double prev = static_cast<double>(c.persons[prev_required]);
      s["conversion_from_previous"] = prev > 0 ? static_cast<double>(c.persons[k]) / prev : 0.0;
      if (step.optional) {
        s["dropped"] = 0;
        s["drop_rate"] = 0.0;
        s["skipped"] = c.skipped[k];
      } else {
        const uint64_t dropped = c.persons[prev_required] - c.persons[k];
        s["dropped"] = dropped;
        s["drop_rate"] = prev > 0 ? static_cast<double>(dropped) / prev : 0.0;
        std::vector<std::pair<uint64_t, uint32_t>> top;
        for (size_t slot = 0; slot < c.instead[k].size(); ++slot)
          if (c.instead[k][slot] > 0) top.emplace_back(c.instead[k][slot], static_cast<uint32_t>(slot - 1));
        std::sort(top.begin(), top.end(), [&](const auto& a, const auto& b) {
          if (a.first != b.first) return a.first > b.first;
          return a.second < b.second;
        });
        json instead = json::array();
        for (size_t i = 0; i < top.size() && i < 5; ++i)
          instead.push_back(json{{"event", top[i].second == kNoEvent ? std::string("(nothing)")
                                                                      : std::string(f_.catalog->events.get(top[i].second))},
                                 {"persons", top[i].first}});
        s["dropped_next_events"] = std::move(instead);
      }
      s["time_from_previous"] = std::move(from_previous[k]);
      s["time_from_start"] = std::move(from_start[k]);
      s["events_from_start"] = std::move(events[k]);
    }
    if (!step.optional) prev_required = k;
    steps.push_back(std::move(s));
  }
  return steps;
}

json FunnelKernel::result() const {
  static constexpr const char* kOrder[] = {"ordered", "strict", "any"};
  json out{{"type", "funnel"},
           {"order", kOrder[static_cast<int>(f_.spec.order)]},
           {"window_seconds", static_cast<double>(f_.spec.window) / static_cast<double>(kMicrosPerSecond)},
           {"persons", total_.persons[0]},
           {"steps", counts_json(total_)}};
  // Groups by label: values that read the same (the string "7" and the
  // number 7) are one group.
  std::map<std::string, FunnelCounts> by_label;
  for (const auto& [key, counts] : groups_) {
    FunnelCounts copy = counts;
    by_label.try_emplace(group_label(key), f_.steps.size()).first->second.merge(copy);
  }
  if (f_.spec.breakdown) {
    // The largest groups by entered persons (ties by label); the rest is "other".
    std::vector<std::pair<std::string, const FunnelCounts*>> groups;
    for (const auto& [label, counts] : by_label) groups.emplace_back(label, &counts);
    std::sort(groups.begin(), groups.end(), [](const auto& a, const auto& b) {
      if (a.second->persons[0] != b.second->persons[0]) return a.second->persons[0] > b.second->persons[0];
      return a.first < b.first;
    });
    json list = json::array();
    FunnelCounts other(f_.steps.size());
    bool has_other = false;
    for (size_t i = 0; i < groups.size(); ++i) {
      if (i < f_.spec.breakdown->limit) {
        list.push_back(json{{"value", groups[i].first}, {"persons", groups[i].second->persons[0]},
                            {"steps", counts_json(*groups[i].second)}});
      } else {
        FunnelCounts copy = *groups[i].second;
        other.merge(copy);
        has_other = true;
      }
    }
    if (has_other) list.push_back(json{{"value", "other"}, {"persons", other.persons[0]}, {"steps", counts_json(other)}});
    out["breakdown"] = std::move(list);
  }
  if (f_.spec.breakdown && !f_.spec.compare.empty()) {
    const FunnelCounts* side[2] = {nullptr, nullptr};
    for (int i = 0; i < 2; ++i) {
      const auto it = by_label.find(f_.spec.compare[static_cast<size_t>(i)]);
      if (it != by_label.end()) side[i] = &it->second;
    }
    const size_t last = f_.steps.size() - 1;
    auto n = [&](int i) { return side[i] ? side[i]->persons[0] : 0; };
    auto x = [&](int i) { return side[i] ? side[i]->persons[last] : 0; };
    json cmp = z_test(x(0), n(0), x(1), n(1));
    for (int i = 0; i < 2; ++i)
      cmp[i == 0 ? "a" : "b"] = json{{"value", f_.spec.compare[static_cast<size_t>(i)]}, {"persons", n(i)}, {"converted", x(i)},
                                     {"conversion", n(i) ? static_cast<double>(x(i)) / static_cast<double>(n(i)) : 0.0}};
    out["comparison"] = std::move(cmp);
  }
  if (!f_.spec.trend.empty()) {
    std::vector<int64_t> days;
    for (const auto& [d, v] : trend_) days.push_back(d);
    std::sort(days.begin(), days.end());
    json list = json::array();
    for (int64_t d : days) {
      const auto& [entered, converted] = trend_.at(d);
      list.push_back(json{{"period", day_label(d)}, {"persons", entered}, {"converted", converted},
                          {"conversion", static_cast<double>(converted) / static_cast<double>(entered)}});
    }
    out["trend"] = std::move(list);
  }
  if (!f_.spec.entry_point.empty()) {
    std::map<std::string, std::pair<uint64_t, uint64_t>> merged;
    for (const auto& [key, v] : entry_points_) {
      auto& m = merged[group_label(key)];
      m.first += v.first;
      m.second += v.second;
    }
    std::vector<std::pair<std::string, std::pair<uint64_t, uint64_t>>> rows(merged.begin(), merged.end());
    std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
      if (a.second.first != b.second.first) return a.second.first > b.second.first;
      return a.first < b.first;
    });
    json list = json::array();
    for (const auto& [label, v] : rows)
      list.push_back(json{{"value", label}, {"persons", v.first}, {"converted", v.second},
                          {"conversion", static_cast<double>(v.second) / static_cast<double>(v.first)}});
    out["entry_points"] = std::move(list);
  }
  if (f_.spec.persons) {
    std::vector<std::string> ids;
    for (uint32_t person : persons_) ids.emplace_back(f_.catalog->id_string(person));
    std::sort(ids.begin(), ids.end());
    out["persons_list"] = json{{"step", f_.spec.persons->step},
                               {"status", f_.spec.persons->converted ? "converted" : "dropped"},
                               {"persons", ids}};
  }
  return out;
}

Result<json> run_funnel(const Store& store, const FunnelSpec& spec, unsigned threads) {
  auto compiled = compile_funnel(spec, store.catalog());
  if (!compiled) return compiled.status();
  CAIRN_RETURN_IF_ERROR(load_traits_if_read(store.catalog(), compiled->traits, &compiled->group));
  if (spec.persons) CAIRN_RETURN_IF_ERROR(store.catalog().load_persons());  // the list names persons by id
  auto answer = scan_result<FunnelKernel>(store, *compiled, threads);
  if (!answer) return answer.status();
  json out = std::move(*answer);
  if (spec.compare_funnel) {
    auto other = run_funnel(store, *spec.compare_funnel, threads);
    if (!other) return other.status();
    auto side = [](const json& r) {
      const uint64_t n = r["persons"].get<uint64_t>(), x = r["steps"].back()["persons"].get<uint64_t>();
      return std::pair<uint64_t, uint64_t>{n, x};
    };
    const auto [n1, x1] = side(out);
    const auto [n2, x2] = side(*other);
    json cmp = z_test(x1, n1, x2, n2);
    cmp["a"] = json{{"persons", n1}, {"converted", x1}, {"conversion", n1 ? static_cast<double>(x1) / static_cast<double>(n1) : 0.0}};
    cmp["b"] = json{{"persons", n2}, {"converted", x2}, {"conversion", n2 ? static_cast<double>(x2) / static_cast<double>(n2) : 0.0}};
    out["funnel_comparison"] = std::move(cmp);
    out["compare_funnel"] = std::move(*other);
  }
  return out;
}

}  // namespace cairn::query
