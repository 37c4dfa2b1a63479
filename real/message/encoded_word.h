// RFC 2047 encoded-words: non-ASCII text (a Japanese Subject, a display
// name) in header fields, "=?UTF-8?B?5LuK5pel44Gv?=".
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mailsim::message {

// True when `text` cannot go into a header as is: a byte outside printable
// US-ASCII and white space, or a sequence that looks like an encoded-word.
bool needs_encoding(std::string_view text);

// Encodes UTF-8 `text` as base64 ("B") encoded-words of at most 75
// characters (§2), split only between characters (§5: a word never carries
// half a character), joined by folding "\r\n " so no line exceeds 76
// characters (§2). `line_used` is how much of the first line the field name
// already takes (9 for "Subject: "). Text that needs no encoding is
// returned unchanged.
std::string encode_words(std::string_view text, std::size_t line_used = 0);

// Decodes every encoded-word in a header value (B and Q, any charset iconv
// knows: UTF-8, ISO-2022-JP, Shift_JIS, ISO-8859-1, ...) to UTF-8, for display
// and for IMAP SEARCH. White space between adjacent decoded words is dropped
// (§6.2); a character split across adjacent words is joined. B words may lack
// their "=" padding. A malformed word (bad base64, a Q "=" without two hex
// digits, white space inside) or one in a charset iconv cannot convert is
// left exactly as written, and so is the white space around it. Other bytes
// pass through unchanged.
std::string decode_words(std::string_view value);

}  // namespace mailsim::message
