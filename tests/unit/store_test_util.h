// Helpers for storage tests: build ImportBatches by hand, make temp dirs.
#pragma once

#include <cstring>
#include <filesystem>
#include <string>
#include <variant>
#include <vector>

#include "ingest/batch.h"

namespace cairn::testing {

using PropValue = std::variant<std::string, double, bool>;

struct BatchBuilder {
  ImportBatch b;

  BatchBuilder& event(const std::string& user, const std::string& anon, const std::string& name, Micros time,
                      std::vector<std::pair<std::string, PropValue>> props = {}, const std::string& message_id = "") {
    BatchEvent e{};
    e.time = time;
    const uint32_t user_id = user.empty() ? kNoId : b.intern_id(user, true);
    const uint32_t anon_id = anon.empty() ? kNoId : b.intern_id(anon, false);
    e.person = user_id != kNoId ? user_id : anon_id;
    e.event = b.event_names.intern(name);
    e.prop_begin = static_cast<uint32_t>(b.props.size());
    e.prop_count = static_cast<uint32_t>(props.size());
    e.message_hash = message_id.empty() ? 0 : message_hash(message_id);
    for (auto& [k, v] : props) b.props.push_back(BatchProperty::of(b.keys.intern(k), typed(v)));
    b.events.push_back(e);
    // As the parsers do: an event with both ids links them, in order.
    if (user_id != kNoId && anon_id != kNoId) b.links.push_back(BatchLink{anon_id, user_id});
    return *this;
  }
  BatchBuilder& link(const std::string& anon, const std::string& user) {
    b.links.push_back(BatchLink{b.intern_id(anon, false), b.intern_id(user, true)});
    return *this;
  }
  BatchBuilder& trait(const std::string& user, const std::string& key, PropValue v) {
    b.traits.push_back(BatchTrait{b.intern_id(user, true), b.keys.intern(key), typed(v), static_cast<uint32_t>(b.links.size())});
    return *this;
  }
  TypedValue typed(const PropValue& v) {
    TypedValue t;
    if (auto* s = std::get_if<std::string>(&v)) {
      t.type = ValueType::kString;
      t.bits = b.strings.intern(*s);
    } else if (auto* d = std::get_if<double>(&v)) {
      t.type = ValueType::kNumber;
      std::memcpy(&t.bits, d, 8);
    } else {
      t.type = ValueType::kBool;
      t.bits = std::get<bool>(v) ? 1 : 0;
    }
    return t;
  }
};

inline std::string temp_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("cairn-test-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

}  // namespace cairn::testing
