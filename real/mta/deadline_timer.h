// A timeout that moves with the conversation (a reply timeout, an idle
// timeout): every arm() sets the deadline to now + timeout, but the clock
// holds at most one timer for it. A timer that goes off before the deadline
// (the deadline moved since) waits again for the rest; one that finds no
// deadline (disarm()) does nothing. Restarting the wait on every line of a
// dialogue so costs no clock operation, and the clock's queue does not fill
// with cancelled timers. The timeout comes when it always came: `timeout`
// after the last arm().
#pragma once

#include "real/mta/services.h"

#include <functional>
#include <memory>
#include <optional>
#include <utility>

namespace mailsim::mta {

class DeadlineTimer {
 public:
  // `on_expiry` runs from the clock when a deadline passes. The timer's
  // state outlives the owner's destruction for as long as the clock holds a
  // timer of it, so the owner needs no cancel in its destructor (stop()
  // there still frees the clock at once).
  DeadlineTimer(Clock& clock, std::function<void()> on_expiry)
      : state_(std::make_shared<State>(clock, std::move(on_expiry))) {}

  void arm(Duration timeout) {
    State& s = *state_;
    s.deadline = s.clock.now() + timeout;
    if (!s.timer) start(state_, timeout);
  }
  // Stops counting; a timer still set on the clock goes off and does nothing.
  void disarm() { state_->deadline.reset(); }
  // Stops counting and takes the timer off the clock (for good, or until the
  // next arm()): nothing of this timeout keeps the clock busy.
  void stop() {
    State& s = *state_;
    s.deadline.reset();
    if (s.timer) s.clock.cancel(*s.timer);
    s.timer.reset();
  }

 private:
  struct State {
    State(Clock& c, std::function<void()> f) : clock(c), on_expiry(std::move(f)) {}
    Clock& clock;
    std::function<void()> on_expiry;
    std::optional<TimerId> timer;
    std::optional<TimePoint> deadline;  // none: not counting
  };

  static void start(const std::shared_ptr<State>& state, Duration delay) {
    state->timer = state->clock.schedule(delay, [weak = std::weak_ptr<State>(state)] {
      if (auto s = weak.lock()) fire(s);
    });
  }
  static void fire(const std::shared_ptr<State>& s) {
    s->timer.reset();
    if (!s->deadline) return;
    const TimePoint now = s->clock.now();
    if (now < *s->deadline) return start(s, *s->deadline - now);
    s->deadline.reset();
    s->on_expiry();
  }

  std::shared_ptr<State> state_;
};

}  // namespace mailsim::mta
