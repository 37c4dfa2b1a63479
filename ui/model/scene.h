// The scene at one moment: what the map and the panels show, computed from
// the trace index and a cursor and nothing else. Building it twice for the
// same cursor gives the same scene, which is what makes stepping back exact.
#pragma once

#include "ui/model/trace_index.h"

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace mailsim::ui {

// A moment of the run: the simulated time, and how many events (a prefix of
// the trace) have happened. Events at exactly `t` may be partly applied when
// stepping one event at a time.
struct Cursor {
  Time t = 0;
  std::size_t applied = 0;
  friend bool operator==(const Cursor&, const Cursor&) = default;
};

struct HostState {
  bool down = false;
  bool silent = false;                   // down and not even answering with RST
  std::vector<std::uint16_t> closed_ports;
  std::optional<Time> next_retry;        // the soonest retry of a deferred letter here
  Time waiting_since = 0;                // when that letter was deferred (the clock's full circle)
  int tray = 0;                          // letters waiting here (queued, active, deferred)
  int deferred = 0;
  int bounces = 0;                       // return-to-sender letters written here so far
  int mailbox = 0;                       // letters in the mailboxes kept here
  bool busy = false;                     // a connection to or from it is open
  bool closed() const { return down || !closed_ports.empty(); }
  friend bool operator==(const HostState&, const HostState&) = default;
};

// A flight on a road at the cursor's time.
struct LetterOnRoad {
  std::size_t flight = 0;   // index into TraceIndex::flights()
  float x = 0, y = 0;       // map position (normalised, as World)
  float dx = 1, dy = 0;     // unit direction of travel
  float progress = 0;       // 0..1 over the whole route
  friend bool operator==(const LetterOnRoad&, const LetterOnRoad&) = default;
};

struct QueueEntryState {
  std::string host, queue_id, state, sender;
  std::vector<std::string> recipients;
  std::string reason;
  int attempts = 0;
  Time next_retry = 0;   // 0: none scheduled
  Time since = 0;        // when it entered this state
  std::size_t last_event = 0;
  std::string message_id;
  bool waiting() const { return state == "queued" || state == "active" || state == "deferred"; }
  friend bool operator==(const QueueEntryState&, const QueueEntryState&) = default;
};

struct DeviceCopy {
  std::string device;
  std::string protocol;                   // "pop3" | "imap" | ""
  std::vector<std::string> messages;      // downloaded (POP3) or seen (IMAP)
  friend bool operator==(const DeviceCopy&, const DeviceCopy&) = default;
};

struct MailboxState {
  std::string host, user;
  std::vector<std::string> on_server;     // Message-IDs still kept on the server
  std::vector<std::string> deleted;       // downloaded and deleted (POP3)
  std::vector<DeviceCopy> devices;
  int count = 0;                          // as the server last reported it
  friend bool operator==(const MailboxState&, const MailboxState&) = default;
};

struct Scene {
  Cursor cursor;
  std::vector<HostState> hosts;           // in World::hosts order
  std::vector<bool> link_down;            // in World::links order
  std::vector<LetterOnRoad> letters;
  std::vector<QueueEntryState> queue;     // every entry seen so far, by first appearance
  std::vector<MailboxState> mailboxes;
  std::size_t dns_count = 0;              // TraceIndex::dns_lookups() prefix that has started
  std::size_t capture_count = 0;          // TraceIndex::captures() prefix
  std::vector<std::size_t> open_connections;  // indices into TraceIndex::connections()
  std::optional<std::size_t> last_step;   // the latest story event that has happened
  std::optional<std::size_t> last_note;   // the latest note event
  friend bool operator==(const Scene&, const Scene&) = default;
};

Scene build_scene(const TraceIndex& index, const Cursor& cursor);

// How many of the connection's dialogue lines have been said at the cursor.
std::size_t lines_said(const Connection& conn, const Cursor& cursor);
// The newest copy of a letter that had arrived somewhere by the cursor (nullptr: not yet).
const Transfer* letter_at(const TraceIndex& index, const std::string& message_id, const Cursor& cursor);
// Map position of a flight at time t (false when it is not on the road then).
bool flight_position(const TraceIndex& index, const Flight& flight, Time t, LetterOnRoad& out);

}  // namespace mailsim::ui
