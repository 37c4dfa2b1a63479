// Frames an IMAP client's byte stream into whole commands (RFC 3501 §2.2,
// §4.3 literals; RFC 7888 LITERAL+). A command is one line, or several lines
// joined by literals "{n}\r\n<n octets>". The reader tells its owner when a
// synchronizing literal needs a "+" continuation, and refuses oversize lines
// and literals without ever allocating what a client merely announces.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace mailsim::imap {

struct ReaderLimits {
  std::size_t max_line = 8192;                 // octets per line, literals excluded (RFC 7162 §4)
  std::size_t max_literal = 32u << 20;         // octets in one literal (APPEND size limit)
  std::size_t max_command = (32u << 20) + 65536;  // all lines and literals of one command
};

class CommandReader {
 public:
  explicit CommandReader(ReaderLimits limits = {}) : limits_(limits) {}

  enum class Kind {
    kNone,           // nothing complete yet: feed more bytes
    kCommand,        // `text` is a whole command, literals inline, final CRLF included
    kContinue,       // a synchronizing literal was announced and fits: send "+ ..."
    kLiteralTooBig,  // a literal larger than the limits was announced; `tag` names the command.
                     // Synchronizing: the client sends nothing more for it.
                     // Non-synchronizing: its octets and the rest of the command are skipped.
    kLineTooLong,    // a line exceeded max_line; the rest of the command is skipped
  };
  struct Item {
    Kind kind = Kind::kNone;
    std::string text;              // kCommand only
    std::string tag;               // refusals: the command's tag, "*" when it has none
    bool synchronizing = false;    // kLiteralTooBig
    std::uint64_t literal_size = 0;  // kContinue, kLiteralTooBig
  };

  // Appends received bytes (copied).
  void feed(std::string_view bytes);
  // The next framing result; call until kNone.
  Item next();
  // Drops every buffered byte and any half-read command (after STARTTLS,
  // CVE-2011-0411: nothing sent in plaintext may be acted on after TLS).
  void discard_input();
  // Bytes received but not yet framed.
  std::size_t buffered() const { return in_.size() - pos_; }
  // True when no command is half-read.
  bool between_commands() const { return frame_.empty() && literal_left_ == 0 && !discarding_; }

 private:
  // What follows a line: a literal announcement at its end, if any.
  struct Marker {
    bool present = false;
    bool synchronizing = true;
    bool valid = true;  // "{" digits "}" well formed and the number fits
    std::uint64_t size = 0;
  };
  static Marker literal_marker(std::string_view line_without_crlf);
  static std::string tag_of(std::string_view text);
  // A line of a command being skipped ended; decide whether the command goes on.
  void end_discarded_line(const Marker& m);

  ReaderLimits limits_;
  std::string in_;
  std::size_t pos_ = 0;            // first unread byte of in_
  std::string frame_;              // the command so far
  std::uint64_t literal_left_ = 0; // literal octets still to come
  bool skipping_literal_ = false;  // literal octets are dropped, not kept
  bool discarding_ = false;        // skipping the rest of a refused command
  std::string discard_tail_;       // last octets of a skipped line (to spot "{n+}")
};

}  // namespace mailsim::imap
