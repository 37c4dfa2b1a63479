// RFC 5322 §3.4 address lists (mailbox, name-addr, addr-spec, group, with
// comments and the obsolete route of §4.4) parsed into the four-field shape
// IMAP's ENVELOPE uses (RFC 3501 §7.4.2: name, adl, mailbox, host). Writing
// a mailbox is compose.h's format_mailbox().
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mailsim::message {

// One element of an address list. A group is shown the way RFC 3501 says:
// a start marker {mailbox = group name, host = nullopt} before its members
// and an end marker with every field nullopt after them.
struct Address {
  std::optional<std::string> name;     // display phrase, raw (encoded words kept)
  std::optional<std::string> route;    // obsolete source route "@a,@b"
  std::optional<std::string> mailbox;  // local part, or the group name
  std::optional<std::string> host;     // domain; nullopt only in group markers

  bool is_group_start() const { return !host && mailbox; }
  bool is_group_end() const { return !host && !mailbox; }
  // "local@host" for plain addresses, "" for group markers.
  std::string addr_spec() const;
};

// Parses an address-list header value (From, To, Cc, Reply-To, ...).
// Never fails: stray specials are skipped, a missing local part or domain
// becomes "MISSING_MAILBOX" / "MISSING_DOMAIN" as Dovecot and UW-IMAP do.
// When a mailbox has no display name, the text of a trailing comment is used
// ("bob@example.org (Bob Smith)" has name "Bob Smith").
std::vector<Address> parse_address_list(std::string_view value);

}  // namespace mailsim::message
