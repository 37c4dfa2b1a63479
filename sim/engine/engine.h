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
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

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
  // event for debugging (label_of) and costs nothing when empty.
  EventId schedule_at(Time at, Callback callback, std::string_view label = {});
  // Runs `callback` after `delay` (>= 0) microseconds.
  EventId schedule_in(Time delay, Callback callback, std::string_view label = {});

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

  bool idle() const { return queue_.empty(); }
  std::size_t pending_count() const { return queue_.size(); }
  // Time of the earliest pending event.
  std::optional<Time> next_time() const;
  // Events run since construction.
  std::uint64_t events_run() const { return events_run_; }

  // The run's random generator, seeded once. Prefer random().derive("purpose")
  // for a part of the simulation that draws its own numbers.
  Random& random() { return random_; }

 private:
  struct Key {
    Time at;
    std::uint64_t seq;
    friend auto operator<=>(const Key&, const Key&) = default;
  };
  struct Entry {
    Callback callback;
    std::string label;
  };

  Time now_ = 0;
  std::uint64_t next_seq_ = 1;
  std::uint64_t events_run_ = 0;
  bool stop_requested_ = false;
  // Ordered by (time, seq); seq doubles as the EventId.
  std::map<Key, Entry> queue_;
  std::unordered_map<std::uint64_t, Time> when_;  // EventId -> time, for cancel
  Random random_;
};

}  // namespace mailsim::sim
