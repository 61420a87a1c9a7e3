#include "sim/simulator.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/time.h"

namespace cairn::sim {
namespace simulator_test {

namespace fs = std::filesystem;
// ordered_json keeps the key order of each line, which the format fixes.
using json = nlohmann::ordered_json;

const std::vector<std::string> kChannels = {"organic_search", "paid_search", "social", "email",
                                            "referral",       "display",     "direct"};

class SimulatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("cairn_sim_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  SimulateSummary run(uint64_t persons, uint64_t seed, const std::string& out,
                      OutputFormat format = OutputFormat::kNdjson) {
    SimulateOptions options;
    options.persons = persons;
    options.seed = seed;
    options.out = out;
    options.format = format;
    auto result = simulate(options);
    EXPECT_TRUE(result.is_ok()) << result.status().message();
    return result.is_ok() ? result.value() : SimulateSummary{};
  }

  static std::string slurp(const std::string& file) {
    std::ifstream in(file, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  static std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }

  // Every line of an NDJSON file, parsed.
  static std::vector<json> events_of(const std::string& file) {
    std::vector<json> events;
    for (const std::string& line : lines(slurp(file))) events.push_back(json::parse(line));
    return events;
  }

  fs::path dir_;
};

// RFC 4180 records: quoted fields may hold commas, doubled quotes and newlines.
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false;
  bool field_started = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        field += c;
      }
      continue;
    }
    if (c == '"' && !field_started) {
      quoted = true;
      field_started = true;
    } else if (c == ',') {
      row.push_back(field);
      field.clear();
      field_started = false;
    } else if (c == '\n') {
      row.push_back(field);
      rows.push_back(row);
      row.clear();
      field.clear();
      field_started = false;
    } else {
      EXPECT_NE(c, '"') << "bare quote inside an unquoted field";
      field += c;
      field_started = true;
    }
  }
  EXPECT_TRUE(row.empty() && field.empty()) << "file does not end with a newline";
  return rows;
}

// One simulated journey as the importer will see it: events stitched to one
// person through events that carry both ids.
struct StitchedPerson {
  std::vector<const json*> events;  // file order
  std::set<std::string> anonymous_ids;
  bool identified = false;
};

std::map<std::string, StitchedPerson> stitch(const std::vector<json>& events) {
  std::unordered_map<std::string, std::string> anon_to_user;
  for (const json& e : events) {
    if (e.contains("user_id")) anon_to_user[e["anonymous_id"].get<std::string>()] = e["user_id"].get<std::string>();
  }
  std::map<std::string, StitchedPerson> persons;
  for (const json& e : events) {
    const std::string anon = e["anonymous_id"].get<std::string>();
    const auto linked = anon_to_user.find(anon);
    const std::string key = linked != anon_to_user.end() ? linked->second : anon;
    StitchedPerson& p = persons[key];
    p.events.push_back(&e);
    p.anonymous_ids.insert(anon);
    p.identified = p.identified || linked != anon_to_user.end();
  }
  return persons;
}

bool is_conversion(const json& e) { return e["event"] == "purchase" || e["event"] == "deal_won"; }

TEST_F(SimulatorTest, SameSeedGivesIdenticalBytesAndOtherSeedDiffers) {
  run(400, 11, path("a.ndjson"));
  run(400, 11, path("b.ndjson"));
  run(400, 12, path("c.ndjson"));
  for (const char* suffix : {"", ".contacts.csv", ".costs.csv", ".truth.json"}) {
    const std::string a = slurp(path("a.ndjson") + suffix);
    EXPECT_FALSE(a.empty()) << suffix;
    EXPECT_EQ(a, slurp(path("b.ndjson") + suffix)) << suffix;
    EXPECT_NE(a, slurp(path("c.ndjson") + suffix)) << suffix;
  }
}

