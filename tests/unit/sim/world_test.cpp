// Tests for sim/world: building a world from a scenario, carrying out its
// network timeline, and checking expectations against a trace.
#include "sim/scenario/loader.h"
#include "sim/world/expect.h"
#include "sim/world/story.h"
#include "sim/world/world.h"

#include <catch2/catch.hpp>

using namespace mailsim::sim;

namespace {

const std::string kData = std::string(MAILSIM_SOURCE_DIR) + "/tests/unit/sim/data/";

const char* kSmall = R"({
  "title": "two servers and a cable",
  "seed": 9,
  "hosts": [
    {"name": "a", "role": "mta", "addresses": ["10.0.0.2"]},
    {"name": "b", "role": "mta"},
    {"name": "ns", "role": "dns"}
  ],
  "links": [["a", "b", "10ms"], ["a", "ns", "1ms"]],
  "dns": {"records": {"b.example": {"MX": [[10, "b"]]}},
          "blocklists": [{"zone": "bl.example", "listed": ["a"]}]},
  "timeline": [
    {"at": "1s", "link_down": ["a", "b"]},
    {"at": "2s", "link_up": ["a", "b"]},
    {"at": "3s", "port_down": {"host": "b", "port": 25}},
    {"at": "4s", "note": "That is all."},
    {"at": "5s", "send": {"from": "x@a.example", "to": ["y@b.example"], "via": "nobody"}}
  ]
})";

}  // namespace

TEST_CASE("a world has the scenario's hosts, links, DNS and resolvers", "[world]") {
  const Scenario s = load_scenario_file(kData + "retry.json");
  World world(s);
  CHECK(world.network().host_count() == s.hosts.size());
  CHECK(world.network().link_count() == s.links.size());
  const HostId mx = world.host_id("mx.beta.example");
  CHECK(world.network().host(mx).addresses.front().str() == "10.0.0.3");
  CHECK(world.network().host(mx).role == "mta");
  CHECK(world.dns().lookup("mx.beta.example", DnsType::kA).records.at(0).value == "10.0.0.3");
  CHECK(world.dns().lookup("3.0.0.10.in-addr.arpa", DnsType::kPtr).records.at(0).value == "mx.beta.example");
  CHECK(world.dns().lookup("beta.example", DnsType::kMx).records.at(0).value == "mx.beta.example");
  CHECK(world.time_limit() == 41 * kMinute + 5 * kDay + kDay);

  // Resolvers ask the scenario's DNS server: 2 ms away from mail.alpha, 4 ms round trip.
  Time answered = -1;
  world.resolver(world.host_id("mail.alpha.example")).query("beta.example", DnsType::kMx, [&](const DnsAnswer&) {
    answered = world.engine().now();
  });
  world.engine().run_until(kSecond / 2);
  CHECK(answered == 4 * kMillisecond);
}

TEST_CASE("a world carries out link, port and note actions and reports unhandled ones", "[world]") {
  std::string text = kSmall;
  text.replace(text.find(R"(, "via": "nobody")"), 17, "");
  text.replace(text.find(R"("hosts": [)"), 10,
               R"("hosts": [{"name": "pc", "role": "client", "user": "x@a.example", "outgoing": "a"},)");
  const Scenario s = load_scenario_text(text, "small.json");
  World world(s);
  CHECK(world.dns().lookup("2.0.0.10.bl.example", DnsType::kA).records.size() == 1);  // "a" is listed by name
  std::vector<std::string> sent;
  world.on_action("send", [&](const TimelineItem& item) { sent.push_back(std::get<SendAction>(item.action).from); });
  world.run();
  std::vector<std::pair<Time, EventKind>> seen;
  for (const auto& e : world.trace().events()) seen.emplace_back(e.time, e.kind);
  CHECK(seen == std::vector<std::pair<Time, EventKind>>{{kSecond, EventKind::kLinkDown},
                                                        {2 * kSecond, EventKind::kLinkUp},
                                                        {3 * kSecond, EventKind::kPortDown},
                                                        {4 * kSecond, EventKind::kNote}});
  CHECK(sent == std::vector<std::string>{"x@a.example"});
  CHECK(world.network().port_blocked(world.host_id("b"), 25));
  CHECK(story_line(world.trace()[0]) == "00:00:01.000                        link a<->b is cut");
}

