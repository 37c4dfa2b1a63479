// ServerSession: each command and reply code, the host decision API, limits,
// and the attacks (smuggling, STARTTLS injection) fed in every chunking.
#include "real/smtp/server.h"
#include "tests/unit/smtp/smtp_test_util.h"

#include <catch2/catch.hpp>

using namespace mailsim::smtp;
using mailsim::smtp::test::chunkings;
using mailsim::smtp::test::ServerHarness;
namespace sev = mailsim::smtp::server_events;

namespace {

ServerConfig cfg() {
  ServerConfig c;
  c.hostname = "mx.example.net";
  return c;
}

// Codes of the replies in `wire` (one per final line).
std::vector<int> codes(std::string_view wire) {
  ReplyParser p;
  p.feed(wire);
  std::vector<int> out;
  while (auto r = p.next()) out.push_back(r->code);
  return out;
}

std::string first_reply_line(std::string_view wire) { return std::string(wire.substr(0, wire.find("\r\n"))); }

template <class T>
std::vector<T> events_of(const std::vector<ServerEvent>& all) {
  std::vector<T> out;
  for (const auto& e : all)
    if (auto* x = std::get_if<T>(&e)) out.push_back(*x);
  return out;
}

const std::string kTransaction =
    "EHLO c.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n";

}  // namespace

TEST_CASE("server greets with 220 and its hostname") {
  ServerHarness h(cfg());
  CHECK(h.greeting == "220 mx.example.net ESMTP mailsim\r\n");
  CHECK(h.session.state() == ServerState::kGreeted);
  const auto sc = events_of<sev::StateChanged>(h.events);
  REQUIRE(sc.size() == 1);
  CHECK(sc[0].from == ServerState::kConnected);
  CHECK(sc[0].to == ServerState::kGreeted);
}

TEST_CASE("EHLO lists the extensions; HELO does not") {
  ServerHarness h(cfg());
  CHECK(h.send("EHLO c.example\r\n") ==
        "250-mx.example.net\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-ENHANCEDSTATUSCODES\r\n"
        "250-8BITMIME\r\n250 HELP\r\n");
  CHECK(h.session.envelope().esmtp);
  CHECK(h.send("HELO c.example\r\n") == "250 mx.example.net\r\n");
  CHECK_FALSE(h.session.envelope().esmtp);
  CHECK(h.session.envelope().helo_name == "c.example");
  CHECK(first_reply_line(h.send("EHLO\r\n")) == "501 5.5.4 Syntax: EHLO hostname");
  CHECK(first_reply_line(h.send("HELO a b\r\n")) == "501 5.5.4 Syntax: HELO hostname");
}

TEST_CASE("verbs are case-insensitive") {
  ServerHarness h(cfg());
  CHECK(codes(h.send("ehlo c\r\nmail from:<a@b.example>\r\nRcPt To:<c@d.example>\r\nnoop\r\n")) ==
        std::vector<int>{250, 250, 250, 250});
}

TEST_CASE("a whole transaction: MAIL, RCPT, DATA, dot-unstuffing, 250 queued") {
  ServerHarness h(cfg());
  const std::string out = h.send(kTransaction + "Subject: x\r\n\r\n..dot\r\n.\r\nQUIT\r\n");
  CHECK(codes(out) == std::vector<int>{250, 250, 250, 354, 250, 221});
  REQUIRE(h.accept_all.messages.size() == 1);
  const auto& m = h.accept_all.messages[0];
  CHECK(m.data == "Subject: x\r\n\r\n.dot\r\n");
  CHECK(m.envelope.reverse_path == "a@example.org");
  CHECK(m.envelope.recipients == std::vector<std::string>{"b@example.net"});
  CHECK(m.envelope.with_protocol() == "ESMTP");
  CHECK(h.session.wants_close());
  CHECK(h.session.close_reason() == "QUIT");
  // The trace: every command line, every reply, closing last.
  CHECK(events_of<sev::CommandReceived>(h.events).front().line == "EHLO c.example");
  CHECK(events_of<sev::ReplySent>(h.events).size() == 7);  // with the greeting
  CHECK(std::holds_alternative<sev::SessionClosed>(h.events.back()));
}

