// SMTP replies (RFC 5321 §4.2): a three-digit code, optional RFC 3463 enhanced
// status code (RFC 2034 ENHANCEDSTATUSCODES), one or more text lines; their
// wire form ("250-first" ... "250 last") and an incremental parser that a
// client feeds with whatever chunks the network delivers.
#pragma once

#include "real/smtp/event_queue.h"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mailsim::smtp {

struct Reply {
  int code = 0;          // 200..599
  std::string enhanced;  // "2.1.0", or "" when the reply carries none
  // Text lines without code, separator, enhanced code or CRLF. Never empty
  // once built by make_reply() or the parser (a bare "250" has one empty line).
  std::vector<std::string> lines;

  // "250-2.0.0 first\r\n250 2.0.0 last\r\n": the enhanced code, when present,
  // prefixes every line (RFC 2034 §4).
  std::string to_wire() const;
  // All lines joined with "\n", without code prefixes (for logs and the UI).
  std::string text() const;

  int klass() const { return code / 100; }  // 2, 3, 4 or 5
  bool positive() const { return code >= 200 && code < 400; }
  bool positive_completion() const { return code >= 200 && code < 300; }
  bool transient() const { return code >= 400 && code < 500; }
  bool permanent() const { return code >= 500 && code < 600; }

  friend bool operator==(const Reply&, const Reply&) = default;
};

// Builds a one-line (or multi-line, split at '\n') reply.
Reply make_reply(int code, std::string_view enhanced, std::string_view text);

// True when `s` is an RFC 3463 status code "c.sss.ddd" (class 2, 4 or 5;
// subject 0..999 without leading zeros beyond one digit; detail 0..999).
bool is_enhanced_code(std::string_view s);

// Incremental reply parser (RFC 5321 §4.2.1). Feed bytes in any chunking;
// complete replies come out of next(). A line ends at LF (a preceding CR is
// removed; a lenient client accepts a bare LF). The enhanced code is taken
// from the first line when it is present on it and matches the reply class,
// and stripped from every line that carries the same code.
//
// Errors are sticky: a malformed line (code not three digits, separator not
// ' ' or '-', a continuation with another code), a line over kMaxLineLength
// or a reply over kMaxReplyLines makes failed() true with error() saying why;
// further input is ignored.
class ReplyParser {
 public:
  static constexpr std::size_t kMaxLineLength = 4096;  // RFC 5321 says 512
  static constexpr std::size_t kMaxReplyLines = 200;

  void feed(std::string_view bytes);
  // The next complete reply, in arrival order.
  std::optional<Reply> next();
  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }
  // True while a partial reply (or partial line) is buffered.
  bool partial() const { return !line_.empty() || !raw_lines_.empty(); }

 private:
  void on_line(std::string line);
  void finish_reply();

  std::string line_;                    // current unfinished line
  std::vector<std::string> raw_lines_;  // lines of the current reply, after "ddd?"
  int code_ = 0;
  EventQueue<Reply, 2> ready_;
  std::string error_;
};

}  // namespace mailsim::smtp
