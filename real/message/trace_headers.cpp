// RFC 5321 §4.4 trace information; RFC 3848 "with" keywords.
#include "real/message/trace_headers.h"

#include "real/message/headers.h"

namespace mailsim::message {

WithProtocol with_protocol(bool extended, bool tls, bool authenticated) {
  if (tls && authenticated) return WithProtocol::kEsmtpsa;
  if (authenticated) return WithProtocol::kEsmtpa;
  if (tls) return WithProtocol::kEsmtps;
  return extended ? WithProtocol::kEsmtp : WithProtocol::kSmtp;
}

std::string_view to_string(WithProtocol with) {
  switch (with) {
    case WithProtocol::kSmtp: return "SMTP";
    case WithProtocol::kEsmtp: return "ESMTP";
    case WithProtocol::kEsmtps: return "ESMTPS";
    case WithProtocol::kEsmtpa: return "ESMTPA";
    case WithProtocol::kEsmtpsa: return "ESMTPSA";
  }
  return "SMTP";
}

namespace {

// Joins clauses with a space, or with CRLF TAB when the line would pass
// `width`. Clauses themselves are never split. A clause is written into
// clause() and joins the line on the next call of next() or finish(), so
// the last one before the date can still take its ';'. One string grows
// instead of a string per clause and per join.
class ClauseFolder {
 public:
  // `rest`: what finish() appends after the field, room for it included.
  ClauseFolder(std::size_t width, std::string_view rest) : width_(width), rest_(rest) {
    out_.reserve(256 + rest.size());
    clause_.reserve(96);
  }
  std::string& clause() { return clause_; }
  void next() {
    if (out_.empty()) {
      line_ = clause_.size();
    } else if (line_ + 1 + clause_.size() > width_) {
      out_ += "\r\n\t";
      line_ = 1 + clause_.size();  // a tab, counted as one column
    } else {
      out_ += ' ';
      line_ += 1 + clause_.size();
    }
    out_ += clause_;
    clause_.clear();
  }
  std::string finish() {
    next();
    out_ += "\r\n";
    out_ += rest_;
    return std::move(out_);
  }

 private:
  std::size_t width_;
  std::size_t line_ = 0;
  std::string_view rest_;
  std::string out_, clause_;
};

}  // namespace

std::string build_received(const ReceivedFields& f, std::string_view rest) {
  ClauseFolder fold(78, rest);
  std::string& c = fold.clause();
  c += "Received: from ";
  c += f.helo.empty() ? std::string_view("unknown") : f.helo;
  c += " (";
  c += f.rdns.empty() ? std::string_view("unknown") : f.rdns;
  c += " [";
  if (f.ip.find(':') != std::string_view::npos && !f.ip.starts_with("IPv6:")) c += "IPv6:";
  c += f.ip;
  c += "])";
  fold.next();
  c += "by ";
  c += f.by;
  if (!f.tls_version.empty()) {
    fold.next();
    c += "(using ";
    c += f.tls_version;
    if (!f.tls_cipher.empty()) {
      c += " with cipher ";
      c += f.tls_cipher;
    }
    c += ')';
  }
  fold.next();
  c += "with ";
  c += to_string(f.with);
  if (!f.id.empty()) {
    fold.next();
    c += "id ";
    c += f.id;
  }
  if (!f.for_recipient.empty()) {
    fold.next();
    c += "for <";
    c += f.for_recipient;
    c += '>';
  }
  // The date follows a ';' after the last clause (RFC 5321 §4.4 Time-stamp-line).
  c += ';';
  fold.next();
  c += f.date;
  return fold.finish();
}

std::string prepend_delivery_headers(std::string_view message, std::string_view return_path,
                                     std::string_view delivered_to) {
  // Accept the sender with or without its angle brackets.
  if (return_path.size() >= 2 && return_path.front() == '<' && return_path.back() == '>')
    return_path = return_path.substr(1, return_path.size() - 2);
  std::string out;
  out.reserve(32 + return_path.size() + delivered_to.size() + message.size());
  out += "Return-Path: <";
  out += return_path;
  out += ">\r\n";
  if (!delivered_to.empty()) {
    out += "Delivered-To: ";
    out += delivered_to;
    out += "\r\n";
  }
  out += message;
  return out;
}

std::size_t count_received(std::string_view message) { return count_fields(message, "Received"); }

}  // namespace mailsim::message