TEST_CASE("the envelope carries the host-set peer identity") {
  ServerSession s(cfg(), PeerIdentity{"192.0.2.7", "client.example.org"});
  s.start();
  s.receive(kTransaction + "x\r\n.\r\n");
  std::optional<sev::MessageReceived> got;
  while (auto e = s.next_event()) {
    if (std::holds_alternative<sev::MailFrom>(*e)) s.accept_mail(replies::mail_ok());
    if (std::holds_alternative<sev::RcptTo>(*e)) s.accept_rcpt(replies::rcpt_ok());
    if (auto* m = std::get_if<sev::MessageReceived>(&*e)) got = *m;
  }
  REQUIRE(got);
  CHECK(got->envelope.peer.address == "192.0.2.7");
  CHECK(got->envelope.peer.hostname == "client.example.org");
  CHECK(got->envelope.helo_name == "c.example");
}

TEST_CASE("decisions may come later: the session waits and buffers pipelined input") {
  ServerSession s(cfg());
  s.start();
  s.take_output();
  s.receive(kTransaction);
  // Only MAIL is pending; RCPT and DATA wait unread.
  std::vector<ServerEvent> ev;
  while (auto e = s.next_event()) ev.push_back(*e);
  CHECK(events_of<sev::MailFrom>(ev).size() == 1);
  CHECK(events_of<sev::RcptTo>(ev).empty());
  CHECK(s.pending_decision() == Decision::kMail);
  CHECK(s.awaiting_decision());
  CHECK(codes(s.take_output()) == std::vector<int>{250});  // EHLO only
  // Answering a different decision is a host bug.
  CHECK_THROWS_AS(s.accept_rcpt(replies::rcpt_ok()), std::logic_error);
  s.accept_mail(replies::mail_ok());
  CHECK(s.pending_decision() == Decision::kRcpt);
  s.accept_rcpt(make_reply(550, "5.1.1", "User unknown"));
  CHECK(s.take_output() == "250 2.1.0 Ok\r\n550 5.1.1 User unknown\r\n554 5.5.1 Error: no valid recipients\r\n");
  CHECK_FALSE(s.awaiting_decision());
}

TEST_CASE("the message decision: 250 queued, or 451/554 from the host") {
  auto reply = GENERATE(make_reply(250, "2.0.0", "Ok: queued as ABC"), make_reply(451, "4.3.0", "Try later"),
                        make_reply(554, "5.7.1", "Spam"));
  ServerSession s(cfg());
  s.start();
  s.receive(kTransaction + "hello\r\n.\r\n");
  bool asked = false;
  while (auto e = s.next_event()) {
    if (std::holds_alternative<sev::MailFrom>(*e)) s.accept_mail(replies::mail_ok());
    if (std::holds_alternative<sev::RcptTo>(*e)) s.accept_rcpt(replies::rcpt_ok());
    if (auto* m = std::get_if<sev::MessageReceived>(&*e)) {
      CHECK(m->data == "hello\r\n");
      CHECK(s.pending_decision() == Decision::kMessage);
      asked = true;
    }
  }
  REQUIRE(asked);
  s.message_result(reply);
  CHECK(s.take_output().ends_with(reply.to_wire()));
  CHECK(s.state() == ServerState::kReady);
  CHECK(s.envelope().recipients.empty());
}

TEST_CASE("a decision answered after the client left does nothing") {
  ServerSession s(cfg());
  s.start();
  s.receive("EHLO c\r\nMAIL FROM:<a@b.example>\r\n");
  while (s.next_event()) {
  }
  s.peer_closed();
  CHECK(s.wants_close());
  s.take_output();
  CHECK_NOTHROW(s.accept_mail(replies::mail_ok()));
  CHECK(s.take_output().empty());
}

