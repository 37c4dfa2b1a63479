// Envelope addresses as the MTA sees them (RFC 5321 §4.1.2 Mailbox, §4.5.1
// postmaster): split into local part and domain, compare domains without
// regard to case, recognise the null reverse-path "<>".
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mailsim::mta {

struct MailboxAddress {
  std::string local;   // as written (local parts may be case-sensitive)
  std::string domain;  // lower-cased, without a trailing dot
};

// Parses "user@domain" (angle brackets, if present, are removed). Returns
// nullopt when there is no '@', the local part or domain is empty.
std::optional<MailboxAddress> parse_mailbox(std::string_view text);

// Lower-cased domain of "user@domain", or "" when there is none.
std::string domain_of(std::string_view address);
std::string local_part_of(std::string_view address);

// "Example.COM." -> "example.com"
std::string normalize_domain(std::string_view domain);

// True when two domains are the same once normalized ("Example.COM." and
// "example.com"), without making the normalized copies.
bool same_domain(std::string_view a, std::string_view b);

// ASCII case-insensitive equality (domains, header names, host names).
bool iequals(std::string_view a, std::string_view b);

// RFC 5321 §4.5.1: "postmaster" (any case) must be accepted for local domains.
bool is_postmaster(std::string_view local_part);

}  // namespace mailsim::mta
