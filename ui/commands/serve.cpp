// `mailsim serve [--config FILE] [--data DIR]`: the real SMTP (and, as they
// land, POP3/IMAP) servers on 127.0.0.1. The server itself is real/net/serve.h;
// this file only wires the command line.
#include "real/net/serve.h"
#include "ui/commands/commands.h"

#include <iostream>
#include <memory>

namespace {

const mailsim::cli::Register kServe([](CLI::App& app, int& exit_code) {
  auto options = std::make_shared<mailsim::net::ServeOptions>();
  auto config = std::make_shared<std::string>();
  auto data = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
      "serve", "Run the real mail servers on 127.0.0.1 (SMTP 2525, submission 2587) over a Maildir");
  cmd->add_option("--config", *config, "JSON config file (defaults work without one)");
  cmd->add_option("--data", *data, "data folder: Maildirs, demo CA, run files (overrides the config)");
  cmd->add_flag("--quiet", options->quiet, "no log line per message");
  cmd->add_flag("--print-config", options->print_config, "print the effective config as JSON and exit");
  cmd->callback([options, config, data, &exit_code] {
    if (!config->empty()) options->config_file = *config;
    if (!data->empty()) options->data_dir = *data;
    exit_code = mailsim::net::run_serve(*options, std::cout, std::cerr);
  });
});

}  // namespace
