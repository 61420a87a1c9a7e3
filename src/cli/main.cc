// The cairn command: one subcommand per file in this folder.
#include <malloc.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/commands.h"

int main(int argc, char** argv) {
  // One malloc arena for all threads: memory a worker thread frees (a parsed
  // part of a file, once merged) is reused by the others instead of staying
  // parked in that thread's arena, which would double an import's peak.
  mallopt(M_ARENA_MAX, 1);
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
