// SMTP command-line syntax (RFC 5321 §4.1.1, §4.1.2): splitting a line into
// verb and argument, and the MAIL FROM / RCPT TO argument grammar (paths,
// null reverse-path, source routes, quoted local parts, ESMTP parameters).
// Pure functions over string views; nothing here keeps a reference.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mailsim::smtp {

// A command line without its CRLF, split at the first space. The verb is
// upper-cased (verbs are case-insensitive, §2.4); the argument is the rest
// with leading spaces removed and trailing spaces kept out.
struct CommandLine {
  std::string verb;
  std::string argument;
};
CommandLine split_command(std::string_view line);
// The same split, as views into `line`, the verb as written (for readers
// that compare it case-insensitively, such as the EHLO keywords).
struct CommandView {
  std::string_view verb;
  std::string_view argument;
};
CommandView split_command_view(std::string_view line);

// One ESMTP parameter "KEYWORD[=value]" (§4.1.2 esmtp-param); the keyword is
// upper-cased, the value kept as written.
struct EsmtpParam {
  std::string keyword;
  std::optional<std::string> value;
  friend bool operator==(const EsmtpParam&, const EsmtpParam&) = default;
};

enum class PathStatus {
  kOk,
  kMissingKeyword,  // no "FROM:" / "TO:" → 501 5.5.4 Syntax: MAIL FROM:<address>
  kBadPath,         // not a <path> → 501 5.1.7 / 5.1.3 Bad ... address syntax
  kPathTooLong,     // over the §4.5.3.1 limits (local part 64, domain 255, path 256)
  kBadParameter,    // parameter syntax (not unknown ones: the server decides those)
};

struct PathArgument {
  PathStatus status = PathStatus::kOk;
  // "local@domain" without angle brackets and without a source route; ""
  // for the null path "<>"; "Postmaster" (as written) for RCPT TO:<Postmaster>.
  std::string path;
  std::vector<EsmtpParam> params;
  std::string detail;  // why it failed, for a reply text
};

// Parses the argument of MAIL: "FROM:<path> [params]". Like Postfix, a space
// between "FROM:" and "<" is tolerated; the angle brackets are not optional.
// The null path "<>" is allowed.
PathArgument parse_mail_argument(std::string_view argument);
// Parses the argument of RCPT: "TO:<path> [params]". "<>" is refused;
// "<Postmaster>" without a domain is allowed (§4.1.1.3).
PathArgument parse_rcpt_argument(std::string_view argument);

// True when `mailbox` is "local-part@domain" per §4.1.2 (Dot-string or
// Quoted-string local part; domain name or address literal), within the
// §4.5.3.1 length limits.
bool is_valid_mailbox(std::string_view mailbox);

// RFC 3461 §4 xtext ("+2B" for '+'), used by MAIL ... AUTH=. nullopt when
// malformed.
std::optional<std::string> xtext_decode(std::string_view xtext);
std::string xtext_encode(std::string_view text);

// Client text repeated in a reply ("Unsupported option: FOO"), cut to 64
// octets plus "..." so that the reply line stays within RFC 5321
// §4.5.3.1.5's 512 octets whatever the client sent (a 500-octet parameter
// keyword fits a 512-octet command line).
std::string reply_quote(std::string_view client_text);

// ASCII helpers shared by the SMTP code.
std::string to_upper(std::string_view s);
bool iequals(std::string_view a, std::string_view b);
bool istarts_with(std::string_view s, std::string_view prefix);

}  // namespace mailsim::smtp
