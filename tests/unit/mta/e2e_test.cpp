// End to end with real SMTP sessions: Alice's MUA submits to mail.alpha.example
// (MTA A), which relays by MX to mx.beta.example (MTA B), which delivers into
// Bob's mailbox. Every hop is the real SMTP client and server over in-memory
// byte streams driven by the fake clock.
#include <catch2/catch.hpp>

#include "real/mta/dsn.h"
#include "real/mta/headers.h"
#include "real/mta/inbound.h"
#include "real/mta/mta.h"
#include "real/mta/smtp_transport.h"
#include "real/mta/store_delivery.h"
#include "real/store/memory_store.h"
#include "real/tls/demo_ca.h"
#include "tests/unit/mta/harness.h"
#include "tests/unit/mta/loopback.h"

using namespace mailsim;
using namespace mailsim::mta;
using namespace mailsim::mta::testing;

namespace {

// One mail server: an Mta with a memory spool, mailboxes, an SMTP listener
// on port 25 and an outbound SMTP transport.
struct Server {
  Server(FakeClock& clock, FakeResolver& dns, LoopbackNet& net, MtaConfig cfg, std::string address,
         std::vector<std::string> users, InboundOptions in = {}, SmtpTransportOptions out = {})
      : connector(net, address),
        transport(connector, clock, std::move(out)),
        delivery(store, clock) {
    for (const auto& u : users) store.ensure_user(u);
    mta = std::make_unique<Mta>(std::move(cfg), MtaServices{clock, dns, spool, transport, &delivery, log.sink()});
    mta->start();
    inbound = std::make_unique<InboundServer>(*mta, clock, std::move(in));
    net.listen(address, 25, [this](std::unique_ptr<ByteStream> s, std::string peer) {
      inbound->accept(std::move(s), smtp::PeerIdentity{peer, ""});
    });
  }
  std::vector<std::string> inbox(const std::string& user) {
    std::vector<std::string> out;
    auto snap = store.snapshot(user, "INBOX");
    for (const auto& m : snap.messages) out.push_back(store.fetch(user, "INBOX", m.uid));
    return out;
  }

  LoopbackConnector connector;
  SmtpTransport transport;
  MemorySpool spool;
  store::MemoryStore store;
  StoreDelivery delivery;
  EventLog log;
  std::unique_ptr<Mta> mta;
  std::unique_ptr<InboundServer> inbound;
};

// Alice's mail program: submits one message with the SMTP client.
struct Mua {
  Mua(FakeClock& clock, LoopbackNet& net) : connector(net, "10.0.0.2"), transport(connector, clock) {}

  std::vector<Reply> submit(FakeClock& clock, const std::string& server, const std::string& from,
                            std::vector<std::string> to, const std::string& message) {
    std::vector<Reply> replies;
    OpenRequest req;
    req.host = "mail.alpha.example";
    req.address = server;
    req.helo_name = "alice-pc";
    req.tls = TlsPolicy::none;
    std::unique_ptr<Connection> conn;
    transport.open(req, [&](OpenResult r) {
      REQUIRE(r.connection);
      conn = std::move(r.connection);
      DeliveryJob job{from, std::move(to), &message};
      conn->send(job, [&](JobResult jr) {
        replies = jr.per_recipient;
        conn.reset();  // QUIT
      });
    });
    clock.run_until(clock.now() + 2 * kSecond);
    return replies;
  }

  LoopbackConnector connector;
  SmtpTransport transport;
};

const std::string kLetter =
    "From: Alice <alice@alpha.example>\r\n"
    "To: Bob <bob@beta.example>\r\n"
    "Subject: Lunch?\r\n"
    "Message-ID: <lunch-1@alpha.example>\r\n"
    "\r\n"
    "Shall we have lunch on Friday?\r\n"
    ".. a line that starts with a dot survives dot-stuffing\r\n";

struct World {
  FakeClock clock;
  FakeResolver dns;
  LoopbackNet net{clock, 5 * kMillisecond};

