// Tests for real/message/address.h: RFC 5322 §3.4 address lists in the shape
// IMAP's ENVELOPE shows them (RFC 3501 §7.4.2).
#include "real/message/address.h"

#include <catch2/catch.hpp>

using namespace mailsim::message;

TEST_CASE("addresses: comments, routes, quoted local parts, missing parts") {
  auto a = parse_address_list("bob@beta.example (Bob Smith), <@relay.example:carol@gamma.example>, root");
  REQUIRE(a.size() == 3);
  CHECK(a[0].name == "Bob Smith");
  CHECK(a[1].route == "@relay.example");
  CHECK(a[1].addr_spec() == "carol@gamma.example");
  CHECK(a[2].mailbox == "root");
  CHECK(a[2].host == "MISSING_DOMAIN");
  auto g = parse_address_list("undisclosed-recipients:;");
  REQUIRE(g.size() == 2);
  CHECK(g[0].is_group_start());
  CHECK(g[1].is_group_end());
}

TEST_CASE("display names: quoted with escapes and folding, encoded-words kept raw") {
  auto a = parse_address_list("\"Smith, \\\"Carol\\\"\"\r\n <carol@gamma.example>, "
                              "=?UTF-8?B?5piO5pel?= <asu@beta.example>");
  REQUIRE(a.size() == 2);
  CHECK(a[0].name == "Smith, \"Carol\"");
  CHECK(a[0].mailbox == "carol");
  CHECK(a[0].host == "gamma.example");
  CHECK(a[1].name == "=?UTF-8?B?5piO5pel?=");  // ENVELOPE shows it still encoded
  CHECK(a[1].addr_spec() == "asu@beta.example");
  // A nested comment names the mailbox; the inner parentheses stay.
  auto c = parse_address_list("bob@beta.example (Bob (the builder))");
  REQUIRE(c.size() == 1);
  CHECK(c[0].name == "Bob (the builder)");
}

TEST_CASE("a group with members, and garbage that never loops") {
  auto g = parse_address_list("team: bob@beta.example, carol@gamma.example;, dave@delta.example");
  REQUIRE(g.size() == 5);
  CHECK(g[0].mailbox == "team");
  CHECK(g[1].addr_spec() == "bob@beta.example");
  CHECK(g[2].addr_spec() == "carol@gamma.example");
  CHECK(g[3].is_group_end());
  CHECK(g[4].addr_spec() == "dave@delta.example");
  // Brackets with nothing inside: placeholders, as Dovecot and UW-IMAP show them.
  auto junk = parse_address_list("<<>>,,;;@");
  REQUIRE(junk.size() == 2);
  for (const Address& a : junk) {
    CHECK(a.mailbox == "MISSING_MAILBOX");
    CHECK(a.host == "MISSING_DOMAIN");
  }
  // An unclosed quote runs to the end of the value.
  auto unclosed = parse_address_list("\"never closed <x@y");
  REQUIRE(unclosed.size() == 1);
  CHECK(unclosed[0].mailbox == "never closed <x@y");
  CHECK(unclosed[0].host == "MISSING_DOMAIN");
}
