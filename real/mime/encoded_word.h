// RFC 2047 encoded words ("=?UTF-8?Q?Caf=C3=A9?=") in unstructured header
// text and phrases, decoded to UTF-8 for display and for IMAP SEARCH.
#pragma once

#include <string>
#include <string_view>

namespace mailsim::mime {

// Decodes every well-formed encoded word in `text` (B and Q encodings; any
// charset glibc's iconv knows) and drops the whitespace between two adjacent
// encoded words (RFC 2047 §6.2). A malformed word, or one in a charset that
// cannot be converted, is left exactly as written. Other bytes pass through.
std::string decode_encoded_words(std::string_view text);

// Decodes a Content-Transfer-Encoding ("base64", "quoted-printable"; anything
// else is returned unchanged). Base64 ignores whitespace and line breaks;
// base64 that still does not decode is returned as written. Quoted-printable
// keeps a malformed "=" sequence as written.
std::string decode_transfer_encoding(std::string_view body, std::string_view encoding);

}  // namespace mailsim::mime