  World() {
    dns.mx("alpha.example", {{10, "mail.alpha.example"}});
    dns.a("mail.alpha.example", {"192.0.2.10"});
    dns.mx("beta.example", {{10, "mx.beta.example"}});
    dns.a("mx.beta.example", {"192.0.2.20"});
  }
  static MtaConfig alpha() {
    MtaConfig c;
    c.hostname = "mail.alpha.example";
    c.local_domains = {"alpha.example"};
    c.trusted_networks = {"10.0.0.0/8"};
    return c;
  }
  static MtaConfig beta() {
    MtaConfig c;
    c.hostname = "mx.beta.example";
    c.local_domains = {"beta.example"};
    return c;
  }
};

// A bare TCP client of mx.beta.example (192.0.2.20:25) that writes only what
// a test tells it to: what it heard, and whether the server hung up.
struct RawClient {
  std::unique_ptr<ByteStream> stream;
  std::string heard;
  bool closed = false;
  LoopbackConnector connector;
  explicit RawClient(World& w) : connector(w.net, "203.0.113.9") {
    connector.connect("192.0.2.20", 25, [this](ConnectResult r) {
      stream = std::move(r.stream);
      stream->on_data([this](std::string_view d) { heard += d; });
      stream->on_close([this] { closed = true; });
    });
  }
};

}  // namespace

SCENARIO("a letter travels from Alice through two post offices into Bob's mailbox") {
  World w;
  Server a(w.clock, w.dns, w.net, World::alpha(), "192.0.2.10", {"alice"});
  Server b(w.clock, w.dns, w.net, World::beta(), "192.0.2.20", {"bob"});
  Mua mua(w.clock, w.net);

  WHEN("Alice submits a message for bob@beta.example") {
    auto replies = mua.submit(w.clock, "192.0.2.10", "alice@alpha.example", {"bob@beta.example"}, kLetter);
    REQUIRE(replies.size() == 1);
    CHECK(replies[0].code == 250);
    CHECK_THAT(replies[0].text, Catch::StartsWith("Ok: queued as "));
    w.clock.run_until(10 * kSecond);

    THEN("Bob's inbox has it, with two postmarks, Return-Path and Delivered-To") {
      auto inbox = b.inbox("bob");
      REQUIRE(inbox.size() == 1);
      const auto& m = inbox[0];
      CHECK(count_received(m) == 2);
      CHECK_THAT(m, Catch::StartsWith("Return-Path: <alice@alpha.example>\r\nDelivered-To: bob@beta.example\r\n"
                                      "Received: from mail.alpha.example (unknown [192.0.2.10]) by mx.beta.example"));
      auto marks = postmarks(m);
      REQUIRE(marks.size() == 2);
      CHECK_THAT(marks[0], Catch::StartsWith("from mail.alpha.example (unknown [192.0.2.10]) by mx.beta.example with ESMTP id "));
      CHECK_THAT(marks[1], Catch::StartsWith("from alice-pc (unknown [10.0.0.2]) by mail.alpha.example with ESMTP id "));
      CHECK_THAT(marks[1], Catch::Contains(" for <bob@beta.example>; "));
      CHECK_THAT(m, Catch::EndsWith(kLetter));
      CHECK(a.mta->queue().empty());
      CHECK(b.mta->queue().empty());
      auto delivered = a.log.all<event::Delivered>();
      REQUIRE(delivered.size() == 1);
      CHECK(delivered[0].second.where == "mx.beta.example [192.0.2.20]");
      CHECK_THAT(delivered[0].second.reply, Catch::StartsWith("250 2.0.0 Ok: queued as "));
      // Everything was closed politely.
      w.clock.run_until(20 * kSecond);
      CHECK(a.transport.live_links() == 0);
      CHECK(b.inbound->connections() == 0);
      CHECK(a.inbound->connections() == 0);
    }
  }

  WHEN("Alice writes to a user Bob's server does not know") {
    auto replies = mua.submit(w.clock, "192.0.2.10", "alice@alpha.example", {"nobody@beta.example"}, kLetter);
    REQUIRE(replies.size() == 1);
    CHECK(replies[0].code == 250);  // A relays for its own network; B decides
    w.clock.run_until(10 * kSecond);

    THEN("B refuses at RCPT, A returns the letter to Alice as a DSN") {
      auto rejected = b.log.all<event::RecipientRejected>();
      REQUIRE(rejected.size() == 1);
      CHECK(rejected[0].second.recipient == "nobody@beta.example");
      auto inbox = a.inbox("alice");
      REQUIRE(inbox.size() == 1);
      auto dsn = parse_dsn(inbox[0]);
      REQUIRE(dsn);
      REQUIRE(dsn->recipients.size() == 1);
      CHECK(dsn->recipients[0].final_recipient == "rfc822; nobody@beta.example");
      CHECK(dsn->recipients[0].action == "failed");
      CHECK(dsn->recipients[0].status == "5.1.1");
      CHECK(dsn->recipients[0].remote_mta == "dns; mx.beta.example");
      CHECK_THAT(dsn->recipients[0].diagnostic_code, Catch::StartsWith("smtp; 550 5.1.1 <nobody@beta.example>"));
      CHECK_THAT(dsn->original_headers, Catch::Contains("Subject: Lunch?"));
      CHECK_THAT(inbox[0], Catch::StartsWith("Return-Path: <>\r\n"));
      CHECK(b.inbox("bob").empty());
      // On the wire between A and B: the refusal, and the letter itself never
      // sent (DATA went out pipelined with RCPT, RFC 2920, and was refused).
      std::string a_said, b_said;
      for (const auto& p : w.net.pipes)
        if (p->address[1] == "192.0.2.20") a_said += p->wire[0], b_said += p->wire[1];
      CHECK_THAT(a_said, Catch::Contains("RCPT TO:<nobody@beta.example>\r\n"));
      CHECK_THAT(a_said, !Catch::Contains("Shall we have lunch"));
      CHECK_THAT(b_said, Catch::Contains("550 5.1.1 <nobody@beta.example>"));
    }
  }

  WHEN("a stranger tries to relay through B to another domain") {
    Mua stranger(w.clock, w.net);
    auto replies = stranger.submit(w.clock, "192.0.2.20", "spam@evil.example", {"victim@gamma.example"}, kLetter);
    THEN("B says 554 5.7.1 and keeps nothing") {
      REQUIRE(replies.size() == 1);
      CHECK(replies[0].code == 554);
      CHECK(replies[0].enhanced == "5.7.1");
      CHECK(b.log.count<event::RelayDenied>() == 1);
      CHECK(b.mta->queue().empty());
    }
  }
}

