// Tests for sim/dns/dns.h: lookups (MX order, null MX, NXDOMAIN vs no data,
// blocklists), resolver latency, caching by TTL, and the trace.
#include "sim/dns/dns.h"

#include <catch2/catch.hpp>

#include <map>
#include <string>

using namespace mailsim::sim;

namespace {

struct World {
  Engine engine{1};
  Trace trace{&engine};
  Network net{engine, trace};
  DnsDatabase db;
};

}  // namespace

TEST_CASE("the database answers MX by preference, null MX, NXDOMAIN and no data", "[dns]") {
  DnsDatabase db;
  db.add({"Beta.Example.", DnsType::kMx, 300, 20, "backup.beta.example"});
  db.add({"beta.example", DnsType::kMx, 300, 10, "MX.beta.example"});
  db.add({"mx.beta.example", DnsType::kA, 300, 0, "10.0.0.3"});
  db.add({"nomail.example", DnsType::kMx, 300, 0, "."});
  auto a = db.lookup("beta.example", DnsType::kMx);
  CHECK(a.rcode == Rcode::kNoError);
  REQUIRE(a.records.size() == 2);
  CHECK(a.records[0].value == "mx.beta.example");
  CHECK(a.records[1].preference == 20);
  CHECK(db.lookup("nomail.example", DnsType::kMx).records.at(0).value == ".");
  CHECK(db.lookup("gamma.example", DnsType::kMx).rcode == Rcode::kNxDomain);
  const auto nodata = db.lookup("beta.example", DnsType::kA);
  CHECK(nodata.rcode == Rcode::kNoError);
  CHECK(nodata.records.empty());
  CHECK(db.lookup("example", DnsType::kA).rcode == Rcode::kNoError);  // exists: names below it have records
}

TEST_CASE("a blocklist zone lists addresses and networks", "[dns]") {
  DnsDatabase db;
  db.add_blocklist("bl.example", {*Cidr::parse("10.0.0.66"), *Cidr::parse("192.0.2.0/24")}, "spam source");
  CHECK(reverse_name(*Ipv4::parse("10.0.0.66")) == "66.0.0.10.in-addr.arpa");
  auto listed = db.lookup("66.0.0.10.bl.example", DnsType::kA);
  REQUIRE(listed.records.size() == 1);
  CHECK(listed.records[0].value == "127.0.0.2");
  CHECK(db.lookup("66.0.0.10.bl.example", DnsType::kTxt).records.at(0).value == "spam source");
  CHECK(db.lookup("9.2.0.192.bl.example", DnsType::kA).records.size() == 1);
  CHECK(db.lookup("5.0.0.10.bl.example", DnsType::kA).rcode == Rcode::kNxDomain);
}

TEST_CASE("the resolver takes a round trip to the DNS server and caches by TTL", "[dns]") {
  World w;
  const auto mta = w.net.add_host("mta");
  const auto ns = w.net.add_host("ns");
  w.net.add_link(mta, ns, 3 * kMillisecond);
  w.db.add({"beta.example", DnsType::kMx, 60, 10, "mx.beta.example"});
  DnsResolver resolver(w.net, w.db, mta, ns);

  std::vector<std::pair<Time, DnsAnswer>> answers;
  auto ask = [&] {
    resolver.query("beta.example", DnsType::kMx, [&](const DnsAnswer& a) { answers.emplace_back(w.engine.now(), a); });
  };
  ask();
  w.engine.run();
  REQUIRE(answers.size() == 1);
  CHECK(answers[0].first == 6 * kMillisecond);
  CHECK_FALSE(answers[0].second.from_cache);

  w.engine.run_until(30 * kSecond);
  ask();
  w.engine.run();
  REQUIRE(answers.size() == 2);
  CHECK(answers[1].second.from_cache);
  CHECK(answers[1].first == 30 * kSecond);  // no trip to the server
  CHECK(answers[1].second.records.at(0).ttl == 31);  // counted down (60 - 29 s elapsed since it was stored)

  w.engine.run_until(70 * kSecond);  // past the TTL
  ask();
  w.engine.run();
  REQUIRE(answers.size() == 3);
  CHECK_FALSE(answers[2].second.from_cache);

  const auto queries = w.trace.of_kind(EventKind::kDnsQuery);
  const auto replies = w.trace.of_kind(EventKind::kDnsAnswer);
  REQUIRE(queries.size() == 3);
  REQUIRE(replies.size() == 3);
  CHECK(queries[1]->as<DnsPayload>()->cached);
  CHECK(replies[0]->as<DnsPayload>()->rcode == "NOERROR");
  CHECK(replies[0]->as<DnsPayload>()->records.at(0).value == "mx.beta.example");
  CHECK(replies[0]->as<DnsPayload>()->query_id == queries[0]->as<DnsPayload>()->query_id);
  CHECK(replies[0]->host == "mta");
}

