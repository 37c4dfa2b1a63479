// The append-only trace (see trace.h).
#include "sim/trace/trace.h"

#include <stdexcept>

namespace mailsim::sim {

const TraceEvent& Trace::record(EventKind kind, std::string host, ConnId conn, Payload payload) {
  TraceEvent e;
  e.time = engine_ != nullptr ? engine_->now() : 0;
  e.kind = kind;
  e.host = std::move(host);
  e.conn = conn;
  e.payload = std::move(payload);
  if (keeps(kind)) return append(std::move(e));
  if (e.payload.index() != payload_index_of(kind))
    throw std::invalid_argument("Trace: payload type does not match kind " + std::string(kind_name(kind)));
  count(kind);
  e.seq = events_.size();
  // Listeners see a local copy: one of them may record (and so replace
  // scratch_) while the others still read this event.
  for (std::size_t i = 0; i < listeners_.size(); ++i) listeners_[i](e);
  scratch_ = std::move(e);
  return scratch_;
}

void Trace::keep_only(std::initializer_list<EventKind> kinds) {
  kept_.reset();
  for (EventKind k : kinds) kept_.set(static_cast<std::size_t>(k));
}

std::uint64_t Trace::total_count() const {
  std::uint64_t n = 0;
  for (auto c : counts_) n += c;
  return n;
}

const TraceEvent& Trace::append(TraceEvent event) {
  if (event.payload.index() != payload_index_of(event.kind))
    throw std::invalid_argument("Trace: payload type does not match kind " + std::string(kind_name(event.kind)));
  event.seq = events_.size();
  count(event.kind);
  events_.push_back(std::move(event));
  const TraceEvent& stored = events_.back();
  // Index loop: a listener may subscribe another listener.
  for (std::size_t i = 0; i < listeners_.size(); ++i) listeners_[i](stored);
  return stored;
}

std::vector<const TraceEvent*> Trace::of_kind(EventKind kind) const {
  std::vector<const TraceEvent*> out;
  for (const auto& e : events_)
    if (e.kind == kind) out.push_back(&e);
  return out;
}

}  // namespace mailsim::sim