TEST_CASE("the 250 after DATA is sent only once the spool has the message") {
  World w;
  MtaConfig cfg = World::beta();
  Server b(w.clock, w.dns, w.net, cfg, "192.0.2.20", {"bob"});
  // Replace the spool with one whose fsync takes 50 ms.
  MemorySpool slow(w.clock, 50 * kMillisecond);
  Mta mta(cfg, MtaServices{w.clock, w.dns, slow, b.transport, &b.delivery, b.log.sink()});
  InboundServer server(mta, w.clock);
  w.net.listen("192.0.2.30", 25, [&](std::unique_ptr<ByteStream> s, std::string peer) {
    server.accept(std::move(s), smtp::PeerIdentity{peer, ""});
  });
  Mua mua(w.clock, w.net);
  mua.submit(w.clock, "192.0.2.30", "alice@alpha.example", {"bob@beta.example"}, kLetter);
  // The server's wire: "250 2.0.0 Ok: queued" appears ≥ 50 ms after the
  // final dot arrived.
  REQUIRE_FALSE(w.net.pipes.empty());
  const auto& server_wire = w.net.pipes.back()->wire[1];
  CHECK_THAT(server_wire, Catch::Contains("250 2.0.0 Ok: queued as "));
  auto received = b.log.all<event::Received>();
  REQUIRE(received.size() == 1);
  auto delivered = b.log.all<event::Delivered>();
  REQUIRE(delivered.size() == 1);
  CHECK(delivered[0].first >= received[0].first);
}

TEST_CASE("STARTTLS between the MTAs: the postmark says TLS, the wire is ciphertext") {
  World w;
  tls::DemoCaOptions ca_options;
  ca_options.key_type = tls::KeyType::kEd25519;
  auto ca = tls::DemoCa::create(ca_options);
  auto cert = ca.issue({"mx.beta.example"});
  InboundOptions in;
  in.tls = tls::TlsContext::server(cert.cert_pem, cert.key_pem);
  in.server.tls = smtp::TlsPolicy::kOptional;
  SmtpTransportOptions out;
  out.tls = tls::TlsContext::client(ca.ca_cert_pem());
  Server a(w.clock, w.dns, w.net, World::alpha(), "192.0.2.10", {"alice"}, {}, out);
  Server b(w.clock, w.dns, w.net, World::beta(), "192.0.2.20", {"bob"}, in);
  Mua mua(w.clock, w.net);
  mua.submit(w.clock, "192.0.2.10", "alice@alpha.example", {"bob@beta.example"}, kLetter);
  w.clock.run_until(10 * kSecond);
  auto inbox = b.inbox("bob");
  REQUIRE(inbox.size() == 1);
  auto marks = postmarks(inbox[0]);
  REQUIRE(marks.size() == 2);
  CHECK_THAT(marks[0], Catch::Contains("by mx.beta.example (using TLSv1.3 with cipher "));
  CHECK_THAT(marks[0], Catch::Contains(") with ESMTPS id "));
  CHECK_THAT(marks[1], !Catch::Contains("using TLS"));  // alice-pc submitted in plaintext
  // The A->B pipe carried the letter only encrypted.
  bool found_pipe = false;
  for (const auto& p : w.net.pipes) {
    if (p->address[1] != "192.0.2.20") continue;
    found_pipe = true;
    CHECK_THAT(p->wire[0], Catch::Contains("STARTTLS"));
    CHECK_THAT(p->wire[0], !Catch::Contains("Shall we have lunch"));
  }
  CHECK(found_pipe);
}

