// cairn channels --db DIR [--set FILE | --reset]: the database's channel
// grouping rules (docs/QUERY.md, "Channel rules").
#include <cstdio>

#include <fmt/format.h>

#include "cli/commands.h"
#include "query/channels.h"
#include "storage/file_util.h"

namespace cairn::cli {

namespace {

struct ChannelArgs {
  std::string db;
  std::string set;
  bool reset = false;
};

int run_channels(const ChannelArgs& args) {
  if (!file_exists(args.db + "/CURRENT")) {
    std::fprintf(stderr, "cairn channels: no cairn database at %s\n", args.db.c_str());
    return 1;
  }
  if (!args.set.empty()) {
    auto text = read_file(args.set);
    if (!text) {
      std::fprintf(stderr, "cairn channels: %s\n", text.status().message().c_str());
      return 2;
    }
    const nlohmann::json doc = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) {
      std::fprintf(stderr, "cairn channels: %s: not valid JSON\n", args.set.c_str());
      return 2;
    }
    auto rules = query::parse_channel_rules(doc, args.set);
    if (!rules) {
      std::fprintf(stderr, "cairn channels: %s\n", rules.status().message().c_str());
      return 2;
    }
    if (Status st = query::save_channel_rules(args.db, *rules); !st.is_ok()) {
      std::fprintf(stderr, "cairn channels: %s\n", st.message().c_str());
      return 1;
    }
  } else if (args.reset) {
    if (Status st = query::reset_channel_rules(args.db); !st.is_ok()) {
      std::fprintf(stderr, "cairn channels: %s\n", st.message().c_str());
      return 1;
    }
  }
  auto rules = query::load_channel_rules(args.db);
  if (!rules) {
    std::fprintf(stderr, "cairn channels: %s\n", rules.status().message().c_str());
    return 1;
  }
  std::printf("%s\n", query::channel_rules_json(*rules).dump(2).c_str());
  return 0;
}

}  // namespace

void register_channels(CLI::App& app) {
  auto args = std::make_shared<ChannelArgs>();
  auto* cmd = app.add_subcommand("channels", "Show or change the channel grouping rules of a database (docs/QUERY.md)");
  cmd->add_option("--db", args->db, "Database directory")->required();
  auto* set = cmd->add_option("--set", args->set, "Replace the rules by those in this JSON file (- for standard input)");
  cmd->add_flag("--reset", args->reset, "Go back to the default rules")->excludes(set);
  cmd->callback([args]() { set_exit_code(run_channels(*args)); });
}

}  // namespace cairn::cli
