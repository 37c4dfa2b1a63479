// A small composer for the simulator's mail user agent: a plain-text
// RFC 5322 message (§3.6 fields, MIME-Version and Content-Type per RFC 2045),
// non-ASCII Subject and display names as RFC 2047 encoded-words, and
// Message-ID generation (§3.6.4). No clock or randomness inside: the caller
// gives the time and the unique part, so a simulation replays exactly.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mailsim::message {

struct Mailbox {
  std::string display_name;  // UTF-8, may be empty
  std::string address;       // addr-spec, "alice@alpha.example"
};

// "Alice Liddell <alice@alpha.example>", a quoted display name when it holds
// specials ("\"Liddell, Alice\" <...>"), an encoded-word when non-ASCII, or
// the bare address when there is no display name.
std::string format_mailbox(const Mailbox& mailbox);

// "<unique@host>" (RFC 5322 §3.6.4 msg-id).
std::string make_message_id(std::string_view unique, std::string_view host);
// "<YYYYMMDDhhmmss.<sequence in hex>@host>" from a UTC time and a number the
// caller keeps unique (a counter or a seeded random draw).
std::string make_message_id(std::int64_t unix_seconds, std::uint64_t sequence, std::string_view host);

struct TextMessage {
  Mailbox from;
  std::vector<Mailbox> to;
  std::vector<Mailbox> cc;
  std::string subject;          // UTF-8
  std::string body;             // UTF-8; LF or CRLF line ends
  std::int64_t date = 0;        // seconds since the epoch
  int utc_offset_minutes = 0;   // the sender's zone, e.g. +540
  std::string message_id;       // from make_message_id(), with <>
  // Further fields ("In-Reply-To", "X-Mailer", ...), values UTF-8; added
  // after the standard ones, encoded when not ASCII.
  std::vector<std::pair<std::string, std::string>> extra_fields;
};

// The whole message with CRLF line ends, ready for SMTP DATA (dot-stuffing is
// the SMTP client's job): From, To, Cc, Subject, Date, Message-ID,
// MIME-Version: 1.0, Content-Type: text/plain; charset=UTF-8,
// Content-Transfer-Encoding: 8bit, an empty line, the body ending in CRLF.
// Throws std::invalid_argument without a From address or any recipient.
std::string compose_text_message(const TextMessage& message);

}  // namespace mailsim::message
