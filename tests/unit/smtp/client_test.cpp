// ClientSession against ServerSession, wired back to back (no sockets), and
// against scripted servers for replies our server never gives.
#include "real/smtp/client.h"
#include "real/smtp/server.h"
#include "tests/unit/smtp/smtp_test_util.h"

#include <catch2/catch.hpp>

using namespace mailsim::smtp;
using mailsim::smtp::test::Wire;
namespace cev = mailsim::smtp::client_events;
namespace sev = mailsim::smtp::server_events;

namespace {

template <class T>
std::vector<T> client_events_of(const std::vector<ClientEvent>& all) {
  std::vector<T> out;
  for (const auto& e : all)
    if (auto* x = std::get_if<T>(&e)) out.push_back(*x);
  return out;
}

std::vector<std::string> commands_sent(const std::vector<ClientEvent>& all) {
  std::vector<std::string> out;
  for (const auto& c : client_events_of<cev::CommandSent>(all)) out.push_back(c.line);
  return out;
}

Envelope env(std::string from, std::vector<std::string> to) {
  Envelope e;
  e.reverse_path = std::move(from);
  e.recipients = std::move(to);
  return e;
}

const std::string kMessage = "Subject: hi\r\n\r\n.leading dot\r\nbye\r\n";

// Refuses recipients whose local part starts with "no" (550) or "later" (450).
struct PickyHandler : AcceptAllHandler {
  Reply on_rcpt(const sev::RcptTo& r, const Envelope&) override {
    if (r.forward_path.starts_with("no")) return replies::user_unknown();
    if (r.forward_path.starts_with("later")) return make_reply(450, "4.2.0", "Greylisted");
    return replies::rcpt_ok();
  }
  bool on_auth(const sev::AuthRequest& a) override { return a.username == "alice" && a.password == "secret"; }
};

}  // namespace

TEST_CASE("client delivers one message with pipelining") {
  Wire w(ClientConfig{.helo_name = "client.example.org"}, ServerConfig{.hostname = "mx.example.net"});
  const JobId id = w.client.send(env("alice@example.org", {"bob@example.net", "carol@example.net"}), kMessage);
  w.client.quit();
  w.run();

  REQUIRE(w.accept_all.messages.size() == 1);
  const auto& m = w.accept_all.messages[0];
  CHECK(m.data == kMessage);  // dot-stuffed on the wire, unstuffed again by the server
  CHECK(m.envelope.reverse_path == "alice@example.org");
  CHECK(m.envelope.recipients == std::vector<std::string>{"bob@example.net", "carol@example.net"});
  CHECK(m.envelope.helo_name == "client.example.org");
  CHECK(w.client_to_server.find("\r\n..leading dot\r\n") != std::string::npos);

  // MAIL, both RCPTs and DATA went out in one write: they follow each other
  // in the client's output without a reply in between.
  CHECK(w.client_to_server.find("MAIL FROM:<alice@example.org> SIZE=" + std::to_string(kMessage.size()) +
                                "\r\nRCPT TO:<bob@example.net>\r\nRCPT TO:<carol@example.net>\r\nDATA\r\n") !=
        std::string::npos);
  const auto results = client_events_of<cev::TransactionResult>(w.client_events);
  REQUIRE(results.size() == 1);
  CHECK(results[0].job == id);
  CHECK(results[0].accepted);
  CHECK(results[0].final_reply->code == 250);
  REQUIRE(results[0].recipients.size() == 2);
  CHECK(results[0].recipients[0].delivered);
  CHECK(results[0].recipients[1].delivered);
  CHECK(client_events_of<cev::RecipientResult>(w.client_events).size() == 2);
  CHECK(client_events_of<cev::Greeting>(w.client_events).at(0).reply.code == 220);
  CHECK(client_events_of<cev::Closed>(w.client_events).size() == 1);
  CHECK(w.client.state() == ClientState::kClosed);
  CHECK(w.server.close_reason() == "QUIT");
}

