// POP3 server session: golden transcripts, chunking, policy (STLS, brute
// force, IN-USE), UPDATE semantics and the events a host sees.
#include "real/pop3/server.h"

#include <catch2/catch.hpp>

#include "real/codec/base64.h"
#include "tests/unit/pop3/pop3_fixture.h"
#include "tests/unit/store/store_fixtures.h"

using namespace mailsim;
using namespace mailsim::pop3;
using namespace mailsim::pop3::test;

namespace {

std::string run(ServerSession& s, std::string_view input, std::size_t chunk = 0) {
  feed(s, input, chunk);
  return s.take_output();
}

std::string login(ServerSession& s) {
  s.start();
  return s.take_output() + run(s, "USER mrose\r\nPASS tanstaaf\r\n");
}

}  // namespace

TEST_CASE("golden POP3 transcripts, fed whole, byte by byte and in odd chunks", "[pop3][golden]") {
  const std::size_t chunk = GENERATE(0, 1, 2, 3, 7, 64);
  const std::string file =
      GENERATE(as<std::string>{}, "rfc1939_example.txt", "stls_before_login.txt", "brute_force.txt",
               "transaction_commands.txt");
  run_golden(file, chunk);
}

TEST_CASE("a pipelined session split at every position gives the same answers", "[pop3]") {
  const std::string input =
      "CAPA\r\nUSER mrose\r\nPASS tanstaaf\r\nSTAT\r\nLIST\r\nUIDL\r\nTOP 2 1\r\nRETR 2\r\nDELE 1\r\n"
      "LIST 1\r\nRSET\r\nDELE 2\r\nNOOP\r\nQUIT\r\n";
  std::string whole;
  {
    Bench b;
    ServerSession s(default_config(), b.store, b.users);
    s.start();
    whole = s.take_output() + run(s, input);
    CHECK(s.wants_close());
    CHECK(b.maildrop() == 1);
  }
  for (std::size_t k = 0; k <= input.size(); ++k) {
    Bench b;
    ServerSession s(default_config(), b.store, b.users);
    s.start();
    std::string out = s.take_output();
    s.receive(std::string_view(input).substr(0, k));
    out += s.take_output();
    s.receive(std::string_view(input).substr(k));
    out += s.take_output();
    INFO("split at " << k);
    REQUIRE(out == whole);
    REQUIRE(b.maildrop() == 1);
  }
}

TEST_CASE("RFC 1939 exclusive access: a second session gets [IN-USE]", "[pop3]") {
  Bench b;
  ServerSession first(default_config(), b.store, b.users);
  CHECK(login(first).find("+OK mrose's maildrop has 2 messages") != std::string::npos);
  ServerSession second(default_config(), b.store, b.users);
  CHECK(login(second).find("-ERR [IN-USE] Maildrop is locked by another POP3 session\r\n") != std::string::npos);
  CHECK(second.state() == ServerState::kAuthorization);  // it may try again later
  // Another user is not blocked.
  ServerSession alice(default_config(), b.store, b.users);
  alice.start();
  CHECK(run(alice, "USER alice\r\nPASS wonderland\r\n").find("+OK alice's maildrop has 0 messages") !=
        std::string::npos);
  run(first, "QUIT\r\n");
  CHECK(first.wants_close());
  CHECK(run(second, "USER mrose\r\nPASS tanstaaf\r\n").find("+OK mrose's maildrop") != std::string::npos);
  // A session that ends any other way releases the lock too.
  second.peer_closed();
  CHECK_FALSE(b.store.maildrop_locks().locked("mrose"));
}

TEST_CASE("a dropped connection deletes nothing (no UPDATE state)", "[pop3]") {
  Bench b;
  ServerSession s(default_config(), b.store, b.users);
  login(s);
  CHECK(run(s, "RETR 1\r\nDELE 1\r\nDELE 2\r\n").find("+OK Message 2 deleted") != std::string::npos);
  s.peer_closed();
  CHECK(s.wants_close());
  CHECK(b.maildrop() == 2);
  CHECK_FALSE(b.store.snapshot("mrose", "INBOX").messages[0].flags.has(store::SystemFlag::kSeen));
  auto events = drain(s);
  CHECK(events_of<server_events::MessagesDeleted>(events).empty());
}

