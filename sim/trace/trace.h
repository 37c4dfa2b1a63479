// The append-only trace of a run (see event.h for the event types).
#pragma once

#include "sim/engine/engine.h"
#include "sim/trace/event.h"

#include <array>
#include <bitset>
#include <deque>
#include <functional>
#include <string>
#include <vector>

namespace mailsim::sim {

class Trace {
 public:
  // With an engine, record() stamps events with engine->now(); the engine
  // must outlive the trace. Without one (a loaded trace), record() uses 0.
  explicit Trace(const Engine* engine = nullptr) : engine_(engine) {}

  // Appends an event at the current virtual time. The returned reference
  // stays valid for the trace's lifetime (storage is a deque). In a lean
  // trace (below) an event of a kind that is not kept is only counted; the
  // reference is then to a scratch event, valid until the next record().
  const TraceEvent& record(EventKind kind, std::string host, ConnId conn, Payload payload);

  // ---- lean traces (the benchmark) -----------------------------------------
  // By default every kind is kept: the library scenarios, the view and the
  // exports need the full story. keep_only() keeps just the kinds given;
  // the others are counted (count()) and handed to listeners, never stored.
  void keep_only(std::initializer_list<EventKind> kinds);
  void keep_all() { kept_.set(); }
  bool keeps(EventKind kind) const { return kept_.test(static_cast<std::size_t>(kind)); }
  // Whether an event of `kind` would be seen by anyone (kept or listened to).
  // Producers ask first and skip building a payload nobody reads; they then
  // call count(kind) instead of record().
  bool wants(EventKind kind) const { return keeps(kind) || !listeners_.empty(); }
  void count(EventKind kind) { ++counts_[static_cast<std::size_t>(kind)]; }
  // Events of `kind` recorded or counted so far (kept or not).
  std::uint64_t count_of(EventKind kind) const { return counts_[static_cast<std::size_t>(kind)]; }
  std::uint64_t total_count() const;
  // Appends a complete event (a loaded one): keeps its time, renumbers seq.
  // Throws std::invalid_argument when the payload type does not fit the kind.
  const TraceEvent& append(TraceEvent event);

  const std::deque<TraceEvent>& events() const { return events_; }
  std::size_t size() const { return events_.size(); }
  const TraceEvent& operator[](std::size_t i) const { return events_[i]; }

  // Called synchronously after every appended event, in subscription order
  // (the eavesdropper role, a live story printer). A listener may append
  // events itself (e.g. a capture for a packet); those reach every listener
  // at once, nested, so it must not answer its own events endlessly.
  using Listener = std::function<void(const TraceEvent&)>;
  void subscribe(Listener listener) { listeners_.push_back(std::move(listener)); }

  // Events of one kind, in order (a convenience for checks and views).
  std::vector<const TraceEvent*> of_kind(EventKind kind) const;

 private:
  const Engine* engine_;
  std::bitset<kEventKindCount> kept_ = std::bitset<kEventKindCount>().set();
  std::array<std::uint64_t, kEventKindCount> counts_{};
  TraceEvent scratch_;  // the last event not kept (lean traces)
  std::deque<TraceEvent> events_;
  std::vector<Listener> listeners_;
};

}  // namespace mailsim::sim
