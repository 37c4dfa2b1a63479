// Pacing: how simulated time maps to the seconds a class watches. A packet
// crosses a road in milliseconds and a retry wait lasts minutes or days, so
// the player runs busy moments in slow motion (every flight takes at least
// `min_flight_seconds` on screen) and compresses idle waits to a few seconds
// (longer waits a little longer, so they still feel long). The map is
// monotonic and piecewise linear; playback moves along "show seconds" and
// converts back, and the timeline is drawn on the same axis.
#pragma once

#include "sim/engine/time.h"

#include <vector>

namespace mailsim::ui {

class TraceIndex;

struct PaceOptions {
  double min_flight_seconds = 0.9;  // at speed 1, the shortest trip on a road
  double max_busy_rate = 0.25;      // at most this many simulated seconds per shown second while busy
  double wait_seconds = 2.5;        // about how long a one-hour wait is shown
};

// Something happening from start to end that should take at least
// `min_show` seconds to watch.
struct Activity {
  sim::Time start = 0, end = 0;
  double min_show = 0;
};

class PaceMap {
 public:
  PaceMap();  // the identity-like map of an empty run
  PaceMap(std::vector<Activity> activities, sim::Time run_end, const PaceOptions& options);

  double to_show(sim::Time t) const;     // seconds from the start of the show
  sim::Time to_trace(double show) const; // the inverse (clamped to the run)
  double total_show() const { return s_.back(); }
  sim::Time run_end() const { return t_.back(); }

 private:
  std::vector<sim::Time> t_;  // breakpoints in simulated time, increasing
  std::vector<double> s_;     // the matching show seconds, non-decreasing
};

// The pacing of a run: its flights and DNS lookups as activities.
PaceMap build_pace(const TraceIndex& index, const PaceOptions& options = {});

// How many show seconds an idle wait of `gap` gets.
double wait_show_seconds(sim::Time gap, const PaceOptions& options);

}  // namespace mailsim::ui