TEST_CASE("pipelined group answered synchronously comes out in one take_output") {
  ServerHarness h(cfg());
  h.send("EHLO c\r\n");
  const std::string out = h.send(
      "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nRCPT TO:<c@example.net>\r\nDATA\r\n");
  CHECK(out == "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n");
}

TEST_CASE("too much pipelined input while a decision is pending: 421") {
  ServerConfig c = cfg();
  c.max_pending_input = 1000;
  ServerSession s(c);
  s.start();
  s.receive("EHLO c\r\nMAIL FROM:<a@b.example>\r\n");
  s.receive(std::string(600, 'x'));
  CHECK_FALSE(s.wants_close());
  s.receive(std::string(600, 'x'));
  CHECK(s.wants_close());
  CHECK(s.take_output().ends_with("421 4.7.0 mx.example.net Error: too much pipelined input\r\n"));
}

TEST_CASE("RCPT limit: 452 4.5.3 and the session goes on") {
  ServerConfig c = cfg();
  c.max_recipients = 1;
  ServerHarness h(c);
  const std::string out = h.send("EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<x@y.example>\r\nRCPT TO:<z@y.example>\r\n");
  CHECK(out.ends_with("250 2.1.5 Ok\r\n452 4.5.3 Error: too many recipients\r\n"));
  CHECK_FALSE(h.session.wants_close());
}

TEST_CASE("MAIL parameters: SIZE, BODY, AUTH and unknown ones") {
  ServerConfig c = cfg();
  c.max_message_size = 1000;
  ServerHarness h(c);
  h.send("EHLO c\r\n");
  CHECK(first_reply_line(h.send("MAIL FROM:<a@b.example> SIZE=1001\r\n")) ==
        "552 5.3.4 Message size exceeds fixed limit");
  CHECK(first_reply_line(h.send("MAIL FROM:<a@b.example> SIZE=\r\n")) == "501 5.5.4 Bad parameter syntax: malformed value for SIZE");
  CHECK(first_reply_line(h.send("MAIL FROM:<a@b.example> SIZE=-1\r\n")) == "501 5.5.4 Bad SIZE parameter syntax");
  CHECK(first_reply_line(h.send("MAIL FROM:<a@b.example> FOO=bar\r\n")) == "555 5.5.4 Unsupported option: FOO");
  CHECK(first_reply_line(h.send("MAIL FROM:<a@b.example> AUTH=+ZZ\r\n")) == "501 5.5.4 Bad AUTH parameter syntax");
  CHECK(first_reply_line(h.send("MAIL FROM:<a@b.example> size=1000 body=7bit AUTH=<>\r\n")) == "250 2.1.0 Ok");
  const auto mf = events_of<sev::MailFrom>(h.events);
  REQUIRE(mf.size() == 1);
  CHECK(mf[0].size == 1000u);
  CHECK(mf[0].body == BodyType::k7Bit);
  CHECK(mf[0].auth == "<>");
  CHECK(first_reply_line(h.send("RCPT TO:<x@y.example> NOTIFY=NEVER\r\n")) == "555 5.5.4 Unsupported option: NOTIFY");
}

TEST_CASE("message over SIZE: 552 after the data, then the session continues") {
  ServerConfig c = cfg();
  c.max_message_size = 10;
  ServerHarness h(c);
  const std::string out = h.send(kTransaction + "0123456789\r\n.\r\nNOOP\r\n");
  CHECK(out.ends_with("552 5.3.4 Error: message file too big\r\n250 2.0.0 Ok\r\n"));
  CHECK(h.accept_all.messages.empty());
  // Exactly the limit is fine (10 octets with CRLF).
  CHECK(codes(h.send("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n01234567\r\n.\r\n")) ==
        std::vector<int>{250, 250, 354, 250});
}