TEST_CASE("client works in lock-step when pipelining is off") {
  ClientConfig cc{.helo_name = "client.example.org"};
  cc.pipelining = false;
  Wire w(cc, ServerConfig{});
  w.client.send(env("alice@example.org", {"bob@example.net", "carol@example.net"}), kMessage);
  w.client.quit();
  // Step the wire by hand: each write of the client holds exactly one command.
  w.server.start();
  w.client.start();
  std::vector<std::string> writes;
  for (int i = 0; i < 50 && !w.client.wants_close(); ++i) {
    run_handler(w.server, w.accept_all);
    w.client.receive(w.server.take_output());
    const std::string out = w.client.take_output();
    if (!out.empty()) writes.push_back(out);
    w.server.receive(out);
  }
  REQUIRE(writes.size() >= 7);
  CHECK(writes[1] == "MAIL FROM:<alice@example.org> SIZE=" + std::to_string(kMessage.size()) + "\r\n");
  CHECK(writes[2] == "RCPT TO:<bob@example.net>\r\n");
  CHECK(writes[3] == "RCPT TO:<carol@example.net>\r\n");
  CHECK(writes[4] == "DATA\r\n");
  CHECK(writes[5].ends_with("\r\n.\r\n"));
  CHECK(writes[6] == "QUIT\r\n");
  CHECK(w.accept_all.messages.size() == 1);
}

TEST_CASE("client reports per-recipient 4xx and 5xx replies") {
  auto pipelining = GENERATE(true, false);
  ClientConfig cc;
  cc.pipelining = pipelining;
  PickyHandler picky;
  Wire w(cc, ServerConfig{}, &picky);
  w.client.send(env("alice@example.org", {"nobody@example.net", "bob@example.net", "later@example.net"}), kMessage);
  w.client.quit();
  w.run();

  const auto results = client_events_of<cev::TransactionResult>(w.client_events);
  REQUIRE(results.size() == 1);
  const auto& r = results[0];
  CHECK(r.accepted);
  REQUIRE(r.recipients.size() == 3);
  CHECK(r.recipients[0].reply.code == 550);
  CHECK(r.recipients[0].reply.enhanced == "5.1.1");
  CHECK_FALSE(r.recipients[0].delivered);
  CHECK(r.recipients[1].delivered);
  CHECK(r.recipients[1].reply.code == 250);
  CHECK(r.recipients[2].reply.code == 450);
  CHECK_FALSE(r.recipients[2].delivered);
  REQUIRE(picky.messages.size() == 1);
  CHECK(picky.messages[0].envelope.recipients == std::vector<std::string>{"bob@example.net"});
}

TEST_CASE("client: every recipient refused means no message, RSET, and the next job still runs") {
  auto pipelining = GENERATE(true, false);
  ClientConfig cc;
  cc.pipelining = pipelining;
  PickyHandler picky;
  Wire w(cc, ServerConfig{}, &picky);
  const JobId first = w.client.send(env("alice@example.org", {"nobody@example.net"}), kMessage);
  const JobId second = w.client.send(env("alice@example.org", {"bob@example.net"}), "second\r\n");
  w.client.quit();
  w.run();

  const auto results = client_events_of<cev::TransactionResult>(w.client_events);
  REQUIRE(results.size() == 2);
  CHECK(results[0].job == first);
  CHECK_FALSE(results[0].accepted);
  CHECK(results[0].recipients[0].reply.code == 550);
  CHECK_FALSE(results[0].final_reply);
  if (pipelining) CHECK(results[0].data_reply->code == 554);  // "no valid recipients"
  else CHECK_FALSE(results[0].data_reply);                      // DATA never sent
  CHECK(results[1].job == second);
  CHECK(results[1].accepted);
  const auto cmds = commands_sent(w.client_events);
  CHECK(std::count(cmds.begin(), cmds.end(), "RSET") == 1);
  REQUIRE(picky.messages.size() == 1);
  CHECK(picky.messages[0].data == "second\r\n");
}

