// The executor: scans the store's partitions on several threads and hands
// each person's events, in (time, arrival) order, to an analysis kernel.
// Segments of a partition are merged person by person (a person's rows may
// sit in several segments until compaction); blocks outside the plan's time
// range are skipped unread. Kernels fold persons into a state, states of the
// threads merge, and the kernel's owner turns the merged state into a result.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "core/status.h"
#include "storage/store.h"

namespace cairn::query {

// One property value of one event, as the query reads it.
struct Cell {
  bool present = false;
  ValueType type = ValueType::kString;
  uint64_t bits = 0;  // string id, double bits or 0/1
};

// A person's events within the plan's time range.
struct PersonView {
  uint32_t person = 0;
  size_t n = 0;
  const Micros* time = nullptr;
  const uint32_t* event = nullptr;
  // (*cells)[k][base + i]: the value of the plan's k-th key on event i.
  const std::vector<std::vector<Cell>>* cells = nullptr;
  size_t base = 0;
  const Cell& cell(size_t key, size_t i) const { return (*cells)[key][base + i]; }
};

class Kernel {
 public:
  virtual ~Kernel() = default;
  virtual void add(const PersonView& p) = 0;
  virtual void merge(Kernel& other) = 0;
};

struct ScanPlan {
  Micros min_time = INT64_MIN;  // events outside [min_time, max_time] are not read
  Micros max_time = INT64_MAX;
  std::vector<uint32_t> keys;  // catalog key ids whose values kernels read
  unsigned threads = 0;        // 0: one per core
};

// Runs make() once per partition, scans the partitions on `plan.threads`
// threads, and merges the kernels into the first in partition order (so the
// answer does not depend on scheduling), which is returned.
Result<std::unique_ptr<Kernel>> scan(const Store& store, const ScanPlan& plan,
                                     const std::function<std::unique_ptr<Kernel>()>& make);

// A report's scan end to end: one KernelT per partition over the compiled
// query (its plan run on `threads`), the merged kernel's result(args...),
// and any failure to read a value or person the answer needed.
template <typename KernelT, typename Compiled, typename... Args>
auto scan_result(const Store& store, Compiled& compiled, unsigned threads, const Args&... args)
    -> Result<decltype(std::declval<const KernelT&>().result(args...))> {
  compiled.plan.threads = threads;
  const Compiled& c = compiled;
  auto kernel = scan(store, c.plan, [&] { return std::make_unique<KernelT>(c); });
  if (!kernel) return kernel.status();
  auto out = static_cast<KernelT&>(**kernel).result(args...);
  CAIRN_RETURN_IF_ERROR(store.catalog().lazy_status());
  return out;
}

}  // namespace cairn::query
