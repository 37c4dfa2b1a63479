// MIME entity tree of a raw RFC 5322 message: header fields (RFC 5322 §2.2),
// Content-Type / Content-Disposition parameters (RFC 2045 §5, RFC 2183),
// multipart bodies (RFC 2046 §5.1) and encapsulated message/rfc822 parts
// (RFC 2046 §5.2.1). It is what IMAP needs for BODYSTRUCTURE (RFC 3501 §7.4.2)
// and BODY[section] (RFC 3501 §6.4.5): every entity carries byte offsets into
// the raw message, so a section is a view of the original bytes, never a
// re-serialisation.
//
// Header fields, RFC 5322 lexical tokens and encoded-words are real/message's
// (this area adds MIME structure on top); text encodings are real/codec's.
// Deterministic and total: malformed input never throws; it degrades the way
// common servers do (a multipart without a boundary is read as a single part,
// a missing closing delimiter ends the last part at the end of the enclosing
// body, a header line that is not a field is skipped).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "real/codec/ascii.h"
#include "real/message/headers.h"

namespace mailsim::mime {

// One header field as it appeared in the message: name, value (unfolded,
// trimmed, encoded-words left as they are, as IMAP's ENVELOPE shows them) and
// raw (its lines as written, folding and line break included). Its offset
// counts from the first byte of the entity's header.
using HeaderField = message::HeaderField;

// The header fields of one entity, in order: real/message's parser, reading
// up to the blank line and skipping lines that are not fields
// (message::InvalidLine::kSkipped), the way IMAP servers read stored mail.
class Header {
 public:
  Header() = default;
  explicit Header(message::MessageHeaders parsed) : parsed_(std::move(parsed)) {}

  // Parses a header block (the bytes before the blank line; the blank line
  // and anything after it may be included and are not read).
  static Header parse(std::string_view block);

  // First field named `name` (case-insensitive), or nullptr. The pointer is
  // valid as long as this Header lives unchanged.
  const HeaderField* find(std::string_view name) const;
  // Its value, or nullptr.
  const std::string* value(std::string_view name) const;
  const std::vector<HeaderField>& fields() const { return parsed_.fields; }
  // Lines that were not fields, for whoever wants to show them.
  const std::vector<message::HeaderProblem>& problems() const { return parsed_.problems; }

 private:
  message::MessageHeaders parsed_;
};

// A parameter of Content-Type or Content-Disposition, as written: RFC 2231
// forms (name*0=..., name*=utf-8''...) are kept verbatim, the way IMAP servers
// report them in BODYSTRUCTURE.
struct Param {
  std::string name;   // lower-cased
  std::string value;  // unquoted, escapes removed
};

struct ContentType {
  std::string type = "text";     // lower-cased
  std::string subtype = "plain"; // lower-cased
  std::vector<Param> params;
  const std::string* param(std::string_view name) const;
};

// Parses a Content-Type value ("text/plain; charset=utf-8 (comment)").
// Returns nullopt when there is no usable type/subtype, in which case RFC 2045
// §5.2 says to treat the entity as text/plain; charset=us-ascii.
std::optional<ContentType> parse_content_type(std::string_view value);

struct Disposition {
  std::string type;  // lower-cased ("inline", "attachment", ...)
  std::vector<Param> params;
};
std::optional<Disposition> parse_disposition(std::string_view value);

// One MIME entity: the whole message, a body part of a multipart, or the
// message encapsulated in a message/rfc822 part.
struct Entity {
  // Byte offsets into the raw message given to parse_message().
  std::size_t begin = 0;       // first byte of this entity's header
  std::size_t body_begin = 0;  // first byte after the blank line (= end of header)
  std::size_t end = 0;         // one past the last body byte

  Header header;
  ContentType content_type;      // defaulted as RFC 2045 §5.2 / RFC 2046 §5.1.5 say
  bool content_type_given = false;
  std::string encoding = "7bit"; // Content-Transfer-Encoding, lower-cased
  std::optional<Disposition> disposition;
  std::size_t body_lines = 0;    // newline count of the body (+1 if it ends mid-line)

  std::vector<Entity> parts;     // children of a multipart
  std::vector<Entity> message;   // the encapsulated message of message/rfc822 (0 or 1)

  bool is_multipart() const { return content_type.type == "multipart"; }
  bool is_message_rfc822() const { return !message.empty(); }
  std::size_t body_size() const { return end - body_begin; }

  // Views into the raw message this entity was parsed from.
  std::string_view header_text(std::string_view raw) const {
    return raw.substr(begin, body_begin - begin);
  }
  std::string_view body_text(std::string_view raw) const {
    return raw.substr(body_begin, end - body_begin);
  }
  std::string_view text(std::string_view raw) const {
    return raw.substr(begin, end - begin);
  }
};

// Deeper nesting than this is read as opaque application/octet-stream-like
// leaves, so a hostile message cannot exhaust the stack.
inline constexpr int kMaxNesting = 32;

// Parses a whole message. Never fails.
Entity parse_message(std::string_view raw);

// Resolves an IMAP section part path ("1", "2.1.3" as numbers) against a
// parsed message, following RFC 3501 §6.4.5: in a non-multipart message or
// encapsulated message, part 1 is the body itself; a number after a
// message/rfc822 part addresses the encapsulated message's parts. An empty
// path returns the message itself. Returns nullptr when the part does not exist.
const Entity* find_part(const Entity& message, const std::vector<unsigned>& path);

// Decodes a body in Content-Transfer-Encoding `encoding` ("base64",
// "quoted-printable", any case; anything else is returned unchanged), for
// IMAP SEARCH BODY/TEXT. Base64 ignores line breaks and white space; base64
// that still does not decode is returned as written. Quoted-printable keeps a
// malformed "=" sequence as written.
std::string decode_transfer_encoding(std::string_view body, std::string_view encoding);

// The ASCII case helpers live in real/codec/ascii.h; these names stay for
// code that still says mime::iequals (real/mta).
using codec::icontains;
using codec::iequals;
using codec::to_lower;
using codec::to_upper;

}  // namespace mailsim::mime