TEST_CASE("UPDATE removes marked messages and marks retrieved ones \\Seen", "[pop3]") {
  Bench b;
  ServerSession s(default_config(), b.store, b.users);
  login(s);
  run(s, "RETR 1\r\nTOP 2 0\r\nDELE 2\r\nQUIT\r\n");
  auto snap = b.store.snapshot("mrose", "INBOX");
  REQUIRE(snap.messages.size() == 1);
  CHECK(snap.messages[0].uid == 1);
  CHECK(snap.messages[0].flags.has(store::SystemFlag::kSeen));
  auto events = drain(s);
  auto deleted = events_of<server_events::MessagesDeleted>(events);
  REQUIRE(deleted.size() == 1);
  CHECK(deleted[0].uids == std::vector<store::Uid>{2});
  auto retrieved = events_of<server_events::MessageRetrieved>(events);
  REQUIRE(retrieved.size() == 2);
  CHECK(retrieved[0].uid == 1);
  CHECK(retrieved[0].uidl == "0000000100000001");
  CHECK(retrieved[0].size == 120);
  CHECK_FALSE(retrieved[0].top);
  CHECK(retrieved[1].top);
}

TEST_CASE("the maildrop is a snapshot: mail delivered during a session waits for the next", "[pop3]") {
  Bench b;
  ServerSession s(default_config(), b.store, b.users);
  login(s);
  b.store.deliver("mrose", "Subject: late\r\n\r\nlate\r\n", 828001000);
  CHECK(run(s, "STAT\r\n") == "+OK 2 320\r\n");
  CHECK(run(s, "RETR 3\r\n") == "-ERR No such message: 3\r\n");
  run(s, "QUIT\r\n");
  ServerSession next(default_config(), b.store, b.users);
  CHECK(login(next).find("has 3 messages") != std::string::npos);
}

TEST_CASE("a message expunged by another program cannot be retrieved, and QUIT still works", "[pop3]") {
  Bench b;
  ServerSession s(default_config(), b.store, b.users);
  login(s);
  b.store.remove("mrose", "INBOX", {1});  // e.g. an IMAP client expunged it
  CHECK(run(s, "RETR 1\r\n") == "-ERR Message 1 was removed by another session\r\n");
  CHECK(run(s, "DELE 1\r\nQUIT\r\n") ==
        "+OK Message 1 deleted\r\n+OK dbc.mtview.ca.us POP3 server signing off (1 message left)\r\n");
  CHECK(b.maildrop() == 1);
}

TEST_CASE("command lines longer than 255 octets get -ERR and the session goes on", "[pop3]") {
  const std::size_t chunk = GENERATE(0, 1, 100);
  Bench b;
  ServerSession s(default_config(), b.store, b.users);
  s.start();
  s.take_output();
  const std::string max_ok = "NOOP " + std::string(253 - 5, 'x') + "\r\n";  // 255 octets with CRLF
  REQUIRE(max_ok.size() == 255);
  // NOOP is not valid before login: but the line was read as a command.
  CHECK(run(s, max_ok, chunk) == "-ERR NOOP is not valid in the AUTHORIZATION state\r\n");
  const std::string too_long = "USER " + std::string(300, 'a') + "\r\n";
  CHECK(run(s, too_long + "USER mrose\r\n", chunk) ==
        "-ERR Line too long (the limit is 255 octets)\r\n+OK Send PASS\r\n");
  CHECK(run(s, "PASS tanstaaf\r\n", chunk).rfind("+OK", 0) == 0);
  auto discarded = events_of<server_events::InputDiscarded>(drain(s));
  std::size_t octets = 0;
  for (const auto& d : discarded) octets += d.octets;
  CHECK(octets == too_long.size());
}

TEST_CASE("failed logins are delayed by the host and end the session after the limit", "[pop3]") {
  Bench b;
  ServerConfig c = default_config();
  c.auth_delay_ms = 500;
  c.max_auth_delay_ms = 1500;
  c.max_auth_failures = 4;
  ServerSession s(c, b.store, b.users);
  s.start();
  s.take_output();
  std::vector<std::uint32_t> delays;
  for (int i = 0; i < 4; ++i) {
    CHECK(run(s, "USER mrose\r\nPASS wrong\r\n") == "+OK Send PASS\r\n");  // -ERR held back
    auto failed = events_of<server_events::AuthFailed>(drain(s));
    REQUIRE(failed.size() == 1);
    CHECK(failed[0].failures == static_cast<std::size_t>(i + 1));
    CHECK(failed[0].closing == (i == 3));
    CHECK(failed[0].user == "mrose");
    delays.push_back(failed[0].delay_ms);
    CHECK(s.state() == ServerState::kAuthDelay);
    CHECK(s.take_output().empty());
    s.resume();
    s.resume();  // a second timer firing does nothing
    CHECK(s.take_output().rfind("-ERR [AUTH] Authentication failed", 0) == 0);
  }
  CHECK(delays == std::vector<std::uint32_t>{500, 1000, 1500, 1500});
  CHECK(s.wants_close());
  CHECK(s.close_reason() == "too many authentication failures");
}

