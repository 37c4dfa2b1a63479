// Tests for real/message/date.h: RFC 5322 date-time from a given instant, the
// calendar arithmetic IMAP shares, and the Date: day IMAP's SENT* keys use.
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

TEST_CASE("parse_date: two- and three-digit years as RFC 5322 §4.3 says") {
  CHECK(parse_date("1 Jan 49 00:00 +0000") == days_from_civil(2049, 1, 1) * 86400);
  CHECK(parse_date("1 Jan 50 00:00 +0000") == days_from_civil(1950, 1, 1) * 86400);
  CHECK(parse_date("1 Jan 103 00:00 +0000") == days_from_civil(2003, 1, 1) * 86400);
  CHECK(parse_date("1 Jan 0049 00:00 +0000") == days_from_civil(49, 1, 1) * 86400);
  // A comment that never closes, or ends in a backslash, is not a date and no crash.
  CHECK_FALSE(parse_date("1 Jan 2003 (unclosed"));
  CHECK_FALSE(parse_date("1 (\\"));
}

TEST_CASE("calendar arithmetic: days, months, weekdays") {
  CHECK(days_from_civil(1970, 1, 1) == 0);
  CHECK(days_from_civil(2000, 3, 1) == 11017);
  CHECK(days_from_civil(1969, 12, 31) == -1);
  for (std::int64_t d = -800000; d < 800000; d += 997) {
    const CivilDate c = civil_from_days(d);
    CHECK(days_from_civil(c.year, c.month, c.day) == d);
  }
  CHECK(days_in_month(2000, 2) == 29);
  CHECK(days_in_month(1900, 2) == 28);
  CHECK(days_in_month(2024, 2) == 29);
  CHECK(days_in_month(2023, 4) == 30);
  CHECK(day_of(0) == 0);
  CHECK(day_of(86399) == 0);
  CHECK(day_of(-1) == -1);
  CHECK(day_of(-86400) == -1);
  CHECK(day_of(-86401) == -2);
  CHECK(month_name(1) == "Jan");
  CHECK(month_name(12) == "Dec");
  CHECK(month_from_name("nOv") == 11u);
  CHECK_FALSE(month_from_name("November"));
  CHECK_FALSE(month_from_name(""));
  const CivilTime t = civil_time(1795393800, 540);  // Mon, 23 Nov 2026 09:30:00 +0900
  CHECK(t.date.year == 2026);
  CHECK(t.date.month == 11u);
  CHECK(t.date.day == 23u);
  CHECK(t.hour == 9);
  CHECK(t.minute == 30);
  CHECK(t.second == 0);
  CHECK(t.weekday == 1u);
}

TEST_CASE("parse_date_day: the day a Date: names in the writer's zone, leniently") {
  CHECK(parse_date_day("Tue, 1 Jul 2003 10:52:37 +0200") == days_from_civil(2003, 7, 1));
  CHECK(parse_date_day("1 Jul 03 10:52 GMT") == days_from_civil(2003, 7, 1));
  CHECK_FALSE(parse_date_day("yesterday"));
  // Late in the day west of UTC: still the writer's day, not UTC's.
  CHECK(parse_date_day("Tue, 1 Jul 2003 23:52:37 -0700") == days_from_civil(2003, 7, 1));
  // What parse_date refuses, the day still comes out of.
  CHECK(parse_date_day("Tuesday, 1 July 2003") == days_from_civil(2003, 7, 1));
  CHECK(parse_date_day("1 Jul 2003 10:52:37 CEST") == days_from_civil(2003, 7, 1));
  CHECK(parse_date_day("Sent (by hand) on 14 Nov 2023") == days_from_civil(2023, 11, 14));
  CHECK(parse_date_day("14 Nov 99") == days_from_civil(1999, 11, 14));
  CHECK_FALSE(parse_date_day("32 Jan 2003"));
  CHECK_FALSE(parse_date_day("1 Foo 2003"));
  CHECK_FALSE(parse_date_day(""));
}
