// The MTA's queue and scheduler with a fake clock: when retries happen, when
// the MTA gives up, what the bounce says, what each recipient's fate is.
#include "real/mta/mta.h"

#include <catch2/catch.hpp>

#include "real/mta/dsn.h"
#include "real/mta/headers.h"
#include "tests/unit/mta/harness.h"

using namespace mailsim::mta;
using namespace mailsim::mta::testing;

namespace {

// Mail for alice@alpha.example lands in the fake mailbox; returns the DSNs.
std::vector<ParsedDsn> dsns_for_alice(const Harness& h) {
  std::vector<ParsedDsn> out;
  auto it = h.boxes.boxes.find("alice");
  if (it == h.boxes.boxes.end()) return out;
  for (const auto& m : it->second)
    if (auto d = parse_dsn(m)) out.push_back(*d);
  return out;
}

}  // namespace

TEST_CASE("backoff doubles from minimal to maximal backoff time") {
  MtaConfig c;
  std::vector<Duration> got;
  for (int n = 1; n <= 8; ++n) got.push_back(backoff_delay(c, n) / kSecond);
  CHECK(got == std::vector<Duration>{300, 600, 1200, 2400, 4000, 4000, 4000, 4000});
  c.minimal_backoff_time = 10 * kSecond;
  c.maximal_backoff_time = 60 * kSecond;
  CHECK(backoff_delay(c, 1) == 10 * kSecond);
  CHECK(backoff_delay(c, 3) == 40 * kSecond);
  CHECK(backoff_delay(c, 4) == 60 * kSecond);
  CHECK(backoff_delay(c, 1000) == 60 * kSecond);  // no overflow after many passes
}

SCENARIO("the office is closed: the letter waits and is retried with backoff") {
  Harness h;
  h.net.server("192.0.2.10").up = false;
  GIVEN("a message for bob@beta.example while its MX refuses connections") {
    auto reply = h.submit("alice@alpha.example", {"bob@beta.example"});
    REQUIRE(reply.code == 250);
    REQUIRE(reply.text.starts_with("Ok: queued as "));
    auto id = reply.text.substr(14);

    THEN("it is tried at 0 s, then after 300, 600, 1200, 2400, 4000, 4000 s") {
      h.clock.run_until(17000 * kSecond);
      CHECK(h.seconds_of<event::DeliveryAttempt>() ==
            std::vector<TimePoint>{0, 300, 900, 2100, 4500, 8500, 12500, 16500});
      auto sched = h.log.all<event::RetryScheduled>();
      REQUIRE(sched.size() >= 3);
      CHECK(sched[0].second.at == 300 * kSecond);
      CHECK(sched[0].second.attempt == 2);
      CHECK(sched[1].second.at == 900 * kSecond);
      const auto* q = h.mta->find(id);
      REQUIRE(q);
      CHECK(q->state == QueueState::deferred);
      CHECK(q->recipients[0].state == RecipientState::deferred);
      CHECK(q->recipients[0].status == "4.4.1");
      CHECK_THAT(q->recipients[0].diagnostic, Catch::Contains("Connection refused"));
      CHECK(h.spool.find(id) != nullptr);  // still safe on disk
    }
    WHEN("the office opens again before the third retry") {
      h.clock.run_until(1000 * kSecond);
      h.net.server("192.0.2.10").up = true;
      h.clock.run_until(3000 * kSecond);
      THEN("the retry at 2100 s delivers it and the queue is empty") {
        auto delivered = h.log.all<event::Delivered>();
        REQUIRE(delivered.size() == 1);
        CHECK(delivered[0].first == 2100 * kSecond);
        CHECK(delivered[0].second.where == "mx.beta.example [192.0.2.10]");
        CHECK(h.mta->find(id) == nullptr);
        CHECK(h.spool.size() == 0);
        REQUIRE(h.net.server("192.0.2.10").received.size() == 1);
        // Our postmark is on it, once.
        const auto& m = h.net.server("192.0.2.10").received[0].message;
        CHECK(count_received(m) == 1);
        CHECK_THAT(m, Catch::StartsWith("Received: from alice-pc"));
        CHECK(postmarks(m).at(0) == "from alice-pc (alice-pc [10.0.0.2]) by mail.alpha.example with ESMTPA id " + id +
                                        " for <bob@beta.example>; Thu, 01 Jan 1970 00:00:00 +0000");
      }
    }
  }
}

