#include "sim/simulator.h"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "sim/catalogue.h"

namespace cairn::sim {

std::optional<OutputFormat> parse_output_format(std::string_view name) {
  if (name == "ndjson") return OutputFormat::kNdjson;
  if (name == "csv") return OutputFormat::kCsv;
  return std::nullopt;
}

namespace {

constexpr Micros kMs = 1000;
constexpr Micros kSecond = kMicrosPerSecond;
constexpr Micros kMinute = 60 * kSecond;
constexpr Micros kHour = 60 * kMinute;
constexpr Micros kDay = kMicrosPerDay;

// ---------------------------------------------------------------------------
// Random numbers. Our own generator and transforms, so that a seed gives the
// same bytes with any standard library.

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// xoshiro256**, one independent stream per (seed, stream).
class Rng {
 public:
  Rng(uint64_t seed, uint64_t stream) {
    uint64_t mix = stream;
    uint64_t state = seed ^ splitmix64(mix);
    for (auto& word : s_) word = splitmix64(state);
  }

  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  // Uniform integer in [0, n), n > 0.
  int below(int n) { return static_cast<int>(uniform() * n); }
  int64_t below64(int64_t n) { return n <= 0 ? 0 : static_cast<int64_t>(uniform() * static_cast<double>(n)); }
  bool chance(double p) { return uniform() < p; }
  double exponential(double mean) { return -std::log1p(-uniform()) * mean; }
  double normal() {
    const double u1 = 1.0 - uniform();
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  // Number of successes before the first failure; mean = `mean`.
  int geometric(double mean) {
    const double p = mean / (1.0 + mean);
    int k = 0;
    while (k < 50 && chance(p)) ++k;
    return k;
  }
  template <size_t N>
  int pick(const std::array<double, N>& weights) {
    double total = 0;
    for (double w : weights) total += w;
    double u = uniform() * total;
    for (size_t i = 0; i < N; ++i) {
      if (u < weights[i]) return static_cast<int>(i);
      u -= weights[i];
    }
    return static_cast<int>(N - 1);
  }
  template <size_t N>
  std::string_view one_of(const std::array<std::string_view, N>& values) {
    return values[static_cast<size_t>(below(static_cast<int>(N)))];
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::array<uint64_t, 4> s_{};
};

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
double round_cents(double v) { return std::round(v * 100.0) / 100.0; }
Micros floor_ms(Micros t) { return t - t % kMs; }
Micros span(Rng& rng, double mean) { return floor_ms(static_cast<Micros>(rng.exponential(static_cast<double>(mean)))); }

// ---------------------------------------------------------------------------
// Marketing vocabulary. Campaigns of the paid channels are also the cost rows.

constexpr int kCampaignsPerChannel = 6;
enum CostChannel : int { kCostPaidSearch, kCostSocial, kCostDisplay, kCostEmail, kCostReferral, kCostChannelCount };
constexpr std::array<Channel, kCostChannelCount> kCostChannel = {kPaidSearch, kSocial, kDisplay, kEmail, kReferral};

constexpr std::array<std::array<std::string_view, kCampaignsPerChannel>, kCostChannelCount> kCampaigns = {{
    {"brand_search", "competitor_terms", "generic_analytics", "attribution_keywords", "pricing_intent",
     "retargeting_search"},
    {"linkedin_abm", "linkedin_thought_leadership", "facebook_retargeting", "facebook_lookalike",
     "twitter_launch", "linkedin_webinar"},
    {"gdn_prospecting", "gdn_retargeting", "adroll_retargeting", "adroll_prospecting", "gdn_brand_awareness",
     "adroll_cart_recovery"},
    {"newsletter_weekly", "onboarding_series", "webinar_invite", "product_update", "nurture_track",
     "promo_q1"},
    {"g2_listing", "capterra_ppl", "partner_affiliate", "saasworthy_listing", "partner_affiliate",
     "g2_listing"},
}};
constexpr std::array<double, kCampaignsPerChannel> kCampaignWeight = {0.28, 0.12, 0.2, 0.15, 0.15, 0.1};
// Cost per paid click (search, social) by campaign.
constexpr std::array<double, kCampaignsPerChannel> kSearchCpc = {1.6, 5.4, 3.2, 4.1, 3.8, 2.1};
constexpr std::array<double, kCampaignsPerChannel> kSocialCpc = {6.5, 4.8, 1.9, 2.2, 1.4, 5.1};
constexpr double kSocialCostPerImpression = 0.012;
constexpr double kDisplayCostPerImpression = 0.02;
constexpr double kDisplayCpc = 0.9;
constexpr double kEmailCostPerSend = 0.05;
constexpr std::array<double, kCampaignsPerChannel> kReferralFee = {4.0, 3.0, 2.5, 1.5, 2.5, 4.0};
constexpr std::array<std::string_view, kCampaignsPerChannel> kReferralSite = {
    "https://www.g2.com/products/cairn/reviews", "https://www.capterra.com/p/cairn/",
    "https://partners.example.org/blog/journey-analytics-stack", "https://www.saasworthy.com/product/cairn",
    "https://partners.example.org/blog/attribution-guide", "https://www.g2.com/categories/marketing-analytics"};
constexpr std::array<std::string_view, kCampaignsPerChannel> kReferralSource = {"g2", "capterra", "partner_blog",
                                                                          "saasworthy", "partner_blog", "g2"};

constexpr std::array<std::string_view, 5> kObjections = {"price", "timing", "features", "competitor", "none"};
// Marks a person's second random stream (Rng(seed, person ^ kSideStream)).
constexpr uint64_t kSideStream = uint64_t{1} << 63;

constexpr std::array<std::string_view, 10> kAssets = {
    "ebook_journey_analytics_101", "ebook_attribution_guide", "case_study_acme", "case_study_globex",
    "video_product_tour", "video_customer_story", "webinar_recording_q1", "whitepaper_data_privacy",
    "checklist_funnel_audit", "infographic_benchmarks"};

struct Email {
  std::string_view id;
  std::string_view name;  // some names hold commas and quotes on purpose: CSV and JSON escaping
  int campaign;
};
constexpr std::array<Email, 8> kEmails = {{
    {"em-101", "Weekly Newsletter", 0},
    {"em-102", "Onboarding: Getting started", 1},
    {"em-103", "Webinar invite: Journey analytics live", 2},
    {"em-104", "Product update, March", 3},
    {"em-105", "Nurture 1: Why attribution matters", 4},
    {"em-106", "Nurture 2: Case study \"Acme\"", 4},
    {"em-107", "Q1 promo: 20% off, this week", 5},
    {"em-108", "Trial ending soon", 1},
}};

struct Page {
  std::string_view page;  // page type label
  std::string_view path;  // empty: "/product/<id>"
};
constexpr std::array<Page, 16> kB2bPages = {{
    {"home", "/"},
    {"pricing", "/pricing"},
    {"demo", "/demo"},
    {"feature", "/features/attribution"},
    {"feature", "/features/funnels"},
    {"feature", "/features/retention"},
    {"feature", "/features/lead-scoring"},
    {"blog", "/blog/attribution-models-explained"},
    {"blog", "/blog/markov-vs-shapley"},
    {"blog", "/blog/customer-journey-mapping"},
    {"blog", "/blog/reduce-churn-with-cohorts"},
    {"case_study", "/case-studies/acme"},
    {"case_study", "/case-studies/globex"},
    {"integrations", "/integrations"},
    {"docs", "/docs/getting-started"},
    {"product", ""},
}};
constexpr std::array<Page, 8> kShopPages = {{
    {"home", "/"},
    {"product", ""},
    {"product", ""},
    {"product", ""},
    {"shop", "/shop/accessories"},
    {"shop", "/shop/new-arrivals"},
    {"blog", "/blog/gift-guide"},
    {"cart", "/cart"},
}};

constexpr std::array<std::string_view, 3> kPlans = {"starter", "pro", "enterprise"};
constexpr std::array<double, 3> kPlanPrice = {49.0, 149.0, 499.0};
constexpr std::array<std::string_view, 4> kAddOns = {"analytics_addon", "extra_seats", "premium_support",
                                                "data_warehouse_sync"};
constexpr std::array<double, 4> kAddOnPrice = {99.0, 45.0, 199.0, 149.0};

constexpr std::array<std::string_view, 10> kFirstNames = {"Ana", "Ben", "Chloé", "Dmitri", "Elif",
                                                     "Femi", "Grace", "Hiro", "Ines", "Jon"};
constexpr std::array<std::string_view, 10> kLastNames = {"Silva", "Okafor", "Müller", "Nguyen", "O'Brien",
                                                    "Kowalski", "Haddad", "Tanaka", "García", "Smith"};
constexpr std::array<std::string_view, 8> kCompanyWords = {"Acme", "Globex", "Initech", "Umbrella",
                                                      "Northwind", "Hooli", "Vandelay", "Stark"};
constexpr std::array<std::string_view, 6> kCompanySuffix = {"Inc.", "Labs", "GmbH", "Ltd", "Group", "Systems"};
constexpr std::array<std::string_view, 7> kIndustries = {"software", "finance", "healthcare", "retail",
                                                    "manufacturing", "education", "media"};
constexpr std::array<std::string_view, 5> kCompanySizes = {"1-10", "11-50", "51-200", "201-1000", "1000+"};
constexpr std::array<std::string_view, 10> kCountries = {"US", "GB", "DE", "FR", "CA", "AU", "NL", "IN", "BR", "JP"};

// Exposure rates of engaged (non-bouncing) persons per segment; email is
// among persons identified early (a send needs an address).
constexpr std::array<std::array<double, kChannelCount>, kSegmentCount> kExposure = {{
    {0.45, 0.35, 0.35, 0.80, 0.30, 0.35, 0.35},
    {0.50, 0.40, 0.30, 0.75, 0.30, 0.30, 0.35},
    {0.40, 0.40, 0.45, 0.70, 0.25, 0.40, 0.35},
}};
// How the first visit arrives (email impossible: the person is unknown).
constexpr std::array<double, kChannelCount> kEntryWeight = {0.30, 0.22, 0.15, 0.0, 0.08, 0.08, 0.17};
constexpr double kBounceRate = 0.42;
constexpr std::array<double, kSegmentCount> kEarlyIdentify = {0.55, 0.60, 0.35};
constexpr double kTwoDeviceRate = 0.15;

// ---------------------------------------------------------------------------
// One person's events before they are sorted and written.

enum class PropKind : uint8_t { kStr, kPrefixed, kInt, kBool };
struct Prop {
  PropKey key;
  PropKind kind;
  std::string_view str;  // kStr value, or kPrefixed prefix
  int64_t i;             // kInt, kPrefixed number, kBool
};

struct Event {
  Micros t;
  uint32_t seq;
  uint32_t props_begin;
  uint16_t props_count;
  uint8_t name;
  uint8_t device;
  bool identifies;
  bool has_revenue;
  int16_t cost_slot;  // index into the cost table's (channel, campaign), or -1
  double revenue;
  double cost;
};

class Journey {
 public:
  void clear() {
    events_.clear();
    props_.clear();
  }
  void add(Micros t, EventName name, int device) {
    Event e{};
    e.t = floor_ms(t);
    e.seq = static_cast<uint32_t>(events_.size());
    e.props_begin = static_cast<uint32_t>(props_.size());
    e.name = static_cast<uint8_t>(name);
    e.device = static_cast<uint8_t>(device);
    e.cost_slot = -1;
    events_.push_back(e);
  }
  void str(PropKey k, std::string_view v) { push({k, PropKind::kStr, v, 0}); }
  void prefixed(PropKey k, std::string_view prefix, int64_t n) { push({k, PropKind::kPrefixed, prefix, n}); }
  void integer(PropKey k, int64_t v) { push({k, PropKind::kInt, {}, v}); }
  void boolean(PropKey k, bool v) { push({k, PropKind::kBool, {}, v ? 1 : 0}); }
  void revenue(double v) {
    events_.back().has_revenue = true;
    events_.back().revenue = round_cents(v);
  }
  void cost(int slot, double amount) {
    events_.back().cost_slot = static_cast<int16_t>(slot);
    events_.back().cost = amount;
  }
  void identifies() { events_.back().identifies = true; }
  Micros last_time() const { return events_.back().t; }

  void sort() {
    std::sort(events_.begin(), events_.end(),
              [](const Event& a, const Event& b) { return a.t != b.t ? a.t < b.t : a.seq < b.seq; });
  }
  const std::vector<Event>& events() const { return events_; }
  const Prop* props(const Event& e) const { return props_.data() + e.props_begin; }

 private:
  void push(const Prop& p) {
    props_.push_back(p);
    ++events_.back().props_count;
  }
  std::vector<Event> events_;
  std::vector<Prop> props_;
};

// ---------------------------------------------------------------------------
// Output: a big buffer flushed to a FILE* or a gzFile. Callers reserve the
// room for one record, write through a raw pointer and commit.

class OutputFile {
 public:
  static constexpr size_t kCapacity = 4 << 20;
  static constexpr size_t kMaxRecord = 64 << 10;

  ~OutputFile() { close_quietly(); }

  Status open(const std::string& path, bool gzip) {
    path_ = path;
    buf_.reset(new char[kCapacity]);
    if (gzip) {
      gz_ = gzopen(path.c_str(), "wb1");
      if (gz_ == nullptr) return Status::io_error("cannot create " + path + ": " + std::strerror(errno));
      gzbuffer(gz_, 1 << 20);
    } else {
      file_ = std::fopen(path.c_str(), "wb");
      if (file_ == nullptr) return Status::io_error("cannot create " + path + ": " + std::strerror(errno));
    }
    return Status::ok();
  }

  // Room for at least kMaxRecord bytes.
  char* reserve() {
    if (len_ + kMaxRecord > kCapacity) flush();
    return buf_.get() + len_;
  }
  void commit(char* end) { len_ = static_cast<size_t>(end - buf_.get()); }
  void append(std::string_view s) {
    char* p = reserve();
    if (s.size() > kMaxRecord) {
      flush();
      write_raw(s.data(), s.size());
      return;
    }
    std::memcpy(p, s.data(), s.size());
    commit(p + s.size());
  }

  Status close() {
    flush();
    bool ok = !failed_;
    if (gz_ != nullptr) ok = gzclose(gz_) == Z_OK && ok;
    if (file_ != nullptr) ok = std::fclose(file_) == 0 && ok;
    gz_ = nullptr;
    file_ = nullptr;
    if (!ok) return Status::io_error("cannot write " + path_);
    return Status::ok();
  }
  uint64_t bytes() const { return bytes_ + len_; }

 private:
  void flush() {
    write_raw(buf_.get(), len_);
    len_ = 0;
  }
  void write_raw(const char* data, size_t n) {
    if (n == 0 || failed_) {
      bytes_ += n;
      return;
    }
    if (gz_ != nullptr) {
      failed_ = gzwrite(gz_, data, static_cast<unsigned>(n)) != static_cast<int>(n);
    } else {
      failed_ = std::fwrite(data, 1, n, file_) != n;
    }
    bytes_ += n;
  }
  void close_quietly() {
    if (gz_ != nullptr) gzclose(gz_);
    if (file_ != nullptr) std::fclose(file_);
  }

  std::string path_;
  std::unique_ptr<char[]> buf_;
  size_t len_ = 0;
  uint64_t bytes_ = 0;
  bool failed_ = false;
  FILE* file_ = nullptr;
  gzFile gz_ = nullptr;
};

char* put(char* p, std::string_view s) {
  if (s.empty()) return p;  // an empty view may hold nullptr, which memcpy must not get
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}
char* put_int(char* p, int64_t v) { return std::to_chars(p, p + 24, v).ptr; }
char* put_double(char* p, double v) { return std::to_chars(p, p + 32, v).ptr; }
char* put_2(char* p, unsigned v) {
  *p++ = static_cast<char>('0' + v / 10);
  *p++ = static_cast<char>('0' + v % 10);
  return p;
}

char* put_date(char* p, int64_t day) {
  const Civil c = civil_from_days(day);
  p = put_int(p, c.y);
  *p++ = '-';
  p = put_2(p, c.m);
  *p++ = '-';
  return put_2(p, c.d);
}

// "2026-01-03T10:15:02.123Z"; t >= 0, millisecond precision. Caches the
// date part, since a person's events mostly share a few days.
class TimestampWriter {
 public:
  char* put(char* p, Micros t) {
    const int64_t day = t / kDay;
    if (day != day_) {
      day_ = day;
      date_len_ = static_cast<size_t>(put_date(date_, day) - date_);
    }
    std::memcpy(p, date_, date_len_);
    p += date_len_;
    const int64_t in_day = (t % kDay) / kMs;
    *p++ = 'T';
    const auto secs = static_cast<unsigned>(in_day / 1000);
    p = put_2(p, secs / 3600);
    *p++ = ':';
    p = put_2(p, secs / 60 % 60);
    *p++ = ':';
    p = put_2(p, secs % 60);
    *p++ = '.';
    const auto ms = static_cast<unsigned>(in_day % 1000);
    *p++ = static_cast<char>('0' + ms / 100);
    p = put_2(p, ms % 100);
    *p++ = 'Z';
    return p;
  }

 private:
  int64_t day_ = -1;
  char date_[32] = {};
  size_t date_len_ = 0;
};

char* put_json_string(char* p, std::string_view s) {
  *p++ = '"';
  bool plain = true;
  for (char ch : s) plain = plain && ch != '"' && ch != '\\' && static_cast<unsigned char>(ch) >= 0x20;
  if (plain) {
    p = put(p, s);
    *p++ = '"';
    return p;
  }
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      *p++ = '\\';
      *p++ = ch;
    } else if (c < 0x20) {
      p = put(p, "\\u00");
      *p++ = "0123456789abcdef"[c >> 4];
      *p++ = "0123456789abcdef"[c & 15];
    } else {
      *p++ = ch;
    }
  }
  *p++ = '"';
  return p;
}

char* put_csv_field(char* p, std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return put(p, s);
  *p++ = '"';
  for (char ch : s) {
    if (ch == '"') *p++ = '"';
    *p++ = ch;
  }
  *p++ = '"';
  return p;
}

// A property value: a JSON value, or a CSV field.
char* put_prop_value(char* p, const Prop& prop, bool json) {
  switch (prop.kind) {
    case PropKind::kStr:
      return json ? put_json_string(p, prop.str) : put_csv_field(p, prop.str);
    case PropKind::kPrefixed: {
      if (json) *p++ = '"';
      p = put(p, prop.str);
      p = put_int(p, prop.i);
      if (json) *p++ = '"';
      return p;
    }
    case PropKind::kInt:
      return put_int(p, prop.i);
    case PropKind::kBool:
      return put(p, prop.i != 0 ? std::string_view("true") : std::string_view("false"));
  }
  return p;
}

// ---------------------------------------------------------------------------
// Accumulators of the planted truth and realised totals.

struct ChannelTruth {
  double lost_conversions = 0;  // expected conversions lost if the channel were removed
  double lost_revenue = 0;
  uint64_t persons_touched = 0;
  uint64_t converters_touched = 0;
};

struct FeatureTruth {
  uint64_t users = 0;  // eligible customers who used the feature in their first 28 days
  uint64_t users_upgraded = 0;
  uint64_t non_users = 0;
  uint64_t non_users_upgraded = 0;
};

struct Totals {
  uint64_t persons = 0, identified = 0, two_devices = 0, bouncers = 0, converters = 0;
  uint64_t events = 0;
  double expected_conversions = 0, expected_revenue = 0, conversion_revenue = 0, all_revenue = 0;
  uint64_t upgrade_eligible = 0, upgrades = 0;
  std::array<uint64_t, kSegmentCount> segment_persons{}, segment_converters{};
  std::array<uint64_t, kEventNameCount> event_counts{};
  uint64_t sessions = 0;
  Micros session_duration_total = 0;
  uint64_t nps_promoters = 0, nps_passives = 0, nps_detractors = 0, csat_answers = 0, csat_satisfied = 0;
};

// A web visit: a landing page view (the touchpoint) and what follows it.
struct Visit {
  Micros t;
  Channel channel;
  int device;
  bool converts;
  bool identifies;
};

struct Person {
  uint64_t index = 0;
  Segment segment = kSalesLed;
  bool bouncer = false;
  bool early_identified = false;
  bool converted = false;
  bool two_devices = false;
  bool trial = false;
  std::array<bool, kChannelCount> touched{};
  Channel entry = kDirect;
  Micros t0 = 0;
  Micros t_pre_end = 0;      // last touch time bound; the conversion visit starts here
  Micros t_id = -1;          // identifying event time, -1 while unknown
  int id_device = 0;         // device of the identifying event
  Micros t_conversion = -1;  // conversion event time
  Micros active_end = 0;     // customers: end of the window or churn
  double value = 0;          // conversion revenue if the person converts
  int plan = 0;
  int company_size = 0;
  bool mql = false, opportunity = false, churned = false, unsubscribed = false;
  int session_counter = 0;
  int ticket_counter = 0;
};

class Simulator {
 public:
  explicit Simulator(const SimulateOptions& options)
      : opt_(options),
        start_(floor_ms(options.start)),
        end_(start_ + static_cast<Micros>(options.days) * kDay),
        // One more day: a window that starts mid-day touches days + 1 UTC dates.
        costs_(static_cast<size_t>(options.days + 1) * kCostChannelCount * kCampaignsPerChannel, 0.0) {
    for (size_t k = 0; k < kPropKeyCount; ++k) json_keys_[k] = fmt::format("\"{}\":", kPropKeyNames[k]);
  }

