// Reading the address and choosing a route: MX preference, shuffling of
// equal preferences, implicit MX, null MX, NXDOMAIN, backup MX, and the two
// kinds of mail loop.
#include "real/mta/routing.h"

#include <catch2/catch.hpp>
#include <set>

#include "real/mta/address.h"
#include "real/mta/dsn.h"
#include "tests/unit/mta/harness.h"

using namespace mailsim::mta;
using namespace mailsim::mta::testing;

namespace {

std::vector<std::string> hosts(const Route& r) {
  std::vector<std::string> out;
  for (const auto& h : r.hops) out.push_back(h.host);
  return out;
}

Route route(const MxAnswer& answer, const std::string& self = "mail.alpha.example", std::uint64_t seed = 1) {
  MxShuffler shuffler(seed);
  return route_from_mx("beta.example", answer, SelfNames{{self}}, shuffler, 25);
}

MxAnswer mx(std::vector<MxRecord> records) { return MxAnswer{DnsStatus::ok, std::move(records)}; }

}  // namespace

TEST_CASE("domains and host names compare ignoring ASCII case and trailing dots") {
  CHECK(same_domain("Example.COM.", "example.com"));
  CHECK(same_domain("example.com", "EXAMPLE.COM.."));
  CHECK_FALSE(same_domain("example.com", "example.co"));
  CHECK_FALSE(same_domain("mail.example.com", "example.com"));
  CHECK(same_domain("", "."));
  const SelfNames self{{"mail.alpha.example", "MX.Alpha.Example"}};
  CHECK(self.is_self("MAIL.alpha.example."));
  CHECK(self.is_self("mx.alpha.example"));
  CHECK_FALSE(self.is_self("mx2.alpha.example"));
}

TEST_CASE("MX hosts are tried from the lowest preference number up") {
  auto r = route(mx({{30, "c.beta.example"}, {10, "a.beta.example"}, {20, "b.beta.example."}}));
  CHECK(r.kind == Route::Kind::remote);
  CHECK(hosts(r) == std::vector<std::string>{"a.beta.example", "b.beta.example", "c.beta.example"});
  CHECK(r.hops[0].preference == 10);
  CHECK(r.hops[0].port == 25);
  CHECK_FALSE(r.hops[0].implicit);
}

TEST_CASE("hosts of equal preference are shuffled: seeded, and both orders occur") {
  auto answer = mx({{10, "x.beta.example"}, {10, "y.beta.example"}, {20, "z.beta.example"}});
  std::set<std::vector<std::string>> seen;
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    auto order = hosts(route(answer, "mail.alpha.example", seed));
    CHECK(order.back() == "z.beta.example");  // never ahead of better MX
    CHECK(order == hosts(route(answer, "mail.alpha.example", seed)));  // same seed, same order
    seen.insert(order);
  }
  CHECK(seen.size() == 2);
  CHECK(seen.count({"x.beta.example", "y.beta.example", "z.beta.example"}) == 1);
  CHECK(seen.count({"y.beta.example", "x.beta.example", "z.beta.example"}) == 1);

  // One shuffler used again and again (one MTA, many messages) also varies.
  MxShuffler one(7);
  std::set<std::string> firsts;
  for (int i = 0; i < 40; ++i) {
    auto recs = answer.records;
    one.order(recs);
    firsts.insert(recs[0].host);
  }
  CHECK(firsts.size() == 2);
}

TEST_CASE("without MX records the domain's own address is the mail host (implicit MX)") {
  for (auto status : {DnsStatus::no_data, DnsStatus::ok}) {
    auto r = route(MxAnswer{status, {}});
    CHECK(r.kind == Route::Kind::remote);
    REQUIRE(r.hops.size() == 1);
    CHECK(r.hops[0].host == "beta.example");
    CHECK(r.hops[0].implicit);
    CHECK_THAT(r.note, Catch::Contains("implicit MX"));
  }
}

TEST_CASE("a null MX means the domain takes no mail: bounce 5.1.10 (RFC 7505)") {
  for (std::string dot : {".", ""}) {
    auto r = route(mx({{0, dot}}));
    CHECK(r.kind == Route::Kind::bounce);
    CHECK(r.failure.status() == "5.1.10");
    CHECK(r.failure.code == 556);
  }
}

TEST_CASE("a domain that does not exist bounces 5.1.2, DNS trouble defers 4.4.3") {
  auto nx = route(MxAnswer{DnsStatus::nxdomain, {}});
  CHECK(nx.kind == Route::Kind::bounce);
  CHECK(nx.failure.status() == "5.1.2");
  CHECK_THAT(nx.failure.text, Catch::Contains("Host or domain name not found"));
  auto temp = route(MxAnswer{DnsStatus::temp_fail, {}});
  CHECK(temp.kind == Route::Kind::defer);
  CHECK(temp.failure.status() == "4.4.3");
  CHECK(temp.failure.transient());
}