TEST_CASE("the queue gives up after maximal_queue_lifetime and returns the letter") {
  Harness h;
  h.config.maximal_queue_lifetime = 3600 * kSecond;
  h.net.server("192.0.2.10").up = false;
  auto reply = h.submit("alice@alpha.example", {"bob@beta.example"});
  auto id = reply.text.substr(14);
  h.clock.run_until(10 * kHour);

  // Attempts at 0, 300, 900, 2100: still young. At 4500 s the message is
  // older than an hour, and the failed attempt ends its life.
  std::vector<TimePoint> remote_attempts;
  for (const auto& [at, a] : h.log.all<event::DeliveryAttempt>())
    if (a.host == "mx.beta.example") remote_attempts.push_back(at / kSecond);
  CHECK(remote_attempts == std::vector<TimePoint>{0, 300, 900, 2100, 4500});
  auto bounced = h.log.all<event::Bounced>();
  REQUIRE(bounced.size() == 1);
  CHECK(bounced[0].first == 4500 * kSecond);
  CHECK(bounced[0].second.status == "4.4.7");
  CHECK(h.mta->find(id) == nullptr);

  auto dsns = dsns_for_alice(h);
  REQUIRE(dsns.size() == 1);
  const auto& d = dsns[0];
  CHECK(d.report_type == "delivery-status");
  CHECK(d.reporting_mta == "dns; mail.alpha.example");
  REQUIRE(d.recipients.size() == 1);
  CHECK(d.recipients[0].final_recipient == "rfc822; bob@beta.example");
  CHECK(d.recipients[0].action == "failed");
  CHECK(d.recipients[0].status == "4.4.7");
  CHECK_THAT(d.recipients[0].diagnostic_code, Catch::Contains("Connection refused"));
  CHECK_THAT(d.original_headers, Catch::Contains("Subject: Lunch?"));
  CHECK_THAT(d.human_readable, Catch::Contains("delivery time expired"));
  // The bounce came with the null sender and through our own final delivery.
  const auto& raw = h.boxes.boxes["alice"][0];
  CHECK_THAT(raw, Catch::StartsWith("Return-Path: <>\r\nDelivered-To: alice@alpha.example\r\n"));
}

TEST_CASE("each recipient has its own fate: two delivered, one deferred then delivered, one bounced") {
  Harness h;
  auto& srv = h.net.server("192.0.2.10");
  srv.rcpt_replies["carol@beta.example"] = make_reply(450, "4.2.1", "<carol@beta.example>: mailbox busy, try later");
  srv.rcpt_replies["dave@beta.example"] = make_reply(550, "5.1.1", "<dave@beta.example>: Recipient address rejected: User unknown");
  auto reply = h.submit("alice@alpha.example",
                        {"bob@beta.example", "carol@beta.example", "dave@beta.example", "alice@alpha.example"});
  auto id = reply.text.substr(14);

  const auto* q = h.mta->find(id);
  REQUIRE(q);
  CHECK(q->state == QueueState::deferred);
  CHECK(q->recipients[0].state == RecipientState::delivered);
  CHECK(q->recipients[1].state == RecipientState::deferred);
  CHECK(q->recipients[1].status == "4.2.1");
  CHECK(q->recipients[2].state == RecipientState::bounced);
  CHECK(q->recipients[3].state == RecipientState::delivered);  // local: alice's own mailbox
  // One transaction carried bob (carol refused for now, dave refused for good).
  REQUIRE(srv.received.size() == 1);
  CHECK(srv.received[0].recipients == std::vector<std::string>{"bob@beta.example"});

  // Dave's bounce goes out at once, not when carol is done.
  auto dsns = dsns_for_alice(h);
  REQUIRE(dsns.size() == 1);
  REQUIRE(dsns[0].recipients.size() == 1);
  CHECK(dsns[0].recipients[0].final_recipient == "rfc822; dave@beta.example");
  CHECK(dsns[0].recipients[0].status == "5.1.1");
  CHECK(dsns[0].recipients[0].remote_mta == "dns; mx.beta.example");
  CHECK(dsns[0].recipients[0].diagnostic_code ==
        "smtp; 550 5.1.1 <dave@beta.example>: Recipient address rejected: User unknown");

  // Carol's mailbox frees up; the retry at 300 s delivers to her only.
  srv.rcpt_replies.erase("carol@beta.example");
  h.clock.run_until(400 * kSecond);
  REQUIRE(srv.received.size() == 2);
  CHECK(srv.received[1].recipients == std::vector<std::string>{"carol@beta.example"});
  CHECK(h.mta->find(id) == nullptr);
  // Finished with one failure among the recipients: the queue shows "bounced".
  auto states = h.log.all<event::StateChanged>();
  REQUIRE_FALSE(states.empty());
  CHECK(states.back().second.id == id);
  CHECK(states.back().second.to == QueueState::bounced);
  CHECK(dsns_for_alice(h).size() == 1);  // no second bounce
}