  Result<SimulateSummary> run() {
    const auto began = std::chrono::steady_clock::now();
    const bool gzip = opt_.out.size() > 3 && opt_.out.compare(opt_.out.size() - 3, 3, ".gz") == 0;
    CAIRN_RETURN_IF_ERROR(events_out_.open(opt_.out, gzip));
    CAIRN_RETURN_IF_ERROR(contacts_out_.open(opt_.out + ".contacts.csv", false));
    if (opt_.format == OutputFormat::kCsv) write_csv_header();
    contacts_out_.append(
        "user_id,email,name,company,industry,company_size,country,plan,lifecycle_stage,lead_source,created_at\n");

    for (uint64_t i = 0; i < opt_.persons; ++i) {
      generate_person(i);
      write_person();
    }
    CAIRN_RETURN_IF_ERROR(events_out_.close());
    CAIRN_RETURN_IF_ERROR(contacts_out_.close());
    CAIRN_RETURN_IF_ERROR(write_costs());
    CAIRN_RETURN_IF_ERROR(write_truth());

    SimulateSummary summary;
    summary.persons = totals_.persons;
    summary.identified = totals_.identified;
    summary.converters = totals_.converters;
    summary.events = totals_.events;
    summary.bytes = events_out_.bytes();
    summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
    return summary;
  }

