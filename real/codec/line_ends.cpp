// CRLF <-> LF; see line_ends.h.
#include "real/codec/line_ends.h"

namespace mailsim::codec {
namespace {

bool bare_lf(std::string_view text, std::size_t i) { return text[i] == '\n' && (i == 0 || text[i - 1] != '\r'); }

}  // namespace

std::string to_lf(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;
    out += text[i];
  }
  return out;
}

std::string to_crlf(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 32);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (bare_lf(text, i)) out += '\r';
    out += text[i];
  }
  return out;
}

std::uint64_t crlf_size(std::string_view text) {
  std::uint64_t n = text.size();
  for (std::size_t i = 0; i < text.size(); ++i) n += bare_lf(text, i) ? 1 : 0;
  return n;
}

}  // namespace mailsim::codec
