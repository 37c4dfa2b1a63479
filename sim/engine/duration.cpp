// Parsing and printing of scenario durations (see duration.h).
#include "sim/engine/duration.h"

#include <array>
#include <cstdio>
#include <utility>

namespace mailsim::sim {
namespace {

struct Unit {
  std::string_view name;
  Time size;
};
// Longest names first so "ms" is not read as "m" followed by garbage.
constexpr std::array<Unit, 6> kUnits{{{"us", kMicrosecond},
                                      {"ms", kMillisecond},
                                      {"s", kSecond},
                                      {"m", kMinute},
                                      {"h", kHour},
                                      {"d", kDay}}};

}  // namespace

std::optional<Time> parse_duration(std::string_view text) {
  if (text == "0") return Time{0};
  if (text.empty()) return std::nullopt;
  Time total = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    Time number = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      if (number > (kNever - 9) / 10) return std::nullopt;
      number = number * 10 + (text[i] - '0');
      ++i;
    }
    std::size_t end = i;
    while (end < text.size() && (text[end] < '0' || text[end] > '9')) ++end;
    const std::string_view unit_name = text.substr(i, end - i);
    const Unit* unit = nullptr;
    for (const auto& u : kUnits)
      if (u.name == unit_name) unit = &u;
    if (unit == nullptr) return std::nullopt;
    if (number > (kNever - total) / unit->size) return std::nullopt;
    total += number * unit->size;
    i = end;
  }
  return total;
}

std::string format_duration(Time t) {
  if (t <= 0) return t == 0 ? "0s" : "-" + format_duration(-t);
  std::string out;
  // d, h, m, s, then the sub-second rest in ms or us.
  for (const Unit& u : {kUnits[5], kUnits[4], kUnits[3], kUnits[2]}) {
    if (t >= u.size) {
      out += std::to_string(t / u.size) + std::string(u.name);
      t %= u.size;
    }
  }
  if (t > 0) {
    if (t % kMillisecond == 0)
      out += std::to_string(t / kMillisecond) + "ms";
    else
      out += std::to_string(t) + "us";
  }
  return out;
}

std::string format_clock(Time t) {
  const bool negative = t < 0;
  if (negative) t = -t;
  const Time days = t / kDay;
  t %= kDay;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld.%03lld", static_cast<long long>(t / kHour),
                static_cast<long long>(t % kHour / kMinute), static_cast<long long>(t % kMinute / kSecond),
                static_cast<long long>(t % kSecond / kMillisecond));
  std::string out = negative ? "-" : "";
  if (days > 0) out += std::to_string(days) + "d ";
  return out + buf;
}

}  // namespace mailsim::sim
