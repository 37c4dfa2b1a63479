// `mailsim serve`: the real servers on 127.0.0.1 over one Maildir — SMTP
// (MX-style, port 2525), submission (AUTH required, 2587), and POP3/IMAP
// (plain + STARTTLS, and implicit TLS) once those sessions exist. ui/ calls
// run_serve(); everything else lives here. Boost-free header.
#pragma once

#include "real/net/serve_config.h"

#include <filesystem>
#include <optional>
#include <ostream>

namespace mailsim::net {

struct ServeOptions {
  std::optional<std::filesystem::path> config_file;  // --config; defaults otherwise
  std::optional<std::filesystem::path> data_dir;     // --data; overrides the config's data_dir
  bool quiet = false;         // --quiet: no line per message (benchmarks)
  bool print_config = false;  // --print-config: print the effective config as JSON and exit
};

// Runs until SIGINT/SIGTERM. Returns the exit code: 0 after a clean stop,
// 1 when the server cannot start (port in use, unwritable data dir), 2 for a
// bad config (the message names the file, the JSON pointer and the problem).
//
// Once every port listens it writes <data>/run/listening.json:
//   {"pid": 1234, "ports": {"smtp": 2525, ...}, "ca": ".../tls/ca.pem",
//    "maildir": ".../maildir"}
// (ports chosen with 0 are resolved there), which test harnesses wait for.
int run_serve(const ServeOptions& options, std::ostream& out, std::ostream& err);

}  // namespace mailsim::net
