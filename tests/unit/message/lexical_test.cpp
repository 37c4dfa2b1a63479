// Tests for real/message/lexical.h: RFC 5322 §3.2 comments, CFWS, quoted strings.
#include "real/message/lexical.h"

#include <catch2/catch.hpp>

using namespace mailsim::message;

TEST_CASE("skip_cfws passes white space, folding and nested comments") {
  const std::string_view s = " \t\r\n (a (nested) comment \\) still) (another)x";
  CHECK(skip_cfws(s, 0) == s.find('x'));
  CHECK(skip_cfws("x", 0) == 0);
  CHECK(skip_cfws("", 0) == 0);
  CHECK(skip_cfws("  ", 0) == 2);
  // Unclosed, or ending in a backslash: the end, never past it.
  CHECK(skip_cfws(" (never closed", 0) == 14);
  CHECK(skip_cfws("(\\", 0) == 2);
  CHECK(skip_cfws("ab", 5) == 2);
}

TEST_CASE("read_comment returns the content, inner comments kept") {
  const std::string s = "(Bob (the builder) \\(x\\)) rest";
  std::size_t pos = 0;
  CHECK(read_comment(s, pos) == "Bob (the builder) (x)");
  CHECK(s.substr(pos) == " rest");
  std::size_t open = 0;
  CHECK(read_comment("(unclosed", open) == "unclosed");
  CHECK(open == 9);
}

TEST_CASE("read_quoted_string unescapes and drops folding line breaks") {
  const std::string s = "\"Smith, \\\"Carol\\\"\r\n Jr\" <c@d>";
  std::size_t pos = 0;
  CHECK(read_quoted_string(s, pos) == "Smith, \"Carol\" Jr");
  CHECK(s.substr(pos) == " <c@d>");
  std::size_t open = 0;
  CHECK(read_quoted_string("\"unclosed", open) == "unclosed");
  CHECK(open == 9);
  std::size_t empty = 0;
  CHECK(read_quoted_string("\"\"", empty).empty());
  CHECK(empty == 2);
}
