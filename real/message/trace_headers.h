// Trace fields (RFC 5321 §4.4, RFC 5322 §3.6.7): the `Received:` postmark
// each hop stamps on top of the message, `Return-Path:` and `Delivered-To:`
// added at final delivery, and counting hops for loop detection.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mailsim::message {

// The "with" protocol of a Received field (RFC 3848): SMTP, ESMTP (EHLO was
// used), +S when the session ran over TLS, +A when the client authenticated.
enum class WithProtocol { kSmtp, kEsmtp, kEsmtps, kEsmtpa, kEsmtpsa };

// `extended`: the client said EHLO (not HELO). TLS or AUTH imply ESMTP.
WithProtocol with_protocol(bool extended, bool tls, bool authenticated);
std::string_view to_string(WithProtocol with);  // "ESMTPSA"

// The fields are views: what they name must outlive build_received().
struct ReceivedFields {
  std::string_view helo;        // the name the client gave in EHLO/HELO
  std::string_view rdns;        // reverse DNS name of the client address; empty: "unknown"
  std::string_view ip;          // client address; IPv6 is written "IPv6:..." (RFC 5321 §4.1.3)
  std::string_view by;          // this server's host name
  WithProtocol with = WithProtocol::kEsmtp;
  std::string_view tls_version; // optional: adds "(using TLSv1.3 with cipher ...)" as Postfix does
  std::string_view tls_cipher;
  std::string_view id;          // queue id of the message on this server
  std::string_view for_recipient;  // optional: the one envelope recipient (without <>)
  std::string_view date;        // RFC 5322 date-time (format_date), the time of receipt
};

// "Received: from <helo> (<rdns> [<ip>])\r\n\tby <by> ... with ESMTPS id <id>\r\n
//  \tfor <rcpt>; <date>\r\n" — one field with its final CRLF, folded between
// clauses so no line exceeds 78 characters where a clause allows it, and
// then `rest` (the message the field goes on top of), in one string.
std::string build_received(const ReceivedFields& fields, std::string_view rest = {});

// Adds, at final delivery, "Return-Path: <envelope sender>" (RFC 5321
// §4.4; pass "" for a bounce's null sender, with or without <>) and "Delivered-To: <recipient>" (Postfix's
// convention, also used for loop detection) on top of `message`.
std::string prepend_delivery_headers(std::string_view message, std::string_view return_path,
                                     std::string_view delivered_to);

// How many Received fields the message's header section holds: the hop
// count RFC 5321 §6.3 suggests for loop detection (Postfix stops at 50).
std::size_t count_received(std::string_view message);

}  // namespace mailsim::message
