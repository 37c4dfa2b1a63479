// The scene at a moment: closed signs, retry clocks, trays, mailboxes and
// where each letter is on its road.
#include "ui/model/scene.h"

#include "story.h"
#include "ui/model/view_state.h"

#include <catch2/catch.hpp>

using namespace mailsim::ui;
using namespace mailsim::ui::testing;

namespace {
const TraceIndex& story() {
  static const TraceIndex index(story_world(), retry_story());
  return index;
}
std::size_t host(const char* name) { return *story().world().find(name); }
}  // namespace

SCENARIO("Bob's office is closed, then reopens", "[ui][scene]") {
  const auto& x = story();
  WHEN("the letter waits at Alice's office during the outage") {
    const Scene s = build_scene(x, cursor_at_time(x, 10 * kMinute));
    THEN("Bob's office wears the closed sign") { CHECK(s.hosts[host("mx.beta.example")].down); }
    THEN("the letter lies in the tray of Alice's office with a retry clock") {
      const auto& alpha = s.hosts[host("mail.alpha.example")];
      CHECK(alpha.tray == 1);
      CHECK(alpha.deferred == 1);
      REQUIRE(alpha.next_retry);
      CHECK(*alpha.next_retry > 10 * kMinute);
      CHECK(*alpha.next_retry < 17 * kMinute);
    }
    THEN("the queue panel shows two tries so far") {
      REQUIRE(s.queue.size() == 1);
      CHECK(s.queue[0].state == "deferred");
      CHECK(s.queue[0].attempts == 2);
      CHECK(s.queue[0].reason == "connection refused");
      CHECK(s.queue[0].message_id == "1.alice@alpha.example");
    }
    THEN("nothing is on the roads") { CHECK(s.letters.empty()); }
  }
  WHEN("the office has reopened but the next retry has not come yet") {
    const Scene s = build_scene(x, cursor_at_time(x, kUpAt + kMinute));
    CHECK_FALSE(s.hosts[host("mx.beta.example")].down);
    CHECK(s.hosts[host("mail.alpha.example")].tray == 1);
  }
  WHEN("the run is over") {
    const Scene s = build_scene(x, cursor_end(x));
    THEN("no letter waits anywhere and the queue says it was handed on") {
      for (const auto& h : s.hosts) CHECK(h.tray == 0);
      CHECK(s.queue[0].state == "sent");
    }
    THEN("POP3 took the letter home and deleted it from the server") {
      REQUIRE(s.mailboxes.size() == 1);
      const auto& box = s.mailboxes[0];
      CHECK(box.user == "bob@beta.example");
      CHECK(box.on_server.empty());
      CHECK(box.deleted == std::vector<std::string>{"1.alice@alpha.example"});
      REQUIRE(box.devices.size() == 1);
      CHECK(box.devices[0].device == "bob-pc");
      CHECK(box.devices[0].protocol == "pop3");
      CHECK(box.devices[0].messages == std::vector<std::string>{"1.alice@alpha.example"});
    }
  }
  WHEN("the letter has been delivered but not collected yet") {
    const Scene s = build_scene(x, cursor_at_time(x, kFetchAt - kSecond));
    REQUIRE(s.mailboxes.size() == 1);
    CHECK(s.mailboxes[0].on_server == std::vector<std::string>{"1.alice@alpha.example"});
    CHECK(s.hosts[host("mx.beta.example")].mailbox == 1);
  }
}

