// Funnels, as SEMANTICS.md defines them: a person enters at an occurrence of
// step 0 inside the range; later steps must follow within the window; each
// person counts once, by the attempt that gets furthest (the earliest on a
// tie). Within an attempt every step is matched by its earliest possible
// event, and an optional step is taken unless taking it would stop the
// attempt from getting as far.
#pragma once

#include <cstdint>
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

struct CompiledFunnel {
  FunnelSpec spec;
  std::vector<std::vector<CompiledDef>> steps;  // per step, its any_of
  ScanPlan plan;
};

Result<CompiledFunnel> compile_funnel(const FunnelSpec& spec, const Catalog& catalog);

// How far one person got: the counted attempt.
struct PersonFunnel {
  int reached = -1;            // furthest step index passed; -1: never entered
  uint32_t passed = 0;         // bit k: step k passed
  std::vector<Micros> times;   // per step: time of its event (valid where passed)
};

// Bit k set when event i matches step k.
uint32_t step_mask(const CompiledFunnel& f, const PersonView& p, size_t i);
PersonFunnel evaluate(const CompiledFunnel& f, const PersonView& p);

class FunnelKernel final : public Kernel {
 public:
  explicit FunnelKernel(const CompiledFunnel& f);
  void add(const PersonView& p) override;
  void merge(Kernel& other) override;
  nlohmann::json result() const;

 private:
  const CompiledFunnel& f_;
  std::vector<uint64_t> persons_;   // per step
  std::vector<uint64_t> skipped_;   // per optional step: reached the next step without it
  std::vector<std::vector<Micros>> from_previous_, from_start_;
};

// Plans, scans and returns the answer JSON.
Result<nlohmann::json> run_funnel(const Store& store, const FunnelSpec& spec, unsigned threads);

}  // namespace cairn::query
