// Tests for sim/net/network.h: routing, connect/refuse/timeout, latency,
// bandwidth, ordering, close, reset on outages, retransmission.
#include "sim/net/network.h"
#include "sim/trace/jsonl.h"

#include <catch2/catch.hpp>

#include <sstream>

using namespace mailsim::sim;

namespace {

struct World {
  explicit World(std::uint64_t seed = 1) : engine(seed) {}
  Engine engine;
  Trace trace{&engine};
  Network net{engine, trace};
};

// A server that records what it receives and can echo it back.
struct Server {
  std::string received;
  std::vector<Time> arrivals;
  Socket socket;
  Time accepted_at = -1;
  bool peer_closed = false;
  std::string reset_reason;
};

void serve(World& w, HostId host, std::uint16_t port, Server& s, bool echo = false) {
  w.net.listen(host, port, [&w, &s, echo](Socket sock) {
    s.socket = sock;
    s.accepted_at = w.engine.now();
    sock.on_data([&w, &s, sock, echo](std::string_view bytes) mutable {
      s.received += bytes;
      s.arrivals.push_back(w.engine.now());
      if (echo) sock.send(std::string(bytes));
    });
    sock.on_peer_closed([&s, sock]() mutable {
      s.peer_closed = true;
      sock.close();
    });
    sock.on_reset([&s](std::string_view why) { s.reset_reason = why; });
  });
}

struct Client {
  std::optional<ConnectResult> result;
  Time done_at = -1;
  std::string received;
  std::string reset_reason;
  bool peer_closed = false;
};

void dial(World& w, HostId from, HostId to, std::uint16_t port, Client& c,
          std::function<void(Socket&)> on_connected = {}) {
  w.net.connect(from, to, port, [&w, &c, on_connected](const ConnectResult& r) {
    c.result = r;
    c.done_at = w.engine.now();
    if (!r.ok()) return;
    Socket sock = r.socket;
    sock.on_data([&c](std::string_view b) { c.received += b; });
    sock.on_peer_closed([&c] { c.peer_closed = true; });
    sock.on_reset([&c](std::string_view why) { c.reset_reason = why; });
    if (on_connected) on_connected(sock);
  });
}

int count_packets(const Trace& t, std::uint8_t flag) {
  int n = 0;
  for (const auto* e : t.of_kind(EventKind::kPacket))
    if (e->as<PacketPayload>()->flags.has(flag)) ++n;
  return n;
}

}  // namespace

TEST_CASE("hosts get addresses, links join them, routes follow the lowest latency", "[net]") {
  World w;
  const auto a = w.net.add_host("a");
  const auto b = w.net.add_host("b");
  const auto c = w.net.add_host("c", {*Ipv4::parse("192.0.2.7")});
  CHECK(w.net.host(a).addresses.front().str() == "10.0.0.1");
  CHECK(w.net.host(b).addresses.front().str() == "10.0.0.2");
  CHECK(w.net.host_by_address(*Ipv4::parse("192.0.2.7")) == c);
  CHECK_THROWS(w.net.add_host("a"));
  w.net.add_link(a, b, 50 * kMillisecond);
  const auto ac = w.net.add_link(a, c, 10 * kMillisecond);
  w.net.add_link(c, b, 10 * kMillisecond);

  auto r = w.net.route(a, b);
  REQUIRE(r);
  CHECK(r->hosts == std::vector<HostId>{a, c, b});
  CHECK(r->latency == 20 * kMillisecond);

  w.net.set_link_up(ac, false);
  r = w.net.route(a, b);
  REQUIRE(r);
  CHECK(r->hosts == std::vector<HostId>{a, b});

  w.net.set_link_up(ac, true);
  w.net.set_host_up(c, false);  // a host that is down forwards nothing
  r = w.net.route(a, b);
  REQUIRE(r);
  CHECK(r->hosts == std::vector<HostId>{a, b});
  CHECK(w.net.route(a, c));  // but can still be the destination
}

