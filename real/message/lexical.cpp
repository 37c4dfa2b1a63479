// RFC 5322 §3.2 comments, CFWS and quoted strings; see lexical.h.
#include "real/message/lexical.h"

namespace mailsim::message {

std::size_t skip_cfws(std::string_view text, std::size_t pos) {
  for (;;) {
    while (pos < text.size() && is_fws_char(text[pos])) ++pos;
    if (pos >= text.size() || text[pos] != '(') return pos < text.size() ? pos : text.size();
    read_comment(text, pos);
  }
}

std::string read_comment(std::string_view text, std::size_t& pos) {
  std::string out;
  int depth = 0;
  while (pos < text.size()) {
    const char c = text[pos++];
    if (c == '\\' && pos < text.size()) {
      out += text[pos++];
      continue;
    }
    if (c == '(' && depth++ == 0) continue;
    if (c == ')' && --depth == 0) break;
    out += c;
  }
  return out;
}

std::string read_quoted_string(std::string_view text, std::size_t& pos) {
  std::string out;
  ++pos;  // the opening quote
  while (pos < text.size() && text[pos] != '"') {
    if (text[pos] == '\\' && pos + 1 < text.size()) ++pos;
    if (text[pos] != '\r' && text[pos] != '\n') out += text[pos];
    ++pos;
  }
  if (pos < text.size()) ++pos;  // the closing quote; a missing one ends at the end
  return out;
}

}  // namespace mailsim::message
