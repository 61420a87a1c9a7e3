// cairn simulate: writes synthetic journeys with planted ground truth.
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "core/time.h"
#include "sim/simulator.h"

namespace cairn::cli {

namespace {

struct SimulateArgs {
  uint64_t persons = 1000;
  uint64_t seed = 1;
  std::string out;
  std::string format = "ndjson";
  std::string start = "2026-01-01";
  int days = 180;
};

int run_simulate(const SimulateArgs& args) {
  sim::SimulateOptions options;
  options.persons = args.persons;
  options.seed = args.seed;
  options.out = args.out;
  options.days = args.days;
  const auto format = sim::parse_output_format(args.format);
  if (!format) {
    std::fprintf(stderr, "cairn simulate: unknown --format '%s' (ndjson or csv)\n", args.format.c_str());
    return 2;
  }
  options.format = *format;
  const auto start = parse_time(args.start);
  if (!start) {
    std::fprintf(stderr, "cairn simulate: --start '%s' is not a date\n", args.start.c_str());
    return 2;
  }
  options.start = *start;
  const auto result = sim::simulate(options);
  if (!result) {
    std::fprintf(stderr, "cairn simulate: %s\n", result.status().message().c_str());
    return result.status().code() == Status::Code::kInvalidArgument ? 2 : 1;
  }
  const sim::SimulateSummary& s = result.value();
  std::fprintf(stderr,
               "cairn simulate: %llu persons (%llu identified, %llu converters), %llu events, %llu bytes, %.2f s "
               "(%.0f events/s) -> %s\n",
               static_cast<unsigned long long>(s.persons), static_cast<unsigned long long>(s.identified),
               static_cast<unsigned long long>(s.converters), static_cast<unsigned long long>(s.events),
               static_cast<unsigned long long>(s.bytes), s.seconds,
               s.seconds > 0 ? static_cast<double>(s.events) / s.seconds : 0.0, args.out.c_str());
  return 0;
}

}  // namespace

void register_simulate(CLI::App& app) {
  auto args = std::make_shared<SimulateArgs>();
  CLI::App* cmd = app.add_subcommand("simulate", "Generate synthetic customer journeys with planted ground truth");
  cmd->add_option("--persons", args->persons, "Number of persons to simulate")->capture_default_str();
  cmd->add_option("--seed", args->seed, "Random seed; the same arguments give byte-identical files")
      ->capture_default_str();
  cmd->add_option("--out", args->out, "Event file (NDJSON or CSV; .gz compresses); side files get suffixes "
                                      ".contacts.csv, .costs.csv, .truth.json")
      ->required();
  cmd->add_option("--format", args->format, "ndjson or csv")->capture_default_str();
  cmd->add_option("--start", args->start, "First day of the simulated window (UTC)")->capture_default_str();
  cmd->add_option("--days", args->days, "Length of the window in days (7 to 3660)")->capture_default_str();
  cmd->callback([args]() { set_exit_code(run_simulate(*args)); });
}

}  // namespace cairn::cli
