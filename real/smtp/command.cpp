// SMTP command-line syntax: RFC 5321 §4.1.1 (verbs), §4.1.2 (Path, Mailbox,
// esmtp-param), §4.5.3.1 (size limits), RFC 3461 §4 (xtext).
#include "real/smtp/command.h"

#include <fmt/format.h>

namespace mailsim::smtp {

namespace {

constexpr std::size_t kMaxLocalPart = 64;   // §4.5.3.1.1
constexpr std::size_t kMaxDomain = 255;     // §4.5.3.1.2
constexpr std::size_t kMaxPath = 256;       // §4.5.3.1.3, including "<" and ">"

bool is_alpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_let_dig(char c) { return is_alpha(c) || is_digit(c); }

bool is_atext(char c) {
  if (is_let_dig(c)) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '/': case '=': case '?': case '^': case '_': case '`': case '{':
    case '|': case '}': case '~':
      return true;
    default:
      return false;
  }
}

bool is_dot_string(std::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  char prev = 0;
  for (char c : s) {
    if (c == '.') {
      if (prev == '.') return false;
    } else if (!is_atext(c)) {
      return false;
    }
    prev = c;
  }
  return true;
}

// Quoted-string per §4.1.2 (qtextSMTP / quoted-pairSMTP), including the quotes.
bool is_quoted_string(std::string_view s) {
  if (s.size() < 2 || s.front() != '"' || s.back() != '"') return false;
  for (std::size_t i = 1; i + 1 < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '\\') {
      if (i + 2 >= s.size()) return false;  // the escape would eat the closing quote
      const auto n = static_cast<unsigned char>(s[++i]);
      if (n < 32 || n > 126) return false;
    } else if (c == '"' || c < 32 || c > 126) {
      return false;
    }
  }
  return true;
}