TEST_CASE("a backup MX only passes mail to more preferred hosts (RFC 5321 5.1)") {
  auto answer = mx({{10, "mx1.beta.example"}, {20, "backup.beta.example"}, {20, "other.beta.example"},
                    {30, "last.beta.example"}});
  auto r = route(answer, "BACKUP.beta.example.");
  CHECK(r.kind == Route::Kind::remote);
  CHECK(hosts(r) == std::vector<std::string>{"mx1.beta.example"});
  CHECK_THAT(r.note, Catch::Contains("we are MX 20"));
}

TEST_CASE("being the best MX for a domain we do not deliver is a loop: bounce 5.4.6") {
  auto r = route(mx({{10, "mail.alpha.example"}, {20, "backup.beta.example"}}));
  CHECK(r.kind == Route::Kind::bounce);
  CHECK(r.loop);
  CHECK(r.failure.status() == "5.4.6");
  CHECK_THAT(r.failure.text, Catch::Contains("loops back to myself"));
  // Implicit MX pointing at ourselves, too.
  MxShuffler s(1);
  auto self = route_from_mx("mail.alpha.example", MxAnswer{DnsStatus::no_data, {}},
                            SelfNames{{"mail.alpha.example"}}, s, 25);
  CHECK(self.kind == Route::Kind::bounce);
  CHECK(self.loop);
}

// ---- the same rules, seen from a running MTA ---------------------------------------

TEST_CASE("the next MX is tried when the first refuses the connection, answers 4xx or 5xx at greeting") {
  Harness h;
  h.dns.mx("beta.example", {{10, "mx1.beta.example"}, {20, "mx2.beta.example"}, {30, "mx3.beta.example"},
                            {40, "mx4.beta.example"}});
  h.dns.a("mx1.beta.example", {"192.0.2.1"});
  h.dns.a("mx2.beta.example", {"192.0.2.2"});
  h.dns.a("mx3.beta.example", {"192.0.2.3"});
  h.dns.a("mx4.beta.example", {"192.0.2.4"});
  // mx1: no server (refused); mx2: 421 greeting; mx3: 554 greeting; mx4 fine.
  h.net.server("192.0.2.2").greeting = make_reply(421, "4.3.2", "busy");
  h.net.server("192.0.2.3").greeting = make_reply(554, "5.7.1", "no service for you");
  h.net.server("192.0.2.4");
  h.submit("alice@alpha.example", {"bob@beta.example"});
  CHECK(h.net.log == std::vector<std::string>{"open mx1.beta.example 192.0.2.1", "open mx2.beta.example 192.0.2.2",
                                              "open mx3.beta.example 192.0.2.3", "open mx4.beta.example 192.0.2.4"});
  CHECK(h.net.server("192.0.2.4").received.size() == 1);
  CHECK(h.mta->queue().empty());
}

TEST_CASE("a 4xx to RCPT is tried on the next MX too, a 5xx is final at once") {
  Harness h;
  h.dns.mx("beta.example", {{10, "mx1.beta.example"}, {20, "mx2.beta.example"}});
  h.dns.a("mx1.beta.example", {"192.0.2.1"});
  h.dns.a("mx2.beta.example", {"192.0.2.2"});
  h.net.server("192.0.2.1").rcpt_replies["bob@beta.example"] = make_reply(451, "4.3.0", "greylisted");
  h.net.server("192.0.2.1").rcpt_replies["carol@beta.example"] = make_reply(550, "5.1.1", "unknown");
  h.net.server("192.0.2.2");
  h.submit("alice@alpha.example", {"bob@beta.example", "carol@beta.example"});
  REQUIRE(h.net.server("192.0.2.2").received.size() == 1);
  CHECK(h.net.server("192.0.2.2").received[0].recipients == std::vector<std::string>{"bob@beta.example"});
  CHECK(h.log.count<event::Bounced>() == 1);
}

TEST_CASE("when every MX refuses at greeting with 5xx the mail bounces") {
  Harness h;
  h.net.server("192.0.2.10").greeting = make_reply(554, "5.7.1", "mx.beta.example: no SMTP service here");
  h.submit("alice@alpha.example", {"bob@beta.example"});
  auto b = h.log.all<event::Bounced>();
  REQUIRE(b.size() == 1);
  CHECK(b[0].second.status == "5.7.1");
  CHECK(h.mta->queue().empty());
}

