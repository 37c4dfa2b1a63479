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

#include <iosfwd>
#include <memory>
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

// The bytes of a queued message. They never change once queued, so every
// copy of a QueueEntry (the MTA's own, the spool's, the queue view's) shares
// one immutable buffer instead of copying a kilobyte each; assigning new
// text makes a new buffer. Reads like a const std::string: it converts to
// const std::string& and std::string_view, compares with strings, and
// std::string + MessageBytes concatenates.
class MessageBytes {
 public:
  MessageBytes() = default;
  MessageBytes(std::string bytes)  // NOLINT: implicit, so `entry.message = text` reads naturally
      : bytes_(std::make_shared<const std::string>(std::move(bytes))) {}
  MessageBytes(const char* bytes) : MessageBytes(std::string(bytes)) {}  // NOLINT
  MessageBytes(std::string_view bytes) : MessageBytes(std::string(bytes)) {}  // NOLINT

  // Valid as long as this MessageBytes (or a copy of it) lives.
  const std::string& str() const { return bytes_ ? *bytes_ : empty_string(); }
  operator const std::string&() const { return str(); }  // NOLINT
  operator std::string_view() const { return str(); }    // NOLINT
  std::size_t size() const { return str().size(); }
  bool empty() const { return str().empty(); }
  const char* data() const { return str().data(); }
  // True when both share one buffer (a copy, not equal text typed twice).
  bool shares_buffer_with(const MessageBytes& other) const { return bytes_ && bytes_ == other.bytes_; }

  friend bool operator==(const MessageBytes& a, const MessageBytes& b) { return a.str() == b.str(); }
  friend bool operator==(const MessageBytes& a, std::string_view b) { return a.str() == b; }
  friend bool operator==(const MessageBytes& a, const std::string& b) { return a.str() == b; }
  friend bool operator==(const MessageBytes& a, const char* b) { return a.str() == b; }
  friend std::string operator+(std::string a, const MessageBytes& b) { return a.append(b.str()); }
  friend std::string operator+(const MessageBytes& a, std::string_view b) { return std::string(a.str()).append(b); }
  friend std::ostream& operator<<(std::ostream& out, const MessageBytes& m);

 private:
  static const std::string& empty_string();
  std::shared_ptr<const std::string> bytes_;
};

// Short texts many entries repeat (the reason of a refused connection, the
// client that handed the letters in): copies share one buffer, and the Mta
// hands equal texts the same buffer (Mta::shared_text).
using SharedText = MessageBytes;

struct RecipientStatus {
  std::string address;           // envelope RCPT TO, "user@domain"
  RecipientState state = RecipientState::pending;
  std::string status;            // RFC 3463 enhanced status of the last outcome, e.g. "5.1.1"
  SharedText diagnostic;         // the last reply as text, e.g. "550 5.1.1 <bob@b.example>: no such user"
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
  MessageBytes message;               // RFC 5322 message, CRLF line ends, our Received: on top
  SharedText client;                  // who handed it to us, e.g. "alice-pc [10.0.0.2]" (for the DSN)
  TimePoint arrival = 0;              // when we accepted it
  TimePoint next_attempt = 0;         // when a deferred entry is retried
  int attempts = 0;                   // delivery passes so far
  QueueState state = QueueState::incoming;
  SharedText last_reason;             // why it was last deferred, for the queue view

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
