// Tests for real/session/channel.h: a client channel and a server channel
// back-to-back, each hosting a fake line protocol, with and without TLS.
#include "real/session/channel.h"

#include "real/tls/demo_ca.h"
#include "tests/unit/session/fake_sessions.h"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace mailsim;
using mailsim::testing::EchoServer;
using mailsim::testing::ScriptClient;
using tls::DemoCa;
using tls::PeerVerification;
using tls::TlsContext;
using tls::TlsRole;
using Kind = ChannelEvent::Kind;

namespace {

const DemoCa& ca() {
  static const DemoCa c = DemoCa::create();
  return c;
}

const TlsContext& server_tls() {
  static const TlsContext ctx = ca().server_context({"mx.beta.example"}, {"127.0.0.1"});
  return ctx;
}

// What an observer saw, flattened into copies.
struct Recorded {
  Kind kind;
  std::string data;
  bool encrypted;
  std::string detail;
  std::string version;
};

struct Side {
  std::vector<Recorded> events;
  std::string wire_out;  // everything this side sent

  std::function<void(const ChannelEvent&)> observer() {
    return [this](const ChannelEvent& e) {
      events.push_back({e.kind, std::string(e.data), e.encrypted, std::string(e.detail),
                        e.tls ? e.tls->version : std::string{}});
      if (e.kind == Kind::kWireOut) wire_out += e.data;
    };
  }
  bool saw(Kind k) const {
    return std::any_of(events.begin(), events.end(), [k](const Recorded& r) { return r.kind == k; });
  }
};

struct Pair {
  EchoServer server;
  ScriptClient client;
  Side server_side;
  Side client_side;
  std::optional<Channel> server_ch;
  std::optional<Channel> client_ch;

  Pair(std::optional<TlsContext> client_tls, std::string server_name, bool implicit = false,
       std::optional<TlsContext> srv_tls = server_tls()) {
    ChannelOptions so;
    so.role = TlsRole::kServer;
    so.tls = std::move(srv_tls);
    so.implicit_tls = implicit;
    so.observer = server_side.observer();
    server_ch.emplace(server, std::move(so));
    ChannelOptions co;
    co.role = TlsRole::kClient;
    co.tls = std::move(client_tls);
    co.server_name = std::move(server_name);
    co.implicit_tls = implicit;
    co.observer = client_side.observer();
    client_ch.emplace(client, std::move(co));
  }

  // Moves bytes both ways in pieces of `chunk` until both sides are quiet.
  void run(std::size_t chunk) {
    for (int i = 0; i < 100000; ++i) {
      const std::string c = client_ch->take_wire_out();
      const std::string s = server_ch->take_wire_out();
      if (c.empty() && s.empty()) return;
      for (std::size_t k = 0; k < c.size(); k += chunk)
        server_ch->wire_in(std::string_view(c).substr(k, chunk));
      for (std::size_t k = 0; k < s.size(); k += chunk)
        client_ch->wire_in(std::string_view(s).substr(k, chunk));
    }
    FAIL("channels never went quiet");
  }

  void start(std::size_t chunk) {
    server_ch->start();
    client_ch->start();
    run(chunk);
  }

  void client_says(const std::string& line, std::size_t chunk) {
    client.say(line);
    client_ch->pump();
    run(chunk);
  }
};

ChannelOptions server_options(std::optional<TlsContext> tls, bool implicit) {
  ChannelOptions o;
  o.role = TlsRole::kServer;
  o.tls = std::move(tls);
  o.implicit_tls = implicit;
  return o;
}

}  // namespace

TEST_CASE("without TLS the channel is a transparent pipe and the wire shows everything") {
  const std::size_t chunk = GENERATE(std::size_t{1}, std::size_t{3}, std::size_t{4096});
  Pair p(std::nullopt, "mx.beta.example", false, std::nullopt);
  p.start(chunk);
  p.client_says("HELLO there", chunk);
  CHECK(p.client.lines == std::vector<std::string>{"+OK hello", "ECHO HELLO there"});
  CHECK(p.client_side.wire_out == "HELLO there\r\n");
  CHECK_FALSE(p.server_ch->tls_active());
  for (const auto& e : p.server_side.events)
    if (e.kind == Kind::kWireOut || e.kind == Kind::kWireIn) CHECK_FALSE(e.encrypted);
}