 private:
  // ---- person generation -------------------------------------------------

  void generate_person(uint64_t index) {
    Rng rng(opt_.seed, index);
    rng_ = &rng;
    Rng side(opt_.seed, index ^ kSideStream);
    side_ = &side;
    journey_.clear();
    visits_.clear();
    p_ = Person{};
    Person& p = p_;
    p.index = index;
    p.segment = static_cast<Segment>(rng.pick(kSegmentShare));
    p.bouncer = rng.chance(kBounceRate);

    const Micros range = end_ - start_;
    p.t0 = floor_ms(start_ + static_cast<Micros>(rng.uniform() * 0.85 * static_cast<double>(range)));
    // Leaves room after the last pre-conversion visit for that visit itself.
    const Micros room = std::max<Micros>(end_ - p.t0 - 2 * kHour, kHour);

    choose_exposure();
    choose_value();
    p.converted = rng.chance(plant_truth());

    // Length of the pre-conversion phase (first touch to conversion / drop-off).
    Micros pre = 0;
    if (p.converted) {
      if (p.segment == kSalesLed) {
        pre = 10 * kDay + span(rng, 25.0 * kDay);
      } else if (!p.bouncer) {
        pre = 4 * kHour + span(rng, (p.segment == kSelfServe ? 18.0 : 10.0) * kDay);
      }
    } else if (!p.bouncer) {
      pre = 4 * kHour + span(rng, 20.0 * kDay);
    }
    pre = std::min({pre, room, 85 * kDay});
    p.t_pre_end = p.t0 + pre;

    const bool will_identify = p.early_identified || p.converted;
    p.two_devices = will_identify && rng.chance(kTwoDeviceRate);
    // A trial starts at an early signup; a buyer who signs up at checkout skips it.
    p.trial = p.segment == kSelfServe && p.early_identified && rng.chance(p.converted ? 0.85 : 0.6);

    plan_visits();
    for (size_t v = 0; v < visits_.size(); ++v) emit_visit(visits_[v]);
    emit_offsite_touches();
    if (p.t_id >= 0) {
      emit_pipeline();
      if (p.two_devices) {
        // The other device signs in: its anonymous id now links to the user.
        // Kept inside the window: without it the second id would stay unlinked.
        const Micros link = std::min(p.t_id + kHour + span(rng, 2.0 * kDay), end_ - kMs);
        journey_.add(std::max(link, p.t_id), kLogin, 1 - p.id_device);
      }
    }
    if (p.converted) emit_customer_life();
    // After the customer life: mail to customers stops when they churn.
    if (p.touched[kEmail]) emit_email_program();

    ++totals_.persons;
    ++totals_.segment_persons[p.segment];
    if (p.bouncer) ++totals_.bouncers;
    if (p.converted) {
      for (int c = 0; c < kChannelCount; ++c) channels_[static_cast<size_t>(c)].converters_touched += p.touched[c] ? 1 : 0;
      ++totals_.converters;
      ++totals_.segment_converters[p.segment];
      totals_.conversion_revenue += p.value;
    }
    if (p.t_id >= 0) ++totals_.identified;
    if (p.two_devices) ++totals_.two_devices;
  }

  void choose_exposure() {
    Person& p = p_;
    Rng& rng = *rng_;
    if (p.bouncer) {
      p.entry = static_cast<Channel>(rng.pick(kEntryWeight));
      p.touched[p.entry] = true;
      return;
    }
    bool any = false;
    for (int c = 0; c < kChannelCount; ++c) {
      if (c == kEmail) continue;
      p.touched[c] = rng.chance(kExposure[p.segment][c]);
      any = any || p.touched[c];
    }
    p.early_identified = rng.chance(kEarlyIdentify[p.segment]);
    if (p.early_identified) p.touched[kEmail] = rng.chance(kExposure[p.segment][kEmail]);
    if (!any) p.touched[rng.pick(kEntryWeight)] = true;
    p.entry = pick_touched();
  }

  // A touched channel other than email, weighted like entries.
  Channel pick_touched() {
    std::array<double, kChannelCount> w{};
    for (int c = 0; c < kChannelCount; ++c) {
      if (p_.touched[c]) w[c] = kEntryWeight[c];
    }
    return static_cast<Channel>(rng_->pick(w));
  }

  void choose_value() {
    Person& p = p_;
    Rng& rng = *rng_;
    switch (p.segment) {
      case kSalesLed:
        p.company_size = 3 + rng.below(2);
        p.plan = 2;
        p.value = std::max(2000.0, std::round(18000.0 * std::exp(0.6 * rng.normal()) / 100.0) * 100.0);
        break;
      case kSelfServe:
        p.company_size = rng.below(3);
        p.plan = rng.pick(std::array<double, 3>{0.5, 0.38, 0.12});
        p.value = kPlanPrice[static_cast<size_t>(p.plan)];
        break;
      default:
        p.company_size = -1;
        p.value = round_cents(std::clamp(60.0 * std::exp(0.7 * rng.normal()), 9.99, 2000.0));
        break;
    }
  }

  // Conversion probability under the planted model, and the counterfactual
  // removal of each touched channel for the truth file.
  double plant_truth() {
    const Person& p = p_;
    double logit = kSegmentBase[p.segment];
    for (int c = 0; c < kChannelCount; ++c) {
      if (p.touched[c]) logit += kChannelEffect[c];
    }
    const double prob = sigmoid(logit);
    totals_.expected_conversions += prob;
    totals_.expected_revenue += prob * p.value;
    for (int c = 0; c < kChannelCount; ++c) {
      if (!p.touched[c]) continue;
      const double lost = prob - sigmoid(logit - kChannelEffect[c]);
      channels_[c].lost_conversions += lost;
      channels_[c].lost_revenue += lost * p.value;
      ++channels_[c].persons_touched;
    }
    return prob;
  }