TEST_CASE("client runs several jobs on one connection without RSET") {
  Wire w(ClientConfig{}, ServerConfig{});
  for (int i = 0; i < 3; ++i) w.client.send(env("alice@example.org", {"bob@example.net"}), "n\r\n");
  w.run();
  // No quit() yet: the client goes idle and waits for more work.
  CHECK(w.client.state() == ClientState::kIdle);
  CHECK(client_events_of<cev::Idle>(w.client_events).size() == 1);
  w.client.send(env("alice@example.org", {"carol@example.net"}), "four\r\n");
  w.client.quit();
  w.run();
  CHECK(w.accept_all.messages.size() == 4);
  CHECK(client_events_of<cev::TransactionResult>(w.client_events).size() == 4);
  const auto cmds = commands_sent(w.client_events);
  CHECK(std::count(cmds.begin(), cmds.end(), "RSET") == 0);
  CHECK(std::count(cmds.begin(), cmds.end(), "EHLO localhost") == 1);
}

TEST_CASE("client probes a recipient with MAIL, RCPT, RSET") {
  auto pipelining = GENERATE(true, false);
  ClientConfig cc;
  cc.pipelining = pipelining;
  PickyHandler picky;
  Wire w(cc, ServerConfig{}, &picky);
  const JobId a = w.client.verify_recipient("bob@example.net");
  const JobId b = w.client.verify_recipient("nobody@example.net", "postmaster@example.org");
  w.client.quit();
  w.run();
  const auto probes = client_events_of<cev::ProbeResult>(w.client_events);
  REQUIRE(probes.size() == 2);
  CHECK(probes[0].job == a);
  CHECK(probes[0].reply.code == 250);
  CHECK(probes[1].job == b);
  CHECK(probes[1].address == "nobody@example.net");
  CHECK(probes[1].reply.code == 550);
  CHECK(picky.messages.empty());
  const auto cmds = commands_sent(w.client_events);
  CHECK(cmds == std::vector<std::string>{"EHLO localhost", "MAIL FROM:<>", "RCPT TO:<bob@example.net>", "RSET",
                                         "MAIL FROM:<postmaster@example.org>", "RCPT TO:<nobody@example.net>",
                                         "RSET", "QUIT"});
}

TEST_CASE("client authenticates with PLAIN or LOGIN after STARTTLS") {
  auto mech = GENERATE(AuthMechanism::kPlain, AuthMechanism::kLogin);
  ClientConfig cc{.helo_name = "laptop"};
  cc.starttls = StartTlsPolicy::kRequired;
  cc.auth = Credentials{"alice", "secret", ""};
  cc.mechanism = mech;
  ServerConfig sc;
  sc.tls = TlsPolicy::kRequired;
  sc.tls_available = true;
  sc.auth = AuthPolicy::kRequired;
  PickyHandler picky;
  Wire w(cc, sc, &picky);
  w.client.send(env("alice@example.org", {"bob@example.net"}), kMessage);
  w.client.quit();
  w.run();

  CHECK(client_events_of<cev::TlsStarted>(w.client_events).size() == 1);
  const auto auth = client_events_of<cev::Authenticated>(w.client_events);
  REQUIRE(auth.size() == 1);
  CHECK(auth[0].mechanism == (mech == AuthMechanism::kPlain ? "PLAIN" : "LOGIN"));
  REQUIRE(picky.messages.size() == 1);
  CHECK(picky.messages[0].envelope.with_protocol() == "ESMTPSA");
  CHECK(picky.messages[0].envelope.authenticated_user == "alice");
  const auto cmds = commands_sent(w.client_events);
  // EHLO twice: the second after TLS (RFC 3207 §4.2).
  CHECK(std::count(cmds.begin(), cmds.end(), "EHLO laptop") == 2);
  if (mech == AuthMechanism::kPlain) {
    // The base64 an eavesdropper without TLS would read: "\0alice\0secret".
    CHECK(std::find(cmds.begin(), cmds.end(), "AUTH PLAIN AGFsaWNlAHNlY3JldA==") != cmds.end());
  } else {
    CHECK(std::find(cmds.begin(), cmds.end(), "YWxpY2U=") != cmds.end());
    CHECK(std::find(cmds.begin(), cmds.end(), "c2VjcmV0") != cmds.end());
  }
}

