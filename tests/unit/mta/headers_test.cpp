// Trace and delivery header fields, replies, addresses, events.
#include "real/mta/headers.h"

#include <catch2/catch.hpp>
#include <set>

#include "real/mta/address.h"
#include "real/mta/events.h"
#include "real/mta/queue_entry.h"
#include "real/mta/reply.h"

using namespace mailsim::mta;

TEST_CASE("dates are RFC 5322, in UTC") {
  CHECK(format_date(0) == "Thu, 01 Jan 1970 00:00:00 +0000");
  CHECK(format_date(-1) == "Wed, 31 Dec 1969 23:59:59 +0000");
  CHECK(format_date(1700000000LL * kSecond + 999999) == "Tue, 14 Nov 2023 22:13:20 +0000");
}

TEST_CASE("a Received: field names the client, us, the protocol, the id and the time") {
  ReceivedInfo i;
  i.helo = "alice-pc";
  i.client_name = "";
  i.client_address = "10.0.0.2";
  i.by = "mail.alpha.example";
  i.with = "ESMTPSA";
  i.id = "65F0A1B20001";
  i.for_recipient = "bob@beta.example";
  i.tls = "using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384";
  i.when = 1700000000LL * kSecond;
  const std::string expected =
      "Received: from alice-pc (unknown [10.0.0.2]) by mail.alpha.example\r\n"
      "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384) with ESMTPSA\r\n"
      "\tid 65F0A1B20001 for <bob@beta.example>; Tue, 14 Nov 2023 22:13:20 +0000\r\n";
  CHECK(received_field(i) == expected);
  // The same with version and cipher given apart.
  i.tls = {};
  i.tls_version = "TLSv1.3";
  i.tls_cipher = "TLS_AES_256_GCM_SHA384";
  CHECK(received_field(i) == expected);
  // No line is longer than 78 characters.
  std::size_t col = 0;
  for (char c : received_field(i)) {
    col = c == '\n' ? 0 : col + 1;
    CHECK(col <= 79);  // 78 + the CR
  }
}

TEST_CASE("Received: fields are counted in the header only, folded or not") {
  std::string m =
      "Received: from a\r\n\tby b; Mon, 1 Jan 2024 00:00:00 +0000\r\n"
      "received: from c by d; Mon, 1 Jan 2024 00:00:00 +0000\r\n"
      "Subject: x\r\n"
      "\r\n"
      "Received: this is the body, not a header\r\n";
  CHECK(count_received(m) == 2);
  CHECK(count_received("Subject: none\r\n\r\n") == 0);
  CHECK(header_value(m, "subject") == "x");
  CHECK(header_value(m, "Received") == "from a\tby b; Mon, 1 Jan 2024 00:00:00 +0000");  // unfolded: CRLF gone
  CHECK(std::string(header_section(m)).ends_with("Subject: x\r\n\r\n"));
}

TEST_CASE("final delivery puts Return-Path and Delivered-To on top, replacing a stray Return-Path") {
  std::string m = "Return-Path: <forged@evil.example>\r\nSubject: hi\r\n\r\nbody\r\n";
  CHECK(with_delivery_fields(m, "alice@alpha.example", "bob@beta.example") ==
        "Return-Path: <alice@alpha.example>\r\nDelivered-To: bob@beta.example\r\nSubject: hi\r\n\r\nbody\r\n");
  CHECK(with_delivery_fields("Subject: hi\r\n\r\nReturn-Path: <in body>\r\n", "", "bob@beta.example") ==
        "Return-Path: <>\r\nDelivered-To: bob@beta.example\r\nSubject: hi\r\n\r\nReturn-Path: <in body>\r\n");
}

TEST_CASE("bare LF becomes CRLF, CRLF stays") {
  CHECK(crlf("a\nb\r\nc\n") == "a\r\nb\r\nc\r\n");
  CHECK(crlf("") == "");
}

