#include "core/parallel.h"

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

namespace cairn {

unsigned resolve_threads(unsigned requested) {
  return requested ? requested : std::max(1u, std::thread::hardware_concurrency());
}

Status parallel_for(size_t n, unsigned threads, const std::function<Status(size_t item, unsigned worker)>& work) {
  const unsigned workers = static_cast<unsigned>(std::max<size_t>(1, std::min<size_t>(threads, n)));
  std::vector<Status> status(workers);
  std::atomic<size_t> next{0};
  auto run = [&](unsigned w) {
    for (size_t i; (i = next.fetch_add(1)) < n;) {
      status[w] = work(i, w);
      if (!status[w].is_ok()) return;
    }
  };
  std::vector<std::thread> pool;
  for (unsigned w = 1; w < workers; ++w) pool.emplace_back(run, w);
  run(0);
  for (auto& t : pool) t.join();
  for (const Status& st : status) CAIRN_RETURN_IF_ERROR(st);
  return Status::ok();
}

}  // namespace cairn
