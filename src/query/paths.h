// Paths, top paths and branches (docs/QUERY.md, "Paths, top paths and
// branches"): a person's events read as a sequence of labels. One compiled
// spec and one kernel serve the three report types; each keeps only counts
// per node, link, path or branch, so its memory grows with the number of
// distinct ones, not with the data.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "query/common.h"
#include "query/scan.h"
#include "query/spec.h"
#include "storage/catalog.h"

namespace re2 {
class RE2;
}

namespace cairn::query {

enum class PathsKind { kPaths, kTopPaths, kBranches };

struct CleanRule {
  std::string pattern;  // RE2
  std::string replace;
};

struct PathsSpec {
  PathsKind kind = PathsKind::kPaths;
  Micros from = INT64_MIN, to = INT64_MAX;
  EventDef anchor;              // paths: start or end; branches: from (unused by top_paths)
  bool backward = false;        // paths anchored at `end`
  bool last_occurrence = false;  // occurrence: "last"
  EventDef goal;                // top_paths and branches
  std::vector<EventDef> branches;  // branches: explicit next steps (may be empty)
  std::vector<std::string> branch_names;
  size_t steps = 5;
  Micros window = -1;  // paths: window (-1: none); top_paths: lookback; branches: window
  std::string label_property;             // "" : labels are event names
  std::vector<std::string> label_events;  // empty: every event
  std::vector<CleanRule> clean;
  bool collapse = true;
  std::vector<EventDef> exclude;
  bool session = false;
  Micros session_gap = 30 * 60 * kMicrosPerSecond;
  size_t top = 10;
  uint64_t min_persons = 0;
  size_t limit = 20;
  std::vector<Filter> event_filters;
  std::vector<Filter> trait_filters;
  std::optional<Breakdown> breakdown;
  std::vector<std::string> compare;  // branches: two branch labels
};

// Parses {"type": "paths" | "top_paths" | "branches", ...}.
Result<PathsSpec> parse_paths(const nlohmann::json& doc);

// A label: an event name, or an event and a value of the label property.
struct Label {
  uint32_t event = 0;
  uint32_t kind = 0;  // kPlain, kString (bits: value code), kNumber (double bits), kBool, kBranch (bits: index), kNothing
  uint64_t bits = 0;
  bool operator==(const Label&) const = default;
  static constexpr uint32_t kPlain = 0, kString = 1, kNumber = 2, kBool = 3, kBranch = 4, kNothing = 5;
};

struct CompiledPaths {
  PathsSpec spec;
  CompiledDef anchor, goal;
  std::vector<CompiledDef> branches, exclude;
  std::vector<CompiledFilter> event_filters;  // key: index into plan.keys
  bool events_never = false;                  // an event filter no event can pass
  TraitFilters traits;
  int label_key = -1;                 // index into plan.keys
  std::vector<uint8_t> label_event;   // per catalog event id: 1 when labelled by the property
  // With clean rules: per catalog string id, the code of its cleaned text
  // (an index into clean_text); without, a string's code is its id.
  std::vector<uint32_t> clean_code;
  std::vector<std::string> clean_text;
  // The clean rules, compiled: number and boolean values are cleaned as text
  // when a label is written out.
  std::vector<std::shared_ptr<const re2::RE2>> clean_rules;
  GroupBy group;
  const Catalog* catalog = nullptr;
  ScanPlan plan;
};

Result<CompiledPaths> compile_paths(const PathsSpec& spec, const Catalog& catalog);

class PathsKernel final : public Kernel {
 public:
  explicit PathsKernel(const CompiledPaths& c);
  ~PathsKernel() override;
  void add(const PersonView& p) override;
  void merge(Kernel& other) override;
  nlohmann::json result() const;

 private:
  struct State;
  const CompiledPaths& c_;
  std::unique_ptr<State> s_;
};

// Plans, scans and returns the answer JSON.
Result<nlohmann::json> run_paths(const Store& store, const PathsSpec& spec, unsigned threads);

}  // namespace cairn::query
