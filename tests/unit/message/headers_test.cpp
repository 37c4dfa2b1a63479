// Tests for real/message/headers.h: RFC 5322 header sections, whole and in
// every chunking.
#include "real/message/headers.h"

#include <catch2/catch.hpp>

using namespace mailsim::message;

namespace {

// Parses `msg` fed in pieces: split at one position, or one byte at a time.
MessageHeaders parse_split(std::string_view msg, std::size_t split,
                           InvalidLine invalid = InvalidLine::kStartsBody) {
  HeaderParser p(invalid);
  std::size_t used = p.feed(msg.substr(0, split));
  if (!p.done()) used += p.feed(msg.substr(split));
  p.finish();
  (void)used;
  return p.take();
}

MessageHeaders parse_bytewise(std::string_view msg, InvalidLine invalid = InvalidLine::kStartsBody) {
  HeaderParser p(invalid);
  for (char c : msg) p.feed(std::string_view(&c, 1));
  p.finish();
  return p.take();
}

void check_same(const MessageHeaders& a, const MessageHeaders& b) {
  REQUIRE(a.fields.size() == b.fields.size());
  for (std::size_t i = 0; i < a.fields.size(); ++i) {
    CHECK(a.fields[i].name == b.fields[i].name);
    CHECK(a.fields[i].raw_value == b.fields[i].raw_value);
    CHECK(a.fields[i].value == b.fields[i].value);
    CHECK(a.fields[i].raw == b.fields[i].raw);
    CHECK(a.fields[i].offset == b.fields[i].offset);
  }
  CHECK(a.body_offset == b.body_offset);
  CHECK(a.has_separator == b.has_separator);
  CHECK(a.problems.size() == b.problems.size());
}

const std::string kMessage =
    "Received: from mail.alpha.example (mail.alpha.example [192.0.2.1])\r\n"
    "\tby mx.beta.example with ESMTPS id 4F3A2B\r\n"
    "\tfor <bob@beta.example>; Mon, 23 Nov 2026 09:30:05 +0900\r\n"
    "Received: from alice-pc (unknown [192.0.2.10])\r\n"
    "\tby mail.alpha.example with ESMTPSA id 1C2D3E; Mon, 23 Nov 2026 09:30:00 +0900\r\n"
    "From: Alice <alice@alpha.example>\r\n"
    "To: bob@beta.example\r\n"
    "subject: Lunch\r\n"
    "  tomorrow?\r\n"
    "Date: Mon, 23 Nov 2026 09:29:58 +0900\r\n"
    "\r\n"
    "Shall we meet at noon?\r\n"
    "Subject: this is body text, not a field\r\n";

}  // namespace

TEST_CASE("a message's fields, folding and body offset, in every chunking") {
  const MessageHeaders whole = parse_headers(kMessage);
  REQUIRE(whole.fields.size() == 6);
  CHECK(whole.has_separator);
  CHECK(whole.problems.empty());
  CHECK(std::string_view(kMessage).substr(whole.body_offset) ==
        "Shall we meet at noon?\r\nSubject: this is body text, not a field\r\n");

  const HeaderField& subject = whole.fields[4];
  CHECK(subject.name == "subject");
  CHECK(subject.raw_value == " Lunch\r\n  tomorrow?");
  CHECK(subject.value == "Lunch  tomorrow?");
  CHECK(subject.raw == "subject: Lunch\r\n  tomorrow?\r\n");
  // Every field's raw text is exactly its bytes in the message.
  for (const HeaderField& f : whole.fields) CHECK(kMessage.substr(f.offset, f.raw.size()) == f.raw);
  CHECK(whole.fields[0].value ==
        "from mail.alpha.example (mail.alpha.example [192.0.2.1])\tby mx.beta.example with ESMTPS id "
        "4F3A2B\tfor <bob@beta.example>; Mon, 23 Nov 2026 09:30:05 +0900");
  CHECK(whole.fields[1].offset == kMessage.find("Received: from alice-pc"));

  const std::size_t split = GENERATE(range(std::size_t{0}, kMessage.size() + 1));
  check_same(parse_split(kMessage, split), whole);
}

TEST_CASE("fed one byte at a time, the parser agrees and stops at the body") {
  check_same(parse_bytewise(kMessage), parse_headers(kMessage));
  HeaderParser p;
  const std::size_t used = p.feed(kMessage);
  CHECK(p.done());
  CHECK(used == kMessage.find("Shall we"));  // the body is left to the caller
  CHECK(p.feed("more body") == 0);
}