  void plan_visits() {
    Person& p = p_;
    Rng& rng = *rng_;
    const Micros pre = p.t_pre_end - p.t0;
    visits_.push_back({p.t0, p.entry, 0, false, false});
    if (!p.bouncer) {
      for (int c = 0; c < kChannelCount; ++c) {
        if (!p.touched[c] || c == kEmail || c == kDisplay || c == kSocial) continue;
        const int extra = (c == p.entry ? 0 : 1) + rng.geometric(1.0);
        for (int k = 0; k < extra; ++k) {
          visits_.push_back({p.t0 + 1 + rng.below64(pre), static_cast<Channel>(c), 0, false, false});
        }
      }
    }
    const bool visit_converts = p.converted && p.segment != kSalesLed;
    if (visit_converts) {
      if (p.bouncer) {
        visits_[0].converts = true;
      } else {
        // Email can bring the buyer back only after the address is known,
        // which the first visits settle.
        Channel c = pick_touched();
        if (p.touched[kEmail] && rng.chance(0.35)) c = kEmail;
        visits_.push_back({p.t_pre_end, c, 0, true, false});
      }
    }
    std::sort(visits_.begin(), visits_.end(), [](const Visit& a, const Visit& b) { return a.t < b.t; });
    if (p.two_devices) {
      for (size_t v = 1; v < visits_.size(); ++v) visits_[v].device = rng.chance(0.35) ? 1 : 0;
    }
    // Which visit identifies the person.
    int id_visit = -1;
    if (p.early_identified || (p.converted && p.segment == kSalesLed)) {
      // In the first half of the journey, so that emails and the sales
      // pipeline fit between it and the end. Visits are sorted, so the
      // candidates are a prefix (visit 0 at t0 always qualifies).
      int candidates = 0;
      for (const Visit& v : visits_) candidates += (!v.converts && v.t <= p.t0 + pre / 2) ? 1 : 0;
      id_visit = candidates > 0 ? rng.below(candidates) : 0;
    } else if (p.converted) {
      // Signs up at checkout, in the conversion visit.
      for (size_t v = 0; v < visits_.size(); ++v) {
        if (visits_[v].converts) id_visit = static_cast<int>(v);
      }
    }
    if (id_visit >= 0) visits_[static_cast<size_t>(id_visit)].identifies = true;
  }

  int next_session() { return p_.session_counter < 999 ? p_.session_counter++ : 999; }
  int64_t session_number() { return static_cast<int64_t>(p_.index) * 1000 + next_session(); }

  int cost_slot(CostChannel c, int campaign) { return c * kCampaignsPerChannel + campaign; }

  // Marketing properties of a touch, on the current event.
  struct Touch {
    Channel channel = kDirect;
    int campaign = -1;
    std::string_view source;
    std::string_view medium;
    std::string_view content;
    std::string_view referrer;
    const Email* email = nullptr;
  };

  void put_touch(const Touch& t) {
    journey_.str(kKeyChannel, kChannelNames[t.channel]);
    if (!t.source.empty()) journey_.str(kKeyUtmSource, t.source);
    if (!t.medium.empty()) journey_.str(kKeyUtmMedium, t.medium);
    if (t.campaign >= 0) {
      const int cc = t.channel == kPaidSearch ? 0
                     : t.channel == kSocial   ? 1
                     : t.channel == kDisplay  ? 2
                     : t.channel == kEmail    ? 3
                                              : 4;
      journey_.str(kKeyUtmCampaign, kCampaigns[static_cast<size_t>(cc)][static_cast<size_t>(t.campaign)]);
    }
    if (!t.content.empty()) journey_.str(kKeyUtmContent, t.content);
    if (!t.referrer.empty()) journey_.str(kKeyReferrer, t.referrer);
    if (t.email != nullptr) {
      journey_.str(kKeyEmailId, t.email->id);
      journey_.str(kKeyEmailName, t.email->name);
    }
  }

  struct PagePick {
    std::string_view page;
    std::string_view path;
    int64_t product;
  };
  PagePick pick_page() {
    Rng& rng = *rng_;
    const Page& pg = p_.segment == kShopper ? kShopPages[static_cast<size_t>(rng.below(kShopPages.size()))]
                                            : kB2bPages[static_cast<size_t>(rng.below(kB2bPages.size()))];
    return {pg.page, pg.path, 1000 + rng.below(400)};
  }
  void put_page(const PagePick& pg, bool landing) {
    journey_.str(kKeyPage, pg.page);
    if (!pg.path.empty()) {
      journey_.str(kKeyPagePath, pg.path);
      if (landing) journey_.str(kKeyLandingPage, pg.path);
    } else {
      journey_.prefixed(kKeyPagePath, "/product/", pg.product);
      if (landing) journey_.prefixed(kKeyLandingPage, "/product/", pg.product);
    }
  }

  Touch make_touch(Channel c, Rng& rng) {
    Touch t;
    t.channel = c;
    switch (c) {
      case kPaidSearch:
        t.campaign = rng.pick(kCampaignWeight);
        t.source = rng.chance(0.8) ? "google" : "bing";
        t.medium = "cpc";
        t.content = rng.chance(0.3) ? rng.one_of(kAssets) : std::string_view();
        break;
      case kSocial:
        t.campaign = rng.pick(kCampaignWeight);
        t.source = t.campaign < 2 || t.campaign == 5 ? "linkedin" : t.campaign < 4 ? "facebook" : "twitter";
        t.medium = rng.chance(0.45) ? "paid_social" : "social";
        t.content = rng.one_of(kAssets);
        break;
      case kDisplay:
        t.campaign = rng.pick(kCampaignWeight);
        t.source = t.campaign == 0 || t.campaign == 1 || t.campaign == 4 ? "gdn" : "adroll";
        t.medium = "display";
        t.content = rng.one_of(kAssets);
        break;
      case kEmail:
        t.email = &kEmails[static_cast<size_t>(rng.below(kEmails.size()))];
        t.campaign = t.email->campaign;
        t.source = "newsletter";
        t.medium = "email";
        t.content = rng.chance(0.5) ? rng.one_of(kAssets) : std::string_view();
        break;
      case kReferral:
        t.campaign = rng.below(kCampaignsPerChannel);
        t.source = kReferralSource[static_cast<size_t>(t.campaign)];
        t.medium = "referral";
        t.referrer = kReferralSite[static_cast<size_t>(t.campaign)];
        break;
      case kOrganic:
        t.referrer = rng.chance(0.85) ? "https://www.google.com/" : "https://www.bing.com/";
        break;
      default:
        break;
    }
    return t;
  }

  // Events that bring the person to a landing page, before time `t`.
  void emit_arrival(const Touch& touch, Micros t, int device) {
    Rng& rng = *rng_;
    const Micros before = std::max<Micros>(t - start_, 0);
    auto earlier = [&](Micros by) { return t - std::min(by, before); };
    switch (touch.channel) {
      case kPaidSearch:
        // The ad was shown on the search it was clicked from; half the
        // searchers saw it on an earlier search too.
        if (rng.chance(0.5)) {
          journey_.add(earlier(30 * kSecond), kAdImpression, device);
          put_touch(touch);
        }
        journey_.add(earlier(5 * kSecond), kAdImpression, device);
        put_touch(touch);
        journey_.add(earlier(2 * kSecond), kAdClick, device);
        put_touch(touch);
        journey_.cost(cost_slot(kCostPaidSearch, touch.campaign), kSearchCpc[static_cast<size_t>(touch.campaign)]);
        break;
      case kSocial:
        if (touch.medium == "paid_social") {
          journey_.add(earlier(3 * kMinute), kAdImpression, device);
          put_touch(touch);
          journey_.cost(cost_slot(kCostSocial, touch.campaign), kSocialCostPerImpression);
          journey_.add(earlier(2 * kSecond), kAdClick, device);
          put_touch(touch);
          journey_.cost(cost_slot(kCostSocial, touch.campaign), kSocialCpc[static_cast<size_t>(touch.campaign)]);
        } else {
          journey_.add(earlier(5 * kMinute), kSocialEngagement, device);
          put_touch(touch);
          journey_.str(kKeyAction, rng.one_of(std::array<std::string_view, 3>{"like", "comment", "share"}));
        }
        break;
      case kDisplay:
        journey_.add(earlier(90 * kSecond), kAdImpression, device);
        put_touch(touch);
        journey_.cost(cost_slot(kCostDisplay, touch.campaign), kDisplayCostPerImpression);
        journey_.add(earlier(2 * kSecond), kAdClick, device);
        put_touch(touch);
        journey_.cost(cost_slot(kCostDisplay, touch.campaign), kDisplayCpc);
        break;
      case kEmail: {
        const Micros sent = std::max(p_.t_id + kSecond, t - kHour - span(rng, 20.0 * kHour));
        emit_email_send(sent, touch);
        journey_.add(std::max(sent + kSecond, t - kMinute), kEmailOpen, 0);
        put_touch(touch);
        journey_.add(std::max(sent + 2 * kSecond, t - 3 * kSecond), kEmailClick, 0);
        put_touch(touch);
        break;
      }
      default:
        break;
    }
  }

  void emit_email_send(Micros t, const Touch& touch) {
    journey_.add(t, kEmailSent, 0);
    put_touch(touch);
    journey_.cost(cost_slot(kCostEmail, touch.campaign), kEmailCostPerSend);
  }

  void emit_visit(const Visit& v) {
    Person& p = p_;
    Rng& rng = *rng_;
    const Touch touch = make_touch(v.channel, rng);
    emit_arrival(touch, v.t, v.device);
    const int64_t session = session_number();
    Micros t = v.t;
    PagePick landing = pick_page();
    if (v.converts && p.segment == kShopper) landing = {"product", "", 1000 + rng.below(400)};
    journey_.add(t, kPageView, v.device);
    put_touch(touch);
    put_page(landing, true);
    journey_.prefixed(kKeySessionId, "s-", session);
    if (touch.channel == kReferral) {
      journey_.cost(cost_slot(kCostReferral, touch.campaign), kReferralFee[static_cast<size_t>(touch.campaign)]);
    }
    auto step = [&]() { return t += 5 * kSecond + span(rng, 70.0 * kSecond) % (4 * kMinute); };
    auto page_view = [&](const PagePick& pg) {
      journey_.add(step(), kPageView, v.device);
      put_page(pg, false);
      journey_.prefixed(kKeySessionId, "s-", session);
    };

    const bool single_page = p.bouncer && !v.converts && !v.identifies;
    if (!single_page) {
      const int pages = std::min(8, rng.geometric(2.2));
      for (int k = 0; k < pages; ++k) page_view(pick_page());
      if (rng.chance(0.08)) {
        const std::string_view topic =
            rng.one_of(std::array<std::string_view, 5>{"pricing", "integration", "support", "demo", "billing"});
        journey_.add(step(), kChatStarted, v.device);
        journey_.str(kKeyTopic, topic);
        put_conversation(objection_for(topic), v.converts || v.identifies ? 0.6 : 0.3);
        const int messages = 1 + rng.below(3);
        for (int k = 0; k < messages; ++k) {
          journey_.add(step(), kChatMessage, v.device);
          journey_.str(kKeyTopic, topic);
        }
      }
      if (p.t_id >= 0 && p.segment != kShopper && !v.converts && rng.chance(0.15)) emit_webinar(step(), v.device);
    }
    if (v.identifies && !(v.converts && p.segment == kShopper)) {
      emit_identification(step(), v.device);
    }
    if (v.converts) emit_conversion_visit(t, v.device, landing.product);
    if (!v.converts && !single_page && p.t_id < 0 && p.segment == kShopper && rng.chance(0.12)) {
      // Abandoned cart.
      journey_.add(step(), kAddToCart, v.device);
      journey_.prefixed(kKeyProduct, "sku-", landing.product);
      journey_.integer(kKeyQuantity, 1 + rng.below(3));
      journey_.add(step(), kCheckoutStarted, v.device);
    }
  }

