// Subcommands of the `mailsim` executable. Each one is defined in its own
// file under ui/commands/ and adds itself to the CLI11 app; the exit code it
// wants is written to `exit_code` (0 success, 1 a check failed, 2 bad input).
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <vector>

namespace mailsim::cli {

using CommandInstaller = std::function<void(CLI::App& app, int& exit_code)>;

// Registry filled by static `Register` objects in each command file.
std::vector<CommandInstaller>& installers();

// What `mailsim` does without a subcommand (the view registers "open the
// first scenario"); empty: print the help.
std::function<int()>& default_command();

struct Register {
  explicit Register(CommandInstaller installer) { installers().push_back(std::move(installer)); }
};

}  // namespace mailsim::cli
