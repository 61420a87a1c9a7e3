#include "cli/commands.h"

namespace cairn::cli {

namespace {
int g_exit_code = 0;
}  // namespace

void set_exit_code(int code) { g_exit_code = code; }
int exit_code() { return g_exit_code; }

void register_commands(CLI::App& app) {
  register_simulate(app);
  register_import(app);
  register_info(app);
  register_person(app);
  register_compact(app);
  register_delete_person(app);
  register_query(app);
  register_channels(app);
}

}  // namespace cairn::cli
