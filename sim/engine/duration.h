// Durations as people write them in scenarios and on the command line:
// "250ms", "5s", "20m", "1h", "5d", "1h30m", "0". Units: us, ms, s, m, h, d.
#pragma once

#include "sim/engine/time.h"

#include <optional>
#include <string>
#include <string_view>

namespace mailsim::sim {

// Parses a duration; nullopt when `text` is not one (empty, unknown unit, no
// number, negative, or overflowing). A bare "0" is accepted, other bare
// numbers are not: "5" could mean seconds or minutes, so we make people say.
std::optional<Time> parse_duration(std::string_view text);

// The shortest exact spelling of `t` in the same notation ("1h30m", "250ms",
// "0s"); parse_duration(format_duration(t)) == t for every t >= 0.
std::string format_duration(Time t);

// A clock-style rendering for stories: "0:20:00.000" or "2d 03:00:00.000".
std::string format_clock(Time t);

}  // namespace mailsim::sim
