// Subcommands of the cairn binary. Each register_* adds one subcommand whose
// callback runs the command and records its exit code.
#pragma once

#include <CLI/CLI.hpp>

namespace cairn::cli {

void register_commands(CLI::App& app);
void set_exit_code(int code);
int exit_code();

void register_simulate(CLI::App& app);
void register_import(CLI::App& app);
void register_info(CLI::App& app);
void register_person(CLI::App& app);
void register_compact(CLI::App& app);
void register_delete_person(CLI::App& app);
void register_query(CLI::App& app);
void register_channels(CLI::App& app);

}  // namespace cairn::cli