TEST_CASE("command line limit: 512 octets with CRLF") {
  ServerHarness h(cfg());
  CHECK(h.send("NOOP " + std::string(505, 'a') + "\r\n") == "250 2.0.0 Ok\r\n");
  CHECK(h.send("NOOP " + std::string(506, 'a') + "\r\n") == "500 5.5.2 Error: line too long\r\n");
  // An endless line is answered once and never buffered.
  CHECK(h.send(std::string(5000, 'a')) == "500 5.5.2 Error: line too long\r\n");
  CHECK(h.send(std::string(100000, 'a')).empty());
  CHECK(h.send("b\r\nNOOP\r\n") == "250 2.0.0 Ok\r\n");
  CHECK(events_of<sev::InputDiscarded>(h.events).size() == 1);
}

TEST_CASE("AUTH lines may be longer (RFC 4954: 12288)") {
  ServerConfig c = cfg();
  c.auth = AuthPolicy::kOptional;
  c.auth_before_tls = true;
  ServerHarness h(c);
  h.send("EHLO c\r\n");
  // 1000 octets of (valid) base64 after AUTH PLAIN: not a line-length error.
  const std::string out = h.send("AUTH PLAIN " + std::string(1000, 'A') + "\r\n");
  CHECK(first_reply_line(out) == "501 5.5.2 Malformed PLAIN response (authzid NUL user NUL password)");
}

TEST_CASE("bad command limit: 421 4.7.0 after max_errors, then only closed") {
  ServerConfig c = cfg();
  c.max_errors = 3;
  ServerHarness h(c);
  const std::string out = h.send("FOO\r\nBAR\r\nBAZ\r\nNOOP\r\n");
  CHECK(out ==
        "500 5.5.2 Error: command not recognized\r\n500 5.5.2 Error: command not recognized\r\n"
        "500 5.5.2 Error: command not recognized\r\n421 4.7.0 mx.example.net Error: too many errors\r\n");
  CHECK(h.session.wants_close());
  CHECK(h.send("NOOP\r\n").empty());  // sticky
}

TEST_CASE("unimplemented and unknown commands: 502 and 500") {
  ServerHarness h(cfg());
  for (std::string verb : {"EXPN x", "ETRN x", "TURN", "BDAT 10 LAST", "SAML FROM:<a@b>"})
    CHECK(first_reply_line(h.send(verb + "\r\n")) == "502 5.5.1 Error: command not implemented");
  CHECK(first_reply_line(h.send("HELLO\r\n")) == "500 5.5.2 Error: command not recognized");
}

TEST_CASE("VRFY, HELP, NOOP, RSET, QUIT") {
  ServerHarness h(cfg());
  CHECK(h.send("VRFY bob\r\n") == "252 2.5.2 Cannot VRFY user, but will accept message and attempt delivery\r\n");
  CHECK(h.send("HELP\r\n").starts_with("214-2.0.0 "));
  CHECK(h.send("NOOP\r\n") == "250 2.0.0 Ok\r\n");
  CHECK(h.send("RSET\r\n") == "250 2.0.0 Ok\r\n");
  CHECK(h.session.state() == ServerState::kGreeted);  // RSET does not replace EHLO
  CHECK(h.send("QUIT\r\nNOOP\r\n") == "221 2.0.0 Bye\r\n");
  CHECK(h.session.wants_close());
}

TEST_CASE("bad sequence: 503 5.5.1") {
  ServerHarness h(cfg());
  CHECK(h.send("MAIL FROM:<a@b.example>\r\n") == "503 5.5.1 Error: send HELO/EHLO first\r\n");
  CHECK(h.send("STARTTLS\r\n") == "503 5.5.1 Error: send EHLO first\r\n");
  h.send("EHLO c\r\n");
  CHECK(h.send("RCPT TO:<a@b.example>\r\n") == "503 5.5.1 Error: need MAIL command\r\n");
  CHECK(h.send("DATA\r\n") == "503 5.5.1 Error: need MAIL command\r\n");
  h.send("MAIL FROM:<a@b.example>\r\n");
  CHECK(h.send("DATA\r\n") == "503 5.5.1 Error: need RCPT command\r\n");
  CHECK(h.send("MAIL FROM:<a@b.example>\r\n") == "503 5.5.1 Error: nested MAIL command\r\n");
  CHECK(h.send("AUTH PLAIN\r\n") == "503 5.5.1 Error: MAIL transaction in progress\r\n");
}

