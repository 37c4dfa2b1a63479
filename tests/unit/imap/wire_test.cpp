// Tests for real/imap/wire.h: IMAP strings, dates and the trace summary of
// literals.
#include "real/imap/wire.h"

#include <catch2/catch.hpp>

using namespace mailsim::imap;

TEST_CASE("the trace shows literals as their size, never their octets") {
  CHECK(summarize_literals("A1 LOGIN {5}\r\nalice {6}\r\nsecret\r\n") == "A1 LOGIN {5} <5 octets> {6} <6 octets>");
  // LITERAL+ (RFC 7888) from a client.
  CHECK(summarize_literals("A2 APPEND INBOX {11+}\r\nHello\r\nBob!\r\n") == "A2 APPEND INBOX {11+} <11 octets>");
  // A FETCH response whose literal holds CRLFs of its own.
  CHECK(summarize_literals("* 1 FETCH (BODY[] {7}\r\na\r\nb\r\nc)\r\n") == "* 1 FETCH (BODY[] {7} <7 octets>)");
  // A literal cut short by the end of the text, and braces that are not one.
  CHECK(summarize_literals("A3 LOGIN {99}\r\nshort") == "A3 LOGIN {99} <99 octets>");
  CHECK(summarize_literals("A5 NOOP\r\n") == "A5 NOOP");
  CHECK(summarize_literals("no line end") == "no line end");
}

TEST_CASE("INTERNALDATE formats in UTC and parses back with its zone") {
  CHECK(format_internal_date(0) == "01-Jan-1970 00:00:00 +0000");
  CHECK(format_internal_date(837564265) == "17-Jul-1996 00:44:25 +0000");
  CHECK(format_internal_date(-1) == "31-Dec-1969 23:59:59 +0000");
  CHECK(parse_date_time("17-Jul-1996 02:44:25 -0700") == 837596665);
  CHECK(parse_date_time(" 7-Jul-1996 02:44:25 +0000") == 836707465);
  CHECK(parse_date_time(format_internal_date(1795393800)) == 1795393800);
  CHECK_FALSE(parse_date_time("17-Jul-1996 24:44:25 -0700"));
  CHECK_FALSE(parse_date_time("17-Jux-1996 02:44:25 -0700"));
  CHECK_FALSE(parse_date_time("17-Jul-1996 02:44:25"));
  CHECK(parse_date("1-Feb-1994") == 8797);
  CHECK(parse_date("29-feb-2000") == 11016);
  CHECK_FALSE(parse_date("29-Feb-1900"));  // not a leap year
  CHECK_FALSE(parse_date(" 1-Feb-1994"));  // search dates are not space-padded
  CHECK_FALSE(parse_date("1-Feb-94"));
}

TEST_CASE("strings: quoted when they can be, literals otherwise") {
  CHECK(imap_string("Lunch?") == "\"Lunch?\"");
  CHECK(imap_string("say \"hi\"") == "\"say \\\"hi\\\"\"");
  CHECK(imap_string("two\r\nlines") == "{10}\r\ntwo\r\nlines");
  CHECK(imap_string("caf\xC3\xA9") == "{5}\r\ncaf\xC3\xA9");
  CHECK(imap_astring("INBOX") == "INBOX");
  CHECK(imap_astring("nil") == "\"nil\"");
  CHECK(imap_astring("My Folder") == "\"My Folder\"");
  CHECK(imap_nstring(std::optional<std::string>{}) == "NIL");
  CHECK(format_number_set({1, 2, 3, 7, 9, 10}) == "1:3,7,9:10");
}