TEST_CASE("a 5xx reply bounces at once and the DSN reads back as RFC 3464") {
  Harness h;
  h.net.server("192.0.2.10").rcpt_replies["bob@beta.example"] =
      make_reply(550, "5.1.1", "<bob@beta.example>: Recipient address rejected: User unknown in virtual mailbox table");
  auto reply = h.submit("alice@alpha.example", {"bob@beta.example"});
  auto id = reply.text.substr(14);
  CHECK(h.mta->find(id) == nullptr);
  auto gen = h.log.all<event::DsnGenerated>();
  REQUIRE(gen.size() == 1);
  CHECK(gen[0].second.original == id);
  CHECK(gen[0].second.action == "failed");
  CHECK(gen[0].second.to == "alice@alpha.example");

  auto dsns = dsns_for_alice(h);
  REQUIRE(dsns.size() == 1);
  const auto& d = dsns[0];
  REQUIRE(d.recipients.size() == 1);
  CHECK(d.recipients[0].action == "failed");
  CHECK(d.recipients[0].status == "5.1.1");
  CHECK(d.recipients[0].final_recipient == "rfc822; bob@beta.example");
  CHECK_THAT(d.recipients[0].diagnostic_code, Catch::StartsWith("smtp; 550 5.1.1 <bob@beta.example>"));
  CHECK_THAT(d.original_headers, Catch::Contains("Message-ID: <lunch-1@alpha.example>"));
  CHECK_THAT(d.original_headers, Catch::Contains("Received: from alice-pc"));
  CHECK_THAT(d.human_readable, Catch::Contains("could not be delivered"));
  CHECK_THAT(d.human_readable, Catch::Contains("host mx.beta.example said: 550 5.1.1"));
  // The DSN's own queue entry was delivered and removed too.
  CHECK(h.mta->queue().empty());
  const auto& raw = h.boxes.boxes["alice"][0];
  CHECK(header_value(raw, "Subject") == "Undelivered Mail Returned to Sender");
  CHECK(header_value(raw, "From") == "Mail Delivery System <MAILER-DAEMON@mail.alpha.example>");
  CHECK(header_value(raw, "Auto-Submitted") == "auto-replied");
}

TEST_CASE("a bounce that cannot be delivered is dropped, never bounced") {
  Harness h;
  h.net.server("192.0.2.10").rcpt_replies["bob@beta.example"] = make_reply(550, "5.1.1", "no such user");
  auto reply = h.submit("", {"bob@beta.example"});
  REQUIRE(reply.code == 250);
  CHECK(h.log.count<event::Bounced>() == 1);
  CHECK(h.log.count<event::DsnGenerated>() == 0);
  auto dropped = h.log.all<event::BounceDropped>();
  REQUIRE(dropped.size() == 1);
  CHECK(dropped[0].second.recipients == std::vector<std::string>{"bob@beta.example"});
  CHECK(h.mta->queue().empty());
}

TEST_CASE("a bounce to a sender whose domain is unreachable bounces nowhere") {
  // alice@gone.example sends to an unknown user; the DSN to gone.example
  // fails (NXDOMAIN) and is dropped: no ping-pong.
  Harness h;
  h.net.server("192.0.2.10").rcpt_replies["bob@beta.example"] = make_reply(550, "5.1.1", "no such user");
  h.submit("alice@gone.example", {"bob@beta.example"});
  CHECK(h.log.count<event::DsnGenerated>() == 1);
  CHECK(h.log.count<event::BounceDropped>() == 1);
  CHECK(h.log.count<event::Bounced>() == 2);  // bob, then the DSN to alice@gone.example (5.1.2)
  CHECK(h.mta->queue().empty());
}

