// SMTP replies (RFC 5321 §4.2): a three-digit code, optional RFC 3463 enhanced
// status code (RFC 2034 ENHANCEDSTATUSCODES), one or more text lines; their
// wire form ("250-first" ... "250 last") and an incremental parser that a
// client feeds with whatever chunks the network delivers.
#pragma once

#include "real/smtp/event_queue.h"

#include <cstddef>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>

namespace mailsim::smtp {

// The text lines of a reply, kept in one buffer ("first\nsecond\nlast")
// so that a reply costs one allocation to build or copy, not one per line:
// a client session keeps several copies of every reply it gets (its event,
// the transaction's result, the recipient's outcome). A line never holds
// '\n': push_back splits there, as make_reply does. Reads give views into
// the buffer, valid until the lines change or go.
class ReplyLines {
 public:
  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = std::string_view;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = std::string_view;
    const_iterator() = default;
    std::string_view operator*() const { return std::string_view(*text_).substr(pos_, end_ - pos_); }
    const_iterator& operator++() {
      pos_ = end_ + 1;
      end_ = line_end(*text_, pos_);
      return *this;
    }
    const_iterator operator++(int) {
      auto old = *this;
      ++*this;
      return old;
    }
    friend bool operator==(const const_iterator& a, const const_iterator& b) { return a.pos_ == b.pos_; }

   private:
    friend class ReplyLines;
    const_iterator(const std::string* text, std::size_t pos) : text_(text), pos_(pos), end_(line_end(*text, pos)) {}
    static std::size_t line_end(const std::string& t, std::size_t pos) {
      if (pos > t.size()) return pos;
      const auto nl = t.find('\n', pos);
      return nl == std::string::npos ? t.size() : nl;
    }
    const std::string* text_ = nullptr;
    std::size_t pos_ = 0;  // start of the line; text_->size() + 1 is the end
    std::size_t end_ = 0;
  };

  ReplyLines() = default;
  ReplyLines(std::initializer_list<std::string_view> lines) {
    for (const auto l : lines) push_back(l);
  }

  bool empty() const { return count_ == 0; }
  std::size_t size() const { return count_; }
  // Appends `line`; each '\n' in it starts another line.
  void push_back(std::string_view line);
  // Room for `bytes` of text in all (lines and the '\n's between them).
  void reserve(std::size_t bytes) { text_.reserve(bytes); }
  const_iterator begin() const { return count_ == 0 ? end() : const_iterator(&text_, 0); }
  const_iterator end() const { return const_iterator(&text_, text_.size() + 1); }
  // Line i (walks the buffer: replies have a few lines).
  std::string_view operator[](std::size_t i) const;
  std::string_view at(std::size_t i) const;  // std::out_of_range past the end
  // The lines joined with '\n'.
  const std::string& joined() const { return text_; }

  friend bool operator==(const ReplyLines&, const ReplyLines&) = default;

 private:
  std::string text_;
  std::size_t count_ = 0;
};

struct Reply {
  int code = 0;          // 200..599
  std::string enhanced;  // "2.1.0", or "" when the reply carries none
  // Text lines without code, separator, enhanced code or CRLF. Never empty
  // once built by make_reply() or the parser (a bare "250" has one empty line).
  ReplyLines lines;

  // "250-2.0.0 first\r\n250 2.0.0 last\r\n": the enhanced code, when present,
  // prefixes every line (RFC 2034 §4).
  std::string to_wire() const;
  // The same, appended to `out` (a session's output buffer).
  void append_wire(std::string& out) const;
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
  bool partial() const { return !line_.empty() || !building_.lines.empty(); }

 private:
  void on_line(std::string_view line);

  std::string line_;  // current unfinished line
  Reply building_;    // the reply whose lines are arriving (lines empty: none yet)
  int code_ = 0;
  EventQueue<Reply, 2> ready_;
  std::string error_;
};

}  // namespace mailsim::smtp
