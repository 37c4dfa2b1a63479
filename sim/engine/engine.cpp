// The event loop (see engine.h).
#include "sim/engine/engine.h"
#include "sim/engine/quad_heap.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace mailsim::sim {

Engine::Engine(std::uint64_t seed) : random_(seed) {}

EventId Engine::schedule_at(Time at, Callback callback, const char* label) {
  if (at < now_)
    throw std::invalid_argument("Engine::schedule_at: time " + std::to_string(at) + " is before now (" +
                                std::to_string(now_) + ")");
  std::uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    if (slots_.size() >= (std::size_t{1} << kSlotBits))
      throw std::length_error("Engine: more than 16M events pending at once");
    slot = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  const std::uint64_t seq = next_seq_++;
  Slot& s = slots_[slot];
  s.callback = std::move(callback);
  s.label = label;
  s.seq = seq;
  const EventId id{(seq << kSlotBits) | slot};
  if (at == now_) {
    now_queue_.push_back(HeapKey{at, id.value});
  } else {
    heap_.push_back(HeapKey{at, id.value});
    quad_heap::push(heap_, later);
  }
  ++live_;
  return id;
}

EventId Engine::schedule_in(Time delay, Callback callback, const char* label) {
  if (delay < 0) throw std::invalid_argument("Engine::schedule_in: negative delay");
  if (delay > kNever - now_) throw std::invalid_argument("Engine::schedule_in: delay overflows the clock");
  return schedule_at(now_ + delay, std::move(callback), label);
}

void Engine::at_instant_end(Callback callback) { instant_end_.push_back(std::move(callback)); }

void Engine::run_instant_end() {
  // Swapped out first: a hook may add hooks (they run next time round).
  instant_end_running_.swap(instant_end_);
  ++events_run_;
  for (Callback& hook : instant_end_running_) hook();
  instant_end_running_.clear();
}

const Engine::Slot* Engine::live_slot(EventId id) const {
  if (!id) return nullptr;
  const std::uint64_t slot = id.value & ((std::uint64_t{1} << kSlotBits) - 1);
  const std::uint64_t seq = id.value >> kSlotBits;
  if (slot >= slots_.size() || slots_[slot].seq != seq || seq == 0) return nullptr;
  return &slots_[slot];
}

bool Engine::cancel(EventId id) {
  const Slot* found = live_slot(id);
  if (found == nullptr) return false;
  const auto slot = static_cast<std::uint32_t>(found - slots_.data());
  Slot& s = slots_[slot];
  s.callback = nullptr;
  s.label = nullptr;
  s.seq = 0;
  free_slots_.push_back(slot);
  --live_;
  // Tombstones stay in the heap until they surface; sweep when they outnumber
  // the live events, so a run that re-arms timers constantly stays small.
  // A held letter's timers are long: without the sweep, every letter kept a
  // few dead keys (and the vector's room for them) for minutes.
  if (heap_.size() > 256 && heap_.size() > live_ + live_ / 4 + 256) {
    std::erase_if(heap_, [this](const HeapKey& k) { return slots_[k.slot()].seq != k.seq(); });
    quad_heap::make(heap_, later);
    if (heap_.capacity() > 2 * heap_.size() + 1024) heap_.shrink_to_fit();
  }
  return true;
}

bool Engine::pending(EventId id) const { return live_slot(id) != nullptr; }

std::string Engine::label_of(EventId id) const {
  const Slot* s = live_slot(id);
  return s != nullptr && s->label != nullptr ? std::string(s->label) : std::string();
}

void Engine::drop_stale() const {
  while (!heap_.empty() && slots_[heap_.front().slot()].seq != heap_.front().seq()) quad_heap::pop(heap_, later);
  while (now_head_ < now_queue_.size() && slots_[now_queue_[now_head_].slot()].seq != now_queue_[now_head_].seq())
    ++now_head_;
  if (now_head_ == now_queue_.size() && now_head_ > 0) {
    now_queue_.clear();
    now_head_ = 0;
    if (now_queue_.capacity() > 4096) now_queue_.shrink_to_fit();  // after a burst
  }
}

const Engine::HeapKey* Engine::front() const {
  const HeapKey* queued = now_head_ < now_queue_.size() ? &now_queue_[now_head_] : nullptr;
  if (heap_.empty()) return queued;
  if (queued == nullptr || later(*queued, heap_.front())) return &heap_.front();
  return queued;
}

void Engine::pop_front() {
  if (now_head_ < now_queue_.size() && (heap_.empty() || !later(now_queue_[now_head_], heap_.front()))) {
    ++now_head_;
    return;
  }
  quad_heap::pop(heap_, later);
}

std::optional<Time> Engine::next_time() const {
  drop_stale();
  const HeapKey* next = front();
  if (instant_end_next(next)) return now_;
  if (next == nullptr) return std::nullopt;
  return next->at;
}

bool Engine::step() {
  drop_stale();
  const HeapKey* next = front();
  if (instant_end_next(next)) {
    run_instant_end();
    return true;
  }
  if (next == nullptr) return false;
  run_front(*next);
  return true;
}

void Engine::run_front(const HeapKey top) {
  pop_front();
  Slot& s = slots_[top.slot()];
  // The callback leaves its slot before it runs, so it may cancel its own id
  // harmlessly and may schedule at now_ (even into this very slot).
  Callback callback = std::move(s.callback);
  s.callback = nullptr;
  s.label = nullptr;
  s.seq = 0;
  free_slots_.push_back(top.slot());
  --live_;
  now_ = top.at;
  ++events_run_;
  callback();
}

RunResult Engine::run(RunLimits limits) {
  RunResult result;
  stop_requested_ = false;
  while (true) {
    drop_stale();
    const HeapKey* next = front();
    const bool hooks = instant_end_next(next);
    if (next == nullptr && !hooks) {
      result.reason = StopReason::kIdle;
      break;
    }
    if ((hooks ? now_ : next->at) > limits.until) {
      result.reason = StopReason::kTimeLimit;
      break;
    }
    if (result.events >= limits.max_events) {
      result.reason = StopReason::kEventLimit;
      break;
    }
    if (hooks)
      run_instant_end();
    else
      run_front(*next);  // the front just found: no second look for stale keys
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
