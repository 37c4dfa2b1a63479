// RFC 5322 §2.2 header section parsing: fields with their folding kept as
// written and unfolded (§2.2.3), case-insensitive lookup (§1.2.2), and the
// offset where the body starts (after the empty line, §2.1).
//
// Lenient on input, as a mail server must be: bare LF line ends work, a
// leading mbox "From " line is skipped, and a line that cannot be a field
// is reported and, as the caller chooses, taken as the start of the body
// (the blank line was probably forgotten) or skipped, instead of failing the
// message. real/mime builds its MIME entity headers on this parser.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "real/codec/ascii.h"

namespace mailsim::message {

struct HeaderField {
  std::string name;       // as written, e.g. "Subject" (white space before
                          // the colon, obsolete syntax, removed)
  std::string raw_value;  // after the colon up to the field's final line
                          // break, folding line breaks kept verbatim
  std::string value;      // unfolded (line breaks before WSP removed) and
                          // trimmed of surrounding white space; encoded-words
                          // (RFC 2047) are left as they are
  std::string raw;        // the whole field as written: its lines, folding
                          // and final line break included (none when the
                          // input ended without one); IMAP's
                          // BODY[HEADER.FIELDS] shows exactly these bytes
  std::size_t offset = 0; // where the field's first line starts in the message
};

// Something in the header section that is not RFC 5322, with the 1-based
// line number and byte offset where it starts.
struct HeaderProblem {
  std::size_t line = 0;
  std::size_t offset = 0;
  std::string reason;
};

// The parsed header section of one message.
struct MessageHeaders {
  std::vector<HeaderField> fields;      // in message order
  std::vector<HeaderProblem> problems;
  std::size_t body_offset = 0;          // first byte of the body; == size when none
  bool has_separator = false;           // an empty line ended the header section

  // The first field called `name` (any case), or nullptr.
  const HeaderField* find(std::string_view name) const;
  // Its unfolded value, or nullopt. The view lives as long as this object.
  std::optional<std::string_view> get(std::string_view name) const;
  // Every field called `name`, in order (trace fields: newest first).
  std::vector<const HeaderField*> all(std::string_view name) const;
  std::size_t count(std::string_view name) const;
};

// What the parser does with a line in the header section that is neither a
// field nor a continuation (no colon, or a name that is not RFC 5322 ftext).
// Either way the line is reported in MessageHeaders::problems.
enum class InvalidLine {
  kStartsBody,  // the header section ends there: a message arriving by SMTP
                // whose writer forgot the blank line
  kSkipped,     // the line is passed over and the header section goes on to
                // the blank line, as IMAP servers read a stored message; a
                // continuation line right after it continues nothing
};

// Incremental parser for messages arriving in pieces (an SMTP DATA stream,
// a socket): feed bytes until done(); it consumes the header section only.
class HeaderParser {
 public:
  explicit HeaderParser(InvalidLine invalid = InvalidLine::kStartsBody) : invalid_(invalid) {}

  // Consumes bytes from `bytes` up to the end of the header section and
  // returns how many were used (0 once done()). The body starts at
  // headers().body_offset, counted from the first byte ever fed; it may lie
  // inside the consumed bytes when a malformed line started the body.
  std::size_t feed(std::string_view bytes);
  // End of the message: a final line without line break still counts, and
  // a message without empty line has no body.
  void finish();
  bool done() const { return done_; }
  // The result so far; complete once done().
  const MessageHeaders& headers() const { return result_; }
  MessageHeaders take() { return std::move(result_); }

 private:
  // One line without its break; `line_break` is "\r\n", "\n" or "" (end of input).
  void line_complete(std::string_view line, std::string_view line_break);
  void flush_field();
  void end_headers(std::size_t body_offset, bool separator);

  InvalidLine invalid_;
  MessageHeaders result_;
  std::string line_;           // partial line (without break) not yet complete
  std::string field_raw_;      // current field: everything from name to before its final break
  std::string field_break_;    // the break after field_raw_'s last line
  std::size_t field_offset_ = 0;
  std::size_t offset_ = 0;     // bytes consumed so far
  std::size_t line_no_ = 0;
  bool in_field_ = false;
  bool done_ = false;
};

// Parses the header section of a complete message.
MessageHeaders parse_headers(std::string_view message, InvalidLine invalid = InvalidLine::kStartsBody);

// parse_headers(message).count(name), without building the fields: for a
// check made on every message (the MTA's hop count).
std::size_t count_fields(std::string_view message, std::string_view name);

// RFC 5322 §2.2.3 unfolding: removes each CRLF (or bare LF) that is followed
// by a space or tab. Leading and trailing white space is kept.
std::string unfold(std::string_view raw);

// Folds a field ("Name: value", without its final line break) by inserting
// CRLF before white space (RFC 5322 §2.2.3), so lines stay within `width`
// characters wherever a space allows; the white space itself is kept, so
// unfold() gives the field back exactly. Returns the field plus a final CRLF.
// Text that already holds CRLF keeps those breaks.
std::string fold_field(std::string_view field, std::size_t width = 78);

// Case-insensitive ASCII comparison, as field names compare (real/codec/ascii.h).
using codec::iequals;

}  // namespace mailsim::message
