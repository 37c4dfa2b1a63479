// POP3 client session: alone against scripted replies, and back to back
// with the real server session (the simulator's mail user agent and its
// mail server), with and without TLS, fed in every chunking.
#include "real/pop3/client.h"

#include <catch2/catch.hpp>

#include "real/pop3/server.h"
#include "tests/unit/pop3/pop3_fixture.h"

using namespace mailsim;
using namespace mailsim::pop3;
using namespace mailsim::pop3::test;

namespace {

const TlsInfo kTls{"TLSv1.3", "TLS_AES_256_GCM_SHA384", ""};

struct Wire {
  std::vector<std::string> transcript;  // "C: ..." / "S: ..." lines as on the wire
  std::vector<ClientEvent> client_events;
  std::vector<ServerEvent> server_events;
};

void record(std::vector<std::string>& t, const char* who, const std::string& bytes) {
  std::size_t start = 0;
  while (start < bytes.size()) {
    auto nl = bytes.find("\r\n", start);
    if (nl == std::string::npos) nl = bytes.size();
    t.push_back(std::string(who) + bytes.substr(start, nl - start));
    start = nl + 2;
  }
}

// Runs client and server against each other until both are done, feeding
// each side in chunks of `chunk` octets. The host role: shuttle bytes, run
// the (fake) TLS handshake when both ask, resume a held login reply at once.
Wire pump(ClientSession& c, ServerSession& s, std::size_t chunk) {
  Wire w;
  s.start();
  c.start();
  for (int round = 0; round < 10000; ++round) {
    bool moved = false;
    while (auto e = s.next_event()) {
      w.server_events.push_back(*e);
      moved = true;
    }
    if (s.state() == ServerState::kAuthDelay) s.resume();
    std::string so = s.take_output();
    if (!so.empty()) {
      record(w.transcript, "S: ", so);
      feed(c, so, chunk);
      moved = true;
    }
    // The server hung up after its last words: the client hears the close.
    if (s.wants_close() && !c.wants_close()) {
      c.peer_closed();
      moved = true;
    }
    if (c.tls_requested() && s.tls_requested()) {
      w.transcript.push_back("# TLS handshake");
      s.tls_established(kTls);
      c.tls_established(kTls);
      moved = true;
    }
    std::string co = c.take_output();
    if (!co.empty()) {
      record(w.transcript, "C: ", co);
      feed(s, co, chunk);
      moved = true;
    }
    while (auto e = c.next_event()) {
      w.client_events.push_back(*e);
      moved = true;
    }
    if (c.wants_close() && !s.wants_close()) {
      s.peer_closed();
      moved = true;
    }
    if (!moved) break;
  }
  return w;
}

ClientConfig mrose() {
  ClientConfig c;
  c.user = "mrose";
  c.password = "tanstaaf";
  return c;
}

}  // namespace

TEST_CASE("client and server back to back: fetch, delete, quit", "[pop3][client]") {
  const std::size_t chunk = GENERATE(0, 1, 2, 5, 13);
  Bench b;
  ClientSession c(mrose());
  ServerSession s(default_config(), b.store, b.users);
  auto w = pump(c, s, chunk);
  REQUIRE(c.finished());
  CHECK(c.result().ok);
  CHECK(c.result().error.empty());
  CHECK(c.result().messages_on_server == 2);
  CHECK(c.result().retrieved == std::vector<std::string>{"0000000100000001", "0000000200000001"});
  CHECK(c.result().deleted == c.result().retrieved);
  auto got = events_of<client_events::MessageRetrieved>(w.client_events);
  REQUIRE(got.size() == 2);
  CHECK(got[0].bytes == kMessage1);
  CHECK(got[1].bytes == kMessage2);  // dot-unstuffed again
  CHECK(b.maildrop() == 0);
  CHECK(s.wants_close());
  CHECK_FALSE(c.tls_active());
}

TEST_CASE("the client's conversation matches the golden transcript", "[pop3][client][golden]") {
  Bench b;
  ServerConfig sc = default_config();
  sc.tls_available = true;
  sc.allow_plaintext_auth = false;
  ClientConfig cc = mrose();
  cc.known_uidls = {"0000000100000001"};  // message 1 was fetched last time
  cc.leave_on_server = true;
  ClientSession c(cc);
  ServerSession s(sc, b.store, b.users);
  auto w = pump(c, s, 0);
  CHECK(c.result().ok);
  std::vector<std::string> want;
  for (const std::string& l :
       mailsim::test_support::read_golden_lines(std::string(MAILSIM_SOURCE_DIR) + "/tests/golden/pop3/client_fetch.txt")) {
    if (l.rfind("C: ", 0) == 0 || l.rfind("S: ", 0) == 0 || l == "# TLS handshake") want.push_back(l);
    else if (l == "S:") want.push_back("S: ");
  }
  CHECK(w.transcript == want);
  CHECK(b.maildrop() == 2);  // left on the server
}

