// Sorting large arrays of 64-bit values (message-id hashes for
// de-duplication).
#pragma once

#include <cstdint>
#include <vector>

namespace cairn {

// Sorts v ascending. One pass spreads the values over 256 buckets by their
// top 8 bits (few enough destinations for the TLB); each bucket, small
// enough for the cache at 10M values, is then sorted by its next 22 bits in
// two radix passes, and runs that agree on all 30 bits (some 50,000 pairs
// among 10M random hashes) are finished by comparison. Two passes over main
// memory and two in the cache, instead of the twelve over main memory of a
// plain LSD sort.
void sort_u64(std::vector<uint64_t>& v);

}  // namespace cairn
