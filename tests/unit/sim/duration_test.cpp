// Tests for sim/engine/duration.h: the duration strings scenarios use.
#include "sim/engine/duration.h"

#include <catch2/catch.hpp>

using namespace mailsim::sim;

TEST_CASE("durations parse in every unit", "[duration]") {
  CHECK(parse_duration("250ms") == 250 * kMillisecond);
  CHECK(parse_duration("5s") == 5 * kSecond);
  CHECK(parse_duration("20m") == 20 * kMinute);
  CHECK(parse_duration("1h") == kHour);
  CHECK(parse_duration("5d") == 5 * kDay);
  CHECK(parse_duration("1h30m") == 90 * kMinute);
  CHECK(parse_duration("10us") == 10);
  CHECK(parse_duration("0") == 0);
  CHECK(parse_duration("0s") == 0);
}

TEST_CASE("malformed durations are refused", "[duration]") {
  for (const char* bad : {"", "5", "s", "5x", "-5s", "5 s", "1.5s", "5sec", "m5", "99999999999999999999d"})
    CHECK_FALSE(parse_duration(bad).has_value());
}

TEST_CASE("format_duration is the inverse of parse_duration", "[duration]") {
  for (Time t : {Time{0}, Time{1}, 250 * kMillisecond, 5 * kSecond, 90 * kMinute, 5 * kDay + 3 * kHour + 7,
                 kHour + kMillisecond}) {
    CAPTURE(t);
    CHECK(parse_duration(format_duration(t)) == t);
  }
  CHECK(format_duration(90 * kMinute) == "1h30m");
  CHECK(format_duration(250 * kMillisecond) == "250ms");
  CHECK(format_clock(kDay + 20 * kMinute + 5 * kMillisecond) == "1d 00:20:00.005");
}
