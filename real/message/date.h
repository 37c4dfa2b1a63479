// RFC 5322 §3.3 date-time: "Mon, 23 Nov 2026 09:30:00 +0900", and the
// calendar arithmetic behind it, which IMAP's INTERNALDATE and SEARCH dates
// (RFC 3501 §6.4.4, §9) share. The caller gives the instant, so the simulator
// can use its virtual clock; nothing here reads a clock or the machine's time
// zone settings.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mailsim::message {

// ---- calendar (proleptic Gregorian, exact for any year) --------------------

struct CivilDate {
  std::int64_t year = 1970;
  unsigned month = 1;  // 1..12
  unsigned day = 1;    // 1..31
};

// Days since 1970-01-01 of a civil date, and back.
std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day);
CivilDate civil_from_days(std::int64_t days);
// 28..31; `month` 1..12.
unsigned days_in_month(std::int64_t year, unsigned month);
// The day (days since 1970-01-01) that holds the moment `unix_seconds`, in UTC.
std::int64_t day_of(std::int64_t unix_seconds);

// "Jan".."Dec" for 1..12 (the spelling both RFC 5322 and RFC 3501 use).
std::string_view month_name(unsigned month);
// 1..12 for a three-letter month name in any case ("nov"), else nullopt.
std::optional<unsigned> month_from_name(std::string_view name);

// A moment as a wall clock `utc_offset_minutes` east of UTC shows it.
struct CivilTime {
  CivilDate date;
  int hour = 0;
  int minute = 0;
  int second = 0;
  unsigned weekday = 4;  // 0 = Sunday (1970-01-01 was a Thursday)
};
CivilTime civil_time(std::int64_t unix_seconds, int utc_offset_minutes = 0);

// ---- RFC 5322 date-time ----------------------------------------------------

// Formats `unix_seconds` (seconds since 1970-01-01T00:00:00Z) as seen in a
// zone `utc_offset_minutes` east of UTC (+540 for Japan, -300 for New York
// in winter). The offset must lie within ±99:59; throws
// std::invalid_argument otherwise.
std::string format_date(std::int64_t unix_seconds, int utc_offset_minutes = 0);

// Parses the RFC 5322 form back (day-of-week optional, seconds optional,
// comments and folding anywhere, "GMT"/"UT"/"Z" and the US zone names of
// §4.3 accepted, two- and three-digit years as §4.3 says). Returns seconds
// since the epoch, or nullopt if the text is not a complete date-time.
std::optional<std::int64_t> parse_date(std::string_view text);

// The calendar day a Date: value names, in the writer's own zone ("Tue, 1 Jul
// 2003 23:52:37 -0700" → the day of 1-Jul-2003), as days since 1970-01-01.
// This is what IMAP's SENTON/SENTBEFORE/SENTSINCE compare (RFC 3501 §6.4.4:
// "disregarding time and timezone"), so it is lenient about everything but
// the date: "day month year" may stand anywhere, the month may be spelt out
// ("July"), the time and zone may be missing or unknown. nullopt when no
// day, month and year can be found.
std::optional<std::int64_t> parse_date_day(std::string_view text);

}  // namespace mailsim::message