TEST_CASE("negative answers are cached, failures are not", "[dns]") {
  World w;
  const auto mta = w.net.add_host("mta");
  const auto ns = w.net.add_host("ns");
  w.net.add_link(mta, ns, 1 * kMillisecond);
  w.db.set_negative_ttl(10);
  DnsResolver resolver(w.net, w.db, mta, ns, ResolverConfig{2 * kSecond, kMillisecond});
  std::vector<DnsAnswer> answers;
  auto ask = [&] { resolver.query("nowhere.example", DnsType::kMx, [&](const DnsAnswer& a) { answers.push_back(a); }); };
  ask();
  w.engine.run();
  ask();
  w.engine.run();
  REQUIRE(answers.size() == 2);
  CHECK(answers[0].rcode == Rcode::kNxDomain);
  CHECK(answers[1].from_cache);

  resolver.flush_cache();
  w.net.set_host_up(ns, false);
  const Time asked = w.engine.now();
  Time answered = -1;
  resolver.query("nowhere.example", DnsType::kMx, [&](const DnsAnswer& a) {
    answers.push_back(a);
    answered = w.engine.now();
  });
  w.engine.run();
  CHECK(answers.back().rcode == Rcode::kServFail);
  CHECK(answered - asked == 2 * kSecond);
  w.net.set_host_up(ns, true);
  ask();
  w.engine.run();
  CHECK_FALSE(answers.back().from_cache);  // the failure was not cached
  CHECK(answers.back().rcode == Rcode::kNxDomain);
}

TEST_CASE("the round trip to the DNS server follows the route as links go down and come back", "[dns]") {
  World w;
  const auto mta = w.net.add_host("mta");
  const auto r1 = w.net.add_host("r1");
  const auto r2 = w.net.add_host("r2");
  const auto ns = w.net.add_host("ns");
  const auto fast = w.net.add_link(mta, r1, 3 * kMillisecond);
  w.net.add_link(r1, ns, 3 * kMillisecond);
  const auto slow = w.net.add_link(mta, r2, 10 * kMillisecond);
  w.net.add_link(r2, ns, 10 * kMillisecond);
  w.db.add({"beta.example", DnsType::kMx, 60, 10, "mx.beta.example"});
  DnsResolver resolver(w.net, w.db, mta, ns, ResolverConfig{2 * kSecond, kMillisecond});
  // How long a query takes from now; the cache is emptied first.
  auto trip = [&] {
    resolver.flush_cache();
    const Time asked = w.engine.now();
    Time answered = -1;
    Rcode rcode = Rcode::kNoError;
    resolver.query("beta.example", DnsType::kMx, [&](const DnsAnswer& a) {
      answered = w.engine.now();
      rcode = a.rcode;
    });
    w.engine.run();
    return std::pair{answered - asked, rcode};
  };
  CHECK(trip() == std::pair{12 * kMillisecond, Rcode::kNoError});
  w.net.set_link_up(fast, false);
  CHECK(trip() == std::pair{40 * kMillisecond, Rcode::kNoError});
  w.net.set_link_up(slow, false);
  CHECK(trip() == std::pair{2 * kSecond, Rcode::kServFail});  // no way there: the timeout
  w.net.set_link_up(fast, true);
  CHECK(trip() == std::pair{12 * kMillisecond, Rcode::kNoError});
}

TEST_CASE("the resolver's cache keeps every name and type as it grows", "[dns]") {
  World w;
  const auto mta = w.net.add_host("mta");
  const auto ns = w.net.add_host("ns");
  w.net.add_link(mta, ns, 1 * kMillisecond);
  constexpr int kNames = 100;  // several times the cache's first room
  for (int i = 0; i < kNames; ++i) {
    const std::string name = "host" + std::to_string(i) + ".example";
    w.db.add({name, DnsType::kA, 3600, 0, "10.0.1." + std::to_string(i)});
    w.db.add({name, DnsType::kMx, 3600, 10, name});
  }
  DnsResolver resolver(w.net, w.db, mta, ns);
  std::map<std::string, DnsAnswer> answers;  // by "type name"
  auto ask_all = [&] {
    answers.clear();
    for (int i = 0; i < kNames; ++i)
      for (const DnsType type : {DnsType::kA, DnsType::kMx}) {
        const std::string name = "Host" + std::to_string(i) + ".Example.";  // the cache's key is the normalized name
        resolver.query(name, type, [&answers, name, type](const DnsAnswer& a) {
          answers[std::string(dns_type_name(type)) + " " + name] = a;
        });
      }
    w.engine.run();
  };
  ask_all();
  REQUIRE(answers.size() == 2 * kNames);
  for (const auto& [key, a] : answers) CHECK_FALSE(a.from_cache);
  ask_all();  // every one again: all from the cache, each with its own records
  REQUIRE(answers.size() == 2 * kNames);
  for (int i = 0; i < kNames; ++i) {
    const std::string name = "Host" + std::to_string(i) + ".Example.";
    const DnsAnswer& a = answers.at("A " + name);
    const DnsAnswer& mx = answers.at("MX " + name);
    CHECK(a.from_cache);
    CHECK(mx.from_cache);
    CHECK(a.records.at(0).value == "10.0.1." + std::to_string(i));
    CHECK(mx.records.at(0).value == "host" + std::to_string(i) + ".example");
  }
}

