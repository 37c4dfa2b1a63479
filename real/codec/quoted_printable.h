// Quoted-printable (RFC 2045 §6.7), the transfer encoding of mostly-ASCII
// bodies, and its header variant, the "Q" encoding of RFC 2047 §4.2.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mailsim::codec {

// Decodes a quoted-printable body: "=XX" (either hex case) becomes the byte,
// "=" at the end of a line is a soft line break (CRLF or bare LF) and goes
// away. Lenient the way mail readers are (RFC 2045 §6.7 note 1): an "=" not
// followed by two hex digits or a line end is kept as written.
std::string quoted_printable_decode(std::string_view body);

// Decodes the text of a "Q" encoded-word: "_" is a space, "=XX" a byte.
// Strict, since a malformed word must be shown as written (RFC 2047 §6.3):
// nullopt when an "=" is not followed by two hex digits.
std::optional<std::string> q_decode(std::string_view text);

}  // namespace mailsim::codec
