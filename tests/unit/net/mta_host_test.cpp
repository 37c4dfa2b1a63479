// The MTA's host pieces in `mailsim serve`: the serve config's "mta"
// section, the static resolver file (MX and A answers, ports for two servers
// on one machine) and host:port splitting for the connector.
#include "real/net/mta_host.h"
#include "real/net/serve_config.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace mailsim;
using namespace mailsim::net;

namespace {

ServeConfig accepted(std::string_view json) {
  auto r = parse_config(json, "serve.json", "/base");
  if (auto* e = std::get_if<ConfigError>(&r)) FAIL(e->to_string());
  return std::get<ServeConfig>(r);
}

mta::MxAnswer mx(StaticResolver& r, const std::string& domain) {
  mta::MxAnswer out;
  bool called = false;
  r.resolve_mx(domain, [&](mta::MxAnswer a) {
    out = std::move(a);
    called = true;
  });
  REQUIRE(called);
  return out;
}

mta::AddressAnswer a(StaticResolver& r, const std::string& host) {
  mta::AddressAnswer out;
  bool called = false;
  r.resolve_a(host, [&](mta::AddressAnswer x) {
    out = std::move(x);
    called = true;
  });
  REQUIRE(called);
  return out;
}

}  // namespace

TEST_CASE("the mta section: defaults, every field, and refusals") {
  const ServeConfig d = accepted("{}");
  CHECK(d.mta.enabled);
  CHECK_FALSE(d.mta.open_relay);
  CHECK(d.spool_dir() == d.data_dir / "spool");
  CHECK(d.mta.minimal_backoff == std::chrono::seconds(300));

  const ServeConfig c = accepted(R"({"data_dir": "/d", "mta": {"enabled": true, "spool_dir": "q",
      "minimal_backoff": 1, "maximal_backoff": 2, "queue_lifetime": 60, "bounce_lifetime": 30,
      "relay_host": "smtp.isp.test:587", "open_relay": true, "trusted_networks": ["10.0.0.0/8"],
      "resolver_file": "dns.json"}})");
  CHECK(c.spool_dir() == std::filesystem::path("/d/q"));
  CHECK(c.mta.minimal_backoff == std::chrono::seconds(1));
  CHECK(c.mta.maximal_backoff == std::chrono::seconds(2));
  CHECK(c.mta.queue_lifetime == std::chrono::seconds(60));
  CHECK(c.mta.relay_host == "smtp.isp.test");
  CHECK(c.mta.relay_port == 587);
  CHECK(c.open_relay);
  CHECK(c.mta.trusted_networks == std::vector<std::string>{"10.0.0.0/8"});
  CHECK(c.mta.resolver_file == std::filesystem::path("/base/dns.json"));
  // Written back and read again, nothing changes.
  CHECK(config_to_json(accepted(config_to_json(c))) == config_to_json(c));

  auto refused_at = [](std::string_view json) {
    auto r = parse_config(json, "serve.json", "/base");
    REQUIRE(std::holds_alternative<ConfigError>(r));
    return std::get<ConfigError>(r).pointer;
  };
  CHECK(refused_at(R"({"mta": {"minimal_backoff": 5, "maximal_backoff": 2}})") == "/mta/maximal_backoff");
  CHECK(refused_at(R"({"mta": {"relay_host": "isp:0"}})") == "/mta/relay_host");
  CHECK(refused_at(R"({"mta": {"retry": 1}})") == "/mta/retry");
}

TEST_CASE("the static resolver answers MX and A from its file") {
  StaticResolver r = StaticResolver::parse(R"({
      "mx": {"beta.test": [[10, "mx.beta.test"], [20, "MX2.beta.test"]]},
      "hosts": {"mx.beta.test": {"address": "127.0.0.1", "port": 2526},
                "mx2.beta.test": {"address": ["192.0.2.7", "::1"]},
                "gamma.test": "192.0.2.9"}})",
                                           "dns.json");
  const auto beta = mx(r, "Beta.Test");
  CHECK(beta.status == mta::DnsStatus::ok);
  REQUIRE(beta.records.size() == 2);
  CHECK(beta.records[0].preference == 10);
  CHECK(beta.records[1].host == "mx2.beta.test");
  // A host with no MX of its own is its own mail server (implicit MX).
  CHECK(mx(r, "gamma.test").status == mta::DnsStatus::no_data);
  CHECK(mx(r, "nowhere.test").status == mta::DnsStatus::nxdomain);

  CHECK(a(r, "mx.beta.test").addresses == std::vector<std::string>{"127.0.0.1:2526"});
  CHECK(a(r, "mx2.beta.test").addresses == std::vector<std::string>{"192.0.2.7", "::1"});
  CHECK(a(r, "192.0.2.50").addresses == std::vector<std::string>{"192.0.2.50"});
  CHECK(a(r, "nowhere.test").status == mta::DnsStatus::nxdomain);

  CHECK_THROWS_WITH(StaticResolver::parse(R"({"hosts": {"x": {"address": "not-an-ip"}}})", "dns.json"),
                    Catch::Contains("dns.json") && Catch::Contains("not an IP address"));
  CHECK_THROWS_WITH(StaticResolver::parse(R"({"mx": {"x": [["ten", "h"]]}})", "dns.json"),
                    Catch::Contains("/mx/x"));
}

