// A small work-sharing loop: the import's parse units, the store's partition
// writers and the query scan all hand out items to a few threads this way.
#pragma once

#include <cstddef>
#include <functional>

#include "core/status.h"

namespace cairn {

// `requested` threads, or one per core when it is 0 (at least 1).
unsigned resolve_threads(unsigned requested);

// Runs work(item, worker) for items 0..n-1 on min(threads, n) threads (the
// calling thread is worker 0); each worker takes the next item until none is
// left or its work returns an error. Returns the first error in worker order.
Status parallel_for(size_t n, unsigned threads, const std::function<Status(size_t item, unsigned worker)>& work);

}  // namespace cairn
