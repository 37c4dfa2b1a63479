// Message content on the wire (RFC 5321 §4.1.1.4 DATA, §4.5.2 transparency):
// what a client does to a message before sending it after "354".
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace mailsim::smtp {

// Makes every line end in CRLF: a bare LF or a bare CR becomes CRLF (RFC 5321
// §2.3.8 allows no other line ending; servers that refuse bare LF, like ours
// and Postfix, would otherwise drop the message). Appends a final CRLF when
// the message does not end with one (an empty message stays empty).
std::string canonicalize_line_endings(std::string_view message);

// Dot-stuffing (§4.5.2): a '.' at the start of a line gets another '.' in
// front. Expects CRLF line endings (canonicalize first) and returns the bytes
// to send after "354", INCLUDING the terminating ".\r\n".
std::string dot_stuff(std::string_view message);
// The same, appended to `out` (no string of its own); returns the octets appended.
std::size_t dot_stuff_into(std::string& out, std::string_view message);

// True when the message has any byte >= 0x80 (needs BODY=8BITMIME, RFC 6152).
bool has_8bit(std::string_view message);

// The position of the first CR or LF at or after `from`, or text.size().
// (string_view::find_first_of("\r\n") calls memchr once for every byte it
// passes: a message's text went through ~740 calls per pass.) Eight bytes
// at a time: a word holds a CR or LF when (word ^ CR-bytes) or (word ^
// LF-bytes) has a zero byte, which (v - 0x01..) & ~v & 0x80.. detects.
inline std::size_t next_line_end(std::string_view text, std::size_t from) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL, kHighs = 0x8080808080808080ULL;
  std::size_t i = from;
  for (; i + 8 <= text.size(); i += 8) {
    std::uint64_t word;
    std::memcpy(&word, text.data() + i, 8);
    const std::uint64_t cr = word ^ (kOnes * '\r'), lf = word ^ (kOnes * '\n');
    if ((((cr - kOnes) & ~cr) | ((lf - kOnes) & ~lf)) & kHighs) break;
  }
  while (i < text.size() && text[i] != '\r' && text[i] != '\n') ++i;
  return i;
}

}  // namespace mailsim::smtp