TEST_F(SimulatorTest, EveryLineIsAValidEventInTheWindowAndJourneysAreOrdered) {
  const SimulateSummary summary = run(3000, 5, path("e.ndjson"));
  const std::vector<std::string> text = lines(slurp(path("e.ndjson")));
  ASSERT_EQ(text.size(), summary.events);
  EXPECT_GT(summary.events, 3000u * 10);
  EXPECT_LT(summary.events, 3000u * 60);

  const Micros start = parse_time("2026-01-01").value();
  const Micros end = start + 180 * kMicrosPerDay;
  const std::set<std::string> money = {"purchase", "deal_won", "upgrade", "cross_sell", "subscription_renewed"};
  std::vector<json> events;
  events.reserve(text.size());
  std::set<std::string> message_ids;
  std::set<std::string> event_names;
  for (const std::string& line : text) {
    json e = json::parse(line);  // throws on invalid JSON
    std::vector<std::string> keys;
    for (auto it = e.begin(); it != e.end(); ++it) {
      ASSERT_FALSE(it.value().is_null()) << line;
      keys.push_back(it.key());
    }
    std::vector<std::string> expected = {"message_id", "anonymous_id", "event", "timestamp", "properties"};
    if (e.contains("user_id")) expected.insert(expected.begin() + 1, "user_id");
    if (e.contains("revenue")) expected.push_back("revenue");
    ASSERT_EQ(keys, expected) << line;
    ASSERT_TRUE(message_ids.insert(e["message_id"].get<std::string>()).second) << line;
    const auto t = parse_time(e["timestamp"].get<std::string>());
    ASSERT_TRUE(t.has_value()) << line;
    ASSERT_GE(*t, start) << line;
    ASSERT_LT(*t, end) << line;
    ASSERT_TRUE(e["properties"].is_object()) << line;
    for (auto it = e["properties"].begin(); it != e["properties"].end(); ++it) {
      ASSERT_TRUE(it.value().is_string() || it.value().is_number() || it.value().is_boolean()) << line;
    }
    const std::string name = e["event"].get<std::string>();
    event_names.insert(name);
    if (e.contains("revenue")) {
      EXPECT_TRUE(money.count(name)) << line;
      EXPECT_GT(e["revenue"].get<double>(), 0) << line;
    }
    if (name == "purchase" || name == "deal_won") {
      EXPECT_TRUE(e.contains("revenue")) << line;
    }
    if (e["properties"].contains("channel")) {
      const std::string channel = e["properties"]["channel"].get<std::string>();
      EXPECT_NE(std::find(kChannels.begin(), kChannels.end(), channel), kChannels.end()) << line;
    }
    events.push_back(std::move(e));
  }
  // The catalogue is exercised, not just declared.
  for (const char* name :
       {"ad_impression", "ad_click", "page_view", "email_sent", "email_open", "email_click", "social_engagement",
        "form_submit", "signup", "lead_created", "mql", "opportunity_created", "sales_call", "deal_won", "deal_lost",
        "webinar_registered", "webinar_attended", "chat_started", "chat_message", "trial_started", "feature_used",
        "checkout_started", "purchase", "upgrade", "cross_sell", "subscription_renewed", "subscription_cancelled",
        "churned", "support_ticket_opened", "support_first_response", "support_ticket_resolved", "nps_response",
        "csat_response"}) {
    EXPECT_TRUE(event_names.count(name)) << name;
  }

  const auto persons = stitch(events);
  size_t identified = 0, two_devices = 0, bounced = 0;
  for (const auto& [key, p] : persons) {
    Micros last = 0;
    bool has_user = false;
    bool cancelled = false;
    bool lead = false;
    for (const json* e : p.events) {
      // Churners stop being active.
      const std::string& name = (*e)["event"].get_ref<const std::string&>();
      // A lead before its qualification and opportunity.
      if (name == "mql" || name == "opportunity_created") {
        EXPECT_TRUE(lead) << key << ": " << name << " before lead_created";
      }
      lead = lead || name == "lead_created";
      if (cancelled) {
        EXPECT_TRUE(name != "login" && name != "feature_used" && name != "subscription_renewed" &&
                    name != "upgrade" && name != "email_sent")
            << key << ": " << name << " after cancelling";
      }
      cancelled = cancelled || name == "subscription_cancelled";
      const Micros t = parse_time((*e)["timestamp"].get<std::string>()).value();
      EXPECT_GE(t, last) << "journey out of order for " << key;
      last = t;
      if (e->contains("user_id")) {
        if (!has_user) {
          const std::string name = (*e)["event"].get<std::string>();
          EXPECT_TRUE(name == "form_submit" || name == "signup") << key << " identified by " << name;
        }
        has_user = true;
      } else {
        EXPECT_FALSE(has_user) << key << ": event without user_id after identification";
      }
    }
    identified += p.identified ? 1 : 0;
    two_devices += p.anonymous_ids.size() == 2 ? 1 : 0;
    EXPECT_LE(p.anonymous_ids.size(), 2u);
    bounced += p.events.size() <= 3 ? 1 : 0;
  }
  EXPECT_EQ(persons.size(), 3000u);  // stitching recovers every simulated person
  EXPECT_EQ(identified, summary.identified);
  const double two_device_rate = static_cast<double>(two_devices) / static_cast<double>(identified);
  EXPECT_GT(two_device_rate, 0.08);
  EXPECT_LT(two_device_rate, 0.25);
  EXPECT_GT(bounced, 3000u / 4);  // many persons leave after one visit

  // Contacts: one row per identified person.
  const auto contacts = parse_csv(slurp(path("e.ndjson.contacts.csv")));
  ASSERT_FALSE(contacts.empty());
  EXPECT_EQ(contacts.size() - 1, identified);
}

