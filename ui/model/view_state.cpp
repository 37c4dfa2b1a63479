// Playback moves (see view_state.h).
#include "ui/model/view_state.h"

#include <algorithm>

namespace mailsim::ui {

namespace {
bool is_step(const TraceIndex& index, std::size_t i) {
  return std::binary_search(index.steps().begin(), index.steps().end(), i);
}
}  // namespace

Cursor cursor_at_time(const TraceIndex& index, Time t) { return {t, index.events_until(t)}; }

Cursor cursor_after(const TraceIndex& index, std::size_t event) {
  const auto& events = index.events();
  if (event >= events.size()) return cursor_end(index);
  Cursor c{events[event].time, event + 1};
  while (c.applied < events.size() && events[c.applied].time == c.t && !is_step(index, c.applied)) ++c.applied;
  return c;
}

Cursor cursor_end(const TraceIndex& index) { return {index.end_time(), index.events().size()}; }

Cursor next_point(const TraceIndex& index, const std::vector<std::size_t>& points, const Cursor& c) {
  for (auto it = std::lower_bound(points.begin(), points.end(), c.applied); it != points.end(); ++it) {
    const Cursor n = cursor_after(index, *it);
    if (n.applied > c.applied || n.t > c.t) return n;
  }
  // Nothing further: the end of the run (all letters arrived).
  return points == index.steps() ? cursor_end(index) : c;
}

Cursor prev_point(const TraceIndex& index, const std::vector<std::size_t>& points, const Cursor& c) {
  auto it = std::lower_bound(points.begin(), points.end(), c.applied);
  while (it != points.begin()) {
    --it;
    const Cursor p = cursor_after(index, *it);
    if (p.applied < c.applied || (p.applied == c.applied && p.t < c.t)) return p;
  }
  return Cursor{0, 0};
}

void seek(const TraceIndex&, const PaceMap& pace, ViewState& state, const Cursor& c) {
  state.cursor = c;
  state.show = pace.to_show(c.t);
}

void seek_show(const TraceIndex& index, const PaceMap& pace, ViewState& state, double show) {
  state.show = std::clamp(show, 0.0, pace.total_show());
  state.cursor = state.show >= pace.total_show() ? cursor_end(index) : cursor_at_time(index, pace.to_trace(state.show));
}

void advance_playback(const TraceIndex& index, const PaceMap& pace, ViewState& state, double dt_seconds) {
  if (!state.playing) return;
  seek_show(index, pace, state, state.show + dt_seconds * state.speed);
  if (state.show >= pace.total_show()) state.playing = false;
}

}  // namespace mailsim::ui