TEST_CASE("lookup is case-insensitive and keeps every occurrence in order") {
  const MessageHeaders h = parse_headers(kMessage);
  CHECK(h.get("SUBJECT") == std::string_view("Lunch  tomorrow?"));
  CHECK(h.get("from") == std::string_view("Alice <alice@alpha.example>"));
  CHECK_FALSE(h.get("Cc"));
  CHECK(h.find("cc") == nullptr);
  CHECK(h.count("received") == 2);
  const auto received = h.all("RECEIVED");
  REQUIRE(received.size() == 2);
  CHECK(received[0]->value.find("by mx.beta.example") != std::string::npos);  // newest first
  CHECK(received[1]->value.find("alice-pc") != std::string::npos);
}

TEST_CASE("count_fields counts what the parser finds, in every kind of header section") {
  const std::string message = GENERATE(as<std::string>{},
      std::string(kMessage), "", "\r\n", "Received: a\r\n\r\nReceived: in the body\r\n",
      "From alice Mon Jan 1\r\nReceived: a\r\n\r\n",            // mbox separator line
      "Received: a\r\n  Received: folded, not a field\r\nreceived : b\r\n\r\n",
      " Received: continuation with nothing before it\r\nReceived: a\r\n\r\n",
      "Received: a\r\nno colon here\r\nReceived: after the body began\r\n",
      "Received: a\r\nbad name\x01: x\r\nReceived: b\r\n", "Received: a\nRECEIVED: b\n\nReceived: c\n",
      "Received: a\r\nReceived: b",                                // no final line break
      "Received: a\r\n\r", "Received: a\r\nReceived-SPF: pass\r\nXReceived: x\r\n\r\n");
  CAPTURE(message);
  CHECK(count_fields(message, "Received") == parse_headers(message).count("Received"));
  CHECK(count_fields(message, "received-spf") == parse_headers(message).count("Received-SPF"));
}

TEST_CASE("bare LF line ends are understood and kept in raw values") {
  const std::string lf = "From: a@b\nSubject: one\n two\n\nbody\n";
  const std::size_t split = GENERATE(range(std::size_t{0}, std::size_t{35}));
  const MessageHeaders h = parse_split(lf, std::min(split, lf.size()));
  REQUIRE(h.fields.size() == 2);
  CHECK(h.fields[1].raw_value == " one\n two");
  CHECK(h.fields[1].value == "one two");
  CHECK(h.has_separator);
  CHECK(std::string_view(lf).substr(h.body_offset) == "body\n");
}

TEST_CASE("a header section without body") {
  SECTION("ending in a line break") {
    const std::string m = "From: a@b\r\nSubject: hi\r\n";
    const auto h = parse_headers(m);
    CHECK(h.fields.size() == 2);
    CHECK_FALSE(h.has_separator);
    CHECK(h.body_offset == m.size());
  }
  SECTION("without a final line break") {
    const std::string m = "From: a@b\r\nSubject: hi";
    const auto h = parse_headers(m);
    REQUIRE(h.fields.size() == 2);
    CHECK(h.fields[1].value == "hi");
    CHECK(h.body_offset == m.size());
    check_same(parse_bytewise(m), h);
  }
  SECTION("ending at the empty line") {
    const std::string m = "From: a@b\r\n\r\n";
    const auto h = parse_headers(m);
    CHECK(h.has_separator);
    CHECK(h.body_offset == m.size());
  }
  SECTION("empty input") {
    const auto h = parse_headers("");
    CHECK(h.fields.empty());
    CHECK(h.body_offset == 0);
  }
}

