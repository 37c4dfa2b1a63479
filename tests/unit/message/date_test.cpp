// Tests for real/message/date.h: RFC 5322 date-time from a given instant.
#include "real/message/date.h"

#include <catch2/catch.hpp>

using namespace mailsim::message;

TEST_CASE("dates are formatted exactly, in the sender's zone") {
  // 2026-11-23T00:30:00Z
  const std::int64_t t = 1795393800;
  CHECK(format_date(t, 540) == "Mon, 23 Nov 2026 09:30:00 +0900");
  CHECK(format_date(t, 0) == "Mon, 23 Nov 2026 00:30:00 +0000");
  CHECK(format_date(t, -300) == "Sun, 22 Nov 2026 19:30:00 -0500");
  CHECK(format_date(t, 330) == "Mon, 23 Nov 2026 06:00:00 +0530");
  CHECK(format_date(0) == "Thu, 01 Jan 1970 00:00:00 +0000");
  CHECK(format_date(951782400) == "Tue, 29 Feb 2000 00:00:00 +0000");  // leap day
  CHECK(format_date(-1) == "Wed, 31 Dec 1969 23:59:59 +0000");
  CHECK(format_date(4102444799) == "Thu, 31 Dec 2099 23:59:59 +0000");
  CHECK_THROWS_AS(format_date(0, 6000), std::invalid_argument);
}

TEST_CASE("dates parse back, including obsolete forms") {
  CHECK(parse_date("Mon, 23 Nov 2026 09:30:00 +0900") == 1795393800);
  CHECK(parse_date("23 Nov 2026 00:30 GMT") == 1795393800);
  CHECK(parse_date("Sun, 22 Nov 26 19:30:00 EST (Eastern)") == 1795393800);
  CHECK(parse_date("  Mon,\r\n 23 nov 2026 09:30:00 +0900") == 1795393800);
  CHECK_FALSE(parse_date("yesterday"));
  CHECK_FALSE(parse_date("Mon, 23 Foo 2026 09:30:00 +0900"));
  CHECK_FALSE(parse_date("Mon, 23 Nov 2026 25:30:00 +0900"));
  CHECK_FALSE(parse_date("Mon, 23 Nov 2026 09:30:00"));
  for (std::int64_t t = -86400LL * 400; t < 86400LL * 365 * 200; t += 86400LL * 37 + 3601) {
    for (int off : {-720, -300, 0, 330, 540, 840}) CHECK(parse_date(format_date(t, off)) == t);
  }
}
