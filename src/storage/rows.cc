#include "storage/rows.h"

#include <algorithm>

namespace cairn {

void RowSet::sort_stable() {
  std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    return a.person != b.person ? a.person < b.person : a.time < b.time;
  });
}

void RowSet::append(const RowSet& other, const Row& row) {
  Row r = row;
  r.prop_begin = static_cast<uint32_t>(props.size());
  props.insert(props.end(), other.props.begin() + row.prop_begin,
               other.props.begin() + row.prop_begin + row.prop_count);
  rows.push_back(r);
}

}  // namespace cairn
