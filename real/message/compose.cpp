// RFC 5322 §3.4 mailboxes, §3.6 fields; RFC 2045 MIME headers; RFC 2047 for
// non-ASCII phrases and unstructured text.
#include "real/message/compose.h"

#include "real/message/date.h"
#include "real/message/encoded_word.h"
#include "real/message/headers.h"

#include <cstdio>
#include <stdexcept>

namespace mailsim::message {
namespace {

// atext (RFC 5322 §3.2.3) plus space: a phrase of such words needs no quotes.
bool is_plain_phrase(std::string_view s) {
  for (char c : s) {
    const bool atext = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       std::string_view("!#$%&'*+-/=?^_`{|}~ ").find(c) != std::string_view::npos;
    if (!atext) return false;
  }
  return true;
}

// Normalises line ends to CRLF and makes the body end with one.
std::string crlf_body(std::string_view body) {
  std::string out;
  out.reserve(body.size() + body.size() / 32 + 2);
  for (std::size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (c == '\r') {
      out += "\r\n";
      if (i + 1 < body.size() && body[i + 1] == '\n') ++i;
    } else if (c == '\n') {
      out += "\r\n";
    } else {
      out += c;
    }
  }
  if (!out.ends_with("\r\n")) out += "\r\n";
  return out;
}

// "To: a, b, c" folded between addresses.
std::string address_field(std::string_view name, const std::vector<Mailbox>& list) {
  std::string value;
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (i > 0) value += ", ";
    value += format_mailbox(list[i]);
  }
  return fold_field(std::string(name) + ": " + value);
}

// An unstructured field: ASCII is folded at spaces, anything else becomes
// encoded-words (which carry their own folding).
std::string unstructured_field(std::string_view name, std::string_view value) {
  if (!needs_encoding(value)) return fold_field(std::string(name) + ": " + std::string(value));
  return std::string(name) + ": " + encode_words(value, name.size() + 2) + "\r\n";
}

}  // namespace

std::string format_mailbox(const Mailbox& m) {
  if (m.display_name.empty()) return m.address;
  std::string phrase;
  if (needs_encoding(m.display_name)) {
    // §5(3): an encoded-word may stand in for a word of a phrase. A long name
    // yields several words; keep them on one logical line here and let the
    // field folding place them.
    std::string words = encode_words(m.display_name, 0);
    for (std::size_t p; (p = words.find("\r\n")) != std::string::npos;) words.erase(p, 2);
    phrase = words;
  } else if (is_plain_phrase(m.display_name)) {
    phrase = m.display_name;
  } else {
    phrase = "\"";
    for (char c : m.display_name) {
      if (c == '"' || c == '\\') phrase += '\\';
      phrase += c;
    }
    phrase += "\"";
  }
  return phrase + " <" + m.address + ">";
}

std::string make_message_id(std::string_view unique, std::string_view host) {
  return "<" + std::string(unique) + "@" + std::string(host) + ">";
}

std::string make_message_id(std::int64_t unix_seconds, std::uint64_t sequence, std::string_view host) {
  const CivilTime t = civil_time(unix_seconds, 0);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld%02u%02u%02d%02d%02d.%llx", static_cast<long long>(t.date.year),
                t.date.month, t.date.day, t.hour, t.minute, t.second, static_cast<unsigned long long>(sequence));
  return make_message_id(buf, host);
}

std::string compose_text_message(const TextMessage& m) {
  if (m.from.address.empty()) throw std::invalid_argument("compose: no From address");
  if (m.to.empty() && m.cc.empty()) throw std::invalid_argument("compose: no recipient");
  std::string out;
  out += address_field("From", {m.from});
  if (!m.to.empty()) out += address_field("To", m.to);
  if (!m.cc.empty()) out += address_field("Cc", m.cc);
  out += unstructured_field("Subject", m.subject);
  out += "Date: " + format_date(m.date, m.utc_offset_minutes) + "\r\n";
  if (!m.message_id.empty()) out += "Message-ID: " + m.message_id + "\r\n";
  for (const auto& [name, value] : m.extra_fields) out += unstructured_field(name, value);
  out += "MIME-Version: 1.0\r\n";
  out += "Content-Type: text/plain; charset=UTF-8\r\n";
  out += "Content-Transfer-Encoding: 8bit\r\n";
  out += "\r\n";
  out += crlf_body(m.body);
  return out;
}

}  // namespace mailsim::message
