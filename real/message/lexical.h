// RFC 5322 §3.2 lexical tokens that every structured header value shares:
// comments (§3.2.2, nested, with quoted-pairs), folding white space, and
// quoted strings (§3.2.4). The Date: parser, the address-list parser and
// real/mime's Content-Type parser read their values with these.
//
// All of them are lenient the way mail readers are: an unclosed comment or
// quoted string ends at the end of the text, and a position past the end is
// returned as the text's size, never beyond it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mailsim::message {

// Space, tab, CR or LF: the white space a header value may hold (folding
// leaves its CRLF in raw values).
inline bool is_fws_char(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// The position of the first byte at or after `pos` that is neither white
// space nor inside a comment (CFWS, §3.2.2).
std::size_t skip_cfws(std::string_view text, std::size_t pos);

// Reads the comment that opens at text[pos] == '(' and returns its content
// without the outer parentheses (nested comments kept with theirs,
// quoted-pairs unescaped); `pos` moves past the closing ')'.
std::string read_comment(std::string_view text, std::size_t& pos);

// Reads the quoted string that opens at text[pos] == '"' and returns its
// content with the quotes and backslash escapes removed and folding line
// breaks dropped (the white space after them stays); `pos` moves past the
// closing quote.
std::string read_quoted_string(std::string_view text, std::size_t& pos);

}  // namespace mailsim::message
