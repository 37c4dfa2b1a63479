// Everything the classroom view needs to know about a recorded run, worked out
// once when the trace is loaded: the connections and their dialogues, the
// letters carried on them, every packet as a "flight" along the roads, the
// timeline markers, the points a user can step to, and the pacing that turns
// a run of milliseconds and hours into something a class can watch.
//
// A TraceIndex is immutable after construction; the scene at any moment is a
// pure function of it and a Cursor (scene.h), which is why stepping back is
// free. It owns its copy of the events and the world.
#pragma once

#include "sim/trace/event.h"
#include "ui/model/world.h"

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mailsim::ui {

using sim::ConnId;
using sim::TraceEvent;

// One line of a protocol dialogue, as the side that sent it recorded it.
struct ConvLine {
  std::size_t event = 0;  // the command or reply event
  Time time = 0;
  bool from_client = true;
  std::string text;       // the line without CRLF; a multi-line reply joined by "\n"
  int code = 0;           // replies: SMTP code (POP3: 1 = +OK, 0 = -ERR)
};

// A "Received:" trace header (RFC 5321 §4.4), read as a postmark.
struct Postmark {
  std::string by;     // the office that stamped it
  std::string from;   // where the letter came from, as that office saw it
  std::string with;   // ESMTP, ESMTPS, ESMTPSA, ...
  std::string date;   // after the ';'
  std::string raw;    // the whole unfolded field
};

// A message as it crossed one SMTP connection: the envelope (MAIL FROM,
// RCPT TO) and the content (headers and body), dot-unstuffed.
struct Transfer {
  ConnId conn = 0;
  std::size_t end_event = 0;  // the event after which the whole content had been sent
  Time start = 0, end = 0;    // first and last content bytes
  std::string from_host, to_host;
  std::string mail_from;
  std::vector<std::string> rcpt_to;
  std::string content;        // header section + blank line + body
  std::string message_id, subject;
  std::vector<Postmark> postmarks;  // top (newest) first, as in the header
  bool tls = false;           // the content travelled encrypted
  bool spam = false, bounce = false;
};

struct Connection {
  ConnId id = 0;
  std::string client, server;           // host names
  std::optional<std::size_t> client_host, server_host;  // world indices
  std::uint16_t port = 0;
  std::string protocol;                 // "smtp" | "pop3" | "imap" | ""
  Time start = 0;
  std::size_t first_event = 0;
  Time end = sim::kNever;               // closed, reset, refused or timed out
  std::size_t end_event = 0;
  std::string outcome;                  // "refused" | "timeout" | "reset" | "closed" | "" (open to the end)
  std::optional<std::size_t> tls_event; // the client's successful TLS handshake
  std::string auth_user;                // who logged in, if anyone
  bool spam = false, bounce = false;
  std::vector<ConvLine> lines;
  std::vector<std::size_t> data_events; // plaintext both ways (raw bytes view)
  std::vector<std::size_t> transfers;   // indices into TraceIndex::transfers()
};

enum class FlightKind {
  kKnock,    // SYN: asking for a connection
  kRefusal,  // RST: the door stays shut
  kLine,     // a piece of the dialogue
  kLetter,   // the message itself (SMTP DATA, POP3 RETR, IMAP FETCH)
};

// One packet travelling along its route.
struct Flight {
  std::size_t event = 0;
  Time start = 0, end = 0;
  ConnId conn = 0;
  std::vector<std::size_t> path;  // world host indices, sender first
  std::vector<Time> leg_end;      // when it reaches path[i+1] (size path.size()-1)
  FlightKind kind = FlightKind::kLine;
  bool sealed = false;  // TLS record: a sealed envelope; else a postcard
  bool lost = false;
  bool spam = false, bounce = false;
  bool from_client = true;
  std::size_t bytes = 0;
};

enum class MarkerKind { kSent, kDeferred, kRetried, kDelivered, kBounced, kDown, kUp, kRejected };
inline constexpr int kMarkerKindCount = static_cast<int>(MarkerKind::kRejected) + 1;

struct Marker {
  MarkerKind kind = MarkerKind::kSent;
  Time time = 0;
  std::size_t event = 0;
  std::string host;
};

// One letter in one office's queue (a queue id at a host), as the queue
// events tell it; `message_id` when a delivery or transfer says which letter.
struct QueueEntryKey {
  std::string host, queue_id;
  std::optional<std::size_t> host_index;  // in World::hosts
  std::string message_id;
};

// One queue or retry event, worked out once so the scene need not look
// anything up per frame.
struct QueueStep {
  std::size_t event = 0;  // the queue or retry event
  std::size_t entry = 0;  // index into TraceIndex::queue_entries()
  // A "deferred" queue event: when the retry the MTA scheduled at the same
  // instant is due (the retry event that follows it), 0 when none follows.
  // The deferral and its schedule are one decision recorded as two events;
  // a cursor between them must still show when the next try is.
  Time retry_at = 0;
};

// A DNS query and, once it came, its answer.
struct DnsLookup {
  std::size_t query_event = 0;
  std::optional<std::size_t> answer_event;
};

class TraceIndex {
 public:
  TraceIndex(World world, std::vector<TraceEvent> events);

  const World& world() const { return world_; }
  const std::vector<TraceEvent>& events() const { return events_; }
  // The time of the last event (0 for an empty trace), and of the last flight's arrival.
  Time end_time() const { return end_time_; }

  const std::vector<Connection>& connections() const { return connections_; }
  const Connection* connection(ConnId id) const;
  const std::vector<Transfer>& transfers() const { return transfers_; }
  // Transfers of one message (by Message-ID), in time order.
  std::vector<const Transfer*> transfers_of(const std::string& message_id) const;
  // Every Message-ID seen, in order of first appearance.
  const std::vector<std::string>& message_ids() const { return message_ids_; }
  // The message a queue entry holds, when a delivery or transfer tells.
  std::string message_of_queue_entry(const std::string& host, const std::string& queue_id) const;

  const std::vector<Flight>& flights() const { return flights_; }  // by start time
  Time longest_flight() const { return longest_flight_; }
  const std::vector<Marker>& markers() const { return markers_; }
  const std::vector<DnsLookup>& dns_lookups() const { return dns_; }   // by query event
  const std::vector<std::size_t>& captures() const { return captures_; }  // capture events
  const std::vector<std::size_t>& queue_events() const { return queue_events_; }  // queue + retry
  const std::vector<QueueStep>& queue_steps() const { return queue_steps_; }         // one per queue_events()
  const std::vector<QueueEntryKey>& queue_entries() const { return queue_entries_; } // by first appearance
  const std::vector<std::size_t>& mailbox_events() const { return mailbox_events_; }
  const std::vector<std::size_t>& outage_events() const { return outage_events_; }
  const std::vector<std::size_t>& bounce_events() const { return bounce_events_; }
  const std::vector<std::size_t>& notes() const { return notes_; }

  // Events a user steps through (the story: not packets, raw data or the
  // second copy of a dialogue line), hops (a letter leaves or arrives) and
  // retries (a deferred letter is tried again), as event indices.
  const std::vector<std::size_t>& steps() const { return steps_; }
  const std::vector<std::size_t>& hops() const { return hops_; }
  const std::vector<std::size_t>& retries() const { return retries_; }

  // Number of events with time <= t.
  std::size_t events_until(Time t) const;

  // Passwords that crossed a road in the clear, found in the captures (AUTH
  // PLAIN/LOGIN, POP3 PASS, IMAP LOGIN): capture event -> the password text.
  const std::map<std::size_t, std::string>& leaked_passwords() const { return leaked_; }

 private:
  void index_connections();
  void index_transfers();
  void index_flights();
  void index_rest();
  void index_queue();

  World world_;
  std::vector<TraceEvent> events_;
  Time end_time_ = 0;
  std::vector<Connection> connections_;
  std::map<ConnId, std::size_t> conn_pos_;
  std::vector<Transfer> transfers_;
  std::vector<std::string> message_ids_;
  std::map<std::pair<std::string, std::string>, std::string> queue_message_;
  std::vector<Flight> flights_;
  Time longest_flight_ = 0;
  std::vector<Marker> markers_;
  std::vector<DnsLookup> dns_;
  std::vector<QueueStep> queue_steps_;
  std::vector<QueueEntryKey> queue_entries_;
  std::vector<std::size_t> captures_, queue_events_, mailbox_events_, outage_events_, bounce_events_, notes_;
  std::vector<std::size_t> steps_, hops_, retries_;
  std::map<std::size_t, std::string> leaked_;
};

// Reads the "Received:" fields of a message's header section, newest first.
std::vector<Postmark> read_postmarks(const std::string& content);
// The value of the first header field `name` (case-insensitive), unfolded; "" if absent.
std::string header_value(const std::string& content, std::string_view name);
// True when the bytes start like a TLS record (RFC 8446 §5.1): content type
// 20-23, legacy version 3.x.
bool looks_like_tls(std::string_view bytes);

}  // namespace mailsim::ui
