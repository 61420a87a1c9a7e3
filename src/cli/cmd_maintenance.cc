// cairn compact --db DIR; cairn delete-person --db DIR ID
#include <cstdio>

#include "cli/commands.h"
#include "cli/output.h"

namespace cairn::cli {

void register_compact(CLI::App& app) {
  auto db = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("compact", "Merge each partition's segments into one");
  cmd->add_option("--db", *db, "Database directory")->required();
  cmd->callback([db]() {
    auto store = open_or_report("compact", *db, Store::Mode::kUpdate);
    if (!store) return set_exit_code(1);
    Status st = store->compact();
    if (!st.is_ok()) {
      std::fprintf(stderr, "cairn compact: %s\n", st.message().c_str());
      return set_exit_code(1);
    }
    uint64_t segments = 0;
    for (uint32_t p = 0; p < store->partitions(); ++p) segments += store->segments(p).size();
    std::printf("compacted %s: %llu segments in %u partitions\n", db->c_str(), static_cast<unsigned long long>(segments),
                store->partitions());
  });
}

void register_delete_person(CLI::App& app) {
  auto db = std::make_shared<std::string>();
  auto id = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("delete-person", "Remove every event, id and trait of a person for good (GDPR)");
  cmd->add_option("--db", *db, "Database directory")->required();
  cmd->add_option("id", *id, "Any id of the person")->required();
  cmd->callback([db, id]() {
    auto store = open_or_report("delete-person", *db, Store::Mode::kUpdate);
    if (!store) return set_exit_code(1);
    auto removed = store->delete_person(*id);
    if (!removed) {
      std::fprintf(stderr, "cairn delete-person: %s\n", removed.status().message().c_str());
      return set_exit_code(1);
    }
    std::printf("deleted person '%s': %llu events, their ids and traits\n", id->c_str(),
                static_cast<unsigned long long>(*removed));
  });
}

}  // namespace cairn::cli
