// The one struct that holds what the user chose (cursor, selection, toggles,
// zoom, language, ...) and the playback moves on it. Widgets read the state;
// only the explicit actions below (and the App's handlers) write it.
// Every move is a pure function of the trace index and the old cursor.
#pragma once

#include "ui/model/pacing.h"
#include "ui/model/scene.h"
#include "ui/model/strings.h"

#include <optional>
#include <string>
#include <vector>

namespace mailsim::ui {

// What is selected, in every panel at once: a host, a connection (its
// dialogue), a letter (by Message-ID), a queue entry.
struct Selection {
  std::optional<std::size_t> host;
  ConnId conn = 0;
  std::string message_id;
  std::string queue_host, queue_id;
  bool empty() const { return !host && conn == 0 && message_id.empty() && queue_id.empty(); }
  friend bool operator==(const Selection&, const Selection&) = default;
};

// The "what if" switches; any change re-runs the scenario from the start
// (toggles.h turns them into an edited scenario).
struct Toggles {
  std::optional<bool> starttls;      // unset: as the scenario says
  std::optional<bool> auth;
  std::optional<bool> open_relay;
  std::string down_host;             // a server kept closed for the whole run ("" = none)
  bool unknown_recipient = false;    // send to a user nobody has heard of
  bool any() const { return starttls || auth || open_relay || !down_host.empty() || unknown_recipient; }
  friend bool operator==(const Toggles&, const Toggles&) = default;
};

struct ViewState {
  Cursor cursor;
  double show = 0;            // position on the pacing axis (seconds), kept with the cursor
  bool playing = false;
  double speed = 1.0;         // 0.25 .. 8
  PaceOptions pace;           // wait compression lives here (pace.wait_seconds)
  Selection selection;
  Toggles toggles;
  float zoom = 1.0f;          // text and drawing scale, for projectors
  Lang lang = Lang::kEn;
  bool show_raw = false;      // raw bytes in the conversation
  bool show_help = false;
  bool show_lesson = true;
};

// ---- moves ----------------------------------------------------------------------
Cursor cursor_at_time(const TraceIndex& index, Time t);
// Just after event i, together with the packets and data that belong to it
// (the non-story events right after it at the same instant).
Cursor cursor_after(const TraceIndex& index, std::size_t event);
Cursor cursor_end(const TraceIndex& index);

// The next / previous point of `points` (event indices, sorted), from the
// cursor; the start of the run when going back past the first.
Cursor next_point(const TraceIndex& index, const std::vector<std::size_t>& points, const Cursor& c);
Cursor prev_point(const TraceIndex& index, const std::vector<std::size_t>& points, const Cursor& c);

inline Cursor step_forward(const TraceIndex& x, const Cursor& c) { return next_point(x, x.steps(), c); }
inline Cursor step_back(const TraceIndex& x, const Cursor& c) { return prev_point(x, x.steps(), c); }
inline Cursor next_hop(const TraceIndex& x, const Cursor& c) { return next_point(x, x.hops(), c); }
inline Cursor next_retry(const TraceIndex& x, const Cursor& c) { return next_point(x, x.retries(), c); }

// Playing: moves `state.show` by dt * speed seconds and the cursor with it;
// stops (playing = false) at the end.
void advance_playback(const TraceIndex& index, const PaceMap& pace, ViewState& state, double dt_seconds);
// Puts the cursor somewhere and keeps `show` in step with it.
void seek(const TraceIndex& index, const PaceMap& pace, ViewState& state, const Cursor& c);
void seek_show(const TraceIndex& index, const PaceMap& pace, ViewState& state, double show);

}  // namespace mailsim::ui