TEST_CASE("a good password after a failure logs in and the failure count stays", "[pop3]") {
  Bench b;
  ServerConfig c = default_config();
  c.auth_delay_ms = 100;
  ServerSession s(c, b.store, b.users);
  s.start();
  run(s, "USER mrose\r\nPASS nope\r\nUSER mrose\r\nPASS tanstaaf\r\n");
  s.resume();
  CHECK(s.take_output() ==
        "-ERR [AUTH] Authentication failed\r\n+OK Send PASS\r\n+OK mrose's maildrop has 2 messages (320 octets)\r\n");
  CHECK(s.state() == ServerState::kTransaction);
}

TEST_CASE("AUTH PLAIN: initial response, continuation, cancel and mistakes", "[pop3][sasl]") {
  Bench b;
  ServerSession s(default_config(), b.store, b.users);
  s.start();
  s.take_output();
  const std::string good = codec::base64_encode(std::string("\0mrose\0tanstaaf", 15));
  const std::string as_other = codec::base64_encode(std::string("alice\0mrose\0tanstaaf", 20));
  CHECK(run(s, "AUTH\r\n") == "+OK\r\nPLAIN\r\n.\r\n");
  CHECK(run(s, "AUTH CRAM-MD5\r\n") == "-ERR Unsupported authentication mechanism\r\n");
  CHECK(run(s, "AUTH PLAIN\r\n*\r\n") == "+ \r\n-ERR AUTH cancelled\r\n");
  CHECK(run(s, "AUTH PLAIN ***\r\n") == "-ERR Invalid base64 in AUTH response\r\n");
  CHECK(run(s, "AUTH PLAIN =\r\n") == "-ERR Malformed PLAIN response\r\n");
  // Acting for another user (authzid) is refused like a wrong password.
  CHECK(run(s, "AUTH PLAIN " + as_other + "\r\n") == "-ERR [AUTH] Authentication failed\r\n");
  CHECK(run(s, "auth plain " + good + "\r\n") == "+OK mrose's maildrop has 2 messages (320 octets)\r\n");
  auto auth = events_of<server_events::Authenticated>(drain(s));
  REQUIRE(auth.size() == 1);
  CHECK(auth[0].user == "mrose");
  CHECK(auth[0].mechanism == "PLAIN");
  CHECK(auth[0].messages == 2);
}

TEST_CASE("STLS: unavailable, refused twice, handshake failure", "[pop3][tls]") {
  Bench b;
  SECTION("no certificate: STLS is not offered and refused") {
    ServerSession s(default_config(), b.store, b.users);
    s.start();
    s.take_output();
    CHECK(run(s, "STLS\r\n") == "-ERR STLS not available\r\n");
    auto caps = s.capabilities();
    CHECK(std::find(caps.begin(), caps.end(), "STLS") == caps.end());
  }
  SECTION("the handshake fails: the session ends") {
    ServerConfig c = default_config();
    c.tls_available = true;
    ServerSession s(c, b.store, b.users);
    s.start();
    run(s, "STLS\r\n");
    REQUIRE(s.tls_requested());
    s.receive("USER mrose\r\n");  // plaintext during the handshake: dropped
    s.tls_failed("certificate unknown");
    CHECK(s.wants_close());
    CHECK(s.take_output().empty());
    auto events = drain(s);
    CHECK(events_of<server_events::InputDiscarded>(events).size() == 1);
  }
  SECTION("after TLS, STLS is refused and CAPA drops it") {
    ServerConfig c = default_config();
    c.tls_available = true;
    c.allow_plaintext_auth = false;
    ServerSession s(c, b.store, b.users);
    s.start();
    run(s, "STLS\r\n");
    s.tls_established({"TLSv1.3", "TLS_AES_128_GCM_SHA256", ""});
    CHECK(s.tls_active());
    CHECK(run(s, "STLS\r\n") == "-ERR Already using TLS\r\n");
    CHECK(run(s, "USER mrose\r\nPASS tanstaaf\r\n").find("+OK mrose's maildrop") != std::string::npos);
    auto tls = events_of<server_events::TlsStarted>(drain(s));
    REQUIRE(tls.size() == 1);
    CHECK(tls[0].info.version == "TLSv1.3");
  }
  SECTION("implicit TLS (port 995) allows login at once") {
    ServerConfig c = default_config();
    c.implicit_tls = true;
    c.tls_available = true;
    c.allow_plaintext_auth = false;
    ServerSession s(c, b.store, b.users);
    s.start();
    s.take_output();
    CHECK(run(s, "USER mrose\r\nPASS tanstaaf\r\n").find("+OK mrose's maildrop") != std::string::npos);
  }
}

