// Tests for real/message/trace_headers.h: the postmarks of each hop.
#include "real/message/trace_headers.h"

#include "real/message/headers.h"

#include <catch2/catch.hpp>

using namespace mailsim::message;

namespace {

ReceivedFields hop(WithProtocol with) {
  ReceivedFields f;
  f.helo = "mail.alpha.example";
  f.rdns = "mail.alpha.example";
  f.ip = "192.0.2.1";
  f.by = "mx.beta.example";
  f.with = with;
  f.id = "4F3A2B";
  f.for_recipient = "bob@beta.example";
  f.date = "Mon, 23 Nov 2026 09:30:05 +0900";
  return f;
}

}  // namespace

TEST_CASE("with follows RFC 3848: TLS adds S, AUTH adds A") {
  CHECK(with_protocol(false, false, false) == WithProtocol::kSmtp);
  CHECK(with_protocol(true, false, false) == WithProtocol::kEsmtp);
  CHECK(with_protocol(true, true, false) == WithProtocol::kEsmtps);
  CHECK(with_protocol(true, false, true) == WithProtocol::kEsmtpa);
  CHECK(with_protocol(true, true, true) == WithProtocol::kEsmtpsa);
  CHECK(with_protocol(false, true, false) == WithProtocol::kEsmtps);  // STARTTLS needs EHLO anyway
}

TEST_CASE("Received fields for each with value") {
  CHECK(build_received(hop(WithProtocol::kEsmtp)) ==
        "Received: from mail.alpha.example (mail.alpha.example [192.0.2.1])\r\n"
        "\tby mx.beta.example with ESMTP id 4F3A2B for <bob@beta.example>;\r\n"
        "\tMon, 23 Nov 2026 09:30:05 +0900\r\n");
  CHECK(build_received(hop(WithProtocol::kEsmtps)).find(" with ESMTPS id 4F3A2B") != std::string::npos);
  CHECK(build_received(hop(WithProtocol::kEsmtpa)).find(" with ESMTPA id 4F3A2B") != std::string::npos);
  CHECK(build_received(hop(WithProtocol::kEsmtpsa)).find(" with ESMTPSA id 4F3A2B") != std::string::npos);
  CHECK(build_received(hop(WithProtocol::kSmtp)).find(" with SMTP id 4F3A2B") != std::string::npos);
}

TEST_CASE("a Received field parses back, unfolds to one line and stays within 78 columns") {
  ReceivedFields f = hop(WithProtocol::kEsmtpsa);
  f.tls_version = "TLSv1.3";
  f.tls_cipher = "TLS_AES_256_GCM_SHA384";
  const std::string r = build_received(f);
  std::size_t start = 0;
  for (std::size_t eol; (eol = r.find("\r\n", start)) != std::string::npos; start = eol + 2)
    CHECK(eol - start <= 78);
  const auto h = parse_headers(r + "\r\n");
  REQUIRE(h.fields.size() == 1);
  CHECK(h.fields[0].name == "Received");
  CHECK(h.fields[0].value ==
        "from mail.alpha.example (mail.alpha.example [192.0.2.1])\tby mx.beta.example "
        "(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384)\twith ESMTPSA id 4F3A2B for "
        "<bob@beta.example>;\tMon, 23 Nov 2026 09:30:05 +0900");
}

TEST_CASE("the field can be built on top of the message it heads") {
  const ReceivedFields f = hop(WithProtocol::kEsmtp);
  const std::string message = "Subject: hi\r\n\r\nbody\r\n";
  CHECK(build_received(f, message) == build_received(f) + message);
}

TEST_CASE("unknown reverse DNS, IPv6 literals and no single recipient") {
  ReceivedFields f = hop(WithProtocol::kEsmtp);
  f.rdns = {};
  f.ip = "2001:db8::25";
  f.for_recipient = {};
  const std::string r = build_received(f);
  CHECK(r.find("(unknown [IPv6:2001:db8::25])") != std::string::npos);
  CHECK(r.find("for <") == std::string::npos);
  CHECK(r.find("id 4F3A2B;") != std::string::npos);
  CHECK(r.ends_with("Mon, 23 Nov 2026 09:30:05 +0900\r\n"));
}

TEST_CASE("final delivery prepends Return-Path and Delivered-To") {
  const std::string msg = "Received: from a by b with ESMTP; Mon, 23 Nov 2026 09:30:05 +0900\r\nSubject: hi\r\n\r\nbody\r\n";
  const std::string delivered = prepend_delivery_headers(msg, "alice@alpha.example", "bob@beta.example");
  CHECK(delivered.rfind("Return-Path: <alice@alpha.example>\r\nDelivered-To: bob@beta.example\r\nReceived: ", 0) == 0);
  CHECK(delivered.ends_with(msg));
  const auto h = parse_headers(delivered);
  CHECK(h.fields[0].name == "Return-Path");
  CHECK(h.get("Delivered-To") == std::string_view("bob@beta.example"));
  // A bounce has the null sender; brackets given by the caller are not doubled.
  CHECK(prepend_delivery_headers(msg, "", "").rfind("Return-Path: <>\r\nReceived:", 0) == 0);
  CHECK(prepend_delivery_headers(msg, "<a@b>", "").rfind("Return-Path: <a@b>\r\n", 0) == 0);
}

TEST_CASE("Received fields are counted for loop detection, body lines are not") {
  std::string msg;
  for (int i = 0; i < 3; ++i) msg = build_received(hop(WithProtocol::kEsmtp)) + msg;
  msg += "received: lowercase counts too\r\nSubject: loop\r\n\r\nReceived: in the body\r\n";
  CHECK(count_received(msg) == 4);
  CHECK(count_received("Subject: none\r\n\r\n") == 0);
}