TEST_CASE("client: wrong password fails the connection and reports every job unfinished") {
  ClientConfig cc;
  cc.auth = Credentials{"alice", "wrong", ""};
  ServerConfig sc;
  sc.auth = AuthPolicy::kRequired;
  sc.auth_before_tls = true;
  PickyHandler picky;
  Wire w(cc, sc, &picky);
  const JobId id = w.client.send(env("alice@example.org", {"bob@example.net"}), kMessage);
  w.run();
  const auto af = client_events_of<cev::AuthFailed>(w.client_events);
  REQUIRE(af.size() == 1);
  CHECK(af[0].reply.code == 535);
  const auto failed = client_events_of<cev::Failed>(w.client_events);
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].unfinished == std::vector<JobId>{id});
  CHECK(w.client.state() == ClientState::kClosed);  // after QUIT / 221
  CHECK(picky.messages.empty());
}

TEST_CASE("client: AUTH requested but not offered without TLS") {
  ClientConfig cc;
  cc.starttls = StartTlsPolicy::kNever;
  cc.auth = Credentials{"alice", "secret", ""};
  ServerConfig sc;
  sc.auth = AuthPolicy::kOptional;  // offered only after STARTTLS
  sc.tls = TlsPolicy::kOptional;
  sc.tls_available = true;
  Wire w(cc, sc);
  w.client.send(env("a@example.org", {"b@example.net"}), kMessage);
  w.run();
  const auto failed = client_events_of<cev::Failed>(w.client_events);
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].reason == "the server does not offer AUTH (without TLS)");
  CHECK(w.accept_all.messages.empty());
}

TEST_CASE("client: STARTTLS required but not offered") {
  ClientConfig cc;
  cc.starttls = StartTlsPolicy::kRequired;
  Wire w(cc, ServerConfig{});  // tls off
  const JobId id = w.client.send(env("a@example.org", {"b@example.net"}), kMessage);
  w.run();
  const auto failed = client_events_of<cev::Failed>(w.client_events);
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].reason == "TLS is required but the server does not offer STARTTLS");
  CHECK(failed[0].unfinished == std::vector<JobId>{id});
  CHECK(commands_sent(w.client_events).back() == "QUIT");
  CHECK(w.accept_all.messages.empty());
}

TEST_CASE("client uses STARTTLS opportunistically and not at all when told never") {
  auto policy = GENERATE(StartTlsPolicy::kIfOffered, StartTlsPolicy::kNever);
  ClientConfig cc;
  cc.starttls = policy;
  ServerConfig sc;
  sc.tls = TlsPolicy::kOptional;
  sc.tls_available = true;
  Wire w(cc, sc);
  w.client.send(env("a@example.org", {"b@example.net"}), kMessage);
  w.client.quit();
  w.run();
  REQUIRE(w.accept_all.messages.size() == 1);
  const bool tls = policy == StartTlsPolicy::kIfOffered;
  CHECK(w.accept_all.messages[0].envelope.tls.has_value() == tls);
  CHECK(w.client.tls_active() == tls);
}