namespace {

// The route the network's rules give, found the plain way: settle the
// closest unsettled host by (latency, hops, host id), relax its links in link
// order, keep the first of equally good ways, let no host that is down
// forward (the source itself forwards either way).
std::optional<Route> reference_route(const Network& net, HostId from, HostId to) {
  const std::size_t n = net.host_count();
  struct Best {
    Time latency = -1;  // -1: not reached
    std::uint32_t hops = 0;
    LinkId via = 0;
  };
  std::vector<Best> best(n);
  std::vector<bool> settled(n, false);
  best[from] = Best{0, 0, 0};
  for (;;) {
    std::optional<HostId> u;
    for (HostId v = 0; v < n; ++v) {
      if (settled[v] || best[v].latency < 0) continue;
      if (!u || std::tie(best[v].latency, best[v].hops) < std::tie(best[*u].latency, best[*u].hops)) u = v;
    }
    if (!u) break;
    settled[*u] = true;
    if (*u != from && !net.host(*u).up) continue;
    for (LinkId li = 0; li < net.link_count(); ++li) {
      const Link& l = net.link(li);
      if (!l.up || (l.a != *u && l.b != *u)) continue;
      const HostId v = l.a == *u ? l.b : l.a;
      const Best candidate{best[*u].latency + l.latency, best[*u].hops + 1, li};
      if (best[v].latency < 0 ||
          std::tie(candidate.latency, candidate.hops) < std::tie(best[v].latency, best[v].hops))
        best[v] = candidate;
    }
  }
  if (best[to].latency < 0) return std::nullopt;
  Route r;
  r.latency = best[to].latency;
  for (HostId v = to; v != from;) {
    r.hosts.push_back(v);
    r.links.push_back(best[v].via);
    const Link& l = net.link(best[v].via);
    v = l.a == v ? l.b : l.a;
  }
  r.hosts.push_back(from);
  std::reverse(r.hosts.begin(), r.hosts.end());
  std::reverse(r.links.begin(), r.links.end());
  return r;
}

}  // namespace

TEST_CASE("routes from hosts with one link are the ones a search from the host itself finds", "[net]") {
  // Random networks of routers (meshed, with latencies that tie often) and
  // hosts with one link each, two of them joined only to each other; hosts
  // and links go down and up between rounds, and every route is compared.
  for (std::uint64_t seed = 1; seed <= 12; ++seed) {
    World w(seed);
    Random& rnd = w.engine.random();
    std::vector<HostId> routers, hosts;
    for (int i = 0; i < 5; ++i) routers.push_back(w.net.add_host("r" + std::to_string(i)));
    for (std::size_t i = 1; i < routers.size(); ++i)
      w.net.add_link(routers[rnd.below(i)], routers[i], static_cast<Time>(1 + rnd.below(3)) * kMillisecond);
    for (int i = 0; i < 4; ++i) {
      const auto a = routers[rnd.below(routers.size())];
      const auto b = routers[rnd.below(routers.size())];
      if (a != b) w.net.add_link(a, b, static_cast<Time>(1 + rnd.below(3)) * kMillisecond);
    }
    for (int i = 0; i < 10; ++i) {
      hosts.push_back(w.net.add_host("h" + std::to_string(i)));
      const Time latency = static_cast<Time>(1 + rnd.below(2)) * kMillisecond;
      w.net.add_link(hosts.back(), routers[rnd.below(routers.size())], latency);
    }
    const auto p = w.net.add_host("pair-a");
    const auto q = w.net.add_host("pair-b");
    w.net.add_link(p, q, kMillisecond);
    hosts.push_back(p);
    hosts.push_back(q);
    for (int round = 0; round < 6; ++round) {
      for (HostId from = 0; from < w.net.host_count(); ++from)
        for (HostId to = 0; to < w.net.host_count(); ++to) {
          INFO("seed " << seed << ", round " << round << ", " << w.net.host(from).name << " -> "
                       << w.net.host(to).name);
          const auto want = reference_route(w.net, from, to);
          const auto got = w.net.route(from, to);
          REQUIRE(got.has_value() == want.has_value());
          if (!want) continue;
          CHECK(got->hosts == want->hosts);
          CHECK(got->links == want->links);
          CHECK(got->latency == want->latency);
          CHECK(w.net.route_latency(from, to) == want->latency);
        }
      // Something goes down or comes back: a router, a host, a link.
      const auto r = routers[rnd.below(routers.size())];
      w.net.set_host_up(r, !w.net.host(r).up);
      const auto h = hosts[rnd.below(hosts.size())];
      w.net.set_host_up(h, !w.net.host(h).up);
      const LinkId l = rnd.below(w.net.link_count());
      w.net.set_link_up(l, !w.net.link(l).up);
    }
  }
}

