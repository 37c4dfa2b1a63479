// The append-only trace of a run (see event.h for the event types).
#pragma once

#include "sim/engine/engine.h"
#include "sim/trace/event.h"

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
  // stays valid for the trace's lifetime (storage is a deque).
  const TraceEvent& record(EventKind kind, std::string host, ConnId conn, Payload payload);
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
  std::deque<TraceEvent> events_;
  std::vector<Listener> listeners_;
};

}  // namespace mailsim::sim
