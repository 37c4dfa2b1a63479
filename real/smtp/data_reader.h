// Server side of message content (RFC 5321 §4.1.1.4 DATA, §4.5.2
// transparency, §4.5.3.1.6 text line length, §2.3.8 line endings): finds the
// end of data, undoes dot-stuffing, counts the size and refuses bare CR / LF.
//
// Why bare CR and bare LF end the session: SMTP smuggling (CVE-2023-51764/5,
// -51766). A sender hides "\n.\n" (or "\r.\r\n", "\n.\r\n", ...) followed by a
// second "MAIL FROM" inside a message; a server that accepts that as end of
// data runs the hidden commands with the sender's credentials. Here only the
// exact sequence CR LF "." CR LF ends the data, and any CR not followed by LF
// or LF not preceded by CR stops the reader at once (the server then says
// "521 5.5.2 ... Error: bare <LF> received" and disconnects, like Postfix with
// smtpd_forbid_bare_newline = strict), so the hidden bytes are never read as
// commands and never become part of a delivered message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace mailsim::smtp {

class DataReader {
 public:
  enum class Status {
    kReading,  // more bytes needed
    kDone,     // saw CRLF.CRLF; the message is complete
    kBareLf,   // a LF without CR before it (sticky)
    kBareCr,   // a CR without LF after it (sticky)
  };

  // `max_size`: octets of unstuffed message kept (more are counted, not
  // stored). `max_line`: RFC 5321's 1000 octets including CRLF.
  // `expected_size`: room taken at once (MAIL FROM's SIZE=, when the client
  // gave one), at most max_size and 64 KiB: a client's claim must not make
  // a session hold more than it sends.
  explicit DataReader(std::uint64_t max_size, std::size_t max_line = 1000, std::uint64_t expected_size = 0);

  // Reads bytes up to and including the end-of-data line, or all of `in`.
  // Returns how many bytes of `in` were consumed: the rest (after the end of
  // data, or after a bare CR/LF) is not message content.
  std::size_t feed(std::string_view in);

  Status status() const { return status_; }
  // The message exceeded max_size (its stored copy is truncated).
  bool too_big() const { return size_ > max_size_; }
  // Some line exceeded max_line octets including CRLF.
  bool line_too_long() const { return line_too_long_; }
  // Octets of the unstuffed message with CRLFs, counted beyond the limit too.
  std::uint64_t size() const { return size_; }
  // The unstuffed message with CRLF line ends, without the final ".\r\n".
  // Moves the buffer out; valid once status() == kDone.
  std::string take_message() { return std::move(message_); }

 private:
  void append(std::string_view bytes);  // counts them, keeps what fits in max_size

  std::uint64_t max_size_;
  std::size_t max_line_;
  Status status_ = Status::kReading;
  std::string message_;
  std::uint64_t size_ = 0;
  std::size_t line_len_ = 0;    // octets of the current line as sent (stuffed), without CRLF
  bool cr_pending_ = false;     // the last byte was CR; a LF must follow
  bool dot_only_ = false;       // the current line so far is exactly "."
  bool line_too_long_ = false;
};

}  // namespace mailsim::smtp