TEST_CASE("client: a 5xx or 421 greeting fails the connection") {
  auto code = GENERATE(554, 421);
  ServerConfig sc;
  sc.reject_greeting = make_reply(code, code == 554 ? "5.7.1" : "4.3.2", "go away");
  Wire w(ClientConfig{}, sc);
  const JobId id = w.client.send(env("a@example.org", {"b@example.net"}), kMessage);
  w.run();
  const auto failed = client_events_of<cev::Failed>(w.client_events);
  REQUIRE(failed.size() == 1);
  REQUIRE(failed[0].reply);
  CHECK(failed[0].reply->code == code);
  CHECK(failed[0].unfinished == std::vector<JobId>{id});
  // 554: the client says QUIT politely (RFC 5321 §3.1); 421: the server hung up.
  const auto cmds = commands_sent(w.client_events);
  CHECK(cmds == (code == 554 ? std::vector<std::string>{"QUIT"} : std::vector<std::string>{}));
  CHECK(w.client.state() == ClientState::kClosed);
}

TEST_CASE("client: the message is too big for the server's SIZE") {
  ServerConfig sc;
  sc.max_message_size = 10;
  Wire w(ClientConfig{}, sc);
  w.client.send(env("a@example.org", {"b@example.net"}), kMessage);
  w.client.quit();
  w.run();
  const auto results = client_events_of<cev::TransactionResult>(w.client_events);
  REQUIRE(results.size() == 1);
  CHECK_FALSE(results[0].accepted);
  CHECK(results[0].mail_reply.code == 552);
  CHECK(results[0].recipients[0].reply.code == 552);  // the reason reaches each recipient's bounce
  CHECK(w.accept_all.messages.empty());
}

TEST_CASE("client sends BODY=8BITMIME for 8-bit messages and canonicalizes line ends") {
  Wire w(ClientConfig{}, ServerConfig{});
  w.client.send(env("a@example.org", {"b@example.net"}), "Subject: caf\xC3\xA9\n\nbare LF\nline\n.\n");
  w.client.quit();
  w.run();
  REQUIRE(w.accept_all.messages.size() == 1);
  CHECK(w.accept_all.messages[0].envelope.body == BodyType::k8BitMime);
  CHECK(w.accept_all.messages[0].data == "Subject: caf\xC3\xA9\r\n\r\nbare LF\r\nline\r\n.\r\n");
}

// ---- scripted servers: replies our server never gives --------------------------

namespace {
struct Scripted {
  ClientSession client;
  std::vector<ClientEvent> events;
  explicit Scripted(ClientConfig cc = {}) : client(std::move(cc)) {}
  // Feeds `server` bytes (chunked as given) and returns what the client sent.
  std::string feed(const std::vector<std::string>& chunks) {
    for (const auto& c : chunks) client.receive(c);
    while (auto e = client.next_event()) events.push_back(*e);
    return client.take_output();
  }
};
}  // namespace

TEST_CASE("client falls back to HELO when EHLO is refused") {
  Scripted s;
  s.client.send(env("a@example.org", {"b@example.net"}), "x\r\n");
  s.client.start();
  CHECK(s.feed({"220 old.example SMTP\r\n"}) == "EHLO localhost\r\n");
  CHECK(s.feed({"500 5.5.1 Command unrecognized\r\n"}) == "HELO localhost\r\n");
  // No PIPELINING without EHLO: lock-step, and no SIZE= parameter.
  CHECK(s.feed({"250 old.example\r\n"}) == "MAIL FROM:<a@example.org>\r\n");
  CHECK_FALSE(s.client.capabilities().esmtp);
}

