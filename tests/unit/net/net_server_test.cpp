// NetServer and Connection over real loopback sockets, with a tiny line
// protocol (tests/unit/net/test_peer.h): pipelining, asynchronous decisions
// answered from another thread, idle timeout, connection cap, half-close and
// graceful stop.
#include "real/net/net_server.h"

#include "tests/unit/net/test_peer.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

using namespace mailsim::net;
using mailsim::net::testing::Client;
using mailsim::net::testing::DecisionQueue;
using mailsim::net::testing::LineGlue;

namespace {

struct Fixture {
  explicit Fixture(NetServerOptions o = {}) : server(adjust(o)) {
    ServiceSpec spec;
    spec.name = "line";
    spec.port = 0;
    spec.make_glue = [this](const PeerInfo&) { return std::make_unique<LineGlue>(decisions); };
    spec.refusal_line = "421 too many connections\r\n";
    port = server.add_service(std::move(spec));
    server.start();
  }
  ~Fixture() {
    server.stop();
    server.join();
  }
  static NetServerOptions adjust(NetServerOptions o) {
    o.handle_signals = false;  // never touch the test runner's signals
    if (o.threads == 0) o.threads = 4;
    return o;
  }
  DecisionQueue decisions;
  NetServer server;
  std::uint16_t port = 0;
};

}  // namespace

TEST_CASE("a connection greets and answers pipelined commands in order and closes on QUIT") {
  Fixture f;
  Client c(f.port);
  CHECK(c.line() == "220 line service ready");
  c.send("ECHO one\r\nECHO two\r\nbogus\r\nECHO three\r\nQUIT\r\nECHO never\r\n");
  CHECK(c.line() == "250 one");
  CHECK(c.line() == "250 two");
  CHECK(c.line() == "500 what?");
  CHECK(c.line() == "250 three");
  CHECK(c.line() == "221 bye");
  CHECK(c.line() == "<EOF>");
}

TEST_CASE("an asynchronous decision made on another thread is answered on the strand in order") {
  Fixture f;
  Client c(f.port);
  CHECK(c.line() == "220 line service ready");
  // The ECHO after SLOW must wait for the decision: replies stay in order.
  c.send("ECHO before\r\nSLOW fsync\r\nECHO after\r\n");
  CHECK(c.line() == "250 before");
  auto decide = f.decisions.pop();
  std::thread worker([&] { decide("durable"); });
  worker.join();
  CHECK(c.line() == "250 durable fsync");
  CHECK(c.line() == "250 after");
}

TEST_CASE("a client that half-closes after pipelining still gets every answer") {
  Fixture f;
  Client c(f.port);
  CHECK(c.line() == "220 line service ready");
  c.send("ECHO a\r\nSLOW b\r\nECHO c\r\n");
  c.shutdown_write();
  CHECK(c.line() == "250 a");
  f.decisions.pop()("ok");
  CHECK(c.line() == "250 ok b");
  CHECK(c.line() == "250 c");
  CHECK(c.line() == "<EOF>");
}

TEST_CASE("a silent client is dropped after the idle timeout with the goodbye line") {
  NetServerOptions o;
  o.idle_timeout = std::chrono::milliseconds(200);
  Fixture f(o);
  Client c(f.port);
  CHECK(c.line() == "220 line service ready");
  c.send("ECHO still here\r\n");
  CHECK(c.line() == "250 still here");
  // Now say nothing: the server gives up on its own.
  CHECK(c.line() == "421 idle timeout");
  CHECK(c.line() == "<EOF>");
}

TEST_CASE("the idle timeout counts from the last activity, not from when its timer was set") {
  // The deadline is a stamp checked by one timer (no re-arm per read): a
  // client that keeps talking for several idle timeouts stays, and once it
  // falls silent it is still dropped. The pauses are the client's own
  // pace, each a fraction of the timeout, so a slow machine cannot turn
  // them into a timeout.
  NetServerOptions o;
  o.idle_timeout = std::chrono::milliseconds(400);
  Fixture f(o);
  Client c(f.port);
  CHECK(c.line() == "220 line service ready");
  for (int i = 0; i < 16; ++i) {  // about 4 idle timeouts of steady traffic
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    c.send("ECHO tick " + std::to_string(i) + "\r\n");
    CHECK(c.line() == "250 tick " + std::to_string(i));
  }
  CHECK(c.line() == "421 idle timeout");
  CHECK(c.line() == "<EOF>");
}

