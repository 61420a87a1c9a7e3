#include "query/scan.h"

#include <algorithm>
#include <numeric>

#include "core/parallel.h"

namespace cairn::query {

namespace {

// Walks one segment block by block, decoding the core columns and the
// plan's keys of each block it does not skip.
class Cursor {
 public:
  explicit Cursor(const ScanPlan& plan) : plan_(plan) { core_.person_per_row = false; }

  // Starts on the first block of `seg`. A worker's cursors go from
  // partition to partition keeping their buffers, whose pages are mapped
  // already (fresh ones for each partition were 12K page faults a query).
  Status start(const SegmentReader& seg) {
    seg_ = &seg;
    next_block_ = 0;
    done_ = false;
    return advance();
  }

  // Loads the next block that overlaps the plan's time range.
  Status advance() {
    row_ = 0;
    run_ = 0;
    while (next_block_ < seg_->blocks().size()) {
      const size_t b = next_block_++;
      const BlockInfo& info = seg_->blocks()[b];
      if (info.max_time < plan_.min_time || info.min_time > plan_.max_time) continue;
      CAIRN_RETURN_IF_ERROR(seg_->read_core(b, core_));
      const size_t rows = core_.time.size();
      // The columns keep their capacity from block to block (a fresh
      // megabyte per key and block cost page faults and clearing), and
      // only the cells the last block set are cleared: most keys are on a
      // few of the events, and clearing 16 bytes per row and key was most
      // of the work.
      cells_.resize(plan_.keys.size());
      set_.resize(plan_.keys.size());
      for (size_t k = 0; k < plan_.keys.size(); ++k) {
        std::vector<Cell>& col = cells_[k];
        for (uint32_t r : set_[k]) col[r] = Cell{};
        set_[k].clear();
        col.resize(rows);
        for (size_t slot = 0; slot < info.keys.size(); ++slot) {
          if (info.keys[slot].first != plan_.keys[k]) continue;
          CAIRN_RETURN_IF_ERROR(seg_->read_key(b, slot, key_));
          for (size_t i = 0; i < key_.rows.size(); ++i)
            col[key_.rows[i]] = Cell{true, key_.values[i].type, key_.values[i].bits};  // rows < block rows: read_key checks
          set_[k].insert(set_[k].end(), key_.rows.begin(), key_.rows.end());
        }
      }
      if (rows > 0) return Status::ok();
    }
    done_ = true;
    return Status::ok();
  }

  bool done() const { return done_; }
  // The block's rows come in person runs (read_core checks that persons
  // ascend and that the runs cover the rows): a person is one run.
  uint32_t person() const { return core_.run_person[run_]; }
  // When the current person's rows end inside this block, points `view` at
  // their rows within the time range (no copy) and moves past them.
  bool take_view(PersonView& view) {
    if (run_ + 1 >= core_.runs.size()) return false;  // the person may go on in the next block
    const size_t end = row_ + core_.runs[run_];
    // A person's rows are in time order: those in range are contiguous.
    size_t lo = row_, hi = end;
    while (lo < hi && core_.time[lo] < plan_.min_time) ++lo;
    while (hi > lo && core_.time[hi - 1] > plan_.max_time) --hi;
    view = PersonView{person(), hi - lo, core_.time.data() + lo, core_.event.data() + lo, &cells_, lo};
    row_ = end;
    ++run_;
    return true;
  }
  // Appends the current person's rows within the time range, then moves on.
  Status take(std::vector<Micros>& time, std::vector<uint32_t>& event, std::vector<std::vector<Cell>>& cells) {
    const size_t end = row_ + core_.runs[run_];
    for (; row_ < end; ++row_) {
      const Micros t = core_.time[row_];
      if (t < plan_.min_time || t > plan_.max_time) continue;
      time.push_back(t);
      event.push_back(core_.event[row_]);
      for (size_t k = 0; k < cells_.size(); ++k) cells[k].push_back(cells_[k][row_]);
    }
    if (++run_ == core_.runs.size()) return advance();
    return Status::ok();
  }