TEST_CASE("STARTTLS upgrades the stream, in any chunking") {
  const std::size_t chunk = GENERATE(std::size_t{1}, std::size_t{2}, std::size_t{7}, std::size_t{65536});
  Pair p(ca().client_context(), "mx.beta.example");
  p.start(chunk);
  p.client_says("STARTTLS", chunk);

  REQUIRE(p.client_ch->tls_active());
  REQUIRE(p.server_ch->tls_active());
  CHECK(p.client.tls.version == "TLSv1.3");
  CHECK(p.server.tls.cipher == p.client.tls.cipher);
  CHECK(p.client.tls.peer_subject.find("CN=mx.beta.example") != std::string::npos);
  CHECK(p.client_ch->tls_info()->version == "TLSv1.3");

  p.client_says("my password is hunter2", chunk);
  CHECK(p.client.lines.back() == "ECHO my password is hunter2");
  // The eavesdropper: the greeting and the STARTTLS exchange were in the
  // clear, the secret was not.
  CHECK(p.client_side.wire_out.rfind("STARTTLS\r\n", 0) == 0);
  CHECK(p.server_side.wire_out.find("+OK begin TLS\r\n") != std::string::npos);
  CHECK(p.client_side.wire_out.find("hunter2") == std::string::npos);
  CHECK(p.server_side.wire_out.find("hunter2") == std::string::npos);
  // ...while the session-level events carry the plaintext for the trace.
  const auto& ev = p.server_side.events;
  CHECK(std::any_of(ev.begin(), ev.end(), [](const Recorded& r) {
    return r.kind == Kind::kSessionIn && r.data.find("hunter2") != std::string::npos;
  }));
  CHECK(std::any_of(ev.begin(), ev.end(), [](const Recorded& r) {
    return r.kind == Kind::kHandshakeFinished && r.version == "TLSv1.3";
  }));
  // Order on the server: "+OK begin TLS" left in plaintext before the handshake began.
  const auto begin_tls = std::find_if(ev.begin(), ev.end(), [](const Recorded& r) {
    return r.kind == Kind::kWireOut && r.data == "+OK begin TLS\r\n";
  });
  const auto hs = std::find_if(ev.begin(), ev.end(),
                               [](const Recorded& r) { return r.kind == Kind::kHandshakeStarted; });
  CHECK(begin_tls < hs);
  CHECK(std::none_of(hs, ev.end(), [](const Recorded& r) {
    return (r.kind == Kind::kWireOut || r.kind == Kind::kWireIn) && !r.encrypted;
  }));
}

TEST_CASE("a client refuses a certificate for another host name") {
  Pair p(ca().client_context(), "mail.gamma.example");
  p.start(4096);
  p.client_says("STARTTLS", 4096);
  CHECK(p.client_ch->tls_failed());
  CHECK(p.client.tls_error.find("hostname mismatch") != std::string::npos);
  CHECK(p.server.tls_error.find("alert") != std::string::npos);
  CHECK(p.client_side.saw(Kind::kTlsError));
  CHECK(p.client_ch->wants_close());
  CHECK(p.server_ch->wants_close());
  CHECK_FALSE(p.client_side.saw(Kind::kHandshakeFinished));
}

TEST_CASE("a client that does not trust the demo CA refuses the server") {
  const DemoCa stranger = DemoCa::create();
  Pair p(stranger.client_context(), "mx.beta.example");
  p.start(4096);
  p.client_says("STARTTLS", 4096);
  CHECK(p.client.tls_error.find("unable to get local issuer certificate") != std::string::npos);
  CHECK(p.server_ch->error().find("unknown ca") != std::string::npos);
  // After the failure the client's words are not sent.
  p.client.say("QUIT");
  p.client_ch->pump();
  CHECK(p.client_ch->take_wire_out().empty());
}

TEST_CASE("implicit TLS: the session starts only once the handshake is done") {
  const std::size_t chunk = GENERATE(std::size_t{1}, std::size_t{4096});
  Pair p(ca().client_context(), "127.0.0.1", true);
  p.server_ch->start();
  CHECK(p.server.start_calls == 0);
  CHECK(p.server_ch->take_wire_out().empty());  // the server waits for the ClientHello
  p.client_ch->start();
  CHECK(p.client.start_calls == 0);
  p.run(chunk);
  CHECK(p.server.start_calls == 1);
  CHECK(p.client.start_calls == 1);
  CHECK(p.client.lines == std::vector<std::string>{"+OK hello"});
  CHECK(p.server_side.wire_out.find("+OK hello") == std::string::npos);
  p.client_says("LIST", chunk);
  CHECK(p.client.lines.back() == "ECHO LIST");
}

TEST_CASE("a plaintext client on an implicit-TLS port fails the handshake and is closed") {
  EchoServer server;
  Channel ch(server, server_options(server_tls(), true));
  ch.start();
  ch.wire_in("EHLO alpha.example\r\n");
  CHECK(ch.tls_failed());
  CHECK_FALSE(ch.error().empty());
  CHECK(server.start_calls == 0);
  (void)ch.take_wire_out();  // the alert
  CHECK(ch.wants_close());
}