TEST_F(SimulatorTest, TruthSharesFollowPlantedEffectsAndMatchTheData) {
  const SimulateSummary summary = run(4000, 21, path("t.ndjson"));
  const json truth = json::parse(slurp(path("t.ndjson.truth.json")));
  EXPECT_EQ(truth["seed"], 21);
  EXPECT_EQ(truth["persons"], 4000);
  EXPECT_EQ(truth["events"].get<uint64_t>(), summary.events);

  double conv_sum = 0, rev_sum = 0;
  for (const std::string& c : kChannels) {
    ASSERT_TRUE(truth["channels"].contains(c)) << c;
    conv_sum += truth["channels"][c]["true_share_conversions"].get<double>();
    rev_sum += truth["channels"][c]["true_share_revenue"].get<double>();
  }
  EXPECT_NEAR(conv_sum, 1.0, 1e-9);
  EXPECT_NEAR(rev_sum, 1.0, 1e-9);
  EXPECT_EQ(truth["channels"]["direct"]["true_share_conversions"].get<double>(), 0.0);

  // Larger planted effect -> larger incremental share. Raw shares also depend
  // on how many persons a channel reaches, so they are compared only for
  // clearly different effects; per touched person, for every pair.
  for (const std::string& a : kChannels) {
    for (const std::string& b : kChannels) {
      const json& ca = truth["channels"][a];
      const json& cb = truth["channels"][b];
      const double gap = ca["effect"].get<double>() - cb["effect"].get<double>();
      const double share_a = ca["true_share_conversions"].get<double>();
      const double share_b = cb["true_share_conversions"].get<double>();
      if (gap >= 0.5) {
        EXPECT_GT(share_a, share_b) << a << " vs " << b;
      }
      if (gap >= 0.1) {
        EXPECT_GT(share_a / ca["persons_touched"].get<double>(), share_b / cb["persons_touched"].get<double>())
            << a << " vs " << b;
      }
    }
  }

  // The data agree: persons touched by a strongly positive channel convert
  // more often than those who were not.
  const std::vector<json> events = events_of(path("t.ndjson"));
  const auto persons = stitch(events);
  size_t converters = 0;
  for (const std::string& channel : {std::string("email"), std::string("paid_search")}) {
    size_t touched = 0, touched_conv = 0, untouched = 0, untouched_conv = 0;
    converters = 0;
    for (const auto& [key, p] : persons) {
      bool hit = false, converted = false;
      for (const json* e : p.events) {
        if (is_conversion(*e)) converted = true;
        if (!converted && (*e)["properties"].value("channel", "") == channel) hit = true;
      }
      converters += converted ? 1 : 0;
      (hit ? touched : untouched) += 1;
      (hit ? touched_conv : untouched_conv) += converted ? 1 : 0;
    }
    ASSERT_GT(touched, 200u) << channel;
    const double rate_touched = static_cast<double>(touched_conv) / static_cast<double>(touched);
    const double rate_untouched = static_cast<double>(untouched_conv) / static_cast<double>(untouched);
    EXPECT_GT(rate_touched, rate_untouched + 0.05) << channel;
  }
  EXPECT_EQ(converters, truth["totals"]["converters"].get<size_t>());

  // The planted exposure is exactly what the data show: the channels on a
  // person's events before their conversion (all events for non-converters).
  std::map<std::string, size_t> touched, converters_touched;
  for (const auto& [key, p] : persons) {
    std::set<std::string> before;
    bool converted = false;
    for (const json* e : p.events) {
      if (is_conversion(*e)) converted = true;
      if (!converted && (*e)["properties"].contains("channel")) before.insert((*e)["properties"]["channel"]);
    }
    for (const std::string& c : before) {
      ++touched[c];
      converters_touched[c] += converted ? 1 : 0;
    }
  }
  for (const std::string& c : kChannels) {
    EXPECT_EQ(touched[c], truth["channels"][c]["persons_touched"].get<size_t>()) << c;
    EXPECT_EQ(converters_touched[c], truth["channels"][c]["converters_touched"].get<size_t>()) << c;
  }
  EXPECT_EQ(converters, summary.converters);
  // Each person converts at most once.
  size_t conversion_events = 0;
  for (const json& e : events) conversion_events += is_conversion(e) ? 1 : 0;
  EXPECT_EQ(conversion_events, converters);

  // Feature truth: a strongly positive feature's users upgrade more often.
  const json& api = truth["features"]["features"]["integrations"];
  ASSERT_GT(api["users"].get<double>(), 30);
  EXPECT_GT(api["users_upgraded"].get<double>() / api["users"].get<double>(),
            api["non_users_upgraded"].get<double>() / api["non_users"].get<double>());
}

