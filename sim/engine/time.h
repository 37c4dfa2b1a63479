// Virtual time of the simulator: a signed 64-bit count of microseconds since
// the start of a run. Integer time keeps runs bit-for-bit reproducible; there
// is no wall clock anywhere in sim/.
#pragma once

#include <cstdint>

namespace mailsim::sim {

using Time = std::int64_t;  // microseconds since the start of the run

constexpr Time kMicrosecond = 1;
constexpr Time kMillisecond = 1000 * kMicrosecond;
constexpr Time kSecond = 1000 * kMillisecond;
constexpr Time kMinute = 60 * kSecond;
constexpr Time kHour = 60 * kMinute;
constexpr Time kDay = 24 * kHour;

// A time far beyond any scenario (about 292 000 years): "no limit".
constexpr Time kNever = INT64_MAX;

}  // namespace mailsim::sim