  void emit_webinar(Micros t, int device) {
    Rng& rng = *rng_;
    const int w = rng.below(3);
    static constexpr std::array<std::string_view, 3> kWebinarNames = {
        "Journey analytics live", "Attribution masterclass", "Reducing churn with cohorts"};
    journey_.add(t, kWebinarRegistered, device);
    journey_.prefixed(kKeyWebinarId, "web-", 201 + w);
    journey_.str(kKeyWebinarName, kWebinarNames[static_cast<size_t>(w)]);
    if (rng.chance(0.55)) {
      journey_.add(t + 2 * kDay + rng.below64(7 * kDay), kWebinarAttended, device);
      journey_.prefixed(kKeyWebinarId, "web-", 201 + w);
      journey_.str(kKeyWebinarName, kWebinarNames[static_cast<size_t>(w)]);
    }
  }

  void emit_identification(Micros t, int device) {
    Person& p = p_;
    Rng& rng = *rng_;
    switch (p.segment) {
      case kSalesLed: {
        const int f = rng.below(3);
        static constexpr std::array<std::string_view, 3> kIds = {"demo_request", "ebook_download", "contact_sales"};
        static constexpr std::array<std::string_view, 3> kNames = {"Request a demo", "Download the ebook",
                                                              "Contact sales"};
        journey_.add(t, kFormSubmit, device);
        journey_.str(kKeyFormId, kIds[static_cast<size_t>(f)]);
        journey_.str(kKeyFormName, kNames[static_cast<size_t>(f)]);
        break;
      }
      case kSelfServe:
        journey_.add(t, kSignup, device);
        journey_.str(kKeyFormId, "signup");
        journey_.str(kKeyFormName, "Start your free trial");
        break;
      default:
        journey_.add(t, kFormSubmit, device);
        journey_.str(kKeyFormId, "newsletter");
        journey_.str(kKeyFormName, "Newsletter signup");
        break;
    }
    journey_.identifies();
    p.t_id = journey_.last_time();
    p.id_device = device;
    if (p.segment != kShopper) {
      journey_.add(t + kSecond, kLeadCreated, device);
      journey_.str(kKeyLeadSource, kChannelNames[p.entry]);
    }
    if (p.trial) {
      journey_.add(t + 2 * kSecond, kTrialStarted, device);
      journey_.str(kKeyPlan, kPlans[static_cast<size_t>(p.plan)]);
      emit_trial_usage(t + 5 * kMinute, device);
    }
  }

  void emit_trial_usage(Micros from, int device) {
    Rng& rng = *rng_;
    const Micros until = p_.converted ? p_.t_pre_end - kMinute : from + 14 * kDay;
    const int sessions = 1 + rng.below(4);
    for (int s = 0; s < sessions; ++s) {
      Micros t = from + rng.below64(until - from);
      const int64_t session = session_number();
      journey_.add(t, kLogin, device);
      journey_.prefixed(kKeySessionId, "s-", session);
      const int uses = 1 + rng.below(3);
      for (int k = 0; k < uses; ++k) {
        t += kMinute + rng.below64(5 * kMinute);
        journey_.add(t, kFeatureUsed, device);
        journey_.str(kKeyFeature, kFeatureNames[static_cast<size_t>(rng.below(kFeatureCount))]);
        journey_.prefixed(kKeySessionId, "s-", session);
      }
    }
  }

  void emit_conversion_visit(Micros t, int device, int64_t product) {
    Person& p = p_;
    Rng& rng = *rng_;
    auto step = [&]() { return t += 10 * kSecond + rng.below64(2 * kMinute); };
    const int64_t order = static_cast<int64_t>(p.index);
    if (p.segment == kShopper) {
      const int quantity = 1 + rng.below(2);
      journey_.add(step(), kAddToCart, device);
      journey_.prefixed(kKeyProduct, "sku-", product);
      journey_.integer(kKeyQuantity, quantity);
      journey_.add(step(), kCheckoutStarted, device);
      if (p.t_id < 0) {
        journey_.add(step(), kSignup, device);
        journey_.str(kKeyFormId, "checkout_account");
        journey_.str(kKeyFormName, "Create your account");
        journey_.identifies();
        p.t_id = journey_.last_time();
        p.id_device = device;
      }
      journey_.add(step(), kPurchase, device);
      journey_.prefixed(kKeyProduct, "sku-", product);
      journey_.integer(kKeyQuantity, quantity);
      journey_.prefixed(kKeyOrderId, "o-", order);
      journey_.boolean(kKeyFromTrial, false);
      journey_.revenue(p.value);
    } else {
      journey_.add(step(), kPageView, device);
      put_page({"pricing", "/pricing", 0}, false);
      journey_.add(step(), kCheckoutStarted, device);
      journey_.str(kKeyPlan, kPlans[static_cast<size_t>(p.plan)]);
      journey_.add(step(), kPurchase, device);
      journey_.str(kKeyPlan, kPlans[static_cast<size_t>(p.plan)]);
      journey_.prefixed(kKeyOrderId, "o-", order);
      journey_.boolean(kKeyFromTrial, p.trial);
      journey_.revenue(p.value);
    }
    p.t_conversion = journey_.last_time();
  }

  // Display impressions, social engagements and search ads seen that bring
  // no visit.
  void emit_offsite_touches() {
    Person& p = p_;
    Rng& rng = *rng_;
    // After the entry visit (the first touch of an anonymous person is a
    // visit) and before the conversion.
    const Micros pre = p.t_pre_end - p.t0;
    auto offsite_time = [&](Rng& from) {
      return p.t0 + kMinute + from.below64(std::max<Micros>(pre - 2 * kMinute, kMinute));
    };
    for (Channel c : {kDisplay, kSocial}) {
      if (!p.touched[c]) continue;
      bool visited = false;
      for (const Visit& v : visits_) visited = visited || v.channel == c;
      const int n = (visited ? 0 : 1) + (p.bouncer ? 0 : rng.geometric(1.5));
      for (int k = 0; k < n; ++k) {
        const Micros t = offsite_time(rng);
        const Touch touch = make_touch(c, rng);
        if (c == kDisplay || touch.medium == "paid_social") {
          journey_.add(t, kAdImpression, 0);
          put_touch(touch);
          journey_.cost(cost_slot(c == kDisplay ? kCostDisplay : kCostSocial, touch.campaign),
                        c == kDisplay ? kDisplayCostPerImpression : kSocialCostPerImpression);
        } else {
          journey_.add(t, kSocialEngagement, 0);
          put_touch(touch);
          journey_.str(kKeyAction, rng.one_of(std::array<std::string_view, 3>{"like", "comment", "share"}));
        }
      }
    }
    // Searches that showed a paid ad and were not clicked (search is bought
    // per click: no cost). From the side stream.
    if (p.touched[kPaidSearch]) {
      Rng& side = *side_;
      const int n = side.geometric(p.bouncer ? 0.3 : 1.5);
      for (int k = 0; k < n; ++k) {
        const Micros t = offsite_time(side);
        const Touch touch = make_touch(kPaidSearch, side);  // the campaign and the ad too
        journey_.add(t, kAdImpression, 0);
        put_touch(touch);
      }
    }
  }

  // Sends after identification; some opened, some clicked into a visit.
  void emit_email_program() {
    Person& p = p_;
    Rng& rng = *rng_;
    const Micros lo = p.t_id + kMinute;
    const Micros hi = std::max(p.t_pre_end - kMinute, lo + kMs);
    const int sends = 1 + rng.geometric(2.5);
    for (int k = 0; k < sends && !p.unsubscribed; ++k) emit_email(lo + rng.below64(hi - lo));
    if (p.converted) {
      for (Micros t = p.t_pre_end + 3 * kDay + rng.below64(7 * kDay); t < p.active_end && !p.unsubscribed;
           t += 10 * kDay + rng.below64(8 * kDay)) {
        emit_email(t);
      }
    }
  }

  void emit_email(Micros sent) {
    Person& p = p_;
    Rng& rng = *rng_;
    const Touch touch = make_touch(kEmail, rng);
    emit_email_send(sent, touch);
    if (!rng.chance(0.45)) return;
    const Micros opened = sent + kMinute + span(rng, 3.0 * kHour);
    journey_.add(opened, kEmailOpen, 0);
    put_touch(touch);
    if (rng.chance(0.04)) {
      journey_.add(opened + 30 * kSecond, kEmailUnsubscribed, 0);
      put_touch(touch);
      p.unsubscribed = true;
      return;
    }
    if (!rng.chance(0.25)) return;
    // The click opens a visit; keep it clear of the conversion visit.
    const Micros visit = opened + kMinute;
    if (p.converted && p.t_conversion >= 0 && visit >= p.t_pre_end - kHour && visit <= p.t_conversion + kHour) return;
    journey_.add(visit - 3 * kSecond, kEmailClick, 0);
    put_touch(touch);
    const int64_t session = session_number();
    const PagePick pg = pick_page();
    journey_.add(visit, kPageView, p.two_devices && rng.chance(0.3) ? 1 : 0);
    put_touch(touch);
    put_page(pg, true);
    journey_.prefixed(kKeySessionId, "s-", session);
  }

