// What every report shares: event definitions and property filters resolved
// against the catalog, person trait filters, grouping by a property or a
// trait, value labels, and the statistics of the answers.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "query/scan.h"
#include "query/spec.h"
#include "storage/catalog.h"

namespace cairn::query {

// A filter resolved against the catalog.
struct CompiledFilter {
  uint32_t key = 0;  // index into ScanPlan::keys (catalog key id for trait filters)
  Op op = Op::kEq;
  std::vector<uint8_t> strings;       // contains/regex: per catalog string id, 1 when the value matches
  std::vector<uint32_t> string_ids;  // eq/neq/in/not_in (when `strings` is empty): the values' string ids
  std::vector<double> numbers;   // eq/in values, or the bound of gt/gte/lt/lte
  int boolean = -1;              // eq/in with true (1) or false (0)
  bool pass(const Cell& c) const;
};

// An event definition resolved against the catalog.
struct CompiledDef {
  uint32_t event = 0;
  bool known = false;  // false: the event name is not in the database, nothing matches
  std::vector<CompiledFilter> where;
};

// Maps a catalog key id to its index in a plan's keys (adding it).
using KeySlot = std::function<uint32_t(uint32_t)>;
KeySlot plan_key_slot(ScanPlan& plan);

// Compiles one filter into `out`; sets `never` when it cannot hold (a
// property no event or person has, except for neq and not_in, which an
// absent value passes).
Status compile_filter(const Filter& filter, const Catalog& cat, const KeySlot& key_slot, const std::string& path,
                      std::vector<CompiledFilter>& out, bool& never);
// Resolves one event definition; `path` names it in errors.
Result<CompiledDef> compile_def(const EventDef& def, const std::string& path, const Catalog& cat, const KeySlot& key_slot);

inline bool def_matches(const CompiledDef& d, const PersonView& p, size_t i) {
  if (!d.known || d.event != p.event[i]) return false;
  for (const CompiledFilter& cf : d.where)
    if (!cf.pass(p.cell(cf.key, i))) return false;
  return true;
}

// Resolves one event definition or `any_of` several into `out`; errors name
// PATH for one definition and PATH.any_of[k] for one of several.
Status compile_defs(const std::vector<EventDef>& defs, const std::string& path, const Catalog& cat, const KeySlot& key_slot,
                    std::vector<CompiledDef>& out);

// Whether any of the definitions matches event i (none given: no event does).
inline bool any_def_matches(const std::vector<CompiledDef>& defs, const PersonView& p, size_t i) {
  for (const CompiledDef& d : defs)
    if (def_matches(d, p, i)) return true;
  return false;
}

// The person's value of a trait (catalog key id), as a cell.
Cell trait_cell(const Catalog& cat, uint32_t person, uint32_t key);

// filters[] with "trait": conditions on the person.
struct TraitFilters {
  std::vector<CompiledFilter> filters;  // key: catalog key id
  bool never = false;                   // a filter on a trait nobody has
  Status compile(const std::vector<Filter>& filters, const Catalog& cat);
  bool active() const { return never || !filters.empty(); }
  bool pass(const Catalog& cat, uint32_t person) const;
};

// A breakdown value: (value type, bits), or (-1, 0) when absent.
struct GroupBy;
// Reads the catalog's persons part before a scan whose kernels read traits
// (trait filters, a breakdown by trait), so a damaged part is reported before
// any work; other scans never load it.
Status load_traits_if_read(const Catalog& cat, const TraitFilters& traits, const GroupBy* group);
using GroupKey = std::pair<int, uint64_t>;
struct GroupKeyHash {
  size_t operator()(const GroupKey& k) const { return std::hash<uint64_t>()(k.second * 31 + static_cast<uint64_t>(k.first)); }
};
inline GroupKey group_key(const Cell& c) { return c.present ? GroupKey{static_cast<int>(c.type), c.bits} : GroupKey{-1, 0}; }

// Grouping by an event property (of the event the report picks) or a trait.
struct GroupBy {
  bool active = false;
  int key = -1;                             // index into plan.keys: an event property
  uint32_t trait = StringPool::kMissing;    // catalog key id: a trait
  void compile(const Breakdown& b, const Catalog& cat, const KeySlot& key_slot);
  GroupKey of(const Catalog& cat, const PersonView& p, size_t event) const;
};

// A report's groups (breakdown or entry point values) as (label, counts):
// values that read the same (the string "7" and the number 7) are one group;
// the first `limit` by `before` (a strict order on counts; ties by label)
// stay, the rest merge into one group "other" at the end.
template <typename Counts, typename Before>
std::vector<std::pair<std::string, Counts>> top_groups(const Catalog& cat,
                                                       const std::unordered_map<GroupKey, Counts, GroupKeyHash>& groups,
                                                       size_t limit, Before before);

// The text of a value: a string, a whole number without a fraction, true/false.
std::string value_text(const Catalog& cat, ValueType type, uint64_t bits);
// A number's text as a value or a group's label: whole numbers without a
// decimal point ("7", not "7.0").
std::string number_text(double d);
// A group's label: its value's text, or "(none)".
std::string group_label(const Catalog& cat, const GroupKey& k);

// The index of the nearest-rank `percent` percentile (0 < percent <= 100) in
// `n` sorted values: the ceil(percent·n/100)-th smallest.
inline size_t nearest_rank(size_t n, double percent) {
  const double rank = std::ceil(percent * static_cast<double>(n) / 100);
  return static_cast<size_t>(std::max(rank, 1.0)) - 1;
}

// Samples of a statistic appended one at a time, kept in chunks that grow
// from 16 to 8,192 values: growing never reallocates and copies the samples
// (a funnel over millions of persons keeps millions, and the copies and
// fresh pages were a sixth of its time), and appending another log moves
// its chunks. A chunk keeps 32-bit values while they fit: whole
// milliseconds (a duration of data with millisecond timestamps) as
// milliseconds, else whole numbers below 2^32 (counts) as they are, else
// 64 bits; the first value that does not fit its chunk's form widens that
// chunk, and later chunks start in the wider form. At 100M events the
// funnel's logs took 39 MB in 64 bits, most of its memory.
class ValueLog {
 public:
  ValueLog() = default;
  ValueLog(ValueLog&&) = default;
  ValueLog& operator=(ValueLog&&) = default;
  ValueLog(const ValueLog& o);
  ValueLog& operator=(const ValueLog& o) {
    if (this != &o) *this = ValueLog(o);
    return *this;
  }