TEST_CASE("client TLS policy against servers with and without STLS", "[pop3][client][tls]") {
  Bench b;
  struct Case {
    ClientTls client;
    bool server_tls;
    bool allow_plain;
    bool ok;
    bool tls;
  };
  const Case k = GENERATE(Case{ClientTls::kIfOffered, true, false, true, true},
                          Case{ClientTls::kIfOffered, false, true, true, false},
                          Case{ClientTls::kRequired, true, false, true, true},
                          // No STLS offered: the client quits before the password.
                          Case{ClientTls::kRequired, false, true, false, false},
                          // Never TLS: the server refuses the plaintext password.
                          Case{ClientTls::kNever, true, false, false, false},
                          Case{ClientTls::kNever, true, true, true, false});
  ServerConfig sc = default_config();
  sc.tls_available = k.server_tls;
  sc.allow_plaintext_auth = k.allow_plain;
  ClientConfig cc = mrose();
  cc.tls = k.client;
  ClientSession c(cc);
  ServerSession s(sc, b.store, b.users);
  auto w = pump(c, s, 0);
  REQUIRE(c.finished());
  CHECK(c.result().ok == k.ok);
  CHECK(c.tls_active() == k.tls);
  // A password never crosses the wire in the clear when TLS was required.
  bool pass_sent = false;
  for (const auto& l : w.transcript) {
    if (l == "# TLS handshake") break;
    if (l.rfind("C: PASS", 0) == 0 || l.rfind("C: AUTH", 0) == 0) pass_sent = true;
  }
  if (k.client == ClientTls::kRequired) CHECK_FALSE(pass_sent);
  if (!k.ok) CHECK_FALSE(c.result().error.empty());
}

TEST_CASE("client with AUTH PLAIN and leave-on-server fetches only new mail", "[pop3][client]") {
  Bench b;
  ClientConfig cc = mrose();
  cc.auth = ClientAuth::kSaslPlain;
  cc.leave_on_server = true;
  {
    ClientSession c(cc);
    ServerSession s(default_config(), b.store, b.users);
    pump(c, s, 1);
    CHECK(c.result().ok);
    CHECK(c.result().retrieved.size() == 2);
    CHECK(c.result().deleted.empty());
    for (const auto& u : c.result().retrieved) cc.known_uidls.insert(u);
  }
  b.store.deliver("mrose", "Subject: new\r\n\r\nnew\r\n", 828002000);
  ClientSession c(cc);
  ServerSession s(default_config(), b.store, b.users);
  auto w = pump(c, s, 3);
  CHECK(c.result().ok);
  CHECK(c.result().retrieved == std::vector<std::string>{"0000000300000001"});
  auto got = events_of<client_events::MessageRetrieved>(w.client_events);
  REQUIRE(got.size() == 1);
  CHECK(got[0].number == 3);
  CHECK(got[0].bytes == "Subject: new\r\n\r\nnew\r\n");
  CHECK(b.maildrop() == 3);
}

TEST_CASE("client with a wrong password quits and reports it", "[pop3][client]") {
  Bench b;
  ClientConfig cc = mrose();
  cc.password = "wrong";
  ServerConfig sc = default_config();
  sc.auth_delay_ms = 2000;
  ClientSession c(cc);
  ServerSession s(sc, b.store, b.users);
  auto w = pump(c, s, 0);
  REQUIRE(c.finished());
  CHECK_FALSE(c.result().ok);
  CHECK(c.result().error == "login failed: -ERR [AUTH] Authentication failed");
  CHECK(w.transcript.back() == "S: +OK dbc.mtview.ca.us POP3 server signing off");
  CHECK(b.maildrop() == 2);
}

TEST_CASE("client against scripted servers: old servers and hang-ups", "[pop3][client]") {
  ClientConfig cc = mrose();
  SECTION("no CAPA, no UIDL: everything is fetched") {
    ClientSession c(cc);
    c.start();
    c.receive("+OK hello\r\n");
    CHECK(c.take_output() == "CAPA\r\n");
    c.receive("-ERR what?\r\n");
    CHECK(c.take_output() == "USER mrose\r\n");
    c.receive("+OK\r\n");
    CHECK(c.take_output() == "PASS tanstaaf\r\n");
    c.receive("+OK in\r\n");
    CHECK(c.take_output() == "STAT\r\n");
    c.receive("+OK 1 10\r\n");
    CHECK(c.take_output() == "UIDL\r\n");
    c.receive("-ERR no\r\n");
    CHECK(c.take_output() == "RETR 1\r\n");
    c.receive("+OK\r\nSubject: x\r\n\r\n..\r\n.\r\n");
    CHECK(c.take_output() == "DELE 1\r\n");
    c.receive("+OK\r\n");
    CHECK(c.take_output() == "QUIT\r\n");
    c.receive("+OK bye\r\n");
    CHECK(c.finished());
    CHECK(c.result().ok);
    std::vector<std::string> bodies;
    while (auto e = c.next_event())
      if (auto* m = std::get_if<client_events::MessageRetrieved>(&*e)) bodies.push_back(m->bytes);
    CHECK(bodies == std::vector<std::string>{"Subject: x\r\n\r\n.\r\n"});
  }
  SECTION("a refusing greeting") {
    ClientSession c(cc);
    c.start();
    c.receive("-ERR go away\r\n");
    CHECK(c.finished());
    CHECK(c.result().error == "server refused the connection: -ERR go away");
  }
  SECTION("the server hangs up in the middle") {
    ClientSession c(cc);
    c.start();
    c.receive("+OK hello\r\n");
    c.peer_closed();
    CHECK(c.finished());
    CHECK_FALSE(c.result().ok);
    CHECK(c.result().error == "server closed the connection in state CAPA");
  }
  SECTION("an empty maildrop goes straight to QUIT") {
    ClientSession c(cc);
    c.start();
    c.receive("+OK hello\r\n-ERR\r\n");
    c.receive("+OK\r\n+OK\r\n");
    c.take_output();
    c.receive("+OK 0 0\r\n");
    CHECK(c.take_output() == "QUIT\r\n");
  }
}