TEST_CASE("malformed lines are reported, not crashed on") {
  SECTION("a line without a colon starts the body") {
    const std::string m = "From: a@b\r\nSubject: hi\r\nHello Bob,\r\nX-Not: a field\r\n";
    const auto h = parse_headers(m);
    CHECK(h.fields.size() == 2);
    REQUIRE(h.problems.size() == 1);
    CHECK(h.problems[0].line == 3);
    CHECK(h.problems[0].offset == m.find("Hello"));
    CHECK(h.problems[0].reason.find("colon") != std::string::npos);
    CHECK(h.body_offset == m.find("Hello"));
    CHECK_FALSE(h.has_separator);
    const std::size_t split = GENERATE(range(std::size_t{0}, std::size_t{50}));
    check_same(parse_split(m, std::min(split, m.size())), h);
  }
  SECTION("a space inside the name is not a field") {
    const auto h = parse_headers("From: a@b\r\nBad Name: x\r\n");
    CHECK(h.fields.size() == 1);
    CHECK(h.problems.size() == 1);
  }
  SECTION("white space before the colon is the obsolete syntax, accepted") {
    const auto h = parse_headers("Subject : old style\r\n\r\n");
    REQUIRE(h.fields.size() == 1);
    CHECK(h.fields[0].name == "Subject");
    CHECK(h.fields[0].value == "old style");
  }
  SECTION("a continuation line with nothing to continue") {
    const auto h = parse_headers(" stray\r\nFrom: a@b\r\n\r\n");
    CHECK(h.fields.size() == 1);
    CHECK(h.problems.size() == 1);
  }
  SECTION("an mbox From_ line") {
    const auto h = parse_headers("From alice@alpha.example Mon Nov 23 09:30:00 2026\nFrom: a@b\n\n");
    REQUIRE(h.fields.size() == 1);
    CHECK(h.fields[0].name == "From");
    CHECK(h.problems.size() == 1);
  }
  SECTION("an empty field value") {
    const auto h = parse_headers("Subject:\r\n\r\n");
    REQUIRE(h.fields.size() == 1);
    CHECK(h.fields[0].value.empty());
  }
}

TEST_CASE("skipping invalid lines: the header section runs to the blank line (IMAP's view)") {
  const std::string m =
      "From: a@b\r\n"
      "Hello Bob,\r\n"
      "Subject: still\r\n"
      "\tfolded\r\n"
      "Bad Name: x\r\n"
      "  orphan continuation\r\n"
      "X-Last: 1\r\n"
      "\r\n"
      "body\r\n";
  const MessageHeaders h = parse_headers(m, InvalidLine::kSkipped);
  REQUIRE(h.fields.size() == 3);
  CHECK(h.fields[1].name == "Subject");
  CHECK(h.fields[1].value == "still\tfolded");
  CHECK(h.fields[1].raw == "Subject: still\r\n\tfolded\r\n");
  CHECK(h.fields[2].name == "X-Last");
  CHECK(h.fields[2].offset == m.find("X-Last"));
  CHECK(h.has_separator);
  CHECK(std::string_view(m).substr(h.body_offset) == "body\r\n");
  REQUIRE(h.problems.size() == 3);  // two invalid lines and the orphan continuation
  CHECK(h.problems[0].line == 2);
  CHECK(h.problems[0].reason.find("skipped") != std::string::npos);
  CHECK(h.problems[1].reason.find("name") != std::string::npos);
  // The default, for mail arriving by SMTP, ends the header at the first one.
  CHECK(parse_headers(m).fields.size() == 1);

  check_same(parse_bytewise(m, InvalidLine::kSkipped), h);
  const std::size_t split = GENERATE(range(std::size_t{0}, std::size_t{110}));
  check_same(parse_split(m, std::min(split, m.size()), InvalidLine::kSkipped), h);
}

TEST_CASE("a field's raw text without a final line break") {
  const auto h = parse_headers("Subject: a\n b", InvalidLine::kSkipped);
  REQUIRE(h.fields.size() == 1);
  CHECK(h.fields[0].raw == "Subject: a\n b");
  CHECK(h.fields[0].value == "a b");
}

TEST_CASE("fold_field breaks long fields at white space and unfolds back exactly") {
  const std::string field =
      "Subject: The quick brown fox jumps over the lazy dog while the mail server retries every "
      "five minutes";
  const std::string folded = fold_field(field);
  CHECK(folded.ends_with("\r\n"));
  std::size_t start = 0;
  for (std::size_t eol; (eol = folded.find("\r\n", start)) != std::string::npos; start = eol + 2)
    CHECK(eol - start <= 78);
  CHECK(folded.find("\r\n ") != std::string::npos);
  CHECK(unfold(folded.substr(0, folded.size() - 2)) == field);
  CHECK(fold_field("Subject: short") == "Subject: short\r\n");
  // A word longer than the width stays whole (on its own continuation line).
  const std::string long_word = "X-Token: " + std::string(100, 'a');
  CHECK(fold_field(long_word) == "X-Token:\r\n " + std::string(100, 'a') + "\r\n");
}

TEST_CASE("unfold removes line breaks before white space only") {
  CHECK(unfold("a\r\n b") == "a b");
  CHECK(unfold("a\n\tb") == "a\tb");
  CHECK(unfold("a\r\nb") == "a\r\nb");
  CHECK(iequals("Received", "rECEIVED"));
  CHECK_FALSE(iequals("Received", "Receive"));
}