  // CRM milestones of leads: MQL, opportunity, sales calls, won / lost.
  void emit_pipeline() {
    Person& p = p_;
    Rng& rng = *rng_;
    if (p.segment == kShopper) return;
    const int64_t opp_id = static_cast<int64_t>(p.index);
    if (p.converted && p.segment == kSalesLed) {
      const Micros t_won = p.t_pre_end;
      const Micros gap = std::max<Micros>(t_won - p.t_id, kHour);
      const Micros t_mql = p.t_id + kMinute + static_cast<Micros>((0.1 + 0.2 * rng.uniform()) * static_cast<double>(gap));
      const Micros t_opp = p.t_id + 2 * kMinute + static_cast<Micros>((0.35 + 0.2 * rng.uniform()) * static_cast<double>(gap));
      journey_.add(t_mql, kMql, 0);
      journey_.add(t_opp, kOpportunityCreated, 0);
      journey_.prefixed(kKeyOpportunityId, "opp-", opp_id);
      p.mql = p.opportunity = true;
      const int calls = 1 + rng.below(3);
      for (int k = 0; k < calls; ++k) {
        emit_sales_call(t_opp + kMinute + rng.below64(std::max<Micros>(t_won - t_opp - 2 * kMinute, kMinute)), 0.65);
      }
      journey_.add(t_won, kDealWon, 0);
      journey_.prefixed(kKeyOpportunityId, "opp-", opp_id);
      journey_.str(kKeyPlan, "enterprise");
      journey_.revenue(p.value);
      p.t_conversion = journey_.last_time();
      return;
    }
    const double mql_rate = p.converted ? 0.7 : (p.segment == kSalesLed ? 0.4 : 0.3);
    if (!rng.chance(mql_rate)) return;
    // Never before the lead (lead_created is a second after identification).
    const Micros t_mql =
        p.converted ? std::max(p.t_id + 2 * kSecond, p.t_id + rng.below64(std::max<Micros>(p.t_pre_end - p.t_id, kMinute)))
                    : p.t_id + kHour + span(rng, 5.0 * kDay);
    journey_.add(t_mql, kMql, 0);
    p.mql = true;
    if (p.segment != kSalesLed || p.converted || !rng.chance(0.35)) return;
    const Micros t_opp = t_mql + kHour + span(rng, 7.0 * kDay);
    journey_.add(t_opp, kOpportunityCreated, 0);
    journey_.prefixed(kKeyOpportunityId, "opp-", opp_id);
    p.opportunity = true;
    const int calls = 1 + rng.below(2);
    Micros t = t_opp;
    for (int k = 0; k < calls; ++k) emit_sales_call(t += kHour + span(rng, 4.0 * kDay), 0.3);
    if (rng.chance(0.7)) {
      journey_.add(t + kDay + span(rng, 14.0 * kDay), kDealLost, 0);
      journey_.prefixed(kKeyOpportunityId, "opp-", opp_id);
      journey_.str(kKeyReason, rng.one_of(std::array<std::string_view, 4>{"price", "timing", "competitor", "no_decision"}));
    }
  }

  void emit_sales_call(Micros t, double positive_rate) {
    Rng& rng = *rng_;
    journey_.add(t, kSalesCall, 0);
    journey_.str(kKeyObjection, rng.one_of(kObjections));
    put_outcome(rng.uniform(), positive_rate);
  }

  // A conversation's objection and outcome (a chat's, from the side stream).
  void put_conversation(std::string_view objection, double positive_rate) {
    journey_.str(kKeyObjection, objection);
    put_outcome(side_->uniform(), positive_rate);
  }
  void put_outcome(double u, double positive_rate) {
    journey_.str(kKeyOutcome, u < positive_rate ? "positive" : u < positive_rate + 0.25 ? "neutral" : "negative");
  }

  // A chat's objection follows its topic: pricing chats raise price,
  // integration chats features, demo chats timing or a competitor; support
  // and billing chats mostly none.
  std::string_view objection_for(std::string_view topic) {
    static constexpr std::array<std::string_view, 4> kTopics = {"pricing", "integration", "demo", "support"};
    // Weights of kObjections (price, timing, features, competitor, none) per
    // topic of kTopics, then billing.
    static constexpr std::array<std::array<double, 5>, 5> kWeight = {{
        {0.60, 0.10, 0.05, 0.15, 0.10},
        {0.05, 0.10, 0.60, 0.10, 0.15},
        {0.10, 0.35, 0.15, 0.25, 0.15},
        {0.05, 0.05, 0.20, 0.00, 0.70},
        {0.30, 0.05, 0.00, 0.00, 0.65},
    }};
    size_t row = kTopics.size();
    for (size_t k = 0; k < kTopics.size(); ++k)
      if (kTopics[k] == topic) row = k;
    return kObjections[static_cast<size_t>(side_->pick(kWeight[row]))];
  }

  // After conversion: usage, upgrades, renewals, add-ons, support, surveys, churn.
  void emit_customer_life() {
    Person& p = p_;
    Rng& rng = *rng_;
    const Micros t = p.t_conversion;
    const bool subscriber = p.segment != kShopper;
    Micros& active_end = p.active_end;
    active_end = end_;
    if (subscriber) {
      const double monthly_churn = p.segment == kSelfServe ? 0.05 : 0.02;
      const Micros churn_at = t + kDay + span(rng, 30.0 * kDay / monthly_churn);
      if (churn_at < end_) {
        active_end = churn_at;
        p.churned = true;
        journey_.add(churn_at, kSubscriptionCancelled, 0);
        journey_.str(kKeyReason, rng.one_of(std::array<std::string_view, 4>{"price", "missing_features",
                                                                         "switched_competitor", "no_longer_needed"}));
        journey_.str(kKeyPlan, kPlans[static_cast<size_t>(p.plan)]);
        journey_.add(churn_at + kDay + rng.below64(20 * kDay), kChurned, 0);
      }
      emit_usage_and_upgrade(t, active_end);
    } else {
      if (rng.chance(0.3)) {
        const int a = rng.below(kAddOns.size());
        journey_.add(t + kDay + span(rng, 20.0 * kDay), kCrossSell, 0);
        journey_.str(kKeyProduct, kAddOns[static_cast<size_t>(a)]);
        journey_.revenue(round_cents(kAddOnPrice[static_cast<size_t>(a)] * 0.3));
      }
    }
    // Support: each active month may open a ticket.
    const double ticket_rate = subscriber ? 0.35 : 0.15;
    for (Micros m = t; m < active_end; m += 30 * kDay) {
      if (rng.chance(ticket_rate)) emit_ticket(m + rng.below64(std::min<Micros>(30 * kDay, active_end - m)));
    }
    const Micros nps_at = t + (subscriber ? 30 : 14) * kDay;
    if (nps_at < active_end && rng.chance(subscriber ? 0.6 : 0.35)) {
      const double tilt = p.churned ? -2.0 : 0.8;
      const int score = std::clamp(static_cast<int>(std::lround(7.5 + tilt + 2.0 * rng.normal())), 0, 10);
      journey_.add(nps_at + rng.below64(3 * kDay), kNpsResponse, 0);
      journey_.integer(kKeyScore, score);
    }
  }

  void emit_usage_and_upgrade(Micros t, Micros active_end) {
    Person& p = p_;
    Rng& rng = *rng_;
    std::array<bool, kFeatureCount> used{};
    double logit = kUpgradeBase;
    for (int f = 0; f < kFeatureCount; ++f) {
      used[f] = rng.chance(kFeatureAdoption[f]);
      if (used[f]) {
        logit += kFeatureEffect[f];
      }
    }
    // Usage sessions, about weekly; the first month uses every adopted feature.
    std::array<int, kFeatureCount> adopted{};
    int n_adopted = 0;
    for (int f = 0; f < kFeatureCount; ++f) {
      if (used[f]) adopted[static_cast<size_t>(n_adopted++)] = f;
    }
    const Micros decision = t + 28 * kDay;
    int first_month_feature = 0;
    for (Micros s = t + kHour + span(rng, 2.0 * kDay); s < active_end; s += 12 * kHour + span(rng, 6.0 * kDay)) {
      const int device = p.two_devices && rng.chance(0.3) ? 1 : 0;
      const int64_t session = session_number();
      Micros e = s;
      journey_.add(e, kLogin, device);
      journey_.prefixed(kKeySessionId, "s-", session);
      const int uses = 1 + rng.below(4);
      for (int k = 0; k < uses && n_adopted > 0; ++k) {
        e += 20 * kSecond + rng.below64(6 * kMinute);
        int f = adopted[static_cast<size_t>(rng.below(n_adopted))];
        if (s < decision - kDay && first_month_feature < n_adopted) f = adopted[static_cast<size_t>(first_month_feature++)];
        journey_.add(e, kFeatureUsed, device);
        journey_.str(kKeyFeature, kFeatureNames[static_cast<size_t>(f)]);
        journey_.prefixed(kKeySessionId, "s-", session);
      }
    }
    // Features not yet shown in a first-month session get one use before the decision.
    for (int k = first_month_feature; k < n_adopted && t + kHour < std::min(decision, active_end); ++k) {
      const Micros e = t + kHour + rng.below64(std::min(decision, active_end) - t - kHour);
      journey_.add(e, kFeatureUsed, 0);
      journey_.str(kKeyFeature, kFeatureNames[static_cast<size_t>(adopted[static_cast<size_t>(k)])]);
    }

    int plan = p.plan;
    Micros upgraded_at = -1;
    const bool eligible = decision < active_end && !(p.segment == kSelfServe && p.plan == 2);
    if (eligible) {
      ++totals_.upgrade_eligible;
      const bool upgrade = rng.chance(sigmoid(logit));
      for (int f = 0; f < kFeatureCount; ++f) {
        FeatureTruth& ft = features_[static_cast<size_t>(f)];
        if (used[f]) {
          ++ft.users;
          ft.users_upgraded += upgrade ? 1 : 0;
        } else {
          ++ft.non_users;
          ft.non_users_upgraded += upgrade ? 1 : 0;
        }
      }
      if (upgrade) {
        ++totals_.upgrades;
        upgraded_at = decision + rng.below64(std::min<Micros>(14 * kDay, active_end - decision));
        journey_.add(upgraded_at, kUpgrade, 0);
        if (p.segment == kSelfServe) {
          plan = p.plan + 1;
          journey_.str(kKeyPlan, kPlans[static_cast<size_t>(plan)]);
          journey_.revenue(kPlanPrice[static_cast<size_t>(plan)] - kPlanPrice[static_cast<size_t>(p.plan)]);
        } else {
          journey_.str(kKeyPlan, "enterprise");
          journey_.revenue(std::round(p.value * 0.25));
        }
      }
    }
    if (p.segment == kSelfServe) {
      for (Micros r = t + 30 * kDay; r < active_end; r += 30 * kDay) {
        const int current = upgraded_at >= 0 && r > upgraded_at ? plan : p.plan;
        journey_.add(r, kSubscriptionRenewed, 0);
        journey_.str(kKeyPlan, kPlans[static_cast<size_t>(current)]);
        journey_.revenue(kPlanPrice[static_cast<size_t>(current)]);
      }
    }
    if (rng.chance(0.15) && t + kDay < active_end) {
      const int a = rng.below(kAddOns.size());
      journey_.add(t + kDay + rng.below64(active_end - t - kDay), kCrossSell, 0);
      journey_.str(kKeyProduct, kAddOns[static_cast<size_t>(a)]);
      journey_.revenue(kAddOnPrice[static_cast<size_t>(a)]);
    }
  }

