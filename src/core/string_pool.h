// StringPool interns strings: each distinct string gets a dense uint32 id in
// order of first appearance. Views returned by get() stay valid for the life
// of the pool (strings live in fixed arena blocks that never move).
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace cairn {

struct StringViewHash {
  size_t operator()(std::string_view s) const noexcept;
};

class StringPool {
 public:
  StringPool() = default;
  StringPool(const StringPool&) = delete;
  StringPool& operator=(const StringPool&) = delete;
  StringPool(StringPool&&) = default;
  StringPool& operator=(StringPool&&) = default;

  uint32_t intern(std::string_view s);
  // Id of s, or kMissing when it was never interned.
  uint32_t find(std::string_view s) const;
  std::string_view get(uint32_t id) const { return strings_[id]; }
  uint32_t size() const { return static_cast<uint32_t>(strings_.size()); }

  static constexpr uint32_t kMissing = 0xFFFFFFFFu;

 private:
  std::string_view store(std::string_view s);

  std::vector<std::unique_ptr<char[]>> blocks_;
  size_t block_used_ = 0;
  size_t block_size_ = 0;
  std::vector<std::string_view> strings_;
  std::unordered_map<std::string_view, uint32_t, StringViewHash> ids_;
};

}  // namespace cairn
