#include "storage/manifest.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace cairn {

std::string Manifest::serialize() const {
  nlohmann::json j;
  j["version"] = version;
  j["partitions"] = partitions;
  j["catalog"] = catalog;
  j["next_file"] = next_file;
  j["wal_applied"] = wal_applied;
  auto& parts = j["segments"] = nlohmann::json::array();
  for (const auto& list : segments) {
    auto arr = nlohmann::json::array();
    for (const SegmentMeta& s : list)
      arr.push_back({{"file", s.file},
                     {"rows", s.rows},
                     {"bytes", s.bytes},
                     {"core_bytes", s.core_bytes},
                     {"min_time", s.min_time},
                     {"max_time", s.max_time}});
    parts.push_back(std::move(arr));
  }
  return j.dump();
}

Result<Manifest> Manifest::parse(std::string_view payload, const std::string& what) {
  try {
    const auto j = nlohmann::json::parse(payload);
    Manifest m;
    m.version = j.at("version").get<uint64_t>();
    m.partitions = j.at("partitions").get<uint32_t>();
    m.catalog = j.at("catalog").get<std::string>();
    m.next_file = j.at("next_file").get<uint64_t>();
    m.wal_applied = j.at("wal_applied").get<uint64_t>();
    for (const auto& list : j.at("segments")) {
      auto& out = m.segments.emplace_back();
      for (const auto& s : list)
        out.push_back(SegmentMeta{s.at("file").get<std::string>(), s.at("rows").get<uint64_t>(),
                                  s.at("bytes").get<uint64_t>(), s.at("core_bytes").get<uint64_t>(),
                                  s.at("min_time").get<Micros>(), s.at("max_time").get<Micros>()});
    }
    if (m.partitions == 0 || m.segments.size() != m.partitions)
      return Status::corruption(fmt::format("{}: partition count mismatch", what));
    return m;
  } catch (const nlohmann::json::exception& e) {
    return Status::corruption(fmt::format("{}: malformed manifest: {}", what, e.what()));
  }
}

}  // namespace cairn
