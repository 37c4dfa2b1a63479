// Line-end conversions between the network form of a message (CRLF, RFC 5322
// §2.1 and RFC 5321 §2.3.8) and the local form (LF, as Maildir files and
// messages written in code use).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mailsim::codec {

// Every CRLF becomes LF; a bare CR is left alone.
std::string to_lf(std::string_view text);

// Every LF not preceded by CR becomes CRLF; existing CRLF and bare CR stay,
// so to_crlf(to_crlf(x)) == to_crlf(x).
std::string to_crlf(std::string_view text);

// to_crlf(text).size() without building the copy (POP3 and IMAP sizes of a
// message stored with LF line ends).
std::uint64_t crlf_size(std::string_view text);

}  // namespace mailsim::codec