bool is_domain(std::string_view s) {
  if (s.empty() || s.size() > kMaxDomain) return false;
  std::size_t start = 0;
  while (true) {
    const auto dot = s.find('.', start);
    const auto label = s.substr(start, dot == std::string_view::npos ? dot : dot - start);
    // sub-domain = Let-dig [Ldh-str]; Ldh-str ends in a Let-dig
    if (label.empty() || !is_let_dig(label.front()) || !is_let_dig(label.back())) return false;
    for (char c : label)
      if (!is_let_dig(c) && c != '-') return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

bool is_ipv4(std::string_view s) {
  int parts = 0;
  std::size_t start = 0;
  while (true) {
    const auto dot = s.find('.', start);
    const auto p = s.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (p.empty() || p.size() > 3) return false;
    int v = 0;
    for (char c : p) {
      if (!is_digit(c)) return false;
      v = v * 10 + (c - '0');
    }
    if (v > 255) return false;
    ++parts;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return parts == 4;
}

// address-literal: "[" IPv4 / "IPv6:" ... / tag ":" dcontent "]" (§4.1.3).
bool is_address_literal(std::string_view s) {
  if (s.size() < 3 || s.front() != '[' || s.back() != ']') return false;
  const auto inner = s.substr(1, s.size() - 2);
  if (is_ipv4(inner)) return true;
  const auto colon = inner.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == inner.size()) return false;
  const auto tag = inner.substr(0, colon);
  for (char c : tag)
    if (!is_let_dig(c) && c != '-') return false;
  const auto content = inner.substr(colon + 1);
  if (iequals(tag, "IPv6")) {
    for (char c : content) {
      const bool hex = is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
      if (!hex && c != ':' && c != '.') return false;
    }
    return true;
  }
  for (char c : content) {  // dcontent = %d33-90 / %d94-126
    const auto u = static_cast<unsigned char>(c);
    if (u < 33 || u > 126 || (u >= 91 && u <= 93)) return false;
  }
  return true;
}

// Finds the '>' closing a path that starts at s[0] == '<', stepping over
// quoted strings (a quoted local part may contain '>'). npos when unclosed.
std::size_t find_path_end(std::string_view s) {
  bool quoted = false;
  for (std::size_t i = 1; i < s.size(); ++i) {
    const char c = s[i];
    if (quoted) {
      if (c == '\\') ++i;
      else if (c == '"') quoted = false;
    } else if (c == '"') {
      quoted = true;
    } else if (c == '>') {
      return i;
    }
  }
  return std::string_view::npos;
}

// A-d-l = At-domain *( "," At-domain ), At-domain = "@" Domain (§4.1.2).
bool is_source_route(std::string_view s) {
  std::size_t start = 0;
  while (true) {
    const auto comma = s.find(',', start);
    const auto hop = s.substr(start, comma == std::string_view::npos ? comma : comma - start);
    if (hop.size() < 2 || hop.front() != '@' || !is_domain(hop.substr(1))) return false;
    if (comma == std::string_view::npos) return true;
    start = comma + 1;
  }
}

bool is_esmtp_keyword(std::string_view k) {
  if (k.empty() || !is_let_dig(k.front())) return false;
  for (char c : k)
    if (!is_let_dig(c) && c != '-') return false;
  return true;
}

bool is_esmtp_value(std::string_view v) {
  if (v.empty()) return false;
  for (char c : v) {  // %d33-60 / %d62-126
    const auto u = static_cast<unsigned char>(c);
    if (u < 33 || u > 126 || u == '=') return false;
  }
  return true;
}

enum class PathKind { kReverse, kForward };

PathArgument parse_path_argument(std::string_view arg, std::string_view keyword, PathKind kind) {
  PathArgument out;
  if (!istarts_with(arg, keyword)) {
    out.status = PathStatus::kMissingKeyword;
    return out;
  }
  arg.remove_prefix(keyword.size());
  // Postfix tolerates "MAIL FROM: <a@b>"; so do we (only spaces, only here).
  while (!arg.empty() && arg.front() == ' ') arg.remove_prefix(1);
  if (arg.empty() || arg.front() != '<') {
    out.status = PathStatus::kBadPath;
    out.detail = "the address must be in angle brackets, like <user@example.org>";
    return out;
  }
  const auto end = find_path_end(arg);
  if (end == std::string_view::npos) {
    out.status = PathStatus::kBadPath;
    out.detail = "missing '>'";
    return out;
  }
  if (end + 1 > kMaxPath) {
    out.status = PathStatus::kPathTooLong;
    out.detail = fmt::format("path longer than {} octets", kMaxPath);
    return out;
  }
  std::string_view inner = arg.substr(1, end - 1);
  std::string_view rest = arg.substr(end + 1);

  if (inner.empty()) {
    if (kind == PathKind::kForward) {
      out.status = PathStatus::kBadPath;
      out.detail = "the null path <> is not a recipient";
      return out;
    }
  } else {
    // A source route "@a,@b:" is parsed and then ignored (§4.1.1.3, C.).
    if (inner.front() == '@') {
      const auto colon = inner.find(':');
      if (colon == std::string_view::npos || !is_source_route(inner.substr(0, colon))) {
        out.status = PathStatus::kBadPath;
        out.detail = "malformed source route";
        return out;
      }
      inner.remove_prefix(colon + 1);
    }
    const bool postmaster = kind == PathKind::kForward && iequals(inner, "postmaster");
    if (!postmaster && !is_valid_mailbox(inner)) {
      out.status = PathStatus::kBadPath;
      // Distinguish "too long" from "malformed": a student sees which limit.
      const auto at = inner.rfind('@');
      const bool long_local = at != std::string_view::npos && at > kMaxLocalPart;
      out.status = long_local ? PathStatus::kPathTooLong : PathStatus::kBadPath;
      out.detail = long_local ? fmt::format("local part longer than {} octets", kMaxLocalPart)
                              : "not a valid mailbox (local-part@domain)";
      return out;
    }
    out.path = std::string(inner);
  }

  // Mail-parameters: SP-separated esmtp-params (extra spaces tolerated).
  if (!rest.empty() && rest.front() != ' ') {
    out.status = PathStatus::kBadPath;
    out.detail = "unexpected characters after '>'";
    return out;
  }
  while (!rest.empty()) {
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    if (rest.empty()) break;
    const auto sp = rest.find(' ');
    const auto tok = rest.substr(0, sp);
    rest = sp == std::string_view::npos ? std::string_view{} : rest.substr(sp);
    const auto eq = tok.find('=');
    EsmtpParam p;
    p.keyword = to_upper(tok.substr(0, eq));
    if (!is_esmtp_keyword(p.keyword)) {
      out.status = PathStatus::kBadParameter;
      out.detail = "malformed parameter";
      return out;
    }
    if (eq != std::string_view::npos) {
      p.value = std::string(tok.substr(eq + 1));
      if (!is_esmtp_value(*p.value)) {
        out.status = PathStatus::kBadParameter;
        out.detail = fmt::format("malformed value for {}", reply_quote(p.keyword));
        return out;
      }
    }
    out.params.push_back(std::move(p));
  }
  return out;
}

}  // namespace

std::string reply_quote(std::string_view client_text) {
  constexpr std::size_t kMaxQuoted = 64;
  if (client_text.size() <= kMaxQuoted) return std::string(client_text);
  return fmt::format("{}...", client_text.substr(0, kMaxQuoted));
}

std::string to_upper(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 'a' + 'A');
    if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 'a' + 'A');
    if (x != y) return false;
  }
  return true;
}

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