  void push_back(Micros v) {
    if (fill_ < cap_ && fits(form_, v)) [[likely]] {
      if (form_ == Form::kWide)
        wide_[fill_++] = v;
      else
        narrow_[fill_++] = static_cast<uint32_t>(static_cast<uint64_t>(v) / (form_ == Form::kMillis ? 1000 : 1));
      return;
    }
    push_slow(v);
  }
  size_t size() const { return sealed_ + fill_; }
  bool empty() const { return size() == 0; }
  // Moves o's values after this log's; o is left empty.
  void append(ValueLog&& o);
  // f(value) for every value, in order.
  template <typename F>
  void for_each(F&& f) const {
    for (size_t c = 0; c < chunks_.size(); ++c) {
      const Chunk& k = chunks_[c];
      const size_t n = c + 1 == chunks_.size() ? fill_ : k.n;
      if (k.form == Form::kWide)
        for (size_t i = 0; i < n; ++i) f(k.wide[i]);
      else
        for (size_t i = 0; i < n; ++i) f(value_of(k.form, k.narrow[i]));
    }
  }

 private:
  enum class Form : uint8_t { kMillis, kUnits, kWide };  // only ever widens, in this order
  // Whether a chunk of this form can keep v.
  static bool fits(Form form, Micros v) {
    const auto u = static_cast<uint64_t>(v);
    switch (form) {
      case Form::kMillis:
        return u % 1000 == 0 && u / 1000 <= 0xFFFFFFFFu;
      case Form::kUnits:
        return u <= 0xFFFFFFFFu;
      case Form::kWide:
        break;
    }
    return true;
  }
  // The value a 32-bit entry of a kMillis or kUnits chunk stands for.
  static Micros value_of(Form form, uint32_t x) {
    return static_cast<Micros>(uint64_t{x} * (form == Form::kMillis ? 1000 : 1));
  }
  struct Chunk {
    std::unique_ptr<uint32_t[]> narrow;  // kMillis, kUnits
    std::unique_ptr<Micros[]> wide;      // kWide
    size_t n = 0, cap = 0;  // n: kept current except for the last chunk (fill_)
    Form form = Form::kMillis;
  };
  void push_slow(Micros v);
  void add_chunk();
  void widen(Micros v);  // the last chunk, to a form that holds v too
  std::vector<Chunk> chunks_;
  uint32_t* narrow_ = nullptr;  // the last chunk's values
  Micros* wide_ = nullptr;
  Form form_ = Form::kMillis;  // the last chunk's form (a new log's first)
  size_t fill_ = 0, cap_ = 0;
  size_t sealed_ = 0;  // values in the chunks before the last
};

// Median (mean of the middle two for an even count), mean and p90 (nearest
// rank) of the values divided by `unit`, and their count; nulls when none.
nlohmann::json stats(std::span<const std::span<const Micros>> parts, double unit);
inline nlohmann::json stats(const std::vector<Micros>& v, double unit) {
  const std::span<const Micros> one(v);
  return stats(std::span(&one, 1), unit);
}
nlohmann::json stats(const ValueLog& v, double unit);
template <typename Values>
nlohmann::json time_stats(const Values& v) {
  return stats(v, static_cast<double>(kMicrosPerSecond));
}
template <typename Values>
nlohmann::json count_stats(const Values& v) {
  return stats(v, 1.0);
}

// num / den, or null when den is 0.
nlohmann::json ratio(double num, double den);

// Pooled two-proportion z-test of x1/n1 against x2/n2, two-sided p-value;
// nulls when a side is empty.
nlohmann::json z_test(uint64_t x1, uint64_t n1, uint64_t x2, uint64_t n2);

template <typename Counts, typename Before>
std::vector<std::pair<std::string, Counts>> top_groups(const Catalog& cat,
                                                       const std::unordered_map<GroupKey, Counts, GroupKeyHash>& groups,
                                                       size_t limit, Before before) {
  std::map<std::string, Counts> by_label;
  for (const auto& [key, counts] : groups) by_label[group_label(cat, key)].merge(counts);
  std::vector<std::pair<std::string, Counts>> ranked(std::make_move_iterator(by_label.begin()),
                                                     std::make_move_iterator(by_label.end()));
  std::stable_sort(ranked.begin(), ranked.end(), [&](const auto& a, const auto& b) { return before(a.second, b.second); });
  if (ranked.size() > limit) {
    Counts other;
    for (size_t i = limit; i < ranked.size(); ++i) other.merge(ranked[i].second);
    ranked.resize(limit);
    ranked.emplace_back("other", std::move(other));
  }
  return ranked;
}

}  // namespace cairn::query
