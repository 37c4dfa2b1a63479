// The SMTP envelope (RFC 5321 §2.3.1, §3.3): who the message is from and to,
// as said in MAIL FROM / RCPT TO, plus what the receiving server knew about
// the session (HELO name, client address, TLS, AUTH) for Received: headers
// (RFC 5321 §4.4) and the "with" protocol keyword (RFC 3848).
#pragma once

#include "real/session/session.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mailsim::smtp {

// Who is connected, as the host knows it (the session never resolves names).
struct PeerIdentity {
  std::string address{};   // "192.0.2.7" or "2001:db8::7"; "" if unknown
  std::string hostname{};  // verified reverse DNS name; "" if unknown
};

enum class BodyType { kUnspecified, k7Bit, k8BitMime };  // RFC 6152

struct Envelope {
  // "local@domain" without angle brackets; "" is the null reverse-path <>
  // (bounces, RFC 5321 §4.5.5).
  std::string reverse_path{};
  std::vector<std::string> recipients{};  // accepted forward-paths, in order

  // Filled in by the server session; ignored by the client session.
  std::string helo_name{};            // argument of the last EHLO/HELO
  bool esmtp = false;               // EHLO (true) or HELO (false)
  PeerIdentity peer{};                // as set by the host
  std::optional<TlsInfo> tls{};       // set when the message came over TLS
  std::string authenticated_user{};   // AUTH identity, "" if none
  std::string auth_param{};           // MAIL ... AUTH=<mailbox> (RFC 4954 §5), xtext-decoded
  BodyType body = BodyType::kUnspecified;
  std::optional<std::uint64_t> declared_size{};  // MAIL ... SIZE= (RFC 1870)

  // RFC 3848 "with" keyword for a Received: header: SMTP, ESMTP, ESMTPS,
  // ESMTPA, ESMTPSA.
  std::string with_protocol() const {
    if (!esmtp) return "SMTP";
    std::string p = "ESMTP";
    if (tls) p += 'S';
    if (!authenticated_user.empty()) p += 'A';
    return p;
  }
};

}  // namespace mailsim::smtp
