// RFC 5321 §4.4 trace information; RFC 3848 "with" keywords.
#include "real/message/trace_headers.h"

#include "real/message/headers.h"

#include <vector>

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
// `width`. Clauses themselves are never split.
std::string fold_clauses(const std::vector<std::string>& clauses, std::size_t width) {
  std::string out;
  std::size_t line = 0;
  for (const auto& c : clauses) {
    if (out.empty()) {
      out = c;
      line = c.size();
    } else if (line + 1 + c.size() > width) {
      out += "\r\n\t" + c;
      line = 1 + c.size();  // a tab, counted as one column
    } else {
      out += " " + c;
      line += 1 + c.size();
    }
  }
  return out + "\r\n";
}

}  // namespace

std::string build_received(const ReceivedFields& f) {
  std::string ip = f.ip;
  if (ip.find(':') != std::string::npos && ip.rfind("IPv6:", 0) != 0) ip = "IPv6:" + ip;
  std::vector<std::string> clauses;
  clauses.push_back("Received: from " + (f.helo.empty() ? std::string("unknown") : f.helo) + " (" +
                    (f.rdns.empty() ? std::string("unknown") : f.rdns) + " [" + ip + "])");
  clauses.push_back("by " + f.by);
  if (!f.tls_version.empty()) {
    clauses.push_back("(using " + f.tls_version +
                      (f.tls_cipher.empty() ? std::string{} : " with cipher " + f.tls_cipher) + ")");
  }
  clauses.push_back("with " + std::string(to_string(f.with)));
  if (!f.id.empty()) clauses.push_back("id " + f.id);
  // The date follows a ';' after the last clause (RFC 5321 §4.4 Time-stamp-line).
  if (!f.for_recipient.empty()) clauses.push_back("for <" + f.for_recipient + ">");
  clauses.back() += ";";
  clauses.push_back(f.date);
  return fold_clauses(clauses, 78);
}

std::string prepend_delivery_headers(std::string_view message, std::string_view return_path,
                                     std::string_view delivered_to) {
  // Accept the sender with or without its angle brackets.
  if (return_path.size() >= 2 && return_path.front() == '<' && return_path.back() == '>')
    return_path = return_path.substr(1, return_path.size() - 2);
  std::string out = "Return-Path: <" + std::string(return_path) + ">\r\n";
  if (!delivered_to.empty()) out += "Delivered-To: " + std::string(delivered_to) + "\r\n";
  out += message;
  return out;
}

std::size_t count_received(std::string_view message) { return count_fields(message, "Received"); }

}  // namespace mailsim::message