TEST_CASE("client parses multi-line EHLO replies in any chunking") {
  const std::string ehlo =
      "250-mx.example.net greets you\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250-AUTH=LOGIN PLAIN\r\n"
      "250-8BITMIME\r\n250 STARTTLS\r\n";
  auto chunks = GENERATE_COPY(from_range(mailsim::smtp::test::chunkings(ehlo)));
  ClientConfig cc;
  cc.starttls = StartTlsPolicy::kNever;
  Scripted s(cc);
  s.client.start();
  s.feed({"220 hi\r\n"});
  s.client.send(env("a@example.org", {"b@example.net"}), "x\r\n");  // queued while in EHLO
  const std::string out = s.feed(chunks);
  const auto& caps = s.client.capabilities();
  CHECK(caps.pipelining);
  CHECK(caps.size == 1000u);
  CHECK(caps.eightbitmime);
  CHECK(caps.starttls);
  CHECK(caps.auth == std::vector<std::string>{"LOGIN", "PLAIN"});
  CHECK(out == "MAIL FROM:<a@example.org> SIZE=3\r\nRCPT TO:<b@example.net>\r\nDATA\r\n");
}

TEST_CASE("client: 421 in the middle of a transaction fails with the job unfinished") {
  ClientConfig cc;
  Scripted s(cc);
  const JobId id = s.client.send(env("a@example.org", {"b@example.net"}), "x\r\n");
  s.client.start();
  s.feed({"220 hi\r\n"});
  s.feed({"250 hi\r\n"});  // no PIPELINING: lock-step
  CHECK(s.feed({"250 2.1.0 Ok\r\n"}) == "RCPT TO:<b@example.net>\r\n");
  s.feed({"421 4.4.2 mx.example.net Error: timeout exceeded\r\n"});
  CHECK(s.client.wants_close());
  const auto failed = client_events_of<cev::Failed>(s.events);
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].unfinished == std::vector<JobId>{id});
  CHECK(failed[0].reply->enhanced == "4.4.2");
}

TEST_CASE("client: the server closing mid-transaction or a garbage reply fails the connection") {
  Scripted s;
  const JobId id = s.client.send(env("a@example.org", {"b@example.net"}), "x\r\n");
  s.client.start();
  s.feed({"220 hi\r\n"});
  SECTION("peer closes") {
    s.client.peer_closed();
  }
  SECTION("garbage") {
    s.feed({"HTTP/1.1 400 Bad Request\r\n"});
  }
  while (auto e = s.client.next_event()) s.events.push_back(*e);
  const auto failed = client_events_of<cev::Failed>(s.events);
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].unfinished == std::vector<JobId>{id});
  CHECK(s.client.wants_close());
  CHECK(client_events_of<cev::Closed>(s.events).size() == 1);
}

TEST_CASE("client: 354 although no recipient was accepted gets an empty message") {
  // RFC 2920 §3.1: a broken pipelining server says 354 after refusing all
  // recipients; the client must end the data phase and not send the message.
  Scripted s;
  s.client.send(env("a@example.org", {"b@example.net"}), "secret content\r\n");
  s.client.start();
  s.feed({"220 hi\r\n"});
  s.feed({"250-hi\r\n250 PIPELINING\r\n"});
  const std::string out = s.feed({"250 Ok\r\n550 no\r\n354 go ahead\r\n"});
  CHECK(out == ".\r\n");
  const std::string after = s.feed({"250 Ok\r\n"});
  const auto results = client_events_of<cev::TransactionResult>(s.events);
  REQUIRE(results.size() == 1);
  CHECK_FALSE(results[0].accepted);
  CHECK(results[0].recipients[0].reply.code == 550);
  CHECK(after.empty());  // idle now, no RSET needed: the server closed the transaction
}

TEST_CASE("client ignores replies injected after 220 to STARTTLS") {
  ClientConfig cc;
  cc.starttls = StartTlsPolicy::kRequired;
  Scripted s(cc);
  s.client.start();
  s.feed({"220 hi\r\n"});
  CHECK(s.feed({"250-hi\r\n250 STARTTLS\r\n"}) == "STARTTLS\r\n");
  // A man in the middle appends a fake EHLO reply after the 220.
  s.feed({"220 2.0.0 Ready\r\n250-evil\r\n250 AUTH PLAIN\r\n"});
  CHECK(s.client.tls_requested());
  s.client.tls_established(mailsim::smtp::test::fake_tls());
  CHECK(s.client.take_output() == "EHLO localhost\r\n");
  CHECK(s.client.capabilities().auth.empty());
}