TEST_CASE("replies parse with and without enhanced status codes") {
  auto r = parse_reply("550 5.1.1 <bob@beta.example>: User unknown\r\n");
  CHECK(r.code == 550);
  CHECK(r.enhanced == "5.1.1");
  CHECK(r.text == "<bob@beta.example>: User unknown");
  CHECK(r.permanent());
  CHECK(r.to_string() == "550 5.1.1 <bob@beta.example>: User unknown");
  auto plain = parse_reply("421 closing");
  CHECK(plain.enhanced.empty());
  CHECK(plain.status() == "4.0.0");
  CHECK(plain.transient());
  CHECK(parse_reply("25x nope").code == 0);
  CHECK(parse_reply("250").code == 250);
  CHECK(is_enhanced_status("5.1.10"));
  CHECK_FALSE(is_enhanced_status("3.1.1"));
  CHECK_FALSE(is_enhanced_status("5.1"));
  CHECK_FALSE(is_enhanced_status("5..1"));
}

TEST_CASE("addresses split at the last @, domains compare without case") {
  auto a = parse_mailbox("<Bob@Beta.Example.>");
  REQUIRE(a);
  CHECK(a->local == "Bob");
  CHECK(a->domain == "beta.example");
  CHECK(parse_mailbox("\"a@b\"@c.example")->local == "\"a@b\"");
  CHECK_FALSE(parse_mailbox("bob"));
  CHECK_FALSE(parse_mailbox("@beta.example"));
  CHECK_FALSE(parse_mailbox("bob@"));
  CHECK(domain_of("x@Y.Z") == "y.z");
  CHECK(is_postmaster("PostMaster"));
  CHECK(iequals("MX.beta.example", "mx.BETA.example"));
}

TEST_CASE("queue entry status survives its JSON form") {
  QueueEntry q;
  q.id = "A1";
  q.sender = "";
  q.recipients = {pending_recipient("x@y.example")};
  q.recipients[0].state = RecipientState::bounced;
  q.recipients[0].diagnostic = "line\r\nbreak \"quoted\"";
  q.state = QueueState::bounced;
  QueueEntry back;
  REQUIRE(envelope_from_json(envelope_to_json(q), back));
  REQUIRE(status_from_json(status_to_json(q), back));
  CHECK(back.sender.empty());
  CHECK(back.state == QueueState::bounced);
  CHECK(back.recipients[0].diagnostic == "line\r\nbreak \"quoted\"");
  CHECK(status_to_json(q).find('\n') == std::string::npos);  // one line on disk
  CHECK_FALSE(status_from_json("{\"state\":\"flying\"}", back));
  CHECK_FALSE(envelope_from_json("not json", back));
}

TEST_CASE("every event kind has a name, a sentence and JSON") {
  std::vector<EventPayload> all = {
      event::Received{"ID", "a@x", {"b@y"}, "c", 10}, event::StateChanged{"ID", QueueState::active, QueueState::deferred},
      event::RecipientUpdated{"ID", "b@y", RecipientState::deferred, "4.4.1", "refused"},
      event::RouteChosen{"ID", "y", {"mx.y"}, "note"}, event::DeliveryAttempt{"ID", "mx.y", "1.2.3.4", "ok"},
      event::ConnectionReused{"ID", "mx.y", "1.2.3.4", 2}, event::Deferred{"ID", "why"},
      event::RetryScheduled{"ID", 300 * kSecond, 2}, event::Delivered{"ID", "b@y", "mx.y", "250"},
      event::Bounced{"ID", "b@y", "5.1.1", "550"}, event::DsnGenerated{"ID", "ID2", "failed", "a@x"},
      event::BounceDropped{"ID", {"b@y"}}, event::LoopDetected{"ID", "hops"}, event::RelayDenied{"c", "b@y"},
      event::RecipientRejected{"c", "b@y", "550"}, event::Removed{"ID"}};
  std::set<std::string_view> kinds;
  for (auto& p : all) {
    MtaEvent e{42, "mx.test", p};
    kinds.insert(kind_of(e));
    CHECK_THAT(describe(e), Catch::StartsWith("mx.test: "));
    CHECK_THAT(to_json(e), Catch::Contains("\"at\":42"));
  }
  CHECK(kinds.size() == all.size());
  CHECK(describe(MtaEvent{0, "m", event::RetryScheduled{"ID", 300 * kSecond, 2}}) ==
        "m: ID: attempt 2 scheduled at t=300.000s");
}
