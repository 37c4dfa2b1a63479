// What an MTA is configured with: who it is, which domains it serves, whom it
// relays for, and its queue's timing. Defaults follow Postfix (postconf(5)),
// so a scenario that says nothing behaves like a stock server; scenarios
// shorten the times to make a lesson fit in a class hour.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "real/mta/services.h"

namespace mailsim::mta {

// How the SMTP client treats STARTTLS on an outbound connection.
enum class TlsPolicy {
  none,           // never STARTTLS (a postcard)
  opportunistic,  // STARTTLS when the server offers it (Postfix "may")
  required,       // STARTTLS or defer the mail (Postfix "encrypt")
};

// Smart host / relay host (the ISP case, Postfix relayhost): all mail that is
// not for a local domain goes to this host instead of the recipients' MX.
struct RelayHost {
  std::string host;             // name (resolved with A, not MX) or address
  std::uint16_t port = 25;      // 587 for submission to an ISP
  std::string auth_user;        // empty: no AUTH
  std::string auth_password;
  TlsPolicy tls = TlsPolicy::opportunistic;
};

struct MtaConfig {
  // Our name: in the greeting, Received: headers, DSNs, and to recognise
  // ourselves in an MX list (mail must not be sent to ourselves).
  std::string hostname = "localhost";
  // Further names and addresses that are "us" (loop detection).
  std::vector<std::string> other_names;
  std::vector<std::string> own_addresses;

  // Domains whose mail ends here in local mailboxes (Postfix mydestination).
  std::vector<std::string> local_domains;
  // Domains we accept from anyone and pass on: we are their backup MX
  // (Postfix relay_domains).
  std::vector<std::string> relay_domains;
  // Clients that may relay to anywhere without AUTH (Postfix mynetworks),
  // CIDR like "10.0.0.0/8" or a single address.
  std::vector<std::string> trusted_networks;
  // Relay mail for anyone to anywhere. A misconfiguration that spammers love;
  // it exists so the open-relay lesson can show why. Never on by default.
  bool open_relay = false;
  // Ask the next hop whether a relayed recipient exists before saying 250
  // (Postfix reject_unverified_recipient): MAIL FROM:<> / RCPT TO / RSET.
  bool verify_relay_recipients = false;
  Duration verify_cache_time = 1 * kHour;

  std::optional<RelayHost> relay_host;
  TlsPolicy outbound_tls = TlsPolicy::opportunistic;
  std::uint16_t smtp_port = 25;  // where MX hosts listen

  // Queue timing (Postfix names and defaults).
  Duration minimal_backoff_time = 300 * kSecond;
  Duration maximal_backoff_time = 4000 * kSecond;
  Duration maximal_queue_lifetime = 5 * kDay;
  Duration bounce_queue_lifetime = 5 * kDay;  // for our own bounces (null sender)
  Duration delay_warning_time = 0;            // 0: no "delayed" DSN (Postfix default)
  // Postfix default_destination_concurrency_limit.
  int destination_concurrency_limit = 20;
  // Deliveries per SMTP connection before it is closed (Postfix
  // smtp_connection_reuse_count_limit is unlimited; we bound it).
  int connection_reuse_limit = 100;
  // How long an idle outbound connection is kept for more mail to the same
  // destination (Postfix smtp_connection_cache_time_limit).
  Duration connection_cache_time = 2 * kSecond;
  // Time a remote SMTP server may take for any one reply (Postfix smtp_*_timeout).
  Duration smtp_reply_timeout = 300 * kSecond;

  // More Received: headers than this means a loop (Postfix hopcount_limit is 50).
  int max_received_headers = 30;
  std::size_t message_size_limit = 10 * 1024 * 1024;

  // Seeds the generator that shuffles MX hosts of equal preference (RFC 5321
  // §5.1) and nothing else: same seed, same order.
  std::uint64_t seed = 1;
};

}  // namespace mailsim::mta
