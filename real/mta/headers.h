// The header lines the MTA reads and writes on a message in transit:
// Received: trace fields (RFC 5321 §4.4, RFC 5322 §3.6.7) — one per hop, like
// postmarks — and the final-delivery fields Return-Path: (RFC 5321 §4.4) and
// Delivered-To:. Messages are in network form (CRLF line ends). The field
// formats are real/message's (trace_headers.h, date.h); this is the MTA's
// view of them, in its own time unit.
#pragma once

#include <string>
#include <string_view>

#include "real/mta/services.h"

namespace mailsim::mta {

// "Mon, 23 Nov 2025 12:49:07 +0000" (RFC 5322 §3.3), in UTC.
std::string format_date(TimePoint t);

// The header section of a message: everything up to and including the
// blank line (or the whole message when there is no body).
std::string_view header_section(std::string_view message);

// Number of Received: fields in the header section (the hop count).
int count_received(std::string_view message);

// Value of the first header field `name` (unfolded), or "".
std::string header_value(std::string_view message, std::string_view name);

// What one hop knew about the client, for its Received: field. Views:
// what they name must outlive received_field().
struct ReceivedInfo {
  std::string_view helo;            // what the client said in EHLO/HELO
  std::string_view client_name;     // reverse DNS name, "" if unknown
  std::string_view client_address;  // "192.0.2.7"
  std::string_view by;              // our hostname
  std::string_view with;            // "ESMTP", "ESMTPS", "ESMTPSA" (RFC 3848)
  std::string_view id;              // our queue id
  std::string_view for_recipient;   // set when there is exactly one recipient
  std::string_view tls_version;     // "TLSv1.3", "" without TLS
  std::string_view tls_cipher;      // "TLS_AES_256_GCM_SHA384"
  // Alternative to the two above: "TLSv1.3 with cipher TLS_AES_..." (an
  // optional leading "using " is ignored).
  std::string_view tls;
  TimePoint when = 0;
};

// The complete field, folded at 78 columns, ending in CRLF:
//   Received: from alice-pc (unknown [10.0.0.2]) by mail.alpha.example with\r\n
//   \tESMTPA id 65F0A1B20001 for <bob@beta.example>;\r\n
//   \tTue, 14 Nov 2023 22:13:20 +0000\r\n
// followed by `rest` (the message it goes on top of), in one string.
std::string received_field(const ReceivedInfo& info, std::string_view rest = {});

// Prepends Return-Path: <sender> and Delivered-To: recipient, dropping any
// Return-Path: that a previous hop should not have added (RFC 5321 §4.4:
// only the final delivery adds it).
std::string with_delivery_fields(std::string_view message, std::string_view sender,
                                 std::string_view recipient);

// Turns bare LF line ends into CRLF (messages built in code).
std::string crlf(std::string_view text);

}  // namespace mailsim::mta
