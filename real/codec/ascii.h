// ASCII case-insensitive text helpers for the mail protocols: SMTP verbs and
// POP3/IMAP keywords, header field names (RFC 5322 §1.2.2), MIME type names
// (RFC 2045 §5.1). Bytes >= 0x80 compare as themselves, never through the C
// locale, so results do not depend on the machine's settings.
#pragma once

#include <string>
#include <string_view>

namespace mailsim::codec {

// True when `a` and `b` are equal ignoring ASCII case.
bool iequals(std::string_view a, std::string_view b);

// True when `text` starts with `prefix`, ignoring ASCII case.
bool istarts_with(std::string_view text, std::string_view prefix);

// True when `needle` occurs in `haystack` ignoring ASCII case; an empty
// needle always matches (IMAP SEARCH semantics, RFC 3501 §6.4.4).
bool icontains(std::string_view haystack, std::string_view needle);

// Copies with ASCII letters case-mapped.
std::string to_lower(std::string_view s);
std::string to_upper(std::string_view s);

}  // namespace mailsim::codec
