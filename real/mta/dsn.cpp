// Building and reading DSNs (RFC 3464, RFC 6522 multipart/report).
#include "real/mta/dsn.h"

#include <fmt/format.h>

#include "real/mime/mime.h"
#include "real/mta/headers.h"

namespace mailsim::mta {

namespace {

// The letter a person reads. It says what happened in plain words, what the
// other server answered, and what the sender can do about it.
std::string human_part(const DsnRequest& r) {
  std::string t;
  t += "This is the mail system at host " + r.reporting_mta + ".\n\n";
  if (r.kind == DsnKind::failure) {
    t += "I'm sorry to have to tell you that your message could not be delivered\n"
         "to one or more recipients. It is attached below.\n\n"
         "For each address, the reason is given, as reported by the mail server\n"
         "that refused it (or by this server, when it could not find one).\n\n"
         "If you need help, forward this message to your postmaster. Please\n"
         "include this problem report. You can delete your own text from the\n"
         "attached returned message.\n\n";
  } else {
    t += "####################################################################\n"
         "# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #\n"
         "####################################################################\n\n"
         "Your message could not be delivered yet to one or more recipients.\n"
         "The mail system keeps it and will go on trying until " +
         format_date(r.retry_until) +
         ".\nYou will get another message if it has to give up.\n\n";
  }
  t += "                   The " + r.reporting_mta + " program\n\n";
  for (const auto& rc : r.recipients) {
    t += "<" + rc.address + ">: ";
    if (rc.status == "4.4.7")
      t += "delivery time expired: the message waited in the queue as long as\n"
           "    this server keeps mail, and it never got through. The last error was:\n    ";
    if (!rc.remote_mta.empty())
      t += "host " + rc.remote_mta + " said: " + rc.diagnostic + "\n";
    else
      t += rc.diagnostic + "\n";
  }
  return crlf(t);
}

std::string diagnostic_code(const RecipientStatus& rc) {
  // "smtp" when a remote SMTP server said it (RFC 3464 §2.3.6); otherwise the
  // reason is ours, and we say so with a private type.
  return (rc.remote_mta.empty() ? "X-Mailsim; " : "smtp; ") + rc.diagnostic;
}

std::string delivery_status_part(const DsnRequest& r) {
  std::string t;
  t += "Reporting-MTA: dns; " + r.reporting_mta + "\r\n";
  t += "X-Mailsim-Queue-ID: " + r.original_id + "\r\n";
  t += "X-Mailsim-Sender: rfc822; " + r.original_sender + "\r\n";
  t += "Arrival-Date: " + format_date(r.arrival) + "\r\n";
  for (const auto& rc : r.recipients) {
    t += "\r\n";
    t += "Final-Recipient: rfc822; " + rc.address + "\r\n";
    t += "Original-Recipient: rfc822; " + rc.address + "\r\n";
    t += std::string("Action: ") + (r.kind == DsnKind::failure ? "failed" : "delayed") + "\r\n";
    std::string status = rc.status;
    if (status.empty()) status = r.kind == DsnKind::failure ? "5.0.0" : "4.0.0";
    t += "Status: " + status + "\r\n";
    if (!rc.remote_mta.empty()) t += "Remote-MTA: dns; " + rc.remote_mta + "\r\n";
    if (!rc.diagnostic.empty()) t += "Diagnostic-Code: " + diagnostic_code(rc) + "\r\n";
    t += "Last-Attempt-Date: " + format_date(r.now) + "\r\n";
    if (r.kind == DsnKind::delay) t += "Will-Retry-Until: " + format_date(r.retry_until) + "\r\n";
  }
  return t;
}

}  // namespace

std::string build_dsn(const DsnRequest& r) {
  const std::string boundary = r.original_id + "." + std::to_string(r.now / kSecond) + "/" + r.reporting_mta;
  const bool failure = r.kind == DsnKind::failure;
  std::string m;
  m += "From: Mail Delivery System <MAILER-DAEMON@" + r.reporting_mta + ">\r\n";
  m += "To: <" + r.original_sender + ">\r\n";
  m += std::string("Subject: ") +
       (failure ? "Undelivered Mail Returned to Sender" : "Delayed Mail (still being retried)") + "\r\n";
  m += "Date: " + format_date(r.now) + "\r\n";
  m += "Message-ID: <" + r.dsn_id + "@" + r.reporting_mta + ">\r\n";
  m += "Auto-Submitted: auto-replied\r\n";  // RFC 3834: no vacation replies to this
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: multipart/report; report-type=delivery-status;\r\n";
  m += "\tboundary=\"" + boundary + "\"\r\n";
  m += "Content-Transfer-Encoding: 7bit\r\n";
  m += "\r\n";
  m += "This is a MIME-encapsulated message.\r\n\r\n";

  m += "--" + boundary + "\r\n";
  m += "Content-Description: Notification\r\n";
  m += "Content-Type: text/plain; charset=us-ascii\r\n\r\n";
  m += human_part(r);
  m += "\r\n--" + boundary + "\r\n";
  m += std::string("Content-Description: ") + (failure ? "Delivery report" : "Delay report") + "\r\n";
  m += "Content-Type: message/delivery-status\r\n\r\n";
  m += delivery_status_part(r);
  m += "\r\n--" + boundary + "\r\n";
  m += "Content-Description: Undelivered Message Headers\r\n";
  m += "Content-Type: text/rfc822-headers\r\n\r\n";
  std::string headers(header_section(r.original_message));
  // The part ends where the next delimiter starts; the blank line that ended
  // the original header would become part of the delimiter, so drop it.
  while (headers.ends_with("\r\n\r\n")) headers.resize(headers.size() - 2);
  m += crlf(headers);
  if (!m.ends_with("\r\n")) m += "\r\n";
  m += "\r\n--" + boundary + "--\r\n";
  return m;
}

namespace {

// Splits a delivery-status body into blocks separated by blank lines.
std::vector<std::string_view> blocks(std::string_view body) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (start < body.size()) {
    // skip blank lines
    while (start < body.size() && (body[start] == '\r' || body[start] == '\n')) ++start;
    if (start >= body.size()) break;
    std::size_t end = start;
    for (;;) {
      auto nl = body.find('\n', end);
      if (nl == std::string_view::npos) {
        end = body.size();
        break;
      }
      end = nl + 1;
      if (end >= body.size() || body[end] == '\n' || body.substr(end).starts_with("\r\n")) break;
    }
    out.push_back(body.substr(start, end - start));
    start = end;
  }
  return out;
}

std::string field(const mime::Header& h, std::string_view name) {
  const auto* v = h.value(name);
  return v ? *v : std::string{};
}

}  // namespace

