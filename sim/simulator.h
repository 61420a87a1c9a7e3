// Journey simulator: generates synthetic customer journeys (B2B SaaS leads,
// self-serve trials and e-commerce shoppers) with a planted, known causal
// effect of each marketing channel on conversion, so that attribution models
// can be scored against the truth. docs/SIMULATOR.md describes the model and
// every output file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "core/time.h"

namespace cairn::sim {

enum class OutputFormat { kNdjson, kCsv };

// "ndjson" or "csv".
std::optional<OutputFormat> parse_output_format(std::string_view name);

// 2026-01-01T00:00:00Z.
constexpr Micros kDefaultStart = 20454 * kMicrosPerDay;

struct SimulateOptions {
  uint64_t persons = 1000;
  uint64_t seed = 1;
  // Main event file; a ".gz" suffix writes it gzip-compressed. Side files are
  // <out>.contacts.csv, <out>.costs.csv and <out>.truth.json.
  std::string out;
  OutputFormat format = OutputFormat::kNdjson;
  Micros start = kDefaultStart;  // first instant of the window
  int days = 180;                // window length; every event is in [start, start + days)
};

struct SimulateSummary {
  uint64_t persons = 0;
  uint64_t identified = 0;
  uint64_t converters = 0;
  uint64_t events = 0;
  uint64_t bytes = 0;  // bytes written to the main event file
  double seconds = 0;
};

// Same options give byte-identical files. Memory does not grow with persons:
// persons are generated and written one at a time.
Result<SimulateSummary> simulate(const SimulateOptions& options);

}  // namespace cairn::sim