// ---- STARTTLS -------------------------------------------------------------------

TEST_CASE("STARTTLS: 220, the reset, and the error cases") {
  ServerConfig c = cfg();
  c.tls = TlsPolicy::kOptional;
  c.tls_available = true;
  ServerHarness h(c);
  h.send("EHLO c\r\n");
  CHECK(h.send("STARTTLS now\r\n") == "501 5.5.4 Syntax: STARTTLS\r\n");
  CHECK(h.send("MAIL FROM:<a@b.example>\r\nSTARTTLS\r\n").ends_with("503 5.5.1 Error: MAIL transaction in progress\r\n"));
  h.send("RSET\r\n");
  CHECK_FALSE(h.session.tls_requested());
  CHECK(h.send("STARTTLS\r\n") == "220 2.0.0 Ready to start TLS\r\n");
  CHECK(h.session.tls_requested());
  CHECK(h.session.state() == ServerState::kTlsHandshake);
  h.session.tls_established(mailsim::smtp::test::fake_tls());
  CHECK_FALSE(h.session.tls_requested());
  CHECK(h.session.tls_active());
  CHECK(h.session.state() == ServerState::kGreeted);
  CHECK(h.session.envelope().helo_name.empty());
  CHECK(events_of<sev::TlsStarted>(h.events).empty());  // not drained yet
  CHECK(h.send("STARTTLS\r\n") == "503 5.5.1 Error: send EHLO first\r\n");
  h.send("EHLO c\r\n");
  CHECK(h.send("STARTTLS\r\n") == "503 5.5.1 Error: TLS already active\r\n");
  CHECK(events_of<sev::TlsStarted>(h.events).size() == 1);
}

TEST_CASE("STARTTLS when TLS is off (502) or not available (454)") {
  ServerConfig c = cfg();
  ServerHarness off(c);
  off.send("EHLO c\r\n");
  CHECK(off.send("STARTTLS\r\n") == "502 5.5.1 Error: command not implemented\r\n");
  c.tls = TlsPolicy::kOptional;
  c.tls_available = false;
  ServerHarness unavailable(c);
  CHECK(unavailable.send("EHLO c\r\n").find("STARTTLS") == std::string::npos);
  CHECK(unavailable.send("STARTTLS\r\n") == "454 4.7.0 TLS not available due to temporary reason\r\n");
}

TEST_CASE("STARTTLS injection is discarded in any chunking (CVE-2011-0411)") {
  ServerConfig c = cfg();
  c.tls = TlsPolicy::kOptional;
  c.tls_available = true;
  const std::string attack = "STARTTLS\r\nMAIL FROM:<evil@example.org>\r\nRCPT TO:<x@y.example>\r\n";
  auto chunks = GENERATE_COPY(from_range(chunkings(attack)));
  ServerHarness h(c);
  h.send("EHLO c\r\n");
  std::string out;
  for (const auto& ch : chunks) out += h.send(ch);
  CHECK(out == "220 2.0.0 Ready to start TLS\r\n");
  h.session.tls_established(mailsim::smtp::test::fake_tls());
  CHECK(h.send("EHLO c\r\nRCPT TO:<x@y.example>\r\n").ends_with("503 5.5.1 Error: need MAIL command\r\n"));
  CHECK(events_of<sev::MailFrom>(h.events).empty());
  std::size_t discarded = 0;
  for (const auto& d : events_of<sev::InputDiscarded>(h.events)) discarded += d.octets;
  CHECK(discarded == attack.size() - 10);
}

