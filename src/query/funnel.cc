#include "query/funnel.h"

#include <re2/re2.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

namespace cairn::query {

namespace {

using nlohmann::json;

double as_double(uint64_t bits) {
  double d;
  std::memcpy(&d, &bits, sizeof d);
  return d;
}

// Marks the catalog strings a filter value set matches.
Status compile_strings(const Filter& f, const Catalog& cat, CompiledFilter& out, const std::string& path) {
  out.strings.assign(cat.strings.size(), 0);
  if (f.op == Op::kContains) {
    const std::string needle = f.values[0].get<std::string>();
    for (uint32_t i = 0; i < cat.strings.size(); ++i)
      out.strings[i] = cat.strings.get(i).find(needle) != std::string_view::npos;
    return Status::ok();
  }
  if (f.op == Op::kRegex) {
    RE2 re(f.values[0].get<std::string>(), RE2::Quiet);
    if (!re.ok()) return Status::invalid_argument(fmt::format("{}.value: invalid regular expression: {}", path, re.error()));
    for (uint32_t i = 0; i < cat.strings.size(); ++i) {
      const std::string_view s = cat.strings.get(i);
      out.strings[i] = RE2::PartialMatch(re2::StringPiece(s.data(), s.size()), re);
    }
    return Status::ok();
  }
  for (const json& v : f.values) {  // eq, neq, in, not_in
    if (v.is_string()) {
      const uint32_t id = cat.strings.find(v.get<std::string>());
      if (id != StringPool::kMissing) out.strings[id] = 1;
    } else if (v.is_boolean()) {
      out.boolean = out.boolean == -1 || out.boolean == static_cast<int>(v.get<bool>()) ? v.get<bool>() : 2;
    } else {
      out.numbers.push_back(v.get<double>());
    }
  }
  return Status::ok();
}

}  // namespace

bool CompiledFilter::pass(const Cell& c) const {
  auto equal = [&]() {
    if (!c.present) return false;
    switch (c.type) {
      case ValueType::kString:
        return c.bits < strings.size() && strings[c.bits];
      case ValueType::kNumber: {
        const double d = as_double(c.bits);
        return std::find(numbers.begin(), numbers.end(), d) != numbers.end();
      }
      case ValueType::kBool:
        return boolean == 2 || boolean == static_cast<int>(c.bits);
    }
    return false;
  };
  switch (op) {
    case Op::kExists:
      return c.present;
    case Op::kEq:
    case Op::kIn:
    case Op::kContains:
    case Op::kRegex:
      return equal();
    case Op::kNeq:
    case Op::kNotIn:
      return !equal();
    case Op::kGt:
      return c.present && c.type == ValueType::kNumber && as_double(c.bits) > numbers[0];
    case Op::kGte:
      return c.present && c.type == ValueType::kNumber && as_double(c.bits) >= numbers[0];
    case Op::kLt:
      return c.present && c.type == ValueType::kNumber && as_double(c.bits) < numbers[0];
    case Op::kLte:
      return c.present && c.type == ValueType::kNumber && as_double(c.bits) <= numbers[0];
  }
  return false;
}

Result<CompiledFunnel> compile_funnel(const FunnelSpec& spec, const Catalog& cat) {
  CompiledFunnel f;
  f.spec = spec;
  auto key_index = [&](uint32_t key) {
    for (size_t i = 0; i < f.plan.keys.size(); ++i)
      if (f.plan.keys[i] == key) return static_cast<uint32_t>(i);
    f.plan.keys.push_back(key);
    return static_cast<uint32_t>(f.plan.keys.size() - 1);
  };
  for (size_t s = 0; s < spec.steps.size(); ++s) {
    std::vector<CompiledDef> defs;
    for (size_t d = 0; d < spec.steps[s].any_of.size(); ++d) {
      const EventDef& def = spec.steps[s].any_of[d];
      CompiledDef c;
      const uint32_t ev = cat.events.find(def.event);
      c.known = ev != StringPool::kMissing;
      c.event = c.known ? ev : 0;
      for (size_t w = 0; w < def.where.size(); ++w) {
        const Filter& filter = def.where[w];
        const std::string path = spec.steps[s].any_of.size() > 1 ? fmt::format("steps[{}].any_of[{}].where[{}]", s, d, w)
                                                                  : fmt::format("steps[{}].where[{}]", s, w);
        const uint32_t key = cat.keys.find(filter.property);
        if (key == StringPool::kMissing) {
          // No event has this property: only neq, not_in (absent differs) can hold.
          if (filter.op != Op::kNeq && filter.op != Op::kNotIn) c.known = false;
          continue;
        }
        CompiledFilter cf;
        cf.key = key_index(key);
        cf.op = filter.op;
        if (filter.op == Op::kGt || filter.op == Op::kGte || filter.op == Op::kLt || filter.op == Op::kLte) {
          cf.numbers.push_back(filter.values[0].get<double>());
        } else if (filter.op != Op::kExists) {
          CAIRN_RETURN_IF_ERROR(compile_strings(filter, cat, cf, path));
        }
        c.where.push_back(std::move(cf));
      }
      defs.push_back(std::move(c));
    }
    f.steps.push_back(std::move(defs));
  }
  // Only events that can take part: entries in the range, later steps within
  // the window after the last possible entry.
  f.plan.min_time = spec.from;
  f.plan.max_time = spec.to == INT64_MAX ? INT64_MAX : spec.to + spec.window;
  return f;
}

uint32_t step_mask(const CompiledFunnel& f, const PersonView& p, size_t i) {
  uint32_t mask = 0;
  for (size_t s = 0; s < f.steps.size(); ++s) {
    for (const CompiledDef& d : f.steps[s]) {
      if (!d.known || d.event != p.event[i]) continue;
      bool ok = true;
      for (const CompiledFilter& cf : d.where)
        if (!cf.pass(p.cell(cf.key, i))) {
          ok = false;
          break;
        }
      if (ok) {
        mask |= 1u << s;
        break;
      }
    }
  }
  return mask;
}

namespace {

struct Attempt {
  int reached = -1;
  uint32_t passed = 0;
  std::vector<Micros> times;
};

// Ordered and strict: from step k on, the previous step matched at event
// index `pos`. Returns the furthest step passed (k - 1 when step k fails).
struct Walker {
  const CompiledFunnel& f;
  const PersonView& p;
  const std::vector<uint32_t>& masks;
  Micros t0;
  Micros deadline;

