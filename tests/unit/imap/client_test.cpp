// The MUA's IMAP client against the real server over the real MemoryStore,
// back to back in memory.
#include "real/imap/client.h"

#include <catch2/catch.hpp>

#include "server_harness.h"

using namespace mailsim;
using namespace mailsim::imap;

namespace {

// Moves bytes between the two sessions until neither has anything to say.
// TLS is "negotiated" by telling both sides it succeeded once both asked
// (real/tls has its own tests; here the point is the protocol).
struct Link {
  test::ServerHarness& server;
  ClientSession& client;
  std::vector<ClientEvent> client_events;
  std::string wire;  // everything both sides sent, for eavesdropping checks

  void pump() {
    for (int rounds = 0; rounds < 1000; ++rounds) {
      std::string s2c = server.session->take_output();
      if (!s2c.empty()) client.receive(s2c);
      server.drain();
      std::string c2s = client.take_output();
      if (!c2s.empty()) server.session->receive(c2s);
      server.drain();
      wire += s2c + c2s;
      while (auto e = client.next_event()) client_events.push_back(std::move(*e));
      if (server.session->tls_requested() && client.tls_requested()) {
        TlsInfo info{"TLSv1.3", "TLS_AES_256_GCM_SHA384", ""};
        server.session->tls_established(info);
        client.tls_established(info);
        server.drain();
        continue;
      }
      if (s2c.empty() && c2s.empty()) return;  // a whole round moved nothing
    }
    FAIL("sessions never went quiet");
  }
  template <class E>
  std::vector<E> of() const {
    return mailsim::test_support::events_of<E>(client_events);
  }
};

const char* kLunch =
    "From: Alice <alice@alpha.example>\r\nTo: bob@beta.example\r\nSubject: Lunch?\r\n\r\nFriday at noon?\r\n";

}  // namespace

SCENARIO("the mail reader collects new mail over STARTTLS and marks it read") {
  GIVEN("a server that wants TLS before passwords and two messages for bob") {
    ServerConfig cfg = test::plain_config();
    cfg.allow_plaintext_login = false;
    cfg.tls_available = true;
    test::ServerHarness server(cfg);
    server.deliver(kLunch);
    server.deliver("Subject: second\r\n\r\nhello\r\n");
    ClientConfig cc;
    cc.user = "bob";
    cc.password = "secret";
    cc.tls = ClientTls::kRequired;
    ClientSession client(cc);
    Link link{server, client, {}, {}};

    WHEN("the client runs") {
      client.start();
      std::string greeting = server.start();
      client.receive(greeting);
      link.pump();

      THEN("it used TLS, fetched both messages whole, marked them seen and logged out") {
        CHECK(link.of<client_events::TlsStarted>().size() == 1);
        auto fetched = link.of<client_events::MessageFetched>();
        REQUIRE(fetched.size() == 2);
        CHECK(fetched[0].uid == 1);
        CHECK(fetched[0].message == kLunch);
        CHECK(fetched[0].flags == "\\Recent");
        CHECK(fetched[1].uid == 2);
        auto seen = link.of<client_events::MarkedSeen>();
        REQUIRE(seen.size() == 1);
        CHECK(seen[0].uids == std::vector<std::uint32_t>{1, 2});
        auto finished = link.of<client_events::Finished>();
        REQUIRE(finished.size() == 1);
        CHECK(finished[0].ok);
        CHECK(finished[0].highest_uid == 2);
        CHECK(client.wants_close());
        CHECK(server.session->wants_close());
        auto snap = server.store.snapshot("bob", "INBOX");
        CHECK(snap.messages[0].flags.has(store::SystemFlag::kSeen));
        CHECK(snap.messages[1].flags.has(store::SystemFlag::kSeen));
        // The password went as AUTHENTICATE PLAIN after STARTTLS only.
        auto sent = link.of<client_events::CommandSent>();
        CHECK(sent[0].text == "A1 STARTTLS");
        CHECK(sent[1].text == "A2 CAPABILITY");
        CHECK(sent[2].text.starts_with("A3 AUTHENTICATE PLAIN "));
      }
    }
  }
}

