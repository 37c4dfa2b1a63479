// RFC 5322 §3.3 date-time formatting and parsing, with proleptic Gregorian
// calendar arithmetic (H. Hinnant's days_from_civil) instead of the C
// library's time zone machinery, which depends on the machine's settings.
#include "real/message/date.h"

#include <array>
#include <cctype>
#include <cstdio>
#include <stdexcept>
#include <vector>

#include "real/codec/ascii.h"
#include "real/message/lexical.h"

namespace mailsim::message {
namespace {

constexpr std::array<const char*, 7> kWeekdays{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::array<std::string_view, 12> kMonths{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// RFC 5322 §4.3: a two-digit year 00-49 is 2000-2049, 50-99 is 1950-1999; a
// three-digit year is 1900 plus it. Four digits or more are the year itself.
std::int64_t expand_year(std::int64_t year, std::size_t digits) {
  if (digits <= 2) return year + (year < 50 ? 2000 : 1900);
  if (digits == 3) return year + 1900;
  return year;
}

// A tiny cursor over the date text; comments and folding are skipped (CFWS).
struct Cursor {
  std::string_view s;
  std::size_t i = 0;
  std::size_t digits = 0;  // how many digits the last number() read
  void skip_cfws() { i = message::skip_cfws(s, i); }
  std::optional<std::int64_t> number(std::size_t min_digits, std::size_t max_digits) {
    skip_cfws();
    std::size_t start = i;
    std::int64_t v = 0;
    while (i < s.size() && i - start < max_digits && std::isdigit(static_cast<unsigned char>(s[i])))
      v = v * 10 + (s[i++] - '0');
    digits = i - start;
    if (digits < min_digits) return std::nullopt;
    return v;
  }
  std::string_view word() {
    skip_cfws();
    std::size_t start = i;
    while (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i]))) ++i;
    return s.substr(start, i - start);
  }
  bool eat(char c) {
    skip_cfws();
    if (i < s.size() && s[i] == c) { ++i; return true; }
    return false;
  }
};

}  // namespace

// ---- calendar --------------------------------------------------------------

std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = floor_div(y, 400);
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

CivilDate civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = floor_div(z, 146097);
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2), m, d};
}