TEST_CASE("connect takes one round trip, accept one and a half, data one way", "[net][socket]") {
  World w;
  const auto alice = w.net.add_host("alice-pc");
  const auto mx = w.net.add_host("mx");
  w.net.add_link(alice, mx, 5 * kMillisecond);
  Server s;
  serve(w, mx, 25, s);
  Client c;
  dial(w, alice, mx, 25, c, [](Socket& sock) { sock.send("EHLO alice\r\n"); });
  w.engine.run();

  REQUIRE(c.result);
  CHECK(c.result->ok());
  CHECK(c.done_at == 10 * kMillisecond);
  CHECK(s.accepted_at == 15 * kMillisecond);
  CHECK(s.received == "EHLO alice\r\n");
  REQUIRE(s.arrivals.size() == 1);
  CHECK(s.arrivals[0] == 15 * kMillisecond);
  CHECK(c.result->socket.local().address.str() == "10.0.0.1");
  CHECK(c.result->socket.local().port == kFirstEphemeralPort);
  CHECK(c.result->socket.remote().str() == "10.0.0.2:25");

  // The handshake is on the wire: SYN, SYN-ACK, ACK, then data.
  const auto packets = w.trace.of_kind(EventKind::kPacket);
  REQUIRE(packets.size() >= 4);
  CHECK(packets[0]->as<PacketPayload>()->flags.str() == "SYN");
  CHECK(packets[1]->as<PacketPayload>()->flags.str() == "SYN,ACK");
  CHECK(packets[2]->as<PacketPayload>()->flags.str() == "ACK");
  const auto* data = packets[3]->as<PacketPayload>();
  CHECK(data->data.value == "EHLO alice\r\n");
  CHECK(data->tcp_seq == packets[0]->as<PacketPayload>()->tcp_seq + 1);
  CHECK(data->tcp_ack == packets[1]->as<PacketPayload>()->tcp_seq + 1);
  CHECK(data->arrive == 15 * kMillisecond);
  CHECK(w.trace.of_kind(EventKind::kConnect).size() == 1);
  CHECK(w.trace.of_kind(EventKind::kAccept).size() == 1);
}

TEST_CASE("delayed ACK: an answer later in the same instant carries the ACK, silence draws a pure ACK", "[net][socket]") {
  for (const bool answer : {true, false}) {
    World w;
    const auto alice = w.net.add_host("alice-pc");
    const auto mx = w.net.add_host("mx");
    w.net.add_link(alice, mx, 5 * kMillisecond);
    // The server answers in an event of its own at the same instant (as a
    // mail server does after its spool's commit), or not at all.
    w.net.listen(mx, 25, [&w, answer](Socket sock) {
      sock.on_data([&w, answer, sock](std::string_view) mutable {
        if (answer) w.engine.schedule_in(0, [sock]() mutable { sock.send("250 ok\r\n"); });
      });
    });
    Client c;
    dial(w, alice, mx, 25, c, [](Socket& sock) { sock.send("NOOP\r\n"); });
    w.engine.run();
    // After the handshake (SYN, SYN-ACK, ACK) and the NOOP: the answer with
    // the ACK, then alice's pure ACK of it; or mx's pure ACK alone.
    const auto packets = w.trace.of_kind(EventKind::kPacket);
    REQUIRE(packets.size() == (answer ? 6u : 5u));
    const auto* fifth = packets[4]->as<PacketPayload>();
    CHECK(fifth->from == "mx");
    CHECK(fifth->tcp_ack == packets[3]->as<PacketPayload>()->tcp_seq + 6);
    if (answer) {
      CHECK(fifth->flags.str() == "PSH,ACK");
      CHECK(fifth->data.value == "250 ok\r\n");
      CHECK(c.received == "250 ok\r\n");
    } else {
      CHECK(fifth->flags.str() == "ACK");
      CHECK(fifth->data.value.empty());
    }
  }
}

