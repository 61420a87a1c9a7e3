// Channel grouping: declarative rules that derive a touch's marketing
// channel (paid search, organic search, social, email, referral, display,
// direct, other) from utm_source / utm_medium / referrer. The first rule
// whose conditions all hold names the channel. Each database keeps its own
// rules in DIR/channel_rules.json (`cairn channels` shows and changes them);
// without that file the defaults below apply.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "query/spec.h"

namespace cairn::query {

struct ChannelRule {
  std::string channel;
  std::vector<Filter> when;  // all must hold; none: always
};

std::vector<ChannelRule> default_channel_rules();
// {"rules": [{"channel": NAME, "when": [FILTER, ...]}, ...]}; `what` names the source in errors.
Result<std::vector<ChannelRule>> parse_channel_rules(const nlohmann::json& doc, const std::string& what);
nlohmann::json channel_rules_json(const std::vector<ChannelRule>& rules);

// The rules of the database in `dir` (its file, or the defaults).
Result<std::vector<ChannelRule>> load_channel_rules(const std::string& dir);
Status save_channel_rules(const std::string& dir, const std::vector<ChannelRule>& rules);
// Back to the defaults (removes the file).
Status reset_channel_rules(const std::string& dir);

}  // namespace cairn::query