TEST_CASE("no idle timeout runs while the server itself is busy deciding") {
  NetServerOptions o;
  o.idle_timeout = std::chrono::milliseconds(100);
  Fixture f(o);
  Client c(f.port);
  CHECK(c.line() == "220 line service ready");
  c.send("SLOW long\r\n");
  auto decide = f.decisions.pop();
  // Wait well past the idle timeout for the server's own work: the client
  // did nothing wrong, so it must not be dropped. (A wait on the server's
  // side is the point of this test; it cannot make the test flaky.)
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  decide("finally");
  CHECK(c.line() == "250 finally long");
}

TEST_CASE("over the connection cap a client is refused politely and a freed slot is reused") {
  NetServerOptions o;
  o.max_connections = 2;
  Fixture f(o);
  Client a(f.port), b(f.port);
  CHECK(a.line() == "220 line service ready");
  CHECK(b.line() == "220 line service ready");
  {
    Client refused(f.port);
    CHECK(refused.line() == "421 too many connections");
    CHECK(refused.line() == "<EOF>");
  }
  a.send("QUIT\r\n");
  CHECK(a.line() == "221 bye");
  CHECK(a.line() == "<EOF>");
  // The slot is released when the server's connection object is gone, just
  // after the close; retry a bounded number of times until it is.
  bool accepted = false;
  for (int attempt = 0; attempt < 200 && !accepted; ++attempt) {
    Client next(f.port);
    const std::string first = next.line();
    accepted = first == "220 line service ready";
    if (!accepted) {
      REQUIRE(first == "421 too many connections");
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  CHECK(accepted);
}

TEST_CASE("a graceful stop lets a pending decision finish then says goodbye and run() returns") {
  Fixture f;
  Client idle(f.port), busy(f.port);
  CHECK(idle.line() == "220 line service ready");
  CHECK(busy.line() == "220 line service ready");
  busy.send("SLOW last words\r\n");
  auto decide = f.decisions.pop();
  f.server.stop();
  CHECK(idle.line() == "421 shutting down");
  CHECK(idle.line() == "<EOF>");
  decide("kept");
  CHECK(busy.line() == "250 kept last words");
  CHECK(busy.line() == "421 shutting down");
  CHECK(busy.line() == "<EOF>");
  f.server.join();
  CHECK(f.server.live_connections() == 0);
}

TEST_CASE("a stop with a client that never answers ends after the grace period") {
  NetServerOptions o;
  o.shutdown_grace = std::chrono::milliseconds(100);
  Fixture f(o);
  Client busy(f.port);
  CHECK(busy.line() == "220 line service ready");
  busy.send("SLOW forever\r\n");
  auto decide = f.decisions.pop();
  f.server.stop();
  // The decision never comes before the grace period ends: the connection is
  // closed anyway. (The Completion still keeps the io_context alive, so the
  // decision arrives into a closed connection harmlessly.)
  CHECK(busy.line() == "<EOF>");
  decide("too late");
  f.server.join();
  CHECK(f.server.live_connections() == 0);
}

TEST_CASE("add_service reports a port that is already taken") {
  Fixture f;
  ServiceSpec spec;
  spec.name = "again";
  spec.port = f.port;
  spec.make_glue = [&](const PeerInfo&) { return std::make_unique<LineGlue>(f.decisions); };
  CHECK_THROWS_AS(f.server.add_service(std::move(spec)), BindError);
}

TEST_CASE("a client that floods pipelined commands does not keep another one waiting on the same thread") {
  // One thread serves both. A connection reads and answers at most a few
  // reads' worth of input per turn, then lets the others have theirs; one
  // that read for as long as input kept coming would never let the second
  // client in while the first keeps sending.
  NetServerOptions o;
  o.threads = 1;
  Fixture f(o);
  Client flooder(f.port);
  CHECK(flooder.line() == "220 line service ready");
  std::atomic<bool> stop{false};
  std::atomic<long> sent{0}, answered{0};
  std::thread reader([&] {
    while (flooder.line() == "250 x") ++answered;
  });
  std::thread writer([&] {
    std::string batch;
    for (int i = 0; i < 4096; ++i) batch += "ECHO x\r\n";
    // Bounded: at most 1,000 batches (32 MB), and only while the test runs.
    for (int i = 0; i < 1000 && !stop; ++i) {
      flooder.send(batch);
      sent += 4096;
    }
    flooder.shutdown_write();
  });
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (answered == 0 && std::chrono::steady_clock::now() < give_up) std::this_thread::yield();
  REQUIRE(answered > 0);  // the flood is being served
  Client other(f.port);
  CHECK(other.line() == "220 line service ready");
  other.send("ECHO ping\r\n");
  CHECK(other.line() == "250 ping");
  const long answered_then = answered;
  stop = true;
  writer.join();
  reader.join();
  CHECK(answered == sent);          // and the flood was answered to the end
  CHECK(answered_then < answered);  // the second client was served in the middle of it
}
