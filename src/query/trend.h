// Trends (docs/QUERY.md, "Trends"): metrics per day, week or month of the
// query's time zone, each a named series (event counts, distinct persons,
// statistics of a property, sessions, active users), formulas over the
// series, and a breakdown. The kernel keeps arrays indexed by period or day
// ordinal offsets; distinct persons are counted per person (the scan hands
// over one person at a time), never with a set per event.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "query/common.h"
#include "query/period.h"
#include "query/scan.h"
#include "query/spec.h"
#include "storage/catalog.h"

namespace cairn::query {

enum class Measure {
  kCount, kPersons, kSum, kAvg, kMin, kMax, kMedian, kPercentile,
  kSessions, kSessionDuration, kSessionsPerPerson, kDau, kWau, kMau, kStickiness
};

struct TrendSeries {
  std::string name;
  std::vector<EventDef> events;  // empty: every event
  Measure measure = Measure::kCount;
  std::string property;          // sum .. percentile
  double percentile = 0;         // percent, 0 < q <= 100 (median: 50, with the mean-of-two rule)
};

// A formula over series names: + - * /, parentheses, unary minus, numbers.
struct FormulaNode {
  enum Kind { kNumber, kSeries, kNeg, kAdd, kSub, kMul, kDiv } kind = kNumber;
  double number = 0;
  size_t series = 0;
  int a = -1, b = -1;  // operands: indices into the formula's nodes
};
struct TrendFormula {
  std::string name, text;
  std::vector<FormulaNode> nodes;  // the root is the last
};

struct TrendSpec {
  Micros from = 0, to = 0;  // half-open, required
  std::shared_ptr<const TimeZone> timezone = utc_zone();
  Period period = Period::kDay;
  std::vector<TrendSeries> series;
  std::vector<TrendFormula> formulas;
  Micros session_gap = 30 * 60 * kMicrosPerSecond;
  std::vector<Filter> event_filters;
  std::vector<Filter> trait_filters;
  std::optional<Breakdown> breakdown;
};

// Parses {"type": "trend", ...}; unknown fields are errors.
Result<TrendSpec> parse_trend(const nlohmann::json& doc);

struct CompiledSeries {
  std::vector<CompiledDef> defs;  // empty: every event
  bool never = false;             // an event filter no event can pass
  int property = -1;              // index into plan.keys
  size_t days_of = SIZE_MAX;      // active users: an earlier series of the same definition whose active days this one reads
};

// The zone's offset over [from, to) of the plan's range.
struct ZoneSegment {
  Micros from, to, offset;
};

struct CompiledTrend {
  TrendSpec spec;
  std::vector<CompiledSeries> series;
  std::vector<CompiledFilter> event_filters;  // key: index into plan.keys
  bool events_never = false;
  TraitFilters traits;
  GroupBy group;
  const Catalog* catalog = nullptr;
  // Local days: first_day..last_day hold the range; active-user windows read
  // from first_day - 29 (day index 0 is first_day - kLookbackDays).
  int64_t first_day = 0, last_day = 0;
  int64_t first_ordinal = 0;
  std::vector<uint32_t> day_period;  // per day of the range: its period index
  std::vector<int64_t> period_days;  // per period: its first day (for labels)
  size_t periods() const { return period_days.size(); }
  size_t days() const { return static_cast<size_t>(last_day - first_day + 1); }
  std::vector<ZoneSegment> offsets;  // the local day of an instant is day_of(t + offset), without asking the zone per event
  ScanPlan plan;
};

inline constexpr int64_t kLookbackDays = 29;

Result<CompiledTrend> compile_trend(const TrendSpec& spec, const Catalog& catalog);

class TrendKernel final : public Kernel {
 public:
  explicit TrendKernel(const CompiledTrend& c);
  ~TrendKernel() override;
  void add(const PersonView& p) override;
  void merge(Kernel& other) override;
  nlohmann::json result() const;

 private:
  struct State;
  const CompiledTrend& c_;
  std::unique_ptr<State> s_;
  size_t fast_days_ = SIZE_MAX;  // the active-user series whose days add() collects while finding local days
  bool per_event_ = true;        // some series reads each event's local day and flags
};

// Plans, scans and returns the answer JSON.
Result<nlohmann::json> run_trend(const Store& store, const TrendSpec& spec, unsigned threads);

}  // namespace cairn::query
