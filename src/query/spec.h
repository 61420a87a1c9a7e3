// The JSON query document, parsed and checked. Every error names the field
// at fault with its path, e.g. `steps[2].window: expected a duration like "7d"`.
// docs/QUERY.md is the public description of these fields.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "core/time.h"
#include "core/tz.h"

namespace cairn::query {

enum class Op { kEq, kNeq, kIn, kNotIn, kContains, kGt, kGte, kLt, kLte, kExists, kRegex };

// A condition on one event property: {"property", "op", "value"}.
struct Filter {
  std::string property;
  Op op = Op::kEq;
  std::vector<nlohmann::json> values;  // one for eq/neq/contains/gt/.../regex, several for in/not_in, none for exists
};

// One event definition: a name and property conditions (all must hold).
struct EventDef {
  std::string event;
  std::vector<Filter> where;
};

// A funnel step: one event definition or any of several (a branch).
struct Step {
  std::vector<EventDef> any_of;
  bool optional = false;
};

enum class Order { kOrdered, kStrict, kAny };

// Group persons by an event property of their entry event, or by a trait.
struct Breakdown {
  std::string property;  // one of property / trait is set
  std::string trait;
  size_t limit = 10;     // the largest groups by entered persons; the rest is "other"
};

// An attempt with `event` between steps `from` and `to` does not count past `from`.
struct Exclusion {
  EventDef event;
  size_t from = 0, to = 1;
};

// The persons of one step: those who passed it, or those who dropped there.
struct PersonsRequest {
  size_t step = 0;
  bool converted = true;
  size_t limit = 1000;
};

struct FunnelSpec {
  Micros from = INT64_MIN, to = INT64_MAX;  // half-open range of the entry step
  std::vector<Step> steps;
  Micros window = 14 * kMicrosPerDay;
  Order order = Order::kOrdered;
  std::optional<Breakdown> breakdown;
  std::vector<Exclusion> exclusions;
  std::optional<PersonsRequest> persons;
  std::vector<Filter> event_filters;  // filters[] with "property": every step's event must pass
  std::vector<Filter> trait_filters;  // filters[] with "trait": the person must pass
  // timezone: the days, weeks and months of period buckets. Shared, as specs are copied per query.
  std::shared_ptr<const TimeZone> timezone = utc_zone();
  std::string trend;                  // "", "day", "week" or "month": conversion by entry period
  std::string entry_point;            // property of the person's first touch to group conversion by
  std::vector<std::string> compare;   // two breakdown values to compare with a z-test
  // A second funnel (a whole funnel document) whose conversion to its last
  // step is compared with this one's.
  std::shared_ptr<FunnelSpec> compare_funnel;
};

// Parses "7d", "12h", "30m", "45s", "1w" into microseconds.
std::optional<Micros> parse_duration(std::string_view text);

// "PATH: MESSAGE" as an invalid-argument status.
Status field_error(const std::string& path, const std::string& msg);
// A JSON whole number from lo to hi, else nullopt. Parsed text gives
// unsigned numbers; a C++ caller's json(3) is signed, and counts the same.
std::optional<uint64_t> whole_number(const nlohmann::json& v, uint64_t lo = 0, uint64_t hi = UINT64_MAX);
// {"property", "op", "value"}; `path` names it in errors.
Result<Filter> parse_filter(const nlohmann::json& j, const std::string& path);
// The filter as it is written in a query.
nlohmann::json filter_json(const Filter& f);
// {"event": NAME, "where": [...]}; `path` names it in errors.
Result<EventDef> parse_event_def(const nlohmann::json& j, const std::string& path);
// One event definition, or `any_of` several, appended to `out`.
Status parse_event_defs(const nlohmann::json& j, const std::string& path, std::vector<EventDef>& out);
// The document's "range" (left as is when absent).
Status parse_range(const nlohmann::json& doc, Micros& from, Micros& to);
// The document's "timezone" (left as is, normally UTC, when absent): "UTC", a
// fixed offset like "+02:00" or an IANA name like "Europe/Berlin".
Status parse_timezone(const nlohmann::json& doc, std::shared_ptr<const TimeZone>& tz);
Result<Breakdown> parse_breakdown(const nlohmann::json& b);
// The document's "filters": property filters and trait filters.
Status parse_filters(const nlohmann::json& doc, std::vector<Filter>& event_filters, std::vector<Filter>& trait_filters);
// A metric's "filters": trait filters only; a property filter is an error
// naming it (event conditions go in the metric's event definitions).
Status parse_metric_filters(const nlohmann::json& doc, std::vector<Filter>& trait_filters);
// Every key of `obj` must be one of `known`, so that a typo cannot silently
// change an answer: "PATH.KEY: unknown field (expected one of A, B)".
Status reject_unknown(const nlohmann::json& obj, const std::string& path, std::initializer_list<const char*> known);
// A duration field ("7d"); `path` names it in errors.
Result<Micros> parse_duration_field(const nlohmann::json& j, const std::string& path);

// Parses a whole funnel query ({"type": "funnel", ...}).
Result<FunnelSpec> parse_funnel(const nlohmann::json& doc);

}  // namespace cairn::query
