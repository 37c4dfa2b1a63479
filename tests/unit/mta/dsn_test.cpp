// DSNs (RFC 3464 in RFC 6522 multipart/report): what we write reads back.
#include "real/mta/dsn.h"

#include <catch2/catch.hpp>

#include "real/mime/mime.h"
#include "real/mta/headers.h"
#include "tests/unit/mta/harness.h"

using namespace mailsim::mta;
using namespace mailsim::mta::testing;

namespace {

DsnRequest request(DsnKind kind) {
  DsnRequest r;
  r.kind = kind;
  r.reporting_mta = "mail.alpha.example";
  r.original_id = "65F0A1B20001";
  r.dsn_id = "65F0A1B20002";
  r.original_sender = "alice@alpha.example";
  r.arrival = 1700000000 * kSecond;
  r.now = 1700000300 * kSecond;
  r.retry_until = r.arrival + 5 * kDay;
  r.original_message = "Received: from alice-pc\r\n\tby mail.alpha.example; Tue, 14 Nov 2023 22:13:20 +0000\r\n" + kLunch;
  RecipientStatus bob = pending_recipient("bob@beta.example");
  bob.state = RecipientState::bounced;
  bob.status = "5.1.1";
  bob.diagnostic = "550 5.1.1 <bob@beta.example>: Recipient address rejected: User unknown";
  bob.remote_mta = "mx.beta.example";
  RecipientStatus zed = pending_recipient("zed@nowhere.example");
  zed.state = RecipientState::bounced;
  zed.status = "5.1.2";
  zed.diagnostic = "550 5.1.2 Host or domain name not found";
  r.recipients = {bob, zed};
  return r;
}

}  // namespace

TEST_CASE("a failure DSN is multipart/report with three parts a reader and a program understand") {
  auto text = build_dsn(request(DsnKind::failure));
  // The message parses as MIME, with the parts RFC 6522 asks for.
  auto root = mailsim::mime::parse_message(text);
  CHECK(root.content_type.type == "multipart");
  CHECK(root.content_type.subtype == "report");
  REQUIRE(root.content_type.param("report-type"));
  CHECK(*root.content_type.param("report-type") == "delivery-status");
  REQUIRE(root.parts.size() == 3);
  CHECK(root.parts[0].content_type.subtype == "plain");
  CHECK(root.parts[1].content_type.type == "message");
  CHECK(root.parts[1].content_type.subtype == "delivery-status");
  CHECK(root.parts[2].content_type.subtype == "rfc822-headers");

  CHECK(header_value(text, "To") == "<alice@alpha.example>");
  CHECK(header_value(text, "Date") == "Tue, 14 Nov 2023 22:18:20 +0000");
  CHECK(header_value(text, "Message-ID") == "<65F0A1B20002@mail.alpha.example>");
  // Every line ends in CRLF and none is longer than RFC 5322 allows.
  for (std::size_t i = 0; i < text.size(); ++i)
    if (text[i] == '\n') REQUIRE((i > 0 && text[i - 1] == '\r'));

  auto dsn = parse_dsn(text);
  REQUIRE(dsn);
  CHECK(dsn->report_type == "delivery-status");
  CHECK(dsn->reporting_mta == "dns; mail.alpha.example");
  CHECK(dsn->arrival_date == "Tue, 14 Nov 2023 22:13:20 +0000");
  REQUIRE(dsn->recipients.size() == 2);
  const auto& bob = dsn->recipients[0];
  CHECK(bob.final_recipient == "rfc822; bob@beta.example");
  CHECK(bob.original_recipient == "rfc822; bob@beta.example");
  CHECK(bob.action == "failed");
  CHECK(bob.status == "5.1.1");
  CHECK(bob.remote_mta == "dns; mx.beta.example");
  CHECK(bob.diagnostic_code == "smtp; 550 5.1.1 <bob@beta.example>: Recipient address rejected: User unknown");
  CHECK(bob.last_attempt_date == "Tue, 14 Nov 2023 22:18:20 +0000");
  const auto& zed = dsn->recipients[1];
  CHECK(zed.status == "5.1.2");
  CHECK(zed.remote_mta.empty());  // nobody answered: our own diagnosis
  CHECK_THAT(zed.diagnostic_code, Catch::StartsWith("X-Mailsim; 550 5.1.2"));

  CHECK_THAT(dsn->original_headers, Catch::StartsWith("Received: from alice-pc"));
  CHECK_THAT(dsn->original_headers, Catch::Contains("Subject: Lunch?"));
  CHECK_THAT(dsn->original_headers, !Catch::Contains("Shall we have lunch"));  // headers only
  CHECK_THAT(dsn->human_readable, Catch::Contains("I'm sorry to have to tell you"));
  CHECK_THAT(dsn->human_readable, Catch::Contains("<bob@beta.example>: host mx.beta.example said: 550 5.1.1"));
}