TEST_CASE("a backup MX keeps the mail while the primary is down and forwards it later") {
  World w;
  w.dns.mx("beta.example", {{10, "mx.beta.example"}, {20, "backup.beta.example"}});
  w.dns.a("backup.beta.example", {"192.0.2.21"});
  MtaConfig backup_cfg;
  backup_cfg.hostname = "backup.beta.example";
  backup_cfg.relay_domains = {"beta.example"};
  backup_cfg.minimal_backoff_time = 60 * kSecond;
  Server a(w.clock, w.dns, w.net, World::alpha(), "192.0.2.10", {"alice"});
  Server backup(w.clock, w.dns, w.net, backup_cfg, "192.0.2.21", {});
  Mua mua(w.clock, w.net);

  // The primary is not there yet: A falls back to the backup MX.
  auto replies = mua.submit(w.clock, "192.0.2.10", "alice@alpha.example", {"bob@beta.example"}, kLetter);
  REQUIRE(replies.at(0).code == 250);
  w.clock.run_until(10 * kSecond);
  auto a_delivered = a.log.all<event::Delivered>();
  REQUIRE(a_delivered.size() == 1);
  CHECK(a_delivered[0].second.where == "backup.beta.example [192.0.2.21]");
  // The backup tried the primary only (never itself or a worse MX) and waits.
  auto q = backup.mta->queue();
  REQUIRE(q.size() == 1);
  CHECK(q[0].state == QueueState::deferred);
  auto routes = backup.log.all<event::RouteChosen>();
  REQUIRE_FALSE(routes.empty());
  CHECK(routes[0].second.hosts == std::vector<std::string>{"mx.beta.example"});

  // The primary comes up; the backup's next retry forwards the letter.
  Server primary(w.clock, w.dns, w.net, World::beta(), "192.0.2.20", {"bob"});
  w.clock.run_until(120 * kSecond);
  auto inbox = primary.inbox("bob");
  REQUIRE(inbox.size() == 1);
  CHECK(count_received(inbox[0]) == 3);  // alice-pc -> A -> backup -> primary
  CHECK(backup.mta->queue().empty());
}

TEST_CASE("relay recipient verification asks the next hop before saying 250") {
  World w;
  w.dns.mx("beta.example", {{10, "mx.beta.example"}, {20, "backup.beta.example"}});
  w.dns.a("backup.beta.example", {"192.0.2.21"});
  MtaConfig backup_cfg;
  backup_cfg.hostname = "backup.beta.example";
  backup_cfg.relay_domains = {"beta.example"};
  backup_cfg.verify_relay_recipients = true;
  Server backup(w.clock, w.dns, w.net, backup_cfg, "192.0.2.21", {});
  Server primary(w.clock, w.dns, w.net, World::beta(), "192.0.2.20", {"bob"});
  Mua mua(w.clock, w.net);
  auto replies = mua.submit(w.clock, "192.0.2.21", "carol@gamma.example",
                            {"bob@beta.example", "nobody@beta.example"}, kLetter);
  REQUIRE(replies.size() == 2);
  CHECK(replies[0].code == 250);
  CHECK(replies[1].code == 550);
  CHECK(replies[1].enhanced == "5.1.1");
  CHECK_THAT(replies[1].text, Catch::Contains("undeliverable address"));
  w.clock.run_until(10 * kSecond);
  CHECK(primary.inbox("bob").size() == 1);
}