  void emit_ticket(Micros t) {
    Person& p = p_;
    Rng& rng = *rng_;
    const int64_t ticket = static_cast<int64_t>(p.index) * 100 + std::min(p.ticket_counter++, 99);
    journey_.add(t, kSupportTicketOpened, 0);
    journey_.prefixed(kKeyTicketId, "t-", ticket);
    journey_.str(kKeyPriority, rng.one_of(std::array<std::string_view, 4>{"low", "normal", "high", "urgent"}));
    journey_.str(kKeyTopic, rng.one_of(std::array<std::string_view, 5>{"billing", "bug", "how_to", "integration",
                                                                     "account"}));
    const int64_t response = std::clamp<int64_t>(1 + static_cast<int64_t>(rng.exponential(90.0)), 1, 2880);
    journey_.add(t + response * kMinute, kSupportFirstResponse, 0);
    journey_.prefixed(kKeyTicketId, "t-", ticket);
    journey_.integer(kKeyResponseMinutes, response);
    const int64_t resolution = response + 10 + static_cast<int64_t>(rng.exponential(600.0));
    journey_.add(t + resolution * kMinute, kSupportTicketResolved, 0);
    journey_.prefixed(kKeyTicketId, "t-", ticket);
    journey_.integer(kKeyResolutionMinutes, resolution);
    if (rng.chance(0.5)) {
      const double tilt = resolution < 240 ? 0.8 : resolution > 1440 ? -1.0 : 0.0;
      const int score = std::clamp(static_cast<int>(std::lround(3.8 + tilt + rng.normal())), 1, 5);
      journey_.add(t + (resolution + 30) * kMinute, kCsatResponse, 0);
      journey_.prefixed(kKeyTicketId, "t-", ticket);
      journey_.integer(kKeyScore, score);
    }
  }

  // ---- writing -------------------------------------------------------------

  void write_csv_header() {
    std::string header = "message_id,user_id,anonymous_id,timestamp,event";
    for (std::string_view k : kPropKeyNames) {
      header += ',';
      header += k;
    }
    header += ",revenue\n";
    events_out_.append(header);
  }

  void write_person() {
    const Person& p = p_;
    journey_.sort();
    std::array<char, 24> anon[2];
    std::array<size_t, 2> anon_len{};
    for (int d = 0; d < 2; ++d) {
      uint64_t state = opt_.seed ^ (p.index * 0x9e3779b97f4a7c15ULL) ^ (static_cast<uint64_t>(d) << 62);
      const uint64_t h = splitmix64(state);
      auto* a = anon[d].data();
      std::memcpy(a, "a-", 2);
      for (int k = 0; k < 16; ++k) a[2 + k] = "0123456789abcdef"[(h >> (60 - 4 * k)) & 15];
      anon_len[static_cast<size_t>(d)] = 18;
    }
    char user[24];
    user[0] = 'u';
    const size_t user_len = static_cast<size_t>(std::to_chars(user + 1, user + 24, p.index + 1).ptr - user);

    bool identified = false;
    Micros last = -1;
    bool first = true;
    const bool json = opt_.format == OutputFormat::kNdjson;
    for (const Event& e : journey_.events()) {
      identified = identified || e.identifies;
      if (e.t < start_ || e.t >= end_) continue;
      ++totals_.events;
      ++totals_.event_counts[e.name];
      if (e.has_revenue) totals_.all_revenue += e.revenue;
      if (e.cost_slot >= 0) {
        const auto day = static_cast<size_t>(e.t / kDay - start_ / kDay);
        costs_[day * kCostChannelCount * kCampaignsPerChannel + static_cast<size_t>(e.cost_slot)] += e.cost;
      }
      // Sessions by the 30-minute rule, for the truth file.
      if (first || e.t - last > 30 * kMinute) {
        ++totals_.sessions;
        first = false;
      } else {
        totals_.session_duration_total += e.t - last;
      }
      last = e.t;
      count_survey(e);

      const std::string_view anon_id(anon[e.device].data(), anon_len[e.device]);
      const std::string_view user_id = identified ? std::string_view(user, user_len) : std::string_view();
      json ? write_json_event(e, user_id, anon_id) : write_csv_event(e, user_id, anon_id);
    }
    if (p.t_id >= 0) write_contact();
  }

  void count_survey(const Event& e) {
    if (e.name != kNpsResponse && e.name != kCsatResponse) return;
    const Prop* props = journey_.props(e);
    for (uint16_t k = 0; k < e.props_count; ++k) {
      if (props[k].key != kKeyScore) continue;
      const int64_t s = props[k].i;
      if (e.name == kNpsResponse) {
        (s >= 9 ? totals_.nps_promoters : s >= 7 ? totals_.nps_passives : totals_.nps_detractors) += 1;
      } else {
        ++totals_.csat_answers;
        totals_.csat_satisfied += s >= 4 ? 1 : 0;
      }
    }
  }

  char* put_message_id(char* p) {
    p = put(p, "m-");
    p = put_int(p, static_cast<int64_t>(opt_.seed));
    *p++ = '-';
    return put_int(p, static_cast<int64_t>(++message_counter_));
  }

  void write_json_event(const Event& e, std::string_view user_id, std::string_view anon_id) {
    char* p = events_out_.reserve();
    p = put(p, "{\"message_id\":\"");
    p = put_message_id(p);
    if (!user_id.empty()) {
      p = put(p, "\",\"user_id\":\"");
      p = put(p, user_id);
    }
    p = put(p, "\",\"anonymous_id\":\"");
    p = put(p, anon_id);
    p = put(p, "\",\"event\":\"");
    p = put(p, kEventNames[e.name]);
    p = put(p, "\",\"timestamp\":\"");
    p = timestamps_.put(p, e.t);
    p = put(p, "\",\"properties\":{");
    const Prop* props = journey_.props(e);
    for (uint16_t k = 0; k < e.props_count; ++k) {
      if (k > 0) *p++ = ',';
      p = put(p, json_keys_[props[k].key]);
      p = put_prop_value(p, props[k], true);
    }
    *p++ = '}';
    if (e.has_revenue) {
      p = put(p, ",\"revenue\":");
      p = put_double(p, e.revenue);
    }
    p = put(p, "}\n");
    events_out_.commit(p);
  }

  void write_csv_event(const Event& e, std::string_view user_id, std::string_view anon_id) {
    std::array<int, kPropKeyCount> column;
    column.fill(-1);
    const Prop* props = journey_.props(e);
    for (uint16_t k = 0; k < e.props_count; ++k) column[props[k].key] = k;
    char* p = events_out_.reserve();
    p = put_message_id(p);
    *p++ = ',';
    p = put(p, user_id);
    *p++ = ',';
    p = put(p, anon_id);
    *p++ = ',';
    p = timestamps_.put(p, e.t);
    *p++ = ',';
    p = put(p, kEventNames[e.name]);
    for (int c = 0; c < kPropKeyCount; ++c) {
      *p++ = ',';
      if (column[c] >= 0) p = put_prop_value(p, props[column[c]], false);
    }
    *p++ = ',';
    if (e.has_revenue) p = put_double(p, e.revenue);
    *p++ = '\n';
    events_out_.commit(p);
  }