TEST_CASE("a delay DSN says delayed, 4.x.x and until when it keeps trying") {
  auto req = request(DsnKind::delay);
  req.recipients.resize(1);
  req.recipients[0].state = RecipientState::deferred;
  req.recipients[0].status = "4.4.1";
  req.recipients[0].diagnostic = "421 4.4.1 connect to mx.beta.example[192.0.2.10]:25: Connection refused";
  req.recipients[0].remote_mta = "";
  auto text = build_dsn(req);
  CHECK(header_value(text, "Subject") == "Delayed Mail (still being retried)");
  auto dsn = parse_dsn(text);
  REQUIRE(dsn);
  REQUIRE(dsn->recipients.size() == 1);
  CHECK(dsn->recipients[0].action == "delayed");
  CHECK(dsn->recipients[0].status == "4.4.1");
  CHECK(dsn->recipients[0].will_retry_until == "Sun, 19 Nov 2023 22:13:20 +0000");
  CHECK_THAT(dsn->human_readable, Catch::Contains("YOU DO NOT NEED TO RESEND"));
}

TEST_CASE("parse_dsn refuses what is not a delivery report") {
  CHECK_FALSE(parse_dsn(kLunch));
  CHECK_FALSE(parse_dsn("Content-Type: multipart/report; report-type=delivery-status; boundary=x\r\n\r\n--x\r\n"
                        "Content-Type: text/plain\r\n\r\nhello\r\n--x--\r\n"));
}

TEST_CASE("parse_dsn reads a DSN split and folded as other MTAs write it") {
  // Postfix-style: LF line ends would be wrong on the wire, but a folded
  // Diagnostic-Code and a message/rfc822 original are common.
  std::string text =
      "From: MAILER-DAEMON@other.example\r\n"
      "Content-Type: multipart/report; report-type=delivery-status;\r\n"
      "\tboundary=\"B0\"\r\n"
      "\r\n"
      "--B0\r\n"
      "Content-Type: text/plain\r\n"
      "\r\n"
      "sorry\r\n"
      "--B0\r\n"
      "Content-Type: message/delivery-status\r\n"
      "\r\n"
      "Reporting-MTA: dns; other.example\r\n"
      "\r\n"
      "Final-Recipient: rfc822; x@y.example\r\n"
      "Action: failed\r\n"
      "Status: 5.2.2\r\n"
      "Diagnostic-Code: smtp; 552 5.2.2 mailbox full\r\n"
      "    (over quota)\r\n"
      "\r\n"
      "--B0\r\n"
      "Content-Type: message/rfc822\r\n"
      "\r\n"
      "Subject: hi\r\n"
      "\r\n"
      "body\r\n"
      "--B0--\r\n";
  auto dsn = parse_dsn(text);
  REQUIRE(dsn);
  REQUIRE(dsn->recipients.size() == 1);
  CHECK(dsn->recipients[0].status == "5.2.2");
  // Unfolding removes only the line break (RFC 5322 2.2.3).
  CHECK(dsn->recipients[0].diagnostic_code == "smtp; 552 5.2.2 mailbox full    (over quota)");
  CHECK_THAT(dsn->original_headers, Catch::Contains("Subject: hi"));
  CHECK(dsn->human_readable == "sorry");
}
