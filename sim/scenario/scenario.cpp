// Names of scenario enums and variants (see scenario.h).
#include "sim/scenario/scenario.h"

namespace mailsim::sim {

std::string_view toggle_name(Toggle t) {
  switch (t) {
    case Toggle::kOff: return "off";
    case Toggle::kOptional: return "optional";
    case Toggle::kRequired: return "required";
  }
  return "?";
}

std::string_view role_name(HostRole r) {
  switch (r) {
    case HostRole::kClient: return "client";
    case HostRole::kMta: return "mta";
    case HostRole::kRelay: return "relay";
    case HostRole::kDns: return "dns";
    case HostRole::kSpammer: return "spammer";
    case HostRole::kEavesdropper: return "eavesdropper";
    case HostRole::kRouter: return "router";
  }
  return "?";
}

const HostSpec* Scenario::find_host(std::string_view name) const {
  for (const auto& h : hosts)
    if (h.name == name) return &h;
  return nullptr;
}

std::string_view action_name(const Action& action) {
  struct Visitor {
    std::string_view operator()(const SendAction&) const { return "send"; }
    std::string_view operator()(const HostAction& a) const { return a.up ? "up" : "down"; }
    std::string_view operator()(const LinkAction& a) const { return a.up ? "link_up" : "link_down"; }
    std::string_view operator()(const PortAction& a) const { return a.up ? "port_up" : "port_down"; }
    std::string_view operator()(const FetchAction&) const { return "fetch"; }
    std::string_view operator()(const SpamAction&) const { return "spam"; }
    std::string_view operator()(const NoteAction&) const { return "note"; }
  };
  return std::visit(Visitor{}, action);
}

std::string_view expectation_name(const Expectation& e) {
  struct Visitor {
    std::string_view operator()(const ExpectDelivered&) const { return "delivered"; }
    std::string_view operator()(const ExpectNotDelivered&) const { return "not_delivered"; }
    std::string_view operator()(const ExpectBounced&) const { return "bounced"; }
    std::string_view operator()(const ExpectDeferred&) const { return "deferred"; }
    std::string_view operator()(const ExpectRejected&) const { return "rejected"; }
    std::string_view operator()(const ExpectEavesdropper&) const { return "eavesdropper"; }
    std::string_view operator()(const ExpectMailbox&) const { return "mailbox"; }
  };
  return std::visit(Visitor{}, e);
}

}  // namespace mailsim::sim