  void write_contact() {
    const Person& p = p_;
    Rng rng(opt_.seed ^ 0xc0ffee, p.index);
    const std::string_view first = rng.one_of(kFirstNames);
    const std::string_view last = rng.one_of(kLastNames);
    const bool b2b = p.segment != kShopper;
    std::string company;
    if (b2b) company = fmt::format("{} {}, {}", rng.one_of(kCompanyWords), p.index % 97, rng.one_of(kCompanySuffix));
    const char* stage = p.churned                ? "churned"
                        : p.converted            ? "customer"
                        : p.opportunity          ? "opportunity"
                        : p.mql                  ? "mql"
                        : p.segment == kShopper  ? "subscriber"
                                                 : "lead";
    char* o = contacts_out_.reserve();
    *o++ = 'u';
    o = put_int(o, static_cast<int64_t>(p.index + 1));
    *o++ = ',';
    o = put_csv_field(o, fmt::format("{}.{}{}@{}", first, last, p.index + 1, b2b ? "example.com" : "mail.example.net"));
    *o++ = ',';
    o = put_csv_field(o, fmt::format("{} {}", first, last));
    *o++ = ',';
    o = put_csv_field(o, company);
    *o++ = ',';
    if (b2b) o = put(o, rng.one_of(kIndustries));
    *o++ = ',';
    if (p.company_size >= 0) o = put(o, kCompanySizes[static_cast<size_t>(p.company_size)]);
    *o++ = ',';
    o = put(o, rng.one_of(kCountries));
    *o++ = ',';
    if (b2b && (p.converted || p.trial)) o = put(o, kPlans[static_cast<size_t>(p.plan)]);
    *o++ = ',';
    o = put(o, stage);
    *o++ = ',';
    o = put(o, kChannelNames[p.entry]);
    *o++ = ',';
    o = timestamps_.put(o, std::min(p.t_id, end_ - kMs));
    *o++ = '\n';
    contacts_out_.commit(o);
  }

  Status write_costs() {
    OutputFile out;
    CAIRN_RETURN_IF_ERROR(out.open(opt_.out + ".costs.csv", false));
    out.append("date,channel,campaign,cost\n");
    const int64_t first_day = start_ / kDay;
    for (int d = 0; d <= opt_.days; ++d) {
      for (int c = 0; c < kCostChannelCount; ++c) {
        // Campaign names may repeat within a channel (two slots, one
        // campaign): sum them into one row.
        for (int k = 0; k < kCampaignsPerChannel; ++k) {
          const std::string_view name = kCampaigns[static_cast<size_t>(c)][static_cast<size_t>(k)];
          bool seen = false;
          for (int j = 0; j < k; ++j) seen = seen || kCampaigns[static_cast<size_t>(c)][static_cast<size_t>(j)] == name;
          if (seen) continue;
          double cost = 0;
          for (int j = k; j < kCampaignsPerChannel; ++j) {
            if (kCampaigns[static_cast<size_t>(c)][static_cast<size_t>(j)] == name) {
              cost += costs_[(static_cast<size_t>(d) * kCostChannelCount + static_cast<size_t>(c)) * kCampaignsPerChannel +
                             static_cast<size_t>(j)];
            }
          }
          if (cost <= 0) continue;
          char* p = out.reserve();
          p = put_date(p, first_day + d);
          *p++ = ',';
          p = put(p, kChannelNames[kCostChannel[static_cast<size_t>(c)]]);
          *p++ = ',';
          p = put(p, name);
          *p++ = ',';
          p = fmt::format_to(p, "{:.2f}", cost);
          *p++ = '\n';
          out.commit(p);
        }
      }
    }
    return out.close();
  }

  Status write_truth() {
    using nlohmann::ordered_json;
    ordered_json truth;
    truth["seed"] = opt_.seed;
    truth["persons"] = totals_.persons;
    truth["events"] = totals_.events;
    truth["start"] = format_time(start_);
    truth["days"] = opt_.days;
    truth["goal"] = {{"events", {"purchase", "deal_won"}},
                     {"note", "each person converts at most once: a purchase (self_serve, shopper) or a "
                              "deal_won (sales_led); revenue is that event's revenue"}};
    ordered_json model;
    model["form"] =
        "p(convert) = sigmoid(base[segment] + sum over distinct channels touched before the conversion of "
        "effect[channel])";
    model["touchpoint"] = "an event carrying a `channel` property";
    for (int s = 0; s < kSegmentCount; ++s) {
      model["base"][kSegmentNames[static_cast<size_t>(s)]] = kSegmentBase[static_cast<size_t>(s)];
    }
    model["true_share"] =
        "for every person and every touched channel c: lost_c += p(S) - p(S \\ {c}) (conversions) and "
        "(p(S) - p(S \\ {c})) * value (revenue); shares = lost_c / sum of lost";
    truth["model"] = model;

    double lost_conv = 0, lost_rev = 0;
    for (const ChannelTruth& c : channels_) {
      lost_conv += c.lost_conversions;
      lost_rev += c.lost_revenue;
    }
    for (int c = 0; c < kChannelCount; ++c) {
      const ChannelTruth& ct = channels_[static_cast<size_t>(c)];
      ordered_json ch;
      ch["effect"] = kChannelEffect[static_cast<size_t>(c)];
      ch["true_share_conversions"] = lost_conv > 0 ? ct.lost_conversions / lost_conv : 0.0;
      ch["true_share_revenue"] = lost_rev > 0 ? ct.lost_revenue / lost_rev : 0.0;
      ch["expected_incremental_conversions"] = ct.lost_conversions;
      ch["expected_incremental_revenue"] = ct.lost_revenue;
      ch["persons_touched"] = ct.persons_touched;
      ch["converters_touched"] = ct.converters_touched;
      truth["channels"][kChannelNames[static_cast<size_t>(c)]] = ch;
    }

    ordered_json features;
    features["form"] =
        "p(upgrade) = sigmoid(base + sum over distinct features used in the first 28 days after conversion of "
        "effect[feature]); decided at conversion + 28 days for subscribers still active then and not on the "
        "top plan";
    features["base"] = kUpgradeBase;
    for (int f = 0; f < kFeatureCount; ++f) {
      const FeatureTruth& ft = features_[static_cast<size_t>(f)];
      ordered_json one;
      one["effect"] = kFeatureEffect[static_cast<size_t>(f)];
      one["adoption"] = kFeatureAdoption[static_cast<size_t>(f)];
      one["users"] = ft.users;
      one["users_upgraded"] = ft.users_upgraded;
      one["non_users"] = ft.non_users;
      one["non_users_upgraded"] = ft.non_users_upgraded;
      features["features"][kFeatureNames[static_cast<size_t>(f)]] = one;
    }
    truth["features"] = features;

    ordered_json totals;
    totals["persons"] = totals_.persons;
    totals["identified_persons"] = totals_.identified;
    totals["anonymous_persons"] = totals_.persons - totals_.identified;
    totals["persons_with_two_devices"] = totals_.two_devices;
    totals["bouncers"] = totals_.bouncers;
    totals["converters"] = totals_.converters;
    totals["conversions"] = totals_.converters;
    totals["conversion_revenue"] = totals_.conversion_revenue;
    totals["expected_conversions"] = totals_.expected_conversions;
    totals["expected_conversion_revenue"] = totals_.expected_revenue;
    totals["all_revenue"] = totals_.all_revenue;
    totals["events"] = totals_.events;
    totals["upgrade_eligible"] = totals_.upgrade_eligible;
    totals["upgrades"] = totals_.upgrades;
    for (int s = 0; s < kSegmentCount; ++s) {
      totals["segments"][kSegmentNames[static_cast<size_t>(s)]] = {
          {"persons", totals_.segment_persons[static_cast<size_t>(s)]},
          {"converters", totals_.segment_converters[static_cast<size_t>(s)]}};
    }
    for (int e = 0; e < kEventNameCount; ++e) {
      totals["event_counts"][kEventNames[static_cast<size_t>(e)]] = totals_.event_counts[static_cast<size_t>(e)];
    }
    truth["totals"] = totals;

    ordered_json metrics;
    metrics["sessions_30min"] = totals_.sessions;
    metrics["mean_session_duration_seconds"] =
        totals_.sessions > 0 ? static_cast<double>(totals_.session_duration_total) / 1e6 /
                                   static_cast<double>(totals_.sessions)
                             : 0.0;
    const uint64_t nps_n = totals_.nps_promoters + totals_.nps_passives + totals_.nps_detractors;
    metrics["nps"] = nps_n > 0 ? 100.0 * (static_cast<double>(totals_.nps_promoters) -
                                          static_cast<double>(totals_.nps_detractors)) /
                                     static_cast<double>(nps_n)
                               : 0.0;
    metrics["nps_responses"] = nps_n;
    metrics["csat"] = totals_.csat_answers > 0 ? static_cast<double>(totals_.csat_satisfied) /
                                                     static_cast<double>(totals_.csat_answers)
                                               : 0.0;
    metrics["csat_responses"] = totals_.csat_answers;
    truth["metrics"] = metrics;

    OutputFile out;
    CAIRN_RETURN_IF_ERROR(out.open(opt_.out + ".truth.json", false));
    out.append(truth.dump(2));
    out.append("\n");
    return out.close();
  }

  const SimulateOptions& opt_;
  const Micros start_;
  const Micros end_;
  OutputFile events_out_;
  OutputFile contacts_out_;
  std::vector<double> costs_;  // [UTC day - first day][cost channel][campaign slot]
  std::array<ChannelTruth, kChannelCount> channels_{};
  std::array<FeatureTruth, kFeatureCount> features_{};
  Totals totals_;
  uint64_t message_counter_ = 0;
  TimestampWriter timestamps_;
  std::array<std::string, kPropKeyCount> json_keys_;  // "\"key\":"

  Journey journey_;
  std::vector<Visit> visits_;
  Person p_;
  Rng* rng_ = nullptr;
  // The person's second stream: details added after the main stream was
  // fixed (a chat's objection and outcome, search impressions), drawn here so
  // that every event the main stream makes stays as it was.
  Rng* side_ = nullptr;
};

}  // namespace

Result<SimulateSummary> simulate(const SimulateOptions& options) {
  if (options.out.empty()) return Status::invalid_argument("--out is required");
  if (options.days < 7 || options.days > 3660) return Status::invalid_argument("--days must be in [7, 3660]");
  if (options.start < 0) return Status::invalid_argument("--start must not be before 1970-01-01");
  Simulator simulator(options);
  return simulator.run();
}

}  // namespace cairn::sim
