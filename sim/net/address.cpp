// IPv4 parsing and printing (see address.h).
#include "sim/net/address.h"

namespace mailsim::sim {

std::optional<Ipv4> Ipv4::parse(std::string_view text) {
  std::uint32_t value = 0;
  std::size_t i = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (i >= text.size() || text[i] != '.') return std::nullopt;
      ++i;
    }
    const std::size_t start = i;
    unsigned number = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9' && i - start < 3)
      number = number * 10 + static_cast<unsigned>(text[i++] - '0');
    const std::size_t digits = i - start;
    if (digits == 0 || number > 255 || (digits > 1 && text[start] == '0')) return std::nullopt;
    value = (value << 8) | number;
  }
  if (i != text.size()) return std::nullopt;
  return Ipv4{value};
}

std::string Ipv4::str() const {
  return std::to_string(value >> 24) + '.' + std::to_string((value >> 16) & 0xFF) + '.' +
         std::to_string((value >> 8) & 0xFF) + '.' + std::to_string(value & 0xFF);
}

namespace {
std::uint32_t mask_of(int prefix) { return prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix); }
}  // namespace

std::optional<Cidr> Cidr::parse(std::string_view text) {
  const auto slash = text.find('/');
  const auto address = Ipv4::parse(text.substr(0, slash));
  if (!address) return std::nullopt;
  int prefix = 32;
  if (slash != std::string_view::npos) {
    const std::string_view digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 2) return std::nullopt;
    prefix = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return std::nullopt;
      prefix = prefix * 10 + (c - '0');
    }
    if (prefix > 32) return std::nullopt;
  }
  if ((address->value & ~mask_of(prefix)) != 0) return std::nullopt;
  return Cidr{*address, prefix};
}

bool Cidr::contains(Ipv4 address) const { return (address.value & mask_of(prefix)) == base.value; }

std::string Cidr::str() const { return base.str() + '/' + std::to_string(prefix); }

std::string Endpoint::str() const { return address.str() + ':' + std::to_string(port); }

}  // namespace mailsim::sim
