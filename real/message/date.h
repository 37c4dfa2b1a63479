// RFC 5322 §3.3 date-time: "Mon, 23 Nov 2026 09:30:00 +0900". The caller
// gives the instant, so the simulator can use its virtual clock.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mailsim::message {

// Formats `unix_seconds` (seconds since 1970-01-01T00:00:00Z) as seen in a
// zone `utc_offset_minutes` east of UTC (+540 for Japan, -300 for New York
// in winter). The offset must lie within ±99:59.
std::string format_date(std::int64_t unix_seconds, int utc_offset_minutes = 0);

// Parses the RFC 5322 form back (day-of-week optional, seconds optional,
// "GMT"/"UT"/"Z" and the US zone names of §4.3 accepted). Returns seconds
// since the epoch, or nullopt if the text is not a date.
std::optional<std::int64_t> parse_date(std::string_view text);

}  // namespace mailsim::message