 private:
  const SegmentReader* seg_ = nullptr;
  const ScanPlan& plan_;
  size_t next_block_ = 0;
  size_t row_ = 0;  // the first row of run_
  size_t run_ = 0;
  bool done_ = false;
  BlockColumns core_;
  KeyColumn key_;
  std::vector<std::vector<Cell>> cells_;
  std::vector<std::vector<uint32_t>> set_;  // per key: the rows of cells_ the current block set
};

// Feeds every person of one partition to the kernel.
// `pool`: the worker's cursors, kept from partition to partition.
Status scan_partition(const std::vector<SegmentReader>& segments, const ScanPlan& plan, Kernel& kernel,
                      std::vector<std::unique_ptr<Cursor>>& pool) {
  while (pool.size() < segments.size()) pool.push_back(std::make_unique<Cursor>(plan));
  std::vector<Cursor*> cursors;
  for (size_t i = 0; i < segments.size(); ++i) {
    CAIRN_RETURN_IF_ERROR(pool[i]->start(segments[i]));
    cursors.push_back(pool[i].get());
  }
  std::vector<Micros> time;
  std::vector<uint32_t> event;
  std::vector<std::vector<Cell>> cells(plan.keys.size());
  // For persons spread over several segments: merge by time, keeping the
  // segments' order (older segments first) for equal times.
  std::vector<uint32_t> order;
  std::vector<Micros> time2;
  std::vector<uint32_t> event2;
  std::vector<std::vector<Cell>> cells2(plan.keys.size());
  for (;;) {
    uint32_t person = UINT32_MAX;
    bool any = false;
    for (const Cursor* c : cursors)
      if (!c->done()) {
        person = any ? std::min(person, c->person()) : c->person();
        any = true;
      }
    if (!any) return Status::ok();
    int sources = 0;
    Cursor* only = nullptr;
    for (Cursor* c : cursors)
      if (!c->done() && c->person() == person) {
        ++sources;
        only = c;
      }
    if (sources == 1) {  // the common case: hand the kernel the block's own rows
      PersonView direct;
      if (only->take_view(direct)) {
        if (direct.n > 0) kernel.add(direct);
        continue;
      }
    }
    time.clear();
    event.clear();
    for (auto& col : cells) col.clear();
    sources = 0;
    for (Cursor* c : cursors) {
      if (c->done() || c->person() != person) continue;
      ++sources;
      CAIRN_RETURN_IF_ERROR(c->take(time, event, cells));
    }
    if (time.empty()) continue;
    PersonView view{person, time.size(), time.data(), event.data(), &cells};
    if (sources > 1 && !std::is_sorted(time.begin(), time.end())) {
      order.resize(time.size());
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return time[a] < time[b]; });
      time2.clear();
      event2.clear();
      for (size_t k = 0; k < cells.size(); ++k) cells2[k].clear();
      for (uint32_t i : order) {
        time2.push_back(time[i]);
        event2.push_back(event[i]);
        for (size_t k = 0; k < cells.size(); ++k) cells2[k].push_back(cells[k][i]);
      }
      view = PersonView{person, time2.size(), time2.data(), event2.data(), &cells2};
    }
    kernel.add(view);
  }
}

}  // namespace

Result<std::unique_ptr<Kernel>> scan(const Store& store, const ScanPlan& plan,
                                     const std::function<std::unique_ptr<Kernel>()>& make) {
  const uint32_t partitions = store.partitions();
  const unsigned threads = std::max(1u, std::min<unsigned>(resolve_threads(plan.threads), partitions));
  // One kernel per partition, merged in partition order: the answer (down
  // to the last bit of every floating-point sum) does not depend on which
  // thread happened to scan which partition.
  std::vector<std::unique_ptr<Kernel>> kernels;
  for (uint32_t p = 0; p < std::max<uint32_t>(partitions, 1); ++p) kernels.push_back(make());
  std::vector<std::vector<std::unique_ptr<Cursor>>> pools(threads);
  CAIRN_RETURN_IF_ERROR(parallel_for(partitions, threads, [&](size_t p, unsigned worker) {
    return scan_partition(store.segments(static_cast<uint32_t>(p)), plan, *kernels[p], pools[worker]);
  }));
  for (size_t p = 1; p < kernels.size(); ++p) kernels[0]->merge(*kernels[p]);
  return std::move(kernels[0]);
}

}  // namespace cairn::query
