// Reply wire form and the incremental reply parser, in every chunking.
#include "real/smtp/reply.h"
#include "tests/unit/smtp/smtp_test_util.h"

#include <catch2/catch.hpp>

using namespace mailsim::smtp;
using mailsim::smtp::test::chunkings;

namespace {
std::vector<Reply> parse_all(const std::vector<std::string>& chunks, ReplyParser& p) {
  std::vector<Reply> out;
  for (const auto& c : chunks) {
    p.feed(c);
    while (auto r = p.next()) out.push_back(*r);
  }
  return out;
}
}  // namespace

TEST_CASE("Reply::to_wire writes single and multi-line replies") {
  CHECK(make_reply(250, "2.1.0", "Ok").to_wire() == "250 2.1.0 Ok\r\n");
  CHECK(make_reply(220, "", "mx ESMTP").to_wire() == "220 mx ESMTP\r\n");
  CHECK(make_reply(214, "2.0.0", "a\nb").to_wire() == "214-2.0.0 a\r\n214 2.0.0 b\r\n");
  CHECK(make_reply(334, "", "").to_wire() == "334 \r\n");
  CHECK(Reply{250, "", {"mx", "PIPELINING", "HELP"}}.to_wire() == "250-mx\r\n250-PIPELINING\r\n250 HELP\r\n");
  CHECK(make_reply(503, "5.5.1", "a\nb").text() == "a\nb");
}

TEST_CASE("enhanced status codes are recognised (RFC 3463)") {
  CHECK(is_enhanced_code("2.1.0"));
  CHECK(is_enhanced_code("5.7.11"));
  CHECK(is_enhanced_code("4.999.999"));
  CHECK_FALSE(is_enhanced_code("3.0.0"));
  CHECK_FALSE(is_enhanced_code("2.1"));
  CHECK_FALSE(is_enhanced_code("2.1.0000"));
  CHECK_FALSE(is_enhanced_code("mx.example.net"));
}

TEST_CASE("reply parser handles any chunking") {
  const std::string wire =
      "220 mx.example.net ESMTP\r\n"
      "250-mx.example.net\r\n250-PIPELINING\r\n250 SIZE 100\r\n"
      "550-5.1.1 first\r\n550 5.1.1 second\r\n"
      "334 \r\n"
      "250 2.0.0\r\n"
      "221\r\n";
  auto chunks = GENERATE_COPY(from_range(chunkings(wire)));
  ReplyParser p;
  const auto r = parse_all(chunks, p);
  REQUIRE_FALSE(p.failed());
  CHECK_FALSE(p.partial());
  REQUIRE(r.size() == 6);
  CHECK(r[0] == make_reply(220, "", "mx.example.net ESMTP"));
  CHECK(r[1] == Reply{250, "", {"mx.example.net", "PIPELINING", "SIZE 100"}});
  CHECK(r[2] == Reply{550, "5.1.1", {"first", "second"}});
  CHECK(r[3] == Reply{334, "", {""}});
  CHECK(r[4] == Reply{250, "2.0.0", {""}});
  CHECK(r[5] == Reply{221, "", {""}});
  // Round trip.
  for (const auto& x : r) {
    ReplyParser again;
    again.feed(x.to_wire());
    CHECK(again.next() == x);
  }
}

TEST_CASE("reply parser tolerates bare LF line ends") {
  ReplyParser p;
  p.feed("250-a\n250 b\n");
  CHECK(p.next() == Reply{250, "", {"a", "b"}});
}

TEST_CASE("reply parser refuses malformed replies, stickily") {
  auto bad = GENERATE(as<std::string>{}, "hello\r\n", "25\r\n", "250x\r\n", "250-a\r\n251 b\r\n", "150 x\r\n",
                      std::string(5000, '2'));
  auto chunks = GENERATE_COPY(from_range(chunkings(bad)));
  ReplyParser p;
  parse_all(chunks, p);
  CHECK(p.failed());
  p.feed("250 ok\r\n");
  CHECK_FALSE(p.next());
}

TEST_CASE("reply parser: an enhanced code of another class is text") {
  ReplyParser p;
  p.feed("250 5.1.1 odd\r\n");
  const auto r = p.next();
  REQUIRE(r);
  CHECK(r->enhanced.empty());
  CHECK(r->lines.at(0) == "5.1.1 odd");
}

TEST_CASE("a reply's lines keep empty lines, split at LF, and compare by content") {
  auto all = [](const ReplyLines& l) { return std::vector<std::string>(l.begin(), l.end()); };
  const ReplyLines three{"a", "", "b"};
  CHECK(three.size() == 3);
  CHECK(all(three) == std::vector<std::string>{"a", "", "b"});
  CHECK(three[1].empty());
  CHECK(three.at(2) == "b");
  CHECK_THROWS_AS(three.at(3), std::out_of_range);
  const ReplyLines one_empty{""};  // a bare "250": one line, empty
  CHECK(one_empty.size() == 1);
  CHECK(all(one_empty) == std::vector<std::string>{""});
  const ReplyLines none;
  CHECK(none.empty());
  CHECK(none.begin() == none.end());
  CHECK_FALSE(none == one_empty);
  ReplyLines split;
  split.push_back("x\ny");
  CHECK(split == ReplyLines{"x", "y"});
  CHECK(split.joined() == "x\ny");
}
