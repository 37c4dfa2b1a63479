// One message in the MTA's queue: the envelope, the message bytes, and the
// delivery status of every recipient. This is what the spool stores and what
// the queue panel of the view shows.
//
// Queue states (Postfix's queues, which a student can watch a letter move
// through):
//   incoming  received and being written to the spool, not yet looked at
//   active    the scheduler is delivering it now
//   deferred  some recipients failed temporarily; waiting for next_attempt
//   delivered every recipient is done and none failed
//   bounced   every recipient is done and at least one failed permanently
//             (a DSN went back to the sender, unless the sender was <>)
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "real/mta/services.h"

namespace mailsim::mta {

using QueueId = std::string;

enum class QueueState { incoming, active, deferred, delivered, bounced };
std::string_view to_string(QueueState s);
std::optional<QueueState> queue_state_from_string(std::string_view s);

enum class RecipientState {
  pending,    // not tried yet
  deferred,   // last attempt failed temporarily (4xx, no connection, DNS trouble)
  delivered,  // a server took responsibility (250) or the local mailbox has it
  bounced,    // failed permanently (5xx) or the queue lifetime ran out
};
std::string_view to_string(RecipientState s);
std::optional<RecipientState> recipient_state_from_string(std::string_view s);

struct RecipientStatus {
  std::string address;           // envelope RCPT TO, "user@domain"
  RecipientState state = RecipientState::pending;
  std::string status;            // RFC 3463 enhanced status of the last outcome, e.g. "5.1.1"
  std::string diagnostic;        // the last reply as text, e.g. "550 5.1.1 <bob@b.example>: no such user"
  std::string remote_mta;        // host that gave the reply ("" for local outcomes)
  bool reported = false;         // a DSN (failure) already covered this recipient
  bool delay_reported = false;   // a delay warning already covered this recipient

  bool done() const { return state == RecipientState::delivered || state == RecipientState::bounced; }
};

// A recipient not tried yet.
inline RecipientStatus pending_recipient(std::string address) {
  RecipientStatus r;
  r.address = std::move(address);
  return r;
}

struct QueueEntry {
  QueueId id;
  std::string sender;                 // envelope MAIL FROM; "" is the null sender (a bounce)
  std::vector<RecipientStatus> recipients;
  std::string message;                // RFC 5322 message, CRLF line ends, our Received: on top
  std::string client;                 // who handed it to us, e.g. "alice-pc [10.0.0.2]" (for the DSN)
  TimePoint arrival = 0;              // when we accepted it
  TimePoint next_attempt = 0;         // when a deferred entry is retried
  int attempts = 0;                   // delivery passes so far
  QueueState state = QueueState::incoming;
  std::string last_reason;            // why it was last deferred, for the queue view

  bool all_done() const;
  bool any_bounced() const;
};

// The spool's serialisation of everything except the message bytes (JSON
// text, one line). `message` is written separately.
std::string envelope_to_json(const QueueEntry& e);
std::string status_to_json(const QueueEntry& e);
// Fill `e` from the two JSON texts; false when malformed.
bool envelope_from_json(std::string_view json, QueueEntry& e);
bool status_from_json(std::string_view json, QueueEntry& e);

}  // namespace mailsim::mta
