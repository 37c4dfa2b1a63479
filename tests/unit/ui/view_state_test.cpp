// Playback moves: step, hop, retry, play and scrub. Stepping back shows
// exactly the earlier state.
#include "ui/model/view_state.h"

#include "story.h"

#include <catch2/catch.hpp>

using namespace mailsim::ui;
using namespace mailsim::ui::testing;

namespace {
const TraceIndex& story() {
  static const TraceIndex index(story_world(), retry_story());
  return index;
}
}  // namespace

TEST_CASE("stepping to the end and back again shows exactly the same states", "[ui][playback]") {
  const auto& x = story();
  std::vector<Cursor> forward{Cursor{0, 0}};
  std::vector<Scene> scenes{build_scene(x, forward.back())};
  while (true) {
    const Cursor next = step_forward(x, forward.back());
    if (next == forward.back()) break;
    REQUIRE(next.applied > forward.back().applied);
    forward.push_back(next);
    scenes.push_back(build_scene(x, next));
    REQUIRE(forward.size() < 10000);
  }
  CHECK(forward.back() == cursor_end(x));
  CHECK(forward.size() > x.steps().size() / 2);
  // Back, one step at a time.
  Cursor c = forward.back();
  for (std::size_t k = forward.size() - 1; k-- > 0;) {
    c = step_back(x, c);
    REQUIRE(c == forward[k]);
    REQUIRE(build_scene(x, c) == scenes[k]);
  }
  CHECK(step_back(x, c) == Cursor{0, 0});
}

TEST_CASE("a step shows its line leaving on the road at once", "[ui][playback]") {
  const auto& x = story();
  const auto& sub = x.connections()[0];
  // "C: EHLO alice-pc": the command and the packet carrying it.
  const Cursor c = cursor_after(x, sub.lines[1].event);
  const Scene s = build_scene(x, c);
  REQUIRE(s.letters.size() == 1);
  const Flight& f = x.flights()[s.letters[0].flight];
  CHECK(f.conn == sub.id);
  CHECK(f.from_client);
  CHECK_FALSE(f.sealed);  // before STARTTLS: a postcard
  CHECK(s.letters[0].progress == 0.f);
}

TEST_CASE("next hop and next retry jump to the moments that matter", "[ui][playback]") {
  const auto& x = story();
  Cursor c{0, 0};
  c = next_retry(x, c);
  CHECK(c.t >= kSendAt + 5 * kMinute);
  CHECK(c.t < kSendAt + 6 * kMinute);
  c = next_retry(x, c);
  CHECK(c.t > kSendAt + 15 * kMinute);
  c = next_retry(x, c);
  CHECK(c.t > kUpAt);
  CHECK(next_retry(x, c) == c);  // no more retries: stays
  Cursor h{0, 0};
  std::vector<Time> hops;
  for (int i = 0; i < 10; ++i) {
    const Cursor n = next_hop(x, h);
    if (n == h) break;
    hops.push_back(n.t);
    h = n;
  }
  REQUIRE(hops.size() >= 4);
  CHECK(hops.front() < kSendAt + kSecond);  // handed in at Alice's office
  CHECK(hops.back() > kFetchAt);            // collected by Bob
}

TEST_CASE("playing moves along the paced show and stops at the end", "[ui][playback]") {
  const auto& x = story();
  const PaceMap pace = build_pace(x);
  ViewState v;
  v.playing = true;
  v.speed = 1;
  Time last = -1;
  int frames = 0;
  while (v.playing && frames < 100000) {
    advance_playback(x, pace, v, 1.0 / 60);
    CHECK(v.cursor.t >= last);
    const bool consistent = v.cursor.applied == x.events_until(v.cursor.t) || v.cursor == cursor_end(x);
    CHECK(consistent);
    last = v.cursor.t;
    ++frames;
  }
  CHECK_FALSE(v.playing);
  CHECK(v.cursor == cursor_end(x));
  // The whole 40-minute story plays in well under two minutes at speed 1...
  CHECK(frames < 120 * 60);
  // ...yet every trip on a road lasts long enough to follow.
  CHECK(frames > 10 * 60);
  // Speed 4 is four times quicker.
  ViewState fast;
  fast.playing = true;
  fast.speed = 4;
  int fast_frames = 0;
  while (fast.playing && fast_frames < 100000) {
    advance_playback(x, pace, fast, 1.0 / 60);
    ++fast_frames;
  }
  CHECK(fast_frames == Approx(frames / 4.0).margin(2));
}

TEST_CASE("scrubbing lands on the state of that moment", "[ui][playback]") {
  const auto& x = story();
  const PaceMap pace = build_pace(x);
  ViewState v;
  seek_show(x, pace, v, pace.to_show(10 * kMinute));
  CHECK(std::llabs(v.cursor.t - 10 * kMinute) <= 1);
  CHECK(build_scene(x, v.cursor).hosts[*x.world().find("mx.beta.example")].down);
  seek_show(x, pace, v, -5);
  CHECK(v.cursor == cursor_at_time(x, 0));  // what happens at 0:00 (the office closes) has happened
  seek_show(x, pace, v, pace.total_show() + 5);
  CHECK(v.cursor == cursor_end(x));
}
