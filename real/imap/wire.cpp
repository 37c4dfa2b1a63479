// IMAP4rev1 wire formats; see wire.h.
#include "real/imap/wire.h"

#include <algorithm>
#include <cstdio>

#include "real/codec/ascii.h"
#include "real/message/date.h"

namespace mailsim::imap {

namespace {

bool digits(std::string_view s, std::size_t n, int& out) {
  if (s.size() != n) return false;
  out = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  return true;
}

// "dd-Mon-yyyy" (day one or two digits, or space-padded) to days.
std::optional<std::int64_t> parse_day_month_year(std::string_view s) {
  if (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  std::size_t d1 = s.find('-');
  if (d1 == std::string_view::npos) return std::nullopt;
  std::size_t d2 = s.find('-', d1 + 1);
  if (d2 == std::string_view::npos) return std::nullopt;
  int day = 0, year = 0;
  std::string_view ds = s.substr(0, d1);
  if (!(digits(ds, 1, day) || digits(ds, 2, day))) return std::nullopt;
  auto month = message::month_from_name(s.substr(d1 + 1, d2 - d1 - 1));
  if (!month || !digits(s.substr(d2 + 1), 4, year)) return std::nullopt;
  if (day < 1 || static_cast<unsigned>(day) > message::days_in_month(year, *month)) return std::nullopt;
  return message::days_from_civil(year, *month, static_cast<unsigned>(day));
}

}  // namespace

bool is_atom_char(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  if (u <= 0x1f || u >= 0x7f) return false;
  return std::string_view("(){ %*\"\\]").find(c) == std::string_view::npos;
}

std::string imap_literal(std::string_view bytes) {
  std::string out = "{" + std::to_string(bytes.size()) + "}\r\n";
  out += bytes;
  return out;
}

std::string imap_string(std::string_view s) {
  bool quotable = s.size() <= 1024;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u == 0 || u == '\r' || u == '\n' || u >= 0x80) quotable = false;
  }
  if (!quotable) return imap_literal(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

std::string imap_nstring(const std::optional<std::string>& s) { return s ? imap_string(*s) : "NIL"; }
std::string imap_nstring(const std::string* s) { return s ? imap_string(*s) : "NIL"; }

std::string imap_astring(std::string_view s) {
  bool atom = !s.empty() && !codec::iequals(s, "NIL");
  for (char c : s)
    if (!is_atom_char(c)) atom = false;
  return atom ? std::string(s) : imap_string(s);
}

std::string format_internal_date(std::int64_t t) {
  const message::CivilTime c = message::civil_time(t, 0);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%02u-%s-%04lld %02d:%02d:%02d +0000", c.date.day,
                message::month_name(c.date.month).data(), static_cast<long long>(c.date.year), c.hour, c.minute,
                c.second);
  return buf;
}

std::optional<std::int64_t> parse_date_time(std::string_view s) {
  // "dd-Mon-yyyy hh:mm:ss +zzzz" with a space-padded day allowed.
  if (s.size() != 26) return std::nullopt;
  auto days = parse_day_month_year(s.substr(0, 11));
  if (!days || s[11] != ' ' || s[14] != ':' || s[17] != ':' || s[20] != ' ') return std::nullopt;
  int hh, mm, ss, zh, zm;
  if (!digits(s.substr(12, 2), 2, hh) || !digits(s.substr(15, 2), 2, mm) || !digits(s.substr(18, 2), 2, ss))
    return std::nullopt;
  if ((s[21] != '+' && s[21] != '-') || !digits(s.substr(22, 2), 2, zh) || !digits(s.substr(24, 2), 2, zm))
    return std::nullopt;
  if (hh > 23 || mm > 59 || ss > 60 || zm > 59) return std::nullopt;
  std::int64_t zone = (zh * 60 + zm) * 60 * (s[21] == '-' ? -1 : 1);
  return *days * 86400 + hh * 3600 + mm * 60 + ss - zone;
}

std::optional<std::int64_t> parse_date(std::string_view s) {
  if (!s.empty() && s.front() == ' ') return std::nullopt;
  return parse_day_month_year(s);
}

std::string summarize_literals(std::string_view text) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t crlf = text.find("\r\n", i);
    if (crlf == std::string_view::npos) {
      out += text.substr(i);
      break;
    }
    std::string_view line = text.substr(i, crlf - i);
    out += line;
    i = crlf + 2;
    std::size_t open = line.rfind('{');
    if (line.ends_with("}") && open != std::string_view::npos) {
      std::string_view num = line.substr(open + 1, line.size() - open - 2);
      if (num.ends_with("+")) num.remove_suffix(1);
      std::uint64_t n = 0;
      bool ok = !num.empty();
      for (char c : num) {
        if (c < '0' || c > '9') ok = false;
        else n = n * 10 + static_cast<std::uint64_t>(c - '0');
      }
      if (ok) {
        std::uint64_t skip = std::min<std::uint64_t>(n, text.size() - i);
        out += " <" + std::to_string(n) + " octets>";
        i += skip;
      }
    }
  }
  return out;
}

std::string format_number_set(const std::vector<std::uint32_t>& n) {
  std::string out;
  for (std::size_t i = 0; i < n.size();) {
    std::size_t j = i;
    while (j + 1 < n.size() && n[j + 1] == n[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(n[i]);
    if (j > i) out += ":" + std::to_string(n[j]);
    i = j + 1;
  }
  return out;
}

}  // namespace mailsim::imap