TEST_CASE("a closed port refuses after one round trip", "[net][socket]") {
  World w;
  const auto a = w.net.add_host("a");
  const auto b = w.net.add_host("b");
  w.net.add_link(a, b, 20 * kMillisecond);
  Client c;
  dial(w, a, b, 25, c);
  w.engine.run();
  REQUIRE(c.result);
  CHECK(c.result->status == ConnectStatus::kRefused);
  CHECK(c.done_at == 40 * kMillisecond);
  CHECK(c.result->reason == "nothing listens on port 25 of b: connection refused");
  CHECK(count_packets(w.trace, TcpFlags::kRst) == 1);
  CHECK(w.trace.of_kind(EventKind::kRefused).size() == 1);
}

TEST_CASE("a host that is down refuses, a silently down host times out", "[net][socket]") {
  World w;
  const auto a = w.net.add_host("a");
  const auto b = w.net.add_host("b");
  w.net.add_link(a, b, 20 * kMillisecond);
  Server s;
  serve(w, b, 25, s);

  SECTION("down: RST from the host's stack") {
    w.net.set_host_up(b, false);
    Client c;
    dial(w, a, b, 25, c);
    w.engine.run();
    REQUIRE(c.result);
    CHECK(c.result->status == ConnectStatus::kRefused);
    CHECK(c.done_at == 40 * kMillisecond);
    CHECK(c.result->reason == "host b is down: connection refused");
  }
  SECTION("silently down: SYN retried, then a timeout") {
    w.net.set_host_up(b, false, /*silent=*/true);
    Client c;
    dial(w, a, b, 25, c);
    w.engine.run();
    REQUIRE(c.result);
    CHECK(c.result->status == ConnectStatus::kTimedOut);
    CHECK(c.done_at == w.net.config().connect_timeout);
    // SYN at 0, then 1s, 2s, 4s, 8s later (backoff) within 30s.
    CHECK(count_packets(w.trace, TcpFlags::kSyn) == 5);
    CHECK(w.trace.of_kind(EventKind::kConnectTimeout).size() == 1);
  }
  SECTION("up again: the listener answers") {
    w.net.set_host_up(b, false);
    w.net.set_host_up(b, true);
    Client c;
    dial(w, a, b, 25, c);
    w.engine.run();
    REQUIRE(c.result);
    CHECK(c.result->ok());
  }
}

TEST_CASE("no route means a timeout", "[net][socket]") {
  World w;
  const auto a = w.net.add_host("a");
  const auto b = w.net.add_host("b");
  const auto link = w.net.add_link(a, b, 20 * kMillisecond);
  w.net.set_link_up(link, false);
  Server s;
  serve(w, b, 25, s);
  Client c;
  dial(w, a, b, 25, c);
  w.engine.run();
  REQUIRE(c.result);
  CHECK(c.result->status == ConnectStatus::kTimedOut);
  CHECK(c.result->reason == "no answer from b port 25 within 30s");
  CHECK(s.accepted_at == -1);

  Client unknown;  // an address nobody has
  w.net.connect(a, *Ipv4::parse("10.9.9.9"), 25, [&](const ConnectResult& r) { unknown.result = r; });
  w.engine.run();
  REQUIRE(unknown.result);
  CHECK(unknown.result->status == ConnectStatus::kTimedOut);
}

TEST_CASE("bandwidth: segments are serialised one after another", "[net][socket]") {
  World w;
  const auto a = w.net.add_host("a");
  const auto b = w.net.add_host("b");
  w.net.add_link(a, b, 10 * kMillisecond, 1'000'000);  // 1 Mbit/s
  Server s;
  serve(w, b, 25, s);
  const std::string payload(1460 * 10, 'x');
  Time sent_at = -1;
  Client c;
  dial(w, a, b, 25, c, [&](Socket& sock) {
    sent_at = w.engine.now();
    sock.send(payload);
  });
  w.engine.run();
  CHECK(s.received == payload);
  REQUIRE(s.arrivals.size() == 10);
  // Each full segment is 1460 + 54 header bytes = 12112 bits = 12112 us at 1 Mbit/s.
  // The handshake's last ACK (54 bytes = 432 us) left just before the data.
  const Time per_segment = 12112;
  const Time handshake_ack = 432;
  CHECK(s.arrivals.front() == sent_at + handshake_ack + per_segment + 10 * kMillisecond);
  CHECK(s.arrivals.back() == sent_at + handshake_ack + 10 * per_segment + 10 * kMillisecond);
}