CommandView split_command_view(std::string_view line) {
  const auto sp = line.find(' ');
  CommandView c{line.substr(0, sp), {}};
  if (sp != std::string_view::npos) {
    auto arg = line.substr(sp + 1);
    while (!arg.empty() && arg.front() == ' ') arg.remove_prefix(1);
    while (!arg.empty() && arg.back() == ' ') arg.remove_suffix(1);
    c.argument = arg;
  }
  return c;
}

CommandLine split_command(std::string_view line) {
  const CommandView v = split_command_view(line);
  return CommandLine{to_upper(v.verb), std::string(v.argument)};
}

bool is_valid_mailbox(std::string_view mailbox) {
  std::size_t at;
  if (!mailbox.empty() && mailbox.front() == '"') {
    // The quoted local part ends at the first unescaped quote.
    std::size_t i = 1;
    for (; i < mailbox.size(); ++i) {
      if (mailbox[i] == '\\') ++i;
      else if (mailbox[i] == '"') break;
    }
    if (i >= mailbox.size()) return false;
    at = i + 1;
    if (at >= mailbox.size() || mailbox[at] != '@') return false;
    if (!is_quoted_string(mailbox.substr(0, at))) return false;
  } else {
    at = mailbox.find('@');
    if (at == std::string_view::npos || !is_dot_string(mailbox.substr(0, at))) return false;
  }
  if (at > kMaxLocalPart) return false;
  const auto domain = mailbox.substr(at + 1);
  return is_domain(domain) || is_address_literal(domain);
}

PathArgument parse_mail_argument(std::string_view argument) {
  return parse_path_argument(argument, "FROM:", PathKind::kReverse);
}

PathArgument parse_rcpt_argument(std::string_view argument) {
  return parse_path_argument(argument, "TO:", PathKind::kForward);
}

std::optional<std::string> xtext_decode(std::string_view xtext) {
  std::string out;
  for (std::size_t i = 0; i < xtext.size(); ++i) {
    const auto c = static_cast<unsigned char>(xtext[i]);
    if (c == '+') {
      const auto hex = [](char h) -> int {
        if (h >= '0' && h <= '9') return h - '0';
        if (h >= 'A' && h <= 'F') return h - 'A' + 10;
        return -1;  // RFC 3461: upper-case hex only
      };
      if (i + 2 >= xtext.size()) return std::nullopt;
      const int hi = hex(xtext[i + 1]), lo = hex(xtext[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c < 33 || c > 126 || c == '=') {
      return std::nullopt;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string xtext_encode(std::string_view text) {
  std::string out;
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 33 || c > 126 || c == '+' || c == '=') out += fmt::format("+{:02X}", c);
    else out += ch;
  }
  return out;
}

}  // namespace mailsim::smtp