unsigned days_in_month(std::int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

std::int64_t day_of(std::int64_t unix_seconds) { return floor_div(unix_seconds, 86400); }

std::string_view month_name(unsigned month) { return kMonths.at(month - 1); }

std::optional<unsigned> month_from_name(std::string_view name) {
  for (unsigned k = 0; k < kMonths.size(); ++k)
    if (codec::iequals(name, kMonths[k])) return k + 1;
  return std::nullopt;
}

CivilTime civil_time(std::int64_t unix_seconds, int utc_offset_minutes) {
  const std::int64_t local = unix_seconds + std::int64_t{utc_offset_minutes} * 60;
  const std::int64_t days = day_of(local);
  const std::int64_t secs = local - days * 86400;
  const std::int64_t from_sunday = days + 4;  // 1970-01-01 was a Thursday
  CivilTime t;
  t.date = civil_from_days(days);
  t.hour = static_cast<int>(secs / 3600);
  t.minute = static_cast<int>(secs / 60 % 60);
  t.second = static_cast<int>(secs % 60);
  t.weekday = static_cast<unsigned>(from_sunday - floor_div(from_sunday, 7) * 7);
  return t;
}

// ---- RFC 5322 date-time ----------------------------------------------------

std::string format_date(std::int64_t unix_seconds, int utc_offset_minutes) {
  if (utc_offset_minutes <= -6000 || utc_offset_minutes >= 6000)
    throw std::invalid_argument("format_date: zone offset out of range");
  const CivilTime t = civil_time(unix_seconds, utc_offset_minutes);
  const int off = utc_offset_minutes < 0 ? -utc_offset_minutes : utc_offset_minutes;
  // Written digit by digit: every Received: line has a date, and snprintf
  // cost more than the rest of the line.
  auto two_digits = [](std::string& out, long long v) {
    out += static_cast<char>('0' + v / 10);
    out += static_cast<char>('0' + v % 10);
  };
  std::string out;
  out.reserve(32);
  out += kWeekdays[t.weekday];
  out += ", ";
  two_digits(out, t.date.day);
  out += ' ';
  out += kMonths[t.date.month - 1];
  out += ' ';
  const auto year = static_cast<long long>(t.date.year);
  if (year >= 0 && year <= 9999) {
    two_digits(out, year / 100);
    two_digits(out, year % 100);
  } else {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%04lld", year);
    out += buf;
  }
  out += ' ';
  two_digits(out, t.hour);
  out += ':';
  two_digits(out, t.minute);
  out += ':';
  two_digits(out, t.second);
  out += ' ';
  out += utc_offset_minutes < 0 ? '-' : '+';
  two_digits(out, off / 60);
  two_digits(out, off % 60);
  return out;
}

std::optional<std::int64_t> parse_date(std::string_view text) {
  Cursor cur{text};
  // Optional day-of-week followed by a comma.
  const std::size_t save = cur.i;
  const std::string_view dow = cur.word();
  if (!dow.empty()) {
    if (!cur.eat(',')) return std::nullopt;
  } else {
    cur.i = save;
  }
  const auto day = cur.number(1, 2);
  const auto month = month_from_name(cur.word());
  auto year = cur.number(2, 4);
  if (!day || !year || !month || *day < 1 || *day > 31) return std::nullopt;
  *year = expand_year(*year, cur.digits);
  const auto hour = cur.number(2, 2);
  if (!hour || !cur.eat(':')) return std::nullopt;
  const auto minute = cur.number(2, 2);
  if (!minute) return std::nullopt;
  std::int64_t second = 0;
  if (cur.eat(':')) {
    const auto s = cur.number(2, 2);
    if (!s) return std::nullopt;
    second = *s;
  }
  if (*hour > 23 || *minute > 59 || second > 60) return std::nullopt;
  cur.skip_cfws();
  int offset = 0;
  if (cur.i < text.size() && (text[cur.i] == '+' || text[cur.i] == '-')) {
    const bool neg = text[cur.i++] == '-';
    const auto hhmm = cur.number(4, 4);
    if (!hhmm) return std::nullopt;
    offset = static_cast<int>(*hhmm / 100 * 60 + *hhmm % 100);
    if (neg) offset = -offset;
  } else {
    const std::string_view zone = cur.word();
    static constexpr std::array<std::pair<const char*, int>, 11> kZones{{
        {"UT", 0}, {"GMT", 0}, {"Z", 0}, {"EST", -300}, {"EDT", -240}, {"CST", -360},
        {"CDT", -300}, {"MST", -420}, {"MDT", -360}, {"PST", -480}, {"PDT", -420}}};
    bool known = false;
    for (const auto& [name, minutes] : kZones)
      if (codec::iequals(zone, name)) { offset = minutes; known = true; }
    if (!known) return std::nullopt;  // includes a missing zone
  }
  const std::int64_t days = days_from_civil(*year, *month, static_cast<unsigned>(*day));
  return days * 86400 + *hour * 3600 + *minute * 60 + second - std::int64_t{offset} * 60;
}

std::optional<std::int64_t> parse_date_day(std::string_view text) {
  std::vector<std::string_view> words;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == ' ' || text[i] == '\t' || text[i] == ',' || text[i] == '\r' ||
        text[i] == '\n') {
      if (i > start) words.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  auto number = [](std::string_view w) -> std::optional<std::int64_t> {
    if (w.empty() || w.size() > 4) return std::nullopt;
    std::int64_t v = 0;
    for (char c : w) {
      if (c < '0' || c > '9') return std::nullopt;
      v = v * 10 + (c - '0');
    }
    return v;
  };
  // "day month year" anywhere: a day-of-week, comments or junk may precede.
  for (std::size_t i = 0; i + 2 < words.size(); ++i) {
    const auto day = number(words[i]);
    if (!day || *day < 1 || *day > 31) continue;
    const auto month = words[i + 1].size() >= 3 ? month_from_name(words[i + 1].substr(0, 3)) : std::nullopt;
    const auto year = number(words[i + 2]);
    if (!month || !year) continue;
    return days_from_civil(expand_year(*year, words[i + 2].size()), *month, static_cast<unsigned>(*day));
  }
  return std::nullopt;
}

}  // namespace mailsim::message
