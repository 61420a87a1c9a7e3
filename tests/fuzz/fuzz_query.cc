// Fuzzes the query documents of every report type end to end: the input is
// a JSON document; once parsed, it is planned and run over a small database
// built at start-up (every event name, property and trait the seed queries
// name, values of every type). Whatever the document, parsing must give an
// answer or an error, never a crash, a hang or a sanitizer report.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "ingest/parse.h"
#include "query/attribution.h"
#include "query/cohort.h"
#include "query/funnel.h"
#include "query/metric.h"
#include "query/metric_journey.h"
#include "query/paths.h"
#include "query/stages.h"
#include "query/trend.h"
#include "storage/store.h"

namespace {

using cairn::Store;

std::unique_ptr<Store> g_store;
std::string g_dir;

const char* const kEvents =
    "user_id,anonymous_id,timestamp,event,channel,page_path,utm_medium,revenue,feature,score,ticket_id,objection,outcome,"
    "action,email_id,variant,flag\n"
    ",a1,2026-01-05T10:00:00Z,page_view,paid_search,/pricing,cpc,,,,,,,,,A,true\n"
    "u1,a1,2026-01-05T10:05:00Z,signup,,,,,,,,,,,,,\n"
    "u1,,2026-01-05T10:06:00Z,login,,,,,,,,,,,,,\n"
    "u1,,2026-01-06T09:00:00Z,feature_used,,,,,reports,,,,,,,,\n"
    "u1,,2026-01-07T09:00:00Z,chat_started,,,,,,,,,positive,,,,\n"
    "u1,,2026-01-08T09:00:00Z,purchase,,,,49.5,,,,,,,,,\n"
    "u1,,2026-01-20T09:00:00Z,nps_response,,,,,,9,,,,,,,\n"
    "u1,,2026-02-03T09:00:00Z,upgrade,,,,20,,,,,,,,,\n"
    "u2,,2026-01-12T23:59:59Z,page_view,email,/blog/x,email,,,,,,,,e1,B,false\n"
    "u2,,2026-01-13T00:00:00Z,email_open,,,,,,,,,,,e1,,\n"
    "u2,,2026-01-13T00:01:00Z,email_click,,,,,,,,,,,e1,,\n"
    "u2,,2026-01-13T00:02:00Z,signup,,,,,,,,,,,,,\n"
    "u2,,2026-01-14T00:02:00Z,sales_call,,,,,,,,price,negative,,,,\n"
    "u2,,2026-01-15T00:02:00Z,support_ticket_opened,,,,,,,t1,,,,,,\n"
    "u2,,2026-01-15T01:02:00Z,support_first_response,,,,,,,t1,,,,,,\n"
    "u2,,2026-01-16T01:02:00Z,csat_response,,,,,,4,,,,,,,\n"
    "u2,,2026-01-16T01:02:00Z,csat_response,,,,,,x,,,,,,,\n"
    "u3,,2026-03-01T00:00:00Z,ad_impression,display,,,,,,,,,,,,\n"
    "u3,,2026-03-01T00:00:01Z,ad_click,display,,,,,,,,,,,,\n"
    "u3,,2026-03-01T00:00:02Z,social_engagement,social,,,,,,,,,like,,,\n"
    "u3,,2026-03-02T00:00:02Z,trial_started,,,,,,,,,,,,,\n"
    "u3,,2026-03-09T00:00:02Z,purchase,,,,-5,,,,,,,,,\n"
    "u3,,2026-03-09T00:00:02Z,churned,,,,,,,,,,,,,\n"
    "u4,,1970-01-01T00:00:00Z,login,,,,,,,,,,,,,\n"
    "u4,,2099-12-31T23:59:59Z,login,,,,,,,,,,,,,\n";
const char* const kContacts =
    "user_id,email,plan,company_size,created_at\n"
    "u1,a@example.com,pro,50,2026-01-05T10:05:00Z\n"
    "u2,b@example.com,7,,2026-01-13T00:02:00Z\n";

void remove_dir() {
  g_store.reset();
  if (!g_dir.empty()) std::filesystem::remove_all(g_dir);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  using namespace cairn;
  char tmpl[] = "/tmp/cairn-fuzz-query-XXXXXX";
  if (!mkdtemp(tmpl)) std::abort();
  g_dir = tmpl;
  std::atexit(remove_dir);
  ImportBatch batch;
  ImportErrors errors;
  if (!parse_buffer("events.csv", kEvents, InputKind::kEvents, batch, errors).is_ok()) std::abort();
  if (!parse_buffer("contacts.csv", kContacts, InputKind::kContacts, batch, errors).is_ok()) std::abort();
  {
    auto w = Store::open(g_dir + "/db", Store::Mode::kWrite);
    if (!w || !(*w)->import(batch).is_ok()) std::abort();
  }
  auto r = Store::open(g_dir + "/db", Store::Mode::kRead);
  if (!r) std::abort();
  g_store = std::move(*r);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cairn::query;
  const nlohmann::json doc =
      nlohmann::json::parse(reinterpret_cast<const char*>(data), reinterpret_cast<const char*>(data) + size, nullptr,
                            /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("type") || !doc["type"].is_string()) return 0;
  const std::string type = doc["type"];
  const Store& store = *g_store;
  if (type == "funnel") {
    if (auto spec = parse_funnel(doc)) (void)run_funnel(store, *spec, 1);
  } else if (type == "paths" || type == "top_paths" || type == "branches") {
    if (auto spec = parse_paths(doc)) (void)run_paths(store, *spec, 1);
  } else if (type == "attribution") {
    if (auto spec = parse_attribution(doc)) (void)run_attribution(store, *spec, 1);
  } else if (type == "retention" || type == "cohorts") {
    if (auto spec = parse_cohorts(doc)) (void)run_cohorts(store, *spec, 1);
  } else if (type == "stages") {
    if (auto spec = parse_stages(doc)) (void)run_stages(store, *spec, 1);
  } else if (type == "trend") {
    if (auto spec = parse_trend(doc)) (void)run_trend(store, *spec, 1);
  } else if (type == "metric") {
    if (doc.contains("metric") && doc["metric"].is_string() && is_journey_metric(doc["metric"].get<std::string>())) {
      if (auto run = prepare_journey_metric(doc)) (void)(*run)(store, 1);
    } else if (auto spec = parse_metric(doc)) {
      (void)run_metric(store, *spec, 1);
    }
  }
  return 0;
}
