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

#include "query/common.h"
#include "query/scan.h"
#include "query/spec.h"
#include "storage/catalog.h"

namespace cairn::query {

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
  bool plain_only = true;  // no definition has a property condition: event_any == event_plain
  TraitFilters traits;
  int entry_point_key = -1;                       // index into plan.keys
  bool has_optional = false;                      // some step is optional
  GroupBy group;                                  // breakdown by an entry-event property or a trait
  const Catalog* catalog = nullptr;
  ScanPlan plan;
};

Result<CompiledFunnel> compile_funnel(const FunnelSpec& spec, const Catalog& catalog);
// Fills event_any / event_plain from the steps (compile_funnel calls it).
void index_events(CompiledFunnel& f, size_t event_names);

// How far one person got: the counted attempt.
constexpr size_t kMaxSteps = 32;

// Fixed-size, so evaluating a person allocates nothing. times and index are
// left uninitialised (zeroing their 384 bytes for every person and attempt
// was a fifth of evaluate's time): only entries of passed steps are set and read.
struct PersonFunnel {
  int reached = -1;                       // furthest step index passed; -1: never entered
  uint32_t passed = 0;                    // bit k: step k passed
  std::array<Micros, kMaxSteps> times;    // per step: time of its event (valid where passed)
  std::array<uint32_t, kMaxSteps> index;  // per step: index of its event (valid where passed)
};

// The steps among `rest` (steps whose definitions of event i have property
// conditions) that event i matches, or-ed into `mask`.
uint32_t step_mask_conditions(const CompiledFunnel& f, const PersonView& p, size_t i, uint32_t mask, uint32_t rest);
// Bit k set when event i matches step k: a table lookup, and the property
// conditions only where some step's definition of this event has them.
inline uint32_t step_mask(const CompiledFunnel& f, const PersonView& p, size_t i) {
  const uint32_t ev = p.event[i];
  if (ev >= f.event_any.size()) return 0;
  const uint32_t mask = f.event_plain[ev];
  const uint32_t rest = f.event_any[ev] & ~mask;
  return rest == 0 ? mask : step_mask_conditions(f, p, i, mask, rest);
}
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
  std::vector<ValueLog> from_previous, from_start;
  // Per step k: for persons who dropped before k, the event right after
  // their last passed step (kNoEvent: nothing followed), counted.
  std::vector<std::vector<uint64_t>> instead;  // per step, by event id + 1 (kNoEvent + 1 wraps to 0)
  std::vector<ValueLog> events_from_start;  // per step: events from the entry up to the step's event
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
  nlohmann::json counts_json(const FunnelCounts& c) const;
  std::string group_label(const GroupKey& k) const;

  const CompiledFunnel& f_;
  FunnelCounts total_;
  std::unordered_map<GroupKey, FunnelCounts, GroupKeyHash> groups_;
  std::vector<uint32_t> persons_;  // the requested persons list (person ids)
  // (entered, converted) by entry period start and by first-touch value.
  std::unordered_map<int64_t, std::pair<uint64_t, uint64_t>> trend_;
  std::unordered_map<GroupKey, std::pair<uint64_t, uint64_t>, GroupKeyHash> entry_points_;
  std::vector<uint32_t> masks_;  // scratch for evaluate()
  int64_t period_of(Micros t) const;
};

// Plans, scans and returns the answer JSON.
Result<nlohmann::json> run_funnel(const Store& store, const FunnelSpec& spec, unsigned threads);

}  // namespace cairn::query