TEST_CASE("TLS handshake failure closes the session") {
  ServerConfig c = cfg();
  c.tls = TlsPolicy::kRequired;
  c.tls_available = true;
  ServerHarness h(c);
  h.send("EHLO c\r\nSTARTTLS\r\n");
  h.session.tls_failed("certificate unknown");
  CHECK(h.session.wants_close());
  CHECK_FALSE(h.session.tls_requested());
  CHECK(h.session.close_reason() == "TLS handshake failed: certificate unknown");
}

TEST_CASE("TLS required: 530 before STARTTLS; implicit TLS counts as TLS") {
  ServerConfig c = cfg();
  c.tls = TlsPolicy::kRequired;
  c.tls_available = true;
  ServerHarness plain(c);
  plain.send("EHLO c\r\n");
  CHECK(plain.send("MAIL FROM:<a@b.example>\r\n") == "530 5.7.0 Must issue a STARTTLS command first\r\n");
  c.implicit_tls = true;
  c.implicit_tls_info = mailsim::smtp::test::fake_tls();
  ServerHarness implicit(c);
  CHECK(implicit.session.tls_active());
  CHECK(implicit.send("EHLO c\r\n").find("STARTTLS") == std::string::npos);
  CHECK(implicit.send("MAIL FROM:<a@b.example>\r\n") == "250 2.1.0 Ok\r\n");
  CHECK(implicit.session.envelope().tls->version == "TLSv1.3");
}

// ---- AUTH -------------------------------------------------------------------------

TEST_CASE("AUTH: not enabled, needs TLS, required before MAIL") {
  ServerHarness off(cfg());
  off.send("EHLO c\r\n");
  CHECK(off.send("AUTH PLAIN AGEAYg==\r\n") == "503 5.5.1 Error: authentication not enabled\r\n");

  ServerConfig c = cfg();
  c.auth = AuthPolicy::kRequired;
  ServerHarness h(c);
  CHECK(h.send("EHLO c\r\n").find("AUTH") == std::string::npos);  // not before TLS
  CHECK(h.send("AUTH PLAIN AGEAYg==\r\n") ==
        "538 5.7.11 Encryption required for requested authentication mechanism\r\n");
  CHECK(h.send("MAIL FROM:<a@b.example>\r\n") == "530 5.7.0 Authentication required\r\n");
}

TEST_CASE("AUTH PLAIN and LOGIN, with and without initial response, in any chunking") {
  struct Case {
    std::string input;
    std::string mechanism;
    std::string authzid;
  };
  auto c = GENERATE(Case{"AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n", "PLAIN", ""},
                    Case{"AUTH PLAIN\r\nAGFsaWNlAHNlY3JldA==\r\n", "PLAIN", ""},
                    Case{"AUTH plain Ym9zcwBhbGljZQBzZWNyZXQ=\r\n", "PLAIN", "boss"},
                    Case{"AUTH LOGIN\r\nYWxpY2U=\r\nc2VjcmV0\r\n", "LOGIN", ""},
                    Case{"AUTH LOGIN YWxpY2U=\r\nc2VjcmV0\r\n", "LOGIN", ""});
  auto chunks = GENERATE_COPY(from_range(chunkings(c.input)));
  ServerConfig sc = cfg();
  sc.auth = AuthPolicy::kRequired;
  sc.auth_before_tls = true;
  ServerHarness h(sc);
  h.send("EHLO c\r\n");
  std::string out;
  for (const auto& ch : chunks) out += h.send(ch);
  CHECK(out.ends_with("235 2.7.0 Authentication successful\r\n"));
  const auto req = events_of<sev::AuthRequest>(h.events);
  REQUIRE(req.size() == 1);
  CHECK(req[0].mechanism == c.mechanism);
  CHECK(req[0].username == "alice");
  CHECK(req[0].password == "secret");
  CHECK(req[0].authzid == c.authzid);
  CHECK(h.session.authenticated_user() == "alice");
  CHECK(h.send("MAIL FROM:<alice@example.org> AUTH=alice@example.org\r\n") == "250 2.1.0 Ok\r\n");
  CHECK(h.session.envelope().auth_param == "alice@example.org");
}

