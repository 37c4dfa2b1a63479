// SMTP reply helpers (RFC 5321 §4.2, RFC 3463).
#include "real/mta/reply.h"

#include <cctype>

namespace mailsim::mta {

std::string Reply::to_string() const {
  std::string out = std::to_string(code);
  if (!enhanced.empty()) out += " " + enhanced;
  if (!text.empty()) out += " " + text;
  return out;
}

std::string Reply::status() const {
  if (!enhanced.empty()) return enhanced;
  if (code >= 200 && code < 600) return std::to_string(code / 100) + ".0.0";
  return "4.0.0";
}

Reply make_reply(int code, std::string_view enhanced, std::string_view text) {
  return Reply{code, std::string(enhanced), std::string(text)};
}

bool is_enhanced_status(std::string_view s) {
  if (s.size() < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.') return false;
  int dots = 0;
  bool digit_run = false;
  for (std::size_t i = 2; i < s.size(); ++i) {
    if (s[i] == '.') {
      if (!digit_run) return false;
      ++dots;
      digit_run = false;
    } else if (std::isdigit(static_cast<unsigned char>(s[i]))) {
      digit_run = true;
    } else {
      return false;
    }
  }
  return dots == 1 && digit_run;
}

Reply parse_reply(std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
  Reply r;
  if (line.size() < 3 || !std::isdigit(static_cast<unsigned char>(line[0])) ||
      !std::isdigit(static_cast<unsigned char>(line[1])) || !std::isdigit(static_cast<unsigned char>(line[2])))
    return r;
  r.code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
  std::string_view rest = line.size() > 3 ? line.substr(4) : std::string_view{};
  auto sp = rest.find(' ');
  std::string_view first = rest.substr(0, sp);
  if (is_enhanced_status(first)) {
    r.enhanced = std::string(first);
    rest = sp == std::string_view::npos ? std::string_view{} : rest.substr(sp + 1);
  }
  r.text = std::string(rest);
  return r;
}

}  // namespace mailsim::mta
