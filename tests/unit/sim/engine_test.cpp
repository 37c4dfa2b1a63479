// Tests for sim/engine/engine.h: ordering by (time, sequence), cancel, limits.
#include "sim/engine/engine.h"
#include "sim/engine/quad_heap.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

using namespace mailsim::sim;

TEST_CASE("events run in time order, ties in the order they were scheduled", "[engine]") {
  Engine engine;
  std::vector<std::string> order;
  engine.schedule_at(5, [&] { order.push_back("5a"); });
  engine.schedule_at(3, [&] { order.push_back("3a"); });
  engine.schedule_at(5, [&] { order.push_back("5b"); });
  engine.schedule_at(3, [&] { order.push_back("3b"); });
  engine.schedule_at(0, [&] { order.push_back("0"); });
  const auto result = engine.run();
  CHECK(result.reason == StopReason::kIdle);
  CHECK(result.events == 5);
  CHECK(order == std::vector<std::string>{"0", "3a", "3b", "5a", "5b"});
  CHECK(engine.now() == 5);
}

TEST_CASE("an event scheduled for now runs after the events already due now", "[engine]") {
  Engine engine;
  std::vector<int> order;
  engine.schedule_at(10, [&] {
    order.push_back(1);
    engine.schedule_in(0, [&] { order.push_back(3); });
  });
  engine.schedule_at(10, [&] { order.push_back(2); });
  engine.run();
  CHECK(order == std::vector<int>{1, 2, 3});
}

TEST_CASE("an instant-end hook runs once everything due now has run, before the clock moves", "[engine]") {
  Engine engine;
  std::vector<std::string> order;
  engine.schedule_at(10, [&] {
    order.push_back("10a");
    engine.at_instant_end([&] {
      order.push_back("end of 10");
      // A hook's own hooks and its events for now still come before 20.
      engine.schedule_in(0, [&] { order.push_back("10 from the hook"); });
      engine.at_instant_end([&] { order.push_back("second end of 10"); });
    });
    engine.schedule_in(0, [&] { order.push_back("10c"); });
  });
  engine.schedule_at(10, [&] { order.push_back("10b"); });
  engine.schedule_at(20, [&] { order.push_back("20"); });
  CHECK_FALSE(engine.idle());
  CHECK(engine.run_until(10).reason == StopReason::kTimeLimit);
  CHECK(order == std::vector<std::string>{"10a", "10b", "10c", "end of 10", "10 from the hook", "second end of 10"});
  CHECK(engine.now() == 10);
  engine.at_instant_end([&] { order.push_back("end of 10 again"); });
  CHECK(engine.next_time() == 10);
  CHECK(engine.pending_count() == 2);  // the hook and the event at 20
  CHECK(engine.step());
  CHECK(order.back() == "end of 10 again");
  CHECK(engine.run().reason == StopReason::kIdle);
  CHECK(order.back() == "20");
  CHECK(engine.idle());
}

TEST_CASE("cancel removes a pending event and reports whether it was pending", "[engine]") {
  Engine engine;
  int ran = 0;
  const EventId a = engine.schedule_in(10, [&] { ran += 1; }, "a");
  const EventId b = engine.schedule_in(20, [&] { ran += 10; });
  CHECK(engine.pending(a));
  CHECK(engine.label_of(a) == "a");
  CHECK(engine.cancel(a));
  CHECK_FALSE(engine.cancel(a));
  CHECK_FALSE(engine.pending(a));
  engine.run();
  CHECK(ran == 10);
  CHECK_FALSE(engine.cancel(b));  // already ran
  CHECK_FALSE(engine.cancel(EventId{}));
}

TEST_CASE("a callback may cancel a later event of the same instant", "[engine]") {
  Engine engine;
  std::vector<int> order;
  EventId second;
  engine.schedule_at(1, [&] {
    order.push_back(1);
    engine.cancel(second);
  });
  second = engine.schedule_at(1, [&] { order.push_back(2); });
  engine.run();
  CHECK(order == std::vector<int>{1});
}

TEST_CASE("scheduling in the past is refused", "[engine]") {
  Engine engine;
  engine.schedule_at(100, [] {});
  engine.run();
  CHECK_THROWS_AS(engine.schedule_at(99, [] {}), std::invalid_argument);
  CHECK_THROWS_AS(engine.schedule_in(-1, [] {}), std::invalid_argument);
}

