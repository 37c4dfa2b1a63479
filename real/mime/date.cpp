// Calendar arithmetic and Date: header days; see date.h.
#include "real/mime/date.h"

#include <string>
#include <vector>

#include "real/mime/mime.h"

namespace mailsim::mime {

// Howard Hinnant's days_from_civil / civil_from_days: exact for the
// proleptic Gregorian calendar, no time zone database, no clock.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

std::optional<std::int64_t> date_header_day(std::string_view value) {
  static constexpr std::string_view kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                                 "jul", "aug", "sep", "oct", "nov", "dec"};
  std::vector<std::string> words;
  std::string cur;
  for (char c : value) {
    if (c == ' ' || c == '\t' || c == ',' || c == '\r' || c == '\n') {
      if (!cur.empty()) words.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) words.push_back(cur);
  auto number = [](const std::string& w, int& out) {
    if (w.empty() || w.size() > 4) return false;
    out = 0;
    for (char c : w) {
      if (c < '0' || c > '9') return false;
      out = out * 10 + (c - '0');
    }
    return true;
  };
  // Find "day month year" anywhere (the day-of-week and comments may precede).
  for (std::size_t i = 0; i + 2 < words.size(); ++i) {
    int day = 0, year = 0;
    if (!number(words[i], day) || day < 1 || day > 31) continue;
    unsigned month = 0;
    for (unsigned m = 0; m < 12; ++m)
      if (iequals(words[i + 1].substr(0, 3), kMonths[m]) && words[i + 1].size() >= 3) month = m + 1;
    if (month == 0 || !number(words[i + 2], year)) continue;
    if (words[i + 2].size() <= 2) year += year < 50 ? 2000 : 1900;
    else if (words[i + 2].size() == 3) year += 1900;
    return days_from_civil(year, month, static_cast<unsigned>(day));
  }
  return std::nullopt;
}

}  // namespace mailsim::mime
