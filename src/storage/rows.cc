#include "storage/rows.h"

#include <algorithm>

namespace cairn {

void RowSet::sort_stable() {
  auto before = [](const Row& a, const Row& b) { return a.person != b.person ? a.person < b.person : a.time < b.time; };
  // Rows often come in order already (a file exported person by person, a
  // partition rewritten from its sorted segments): one pass finds that.
  if (std::is_sorted(rows.begin(), rows.end(), before)) return;
  std::stable_sort(rows.begin(), rows.end(), before);
}

void RowSet::append(const RowSet& other, const Row& row) {
  Row r = row;
  r.prop_begin = static_cast<uint32_t>(props.size());
  props.insert(props.end(), other.props.begin() + row.prop_begin,
               other.props.begin() + row.prop_begin + row.prop_count);
  rows.push_back(r);
}

}  // namespace cairn