TEST_F(SimulatorTest, CsvHasTheDocumentedHeaderAndRectangularRows) {
  const SimulateSummary summary = run(600, 3, path("c.csv"), OutputFormat::kCsv);
  const auto rows = parse_csv(slurp(path("c.csv")));
  ASSERT_EQ(rows.size(), summary.events + 1);
  const std::vector<std::string>& header = rows[0];
  ASSERT_GE(header.size(), 8u);
  EXPECT_EQ(std::vector<std::string>(header.begin(), header.begin() + 5),
            (std::vector<std::string>{"message_id", "user_id", "anonymous_id", "timestamp", "event"}));
  EXPECT_EQ(header.back(), "revenue");
  for (const char* key : {"channel", "utm_source", "utm_medium", "utm_campaign", "utm_content", "landing_page",
                          "referrer", "page_path", "email_id", "email_name", "feature", "plan", "order_id",
                          "ticket_id", "response_minutes", "score", "objection", "outcome"}) {
    EXPECT_NE(std::find(header.begin(), header.end(), key), header.end()) << key;
  }
  bool saw_comma = false, saw_quote = false;
  for (size_t r = 1; r < rows.size(); ++r) {
    ASSERT_EQ(rows[r].size(), header.size()) << "row " << r;
    for (const std::string& f : rows[r]) {
      saw_comma = saw_comma || f.find(',') != std::string::npos;
      saw_quote = saw_quote || f.find('"') != std::string::npos;
    }
    EXPECT_TRUE(parse_time(rows[r][3]).has_value()) << rows[r][3];
  }
  EXPECT_TRUE(saw_comma);  // quoting is exercised, not avoided
  EXPECT_TRUE(saw_quote);

  const auto contacts = parse_csv(slurp(path("c.csv.contacts.csv")));
  ASSERT_FALSE(contacts.empty());
  EXPECT_EQ(contacts[0], (std::vector<std::string>{"user_id", "email", "name", "company", "industry", "company_size",
                                                   "country", "plan", "lifecycle_stage", "lead_source", "created_at"}));
  for (const auto& row : contacts) EXPECT_EQ(row.size(), contacts[0].size());
}

