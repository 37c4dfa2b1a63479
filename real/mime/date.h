// Calendar arithmetic and the RFC 5322 §3.3 Date: field, as far as IMAP's
// SENTBEFORE / SENTON / SENTSINCE need it (RFC 3501 §6.4.4: the date part
// only, "disregarding time and timezone").
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace mailsim::mime {

// Days since 1970-01-01 of a proleptic Gregorian date (month 1-12).
std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day);
void civil_from_days(std::int64_t days, std::int64_t& year, unsigned& month, unsigned& day);

// The day a Date: value names, in the writer's own zone ("Tue, 1 Jul 2003
// 10:52:37 +0200" → the day of 1-Jul-2003); obsolete two-digit years are
// read as RFC 5322 §4.3 says. nullopt when no day/month/year can be found.
std::optional<std::int64_t> date_header_day(std::string_view value);

}  // namespace mailsim::mime
