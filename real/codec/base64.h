// Base64 (RFC 4648 §4) for SASL (RFC 4954, RFC 5034) and MIME, done by OpenSSL.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mailsim::codec {

// Encodes `bytes` without line breaks.
std::string base64_encode(std::string_view bytes);

// Decodes standard base64 (padding required, no whitespace inside; leading and
// trailing spaces are ignored). Returns nullopt on any malformed input, so a
// client's garbage never turns into a half-decoded password.
std::optional<std::string> base64_decode(std::string_view text);

// Decodes base64 as it appears in mail, where bodies are split into lines
// (RFC 2045 §6.8) and encoded-words often drop their padding: white space and
// line breaks anywhere are ignored and missing "=" padding is supplied. Still
// nullopt for characters outside the alphabet or a misplaced "=".
std::optional<std::string> base64_decode_lenient(std::string_view text);

}  // namespace mailsim::codec