TEST_CASE("AUTH errors: 535, 501 cancel, 501 bad base64, 504, 501 syntax") {
  ServerConfig sc = cfg();
  sc.auth = AuthPolicy::kOptional;
  sc.auth_before_tls = true;
  struct Deny : ServerHandler {} deny;  // the default on_auth says no
  ServerHarness h(sc, &deny);
  h.send("EHLO c\r\n");
  CHECK(h.send("AUTH PLAIN AGFsaWNlAHdyb25n\r\n") == "535 5.7.8 Authentication credentials invalid\r\n");
  CHECK(h.send("AUTH LOGIN\r\n*\r\n") == "334 VXNlcm5hbWU6\r\n501 5.7.0 Authentication aborted\r\n");
  CHECK(h.send("AUTH PLAIN ###\r\n") == "501 5.5.2 Cannot decode response\r\n");
  CHECK(h.send("AUTH PLAIN\r\n@@@\r\n") == "334 \r\n501 5.5.2 Cannot decode response\r\n");
  CHECK(h.send("AUTH PLAIN =\r\n") == "501 5.5.2 Malformed PLAIN response (authzid NUL user NUL password)\r\n");
  CHECK(h.send("AUTH LOGIN =\r\n") == "334 UGFzc3dvcmQ6\r\n");  // "=": empty user name
  CHECK(h.send("*\r\n") == "501 5.7.0 Authentication aborted\r\n");
  CHECK(h.send("AUTH GSSAPI\r\n") == "504 5.5.4 Unrecognized authentication type\r\n");
  CHECK(h.send("AUTH\r\n") == "501 5.5.4 Syntax: AUTH mechanism [initial-response]\r\n");
  CHECK(h.send("AUTH PLAIN a b\r\n") == "501 5.5.4 Syntax: AUTH mechanism [initial-response]\r\n");
  CHECK(h.session.state() == ServerState::kReady);
  CHECK(h.session.authenticated_user().empty());
}

// ---- DATA: line endings, smuggling, limits ------------------------------------------

TEST_CASE("SMTP smuggling never runs the hidden commands, in any chunking") {
  auto ending = GENERATE(as<std::string>{}, "\n.\n", "\r.\n", "\n.\r\n", "\r.\r\n", "\r\n.\n", "\n.\r");
  const std::string attack = "Subject: x\r\n\r\nbody" + ending +
                             "MAIL FROM:<ceo@example.net>\r\nRCPT TO:<b@example.net>\r\nDATA\r\nforged\r\n.\r\n";
  auto chunks = GENERATE_COPY(from_range(chunkings(attack)));
  ServerHarness h(cfg());
  h.send(kTransaction);
  std::string out;
  for (const auto& ch : chunks) out += h.send(ch);
  INFO("ending " << mailsim::smtp::test::escape(ending));
  CHECK(out.starts_with("521 5.5.2 mx.example.net Error: bare <"));
  CHECK(codes(out) == std::vector<int>{521});
  CHECK(h.session.wants_close());
  CHECK(h.accept_all.messages.empty());
  CHECK(events_of<sev::MailFrom>(h.events).size() == 1);  // only the real one
}

TEST_CASE("bare LF in a command line: 521 and close") {
  ServerHarness h(cfg());
  CHECK(h.send("NOOP\nNOOP\r\n") == "521 5.5.2 mx.example.net Error: bare <LF> received\r\n");
  CHECK(h.session.wants_close());
}