  // Writes the chosen path into a and returns how far it gets.
  int walk(size_t k, size_t pos, Attempt& a) const {
    const size_t s = f.steps.size();
    if (k == s) return static_cast<int>(s) - 1;
    // The earliest event that can be step k.
    size_t j = SIZE_MAX;
    if (f.spec.order == Order::kStrict) {
      if (pos + 1 < p.n && p.time[pos + 1] <= deadline && (masks[pos + 1] >> k & 1)) j = pos + 1;
    } else {
      for (size_t i = pos + 1; i < p.n && p.time[i] <= deadline; ++i)
        if (masks[i] >> k & 1) {
          j = i;
          break;
        }
    }
    Attempt take = a;
    int take_reach = static_cast<int>(k) - 1;
    if (j != SIZE_MAX) {
      take.passed |= 1u << k;
      take.times[k] = p.time[j];
      take_reach = walk(k + 1, j, take);
    }
    if (!f.spec.steps[k].optional) {
      a = std::move(take);
      return take_reach;
    }
    Attempt skip = a;
    const int skip_reach = walk(k + 1, pos, skip);
    // A skipped optional step that leads nowhere further is not "reached".
    const int skip_eff = skip_reach >= static_cast<int>(k) + 1 ? skip_reach : static_cast<int>(k) - 1;
    if (j != SIZE_MAX && take_reach >= skip_eff) {
      a = std::move(take);
      return take_reach;
    }
    a = std::move(skip);
    return skip_eff;
  }
};

}  // namespace

PersonFunnel evaluate(const CompiledFunnel& f, const PersonView& p) {
  const size_t s = f.steps.size();
  std::vector<uint32_t> masks(p.n);
  for (size_t i = 0; i < p.n; ++i) masks[i] = step_mask(f, p, i);
  PersonFunnel best;
  best.times.assign(s, 0);
  for (size_t i = 0; i < p.n; ++i) {
    if (!(masks[i] & 1) || p.time[i] < f.spec.from || p.time[i] >= f.spec.to) continue;
    Attempt a;
    a.times.assign(s, 0);
    a.passed = 1;
    a.times[0] = p.time[i];
    const Micros deadline = p.time[i] > INT64_MAX - f.spec.window ? INT64_MAX : p.time[i] + f.spec.window;
    if (f.spec.order == Order::kAny) {
      // Each later step: its first matching event after the entry, within the window.
      for (size_t k = 1; k < s; ++k)
        for (size_t j = i + 1; j < p.n && p.time[j] <= deadline; ++j)
          if (masks[j] >> k & 1) {
            a.passed |= 1u << k;
            a.times[k] = p.time[j];
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
      Walker w{f, p, masks, p.time[i], deadline};
      a.reached = w.walk(1, i, a);
      for (size_t k = static_cast<size_t>(a.reached) + 1; k < s; ++k) a.passed &= ~(1u << k);
    }
    if (a.reached > best.reached) {
      best.reached = a.reached;
      best.passed = a.passed;
      best.times = a.times;
      if (best.reached == static_cast<int>(s) - 1) break;  // nothing later can beat it
    }
  }
  return best;
}

FunnelKernel::FunnelKernel(const CompiledFunnel& f)
    : f_(f),
      persons_(f.steps.size(), 0),
      skipped_(f.steps.size(), 0),
      from_previous_(f.steps.size()),
      from_start_(f.steps.size()) {}

void FunnelKernel::add(const PersonView& p) {
  const PersonFunnel r = evaluate(f_, p);
  if (r.reached < 0) return;
  // "Previous" is the step passed just before in the person's own time
  // order: the previous step of the funnel in ordered and strict modes, the
  // previous one they did in any mode.
  std::vector<std::pair<Micros, size_t>> done;
  for (int k = 0; k <= r.reached; ++k) {
    const size_t ks = static_cast<size_t>(k);
    if (!(r.passed >> k & 1)) {
      ++skipped_[ks];
      continue;
    }
    ++persons_[ks];
    done.emplace_back(r.times[ks], ks);
  }
  std::stable_sort(done.begin(), done.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t i = 1; i < done.size(); ++i) {
    const size_t k = done[i].second;
    from_previous_[k].push_back(done[i].first - done[i - 1].first);
    from_start_[k].push_back(done[i].first - r.times[0]);
  }
}

void FunnelKernel::merge(Kernel& other) {
  auto& o = static_cast<FunnelKernel&>(other);
  for (size_t k = 0; k < persons_.size(); ++k) {
    persons_[k] += o.persons_[k];
    skipped_[k] += o.skipped_[k];
    from_previous_[k].insert(from_previous_[k].end(), o.from_previous_[k].begin(), o.from_previous_[k].end());
    from_start_[k].insert(from_start_[k].end(), o.from_start_[k].begin(), o.from_start_[k].end());
  }
}

namespace {

// Median (mean of the two middle values for an even count), mean and 90th
// percentile (nearest rank) in seconds; nulls when there are no values.
json time_stats(std::vector<Micros> v) {
  if (v.empty()) return json{{"median", nullptr}, {"mean", nullptr}, {"p90", nullptr}, {"count", 0}};
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  const double median = n % 2 ? static_cast<double>(v[n / 2]) : (static_cast<double>(v[n / 2 - 1]) + static_cast<double>(v[n / 2])) / 2;
  double sum = 0;
  for (Micros x : v) sum += static_cast<double>(x);
  const size_t rank = static_cast<size_t>(std::ceil(0.9 * static_cast<double>(n)));
  const double p90 = static_cast<double>(v[std::max<size_t>(rank, 1) - 1]);
  const double us = static_cast<double>(kMicrosPerSecond);
  return json{{"median", median / us}, {"mean", sum / static_cast<double>(n) / us}, {"p90", p90 / us}, {"count", n}};
}

std::string step_label(const Step& s) {
  std::string out;
  for (const EventDef& d : s.any_of) out += (out.empty() ? "" : " | ") + d.event;
  return out;
}

}  // namespace

json FunnelKernel::result() const {
  json steps = json::array();
  const double entered = static_cast<double>(persons_[0]);
  size_t prev_required = 0;
  for (size_t k = 0; k < persons_.size(); ++k) {
    const Step& step = f_.spec.steps[k];
    json s;
    s["step"] = k;
    s["label"] = step_label(step);
    s["optional"] = step.optional;
    s["persons"] = persons_[k];
    s["conversion_from_start"] = entered > 0 ? static_cast<double>(persons_[k]) / entered : 0.0;
    if (k == 0) {
      s["conversion_from_previous"] = entered > 0 ? 1.0 : 0.0;
      s["dropped"] = 0;
      s["drop_rate"] = 0.0;
    } else {
      const double prev = static_cast<double>(persons_[prev_required]);
      s["conversion_from_previous"] = prev > 0 ? static_cast<double>(persons_[k]) / prev : 0.0;
      if (step.optional) {
        s["dropped"] = 0;
        s["drop_rate"] = 0.0;
        s["skipped"] = skipped_[k];
      } else {
        const uint64_t dropped = persons_[prev_required] - persons_[k];
        s["dropped"] = dropped;
        s["drop_rate"] = prev > 0 ? static_cast<double>(dropped) / prev : 0.0;
      }
      s["time_from_previous"] = time_stats(from_previous_[k]);
      s["time_from_start"] = time_stats(from_start_[k]);
    }
    if (!step.optional) prev_required = k;
    steps.push_back(std::move(s));
  }
  static constexpr const char* kOrder[] = {"ordered", "strict", "any"};
  return json{{"type", "funnel"},
              {"order", kOrder[static_cast<int>(f_.spec.order)]},
              {"window_seconds", static_cast<double>(f_.spec.window) / static_cast<double>(kMicrosPerSecond)},
              {"persons", persons_[0]},
              {"steps", std::move(steps)}};
}

Result<json> run_funnel(const Store& store, const FunnelSpec& spec, unsigned threads) {
  auto compiled = compile_funnel(spec, store.catalog());
  if (!compiled) return compiled.status();
  compiled->plan.threads = threads;
  const CompiledFunnel& f = *compiled;
  auto kernel = scan(store, f.plan, [&] { return std::make_unique<FunnelKernel>(f); });
  if (!kernel) return kernel.status();
  return static_cast<FunnelKernel&>(**kernel).result();
}

}  // namespace cairn::query
