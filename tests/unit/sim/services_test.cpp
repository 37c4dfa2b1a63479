// Tests for sim/services: the MTA's Clock, Resolver and Connector over the
// simulator (real/mta/services.h contracts).
#include "sim/services/services.h"

#include <catch2/catch.hpp>

using namespace mailsim;
using namespace mailsim::sim;

TEST_CASE("SimClock: virtual time and timers that never fire inside schedule()", "[services]") {
  Engine engine;
  SimClock clock(engine);
  std::vector<mta::TimePoint> fired;
  clock.schedule(0, [&] { fired.push_back(clock.now()); });
  CHECK(fired.empty());
  const auto id = clock.schedule(5 * mta::kSecond, [&] { fired.push_back(clock.now()); });
  clock.schedule(-3, [&] { fired.push_back(clock.now()); });
  clock.schedule(9 * mta::kSecond, [&] { fired.push_back(clock.now()); });
  clock.cancel(id);
  clock.cancel(id);  // a no-op
  engine.run();
  CHECK(fired == std::vector<mta::TimePoint>{0, 0, 9 * mta::kSecond});
}

TEST_CASE("SimResolver maps DNS answers to the MTA's statuses", "[services]") {
  Engine engine;
  Trace trace(&engine);
  Network net(engine, trace);
  const auto mta_host = net.add_host("mta");
  DnsDatabase db;
  db.add({"beta.example", DnsType::kMx, 300, 20, "mx2.beta.example"});
  db.add({"beta.example", DnsType::kMx, 300, 10, "mx1.beta.example"});
  db.add({"mx1.beta.example", DnsType::kA, 300, 0, "10.0.0.7"});
  db.add({"nomail.example", DnsType::kMx, 300, 0, "."});
  db.add({"nomail.example", DnsType::kTxt, 300, 0, "v=spf1 -all"});
  DnsResolver dns(net, db, mta_host, std::nullopt);
  SimResolver resolver(dns);

  std::vector<mta::MxAnswer> mx;
  std::vector<mta::AddressAnswer> a;
  std::vector<mta::TxtAnswer> txt;
  resolver.resolve_mx("beta.example", [&](mta::MxAnswer r) { mx.push_back(r); });
  resolver.resolve_mx("nomail.example", [&](mta::MxAnswer r) { mx.push_back(r); });
  resolver.resolve_mx("gone.example", [&](mta::MxAnswer r) { mx.push_back(r); });
  resolver.resolve_a("mx1.beta.example", [&](mta::AddressAnswer r) { a.push_back(r); });
  resolver.resolve_a("beta.example", [&](mta::AddressAnswer r) { a.push_back(r); });
  resolver.resolve_txt("nomail.example", [&](mta::TxtAnswer r) { txt.push_back(r); });
  engine.run();
  REQUIRE(mx.size() == 3);
  CHECK(mx[0].status == mta::DnsStatus::ok);
  REQUIRE(mx[0].records.size() == 2);
  CHECK(mx[0].records[0].host == "mx1.beta.example");
  CHECK(mx[0].records[0].preference == 10);
  CHECK(mx[1].records.at(0).host == ".");  // null MX
  CHECK(mx[2].status == mta::DnsStatus::nxdomain);
  REQUIRE(a.size() == 2);
  CHECK(a[0].addresses == std::vector<std::string>{"10.0.0.7"});
  CHECK(a[1].status == mta::DnsStatus::no_data);  // the name exists, no A: the MTA's implicit-MX fallback fails
  CHECK(txt.at(0).texts == std::vector<std::string>{"v=spf1 -all"});
  CHECK(trace.of_kind(EventKind::kDnsQuery).size() == 6);
}

TEST_CASE("SimConnector and SocketStream carry an SMTP-like exchange", "[services]") {
  Engine engine;
  Trace trace(&engine);
  Network net(engine, trace);
  const auto a = net.add_host("a");
  const auto b = net.add_host("b");
  net.add_link(a, b, 2 * kMillisecond);
  std::string server_got;
  net.listen(b, 25, [&](Socket s) {
    s.send("220 b ESMTP\r\n");
    s.on_data([&server_got, s](std::string_view bytes) mutable {
      server_got += bytes;
      if (server_got.ends_with("QUIT\r\n")) {
        s.send("221 bye\r\n");
        s.close();
      }
    });
  });
  SimConnector connector(net, a);
  std::unique_ptr<mta::ByteStream> stream;
  std::string client_got;
  bool closed = false;
  connector.connect("10.0.0.2", 25, [&](mta::ConnectResult r) {
    REQUIRE(r.stream);
    stream = std::move(r.stream);
    CHECK(stream->peer_address() == "10.0.0.2");
    stream->on_data([&](std::string_view bytes) {
      client_got += bytes;
      if (client_got == "220 b ESMTP\r\n") stream->write("QUIT\r\n");
    });
    stream->on_close([&] { closed = true; });
  });
  engine.run();
  CHECK(server_got == "QUIT\r\n");
  CHECK(client_got == "220 b ESMTP\r\n221 bye\r\n");
  CHECK(closed);  // the server closed first

  std::vector<mta::ConnectResult> failures;
  connector.connect("10.0.0.2", 587, [&](mta::ConnectResult r) { failures.push_back(std::move(r)); });
  connector.connect("mx.beta.example", 25, [&](mta::ConnectResult r) { failures.push_back(std::move(r)); });
  engine.run();
  net.set_host_up(b, false, true);
  connector.connect("10.0.0.2", 25, [&](mta::ConnectResult r) { failures.push_back(std::move(r)); });
  engine.run();
  REQUIRE(failures.size() == 3);
  CHECK(failures[0].error == mta::ConnectError::unreachable);  // not an address: answered first
  CHECK(failures[1].error == mta::ConnectError::refused);
  CHECK(failures[1].detail == "nothing listens on port 587 of b: connection refused");
  CHECK(failures[2].error == mta::ConnectError::timeout);
}

TEST_CASE("a SocketStream dropped by its owner closes and calls nobody back", "[services]") {
  Engine engine;
  Trace trace(&engine);
  Network net(engine, trace);
  const auto a = net.add_host("a");
  const auto b = net.add_host("b");
  net.add_link(a, b, kMillisecond);
  bool server_saw_close = false;
  net.listen(b, 25, [&](Socket s) {
    s.on_peer_closed([&server_saw_close, s]() mutable {
      server_saw_close = true;
      s.send("too late\r\n");  // refused: we may still send after their FIN, they dropped the stream
      s.close();
    });
  });
  SimConnector connector(net, a);
  int callbacks = 0;
  connector.connect("10.0.0.2", 25, [&](mta::ConnectResult r) {
    r.stream->on_data([&](std::string_view) { ++callbacks; });
    r.stream->on_close([&] { ++callbacks; });
    // r.stream is destroyed here.
  });
  engine.run();
  CHECK(server_saw_close);
  CHECK(callbacks == 0);
}
