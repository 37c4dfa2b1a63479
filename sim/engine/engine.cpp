// The event loop (see engine.h).
#include "sim/engine/engine.h"

#include <stdexcept>
#include <utility>

namespace mailsim::sim {

Engine::Engine(std::uint64_t seed) : random_(seed) {}

EventId Engine::schedule_at(Time at, Callback callback, std::string_view label) {
  if (at < now_)
    throw std::invalid_argument("Engine::schedule_at: time " + std::to_string(at) + " is before now (" +
                                std::to_string(now_) + ")");
  const std::uint64_t seq = next_seq_++;
  queue_.emplace(Key{at, seq}, Entry{std::move(callback), std::string(label)});
  when_.emplace(seq, at);
  return EventId{seq};
}

EventId Engine::schedule_in(Time delay, Callback callback, std::string_view label) {
  if (delay < 0) throw std::invalid_argument("Engine::schedule_in: negative delay");
  if (delay > kNever - now_) throw std::invalid_argument("Engine::schedule_in: delay overflows the clock");
  return schedule_at(now_ + delay, std::move(callback), label);
}

bool Engine::cancel(EventId id) {
  const auto it = when_.find(id.value);
  if (it == when_.end()) return false;
  queue_.erase(Key{it->second, id.value});
  when_.erase(it);
  return true;
}

bool Engine::pending(EventId id) const { return when_.contains(id.value); }

std::string Engine::label_of(EventId id) const {
  const auto it = when_.find(id.value);
  if (it == when_.end()) return {};
  return queue_.at(Key{it->second, id.value}).label;
}

std::optional<Time> Engine::next_time() const {
  if (queue_.empty()) return std::nullopt;
  return queue_.begin()->first.at;
}

bool Engine::step() {
  if (queue_.empty()) return false;
  auto node = queue_.extract(queue_.begin());
  when_.erase(node.key().seq);
  now_ = node.key().at;
  ++events_run_;
  // The entry is out of the queue before it runs, so a callback may cancel
  // its own id harmlessly and may schedule at now_.
  node.mapped().callback();
  return true;
}

RunResult Engine::run(RunLimits limits) {
  RunResult result;
  stop_requested_ = false;
  while (true) {
    if (queue_.empty()) {
      result.reason = StopReason::kIdle;
      break;
    }
    if (queue_.begin()->first.at > limits.until) {
      result.reason = StopReason::kTimeLimit;
      break;
    }
    if (result.events >= limits.max_events) {
      result.reason = StopReason::kEventLimit;
      break;
    }
    step();
    ++result.events;
    if (stop_requested_) {
      result.reason = StopReason::kStopped;
      break;
    }
  }
  stop_requested_ = false;
  return result;
}

RunResult Engine::run_until(Time t) {
  RunResult result = run(RunLimits{t, UINT64_MAX});
  if (result.reason != StopReason::kStopped && t > now_) now_ = t;
  return result;
}

}  // namespace mailsim::sim