TEST_CASE("bytes arrive in order, over several hops, whatever the chunking", "[net][socket]") {
  World w;
  const auto a = w.net.add_host("a");
  const auto r = w.net.add_host("router");
  const auto b = w.net.add_host("b");
  w.net.add_link(a, r, 3 * kMillisecond, 10'000'000);
  w.net.add_link(r, b, 7 * kMillisecond, 2'000'000);
  Server s;
  serve(w, b, 143, s, /*echo=*/true);
  std::string expected;
  Client c;
  dial(w, a, b, 143, c, [&](Socket& sock) {
    for (int i = 0; i < 200; ++i) {
      const std::string line = "a" + std::to_string(i) + " NOOP " + std::string(static_cast<std::size_t>(i * 37 % 3000), 'z') + "\r\n";
      expected += line;
      sock.send(line);
    }
  });
  w.engine.run();
  CHECK(s.received == expected);
  CHECK(c.received == expected);  // echoed back in order too
  bool echoed = false;
  for (const auto* e : w.trace.of_kind(EventKind::kPacket)) {
    const auto* p = e->as<PacketPayload>();
    if (p->from == "b" && !p->data.value.empty()) {
      CHECK(p->path == std::vector<std::string>{"b", "router", "a"});
      echoed = true;
    }
  }
  CHECK(echoed);
}

TEST_CASE("close: FIN both ways, both sides learn, handlers are released", "[net][socket]") {
  World w;
  const auto a = w.net.add_host("a");
  const auto b = w.net.add_host("b");
  w.net.add_link(a, b, 5 * kMillisecond);
  Server s;
  serve(w, b, 110, s);
  Client c;
  Socket client_socket;
  dial(w, a, b, 110, c, [&](Socket& sock) {
    client_socket = sock;
    sock.send("QUIT\r\n");
    sock.close();
    CHECK_FALSE(sock.send("too late"));
  });
  w.engine.run();
  CHECK(s.received == "QUIT\r\n");
  CHECK(s.peer_closed);
  CHECK(c.peer_closed);
  CHECK(count_packets(w.trace, TcpFlags::kFin) == 2);
  CHECK(count_packets(w.trace, TcpFlags::kRst) == 0);
  CHECK(w.trace.of_kind(EventKind::kClose).size() == 2);
  CHECK(w.net.sockets_of(a).empty());
  CHECK(w.net.sockets_of(b).empty());
  CHECK_FALSE(client_socket.can_send());
}

TEST_CASE("a connection the server closed first leaves the table once both sides are done", "[net][socket]") {
  // As after SMTP's "221 Bye": the server closes and drops its handlers, then
  // the client's FIN reaches an end nobody listens on. Before the fix, every
  // such connection stayed in the table for good (one per letter in a run).
  World w;
  const auto a = w.net.add_host("a");
  const auto b = w.net.add_host("b");
  w.net.add_link(a, b, 5 * kMillisecond);
  Socket server_socket;
  w.net.listen(b, 25, [&](Socket sock) {
    server_socket = sock;
    sock.send("221 Bye\r\n");
    sock.close();
  });
  Client c;
  dial(w, a, b, 25, c, [&](Socket& sock) {
    sock.on_peer_closed([&c, sock]() mutable {
      c.peer_closed = true;
      sock.close();
    });
  });
  w.engine.run();
  CHECK(c.received == "221 Bye\r\n");
  CHECK(c.peer_closed);
  CHECK(count_packets(w.trace, TcpFlags::kFin) == 2);
  CHECK(count_packets(w.trace, TcpFlags::kRst) == 0);
  CHECK(w.net.live_connections() == 0);
  // The handles still answer from what is left of the connection, and the
  // server's end, closed without a handler, is told of the peer's close
  // once if it asks now, as a live end would have told it.
  CHECK(server_socket.peer_closed());
  CHECK_FALSE(server_socket.can_send());
  int told = 0;
  server_socket.on_peer_closed([&told] { ++told; });
  server_socket.on_peer_closed([&told] { ++told; });
  w.engine.run();
  CHECK(told == 1);
}

