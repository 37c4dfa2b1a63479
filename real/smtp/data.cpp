// Client side of the DATA transparency procedure (RFC 5321 §4.5.2).
#include "real/smtp/data.h"

#include <algorithm>

namespace mailsim::smtp {

namespace {
// True when every line already ends in CRLF, the last one included (what a
// queued message looks like): the text can then be copied in one go.
bool is_canonical(std::string_view message) {
  std::size_t i = 0;
  while (i < message.size()) {
    const std::size_t end = next_line_end(message, i);
    if (end + 1 >= message.size() || message[end] != '\r' || message[end + 1] != '\n') return false;
    i = end + 2;
  }
  return true;
}
}  // namespace

std::string canonicalize_line_endings(std::string_view message) {
  if (is_canonical(message)) return std::string(message);
  std::string out;
  out.reserve(message.size() + message.size() / 32 + 2);
  std::size_t i = 0;
  while (i < message.size()) {
    // Copy up to the next line end in one go, then write it as CRLF.
    const std::size_t end = next_line_end(message, i);
    out.append(message.substr(i, end - i));
    if (end == message.size()) break;
    out += "\r\n";
    i = end + 1;
    if (message[end] == '\r' && i < message.size() && message[i] == '\n') ++i;
  }
  if (!out.empty() && !out.ends_with("\r\n")) out += "\r\n";
  return out;
}

std::string dot_stuff(std::string_view message) {
  std::string out;
  dot_stuff_into(out, message);
  return out;
}

std::size_t dot_stuff_into(std::string& out, std::string_view message) {
  const std::size_t start = out.size();
  out.reserve(start + message.size() + 8);
  std::size_t i = 0;
  while (i < message.size()) {
    // One line (with its LF) at a time; a line that starts with "." gets another.
    if (message[i] == '.') out += '.';
    const std::size_t lf = message.find('\n', i);
    const std::size_t end = lf == std::string_view::npos ? message.size() : lf + 1;
    out.append(message.substr(i, end - i));
    i = end;
  }
  if (out.size() > start && !out.ends_with("\r\n")) out += "\r\n";
  out += ".\r\n";
  return out.size() - start;
}

bool has_8bit(std::string_view message) {
  // Eight bytes at a time, then the rest.
  std::size_t i = 0;
  for (; i + 8 <= message.size(); i += 8) {
    std::uint64_t word;
    std::memcpy(&word, message.data() + i, 8);
    if (word & 0x8080808080808080ULL) return true;
  }
  for (; i < message.size(); ++i)
    if (static_cast<unsigned char>(message[i]) >= 0x80) return true;
  return false;
}

}  // namespace mailsim::smtp
