// A POP3 test bench: a MemoryStore holding the two messages of RFC 1939's
// example session (120 and 200 octets, as in §10), the users, and a runner
// for golden transcripts (tests/golden/pop3/*.txt).
//
// Golden transcript format (one line each; '#' lines and blank lines are
// comments for the reader):
//   S: <line>     the server sends this line (CRLF added)
//   C: <line>     the client sends this line; consecutive C: lines are sent
//                 together (pipelined), fed in chunks of the test's size
//   @ config k=v  server settings, before the session starts:
//                 allow_plaintext_auth, tls_available, auth_delay_ms,
//                 max_auth_failures (true/false or a number)
//   @ tls         the host runs the TLS handshake (after STLS)
//   @ resume N    the server held its reply after a failed login and asked
//                 for N ms; the host's timer fires
//   @ closed      the server has closed the session
//   @ maildrop N  mrose's INBOX now holds N messages
// At every switch from S: lines to something else, everything the server
// sent since the last check must equal those S: lines exactly.
#pragma once

#include <catch2/catch.hpp>

#include <sstream>
#include <string>
#include <vector>

#include "real/pop3/server.h"
#include "real/store/memory_store.h"
#include "real/store/users.h"
#include "tests/unit/support/session_test.h"

namespace mailsim::pop3::test {

inline const std::string kMessage1 =
    "From: Marshall Rose <mrose@dbc.mtview.ca.us>\r\n"
    "To: mrose@dbc.mtview.ca.us\r\n"
    "Subject: RFC 1939, section 10\r\n"
    "\r\n"
    "Hello 1996!\r\n";
inline const std::string kMessage2 =
    "From: Einar Stefferud <stef@nma.com>\r\n"
    "To: mrose@dbc.mtview.ca.us\r\n"
    "Subject: lines that start with a dot\r\n"
    "\r\n"
    "First line.\r\n"
    ".signature starts with a dot\r\n"
    "..and this line with two.\r\n"
    "That is the end of it.\r\n";

inline ServerConfig default_config() {
  ServerConfig c;
  c.hostname = "dbc.mtview.ca.us";
  c.allow_plaintext_auth = true;
  c.auth_delay_ms = 0;
  return c;
}

struct Bench {
  store::MemoryStore store;
  store::UserTable users{{"mrose", "tanstaaf"}, {"alice", "wonderland"}};
  Bench() {
    store.ensure_user("mrose");
    store.deliver("mrose", kMessage1, 828000000);
    store.deliver("mrose", kMessage2, 828000060);
  }
  std::size_t maildrop(const std::string& user = "mrose") { return store.status(user, "INBOX").messages; }
};

using mailsim::test_support::events_of;
using mailsim::test_support::feed;

inline std::vector<ServerEvent> drain(ServerSession& s) {
  std::vector<ServerEvent> out;
  while (auto e = s.next_event()) out.push_back(std::move(*e));
  return out;
}

inline void apply_config(ServerConfig& c, const std::string& kv) {
  const auto eq = kv.find('=');
  REQUIRE(eq != std::string::npos);
  const std::string k = kv.substr(0, eq), v = kv.substr(eq + 1);
  if (k == "allow_plaintext_auth") c.allow_plaintext_auth = v == "true";
  else if (k == "tls_available") c.tls_available = v == "true";
  else if (k == "auth_delay_ms") c.auth_delay_ms = static_cast<std::uint32_t>(std::stoul(v));
  else if (k == "max_auth_failures") c.max_auth_failures = std::stoul(v);
  else FAIL("unknown config key " << k);
}

// Plays a golden transcript against a fresh server, feeding client input in
// chunks of `chunk` octets.
inline void run_golden(const std::string& name, std::size_t chunk) {
  const std::string path = std::string(MAILSIM_SOURCE_DIR) + "/tests/golden/pop3/" + name;
  const std::vector<std::string> lines = mailsim::test_support::read_golden_lines(path);
  Bench bench;
  ServerConfig config = default_config();
  for (const auto& l : lines)
    if (l.rfind("@ config ", 0) == 0) {
      std::istringstream kvs(l.substr(9));
      for (std::string kv; kvs >> kv;) apply_config(config, kv);
    }
  ServerSession s(config, bench.store, bench.users);
  std::uint32_t last_delay = 0;
  auto events = [&] {
    for (auto& e : drain(s))
      if (auto* f = std::get_if<server_events::AuthFailed>(&e)) last_delay = f->delay_ms;
  };
  std::string pending, want, got;
  std::size_t block_line = 0;  // where the S: block being collected starts
  auto flush = [&] {
    feed(s, pending, chunk);
    pending.clear();
    events();
  };
  auto check = [&] {
    flush();
    got += s.take_output();
    INFO(name << " line " << block_line << ", chunk " << chunk);
    CHECK(got == want);
    got.clear();
    want.clear();
  };
  s.start();
  events();
  bool in_server_block = false;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    if (l.empty() || l[0] == '#' || l.rfind("@ config ", 0) == 0) continue;  // config: applied before start
    if (l.rfind("S:", 0) == 0) {
      if (!in_server_block) {
        flush();
        block_line = i + 1;
      }
      in_server_block = true;
      want += (l.size() > 3 ? l.substr(3) : std::string()) + "\r\n";
      continue;
    }
    if (in_server_block || l[0] == '@') check();
    in_server_block = false;
    if (l.rfind("C: ", 0) == 0) {
      pending += l.substr(3) + "\r\n";
      block_line = i + 1;
    } else if (l == "@ tls") {
      INFO(name << " line " << i + 1);
      REQUIRE(s.tls_requested());
      s.tls_established({"TLSv1.3", "TLS_AES_256_GCM_SHA384", ""});
      events();
    } else if (l.rfind("@ resume ", 0) == 0) {
      INFO(name << " line " << i + 1);
      REQUIRE(s.state() == ServerState::kAuthDelay);
      CHECK(last_delay == std::stoul(l.substr(9)));
      s.resume();
      events();
    } else if (l == "@ closed") {
      INFO(name << " line " << i + 1);
      CHECK(s.wants_close());
    } else if (l.rfind("@ maildrop ", 0) == 0) {
      INFO(name << " line " << i + 1);
      CHECK(bench.maildrop() == std::stoul(l.substr(11)));
    } else {
      FAIL(name << " line " << i + 1 << ": cannot read \"" << l << "\"");
    }
  }
  check();
}

}  // namespace mailsim::pop3::test
