// Quoted-printable and RFC 2047 "Q" decoding; see quoted_printable.h.
#include "real/codec/quoted_printable.h"

namespace mailsim::codec {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// The byte "=XX" at `pos` names, or -1 when `text` has no "=XX" there.
int escaped_byte(std::string_view text, std::size_t pos) {
  if (pos + 2 >= text.size()) return -1;
  const int hi = hex_value(text[pos + 1]);
  const int lo = hex_value(text[pos + 2]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

}  // namespace

std::string quoted_printable_decode(std::string_view body) {
  std::string out;
  out.reserve(body.size());
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (body[i] != '=') {
      out += body[i];
    } else if (const int byte = escaped_byte(body, i); byte >= 0) {
      out += static_cast<char>(byte);
      i += 2;
    } else if (body.substr(i + 1).starts_with("\r\n")) {
      i += 2;  // soft line break
    } else if (body.substr(i + 1).starts_with("\n")) {
      i += 1;
    } else {
      out += '=';
    }
  }
  return out;
}

std::optional<std::string> q_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '_') {
      out += ' ';
    } else if (text[i] == '=') {
      const int byte = escaped_byte(text, i);
      if (byte < 0) return std::nullopt;
      out += static_cast<char>(byte);
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

}  // namespace mailsim::codec