TEST_CASE("STARTTLS without a TLS context is refused to the session, the stream stays usable") {
  Pair p(std::nullopt, "mx.beta.example", false, std::nullopt);
  p.start(4096);
  p.client_says("STARTTLS", 4096);
  CHECK(p.server.tls_error == "TLS is not configured on this connection");
  CHECK(p.client.tls_error == "TLS is not configured on this connection");
  CHECK_FALSE(p.server_ch->tls_failed());
}

TEST_CASE("closing under TLS sends close_notify after the last words") {
  Pair p(ca().client_context(), "mx.beta.example");
  p.start(4096);
  p.client_says("STARTTLS", 4096);
  p.client_says("QUIT", 1);
  CHECK(p.client.lines.back() == "+OK bye");
  CHECK(p.server_side.saw(Kind::kCloseNotifySent));
  CHECK(p.client_side.saw(Kind::kCloseNotifyReceived));
  CHECK(p.client.peer_closed_calls == 1);  // told as soon as close_notify came
  CHECK(p.server_ch->wants_close());
  CHECK(p.client_ch->wants_close());
  p.client_ch->peer_closed();  // then the TCP FIN: not told twice
  CHECK(p.client.peer_closed_calls == 1);
  CHECK(p.client_side.saw(Kind::kClosed));
}

TEST_CASE("wants_close waits until the output has been taken") {
  Pair p(std::nullopt, "x", false, std::nullopt);
  p.server_ch->start();
  p.client_ch->start();
  p.server_ch->wire_in("QUIT\r\n");
  CHECK_FALSE(p.server_ch->wants_close());  // "+OK bye" still queued
  CHECK(p.server_ch->take_wire_out() == "+OK hello\r\n+OK bye\r\n");
  CHECK(p.server_ch->wants_close());
}

TEST_CASE("a peer that vanishes mid-TLS is reported as a truncated close") {
  Pair p(ca().client_context(), "mx.beta.example");
  p.start(4096);
  p.client_says("STARTTLS", 4096);
  p.server_ch->peer_closed();
  CHECK(p.server.peer_closed_calls == 1);
  const auto& ev = p.server_side.events;
  CHECK(std::any_of(ev.begin(), ev.end(), [](const Recorded& r) {
    return r.kind == Kind::kClosed && r.detail.find("without TLS close_notify") != std::string::npos;
  }));
  CHECK(p.server_ch->wants_close());
}

TEST_CASE("a slow reader makes the channel ask the host to pause") {
  EchoServer server;
  ChannelOptions o;
  o.wire_out_high_water = 64;
  Channel ch(server, std::move(o));
  ch.start();
  std::string many;
  for (int i = 0; i < 10; ++i) many += "line number " + std::to_string(i) + "\r\n";
  ch.wire_in(many);
  CHECK(ch.should_pause_reading());
  CHECK(ch.take_wire_out().size() > 64);
  CHECK_FALSE(ch.should_pause_reading());
}

TEST_CASE("misconfigured channels are refused at construction") {
  EchoServer s;
  CHECK_THROWS_AS(Channel(s, server_options(std::nullopt, true)),
                  std::invalid_argument);
  CHECK_THROWS_AS(Channel(s, server_options(ca().client_context(), false)),
                  std::invalid_argument);
  Channel ok(s, ChannelOptions{});
  CHECK_THROWS_AS(ok.wire_in("x"), std::logic_error);
}

TEST_CASE("plaintext pipelined after STARTTLS never reaches the session as if encrypted") {
  // CVE-2011-0411: an attacker appends a command to STARTTLS in the same
  // packet. The channel gives the whole chunk to the session, which drops
  // what follows STARTTLS; the TLS engine sees only later bytes.
  Pair p(ca().client_context(), "mx.beta.example");
  p.start(4096);
  p.server_ch->wire_in("STARTTLS\r\nINJECTED\r\n");
  CHECK(p.server_ch->take_wire_out() == "+OK begin TLS\r\n");
  // The real client now starts TLS as usual.
  p.client.say("STARTTLS");
  p.client_ch->pump();
  (void)p.client_ch->take_wire_out();  // already "sent" above by the attacker's packet
  p.client_ch->wire_in("+OK begin TLS\r\n");
  p.run(4096);
  CHECK(p.server_ch->tls_active());
  p.client_says("AFTER", 4096);
  CHECK(std::find(p.server.lines.begin(), p.server.lines.end(), "INJECTED") == p.server.lines.end());
  CHECK(p.server.lines.back() == "AFTER");
}
