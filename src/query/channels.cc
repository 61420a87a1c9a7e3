#include "query/channels.h"

#include <cstdio>

#include <fmt/format.h>

#include "storage/file_util.h"

namespace cairn::query {

using nlohmann::json;

namespace {

constexpr const char* kFile = "channel_rules.json";

Filter f(const char* property, Op op, json value = json()) {
  Filter out{property, op, {}};
  if (value.is_array())
    for (const json& v : value) out.values.push_back(v);
  else if (!value.is_null())
    out.values.push_back(value);
  return out;
}

}  // namespace

std::vector<ChannelRule> default_channel_rules() {
  // Mediums first (they are explicit), then where the visitor came from,
  // then anything tagged but unknown; untagged visits without a referrer
  // are direct.
  return {
      {"paid_search", {f("utm_medium", Op::kIn, json::array({"cpc", "ppc", "paidsearch", "paid_search", "sem"}))}},
      {"display", {f("utm_medium", Op::kIn, json::array({"display", "banner", "cpm", "programmatic"}))}},
      {"social", {f("utm_medium", Op::kIn, json::array({"social", "paid_social", "social_paid", "sm", "social-network"}))}},
      {"email", {f("utm_medium", Op::kIn, json::array({"email", "e-mail", "e_mail", "newsletter"}))}},
      {"referral", {f("utm_medium", Op::kIn, json::array({"referral", "affiliate", "partner"}))}},
      {"social",
       {f("utm_source", Op::kRegex, "(?i)^(facebook|fb|instagram|linkedin|twitter|x|t\\.co|tiktok|reddit|pinterest|youtube)$")}},
      {"organic_search",
       {f("referrer", Op::kRegex, "(?i)^https?://([a-z0-9-]+\\.)*(google|bing|duckduckgo|yahoo|baidu|yandex|ecosia)\\.")}},
      {"social",
       {f("referrer", Op::kRegex, "(?i)^https?://([a-z0-9-]+\\.)*(facebook|instagram|linkedin|twitter|x|t|tiktok|reddit|pinterest|youtube)\\.")}},
      {"referral", {f("referrer", Op::kExists)}},
      {"other", {f("utm_medium", Op::kExists)}},
      {"other", {f("utm_source", Op::kExists)}},
      {"direct", {}},
  };
}

Result<std::vector<ChannelRule>> parse_channel_rules(const json& doc, const std::string& what) {
  auto err = [&](const std::string& path, const std::string& msg) {
    return Status::invalid_argument(fmt::format("{}: {}: {}", what, path, msg));
  };
  if (!doc.is_object() || !doc.contains("rules") || !doc["rules"].is_array())
    return err("rules", "expected {\"rules\": [{\"channel\": NAME, \"when\": [FILTER, ...]}, ...]}");
  std::vector<ChannelRule> out;
  const json& rules = doc["rules"];
  for (size_t i = 0; i < rules.size(); ++i) {
    const std::string path = fmt::format("rules[{}]", i);
    const json& r = rules[i];
    if (!r.is_object() || !r.contains("channel") || !r["channel"].is_string() || r["channel"].get<std::string>().empty())
      return err(path + ".channel", "expected a channel name");
    ChannelRule rule{r["channel"].get<std::string>(), {}};
    if (r.contains("when")) {
      if (!r["when"].is_array()) return err(path + ".when", "expected an array of conditions");
      for (size_t k = 0; k < r["when"].size(); ++k) {
        auto cond = parse_filter(r["when"][k], fmt::format("{}.when[{}]", path, k));
        if (!cond) return Status::invalid_argument(fmt::format("{}: {}", what, cond.status().message()));
        rule.when.push_back(std::move(*cond));
      }
    }
    out.push_back(std::move(rule));
  }
  return out;
}

json channel_rules_json(const std::vector<ChannelRule>& rules) {
  json list = json::array();
  for (const ChannelRule& r : rules) {
    json when = json::array();
    for (const Filter& c : r.when) when.push_back(filter_json(c));
    list.push_back(json{{"channel", r.channel}, {"when", std::move(when)}});
  }
  return json{{"rules", std::move(list)}};
}

Result<std::vector<ChannelRule>> load_channel_rules(const std::string& dir) {
  const std::string path = dir + "/" + kFile;
  if (!file_exists(path)) return default_channel_rules();
  auto text = read_file(path);
  if (!text) return text.status();
  const json doc = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Status::invalid_argument(fmt::format("{}: not valid JSON", path));
  return parse_channel_rules(doc, path);
}

Status save_channel_rules(const std::string& dir, const std::vector<ChannelRule>& rules) {
  return write_file_atomic(dir + "/" + kFile, channel_rules_json(rules).dump(2) + "\n");
}

Status reset_channel_rules(const std::string& dir) {
  const std::string path = dir + "/" + kFile;
  if (file_exists(path) && std::remove(path.c_str()) != 0)
    return Status::io_error(fmt::format("cannot remove {}", path));
  return Status::ok();
}

}  // namespace cairn::query
