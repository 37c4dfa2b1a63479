// Trace and delivery header fields (RFC 5321 §4.4, RFC 5322 §3.3, §3.6.7).
#include "real/mta/headers.h"

#include "real/codec/line_ends.h"



#include "real/message/date.h"
#include "real/message/trace_headers.h"
#include "real/mime/mime.h"

namespace mailsim::mta {

std::string format_date(TimePoint t) {
  // Whole seconds, rounding down also before 1970.
  TimePoint secs = t / kSecond - (t % kSecond < 0 ? 1 : 0);
  return message::format_date(secs);
}

std::string_view header_section(std::string_view message) {
  if (message.starts_with("\r\n")) return message.substr(0, 2);
  if (message.starts_with("\n")) return message.substr(0, 1);
  auto pos = message.find("\r\n\r\n");
  auto lf = message.find("\n\n");
  if (pos != std::string_view::npos && (lf == std::string_view::npos || pos + 1 <= lf))
    return message.substr(0, pos + 4);
  if (lf != std::string_view::npos) return message.substr(0, lf + 2);
  return message;
}

int count_received(std::string_view message) {
  return static_cast<int>(message::count_received(message));
}

std::string header_value(std::string_view message, std::string_view name) {
  auto header = mime::Header::parse(header_section(message));
  const auto* v = header.value(name);
  return v ? *v : std::string{};
}

std::string received_field(const ReceivedInfo& i, std::string_view rest) {
  message::ReceivedFields f;
  f.helo = i.helo;
  f.rdns = i.client_name;
  f.ip = i.client_address;
  f.by = i.by;
  f.with = message::WithProtocol::kEsmtp;
  for (auto w : {message::WithProtocol::kSmtp, message::WithProtocol::kEsmtp, message::WithProtocol::kEsmtps,
                 message::WithProtocol::kEsmtpa, message::WithProtocol::kEsmtpsa})
    if (message::to_string(w) == i.with) f.with = w;
  f.tls_version = i.tls_version;
  f.tls_cipher = i.tls_cipher;
  if (f.tls_version.empty() && !i.tls.empty()) {
    std::string_view t = i.tls;
    if (t.starts_with("using ")) t.remove_prefix(6);
    auto sep = t.find(" with cipher ");
    f.tls_version = t.substr(0, sep);
    if (sep != std::string_view::npos) f.tls_cipher = t.substr(sep + 13);
  }
  f.id = i.id;
  f.for_recipient = i.for_recipient;
  const std::string date = format_date(i.when);
  f.date = date;
  return message::build_received(f, rest);
}

std::string with_delivery_fields(std::string_view message, std::string_view sender,
                                 std::string_view recipient) {
  // Drop Return-Path: fields already present at the top of the header: only
  // the final delivery may write one (RFC 5321 §4.4).
  std::string_view rest = message;
  auto header = header_section(message);
  while (!rest.empty() && rest.size() > message.size() - header.size()) {
    auto eol = rest.find('\n');
    std::string_view line = rest.substr(0, eol == std::string_view::npos ? rest.size() : eol + 1);
    bool drop = line.size() >= 12 && mime::iequals(line.substr(0, 12), "Return-Path:");
    if (drop) {
      rest.remove_prefix(line.size());
      // and its continuation lines
      while (!rest.empty() && (rest[0] == ' ' || rest[0] == '\t')) {
        auto e = rest.find('\n');
        rest.remove_prefix(e == std::string_view::npos ? rest.size() : e + 1);
      }
      continue;
    }
    break;  // only fields at the very top; the rest is copied as is
  }
  return message::prepend_delivery_headers(rest, sender, recipient);
}

std::string crlf(std::string_view text) { return codec::to_crlf(text); }

}  // namespace mailsim::mta