TEST_CASE("local delivery adds Return-Path and Delivered-To") {
  Harness h;
  h.boxes.add("bob");
  h.config.local_domains.push_back("beta.example");
  h.submit("carol@gamma.example", {"bob@beta.example"});
  REQUIRE(h.boxes.boxes["bob"].size() == 1);
  const auto& m = h.boxes.boxes["bob"][0];
  CHECK_THAT(m, Catch::StartsWith("Return-Path: <carol@gamma.example>\r\nDelivered-To: bob@beta.example\r\nReceived: from alice-pc"));
  CHECK_THAT(m, Catch::EndsWith(kLunch));
  auto delivered = h.log.all<event::Delivered>();
  REQUIRE(delivered.size() == 1);
  CHECK(delivered[0].second.where == "mailbox of bob@beta.example");
}

TEST_CASE("a full mailbox defers, the retry delivers") {
  Harness h;
  h.boxes.full = true;
  auto id = h.submit("carol@gamma.example", {"alice@alpha.example"}).text.substr(14);
  REQUIRE(h.mta->find(id));
  CHECK(h.mta->find(id)->recipients[0].state == RecipientState::deferred);
  CHECK(h.mta->find(id)->recipients[0].status == "4.3.0");
  h.boxes.full = false;
  h.clock.run_until(301 * kSecond);
  CHECK(h.mta->find(id) == nullptr);
  CHECK(h.boxes.boxes["alice"].size() == 1);
}

TEST_CASE("several messages to one destination share a connection, at most N at once") {
  Harness h(10 * kMillisecond);
  h.config.destination_concurrency_limit = 2;
  h.make();
  for (int i = 0; i < 6; ++i) {
    h.mta->receive(h.client, "alice@alpha.example", {"bob@beta.example"}, kLunch, [](Reply) {});
  }
  h.clock.run_until(10 * kSecond);
  auto& srv = h.net.server("192.0.2.10");
  CHECK(srv.received.size() == 6);
  CHECK(h.net.max_open == 2);
  CHECK(srv.connections == 2);
  CHECK(h.log.count<event::ConnectionReused>() == 4);
  // The cached connections were closed after connection_cache_time.
  CHECK(h.net.open_now == 0);
  CHECK(h.mta->open_connections() == 0);
}

TEST_CASE("a delay warning goes out once, after delay_warning_time") {
  Harness h;
  h.config.delay_warning_time = 1 * kHour;
  h.net.server("192.0.2.10").up = false;
  h.submit("alice@alpha.example", {"bob@beta.example"});
  h.clock.run_until(5 * kHour);
  auto gen = h.log.all<event::DsnGenerated>();
  REQUIRE(gen.size() == 1);
  CHECK(gen[0].second.action == "delayed");
  CHECK(gen[0].first == 4500 * kSecond);  // the first failed pass past one hour
  auto dsns = dsns_for_alice(h);
  REQUIRE(dsns.size() == 1);
  CHECK(dsns[0].recipients[0].action == "delayed");
  CHECK(dsns[0].recipients[0].status == "4.4.1");
  CHECK_FALSE(dsns[0].recipients[0].will_retry_until.empty());
  CHECK_THAT(dsns[0].human_readable, Catch::Contains("THIS IS A WARNING ONLY"));
}

TEST_CASE("too many Received: headers is a mail loop: bounce 5.4.6") {
  Harness h;
  std::string looping;
  for (int i = 0; i < 30; ++i) looping += "Received: from relay" + std::to_string(i) + " by relay" + std::to_string(i + 1) + "; Mon, 1 Jan 2024 00:00:00 +0000\r\n";
  looping += kLunch;
  h.submit("alice@alpha.example", {"bob@beta.example"}, looping);  // 30 + ours = 31 > 30
  CHECK(h.log.count<event::LoopDetected>() == 1);
  CHECK(h.net.server("192.0.2.10").received.empty());
  auto dsns = dsns_for_alice(h);
  REQUIRE(dsns.size() == 1);
  CHECK(dsns[0].recipients[0].status == "5.4.6");

  Harness ok;
  std::string fine;
  for (int i = 0; i < 29; ++i) fine += "Received: from a by b; Mon, 1 Jan 2024 00:00:00 +0000\r\n";
  ok.submit("alice@alpha.example", {"bob@beta.example"}, fine + kLunch);  // exactly 30
  CHECK(ok.log.count<event::LoopDetected>() == 0);
  CHECK(ok.net.server("192.0.2.10").received.size() == 1);
}

