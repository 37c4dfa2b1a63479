// Pacing of playback (see pacing.h).
#include "ui/model/pacing.h"

#include "ui/model/trace_index.h"

#include <algorithm>
#include <cmath>
#include <set>

namespace mailsim::ui {

using sim::Time;

namespace {
constexpr double kSecondsPerMicro = 1e-6;
}

double wait_show_seconds(Time gap, const PaceOptions& o) {
  if (gap <= 0) return 0;
  const double gs = static_cast<double>(gap) * kSecondsPerMicro;
  const double shaped = o.wait_seconds * (0.35 + 0.65 * std::log10(1 + gs) / std::log10(3601.0));
  return std::min(shaped, gs / o.max_busy_rate);
}

PaceMap::PaceMap() : t_{0, sim::kSecond}, s_{0, 1.0} {}

PaceMap::PaceMap(std::vector<Activity> activities, Time run_end, const PaceOptions& o) {
  run_end = std::max<Time>(run_end, 1);
  // Sweep over every start and end: in each stretch between two boundaries the
  // pace is that of the quickest activity covering it (so it takes its
  // min_show), or a compressed wait when nothing is happening.
  struct Edge {
    Time at;
    bool start;
    double rate;  // simulated seconds per shown second
  };
  std::vector<Edge> edges;
  edges.reserve(activities.size() * 2);
  for (const auto& a : activities) {
    if (a.end <= a.start || a.min_show <= 0) continue;
    const Time s = std::clamp<Time>(a.start, 0, run_end), e = std::clamp<Time>(a.end, 0, run_end);
    if (e <= s) continue;
    const double rate = std::min(static_cast<double>(a.end - a.start) * kSecondsPerMicro / a.min_show, o.max_busy_rate);
    edges.push_back({s, true, rate});
    edges.push_back({e, false, rate});
  }
  std::sort(edges.begin(), edges.end(), [](const Edge& x, const Edge& y) { return x.at < y.at; });
  std::multiset<double> active;
  t_.push_back(0);
  s_.push_back(0);
  Time at = 0;
  std::size_t k = 0;
  auto advance_to = [&](Time next) {
    if (next <= at) return;
    const double span = static_cast<double>(next - at) * kSecondsPerMicro;
    const double show = active.empty() ? wait_show_seconds(next - at, o) : span / *active.begin();
    t_.push_back(next);
    s_.push_back(s_.back() + show);
    at = next;
  };
  while (k < edges.size()) {
    const Time next = edges[k].at;
    advance_to(next);
    for (; k < edges.size() && edges[k].at == next; ++k) {
      if (edges[k].start)
        active.insert(edges[k].rate);
      else
        active.erase(active.find(edges[k].rate));
    }
  }
  advance_to(run_end);
  if (t_.size() == 1) {  // an empty run: one second of nothing
    t_.push_back(run_end);
    s_.push_back(1.0);
  }
}

double PaceMap::to_show(Time t) const {
  if (t <= t_.front()) return s_.front();
  if (t >= t_.back()) return s_.back();
  const auto it = std::upper_bound(t_.begin(), t_.end(), t);
  const std::size_t i = static_cast<std::size_t>(it - t_.begin()) - 1;
  const double f = static_cast<double>(t - t_[i]) / static_cast<double>(t_[i + 1] - t_[i]);
  return s_[i] + f * (s_[i + 1] - s_[i]);
}

Time PaceMap::to_trace(double show) const {
  if (show <= s_.front()) return t_.front();
  if (show >= s_.back()) return t_.back();
  const auto it = std::upper_bound(s_.begin(), s_.end(), show);
  const std::size_t i = static_cast<std::size_t>(it - s_.begin()) - 1;
  const double span = s_[i + 1] - s_[i];
  if (span <= 0) return t_[i + 1];
  const double f = (show - s_[i]) / span;
  return t_[i] + static_cast<Time>(std::floor(f * static_cast<double>(t_[i + 1] - t_[i])));
}

PaceMap build_pace(const TraceIndex& index, const PaceOptions& options) {
  std::vector<Activity> activities;
  activities.reserve(index.flights().size() + index.dns_lookups().size());
  for (const auto& f : index.flights()) activities.push_back({f.start, f.end, options.min_flight_seconds});
  for (const auto& d : index.dns_lookups())
    if (d.answer_event) {
      const Time q = index.events()[d.query_event].time, a = index.events()[*d.answer_event].time;
      if (a > q) activities.push_back({q, a, options.min_flight_seconds * 0.6});
    }
  return PaceMap(std::move(activities), index.end_time(), options);
}

}  // namespace mailsim::ui
