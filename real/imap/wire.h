// IMAP4rev1 wire formats the server and client share (RFC 3501 §4 data
// formats, §9 formal syntax): strings, literals, dates, sequence/UID sets.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mailsim::imap {

// RFC 3501 §4.3 string: a quoted string when `s` is short 7-bit text without
// CR, LF or NUL, a literal "{n}\r\n..." otherwise.
std::string imap_string(std::string_view s);
// nstring: NIL for nullopt.
std::string imap_nstring(const std::optional<std::string>& s);
std::string imap_nstring(const std::string* s);
// A literal, always (message bodies in FETCH responses).
std::string imap_literal(std::string_view bytes);
// astring: a bare atom when `s` is one (INBOX, Sent), a string otherwise.
std::string imap_astring(std::string_view s);

// RFC 3501 ATOM-CHAR: any CHAR except atom-specials.
bool is_atom_char(char c);

// INTERNALDATE: "17-Jul-1996 02:44:25 +0000" for seconds since the epoch,
// always in UTC (the simulator has no time zones, and it keeps output stable).
std::string format_internal_date(std::int64_t epoch_seconds);
// RFC 3501 date-time ("17-Jul-1996 02:44:25 -0700", day may be " 7") to
// seconds since the epoch; nullopt when malformed.
std::optional<std::int64_t> parse_date_time(std::string_view s);
// RFC 3501 date ("1-Feb-1994") to days since the epoch; nullopt when malformed.
std::optional<std::int64_t> parse_date(std::string_view s);
// The UTC day of a moment for SEARCH SINCE/BEFORE/ON is message::day_of()
// (real/message/date.h), which also holds the calendar arithmetic used here.

// One readable line for the trace: every literal "{n}\r\n<n octets>" (or
// LITERAL+ "{n+}") becomes "{n} <n octets>", line breaks go, and the octets
// themselves are left out (a message body, a password).
std::string summarize_literals(std::string_view text);

// "1:3,7,9:10": numbers in the order given, consecutive runs joined (UIDPLUS
// COPYUID / APPENDUID, RFC 4315 §3). Empty input gives "".
std::string format_number_set(const std::vector<std::uint32_t>& numbers);

}  // namespace mailsim::imap