TEST_CASE("an MTA routes: fallback to A, null MX, NXDOMAIN, own domain loop") {
  Harness h;
  h.dns.mx_status("plain.example", DnsStatus::no_data);
  h.dns.a("plain.example", {"192.0.2.50"});
  h.net.server("192.0.2.50");
  h.dns.mx("nomail.example", {{0, "."}});
  h.dns.mx("loop.example", {{10, "mail.alpha.example"}});
  h.dns.mx_status("bare.example", DnsStatus::no_data);  // no MX, no address
  h.submit("alice@alpha.example", {"a@plain.example", "b@nomail.example", "c@nowhere.example",
                                   "d@loop.example", "e@bare.example"});
  CHECK(h.net.server("192.0.2.50").received.size() == 1);
  std::map<std::string, std::string> status;
  for (const auto& [at, b] : h.log.all<event::Bounced>()) status[b.recipient] = b.status;
  CHECK(status == std::map<std::string, std::string>{{"b@nomail.example", "5.1.10"},
                                                     {"c@nowhere.example", "5.1.2"},
                                                     {"d@loop.example", "5.4.6"},
                                                     {"e@bare.example", "5.4.4"}});
  auto loops = h.log.all<event::LoopDetected>();
  REQUIRE(loops.size() == 1);
  CHECK_THAT(loops[0].second.reason, Catch::Contains("loops back to myself"));
  // One DSN lists all four failures.
  REQUIRE(h.boxes.boxes["alice"].size() == 1);
  auto dsn = parse_dsn(h.boxes.boxes["alice"][0]);
  REQUIRE(dsn);
  CHECK(dsn->recipients.size() == 4);
}

TEST_CASE("an MX whose address is our own is a loop even under another name") {
  Harness h;
  h.config.own_addresses = {"192.0.2.99"};
  h.dns.mx("alias.example", {{10, "alias-mx.alias.example"}});
  h.dns.a("alias-mx.alias.example", {"192.0.2.99"});
  h.submit("alice@alpha.example", {"x@alias.example"});
  CHECK(h.log.count<event::LoopDetected>() == 1);
  auto b = h.log.all<event::Bounced>();
  REQUIRE(b.size() == 1);
  CHECK(b[0].second.status == "5.4.6");
}

TEST_CASE("a relay host takes all outgoing mail, with its AUTH and TLS settings") {
  Harness h;
  h.config.relay_host = RelayHost{"smtp.isp.example", 587, "alice", "s3cret", TlsPolicy::required};
  h.dns.a("smtp.isp.example", {"198.51.100.1"});
  h.net.server("198.51.100.1");
  h.submit("alice@alpha.example", {"bob@beta.example", "zed@zeta.example", "alice@alpha.example"});
  CHECK(h.dns.mx_queries.empty());  // no MX lookups: the ISP routes
  auto& isp = h.net.server("198.51.100.1");
  CHECK(isp.received.size() == 2);   // one per domain, on one connection
  CHECK(isp.connections == 1);
  CHECK(h.log.count<event::ConnectionReused>() == 1);
  CHECK(h.boxes.boxes["alice"].size() == 1);  // local mail stays local
  auto routes = h.log.all<event::RouteChosen>();
  REQUIRE(routes.size() == 3);
  CHECK_THAT(routes[0].second.note, Catch::Contains("relay host smtp.isp.example"));
}

TEST_CASE("the relay host's OpenRequest carries port, credentials and TLS policy") {
  // Seen through a transport that records what it is asked.
  struct Recorder final : Transport {
    std::vector<OpenRequest> requests;
    void open(const OpenRequest& r, std::function<void(OpenResult)> done) override {
      requests.push_back(r);
      OpenResult res;
      res.failure = make_reply(421, "4.4.1", "not today");
      done(std::move(res));
    }
  } rec;
  Harness h;
  h.config.relay_host = RelayHost{"198.51.100.1", 587, "alice", "s3cret", TlsPolicy::required};
  Mta mta(h.config, MtaServices{h.clock, h.dns, h.spool, rec, &h.boxes, h.log.sink()});
  mta.start();
  mta.receive(h.client, "alice@alpha.example", {"bob@beta.example"}, kLunch, [](Reply) {});
  h.clock.settle();
  REQUIRE(rec.requests.size() == 1);
  CHECK(rec.requests[0].address == "198.51.100.1");  // an address literal needs no A lookup
  CHECK(rec.requests[0].port == 587);
  CHECK(rec.requests[0].auth_user == "alice");
  CHECK(rec.requests[0].auth_password == "s3cret");
  CHECK(rec.requests[0].tls == TlsPolicy::required);
  CHECK(rec.requests[0].helo_name == "mail.alpha.example");
}

TEST_CASE("routing works the same when DNS answers later") {
  Harness h;
  FakeResolver slow(&h.clock);
  slow.mx("beta.example", {{10, "mx.beta.example"}});
  slow.a("mx.beta.example", {"192.0.2.10"});
  Mta mta(h.config, MtaServices{h.clock, slow, h.spool, h.net, &h.boxes, h.log.sink()});
  mta.start();
  mta.receive(h.client, "alice@alpha.example", {"bob@beta.example"}, kLunch, [](Reply) {});
  h.clock.run_until(1 * kSecond);
  CHECK(h.net.server("192.0.2.10").received.size() == 1);
  CHECK(mta.queue().empty());
}