TEST_CASE("QUIT in AUTHORIZATION just closes, and too many errors close too", "[pop3]") {
  Bench b;
  ServerConfig c = default_config();
  c.max_errors = 3;
  SECTION("QUIT") {
    ServerSession s(c, b.store, b.users);
    s.start();
    s.take_output();
    CHECK(run(s, "quit\r\n") == "+OK dbc.mtview.ca.us POP3 server signing off\r\n");
    CHECK(s.wants_close());
    CHECK(run(s, "USER mrose\r\n").empty());  // nothing after close
  }
  SECTION("errors") {
    ServerSession s(c, b.store, b.users);
    s.start();
    s.take_output();
    CHECK(run(s, "X\r\nY\r\nZ\r\nUSER mrose\r\n") ==
          "-ERR Unknown command: X\r\n-ERR Unknown command: Y\r\n-ERR Unknown command: Z\r\n");
    CHECK(s.wants_close());
    CHECK(s.close_reason() == "too many errors");
  }
  SECTION("an unknown verb is echoed without control bytes") {
    // A bare CR inside the verb must not reach the reply: a client that takes
    // CR as a line break would otherwise read a forged "QUIT" line.
    ServerSession s(c, b.store, b.users);
    s.start();
    s.take_output();
    CHECK(run(s, std::string("CAPA\rQUIT\r\n")) == "-ERR Unknown command: CAPA?QUIT\r\n");
  }
}

TEST_CASE("events tell the story of a session in order", "[pop3][events]") {
  Bench b;
  ServerSession s(default_config(), b.store, b.users);
  login(s);
  run(s, "RETR 1\r\nDELE 1\r\nQUIT\r\n");
  std::vector<std::string> story;
  for (const auto& e : drain(s)) {
    std::visit(
        [&](const auto& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, server_events::CommandReceived>) story.push_back("C " + x.line);
          else if constexpr (std::is_same_v<T, server_events::ResponseSent>)
            story.push_back("S " + x.status + (x.multiline ? " [" + std::to_string(x.octets) + "]" : ""));
          else if constexpr (std::is_same_v<T, server_events::StateChanged>)
            story.push_back(std::string("state ") + std::string(to_string(x.to)));
          else if constexpr (std::is_same_v<T, server_events::Authenticated>) story.push_back("auth " + x.user);
          else if constexpr (std::is_same_v<T, server_events::MessageRetrieved>)
            story.push_back("retrieved " + std::to_string(x.uid));
          else if constexpr (std::is_same_v<T, server_events::MessagesDeleted>)
            story.push_back("deleted " + std::to_string(x.uids.size()));
          else if constexpr (std::is_same_v<T, server_events::SessionClosed>) story.push_back("closed " + x.reason);
        },
        e);
  }
  const std::vector<std::string> want{
      "state AUTHORIZATION",
      "S +OK dbc.mtview.ca.us POP3 server ready",
      "C USER mrose",
      "S +OK Send PASS",
      "C PASS tanstaaf",
      "auth mrose",
      "state TRANSACTION",
      "S +OK mrose's maildrop has 2 messages (320 octets)",
      "C RETR 1",
      "S +OK 120 octets [139]",  // 16 for this line, 120 for the message, 3 for ".\r\n"
      "retrieved 1",
      "C DELE 1",
      "S +OK Message 1 deleted",
      "C QUIT",
      "state UPDATE",
      "deleted 1",
      "S +OK dbc.mtview.ca.us POP3 server signing off (1 message left)",
      "state CLOSED",
      "closed QUIT",
  };
  CHECK(story == want);
}

