#include "query/common.h"

#include <re2/re2.h>

#include <algorithm>
#include <bit>
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

// The catalog strings a filter's values match: every string tested for
// contains/regex, only the values looked up for the others (a lazily opened
// catalog reads one index frame and chunk a value, not every string).
Status compile_strings(const Filter& f, const Catalog& cat, CompiledFilter& out, const std::string& path) {
  if (f.op == Op::kContains || f.op == Op::kRegex) out.strings.assign(cat.strings().size(), 0);
  if (f.op == Op::kContains) {
    const std::string needle = f.values[0].get<std::string>();
    for (uint32_t i = 0; i < cat.strings().size(); ++i)
      out.strings[i] = cat.strings().get(i).find(needle) != std::string_view::npos;
    return Status::ok();
  }
  if (f.op == Op::kRegex) {
    RE2 re(f.values[0].get<std::string>(), RE2::Quiet);
    if (!re.ok()) return Status::invalid_argument(fmt::format("{}.value: invalid regular expression: {}", path, re.error()));
    for (uint32_t i = 0; i < cat.strings().size(); ++i) {
      const std::string_view s = cat.strings().get(i);
      out.strings[i] = RE2::PartialMatch(re2::StringPiece(s.data(), s.size()), re);
    }
    return Status::ok();
  }
  for (const json& v : f.values) {  // eq, neq, in, not_in
    if (v.is_string()) {
      const uint32_t id = cat.find_string(v.get<std::string>());
      if (id != StringPool::kMissing) out.string_ids.push_back(id);
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
        if (!strings.empty()) return c.bits < strings.size() && strings[c.bits];
        return std::find(string_ids.begin(), string_ids.end(), c.bits) != string_ids.end();
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

KeySlot plan_key_slot(ScanPlan& plan) {
  return [&plan](uint32_t key) {
    for (size_t i = 0; i < plan.keys.size(); ++i)
      if (plan.keys[i] == key) return static_cast<uint32_t>(i);
    plan.keys.push_back(key);
    return static_cast<uint32_t>(plan.keys.size() - 1);
  };
}

Status compile_filter(const Filter& filter, const Catalog& cat, const KeySlot& key_slot, const std::string& path,
                      std::vector<CompiledFilter>& out, bool& never) {
  const uint32_t key = cat.keys.find(filter.property);
  if (key == StringPool::kMissing) {
    if (filter.op != Op::kNeq && filter.op != Op::kNotIn) never = true;
    return Status::ok();
  }
  CompiledFilter cf;
  cf.key = key_slot(key);
  cf.op = filter.op;
  if (filter.op == Op::kGt || filter.op == Op::kGte || filter.op == Op::kLt || filter.op == Op::kLte) {
    cf.numbers.push_back(filter.values[0].get<double>());
  } else if (filter.op != Op::kExists) {
    CAIRN_RETURN_IF_ERROR(compile_strings(filter, cat, cf, path));
  }
  out.push_back(std::move(cf));
  return Status::ok();
}

Result<CompiledDef> compile_def(const EventDef& def, const std::string& path, const Catalog& cat, const KeySlot& key_slot) {
  CompiledDef c;
  const uint32_t ev = cat.events.find(def.event);
  c.known = ev != StringPool::kMissing;
  c.event = c.known ? ev : 0;
  bool never = false;
  for (size_t w = 0; w < def.where.size(); ++w)
    CAIRN_RETURN_IF_ERROR(compile_filter(def.where[w], cat, key_slot, fmt::format("{}.where[{}]", path, w), c.where, never));
  if (never) c.known = false;
  return c;
}

Status compile_defs(const std::vector<EventDef>& defs, const std::string& path, const Catalog& cat, const KeySlot& key_slot,
                    std::vector<CompiledDef>& out) {
  for (size_t k = 0; k < defs.size(); ++k) {
    auto d = compile_def(defs[k], defs.size() == 1 ? path : fmt::format("{}.any_of[{}]", path, k), cat, key_slot);
    if (!d) return d.status();
    out.push_back(std::move(*d));
  }
  return Status::ok();
}

Cell trait_cell(const Catalog& cat, uint32_t person, uint32_t key) {
  Cell c;
  if (const auto* traits = cat.traits_of(person))
    for (const StoredProp& t : *traits)
      if (t.key == key) c = Cell{true, t.type, t.bits};
  return c;
}

Status TraitFilters::compile(const std::vector<Filter>& list, const Catalog& cat) {
  for (size_t i = 0; i < list.size(); ++i)
    CAIRN_RETURN_IF_ERROR(compile_filter(list[i], cat, [](uint32_t key) { return key; }, fmt::format("filters[{}]", i),
                                         filters, never));
  return Status::ok();
}

bool TraitFilters::pass(const Catalog& cat, uint32_t person) const {
  if (never) return false;
  for (const CompiledFilter& cf : filters)
    if (!cf.pass(trait_cell(cat, person, cf.key))) return false;
  return true;
}

Status load_traits_if_read(const Catalog& cat, const TraitFilters& traits, const GroupBy* group) {
  if (traits.active() || (group && group->trait != StringPool::kMissing)) return cat.load_persons();
  return Status::ok();
}

void GroupBy::compile(const Breakdown& b, const Catalog& cat, const KeySlot& key_slot) {
  active = true;
  if (!b.property.empty()) {
    const uint32_t k = cat.keys.find(b.property);
    if (k != StringPool::kMissing) key = static_cast<int>(key_slot(k));
  } else {
    trait = cat.keys.find(b.trait);
  }
}

GroupKey GroupBy::of(const Catalog& cat, const PersonView& p, size_t event) const {
  if (key >= 0) return group_key(p.cell(static_cast<size_t>(key), event));
  if (trait != StringPool::kMissing) return group_key(trait_cell(cat, p.person, trait));
  return group_key(Cell{});
}

std::string number_text(double d) {
  return d == std::trunc(d) && std::fabs(d) < 1e15 ? fmt::format("{}", static_cast<int64_t>(d)) : fmt::format("{}", d);
}

std::string value_text(const Catalog& cat, ValueType type, uint64_t bits) {
  switch (type) {
    case ValueType::kString: {
      // Out of range or "" when the value strings could not be read; the
      // query then reports that error (lazy_status) instead of the answer.
      return bits <= 0xFFFFFFFFu ? std::string(cat.string_at(static_cast<uint32_t>(bits))) : std::string();
    }
    case ValueType::kBool:
      return bits ? "true" : "false";
    case ValueType::kNumber:
      return number_text(as_double(bits));
  }
  return "";
}

std::string group_label(const Catalog& cat, const GroupKey& k) {
  if (k.first < 0) return "(none)";
  return value_text(cat, static_cast<ValueType>(k.first), k.second);
}

namespace {

// The values at ranks r[0..nr) (0-based, in ascending order of the values)
// without sorting or copying them: a histogram of at most 2^16 buckets over
// [lo, hi] (the least and greatest) finds each rank's bucket, whose values
// are then gathered and selected among. Three passes over the values, where
// a selection over a copy of them took most of a funnel answer's serial tail.
// each(f) calls f on every value.
template <typename Each>
void values_at_ranks(const Each& each, size_t n, Micros lo, Micros hi, const size_t* r, size_t nr, Micros* out) {
  if (n <= 4096) {  // few: a copy and selections (no histogram to clear)
    std::vector<Micros> w;
    w.reserve(n);
    each([&](Micros x) { w.push_back(x); });
    for (size_t q = 0; q < nr; ++q) {
      std::nth_element(w.begin(), w.begin() + static_cast<std::ptrdiff_t>(r[q]), w.end());
      out[q] = w[r[q]];
    }
    return;
  }
  const uint64_t span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
  const int bits = std::bit_width(span);
  const int shift = bits > 16 ? bits - 16 : 0;
  auto bucket = [&](Micros x) { return static_cast<size_t>((static_cast<uint64_t>(x) - static_cast<uint64_t>(lo)) >> shift); };
  std::vector<uint64_t> count(static_cast<size_t>(span >> shift) + 1, 0);
  each([&](Micros x) { ++count[bucket(x)]; });
  std::vector<Micros> in;
  for (size_t q = 0; q < nr; ++q) {
    size_t b = 0;
    uint64_t before = 0;
    while (before + count[b] <= r[q]) before += count[b++];
    if (shift == 0) {  // a bucket holds one value
      out[q] = static_cast<Micros>(static_cast<uint64_t>(lo) + b);
      continue;
    }
    in.clear();
    each([&](Micros x) {
      if (bucket(x) == b) in.push_back(x);
    });
    const auto at = in.begin() + static_cast<std::ptrdiff_t>(r[q] - before);
    std::nth_element(in.begin(), at, in.end());
    out[q] = *at;
  }
}

// stats() over the n values each(f) gives.
template <typename Each>
json stats_of(const Each& each, size_t n, double unit) {
  if (n == 0) return json{{"median", nullptr}, {"mean", nullptr}, {"p90", nullptr}, {"count", 0}};
  // Exact (and so independent of order), then the values at three ranks.
  __int128 sum = 0;
  Micros lo = INT64_MAX, hi = INT64_MIN;
  each([&](Micros x) {
    sum += x;
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  });
  const size_t mid = n / 2, rank90 = nearest_rank(n, 90);
  // The median: the middle value, or the mean of the two middle ones.
  const size_t ranks[3] = {n % 2 ? mid : mid - 1, mid, rank90};
  Micros at[3];
  values_at_ranks(each, n, lo, hi, ranks, 3, at);
  const double median = n % 2 ? static_cast<double>(at[1]) : (static_cast<double>(at[0]) + static_cast<double>(at[1])) / 2;
  const double p90 = static_cast<double>(at[2]);
  return json{{"median", median / unit},
              {"mean", static_cast<double>(sum) / static_cast<double>(n) / unit},
              {"p90", p90 / unit},
              {"count", n}};
}

}  // namespace

ValueLog::ValueLog(const ValueLog& o) {
  o.for_each([&](Micros x) { push_back(x); });
}

void ValueLog::add_chunk() {
  if (!chunks_.empty()) {
    chunks_.back().n = fill_;
    sealed_ += fill_;
  }
  cap_ = chunks_.empty() ? 16 : std::min<size_t>(cap_ * 2, 8192);
  Chunk c{nullptr, nullptr, 0, cap_, form_};
  if (form_ == Form::kWide)
    c.wide = std::make_unique_for_overwrite<Micros[]>(cap_);
  else
    c.narrow = std::make_unique_for_overwrite<uint32_t[]>(cap_);
  chunks_.push_back(std::move(c));
  narrow_ = chunks_.back().narrow.get();
  wide_ = chunks_.back().wide.get();
  fill_ = 0;
}

void ValueLog::widen(Micros v) {
  Chunk& c = chunks_.back();
  // The chunk's values so far, as the 64-bit values they stand for.
  std::vector<Micros> held;
  held.reserve(fill_);
  for (size_t i = 0; i < fill_; ++i) held.push_back(value_of(form_, c.narrow[i]));
  auto units = [](Micros x) { return fits(Form::kUnits, x); };
  form_ = form_ == Form::kMillis && units(v) && std::all_of(held.begin(), held.end(), units) ? Form::kUnits : Form::kWide;
  c.form = form_;
  if (form_ == Form::kWide) {
    c.wide = std::make_unique_for_overwrite<Micros[]>(c.cap);
    std::copy(held.begin(), held.end(), c.wide.get());
    c.narrow.reset();
  } else {
    for (size_t i = 0; i < held.size(); ++i) c.narrow[i] = static_cast<uint32_t>(held[i]);
  }
  narrow_ = c.narrow.get();
  wide_ = c.wide.get();
}

void ValueLog::push_slow(Micros v) {
  if (fill_ == cap_) add_chunk();
  if (!fits(form_, v)) widen(v);
  push_back(v);  // fits now, with room
}

void ValueLog::append(ValueLog&& o) {
  if (o.chunks_.empty()) return;
  const size_t total = size() + o.size();
  if (!chunks_.empty()) chunks_.back().n = fill_;
  o.chunks_.back().n = o.fill_;
  for (Chunk& c : o.chunks_) chunks_.push_back(std::move(c));
  // Go on filling o's last chunk, in its form.
  Chunk& last = chunks_.back();
  narrow_ = last.narrow.get();
  wide_ = last.wide.get();
  form_ = last.form;
  fill_ = last.n;
  cap_ = last.cap;
  sealed_ = total - fill_;
  o = ValueLog();
}

json stats(std::span<const std::span<const Micros>> parts, double unit) {
  size_t n = 0;
  for (std::span<const Micros> part : parts) n += part.size();
  return stats_of(
      [&](auto&& f) {
        for (std::span<const Micros> part : parts)
          for (Micros x : part) f(x);
      },
      n, unit);
}

json stats(const ValueLog& v, double unit) {
  return stats_of([&](auto&& f) { v.for_each(f); }, v.size(), unit);
}

json ratio(double num, double den) { return den == 0 ? json(nullptr) : json(num / den); }

json z_test(uint64_t x1, uint64_t n1, uint64_t x2, uint64_t n2) {
  if (n1 == 0 || n2 == 0) return json{{"z", nullptr}, {"p_value", nullptr}};
  const double p1 = static_cast<double>(x1) / static_cast<double>(n1), p2 = static_cast<double>(x2) / static_cast<double>(n2);
  const double p = static_cast<double>(x1 + x2) / static_cast<double>(n1 + n2);
  const double se = std::sqrt(p * (1 - p) * (1.0 / static_cast<double>(n1) + 1.0 / static_cast<double>(n2)));
  if (se == 0) return json{{"z", 0.0}, {"p_value", 1.0}};
  const double z = (p1 - p2) / se;
  return json{{"z", z}, {"p_value", std::erfc(std::fabs(z) / std::sqrt(2.0))}};
}

}  // namespace cairn::query
