// cairn info --db DIR [--json]
#include <cstdio>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/output.h"
#include "storage/summary.h"

namespace cairn::cli {

namespace {

int run_info(const std::string& db, bool json, bool verify) {
  auto store = open_or_report("info", db, Store::Mode::kRead);
  if (!store) return 1;
  if (verify) {
    Status st = store->verify();
    if (!st.is_ok()) {
      std::fprintf(stderr, "cairn info: %s\n", st.message().c_str());
      return 1;
    }
  }
  auto s = summarize(*store);
  if (!s) {
    std::fprintf(stderr, "cairn info: %s\n", s.status().message().c_str());
    return 1;
  }
  const double per_event = s->events ? static_cast<double>(s->bytes_on_disk) / static_cast<double>(s->events) : 0;
  const double core_per_event = s->events ? static_cast<double>(s->core_bytes) / static_cast<double>(s->events) : 0;
  if (json) {
    nlohmann::json j;
    j["database"] = db;
    j["events"] = s->events;
    j["persons"] = s->persons;
    j["ids"] = s->ids;
    j["persons_with_traits"] = s->persons_with_traits;
    j["cost_rows"] = s->cost_rows;
    j["first_time"] = s->events ? nlohmann::json(format_time(s->first_time)) : nlohmann::json(nullptr);
    j["last_time"] = s->events ? nlohmann::json(format_time(s->last_time)) : nlohmann::json(nullptr);
    auto& ev = j["event_names"] = nlohmann::json::array();
    for (const auto& [name, n] : s->event_counts) ev.push_back({{"name", name}, {"count", n}});
    auto& keys = j["property_keys"] = nlohmann::json::array();
    for (const auto& [name, n] : s->property_counts) keys.push_back({{"key", name}, {"events", n}});
    j["partitions"] = s->partitions;
    j["segments"] = s->segments;
    j["bytes_on_disk"] = s->bytes_on_disk;
    j["bytes_per_event"] = per_event;
    j["core_bytes"] = s->core_bytes;
    j["core_bytes_per_event"] = core_per_event;
    print_json(j);
    return 0;
  }
  std::string out;
  out += fmt::format("database      {}\n", db);
  out += fmt::format("events        {}\n", s->events);
  out += fmt::format("persons       {} ({} ids, {} with traits)\n", s->persons, s->ids, s->persons_with_traits);
  if (s->events)
    out += fmt::format("time range    {} .. {}\n", format_time(s->first_time), format_time(s->last_time));
  out += fmt::format("cost rows     {}\n", s->cost_rows);
  out += fmt::format("on disk       {} bytes in {} segments over {} partitions: {:.2f} bytes/event ({:.2f} for person+time+event)\n",
                     s->bytes_on_disk, s->segments, s->partitions, per_event, core_per_event);
  out += "event names\n";
  for (const auto& [name, n] : s->event_counts) out += fmt::format("  {:<28} {:>12}\n", name, n);
  out += "property keys (events having it)\n";
  for (const auto& [name, n] : s->property_counts) out += fmt::format("  {:<28} {:>12}\n", name, n);
  std::fputs(out.c_str(), stdout);
  return 0;
}

}  // namespace

void register_info(CLI::App& app) {
  auto db = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto verify = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("info", "Summarize a database: counts, time range, event names, keys, size");
  cmd->add_option("--db", *db, "Database directory")->required();
  cmd->add_flag("--json", *json, "Print JSON");
  cmd->add_flag("--verify", *verify, "Read and check every block first (checksums, structure)");
  cmd->callback([db, json, verify]() { set_exit_code(run_info(*db, *json, *verify)); });
}

}  // namespace cairn::cli