TEST_CASE("every command in each state: allowed ones answer, others get -ERR and the session goes on",
          "[pop3][states]") {
  struct Row {
    const char* line;
    const char* in_authorization;  // prefix of the answer before login
    const char* in_transaction;    // prefix of the answer after login
  };
  const Row rows[] = {
      {"USER mrose", "+OK Send PASS", "-ERR USER is not valid in the TRANSACTION state"},
      {"PASS tanstaaf", "-ERR Send USER first", "-ERR PASS is not valid in the TRANSACTION state"},
      {"AUTH", "+OK", "-ERR AUTH is not valid in the TRANSACTION state"},
      {"STLS", "-ERR STLS not available", "-ERR STLS is not valid in the TRANSACTION state"},
      {"CAPA", "+OK Capability list follows", "+OK Capability list follows"},
      {"STAT", "-ERR STAT is not valid in the AUTHORIZATION state", "+OK 2 320"},
      {"LIST", "-ERR LIST is not valid in the AUTHORIZATION state", "+OK 2 messages (320 octets)"},
      {"RETR 1", "-ERR RETR is not valid in the AUTHORIZATION state", "+OK 120 octets"},
      {"TOP 1 0", "-ERR TOP is not valid in the AUTHORIZATION state", "+OK Top of message follows"},
      {"UIDL", "-ERR UIDL is not valid in the AUTHORIZATION state", "+OK Unique-ID listing follows"},
      {"NOOP", "-ERR NOOP is not valid in the AUTHORIZATION state", "+OK"},
      {"RSET", "-ERR RSET is not valid in the AUTHORIZATION state", "+OK Maildrop has 2 messages"},
      {"DELE 1", "-ERR DELE is not valid in the AUTHORIZATION state", "+OK Message 1 deleted"},
      {"APOP mrose c4c9334bac560ecc979e58001b3e22fb", "-ERR Unknown command: APOP", "-ERR Unknown command: APOP"},
      {"", "-ERR Unknown command: ", "-ERR Unknown command: "},
  };
  for (const auto& row : rows) {
    INFO(row.line);
    Bench b;
    ServerSession s(default_config(), b.store, b.users);
    s.start();
    s.take_output();
    CHECK(run(s, std::string(row.line) + "\r\n").rfind(row.in_authorization, 0) == 0);
    CHECK_FALSE(s.wants_close());
    ServerSession t(default_config(), b.store, b.users);
    login(t);
    CHECK(run(t, std::string(row.line) + "\r\n").rfind(row.in_transaction, 0) == 0);
    CHECK(t.state() == ServerState::kTransaction);
  }
}

TEST_CASE("POP3 over a Maildir: sizes and bytes in network form, deletion on disk", "[pop3][maildir]") {
  store::test::MaildirBackend backend;
  auto& st = *backend.store;
  st.ensure_user("mrose");
  st.deliver("mrose", kMessage1, 828000000);
  st.deliver("mrose", kMessage2, 828000060);
  store::UserTable users{{"mrose", "tanstaaf"}};
  ServerSession s(default_config(), st, users);
  s.start();
  s.take_output();
  CHECK(run(s, "USER mrose\r\nPASS tanstaaf\r\nLIST\r\n") ==
        "+OK Send PASS\r\n+OK mrose's maildrop has 2 messages (320 octets)\r\n"
        "+OK 2 messages (320 octets)\r\n1 120\r\n2 200\r\n.\r\n");
  const std::string retr = run(s, "RETR 2\r\n");
  CHECK(retr.find("\r\n..signature starts with a dot\r\n") != std::string::npos);
  CHECK(retr.size() == std::string("+OK 200 octets\r\n").size() + 200 + 2 /* stuffing */ + 3);
  run(s, "DELE 1\r\nQUIT\r\n");
  auto reopened = backend.open();  // what a restarted server sees
  auto snap = reopened->snapshot("mrose", "INBOX");
  REQUIRE(snap.messages.size() == 1);
  CHECK(snap.messages[0].uid == 2);
  CHECK(snap.messages[0].flags.has(store::SystemFlag::kSeen));
}

TEST_CASE("RETR byte-stuffs every line that starts with a dot, and ends the last line", "[pop3]") {
  // RFC 1939 §3: a line starting with "." gets another; the terminating
  // ".\r\n" must stand on its own line even if the message does not end
  // with a line break.
  Bench b;
  const std::string odd = ".first line\r\n.\r\n..\r\nmiddle . dot\r\n\r\n.last, no line end";
  b.store.deliver("mrose", odd, 828000120);
  ServerSession s(default_config(), b.store, b.users);
  login(s);
  CHECK(run(s, "RETR 3\r\n") == "+OK " + std::to_string(odd.size()) +
                                    " octets\r\n..first line\r\n..\r\n...\r\nmiddle . dot\r\n\r\n..last, no line end\r\n.\r\n");
  // A client reading it back (dropping one leading dot per line) gets the
  // message plus the line end the server had to add.
  const std::string wire = run(s, "RETR 3\r\n");
  std::string unstuffed;
  std::size_t pos = wire.find("\r\n") + 2;
  while (pos < wire.size()) {
    std::size_t end = wire.find("\r\n", pos) + 2;
    std::string line = wire.substr(pos, end - pos);
    if (line == ".\r\n") break;
    unstuffed += line[0] == '.' ? line.substr(1) : line;
    pos = end;
  }
  CHECK(unstuffed == odd + "\r\n");
}