TEST_CASE("client with implicit TLS does not STARTTLS") {
  ClientConfig cc;
  cc.implicit_tls = true;
  cc.starttls = StartTlsPolicy::kRequired;
  ServerConfig sc;
  sc.implicit_tls = true;
  sc.implicit_tls_info = mailsim::smtp::test::fake_tls();
  Wire w(cc, sc);
  w.client.send(env("a@example.org", {"b@example.net"}), "x\r\n");
  w.client.quit();
  w.run();
  REQUIRE(w.accept_all.messages.size() == 1);
  CHECK(w.accept_all.messages[0].envelope.with_protocol() == "ESMTPS");
  const auto cmds = commands_sent(w.client_events);
  CHECK(std::find(cmds.begin(), cmds.end(), "STARTTLS") == cmds.end());
}

TEST_CASE("client: a job queued after the connection failed is reported at once") {
  ServerConfig sc;
  sc.reject_greeting = make_reply(421, "4.3.2", "closing");
  Wire w(ClientConfig{}, sc);
  w.run();
  REQUIRE(w.client.wants_close());
  const JobId late = w.client.send(env("a@example.org", {"b@example.net"}), "x\r\n");
  w.run();
  const auto failed = client_events_of<cev::Failed>(w.client_events);
  REQUIRE(failed.size() == 2);
  CHECK(failed[1].unfinished == std::vector<JobId>{late});
}

// Found by tests/fuzz/fuzz_smtp_client: a job queued after QUIT went out
// but before the 221 arrived was kept in the queue and never answered, so
// an MTA would wait forever for the outcome of that message.
TEST_CASE("client: a job queued while QUIT is in flight is reported at once") {
  ClientSession c(ClientConfig{.helo_name = "client.example.org"});
  c.start();
  c.receive("220 mx.example.net ESMTP\r\n");
  c.receive("250 mx.example.net\r\n");
  c.quit();
  CHECK(c.state() == ClientState::kQuit);
  CHECK(c.take_output().ends_with("QUIT\r\n"));
  const JobId late = c.send(env("a@example.org", {"b@example.net"}), "x\r\n");
  c.receive("221 2.0.0 Bye\r\n");
  CHECK(c.wants_close());
  CHECK(c.take_output().empty());  // nothing more was written after QUIT

  std::vector<ClientEvent> all;
  while (auto e = c.next_event()) all.push_back(std::move(*e));
  const auto failed = client_events_of<cev::Failed>(all);
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].unfinished == std::vector<JobId>{late});
  CHECK(client_events_of<cev::TransactionResult>(all).empty());
}

TEST_CASE("client: EHLO keywords are read case-insensitively, with their arguments") {
  // RFC 5321 §2.4: keywords are case-insensitive; mechanisms are kept upper-cased.
  const Reply r = make_reply(250, "", "mx.example.net\npipelining\nsize   2048  \nauth plain login\nEnhancedStatusCodes\nXFOO bar");
  const ServerCapabilities c = ServerCapabilities::from_ehlo(r);
  CHECK(c.esmtp);
  CHECK(c.pipelining);
  CHECK(c.size == 2048u);
  CHECK(c.auth == std::vector<std::string>{"PLAIN", "LOGIN"});
  CHECK(c.enhanced_status_codes);
  CHECK_FALSE(c.starttls);
  CHECK_FALSE(c.eightbitmime);
  CHECK(c.keywords == ReplyLines{"pipelining", "size   2048  ", "auth plain login", "EnhancedStatusCodes", "XFOO bar"});
  // A SIZE that is not a number means no fixed limit is known.
  CHECK(ServerCapabilities::from_ehlo(make_reply(250, "", "mx\nSIZE lots")).size == 0u);
}