TEST_CASE("several letters to one MX travel over one SMTP connection") {
  World w;
  Server a(w.clock, w.dns, w.net, World::alpha(), "192.0.2.10", {"alice"});
  Server b(w.clock, w.dns, w.net, World::beta(), "192.0.2.20", {"bob", "carol"});
  // Three messages handed to A at the same moment (as three SMTP clients would).
  for (const char* to : {"bob@beta.example", "carol@beta.example", "bob@beta.example"}) {
    a.mta->receive(ClientInfo{"10.0.0.2", "", "alice-pc", "", "ESMTP", ""}, "alice@alpha.example", {to}, kLetter,
                   [](Reply r) { REQUIRE(r.code == 250); });
  }
  a.mta->receive(ClientInfo{"10.0.0.2", "", "alice-pc", "", "ESMTP", ""}, "alice@alpha.example",
                 {"bob@beta.example"}, kLetter, [](Reply) {});
  w.clock.run_until(10 * kSecond);
  CHECK(b.inbox("bob").size() == 3);
  CHECK(b.inbox("carol").size() == 1);
  int connections_to_b = 0;
  for (const auto& p : w.net.pipes)
    if (p->address[1] == "192.0.2.20") ++connections_to_b;
  // All four went out at once: up to 20 connections may be opened in
  // parallel (the destination concurrency limit)...
  CHECK(connections_to_b == 4);

  // ...but with a limit of 1 they queue up behind one connection.
  World w2;
  MtaConfig serial = World::alpha();
  serial.destination_concurrency_limit = 1;
  Server a2(w2.clock, w2.dns, w2.net, serial, "192.0.2.10", {"alice"});
  Server b2(w2.clock, w2.dns, w2.net, World::beta(), "192.0.2.20", {"bob"});
  for (int i = 0; i < 4; ++i)
    a2.mta->receive(ClientInfo{"10.0.0.2", "", "alice-pc", "", "ESMTP", ""}, "alice@alpha.example",
                    {"bob@beta.example"}, kLetter, [](Reply) {});
  w2.clock.run_until(10 * kSecond);
  CHECK(b2.inbox("bob").size() == 4);
  int serial_connections = 0;
  std::string wire;
  for (const auto& p : w2.net.pipes)
    if (p->address[1] == "192.0.2.20") ++serial_connections, wire = p->wire[0];
  CHECK(serial_connections == 1);
  CHECK(a2.log.count<event::ConnectionReused>() == 3);
  // One EHLO, four transactions, one QUIT.
  auto count = [&](const std::string& what) {
    std::size_t n = 0;
    for (auto pos = wire.find(what); pos != std::string::npos; pos = wire.find(what, pos + 1)) ++n;
    return n;
  };
  CHECK(count("EHLO ") == 1);
  CHECK(count("MAIL FROM:") == 4);
  CHECK(count("QUIT\r\n") == 1);
}

TEST_CASE("a server that never answers is given up after the reply timeout") {
  World w;
  MtaConfig cfg = World::alpha();
  Server a(w.clock, w.dns, w.net, cfg, "192.0.2.10", {"alice"});
  // mx.beta.example accepts the TCP connection and then says nothing.
  std::vector<std::unique_ptr<ByteStream>> held;
  w.net.listen("192.0.2.20", 25, [&](std::unique_ptr<ByteStream> s, std::string) { held.push_back(std::move(s)); });
  a.mta->receive(ClientInfo{"10.0.0.2", "", "alice-pc", "", "ESMTP", ""}, "alice@alpha.example",
                 {"bob@beta.example"}, kLetter, [](Reply) {});
  w.clock.run_until(299 * kSecond);
  CHECK(a.log.count<event::Deferred>() == 0);
  w.clock.run_until(301 * kSecond);
  auto deferred = a.log.all<event::Deferred>();
  REQUIRE(deferred.size() == 1);
  CHECK_THAT(deferred[0].second.reason, Catch::Contains("timed out"));
  w.clock.run_until(302 * kSecond);
  CHECK(a.transport.live_links() == 0);
}

TEST_CASE("a client that goes silent is told 421 and dropped") {
  World w;
  Server b(w.clock, w.dns, w.net, World::beta(), "192.0.2.20", {"bob"});
  RawClient client(w);
  w.clock.run_until(1 * kSecond);
  CHECK_THAT(client.heard, Catch::StartsWith("220 mx.beta.example"));
  CHECK(b.inbound->connections() == 1);
  w.clock.run_until(302 * kSecond);
  CHECK_THAT(client.heard, Catch::Contains("421 4.4.2 mx.beta.example Error: timeout exceeded\r\n"));
  CHECK(client.closed);
  CHECK(b.inbound->connections() == 0);
}

