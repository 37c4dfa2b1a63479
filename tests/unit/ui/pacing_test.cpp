// Pacing: trips on roads in slow motion, long waits compressed.
#include "ui/model/pacing.h"

#include "story.h"
#include "ui/model/trace_index.h"

#include <catch2/catch.hpp>

using namespace mailsim::ui;
using mailsim::sim::kHour;
using mailsim::sim::kMillisecond;
using mailsim::sim::kMinute;
using mailsim::sim::kSecond;

TEST_CASE("a trip on a road takes at least the minimum on screen", "[ui][pacing]") {
  PaceOptions o;
  const PaceMap p({{kSecond, kSecond + 5 * kMillisecond, o.min_flight_seconds},
                   {kSecond + 2 * kMillisecond, kSecond + 42 * kMillisecond, o.min_flight_seconds}},
                  kHour, o);
  CHECK(p.to_show(kSecond + 5 * kMillisecond) - p.to_show(kSecond) >= Approx(o.min_flight_seconds));
  CHECK(p.to_show(kSecond + 42 * kMillisecond) - p.to_show(kSecond + 2 * kMillisecond) >= Approx(o.min_flight_seconds));
}

TEST_CASE("waits are compressed, and longer waits still look longer", "[ui][pacing]") {
  PaceOptions o;
  const PaceMap p({}, 2 * 24 * kHour, o);
  const double five_min = wait_show_seconds(5 * kMinute, o);
  const double hour = wait_show_seconds(kHour, o);
  const double day = wait_show_seconds(24 * kHour, o);
  CHECK(five_min < hour);
  CHECK(hour < day);
  CHECK(hour == Approx(o.wait_seconds));
  CHECK(day < 3 * o.wait_seconds);
  CHECK(p.total_show() < 10);
}

TEST_CASE("show time and simulated time convert both ways", "[ui][pacing]") {
  const mailsim::ui::TraceIndex x(mailsim::ui::testing::story_world(), mailsim::ui::testing::retry_story());
  const PaceMap p = build_pace(x);
  double last = -1;
  for (Time t = 0; t <= x.end_time(); t += x.end_time() / 997) {
    const double s = p.to_show(t);
    CHECK(s >= last);
    last = s;
    CHECK(std::llabs(p.to_trace(s) - t) <= 2);
  }
  CHECK(p.to_trace(p.total_show()) == x.end_time());
}
