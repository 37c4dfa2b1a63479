// Names, one-line descriptions and JSON for MTA events.
#include "real/mta/events.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <nlohmann/json.hpp>

namespace mailsim::mta {

namespace {

using nlohmann::json;

struct Describer {
  std::string operator()(const event::Received& e) const {
    return fmt::format("{}: from=<{}>, to=<{}>, {} bytes, from {}: queued", e.id, e.sender,
                       fmt::join(e.recipients, ">, <"), e.size, e.client.empty() ? "local" : e.client);
  }
  std::string operator()(const event::StateChanged& e) const {
    return fmt::format("{}: {} -> {}", e.id, to_string(e.from), to_string(e.to));
  }
  std::string operator()(const event::RecipientUpdated& e) const {
    return fmt::format("{}: to=<{}>: {} ({}{}{})", e.id, e.recipient, to_string(e.state), e.status,
                       e.diagnostic.empty() ? "" : " ", e.diagnostic);
  }
  std::string operator()(const event::RouteChosen& e) const {
    return fmt::format("{}: route for {}: {}{}{}", e.id, e.domain, fmt::join(e.hosts, ", "),
                       e.note.empty() ? "" : " — ", e.note);
  }
  std::string operator()(const event::DeliveryAttempt& e) const {
    return fmt::format("{}: attempt via {}{}{}: {}", e.id, e.host, e.address.empty() ? "" : " [",
                       e.address.empty() ? "" : e.address + "]", e.result);
  }
  std::string operator()(const event::ConnectionReused& e) const {
    return fmt::format("{}: reusing the connection to {} [{}] (message {} on it)", e.id, e.host, e.address,
                       e.message_number);
  }
  std::string operator()(const event::Deferred& e) const {
    return fmt::format("{}: deferred: {}", e.id, e.reason);
  }
  std::string operator()(const event::RetryScheduled& e) const {
    return fmt::format("{}: attempt {} scheduled at t={:.3f}s", e.id, e.attempt,
                       static_cast<double>(e.at) / kSecond);
  }
  std::string operator()(const event::Delivered& e) const {
    return fmt::format("{}: to=<{}>: delivered to {}: {}", e.id, e.recipient, e.where, e.reply);
  }
  std::string operator()(const event::Bounced& e) const {
    return fmt::format("{}: to=<{}>: bounced ({}): {}", e.id, e.recipient, e.status, e.diagnostic);
  }
  std::string operator()(const event::DsnGenerated& e) const {
    return fmt::format("{}: sender notification ({}) queued as {} to <{}>", e.original, e.action, e.dsn,
                       e.to);
  }
  std::string operator()(const event::BounceDropped& e) const {
    return fmt::format("{}: undeliverable bounce to <{}> dropped (never bounce a bounce)", e.id,
                       fmt::join(e.recipients, ">, <"));
  }
  std::string operator()(const event::LoopDetected& e) const {
    return fmt::format("{}: mail loop: {}", e.id, e.reason);
  }
  std::string operator()(const event::RelayDenied& e) const {
    return fmt::format("relay denied: client {} may not send to <{}> through this server", e.client,
                       e.recipient);
  }
  std::string operator()(const event::RecipientRejected& e) const {
    return fmt::format("recipient <{}> from {} rejected: {}", e.recipient, e.client, e.reply);
  }
  std::string operator()(const event::Removed& e) const {
    return fmt::format("{}: removed from the queue", e.id);
  }
};

struct Jsoner {
  json operator()(const event::Received& e) const {
    return {{"id", e.id}, {"sender", e.sender}, {"recipients", e.recipients}, {"client", e.client},
            {"size", e.size}};
  }
  json operator()(const event::StateChanged& e) const {
    return {{"id", e.id}, {"from", to_string(e.from)}, {"to", to_string(e.to)}};
  }
  json operator()(const event::RecipientUpdated& e) const {
    return {{"id", e.id}, {"recipient", e.recipient}, {"state", to_string(e.state)},
            {"status", e.status}, {"diagnostic", e.diagnostic}};
  }
  json operator()(const event::RouteChosen& e) const {
    return {{"id", e.id}, {"domain", e.domain}, {"hosts", e.hosts}, {"note", e.note}};
  }
  json operator()(const event::DeliveryAttempt& e) const {
    return {{"id", e.id}, {"host", e.host}, {"address", e.address}, {"result", e.result}};
  }
  json operator()(const event::ConnectionReused& e) const {
    return {{"id", e.id}, {"host", e.host}, {"address", e.address}, {"message_number", e.message_number}};
  }
  json operator()(const event::Deferred& e) const { return {{"id", e.id}, {"reason", e.reason}}; }
  json operator()(const event::RetryScheduled& e) const {
    return {{"id", e.id}, {"retry_at", e.at}, {"attempt", e.attempt}};
  }
  json operator()(const event::Delivered& e) const {
    return {{"id", e.id}, {"recipient", e.recipient}, {"where", e.where}, {"reply", e.reply}};
  }
  json operator()(const event::Bounced& e) const {
    return {{"id", e.id}, {"recipient", e.recipient}, {"status", e.status}, {"diagnostic", e.diagnostic}};
  }
  json operator()(const event::DsnGenerated& e) const {
    return {{"id", e.original}, {"dsn", e.dsn}, {"action", e.action}, {"to", e.to}};
  }
  json operator()(const event::BounceDropped& e) const {
    return {{"id", e.id}, {"recipients", e.recipients}};
  }
  json operator()(const event::LoopDetected& e) const { return {{"id", e.id}, {"reason", e.reason}}; }
  json operator()(const event::RelayDenied& e) const {
    return {{"client", e.client}, {"recipient", e.recipient}};
  }
  json operator()(const event::RecipientRejected& e) const {
    return {{"client", e.client}, {"recipient", e.recipient}, {"reply", e.reply}};
  }
  json operator()(const event::Removed& e) const { return {{"id", e.id}}; }
};

}  // namespace

std::string_view kind_of(const MtaEvent& e) {
  static constexpr std::string_view kNames[] = {
      "received",  "state_changed",  "recipient_updated", "route_chosen",  "delivery_attempt",
      "connection_reused", "deferred", "retry_scheduled", "delivered", "bounced", "dsn_generated",
      "bounce_dropped", "loop_detected", "relay_denied", "recipient_rejected", "removed"};
  static_assert(std::size(kNames) == std::variant_size_v<EventPayload>);
  return kNames[e.what.index()];
}

std::string describe(const MtaEvent& e) {
  return fmt::format("{}: {}", e.mta, std::visit(Describer{}, e.what));
}

std::string to_json(const MtaEvent& e) {
  json j = std::visit(Jsoner{}, e.what);
  j["at"] = e.at;
  j["mta"] = e.mta;
  j["kind"] = kind_of(e);
  // Replies from other servers may not be UTF-8: U+FFFD, not an exception.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace mailsim::mta
