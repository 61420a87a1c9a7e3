#include "storage/summary.h"

#include <algorithm>
#include <filesystem>

namespace cairn {

Result<DatabaseSummary> summarize(const Store& store) {
  DatabaseSummary s;
  const Catalog& cat = store.catalog();
  CAIRN_RETURN_IF_ERROR(cat.load_persons());
  s.partitions = store.partitions();
  for (uint32_t i = 0; i < cat.id_count(); ++i) s.ids += cat.is_erased(i) ? 0 : 1;
  s.persons_with_traits = cat.persons_with_traits();
  s.cost_rows = cat.costs().size();
  std::vector<uint64_t> event_counts(cat.events.size(), 0);
  std::vector<uint64_t> key_counts(cat.keys.size(), 0);
  bool any = false;
  BlockColumns cols;
  KeyColumn keycol;
  for (uint32_t p = 0; p < store.partitions(); ++p) {
    std::vector<uint32_t> persons;
    for (const SegmentReader& seg : store.segments(p)) {
      ++s.segments;
      s.core_bytes += seg.core_bytes();
      for (size_t b = 0; b < seg.blocks().size(); ++b) {
        const BlockInfo& info = seg.blocks()[b];
        CAIRN_RETURN_IF_ERROR(seg.read_core(b, cols));
        for (uint32_t e : cols.event)
          if (e < event_counts.size()) ++event_counts[e];
        for (size_t i = 0; i < cols.person.size(); ++i)
          if (i == 0 || cols.person[i] != cols.person[i - 1]) persons.push_back(cols.person[i]);
        for (size_t k = 0; k < info.keys.size(); ++k) {
          CAIRN_RETURN_IF_ERROR(seg.read_key(b, k, keycol));
          if (info.keys[k].first < key_counts.size()) key_counts[info.keys[k].first] += keycol.rows.size();
        }
        s.events += info.rows;
        if (!any) {
          s.first_time = info.min_time;
          s.last_time = info.max_time;
          any = true;
        }
        s.first_time = std::min(s.first_time, info.min_time);
        s.last_time = std::max(s.last_time, info.max_time);
      }
    }
    // A person's rows may sit in several segments of the partition.
    std::sort(persons.begin(), persons.end());
    s.persons += static_cast<uint64_t>(std::unique(persons.begin(), persons.end()) - persons.begin());
  }
  for (uint32_t e = 0; e < event_counts.size(); ++e)
    if (event_counts[e] > 0) s.event_counts.emplace_back(std::string(cat.events.get(e)), event_counts[e]);
  for (uint32_t k = 0; k < key_counts.size(); ++k)
    if (key_counts[k] > 0) s.property_counts.emplace_back(std::string(cat.keys.get(k)), key_counts[k]);
  auto by_count = [](const auto& a, const auto& b) { return a.second != b.second ? a.second > b.second : a.first < b.first; };
  std::sort(s.event_counts.begin(), s.event_counts.end(), by_count);
  std::sort(s.property_counts.begin(), s.property_counts.end(), by_count);
  // The snapshot's files, not the directory's: an import under way adds its
  // WAL and new segments there, and files a killed writer left stay until
  // the next writer removes them. The channel rules are the database's too.
  s.bytes_on_disk = store.bytes_on_disk();
  std::error_code ec;
  const uint64_t rules = std::filesystem::file_size(store.dir() + "/channel_rules.json", ec);
  if (!ec) s.bytes_on_disk += rules;
  return s;
}

}  // namespace cairn
