// Delivery status notifications — "return to sender" (RFC 3464, carried in
// multipart/report of RFC 6522). A bounce has three parts: a letter a person
// can read, a machine-readable message/delivery-status part (one block per
// recipient: Final-Recipient, Action, Status, Remote-MTA, Diagnostic-Code),
// and the headers of the original message (text/rfc822-headers), so the
// sender recognises which letter came back.
//
// A DSN is sent with the null reverse-path <> (RFC 5321 §4.5.5), so that a
// DSN which cannot be delivered is never answered with another one.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "real/mta/queue_entry.h"

namespace mailsim::mta {

enum class DsnKind {
  failure,  // Action: failed — the message was given up for these recipients
  delay,    // Action: delayed — still trying (a delay warning)
};

struct DsnRequest {
  DsnKind kind = DsnKind::failure;
  std::string reporting_mta;      // our hostname
  QueueId original_id;
  QueueId dsn_id;                 // the queue id the DSN will have (for Message-ID)
  std::string original_sender;    // To: of the DSN
  std::string original_client;    // who gave us the message, for the letter
  TimePoint arrival = 0;          // Arrival-Date
  TimePoint now = 0;              // Date:
  TimePoint retry_until = 0;      // Will-Retry-Until (delay only)
  std::string original_message;   // its header section is quoted
  std::vector<RecipientStatus> recipients;  // the recipients to report on
};

// The complete DSN message (CRLF line ends), ready to queue with sender <>.
std::string build_dsn(const DsnRequest& request);

// A DSN read back (the view's message inspector, and the tests).
struct DsnRecipientReport {
  std::string final_recipient;    // "rfc822; bob@beta.example"
  std::string original_recipient;
  std::string action;             // "failed", "delayed", "delivered", ...
  std::string status;             // "5.1.1"
  std::string remote_mta;         // "dns; mx.beta.example"
  std::string diagnostic_code;    // "smtp; 550 5.1.1 ..."
  std::string last_attempt_date;
  std::string will_retry_until;
};

struct ParsedDsn {
  std::string report_type;        // "delivery-status"
  std::string human_readable;     // the first part's text
  std::string reporting_mta;      // "dns; mail.alpha.example"
  std::string arrival_date;
  std::vector<DsnRecipientReport> recipients;
  std::string original_headers;   // the text/rfc822-headers part (or message/rfc822)
};

// Parses a multipart/report; report-type=delivery-status message. nullopt
// when it is not one (no report part, no recipient block).
std::optional<ParsedDsn> parse_dsn(std::string_view message);

}  // namespace mailsim::mta
