// Who may send mail through this server (the relay question, RFC 5321 §3.6.2
// and §7.1): a post office accepts letters for its own addresses from anyone,
// but forwards letters elsewhere only for its own customers. A server that
// forwards anyone's mail anywhere is an open relay, abused by spammers.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "real/mta/reply.h"

namespace mailsim::mta {

struct RelayQuestion {
  bool authenticated = false;    // the client did SMTP AUTH
  bool trusted_network = false;  // the client's address is in trusted_networks
  bool local_domain = false;     // the recipient's domain is delivered here
  bool relay_domain = false;     // we are backup MX for the recipient's domain
  bool open_relay = false;       // the (dangerous) open_relay setting
};

enum class RelayVerdict {
  local,     // for us: accept (then check the mailbox exists)
  relay,     // for elsewhere, and this client may send there: accept
  denied,    // for elsewhere, and this client may not: 554 5.7.1
};

RelayVerdict relay_verdict(const RelayQuestion& q);

// The RCPT reply for a verdict, recipient known to exist:
// "250 2.1.5 Ok" or "554 5.7.1 <rcpt>: Relay access denied".
Reply relay_reply(RelayVerdict v, std::string_view recipient);

// Replies of the recipient checks, in one place so tests and lessons agree.
Reply reply_recipient_ok();
Reply reply_unknown_user(std::string_view recipient);        // 550 5.1.1
Reply reply_bad_address(std::string_view recipient);         // 501 5.1.3
Reply reply_unverified(std::string_view recipient, const Reply& from_next_hop);  // 550 5.1.1 / 450 4.1.1

// True when `address` (textual IPv4 or IPv6) lies in one of `networks`
// ("10.0.0.0/8", "2001:db8::/32", "127.0.0.1"). Malformed entries never match.
bool in_networks(std::string_view address, const std::vector<std::string>& networks);

}  // namespace mailsim::mta

// Forward declarations (config.h, services.h).
namespace mailsim::mta {
struct MtaConfig;
class LocalDelivery;

// The MAIL FROM and RCPT TO decisions that need nothing but configuration,
// taken from a snapshot so that they can be made on any thread: `mailsim
// serve` answers them on the SMTP connection's own io thread instead of a
// round trip through the MTA thread. The same replies as Mta::check_sender
// and Mta::check_recipient (a unit test compares them case by case); what
// the Mta must see itself — a refusal it records as an event, a recipient it
// verifies at the next hop — is left to it (nullopt).
// Immutable after construction; every const call is thread-safe provided
// LocalDelivery::has_mailbox is (MaildirMailboxes' is: a fixed user table).
class InboundPolicy {
 public:
  // Copies what it needs from `config`; `local` (may be null: no mailboxes)
  // is borrowed and must outlive the policy.
  InboundPolicy(const MtaConfig& config, const LocalDelivery* local);

  // "250 2.1.0 Ok" for a well-formed path or <>; 501 5.1.7 otherwise.
  static Reply check_sender(std::string_view sender);

  // What RCPT TO <recipient> is under this configuration (RFC 5321 §3.6.2):
  // the one set of rules both quick_recipient() and Mta::check_recipient
  // answer from. `verdict` is relay_verdict()'s, for relay_reply().
  enum class RecipientKind { bad_address, relay_denied, local_mailbox, unknown_local_user, verify_first, relay_ok };
  struct RecipientCheck {
    RecipientKind kind;
    RelayVerdict verdict;
  };
  RecipientCheck classify_recipient(bool authenticated, std::string_view client_address,
                                    std::string_view recipient) const;

  // The RCPT reply when the answer is plain: 501 5.1.3 for a malformed
  // address, 250 2.1.5 for an existing local mailbox (or postmaster) and for
  // a relay the client may use that needs no verification. nullopt: ask
  // Mta::check_recipient (relay denied, unknown user, verify probe).
  std::optional<Reply> quick_recipient(bool authenticated, std::string_view client_address,
                                       std::string_view recipient) const;

 private:
  bool is_local_domain(std::string_view domain) const;
  bool is_relay_domain(std::string_view domain) const;

  std::vector<std::string> local_domains_;    // normalized (lower case, no trailing dot)
  std::vector<std::string> relay_domains_;    // normalized
  std::vector<std::string> trusted_networks_;
  bool open_relay_ = false;
  bool verify_relay_recipients_ = false;
  const LocalDelivery* local_ = nullptr;
};

}  // namespace mailsim::mta