TEST_CASE("an address may carry the port of the server behind it") {
  CHECK(split_host_port("127.0.0.1:2526", 25) == std::pair<std::string, std::uint16_t>{"127.0.0.1", 2526});
  CHECK(split_host_port("127.0.0.1", 25) == std::pair<std::string, std::uint16_t>{"127.0.0.1", 25});
  CHECK(split_host_port("[::1]:2526", 25) == std::pair<std::string, std::uint16_t>{"::1", 2526});
  CHECK(split_host_port("::1", 25) == std::pair<std::string, std::uint16_t>{"::1", 25});
  CHECK(split_host_port("127.0.0.1:99999", 25) == std::pair<std::string, std::uint16_t>{"127.0.0.1:99999", 25});
}

TEST_CASE("the MTA thread runs batched work together, in order, within its linger") {
  // serve hands messages answered with 250 to the MTA thread this way: many
  // posted close together cost the thread one wake, not one each.
  MtaThread thread;
  std::mutex m;
  std::condition_variable cv;
  std::vector<int> order;
  std::vector<std::thread::id> ran_on;
  std::vector<std::chrono::steady_clock::time_point> ran_at;
  const auto t0 = std::chrono::steady_clock::now();
  constexpr int kPosts = 50;
  for (int i = 0; i < kPosts; ++i)
    thread.post_batched([&, i] {
      std::lock_guard lock(m);
      order.push_back(i);
      ran_on.push_back(std::this_thread::get_id());
      ran_at.push_back(std::chrono::steady_clock::now());
      cv.notify_all();
    });
  std::unique_lock lock(m);
  REQUIRE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return order.size() == kPosts; }));
  for (int i = 0; i < kPosts; ++i) CHECK(order[static_cast<std::size_t>(i)] == i);
  for (const auto& id : ran_on) {
    CHECK(id != std::this_thread::get_id());
    CHECK(id == ran_on.front());
  }
  // They waited for the linger (so that more could join) and then all went
  // in one turn: the first ran no sooner than the linger after it was posted.
  CHECK(ran_at.front() - t0 >= MtaThread::batch_linger);
  lock.unlock();

  // A post after the batch ran starts a new one: nothing is left behind.
  std::atomic<bool> later{false};
  thread.post_batched([&] {
    later = true;
    cv.notify_all();
  });
  lock.lock();
  REQUIRE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return later.load(); }));
}

TEST_CASE("at shutdown, serve runs the MTA thread's gathered work at once") {
  // serve counts the queue as it stops: a message answered a moment ago
  // must be in it, not waiting for the batch's linger.
  MtaThread thread;
  std::atomic<int> ran{0};
  for (int i = 0; i < 3; ++i) thread.post_batched([&] { ran.fetch_add(1); });
  thread.run_batched_now();
  CHECK(ran.load() == 3);
  // The linger's timer finds nothing left to run twice.
  std::this_thread::sleep_for(MtaThread::batch_linger * 4);
  thread.run_sync([] {});
  CHECK(ran.load() == 3);
}

TEST_CASE("the MTA's clock runs a timer of no delay on a later turn, unless cancelled") {
  // The queue schedules every new letter this way (delay 0): it must not run
  // inside schedule(), must keep the order of scheduling, and cancel() must
  // still stop it; a clock that goes away first leaves nothing to run.
  boost::asio::io_context io;
  std::vector<std::string> ran;
  {
    AsioClock clock(io);
    clock.schedule(0, [&] { ran.push_back("first"); });
    const auto cancelled = clock.schedule(0, [&] { ran.push_back("cancelled"); });
    clock.schedule(-5, [&] { ran.push_back("second"); });
    clock.schedule(1000, [&] { ran.push_back("after 1 ms"); });
    CHECK(ran.empty());
    clock.cancel(cancelled);
    io.run_for(std::chrono::seconds(5));
    CHECK(ran == std::vector<std::string>{"first", "second", "after 1 ms"});
    io.restart();
    clock.schedule(0, [&] { ran.push_back("never"); });
  }
  io.run_for(std::chrono::milliseconds(50));
  CHECK(ran.size() == 3);
}
