// The discrete-event core (after ns-3's Simulator and OMNeT++'s FES): a virtual
// clock in microseconds and a queue of callbacks ordered by (time, sequence),
// so events scheduled for the same microsecond run in the order they were
// scheduled and a run with the same seed replays exactly.
//
// Single-threaded by design. Callbacks may schedule and cancel other events,
// including ones at the current time (they run after every event already
// queued for that time).
#pragma once

#include "sim/engine/random.h"
#include "sim/engine/time.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace mailsim::sim {

// Names one scheduled event. 0 is "no event"; ids are never reused in a run.
struct EventId {
  std::uint64_t value = 0;
  explicit operator bool() const { return value != 0; }
  friend bool operator==(EventId, EventId) = default;
};

// Why run() returned.
enum class StopReason {
  kIdle,        // nothing left to do
  kTimeLimit,   // the next event lies beyond RunLimits::until
  kEventLimit,  // RunLimits::max_events events ran
  kStopped,     // a callback called Engine::stop()
};

struct RunLimits {
  Time until = kNever;                   // run events with time <= until
  std::uint64_t max_events = UINT64_MAX;  // guard against runaway loops
};

struct RunResult {
  StopReason reason = StopReason::kIdle;
  std::uint64_t events = 0;  // events run by this call
};

class Engine {
 public:
  using Callback = std::function<void()>;

  explicit Engine(std::uint64_t seed = 1);
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  Time now() const { return now_; }

  // Runs `callback` at absolute time `at`. Times in the past are a logic error
  // (std::invalid_argument): nothing may happen before "now". `label` names the
  // event for debugging (label_of): a string literal, or any text that
  // outlives the event; only the pointer is kept.
  EventId schedule_at(Time at, Callback callback, const char* label = nullptr);
  // Runs `callback` after `delay` (>= 0) microseconds.
  EventId schedule_in(Time delay, Callback callback, const char* label = nullptr);

  // Runs `callback` once every event for the current time has run (and any
  // those schedule for it), before the clock moves on: "when this instant is
  // over". The network sends its delayed ACKs so, after every application
  // had its say. Hooks added while hooks run go after them, and after the
  // events they schedule for now. A hook counts as one event in a run.
  void at_instant_end(Callback callback);

  // Removes a pending event. Returns true if it was pending (it will not run);
  // false if it already ran, was cancelled, or never existed.
  bool cancel(EventId id);
  bool pending(EventId id) const;
  // The label given at scheduling, empty once the event ran or was cancelled.
  std::string label_of(EventId id) const;

  // Runs one event. Returns false (and does nothing) when idle.
  bool step();
  // Runs every event with time <= t, then sets now() to t (if t > now()).
  RunResult run_until(Time t);
  // Runs until idle or a limit is reached. With a time limit, now() is left at
  // the time of the last event run (not advanced to the limit).
  RunResult run(RunLimits limits = {});
  // Makes the current run()/run_until() return after the running callback.
  void stop() { stop_requested_ = true; }

  bool idle() const { return live_ == 0 && instant_end_.empty(); }
  std::size_t pending_count() const { return live_ + instant_end_.size(); }
  // Time of the earliest pending event.
  std::optional<Time> next_time() const;
  // Events run since construction.
  std::uint64_t events_run() const { return events_run_; }

  // The run's random generator, seeded once. Prefer random().derive("purpose")
  // for a part of the simulation that draws its own numbers.
  Random& random() { return random_; }

 private:
  // A 4-ary heap (quad_heap.h) of (time, seq) keys over a slot table holding
  // the callbacks. cancel() frees the slot at once and leaves its key in the heap
  // as a tombstone, skipped when it reaches the top (or swept out when they
  // pile up). An EventId packs the seq and the slot, so cancel and pending
  // need no lookup table; seq alone orders events and is never reused.
  //
  // Events for the current time (schedule_in(0): socket flushes, MTA
  // steps for "as soon as possible", cached DNS answers) skip the heap: they queue
  // in now_queue_, which is in (time, seq) order as it stands (each gets a
  // larger seq than anything queued before, and now_ never goes back). The
  // next event is the earlier of the two fronts, so the order is exactly
  // the one the heap alone would give.
  // 16 bytes: `id` is the EventId value, seq above the slot, so ordering
  // by it is ordering by seq.
  struct HeapKey {
    Time at;
    std::uint64_t id;
    std::uint32_t slot() const { return static_cast<std::uint32_t>(id & ((std::uint64_t{1} << kSlotBits) - 1)); }
    std::uint64_t seq() const { return id >> kSlotBits; }
  };
  struct Slot {
    Callback callback;
    const char* label = nullptr;  // as given (see schedule_at)
    std::uint64_t seq = 0;        // 0: free (the time is in the heap key)
  };
  static constexpr int kSlotBits = 24;
  static bool later(const HeapKey& a, const HeapKey& b) { return a.at != b.at ? a.at > b.at : a.id > b.id; }
  const Slot* live_slot(EventId id) const;
  void drop_stale() const;  // pops tombstones off the top of the heap and the front of now_queue_
  // After drop_stale(): the earliest pending key, nullptr when idle.
  const HeapKey* front() const;
  void pop_front();
  // Runs the event at `top` (the front(), after drop_stale()).
  void run_front(HeapKey top);
  // True when the instant-end hooks come next: there are some, and nothing
  // else is left for now_ (`next` is the front(), after drop_stale()).
  bool instant_end_next(const HeapKey* next) const {
    return !instant_end_.empty() && (next == nullptr || next->at > now_);
  }
  // Runs the hooks added so far (one event).
  void run_instant_end();

  Time now_ = 0;
  std::uint64_t next_seq_ = 1;
  std::uint64_t events_run_ = 0;
  bool stop_requested_ = false;
  mutable std::vector<HeapKey> heap_;  // min-heap by (at, seq), tombstones included
  mutable std::vector<HeapKey> now_queue_;  // keys at now_, in seq order from now_head_ on
  mutable std::size_t now_head_ = 0;
  std::vector<Slot> slots_;
  std::vector<std::uint32_t> free_slots_;
  std::vector<Callback> instant_end_, instant_end_running_;
  std::size_t live_ = 0;  // pending events (heap entries that are not tombstones)
  Random random_;
};

}  // namespace mailsim::sim