std::optional<ParsedDsn> parse_dsn(std::string_view message) {
  auto root = mime::parse_message(message);
  if (root.content_type.type != "multipart" || root.content_type.subtype != "report") return std::nullopt;
  ParsedDsn dsn;
  if (const auto* rt = root.content_type.param("report-type")) dsn.report_type = *rt;
  bool have_status = false;
  for (const auto& part : root.parts) {
    const auto& ct = part.content_type;
    if (ct.type == "message" && ct.subtype == "delivery-status") {
      auto bs = blocks(part.body_text(message));
      if (bs.empty()) return std::nullopt;
      auto per_message = mime::Header::parse(bs[0]);
      dsn.reporting_mta = field(per_message, "Reporting-MTA");
      dsn.arrival_date = field(per_message, "Arrival-Date");
      for (std::size_t i = 1; i < bs.size(); ++i) {
        auto h = mime::Header::parse(bs[i]);
        DsnRecipientReport r;
        r.final_recipient = field(h, "Final-Recipient");
        r.original_recipient = field(h, "Original-Recipient");
        r.action = field(h, "Action");
        r.status = field(h, "Status");
        r.remote_mta = field(h, "Remote-MTA");
        r.diagnostic_code = field(h, "Diagnostic-Code");
        r.last_attempt_date = field(h, "Last-Attempt-Date");
        r.will_retry_until = field(h, "Will-Retry-Until");
        dsn.recipients.push_back(std::move(r));
      }
      have_status = !dsn.recipients.empty();
    } else if ((ct.type == "text" && ct.subtype == "rfc822-headers") ||
               (ct.type == "message" && ct.subtype == "rfc822")) {
      dsn.original_headers = std::string(part.body_text(message));
    } else if (ct.type == "text" && dsn.human_readable.empty()) {
      dsn.human_readable = std::string(part.body_text(message));
    }
  }
  if (!have_status) return std::nullopt;
  return dsn;
}

}  // namespace mailsim::mta
