// RFC 5322 §3.3 date-time formatting and parsing, with proleptic Gregorian
// calendar arithmetic (H. Hinnant's days_from_civil) instead of the C
// library's time zone machinery, which depends on the machine's settings.
#include "real/message/date.h"

#include <array>
#include <cctype>
#include <cstdio>
#include <stdexcept>

namespace mailsim::message {
namespace {

constexpr std::array<const char*, 7> kWeekdays{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::array<const char*, 12> kMonths{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// Days since 1970-01-01 for a civil date (month 1..12).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = floor_div(y, 400);
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct Civil {
  std::int64_t year;
  unsigned month;
  unsigned day;
};

Civil civil_from_days(std::int64_t z) {
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

// A tiny cursor over the date text; CFWS is reduced to spaces and comments.
struct Cursor {
  std::string_view s;
  std::size_t i = 0;
  void skip_cfws() {
    for (;;) {
      while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) ++i;
      if (i < s.size() && s[i] == '(') {  // comment, possibly nested
        int depth = 0;
        for (; i < s.size(); ++i) {
          if (s[i] == '\\') { ++i; continue; }
          if (s[i] == '(') ++depth;
          if (s[i] == ')' && --depth == 0) { ++i; break; }
        }
        continue;
      }
      return;
    }
  }
  std::optional<std::int64_t> number(std::size_t min_digits, std::size_t max_digits) {
    skip_cfws();
    std::size_t start = i;
    std::int64_t v = 0;
    while (i < s.size() && i - start < max_digits && std::isdigit(static_cast<unsigned char>(s[i])))
      v = v * 10 + (s[i++] - '0');
    if (i - start < min_digits) return std::nullopt;
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

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t k = 0; k < a.size(); ++k)
    if (std::tolower(static_cast<unsigned char>(a[k])) != std::tolower(static_cast<unsigned char>(b[k])))
      return false;
  return true;
}

}  // namespace

std::string format_date(std::int64_t unix_seconds, int utc_offset_minutes) {
  if (utc_offset_minutes <= -6000 || utc_offset_minutes >= 6000)
    throw std::invalid_argument("format_date: zone offset out of range");
  const std::int64_t local = unix_seconds + std::int64_t{utc_offset_minutes} * 60;
  const std::int64_t days = floor_div(local, 86400);
  const std::int64_t secs = local - days * 86400;
  const Civil c = civil_from_days(days);
  const std::int64_t from_sunday = days + 4;  // 1970-01-01 was a Thursday
  const auto weekday = static_cast<std::size_t>(from_sunday - floor_div(from_sunday, 7) * 7);
  const int off = utc_offset_minutes < 0 ? -utc_offset_minutes : utc_offset_minutes;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02u %s %04lld %02d:%02d:%02d %c%02d%02d", kWeekdays[weekday], c.day,
                kMonths[c.month - 1], static_cast<long long>(c.year), static_cast<int>(secs / 3600),
                static_cast<int>(secs / 60 % 60), static_cast<int>(secs % 60),
                utc_offset_minutes < 0 ? '-' : '+', off / 60, off % 60);
  return buf;
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
  const std::string_view mon = cur.word();
  auto year = cur.number(2, 4);
  if (!day || !year) return std::nullopt;
  unsigned month = 0;
  for (unsigned k = 0; k < 12; ++k)
    if (iequals(mon, kMonths[k])) month = k + 1;
  if (month == 0 || *day < 1 || *day > 31) return std::nullopt;
  if (*year < 50) *year += 2000;         // RFC 5322 §4.3 obsolete two-digit years
  else if (*year < 1000) *year += 1900;
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
      if (iequals(zone, name)) { offset = minutes; known = true; }
    if (!known) return std::nullopt;  // includes a missing zone
  }
  const std::int64_t days = days_from_civil(*year, month, static_cast<unsigned>(*day));
  return days * 86400 + *hour * 3600 + *minute * 60 + second - std::int64_t{offset} * 60;
}

}  // namespace mailsim::message
