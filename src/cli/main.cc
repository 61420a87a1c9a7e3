// The cairn command: one subcommand per file in this folder.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"cairn: customer journey analytics"};
  app.set_version_flag("--version", "cairn 0.1.0");
  app.require_subcommand(1);
  cairn::cli::register_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return cairn::cli::exit_code();
}
