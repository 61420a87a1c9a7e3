// A person's events as the scan hands them to a kernel, built by hand in
// kernel tests: times, event ids and one cell column per plan key.
#pragma once

#include <cstdint>
#include <vector>

#include "query/scan.h"

namespace cairn::query {

struct PersonInput {
  std::vector<Micros> time;
  std::vector<uint32_t> event;
  std::vector<std::vector<Cell>> cells;  // [plan key][event]
  PersonView view(uint32_t person) const { return PersonView{person, time.size(), time.data(), event.data(), &cells}; }
};

}  // namespace cairn::query