TEST_CASE("a host going down resets its connections", "[net][socket]") {
  World w;
  const auto a = w.net.add_host("a");
  const auto b = w.net.add_host("b");
  w.net.add_link(a, b, 5 * kMillisecond);
  Server s;
  serve(w, b, 25, s);
  Client c;
  dial(w, a, b, 25, c);
  w.engine.run();
  REQUIRE(c.result->ok());

  SECTION("not silently: the peer gets a RST one trip later") {
    const Time down_at = w.engine.now();
    w.net.set_host_up(b, false);
    CHECK(s.reset_reason == "host b went down");
    Time reset_at = -1;
    c.result->socket.on_reset([&](std::string_view why) {
      c.reset_reason = why;
      reset_at = w.engine.now();
    });
    w.engine.run();
    CHECK(c.reset_reason == "connection reset by b");
    CHECK(reset_at == down_at + 5 * kMillisecond);
    CHECK_FALSE(c.result->socket.can_send());
  }
  SECTION("silently: the peer finds out when its data goes unanswered") {
    w.net.set_host_up(b, false, /*silent=*/true);
    CHECK(c.result->socket.send("MAIL FROM:<a@x>\r\n"));
    w.engine.run();
    CHECK(c.reset_reason == "connection timed out: no answer from b for 120s");
    CHECK(count_packets(w.trace, TcpFlags::kRst) == 0);
  }
}

TEST_CASE("a link that goes down and comes back: data is retransmitted, exactly once, in order", "[net][socket]") {
  World w;
  const auto a = w.net.add_host("a");
  const auto b = w.net.add_host("b");
  const auto link = w.net.add_link(a, b, 50 * kMillisecond);
  Server s;
  serve(w, b, 25, s);
  Client c;
  dial(w, a, b, 25, c);
  w.engine.run();
  REQUIRE(c.result->ok());
  Socket sock = c.result->socket;
  sock.send("first\r\n");
  w.engine.run_until(w.engine.now() + 10 * kMillisecond);  // in flight
  w.net.set_link_up(link, false);
  sock.send("second\r\n");
  w.engine.run_until(w.engine.now() + 5 * kSecond);
  CHECK(s.received.empty());
  w.net.set_link_up(link, true);
  w.engine.run();
  CHECK(s.received == "first\r\nsecond\r\n");
  CHECK(c.reset_reason.empty());
}

TEST_CASE("port outages refuse new connections and reset current ones", "[net][socket]") {
  World w;
  const auto a = w.net.add_host("a");
  const auto b = w.net.add_host("b");
  w.net.add_link(a, b, 5 * kMillisecond);
  Server s;
  serve(w, b, 587, s);
  Client first;
  dial(w, a, b, 587, first);
  w.engine.run();
  REQUIRE(first.result->ok());
  w.net.set_port_blocked(b, 587, true);
  w.engine.run();
  CHECK(first.reset_reason == "connection reset by b");
  Client second;
  dial(w, a, b, 587, second);
  w.engine.run();
  CHECK(second.result->status == ConnectStatus::kRefused);
  CHECK(second.result->reason == "port 587 of b is closed: connection refused");
  w.net.set_port_blocked(b, 587, false);
  Client third;
  dial(w, a, b, 587, third);
  w.engine.run();
  CHECK(third.result->ok());
}

TEST_CASE("the same seed gives the same trace, byte for byte", "[net][determinism]") {
  auto run = [](std::uint64_t seed) {
    World w(seed);
    const auto a = w.net.add_host("a");
    const auto b = w.net.add_host("b");
    w.net.add_link(a, b, 5 * kMillisecond, 1'000'000);
    Server s;
    serve(w, b, 25, s, true);
    Client c;
    dial(w, a, b, 25, c, [](Socket& sock) {
      sock.send(std::string(5000, 'q'));
      sock.close();
    });
    w.engine.run();
    std::ostringstream out;
    write_jsonl(w.trace, out);
    return out.str();
  };
  CHECK(run(5) == run(5));
  CHECK(run(5) != run(6));  // the initial sequence numbers come from the seed
}

TEST_CASE("packet_crosses tells what a tap on a link sees", "[net]") {
  PacketPayload p;
  p.path = {"a", "r", "b"};
  CHECK(packet_crosses(p, "a", "r"));
  CHECK(packet_crosses(p, "b", "r"));
  CHECK_FALSE(packet_crosses(p, "a", "b"));
}