TEST_CASE("run_until runs due events and advances the clock to the limit", "[engine]") {
  Engine engine;
  std::vector<Time> seen;
  for (Time t : {10, 20, 30}) engine.schedule_at(t, [&, t] { seen.push_back(engine.now()); });
  auto r = engine.run_until(20);
  CHECK(r.events == 2);
  CHECK(r.reason == StopReason::kTimeLimit);
  CHECK(seen == std::vector<Time>{10, 20});
  CHECK(engine.now() == 20);
  r = engine.run_until(25);
  CHECK(r.events == 0);
  CHECK(engine.now() == 25);
  CHECK(engine.next_time() == 30);
  r = engine.run_until(100);
  CHECK(r.reason == StopReason::kIdle);
  CHECK(engine.now() == 100);
}

TEST_CASE("run stops at an event limit and on stop()", "[engine]") {
  Engine engine;
  int count = 0;
  // A self-rescheduling event: without a limit this would never end.
  std::function<void()> tick = [&] {
    ++count;
    engine.schedule_in(kSecond, tick);
  };
  engine.schedule_in(0, tick);
  auto r = engine.run(RunLimits{kNever, 100});
  CHECK(r.reason == StopReason::kEventLimit);
  CHECK(count == 100);
  r = engine.run(RunLimits{engine.now() + 10 * kSecond, UINT64_MAX});
  CHECK(r.reason == StopReason::kTimeLimit);
  CHECK(count == 110);
  engine.schedule_in(0, [&] { engine.stop(); });
  r = engine.run();
  CHECK(r.reason == StopReason::kStopped);
}

TEST_CASE("the same seed gives the same sequence of events", "[engine][determinism]") {
  auto trial = [](std::uint64_t seed) {
    Engine engine(seed);
    std::vector<std::pair<Time, int>> log;
    auto& rng = engine.random();
    for (int i = 0; i < 50; ++i) {
      const Time at = rng.between(0, 1000);
      engine.schedule_at(at, [&log, &engine, i] { log.emplace_back(engine.now(), i); });
    }
    engine.run();
    return log;
  };
  CHECK(trial(7) == trial(7));
  CHECK(trial(7) != trial(8));
}

TEST_CASE("the 4-ary heap gives keys back in order, however they went in", "[engine]") {
  // Keys like the engine's: (time, sequence), times often equal.
  struct Key {
    Time at;
    std::uint64_t seq;
  };
  const auto later = [](const Key& a, const Key& b) { return a.at != b.at ? a.at > b.at : a.seq > b.seq; };
  Random rnd(7);
  for (const std::size_t n : {0u, 1u, 2u, 5u, 17u, 64u, 1000u}) {
    std::vector<Key> keys;
    for (std::size_t i = 0; i < n; ++i) keys.push_back(Key{static_cast<Time>(rnd.below(50)), i});
    auto sorted = keys;
    std::sort(sorted.begin(), sorted.end(), [&](const Key& a, const Key& b) { return later(b, a); });

    // One at a time, with pops in between, and all at once (make).
    std::vector<Key> heap, out;
    for (std::size_t i = 0; i < n; ++i) {
      heap.push_back(keys[i]);
      quad_heap::push(heap, later);
      if (i % 3 == 2) {  // take the earliest now and then; it goes back in
        const Key k = heap.front();
        quad_heap::pop(heap, later);
        for (const Key& rest : heap) CHECK_FALSE(later(k, rest));
        heap.push_back(k);
        quad_heap::push(heap, later);
      }
    }
    while (!heap.empty()) {
      out.push_back(heap.front());
      quad_heap::pop(heap, later);
    }
    REQUIRE(out.size() == n);
    for (std::size_t i = 0; i < n; ++i) CHECK((out[i].at == sorted[i].at && out[i].seq == sorted[i].seq));

    heap = keys;
    quad_heap::make(heap, later);
    out.clear();
    while (!heap.empty()) {
      out.push_back(heap.front());
      quad_heap::pop(heap, later);
    }
    REQUIRE(out.size() == n);
    for (std::size_t i = 0; i < n; ++i) CHECK((out[i].at == sorted[i].at && out[i].seq == sorted[i].seq));
  }
}
