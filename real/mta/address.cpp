// Envelope address helpers (RFC 5321 §4.1.2).
#include "real/mta/address.h"

#include "real/codec/ascii.h"


namespace mailsim::mta {

namespace {

std::string_view strip_brackets(std::string_view s) {
  if (s.size() >= 2 && s.front() == '<' && s.back() == '>') s = s.substr(1, s.size() - 2);
  return s;
}
}  // namespace

std::string normalize_domain(std::string_view domain) {
  while (!domain.empty() && domain.back() == '.') domain.remove_suffix(1);
  return codec::to_lower(domain);
}

bool same_domain(std::string_view a, std::string_view b) {
  while (!a.empty() && a.back() == '.') a.remove_suffix(1);
  while (!b.empty() && b.back() == '.') b.remove_suffix(1);
  return codec::iequals(a, b);
}

std::optional<MailboxAddress> parse_mailbox(std::string_view text) {
  text = strip_brackets(text);
  // The last '@' separates the domain: a quoted local part may contain '@'.
  auto at = text.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == text.size()) return std::nullopt;
  MailboxAddress a{std::string(text.substr(0, at)), normalize_domain(text.substr(at + 1))};
  if (a.domain.empty()) return std::nullopt;
  return a;
}

std::string domain_of(std::string_view address) {
  auto a = parse_mailbox(address);
  return a ? a->domain : std::string{};
}

std::string local_part_of(std::string_view address) {
  auto a = parse_mailbox(address);
  return a ? a->local : std::string(strip_brackets(address));
}

bool iequals(std::string_view a, std::string_view b) { return codec::iequals(a, b); }

bool is_postmaster(std::string_view local_part) { return iequals(local_part, "postmaster"); }

}  // namespace mailsim::mta