SCENARIO("the mail reader fetches only what it has not seen, and refuses to leak the password") {
  GIVEN("bob has three messages and the reader has seen UID 2") {
    test::ServerHarness server;  // plaintext login allowed, no TLS
    server.deliver(kLunch);
    server.deliver("Subject: b\r\n\r\nb\r\n");
    server.deliver("Subject: c\r\n\r\nc\r\n");
    ClientConfig cc;
    cc.user = "bob";
    cc.password = "secret";
    cc.tls = ClientTls::kIfOffered;
    cc.auth = ClientAuth::kLogin;
    cc.last_seen_uid = 2;
    cc.mark_seen = false;
    ClientSession client(cc);
    Link link{server, client, {}, {}};
    client.start();
    client.receive(server.start());
    link.pump();
    THEN("only UID 3 is fetched and nothing is marked seen") {
      auto fetched = link.of<client_events::MessageFetched>();
      REQUIRE(fetched.size() == 1);
      CHECK(fetched[0].uid == 3);
      CHECK(link.of<client_events::MarkedSeen>().empty());
      CHECK(link.wire.find("LOGIN \"bob\" \"secret\"") != std::string::npos);  // plaintext on the wire
      CHECK(link.of<client_events::Finished>().at(0).ok);
    }
  }
  GIVEN("a server without TLS and a client that requires it") {
    test::ServerHarness server;
    ClientConfig cc;
    cc.user = "bob";
    cc.password = "secret";
    cc.tls = ClientTls::kRequired;
    ClientSession client(cc);
    Link link{server, client, {}, {}};
    client.start();
    client.receive(server.start());
    link.pump();
    THEN("the client gives up before sending the password") {
      CHECK(link.wire.find("secret") == std::string::npos);
      REQUIRE_FALSE(link.of<client_events::Failed>().empty());
      CHECK_FALSE(link.of<client_events::Finished>().at(0).ok);
    }
  }
  GIVEN("a wrong password") {
    test::ServerHarness server;
    ClientConfig cc;
    cc.user = "bob";
    cc.password = "wrong";
    ClientSession client(cc);
    Link link{server, client, {}, {}};
    client.start();
    client.receive(server.start());
    link.pump();
    THEN("the client reports the refusal and logs out") {
      auto failed = link.of<client_events::Failed>();
      REQUIRE(failed.size() == 1);
      CHECK(failed[0].step == ClientStep::kAuthenticate);
      CHECK(failed[0].reason.find("AUTHENTICATIONFAILED") != std::string::npos);
      CHECK(client.wants_close());
    }
  }
}

SCENARIO("the mail reader idles and fetches mail delivered while it waits") {
  test::ServerHarness server;
  ClientConfig cc;
  cc.user = "bob";
  cc.password = "secret";
  cc.idle = true;
  ClientSession client(cc);
  Link link{server, client, {}, {}};
  client.start();
  client.receive(server.start());
  link.pump();
  REQUIRE(client.idling());
  CHECK(link.of<client_events::MessageFetched>().empty());

  // The MTA delivers; the host's store listener wakes the IMAP session.
  server.deliver(kLunch);
  server.session->mailbox_changed();
  server.drain();
  link.pump();
  auto fetched = link.of<client_events::MessageFetched>();
  REQUIRE(fetched.size() == 1);
  CHECK(fetched[0].message == kLunch);
  CHECK(link.of<client_events::NewMail>().size() == 1);
  CHECK(client.idling());  // back to waiting

  client.stop();
  link.pump();
  CHECK(client.wants_close());
  CHECK(link.of<client_events::Finished>().at(0).ok);
  CHECK(link.of<client_events::IdleStarted>().size() == 2);
}