TEST_CASE("expectations are checked against the trace", "[world][expect]") {
  const Scenario s = load_scenario_file(kData + "retry.json");
  Engine engine;
  Trace trace(&engine);
  // What the roles will record for this story: two deferrals, a delivery,
  // and an eavesdropper reading the subject.
  auto at = [&](Time t, auto&& f) { engine.schedule_at(t, f); };
  at(5 * kMinute, [&] { trace.record(EventKind::kQueue, "mail.alpha.example", 0, QueuePayload{"Q1", "deferred", "alice@alpha.example", {"bob@beta.example"}, "connection refused", 1, 10 * kMinute}); });
  at(15 * kMinute, [&] { trace.record(EventKind::kQueue, "mail.alpha.example", 0, QueuePayload{"Q1", "deferred", "alice@alpha.example", {"bob@beta.example"}, "connection refused", 2, 30 * kMinute}); });
  at(30 * kMinute, [&] {
    trace.record(EventKind::kCapture, "eve", 4, CapturePayload{"mail.alpha.example", "mx.beta.example", "mail.alpha.example", "mx.beta.example", 49152, 25, Bytes{"Subject: Lun"}, false, 1});
    trace.record(EventKind::kCapture, "eve", 4, CapturePayload{"mail.alpha.example", "mx.beta.example", "mail.alpha.example", "mx.beta.example", 49152, 25, Bytes{"ch?\r\n"}, false, 2});
    trace.record(EventKind::kDelivery, "mx.beta.example", 4, MessagePayload{"Q9", "<1@alpha>", "alice@alpha.example", "Bob@Beta.example", "Lunch?", 2, "", ""});
  });
  engine.run();
  auto results = check_expectations(s, trace);
  REQUIRE(results.size() == 3);
  CHECK(results[0].met);
  CHECK(results[0].explanation == "mail.alpha.example deferred 2 times");
  CHECK(results[1].met);
  CHECK(results[1].explanation == "delivered at 30m with 2 Received: headers");
  CHECK(results[2].met);  // split across two packets, still read

  // The same trace against stricter expectations.
  Scenario strict = s;
  std::get<ExpectDeferred>(strict.expect[0].expectation).max = 1;
  std::get<ExpectDelivered>(strict.expect[1].expectation).when.before = 20 * kMinute;
  std::get<ExpectEavesdropper>(strict.expect[2].expectation) = ExpectEavesdropper{"eve", "", "Lunch?"};
  results = check_expectations(strict, trace);
  CHECK_FALSE(results[0].met);
  CHECK_FALSE(results[1].met);
  CHECK_FALSE(results[2].met);
  CHECK(results[2].explanation == "\"Lunch?\" was captured in the clear");
}

TEST_CASE("rejected, bounced and mailbox expectations", "[world][expect]") {
  Scenario s;
  s.expect.push_back({ExpectRejected{"5xx", "mx", "RCPT"}, "", "/expect/0"});
  s.expect.push_back({ExpectBounced{"nobody@b.example", "alice@a.example", "5.1.", {}}, "", "/expect/1"});
  s.expect.push_back({ExpectMailbox{"bob@b.example", 1, ""}, "", "/expect/2"});
  s.expect.push_back({ExpectNotDelivered{"nobody@b.example", {}}, "", "/expect/3"});
  Trace trace;
  trace.record(EventKind::kCommand, "mx", 2, CommandPayload{"smtp", "RCPT", "RCPT TO:<nobody@b.example>", "server"});
  trace.record(EventKind::kReply, "mx", 2, ReplyPayload{"smtp", 550, "5.1.1", "no such user", "server"});
  trace.record(EventKind::kBounce, "a", 0, MessagePayload{"Q1", "", "alice@a.example", "nobody@b.example", "", 0, "5.1.1", "550 no such user"});
  trace.record(EventKind::kMailbox, "mx", 0, MailboxPayload{"bob@b.example", "stored", "<1@a>", "", 1});
  auto results = check_expectations(s, trace);
  for (const auto& r : results) {
    CAPTURE(r.summary, r.explanation);
    CHECK(r.met);
  }
  s.expect[0].expectation = ExpectRejected{"554", "", ""};
  s.expect[2].expectation = ExpectMailbox{"bob@b.example", 0, ""};
  results = check_expectations(s, trace);
  CHECK_FALSE(results[0].met);
  CHECK_FALSE(results[2].met);
}