TEST_CASE("the reply to DATA waits until the spool has the message") {
  Harness h;
  MemorySpool slow(h.clock, 5 * kMillisecond);
  Mta mta(h.config, MtaServices{h.clock, h.dns, slow, h.net, &h.boxes, h.log.sink()});
  mta.start();
  Reply reply;
  mta.receive(h.client, "alice@alpha.example", {"bob@beta.example"}, kLunch, [&](Reply r) { reply = r; });
  CHECK(reply.code == 0);  // not yet: the "fsync" takes 5 ms
  h.clock.run_until(4 * kMillisecond);
  CHECK(reply.code == 0);
  h.clock.run_until(5 * kMillisecond);
  CHECK(reply.code == 250);
  auto received = h.log.all<event::Received>();
  REQUIRE(received.size() == 1);
  CHECK(received[0].first == 5 * kMillisecond);
}

TEST_CASE("a spool that cannot write makes the server say 451, not 250") {
  Harness h;
  h.spool.set_failing(true);
  auto reply = h.submit("alice@alpha.example", {"bob@beta.example"});
  CHECK(reply.code == 451);
  CHECK(reply.enhanced == "4.3.0");
  CHECK(h.mta->queue().empty());
  CHECK(h.net.server("192.0.2.10").received.empty());
}

TEST_CASE("after a restart the queue comes back from the spool") {
  Harness h;
  auto& srv = h.net.server("192.0.2.10");
  srv.rcpt_replies["carol@beta.example"] = make_reply(451, "4.3.0", "try later");
  auto id = h.submit("alice@alpha.example", {"bob@beta.example", "carol@beta.example"}).text.substr(14);
  REQUIRE(srv.received.size() == 1);
  h.clock.run_until(100 * kSecond);
  h.mta.reset();  // the process stops
  REQUIRE(h.spool.find(id));

  // Restart at 100 s: the deferred message keeps its retry time (300 s).
  srv.rcpt_replies.clear();
  h.make();
  const auto* q = h.mta->find(id);
  REQUIRE(q);
  CHECK(q->state == QueueState::deferred);
  CHECK(q->next_attempt == 300 * kSecond);
  CHECK(q->recipients[0].state == RecipientState::delivered);
  h.clock.run_until(299 * kSecond);
  CHECK(srv.received.size() == 1);
  h.clock.run_until(300 * kSecond);
  REQUIRE(srv.received.size() == 2);
  // Bob is never delivered twice.
  CHECK(srv.received[1].recipients == std::vector<std::string>{"carol@beta.example"});
}

TEST_CASE("a message that was being delivered at a crash is retried at once after restart") {
  Harness h;
  QueueEntry q;
  q.id = "ABC123";
  q.sender = "alice@alpha.example";
  q.recipients = {pending_recipient("bob@beta.example")};
  q.message = kLunch;
  q.state = QueueState::active;
  q.attempts = 1;
  q.next_attempt = 0;
  h.spool.put(q, nullptr);
  h.clock.run_until(50 * kSecond);
  h.make();
  REQUIRE(h.mta->find("ABC123"));
  CHECK(h.mta->find("ABC123")->state == QueueState::deferred);
  h.clock.settle();
  CHECK(h.mta->find("ABC123") == nullptr);
  CHECK(h.net.server("192.0.2.10").received.size() == 1);
}

TEST_CASE("flush_queue retries deferred mail now") {
  Harness h;
  h.net.server("192.0.2.10").up = false;
  auto id = h.submit("alice@alpha.example", {"bob@beta.example"}).text.substr(14);
  h.clock.run_until(10 * kSecond);
  h.net.server("192.0.2.10").up = true;
  h.mta->flush_queue();
  h.clock.settle();
  CHECK(h.mta->find(id) == nullptr);
  CHECK(h.log.all<event::Delivered>().at(0).first == 10 * kSecond);
}

TEST_CASE("events carry the MTA's name and read as sentences") {
  Harness h;
  h.submit("alice@alpha.example", {"bob@beta.example"});
  REQUIRE_FALSE(h.log.events.empty());
  for (const auto& e : h.log.events) CHECK(e.mta == "mail.alpha.example");
  auto first = describe(h.log.events.front());
  CHECK_THAT(first, Catch::Contains("from=<alice@alpha.example>, to=<bob@beta.example>"));
  CHECK_THAT(to_json(h.log.events.front()), Catch::Contains("\"kind\":\"received\""));
  std::vector<std::string_view> kinds;
  for (const auto& e : h.log.events) kinds.push_back(kind_of(e));
  CHECK(kinds == std::vector<std::string_view>{"received", "state_changed", "route_chosen",
                                               "recipient_updated", "delivered", "delivery_attempt",
                                               "state_changed", "removed"});
}

