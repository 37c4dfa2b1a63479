// What the view works out from a trace: dialogues, letters, flights, markers.
#include "ui/model/trace_index.h"

#include "story.h"

#include <catch2/catch.hpp>

using namespace mailsim::ui;
using namespace mailsim::ui::testing;

namespace {
const TraceIndex& story() {
  static const TraceIndex index(story_world(), retry_story());
  return index;
}
}  // namespace

TEST_CASE("every connection of the story is found with its ends and protocol", "[ui][index]") {
  const auto& x = story();
  // Submission, three refused tries, the relay to the MX, the POP3 collection.
  REQUIRE(x.connections().size() == 6);
  const auto& sub = x.connections()[0];
  CHECK(sub.client == "alice-pc");
  CHECK(sub.server == "mail.alpha.example");
  CHECK(sub.port == 587);
  CHECK(sub.protocol == "smtp");
  CHECK(sub.tls_event);
  CHECK(sub.outcome == "closed");
  for (int i = 1; i <= 3; ++i) {
    CHECK(x.connections()[i].outcome == "refused");
    CHECK(x.connections()[i].lines.empty());
  }
  CHECK(x.connections()[4].port == 25);
  CHECK_FALSE(x.connections()[4].tls_event);
  CHECK(x.connections()[5].protocol == "pop3");
}

TEST_CASE("each dialogue line appears once, as its sender said it", "[ui][index]") {
  const auto& sub = story().connections()[0];
  // Both ends recorded every line; the dialogue keeps one copy.
  std::vector<std::string> said;
  for (const auto& l : sub.lines) said.push_back((l.from_client ? "C: " : "S: ") + l.text);
  REQUIRE(said.size() >= 10);
  CHECK(said[0] == "S: 220 mail.alpha.example ESMTP");
  CHECK(said[1] == "C: EHLO alice-pc");
  CHECK(said[2] == "S: 250-mail.alpha.example\n250-STARTTLS\n250 AUTH PLAIN");
  CHECK(said[3] == "C: STARTTLS");
  CHECK(std::count(said.begin(), said.end(), "C: MAIL FROM:<alice@alpha.example>") == 1);
  CHECK(said.back() == "S: 221 2.0.0 Bye");
  for (std::size_t i = 1; i < sub.lines.size(); ++i) CHECK(sub.lines[i - 1].event < sub.lines[i].event);
  const auto& pop = story().connections()[5];
  CHECK(pop.lines.front().text == "+OK POP3 ready");
  CHECK_FALSE(pop.lines.front().from_client);
}

TEST_CASE("the letter is read from each hop with its envelope and postmarks", "[ui][index]") {
  const auto& x = story();
  const auto copies = x.transfers_of("<1.alice@alpha.example>");
  REQUIRE(copies.size() == 3);
  // Handed in by Alice: no postmark yet, sealed by STARTTLS.
  CHECK(copies[0]->from_host == "alice-pc");
  CHECK(copies[0]->mail_from == "alice@alpha.example");
  CHECK(copies[0]->rcpt_to == std::vector<std::string>{"bob@beta.example"});
  CHECK(copies[0]->postmarks.empty());
  CHECK(copies[0]->tls);
  CHECK(copies[0]->subject == "Lunch?");
  // Relayed to Bob's office: Alice's office stamped it.
  CHECK(copies[1]->to_host == "mx.beta.example");
  REQUIRE(copies[1]->postmarks.size() == 1);
  CHECK(copies[1]->postmarks[0].by == "mail.alpha.example");
  CHECK(copies[1]->postmarks[0].from == "alice-pc");
  CHECK(copies[1]->postmarks[0].with == "ESMTPSA");
  CHECK(copies[1]->postmarks[0].date == "Mon, 1 Apr 2024 09:00:01 +0000");
  CHECK_FALSE(copies[1]->tls);
  // Collected by POP3: two postmarks, newest first, dot-unstuffed.
  CHECK(copies[2]->to_host == "bob-pc");
  REQUIRE(copies[2]->postmarks.size() == 2);
  CHECK(copies[2]->postmarks[0].by == "mx.beta.example");
  CHECK(copies[2]->postmarks[1].by == "mail.alpha.example");
  CHECK(copies[2]->content.find("\r\n.and a line that starts with a dot.\r\n") != std::string::npos);
  CHECK(copies[2]->content.find("\r\n..and") == std::string::npos);
  CHECK(x.message_ids() == std::vector<std::string>{"1.alice@alpha.example"});
  CHECK(x.message_of_queue_entry("mail.alpha.example", "A1") == "1.alice@alpha.example");
  CHECK(x.message_of_queue_entry("mx.beta.example", "B7") == "1.alice@alpha.example");
}