TEST_CASE("DATA line over 1000 octets: 552 after the end of data") {
  ServerHarness h(cfg());
  h.send(kTransaction);
  CHECK(h.send(std::string(998, 'a') + "\r\n.\r\n") == "250 2.0.0 Ok: queued as 1\r\n");
  h.send("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n");
  CHECK(h.send(std::string(999, 'a') + "\r\n.\r\n") ==
        "552 5.3.4 Error: message line too long (over 1000 octets)\r\n");
  CHECK(h.accept_all.messages.size() == 1);
  CHECK(h.session.state() == ServerState::kReady);
}

TEST_CASE("the message data arrives exactly, in any chunking") {
  const std::string body = "A: b\r\n\r\n..x\r\n.\r\n";
  const std::string input = kTransaction + body;
  auto chunks = GENERATE_COPY(from_range(chunkings(input)));
  ServerHarness h(cfg());
  std::string out;
  for (const auto& ch : chunks) out += h.send(ch);
  CHECK(codes(out) == std::vector<int>{250, 250, 250, 354, 250});
  REQUIRE(h.accept_all.messages.size() == 1);
  CHECK(h.accept_all.messages[0].data == "A: b\r\n\r\n.x\r\n");
}

TEST_CASE("a rejecting greeting: 554 then only QUIT; 421 closes at once") {
  ServerConfig c = cfg();
  c.reject_greeting = make_reply(554, "5.7.1", "blocked");
  ServerHarness h(c);
  CHECK(h.greeting == "554 5.7.1 blocked\r\n");
  CHECK(h.send("EHLO c\r\n") == "503 5.5.1 Error: no SMTP service here, please QUIT\r\n");
  CHECK(h.send("QUIT\r\n") == "221 2.0.0 Bye\r\n");
  c.reject_greeting = make_reply(421, "4.3.2", "shutting down");
  ServerHarness down(c);
  CHECK(down.session.wants_close());
}

TEST_CASE("ServerState names for the trace") {
  CHECK(to_string(ServerState::kTlsHandshake) == "tls-handshake");
  CHECK(to_string(ServerState::kRcpt) == "rcpt");
}

// Found by the reply-line invariant of tests/fuzz/fuzz_smtp_server: a
// parameter keyword of ~500 octets fits a 512-octet command line, and was
// repeated whole in "555 5.5.4 Unsupported option: ...", making a reply line
// longer than RFC 5321 §4.5.3.1.5's 512 octets. Client text is now cut short.
TEST_CASE("replies that repeat a client's parameter stay within 512 octets") {
  const std::string keyword(497, 'X');  // "MAIL FROM:<> " + 497 + CRLF = 512 octets
  const std::vector<std::string> commands = {
      "MAIL FROM:<> " + keyword,                            // 555 Unsupported option
      "MAIL FROM:<> " + keyword.substr(0, 480) + "=",  // 501 malformed value for
      "RCPT TO:<Postmaster> " + keyword.substr(0, 480),   // 555 (RCPT), after a MAIL below
  };
  for (const std::string& command : commands) {
    REQUIRE(command.size() + 2 <= kMaxCommandLine);
    ServerHarness h(cfg());
    h.send("EHLO client.example.org\r\n");
    if (command.starts_with("RCPT")) h.send("MAIL FROM:<>\r\n");
    const std::string reply = h.send(command + "\r\n");
    CAPTURE(reply);
    CHECK(reply.size() <= 512);
    CHECK(reply.ends_with("...\r\n"));
    CHECK((reply.starts_with("555 5.5.4 Unsupported option: XXXX") ||
           reply.starts_with("501 5.5.4 Bad parameter syntax: malformed value for XXXX")));
  }
  // A short keyword is repeated as it was.
  ServerHarness h(cfg());
  h.send("EHLO client.example.org\r\n");
  CHECK(first_reply_line(h.send("MAIL FROM:<> FOO\r\n")) == "555 5.5.4 Unsupported option: FOO");
}
