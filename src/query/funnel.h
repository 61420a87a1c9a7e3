// Funnels, as SEMANTICS.md defines them: a person enters at an occurrence of
// step 0 inside the range; later steps must follow within the window; each
// person counts once, by the attempt that gets furthest (the earliest on a
// tie). Within an attempt every step is matched by its earliest possible
// event, and an optional step is taken unless taking it would stop the
// attempt from getting as far.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "query/scan.h"
#include "query/spec.h"
#include "storage/catalog.h"

namespace cairn::query {

// A step's event definitions resolved against the catalog.
struct CompiledFilter {
  uint32_t key = 0;  // index into ScanPlan::keys
  Op op = Op::kEq;
  std::vector<uint8_t> strings;  // per catalog string id: 1 when the value matches (eq/in/contains/regex)
  std::vector<double> numbers;   // eq/in values, or the bound of gt/gte/lt/lte
  int boolean = -1;              // eq/in with true (1) or false (0)
  bool pass(const Cell& c) const;
};

struct CompiledDef {
  uint32_t event = 0;
  bool known = false;  // false: the event name is not in the database, nothing matches
  std::vector<CompiledFilter> where;
};

struct CompiledExclusion {
  CompiledDef def;
  size_t from = 0, to = 1;
};

struct CompiledFunnel {
  FunnelSpec spec;
  std::vector<std::vector<CompiledDef>> steps;  // per step, its any_of
  std::vector<CompiledExclusion> exclusions;
  // Per catalog event id: the steps some definition of that event could
  // match (any), and those it matches with no property condition (plain).
  std::vector<uint32_t> event_any, event_plain;
  std::vector<CompiledFilter> trait_filters;      // key: catalog key id
  bool traits_never = false;                      // a trait filter on a trait nobody has
  int entry_point_key = -1;                       // index into plan.keys
  bool has_optional = false;                      // some step is optional
  int breakdown_key = -1;                         // index into plan.keys: breakdown by an entry-event property
  uint32_t breakdown_trait = StringPool::kMissing;  // catalog key id: breakdown by a trait
  const Catalog* catalog = nullptr;
  ScanPlan plan;
};

Result<CompiledFunnel> compile_funnel(const FunnelSpec& spec, const Catalog& catalog);
// Fills event_any / event_plain from the steps (compile_funnel calls it).
void index_events(CompiledFunnel& f, size_t event_names);

// How far one person got: the counted attempt.
constexpr size_t kMaxSteps = 32;

// Fixed-size, so evaluating a person allocates nothing.
struct PersonFunnel {
  int reached = -1;                       // furthest step index passed; -1: never entered
  uint32_t passed = 0;                    // bit k: step k passed
  std::array<Micros, kMaxSteps> times{};  // per step: time of its event (valid where passed)
  std::array<uint32_t, kMaxSteps> index{};  // per step: index of its event (valid where passed)
};

// Bit k set when event i matches step k.
uint32_t step_mask(const CompiledFunnel& f, const PersonView& p, size_t i);
// `masks` is scratch space (reused across persons).
PersonFunnel evaluate(const CompiledFunnel& f, const PersonView& p, std::vector<uint32_t>& masks);
inline PersonFunnel evaluate(const CompiledFunnel& f, const PersonView& p) {
  std::vector<uint32_t> masks;
  return evaluate(f, p, masks);
}

// The counts of one group of persons (all, or one breakdown value).
struct FunnelCounts {
  std::vector<uint64_t> persons;  // per step
  std::vector<uint64_t> skipped;  // per optional step: went on without it
  std::vector<std::vector<Micros>> from_previous, from_start;
  // Per step k: for persons who dropped before k, the event right after
  // their last passed step (kNoEvent: nothing followed), counted.
  std::vector<std::unordered_map<uint32_t, uint64_t>> instead;
  std::vector<std::vector<Micros>> events_from_start;  // per step: events from the entry up to the step's event
  explicit FunnelCounts(size_t steps = 0);
  void merge(FunnelCounts& o);
};

class FunnelKernel final : public Kernel {
 public:
  explicit FunnelKernel(const CompiledFunnel& f);
  void add(const PersonView& p) override;
  void merge(Kernel& other) override;
  nlohmann::json result() const;

  static constexpr uint32_t kNoEvent = 0xFFFFFFFFu;

 private:
  // A breakdown value: (type, bits), or absent.
  using GroupKey = std::pair<int, uint64_t>;
  struct GroupKeyHash {
    size_t operator()(const GroupKey& k) const { return std::hash<uint64_t>()(k.second * 31 + static_cast<uint64_t>(k.first)); }
  };
  nlohmann::json counts_json(const FunnelCounts& c) const;
  std::string group_label(const GroupKey& k) const;

  const CompiledFunnel& f_;
  FunnelCounts total_;
  std::unordered_map<GroupKey, FunnelCounts, GroupKeyHash> groups_;
  std::vector<uint32_t> persons_;  // the requested persons list (person ids)
  // (entered, converted) by entry period start and by first-touch value.
  std::unordered_map<int64_t, std::pair<uint64_t, uint64_t>> trend_;
  std::unordered_map<GroupKey, std::pair<uint64_t, uint64_t>, GroupKeyHash> entry_points_;
  bool traits_pass(uint32_t person) const;
  // The person's value of a trait (catalog key id), as a cell.
  Cell trait_cell(uint32_t person, uint32_t key) const;
  // A breakdown or entry-point group: the cell's (type, bits), or absent.
  static GroupKey group_key(const Cell& c) { return c.present ? GroupKey{static_cast<int>(c.type), c.bits} : GroupKey{-1, 0}; }
  std::vector<uint32_t> masks_;  // scratch for evaluate()
  int64_t period_of(Micros t) const;
};

// Plans, scans and returns the answer JSON.
Result<nlohmann::json> run_funnel(const Store& store, const FunnelSpec& spec, unsigned threads);

}  // namespace cairn::query
