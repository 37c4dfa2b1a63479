// IPv4 addresses, networks (CIDR, RFC 4632) and transport endpoints of the
// simulated network. Scenarios use 10.0.0.0/8 and friends; nothing here
// touches a real network.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mailsim::sim {

struct Ipv4 {
  std::uint32_t value = 0;  // host byte order: 10.0.0.1 == 0x0A000001

  // Dotted quad, exactly four decimal parts 0..255 without leading zeros.
  static std::optional<Ipv4> parse(std::string_view text);
  std::string str() const;
  friend auto operator<=>(Ipv4, Ipv4) = default;
};

struct Cidr {
  Ipv4 base;
  int prefix = 32;  // 0..32

  // "10.0.0.0/24" or a bare address (a /32). Host bits must be zero.
  static std::optional<Cidr> parse(std::string_view text);
  bool contains(Ipv4 address) const;
  std::string str() const;
};

struct Endpoint {
  Ipv4 address;
  std::uint16_t port = 0;
  std::string str() const;  // "10.0.0.1:25"
  friend auto operator<=>(const Endpoint&, const Endpoint&) = default;
};

// The first ephemeral port (RFC 6335 §6: 49152-65535) clients connect from.
inline constexpr std::uint16_t kFirstEphemeralPort = 49152;

}  // namespace mailsim::sim
