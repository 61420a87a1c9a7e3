#include "core/string_pool.h"

#include <cstring>
#include <xxhash.h>

namespace cairn {

size_t StringViewHash::operator()(std::string_view s) const noexcept { return XXH3_64bits(s.data(), s.size()); }

std::string_view StringPool::store(std::string_view s) {
  constexpr size_t kBlock = 1 << 16;
  if (s.empty()) return {};
  if (blocks_.empty() || block_used_ + s.size() > block_size_) {
    block_size_ = s.size() > kBlock ? s.size() : kBlock;
    blocks_.push_back(std::make_unique<char[]>(block_size_));
    block_used_ = 0;
  }
  char* dst = blocks_.back().get() + block_used_;
  std::memcpy(dst, s.data(), s.size());
  block_used_ += s.size();
  return {dst, s.size()};
}

uint32_t StringPool::intern(std::string_view s) {
  auto it = ids_.find(s);
  if (it != ids_.end()) return it->second;
  const std::string_view kept = store(s);
  const auto id = static_cast<uint32_t>(strings_.size());
  strings_.push_back(kept);
  ids_.emplace(kept, id);
  return id;
}

uint32_t StringPool::find(std::string_view s) const {
  auto it = ids_.find(s);
  return it == ids_.end() ? kMissing : it->second;
}

}  // namespace cairn