TEST_CASE("the resolver forgets expired answers when its cache fills up, and stays right", "[dns]") {
  // A day of letters asks for many more names than are fresh at once: each
  // hour's names expire before the next hour's fill the cache, which then
  // holds about one hour of names instead of every name ever asked.
  World w;
  const auto mta = w.net.add_host("mta");
  const auto ns = w.net.add_host("ns");
  w.net.add_link(mta, ns, 1 * kMillisecond);
  constexpr int kPerHour = 40;
  constexpr int kHours = 12;
  for (int i = 0; i < kPerHour * kHours; ++i) {
    const std::string name = "h" + std::to_string(i) + ".example";
    w.db.add({name, DnsType::kA, 1800, 0, "10.1." + std::to_string(i / 250) + "." + std::to_string(i % 250)});
  }
  DnsResolver resolver(w.net, w.db, mta, ns);
  std::size_t largest = 0;
  for (int hour = 0; hour < kHours; ++hour) {
    w.engine.run_until(static_cast<Time>(hour) * kHour);
    std::map<std::string, DnsAnswer> answers;
    // This hour's names, each asked twice: the second from the cache.
    for (int round = 0; round < 2; ++round) {
      for (int k = 0; k < kPerHour; ++k) {
        const std::string name = "h" + std::to_string(hour * kPerHour + k) + ".example";
        resolver.query(name, DnsType::kA, [&answers, name, round](const DnsAnswer& a) {
          answers[std::to_string(round) + name] = a;
        });
      }
      w.engine.run_until(w.engine.now() + kSecond);
    }
    // And an expired name of two hours ago: asked again, not answered from the cache.
    if (hour >= 2) {
      const std::string old = "h" + std::to_string((hour - 2) * kPerHour) + ".example";
      resolver.query(old, DnsType::kA, [&answers, old](const DnsAnswer& a) { answers["old"] = a; });
      w.engine.run_until(w.engine.now() + kSecond);
      REQUIRE(answers.count("old"));
      CHECK_FALSE(answers["old"].from_cache);
      CHECK(answers["old"].records.at(0).value ==
            "10.1." + std::to_string((hour - 2) * kPerHour / 250) + "." + std::to_string((hour - 2) * kPerHour % 250));
    }
    for (int k = 0; k < kPerHour; ++k) {
      const int i = hour * kPerHour + k;
      const std::string name = "h" + std::to_string(i) + ".example";
      const std::string value = "10.1." + std::to_string(i / 250) + "." + std::to_string(i % 250);
      REQUIRE(answers.count("0" + name));
      REQUIRE(answers.count("1" + name));
      CHECK_FALSE(answers["0" + name].from_cache);
      CHECK(answers["1" + name].from_cache);
      CHECK(answers["0" + name].records.at(0).value == value);
      CHECK(answers["1" + name].records.at(0).value == value);
    }
    largest = std::max(largest, resolver.cache_size());
  }
  // Without forgetting it would hold every name asked (480 and more).
  CHECK(largest < 3 * kPerHour + 10);
}

TEST_CASE("without a DNS server host the answer comes after a small fixed delay", "[dns]") {
  World w;
  const auto mta = w.net.add_host("mta");
  w.db.add({"mta", DnsType::kA, 300, 0, "10.0.0.1"});
  DnsResolver resolver(w.net, w.db, mta, std::nullopt);
  Time at = -1;
  resolver.query("MTA.", DnsType::kA, [&](const DnsAnswer& a) {
    at = w.engine.now();
    CHECK(a.records.at(0).value == "10.0.0.1");
  });
  w.engine.run();
  CHECK(at == kMillisecond);
}
