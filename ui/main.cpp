// mailsim — one executable, many subcommands (see README.md, "Command line").
#include "ui/commands/commands.h"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

namespace mailsim::cli {
std::vector<CommandInstaller>& installers() {
  static std::vector<CommandInstaller> list;
  return list;
}
std::function<int()>& default_command() {
  static std::function<int()> command;
  return command;
}
}  // namespace mailsim::cli

int main(int argc, char** argv) {
  CLI::App app{"mailsim — watch an email travel: real SMTP, POP3 and IMAP, in a classroom simulator"};
  app.set_version_flag("--version", std::string("mailsim ") + MAILSIM_VERSION);
  app.require_subcommand(0, 1);
  int exit_code = 0;
  for (auto& install : mailsim::cli::installers()) install(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    // Usage errors are "bad input": exit 2 as documented.
    return rc == 0 ? 0 : 2;
  }
  if (app.get_subcommands().empty()) {
    if (auto& command = mailsim::cli::default_command()) return command();
    std::cout << app.help();
    return 0;
  }
  return exit_code;
}