TEST_CASE("an envelope is where the trace says, along its road", "[ui][scene]") {
  const auto& x = story();
  const auto& mx = x.connections()[4];
  const Flight* letter = nullptr;
  for (const auto& f : x.flights())
    if (f.conn == mx.id && f.kind == FlightKind::kLetter) letter = &f;
  REQUIRE(letter);
  const auto& a = x.world().hosts[host("mail.alpha.example")];
  const auto& b = x.world().hosts[host("mx.beta.example")];
  for (double frac : {0.0, 0.25, 0.5, 0.9}) {
    const Time t = letter->start + static_cast<Time>(frac * static_cast<double>(letter->end - letter->start));
    const Scene s = build_scene(x, cursor_at_time(x, t));
    const LetterOnRoad* on_road = nullptr;
    for (const auto& l : s.letters)
      if (x.flights()[l.flight].event == letter->event) on_road = &l;
    REQUIRE(on_road);
    CHECK(on_road->x == Approx(a.x + (b.x - a.x) * frac).margin(1e-4));
    CHECK(on_road->y == Approx(a.y + (b.y - a.y) * frac).margin(1e-4));
    CHECK(on_road->dx > 0);  // travelling towards Bob's office (to the right)
  }
  // Once it has arrived it is no longer on the road.
  const Scene after = build_scene(x, cursor_at_time(x, letter->end));
  for (const auto& l : after.letters) CHECK(x.flights()[l.flight].event != letter->event);
}

TEST_CASE("the dialogue and the letter grow with the cursor", "[ui][scene]") {
  const auto& x = story();
  const auto& sub = x.connections()[0];
  CHECK(lines_said(sub, Cursor{0, 0}) == 0);
  CHECK(lines_said(sub, cursor_end(x)) == sub.lines.size());
  CHECK(letter_at(x, "1.alice@alpha.example", Cursor{kSendAt, x.events_until(kSendAt)}) == nullptr);
  const Transfer* at_mx = letter_at(x, "1.alice@alpha.example", cursor_at_time(x, kFetchAt - kSecond));
  REQUIRE(at_mx);
  CHECK(at_mx->postmarks.size() == 1);
  const Transfer* at_bob = letter_at(x, "1.alice@alpha.example", cursor_end(x));
  REQUIRE(at_bob);
  CHECK(at_bob->postmarks.size() == 2);
}

TEST_CASE("open connections light up their ends", "[ui][scene]") {
  const auto& x = story();
  const auto& sub = x.connections()[0];
  const Scene s = build_scene(x, cursor_after(x, sub.lines[3].event));
  REQUIRE(s.open_connections.size() == 1);
  CHECK(s.hosts[host("alice-pc")].busy);
  CHECK(s.hosts[host("mail.alpha.example")].busy);
  CHECK_FALSE(s.hosts[host("bob-pc")].busy);
}

SCENARIO("A deferral and the retry it schedules are one decision", "[ui][scene]") {
  const auto& x = story();
  // The MTA records "deferred" and then "retry scheduled" at the same
  // instant; stepping stops between the two. The queue panel's "Next try"
  // and the retry clock must already know when the next try is.
  std::size_t seen = 0;
  for (const auto& m : x.markers()) {
    if (m.kind != MarkerKind::kDeferred) continue;
    ++seen;
    const Cursor at = cursor_after(x, m.event);
    const Scene s = build_scene(x, at);
    INFO("deferral " << seen << " at " << m.time);
    // The retry event itself has not been applied yet...
    const auto& retry = x.events()[m.event + 1];
    REQUIRE(retry.kind == mailsim::sim::EventKind::kRetry);
    CHECK(at.applied <= m.event + 1);
    // ...yet the entry and the office know its time.
    const Time due = retry.as<mailsim::sim::QueuePayload>()->retry_at;
    REQUIRE(s.queue.size() == 1);
    CHECK(s.queue[0].state == "deferred");
    CHECK(s.queue[0].next_retry == due);
    const auto& alpha = s.hosts[host("mail.alpha.example")];
    REQUIRE(alpha.next_retry);
    CHECK(*alpha.next_retry == due);
    CHECK(alpha.waiting_since == m.time);
    // The same as one step later, once the retry event is applied.
    const Scene later = build_scene(x, cursor_after(x, m.event + 1));
    CHECK(later.queue[0].next_retry == due);
  }
  CHECK(seen == 3);
}