TEST_F(SimulatorTest, CostsFollowPaidClickVolumes) {
  run(2000, 8, path("k.ndjson"));
  const auto costs = parse_csv(slurp(path("k.ndjson.costs.csv")));
  ASSERT_GT(costs.size(), 10u);
  EXPECT_EQ(costs[0], (std::vector<std::string>{"date", "channel", "campaign", "cost"}));
  const Micros start = parse_time("2026-01-01").value();
  std::map<std::string, double> spend;
  for (size_t r = 1; r < costs.size(); ++r) {
    ASSERT_EQ(costs[r].size(), 4u);
    const Micros day = parse_time(costs[r][0]).value();
    EXPECT_GE(day, start);
    EXPECT_LT(day, start + 180 * kMicrosPerDay);
    EXPECT_GT(std::stod(costs[r][3]), 0.0);
    spend[costs[r][1]] += std::stod(costs[r][3]);
  }
  for (const char* paid : {"paid_search", "social", "display", "email", "referral"}) EXPECT_GT(spend[paid], 0) << paid;
  EXPECT_EQ(spend.count("organic_search"), 0u);
  EXPECT_EQ(spend.count("direct"), 0u);
  // Search is bought per click: spend per click lies within the CPC range of
  // the campaigns (1.6 to 5.4).
  size_t search_clicks = 0;
  for (const std::string& line : lines(slurp(path("k.ndjson")))) {
    if (line.find("\"event\":\"ad_click\"") != std::string::npos &&
        line.find("\"channel\":\"paid_search\"") != std::string::npos) {
      ++search_clicks;
    }
  }
  ASSERT_GT(search_clicks, 50u);
  const double cpc = spend["paid_search"] / static_cast<double>(search_clicks);
  EXPECT_GT(cpc, 1.6);
  EXPECT_LT(cpc, 5.4);
}

// Every ad click comes from an ad the person was shown: an impression of the
// same channel and campaign earlier on the same device, not claimed by an
// earlier click. So a click-through rate (clicks / impressions) is a rate,
// for every channel and campaign; and search also shows ads nobody clicks.
TEST_F(SimulatorTest, EveryAdClickFollowsAnImpressionOfItsCampaign) {
  run(3000, 12, path("a.ndjson"));
  const std::vector<json> events = events_of(path("a.ndjson"));
  using Ad = std::pair<std::string, std::string>;  // channel, campaign
  std::map<Ad, size_t> shown, clicked;
  std::map<std::string, size_t> channel_shown, channel_clicked;
  for (const auto& [key, p] : stitch(events)) {
    std::map<std::pair<std::string, Ad>, size_t> unclaimed;  // by device (anonymous id)
    for (const json* e : p.events) {
      const json& props = (*e)["properties"];
      const Ad ad{props.value("channel", ""), props.value("utm_campaign", "")};
      const auto at = std::make_pair((*e)["anonymous_id"].get<std::string>(), ad);
      if ((*e)["event"] == "ad_impression") {
        ++unclaimed[at];
        ++shown[ad];
        ++channel_shown[ad.first];
      } else if ((*e)["event"] == "ad_click") {
        ASSERT_GT(unclaimed[at], 0u) << "a click without an impression before it: " << e->dump();
        --unclaimed[at];
        ++clicked[ad];
        ++channel_clicked[ad.first];
      }
    }
  }
  ASSERT_GE(clicked.size(), 12u);  // search, display and social campaigns
  for (const auto& [ad, n] : clicked) EXPECT_GE(shown[ad], n) << ad.first << " " << ad.second;
  for (const char* c : {"paid_search", "display", "social"}) {
    ASSERT_GT(channel_clicked[c], 100u) << c;
    EXPECT_LT(static_cast<double>(channel_clicked[c]) / static_cast<double>(channel_shown[c]), 0.6) << c;
  }
}