TEST_CASE("receive() in three steps (prepare, the host's own spool put, adopt) queues what receive() queues") {
  // real/net stores a message on the SMTP connection's thread and answers
  // 250 from the spool's completion; the Mta must end up with the same
  // entry, the same events and the same delivery as after receive().
  Harness one, three;
  // The MX is down: both messages stay queued (deferred) and can be compared.
  one.net.server("192.0.2.10").up = false;
  three.net.server("192.0.2.10").up = false;
  one.make();
  three.make();
  const Reply direct = one.submit("alice@alpha.example", {"bob@beta.example"});
  REQUIRE(direct.code == 250);
  REQUIRE(one.mta->queued() == 1);

  auto prepared = three.mta->prepare_received(three.client, "alice@alpha.example", {"bob@beta.example"},
                                              std::string(kLunch), three.clock.now());
  REQUIRE(std::holds_alternative<QueueEntry>(prepared));
  QueueEntry entry = std::get<QueueEntry>(prepared);
  CHECK(entry.state == QueueState::incoming);
  const QueueEntry one_entry = one.mta->queue().at(0);
  // The same Received: header (but for the id) and envelope.
  auto without_id = [](std::string m, const std::string& id) { return m.replace(m.find(id), id.size(), "ID"); };
  CHECK(without_id(entry.message, entry.id) == without_id(one_entry.message, one_entry.id));
  CHECK(entry.client == one_entry.client);
  bool stored = false;
  three.spool.put(entry, [&](bool ok) { stored = ok; });
  REQUIRE(stored);
  CHECK(Mta::received_reply(entry.id).to_string() == "250 2.0.0 Ok: queued as " + entry.id);
  three.mta->adopt_received(entry);
  three.clock.settle();
  CHECK(three.log.count<event::Received>() == 1);
  CHECK(three.log.count<event::DeliveryAttempt>() == 1);  // delivery started at once, as after receive()
  CHECK(three.log.count<event::DeliveryAttempt>() == one.log.count<event::DeliveryAttempt>());
  REQUIRE(three.mta->queued() == 1);
  const QueueEntry three_entry = three.mta->queue().at(0);
  CHECK(three_entry.id == entry.id);
  CHECK(three_entry.state == one_entry.state);
  CHECK(three_entry.state == QueueState::deferred);

  // The checks of receive(), and ids that are taken are skipped.
  CHECK(std::get<Reply>(three.mta->prepare_received(three.client, "a@alpha.example", {}, "x", 0)).code == 554);
  Harness small;
  small.config.message_size_limit = 10;
  small.make();
  CHECK(std::get<Reply>(small.mta->prepare_received(small.client, "", {"bob@beta.example"},
                                                    std::string(100, 'x'), 0))
            .code == 552);
  // An id the spool still holds (from before a restart) is passed over.
  std::vector<QueueId> refused;
  auto next = std::get<QueueEntry>(small.mta->prepare_received(
      small.client, "", {"bob@beta.example"}, "x", 0, [&](const QueueId& id) {
        if (refused.size() == 3) return false;
        refused.push_back(id);
        return true;
      }));
  REQUIRE(refused.size() == 3);
  CHECK(std::find(refused.begin(), refused.end(), next.id) == refused.end());
  CHECK_THAT(next.message, Catch::Contains("id " + next.id));
}

TEST_CASE("letters held for one closed office share the text of its refusal") {
  // A thousand letters waiting for one closed office must not each keep their
  // own copy of the same "Connection refused" (memory per queued letter).
  Harness h;
  h.net.server("192.0.2.10").up = false;
  auto first = h.submit("alice@alpha.example", {"bob@beta.example"}).text.substr(14);
  auto second = h.submit("carol@alpha.example", {"bob@beta.example"}).text.substr(14);
  h.clock.run_until(10 * kSecond);
  const auto* a = h.mta->find(first);
  const auto* b = h.mta->find(second);
  REQUIRE(a);
  REQUIRE(b);
  REQUIRE(a->state == QueueState::deferred);
  REQUIRE(b->state == QueueState::deferred);
  CHECK_THAT(a->last_reason.str(), Catch::Contains("Connection refused"));
  CHECK(a->last_reason == b->last_reason);
  CHECK(a->last_reason.shares_buffer_with(b->last_reason));
  CHECK(a->recipients[0].diagnostic.shares_buffer_with(b->recipients[0].diagnostic));
  CHECK(a->client.shares_buffer_with(b->client));
}
