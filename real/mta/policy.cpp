// Relay policy and recipient-check replies (RFC 5321 §3.6.2, §7.1; RFC 3463).
#include "real/mta/policy.h"

#include "real/mta/address.h"
#include "real/mta/config.h"
#include "real/mta/services.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <optional>

namespace mailsim::mta {

RelayVerdict relay_verdict(const RelayQuestion& q) {
  if (q.local_domain) return RelayVerdict::local;
  // relay_domains are accepted from anyone, like local ones: the Internet
  // sends them to us because DNS names us as their (backup) MX.
  if (q.relay_domain || q.authenticated || q.trusted_network || q.open_relay) return RelayVerdict::relay;
  return RelayVerdict::denied;
}

Reply relay_reply(RelayVerdict v, std::string_view recipient) {
  if (v == RelayVerdict::denied)
    return make_reply(554, "5.7.1", "<" + std::string(recipient) + ">: Relay access denied");
  return reply_recipient_ok();
}

Reply reply_recipient_ok() { return make_reply(250, "2.1.5", "Ok"); }

Reply reply_unknown_user(std::string_view recipient) {
  return make_reply(550, "5.1.1",
                    "<" + std::string(recipient) + ">: Recipient address rejected: User unknown in local recipient table");
}

Reply reply_bad_address(std::string_view recipient) {
  return make_reply(501, "5.1.3", "<" + std::string(recipient) + ">: Bad recipient address syntax");
}

Reply reply_unverified(std::string_view recipient, const Reply& from_next_hop) {
  std::string why = from_next_hop.code ? from_next_hop.to_string() : std::string("no answer");
  if (from_next_hop.permanent())
    return make_reply(550, "5.1.1",
                      "<" + std::string(recipient) + ">: Recipient address rejected: undeliverable address: " + why);
  return make_reply(450, "4.1.1",
                    "<" + std::string(recipient) + ">: Recipient address rejected: unverified address: " + why);
}

namespace {

struct IpBytes {
  std::array<unsigned char, 16> bytes{};
  int bits = 0;  // 32 or 128
};

std::optional<IpBytes> parse_ip(std::string_view text) {
  std::string s(text);
  IpBytes ip;
  if (::inet_pton(AF_INET, s.c_str(), ip.bytes.data()) == 1) {
    ip.bits = 32;
    return ip;
  }
  if (::inet_pton(AF_INET6, s.c_str(), ip.bytes.data()) == 1) {
    ip.bits = 128;
    // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is the IPv4 address.
    static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(ip.bytes.data(), kMapped, 12) == 0) {
      std::memmove(ip.bytes.data(), ip.bytes.data() + 12, 4);
      ip.bits = 32;
    }
    return ip;
  }
  return std::nullopt;
}

bool in_network(const IpBytes& addr, std::string_view network) {
  auto slash = network.find('/');
  auto net = parse_ip(network.substr(0, slash));
  if (!net || net->bits != addr.bits) return false;
  int prefix = net->bits;
  if (slash != std::string_view::npos) {
    auto p = network.substr(slash + 1);
    auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), prefix);
    if (ec != std::errc{} || ptr != p.data() + p.size() || prefix < 0 || prefix > net->bits) return false;
  }
  for (int i = 0; i < prefix; ++i) {
    int byte = i / 8, bit = 7 - i % 8;
    if (((addr.bytes[byte] >> bit) & 1) != ((net->bytes[byte] >> bit) & 1)) return false;
  }
  return true;
}

}  // namespace

bool in_networks(std::string_view address, const std::vector<std::string>& networks) {
  // Accept "[10.0.0.1]" as written in Received: headers too.
  if (address.size() >= 2 && address.front() == '[' && address.back() == ']')
    address = address.substr(1, address.size() - 2);
  auto addr = parse_ip(address);
  if (!addr) return false;
  for (const auto& n : networks)
    if (in_network(*addr, n)) return true;
  return false;
}

// ---- InboundPolicy ------------------------------------------------------------------

InboundPolicy::InboundPolicy(const MtaConfig& config, const LocalDelivery* local)
    : trusted_networks_(config.trusted_networks),
      open_relay_(config.open_relay),
      verify_relay_recipients_(config.verify_relay_recipients),
      local_(local) {
  for (const auto& d : config.local_domains) local_domains_.push_back(normalize_domain(d));
  for (const auto& d : config.relay_domains) relay_domains_.push_back(normalize_domain(d));
}

Reply InboundPolicy::check_sender(std::string_view sender) {
  if (!sender.empty() && !parse_mailbox(sender))
    return make_reply(501, "5.1.7", "<" + std::string(sender) + ">: Bad sender address syntax");
  return make_reply(250, "2.1.0", "Ok");
}

bool InboundPolicy::is_local_domain(std::string_view domain) const {
  return std::any_of(local_domains_.begin(), local_domains_.end(),
                     [&](const std::string& l) { return same_domain(l, domain); });
}

bool InboundPolicy::is_relay_domain(std::string_view domain) const {
  return std::any_of(relay_domains_.begin(), relay_domains_.end(),
                     [&](const std::string& l) { return same_domain(l, domain); });
}

InboundPolicy::RecipientCheck InboundPolicy::classify_recipient(bool authenticated, std::string_view client_address,
                                                                std::string_view recipient) const {
  const auto addr = parse_mailbox(recipient);
  if (!addr) return {RecipientKind::bad_address, RelayVerdict::denied};
  RelayQuestion q;
  q.authenticated = authenticated;
  q.trusted_network = in_networks(client_address, trusted_networks_);
  q.local_domain = is_local_domain(addr->domain);
  q.relay_domain = is_relay_domain(addr->domain);
  q.open_relay = open_relay_;
  const auto verdict = relay_verdict(q);
  if (verdict == RelayVerdict::denied) return {RecipientKind::relay_denied, verdict};
  if (verdict == RelayVerdict::local) {
    const bool known = is_postmaster(addr->local) || (local_ && local_->has_mailbox(addr->local, addr->domain));
    return {known ? RecipientKind::local_mailbox : RecipientKind::unknown_local_user, verdict};
  }
  if (q.relay_domain && verify_relay_recipients_) return {RecipientKind::verify_first, verdict};
  return {RecipientKind::relay_ok, verdict};
}

std::optional<Reply> InboundPolicy::quick_recipient(bool authenticated, std::string_view client_address,
                                                    std::string_view recipient) const {
  switch (classify_recipient(authenticated, client_address, recipient).kind) {
    case RecipientKind::bad_address:
      return reply_bad_address(recipient);
    case RecipientKind::local_mailbox:
    case RecipientKind::relay_ok:
      return reply_recipient_ok();
    default:
      return std::nullopt;  // the Mta records a refusal or runs the probe
  }
}

}  // namespace mailsim::mta
