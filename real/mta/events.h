// What the MTA tells the world: every change of a message's state is an event
// with a time. The simulator turns them into its trace (the queue panel, the
// retry clock, the return-to-sender animation); `mailsim serve` logs them.
//
// An EventSink is called synchronously at the moment of the change; it must
// not call back into the Mta.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "real/mta/queue_entry.h"

namespace mailsim::mta {

namespace event {

// A message was accepted and is durable in the spool ("queued as <id>").
struct Received {
  QueueId id;
  std::string sender;
  std::vector<std::string> recipients;
  std::string client;  // who handed it over
  std::size_t size = 0;
};
struct StateChanged {
  QueueId id;
  QueueState from;
  QueueState to;
};
// One recipient's status changed (pending -> deferred, deferred -> delivered, ...).
struct RecipientUpdated {
  QueueId id;
  std::string recipient;
  RecipientState state;
  std::string status;      // "2.0.0", "4.4.1", "5.1.1"
  std::string diagnostic;  // the reply or reason, as text
};
// The route chosen for a domain: "local", the MX hosts in the order they will
// be tried, or the relay host.
struct RouteChosen {
  QueueId id;
  std::string domain;
  std::vector<std::string> hosts;
  std::string note;  // e.g. "no MX record: using the domain's address (implicit MX)"
};
// One try at one next hop: connect + SMTP transaction or local delivery.
struct DeliveryAttempt {
  QueueId id;
  std::string host;     // MX host name, or "local"
  std::string address;  // the address connected to ("" for local)
  std::string result;   // "250 2.0.0 Ok: queued as ..." / "connection refused" / ...
};
struct ConnectionReused {
  QueueId id;
  std::string host;
  std::string address;
  int message_number = 0;  // this is the n-th message on the connection
};
struct Deferred {
  QueueId id;
  std::string reason;
};
struct RetryScheduled {
  QueueId id;
  TimePoint at = 0;
  int attempt = 0;  // the attempt that will run then (2 = first retry)
};
struct Delivered {
  QueueId id;
  std::string recipient;
  std::string where;  // "mailbox of bob@beta.example" or "mx.beta.example [192.0.2.5]"
  std::string reply;
};
struct Bounced {
  QueueId id;
  std::string recipient;
  std::string status;
  std::string diagnostic;
};
// A delivery status notification was queued back to the sender.
struct DsnGenerated {
  QueueId original;
  QueueId dsn;
  std::string action;  // "failed" or "delayed"
  std::string to;      // the original envelope sender
};
// The message itself was a bounce (null sender); a failure report about it
// would go nowhere or loop, so it is dropped (RFC 3464 §2, RFC 5321 §6.1).
struct BounceDropped {
  QueueId id;
  std::vector<std::string> recipients;
};
struct LoopDetected {
  QueueId id;
  std::string reason;
};
// SMTP server side decisions (no queue id yet).
struct RelayDenied {
  std::string client;
  std::string recipient;
};
struct RecipientRejected {
  std::string client;
  std::string recipient;
  std::string reply;
};
struct Removed {
  QueueId id;
};

}  // namespace event

using EventPayload =
    std::variant<event::Received, event::StateChanged, event::RecipientUpdated, event::RouteChosen,
                 event::DeliveryAttempt, event::ConnectionReused, event::Deferred, event::RetryScheduled,
                 event::Delivered, event::Bounced, event::DsnGenerated, event::BounceDropped,
                 event::LoopDetected, event::RelayDenied, event::RecipientRejected, event::Removed>;

struct MtaEvent {
  TimePoint at = 0;
  // Hostname of the MTA that reports: a view of its configuration, valid
  // while that Mta lives (an event is built for every queue change, and a
  // copy of the name was one allocation each).
  std::string_view mta;
  EventPayload what;
};

using EventSink = std::function<void(const MtaEvent&)>;

// The index of event type E in EventPayload (the "kind" an EventInterest is asked about).
template <class E, class V = EventPayload>
struct event_kind;
template <class E, class... Ts>
struct event_kind<E, std::variant<Ts...>> {
  static constexpr std::size_t value = [] {
    std::size_t i = 0;
    ((std::is_same_v<E, Ts> ? false : (++i, true)) && ...);
    return i;
  }();
};
template <class E>
inline constexpr std::size_t event_kind_v = event_kind<E>::value;

// Whether the sink wants events of a kind (an EventPayload index) with their
// contents. An event of a kind it does not want still reaches it, so that it
// can count it, but default-constructed: no text is copied for it. An MTA
// reports about eight events per letter, most of them with texts a lean
// consumer (the simulator's benchmark trace) only counts. Empty: all kinds.
using EventInterest = std::function<bool(std::size_t kind)>;

// "deferred", "delivered", ... : the event's kind as a short name.
std::string_view kind_of(const MtaEvent& e);
// One line a student can read, e.g.
// "mail.alpha.example: 4F2A01: deferred: connect to mx.beta.example [10.0.0.9]: connection refused"
std::string describe(const MtaEvent& e);
// The event as one JSON object {"at":..,"mta":..,"kind":..,...} (for JSON Lines logs).
std::string to_json(const MtaEvent& e);

}  // namespace mailsim::mta