TEST_CASE("packets become letters, postcards, knocks and refusals on the roads", "[ui][index]") {
  const auto& x = story();
  const auto& sub = x.connections()[0];
  const auto& mx = x.connections()[4];
  int sealed_letters = 0, postcard_letters = 0, knocks = 0, refusals = 0, open_before_tls = 0;
  for (const auto& f : x.flights()) {
    if (f.kind == FlightKind::kKnock) ++knocks;
    if (f.kind == FlightKind::kRefusal) ++refusals;
    if (f.conn == sub.id && f.kind == FlightKind::kLetter) {
      CHECK(f.sealed);
      ++sealed_letters;
    }
    if (f.conn == sub.id && f.kind == FlightKind::kLine && !f.sealed) ++open_before_tls;
    if (f.conn == mx.id && f.kind == FlightKind::kLetter) {
      CHECK_FALSE(f.sealed);
      ++postcard_letters;
    }
    CHECK(f.end > f.start);
    CHECK(f.leg_end.size() + 1 == f.path.size());
  }
  CHECK(sealed_letters == 1);
  CHECK(postcard_letters == 1);
  // SYN and SYN-ACK for 3 connections that opened, SYN for the 3 refused.
  CHECK(knocks == 3 * 2 + 3);
  CHECK(refusals == 3);
  CHECK(open_before_tls >= 4);  // greeting, EHLO, its reply, STARTTLS, ...
  // Flights are in start order and a road's latency is its flight time.
  for (std::size_t i = 1; i < x.flights().size(); ++i) CHECK(x.flights()[i - 1].start <= x.flights()[i].start);
  for (const auto& f : x.flights())
    if (f.conn == mx.id) CHECK(f.end - f.start == 40 * kMillisecond);
}

TEST_CASE("the timeline gets a marker for each turn of the story", "[ui][index]") {
  const auto& x = story();
  std::map<MarkerKind, int> count;
  for (const auto& m : x.markers()) ++count[m.kind];
  CHECK(count[MarkerKind::kSent] == 1);
  CHECK(count[MarkerKind::kDeferred] == 3);
  CHECK(count[MarkerKind::kRetried] == 3);
  CHECK(count[MarkerKind::kDelivered] == 1);
  CHECK(count[MarkerKind::kDown] == 1);
  CHECK(count[MarkerKind::kUp] == 1);
  CHECK(count[MarkerKind::kBounced] == 0);
  for (std::size_t i = 1; i < x.markers().size(); ++i) CHECK(x.markers()[i - 1].time <= x.markers()[i].time);
}

TEST_CASE("steps skip packets and the second copy of each line", "[ui][index]") {
  const auto& x = story();
  for (std::size_t i : x.steps()) {
    const auto kind = x.events()[i].kind;
    CHECK(kind != EventKind::kPacket);
    CHECK(kind != EventKind::kData);
    CHECK(kind != EventKind::kCapture);
    if (const auto* c = x.events()[i].as<mailsim::sim::CommandPayload>()) CHECK(c->side == "client");
    if (const auto* r = x.events()[i].as<mailsim::sim::ReplyPayload>()) CHECK(r->side == "server");
  }
  // Retries: the three times the deferred letter was tried again.
  REQUIRE(x.retries().size() == 3);
  CHECK(x.events()[x.retries()[0]].time >= kSendAt + 5 * kMinute);
  CHECK(x.events()[x.retries()[0]].time < kSendAt + 6 * kMinute);
  CHECK(x.events()[x.retries().back()].time > kUpAt);
  // Hops: handed in, relayed, delivered, collected.
  CHECK(x.hops().size() >= 4);
}

TEST_CASE("a password crossing a tapped road in the clear is found", "[ui][index]") {
  StoryBuilder b(story_world());
  b.tap("eve", "mail.alpha.example", "mx.beta.example");
  auto c = b.connect("mail.alpha.example", "mx.beta.example", 25, "smtp");
  b.say(c, "AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=");  // \0alice\0wonderland
  auto pop = b.connect("mail.alpha.example", "mx.beta.example", 110, "pop3");
  b.say(pop, "PASS hunter2");
  auto imap = b.connect("mail.alpha.example", "mx.beta.example", 143, "imap");
  b.say(imap, "a1 LOGIN bob \"open sesame\"");
  auto login = b.connect("mail.alpha.example", "mx.beta.example", 587, "smtp");
  b.say(login, "AUTH LOGIN");
  b.say(login, "Ym9i", false);          // bob
  b.say(login, "c3dvcmRmaXNo", false);  // swordfish
  auto sealed = b.connect("mail.alpha.example", "mx.beta.example", 587, "smtp");
  sealed.tls = true;
  b.say(sealed, "AUTH PLAIN AGFsaWNlAHNlY3JldA==");
  const TraceIndex x(story_world(), b.events);
  std::vector<std::string> leaked;
  for (const auto& [event, password] : x.leaked_passwords()) leaked.push_back(password);
  CHECK(leaked == std::vector<std::string>{"wonderland", "hunter2", "open sesame", "swordfish"});
}

TEST_CASE("Received: headers are read as postmarks", "[ui][index]") {
  const std::string content =
      "Received: from relay.example (relay.example [10.0.0.9]) (using TLSv1.3)\r\n"
      " by mx.example.org (mailsim) with ESMTPS id 42\r\n"
      " for <bob@example.org>; Mon, 1 Apr 2024 09:00:02 +0000\r\n"
      "Received: by relay.example with ESMTP; Mon, 1 Apr 2024 09:00:01 +0000\r\n"
      "Subject: hi\r\n"
      "\r\n"
      "Received: not a header, this is the body\r\n";
  const auto marks = read_postmarks(content);
  REQUIRE(marks.size() == 2);
  CHECK(marks[0].by == "mx.example.org");
  CHECK(marks[0].from == "relay.example");
  CHECK(marks[0].with == "ESMTPS");
  CHECK(marks[0].date == "Mon, 1 Apr 2024 09:00:02 +0000");
  CHECK(marks[1].by == "relay.example");
  CHECK(marks[1].from.empty());
  CHECK(header_value(content, "subject") == "hi");
  CHECK(header_value(content, "Message-ID").empty());
}