TEST_CASE("the idle timeout counts from the client's last line, not from the greeting") {
  World w;
  Server b(w.clock, w.dns, w.net, World::beta(), "192.0.2.20", {"bob"});
  RawClient client(w);
  w.clock.run_until(200 * kSecond);
  REQUIRE(client.stream);
  client.stream->write("NOOP\r\n");  // 200 s into the connection: the 300 s start again
  w.clock.run_until(450 * kSecond);
  CHECK_THAT(client.heard, Catch::Contains("250 2.0.0 Ok"));
  CHECK_THAT(client.heard, !Catch::Contains("421"));
  CHECK_FALSE(client.closed);
  w.clock.run_until(502 * kSecond);
  CHECK_THAT(client.heard, Catch::Contains("421 4.4.2 mx.beta.example Error: timeout exceeded\r\n"));
  CHECK(client.closed);
  CHECK(b.inbound->connections() == 0);
}

TEST_CASE("one counter serves many connections, each with hooks and a greeting of its own") {
  World w;
  InboundOptions in;
  in.server.auth = smtp::AuthPolicy::kOptional;
  in.server.auth_before_tls = true;
  in.authenticator = [](const std::string& user, const std::string& password) {
    return user == "alice" && password == "secret";
  };
  int server_wide_events = 0;
  in.session_observer = [&](const smtp::PeerIdentity&, const smtp::ServerEvent&) { ++server_wide_events; };
  Server b(w.clock, w.dns, w.net, World::beta(), "192.0.2.20", {"bob"}, in);

  // What each connection's own hooks saw, in the order the clients connect.
  struct Seen {
    int session_events = 0;
    int channel_events = 0;
    std::vector<std::pair<std::string, bool>> auth;
  };
  std::vector<std::unique_ptr<Seen>> seen;
  w.net.listen("192.0.2.20", 25, [&](std::unique_ptr<ByteStream> s, std::string peer) {
    seen.push_back(std::make_unique<Seen>());
    Seen& mine = *seen.back();
    ConnectionOptions own;
    own.session_observer = [&mine](const smtp::ServerEvent&) { ++mine.session_events; };
    own.channel_observer = [&mine](const ChannelEvent&) { ++mine.channel_events; };
    own.auth_observer = [&mine](const std::string& user, bool ok) { mine.auth.emplace_back(user, ok); };
    if (seen.size() == 2) own.reject_greeting = smtp::make_reply(554, "5.7.1", "Service unavailable; listed");
    b.inbound->accept(std::move(s), smtp::PeerIdentity{peer, ""}, std::move(own));
  });

  RawClient first(w);
  w.clock.run_until(w.clock.now() + kSecond);
  RawClient second(w);
  w.clock.run_until(w.clock.now() + kSecond);
  REQUIRE(first.stream);
  REQUIRE(second.stream);
  CHECK(b.inbound->connections() == 2);
  first.stream->write("EHLO first.example\r\n");
  first.stream->write("AUTH PLAIN AGFsaWNlAHdyb25n\r\n");  // \0alice\0wrong
  w.clock.run_until(w.clock.now() + kSecond);
  first.stream->write("AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n");  // \0alice\0secret
  second.stream->write("EHLO second.example\r\n");
  w.clock.run_until(w.clock.now() + kSecond);

  CHECK_THAT(first.heard, Catch::StartsWith("220 mx.beta.example"));
  CHECK_THAT(first.heard, Catch::Contains("535 "));
  CHECK_THAT(first.heard, Catch::Contains("235 "));
  CHECK_THAT(second.heard, Catch::StartsWith("554 5.7.1 Service unavailable; listed"));
  CHECK_THAT(second.heard, Catch::Contains("\r\n503 "));  // EHLO after a 554 greeting
  CHECK_THAT(second.heard, !Catch::Contains("250"));

  REQUIRE(seen.size() == 2);
  CHECK(seen[0]->auth == std::vector<std::pair<std::string, bool>>{{"alice", false}, {"alice", true}});
  CHECK(seen[1]->auth.empty());
  CHECK(seen[0]->session_events > 0);
  CHECK(seen[1]->session_events > 0);
  CHECK(seen[0]->channel_events > 0);
  CHECK(seen[1]->channel_events > 0);
  // The server's own hook hears both connections.
  CHECK(server_wide_events == seen[0]->session_events + seen[1]->session_events);

  first.stream->write("QUIT\r\n");
  w.clock.run_until(w.clock.now() + kSecond);
  CHECK(first.closed);
  CHECK(b.inbound->connections() == 1);
}
