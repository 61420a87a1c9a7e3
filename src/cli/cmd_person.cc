// cairn person --db DIR ID [--json]: one person's whole timeline.
#include <cstdio>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/output.h"

namespace cairn::cli {

namespace {

int run_person(const std::string& db, const std::string& id, bool json) {
  auto store = open_or_report("person", db, Store::Mode::kRead);
  if (!store) return 1;
  const Catalog& cat = store->catalog();
  // The persons part; the few value strings of this timeline are read from
  // their chunks as they are printed (errors checked below).
  if (Status st = cat.load_persons(); !st.is_ok()) {
    std::fprintf(stderr, "cairn person: %s\n", st.message().c_str());
    return 1;
  }
  const uint32_t idn = cat.find_id(id);
  if (idn == StringPool::kMissing || cat.is_erased(idn)) {
    std::fprintf(stderr, "cairn person: no person with id '%s' in %s\n", id.c_str(), db.c_str());
    return 1;
  }
  const uint32_t person = cat.root(idn);
  RowSet rows;
  Status st = store->read_person(person, rows);
  if (!st.is_ok()) {
    std::fprintf(stderr, "cairn person: %s\n", st.message().c_str());
    return 1;
  }
  nlohmann::json j;
  j["person"] = std::string(cat.id_string(person));
  auto& ids = j["ids"] = nlohmann::json::array();
  for (uint32_t i : cat.ids_of(person))
    ids.push_back({{"id", std::string(cat.id_string(i))}, {"known", cat.is_known(i)}});
  auto& traits = j["traits"] = nlohmann::json::object();
  if (const auto* list = cat.traits_of(person))
    for (const StoredProp& t : *list) traits[std::string(cat.keys.get(t.key))] = value_json(cat, t.type, t.bits);
  auto& events = j["events"] = nlohmann::json::array();
  for (const Row& r : rows.rows) {
    nlohmann::json props = nlohmann::json::object();
    for (uint32_t k = 0; k < r.prop_count; ++k) {
      const StoredProp& p = rows.props[r.prop_begin + k];
      props[std::string(cat.keys.get(p.key))] = value_json(cat, p.type, p.bits);
    }
    events.push_back({{"time", format_time(r.time)}, {"event", std::string(cat.events.get(r.event))}, {"properties", props}});
  }
  if (Status read = cat.lazy_status(); !read.is_ok()) {
    std::fprintf(stderr, "cairn person: %s\n", read.message().c_str());
    return 1;
  }
  if (json) {
    print_json(j);
    return 0;
  }
  std::string out = fmt::format("person {}\nids     ", j["person"].get<std::string>());
  for (const auto& i : j["ids"]) out += fmt::format("{}{} ", i["id"].get<std::string>(), i["known"].get<bool>() ? "" : " (anonymous)");
  out += "\n";
  for (const auto& [k, v] : j["traits"].items()) out += fmt::format("trait   {} = {}\n", k, v.dump());
  out += fmt::format("{} events\n", rows.rows.size());
  for (const auto& e : j["events"]) {
    out += fmt::format("  {}  {:<24}", e["time"].get<std::string>(), e["event"].get<std::string>());
    for (const auto& [k, v] : e["properties"].items()) out += fmt::format(" {}={}", k, v.dump());
    out += "\n";
  }
  std::fputs(out.c_str(), stdout);
  return 0;
}

}  // namespace

void register_person(CLI::App& app) {
  auto db = std::make_shared<std::string>();
  auto id = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("person", "Show one person's timeline (any of their ids)");
  cmd->add_option("--db", *db, "Database directory")->required();
  cmd->add_option("id", *id, "Any id of the person: user id or anonymous id")->required();
  cmd->add_flag("--json", *json, "Print JSON");
  cmd->callback([db, id, json]() { set_exit_code(run_person(*db, *id, *json)); });
}

}  // namespace cairn::cli