// A chat carries an objection, which follows its topic, and an outcome,
// positive more often when the visit goes on to a sign-up, a form or a
// purchase (within 30 minutes of the chat) than otherwise.
TEST_F(SimulatorTest, ChatsCarryObjectionsByTopicAndOutcomes) {
  run(6000, 13, path("c.ndjson"));
  const std::vector<json> events = events_of(path("c.ndjson"));
  const std::set<std::string> objections = {"price", "timing", "features", "competitor", "none"};
  const std::set<std::string> outcomes = {"positive", "neutral", "negative"};
  const std::set<std::string> onward = {"signup", "form_submit", "purchase"};
  std::map<std::string, std::map<std::string, size_t>> by_topic;  // topic -> objection -> chats
  size_t chats[2] = {0, 0}, positive[2] = {0, 0};                 // [followed by a step onward]
  for (const auto& [key, p] : stitch(events)) {
    for (size_t i = 0; i < p.events.size(); ++i) {
      const json& e = *p.events[i];
      if (e["event"] != "chat_started") continue;
      const json& props = e["properties"];
      ASSERT_TRUE(props.contains("objection") && props.contains("outcome")) << e.dump();
      const std::string objection = props["objection"], outcome = props["outcome"];
      EXPECT_TRUE(objections.count(objection)) << objection;
      EXPECT_TRUE(outcomes.count(outcome)) << outcome;
      ++by_topic[props["topic"]][objection];
      const Micros t = parse_time(e["timestamp"].get<std::string>()).value();
      bool followed = false;
      for (size_t j = i + 1; j < p.events.size(); ++j) {
        const json& later = *p.events[j];
        if (parse_time(later["timestamp"].get<std::string>()).value() - t > 30 * 60 * kMicrosPerSecond) break;
        followed = followed || onward.count(later["event"].get<std::string>()) > 0;
      }
      ++chats[followed];
      positive[followed] += outcome == "positive" ? 1 : 0;
    }
  }
  ASSERT_GT(chats[0], 200u);
  ASSERT_GT(chats[1], 100u);
  const double rate_onward = static_cast<double>(positive[1]) / static_cast<double>(chats[1]);
  const double rate_other = static_cast<double>(positive[0]) / static_cast<double>(chats[0]);
  EXPECT_GT(rate_onward, rate_other + 0.15) << rate_onward << " vs " << rate_other;
  // The most frequent objection per topic.
  auto top = [&](const std::string& topic) {
    const auto& counts = by_topic[topic];
    return std::max_element(counts.begin(), counts.end(), [](auto& a, auto& b) { return a.second < b.second; })->first;
  };
  EXPECT_EQ(top("pricing"), "price");
  EXPECT_EQ(top("integration"), "features");
  EXPECT_EQ(top("support"), "none");
  EXPECT_EQ(top("billing"), "none");
}

TEST_F(SimulatorTest, GzipOutputHoldsTheSameBytes) {
  run(300, 4, path("g.ndjson"));
  run(300, 4, path("g.ndjson.gz"));
  gzFile gz = gzopen(path("g.ndjson.gz").c_str(), "rb");
  ASSERT_NE(gz, nullptr);
  std::string unpacked;
  char buf[1 << 16];
  for (int n; (n = gzread(gz, buf, sizeof buf)) > 0;) unpacked.append(buf, static_cast<size_t>(n));
  gzclose(gz);
  EXPECT_EQ(unpacked, slurp(path("g.ndjson")));
}

TEST_F(SimulatorTest, RejectsBadOptions) {
  SimulateOptions options;
  options.out = "";
  EXPECT_FALSE(simulate(options).is_ok());
  options.out = path("x.ndjson");
  options.days = 3;
  EXPECT_FALSE(simulate(options).is_ok());
  options.days = 30;
  options.out = path("missing-dir/x.ndjson");
  const auto result = simulate(options);
  ASSERT_FALSE(result.is_ok());
  EXPECT_EQ(result.status().code(), Status::Code::kIoError);
}

TEST(SimulatorFormat, ParsesNames) {
  EXPECT_EQ(parse_output_format("ndjson"), OutputFormat::kNdjson);
  EXPECT_EQ(parse_output_format("csv"), OutputFormat::kCsv);
  EXPECT_FALSE(parse_output_format("xml").has_value());
  EXPECT_EQ(kDefaultStart, parse_time("2026-01-01T00:00:00Z").value());
}

}  // namespace simulator_test
}  // namespace cairn::sim
