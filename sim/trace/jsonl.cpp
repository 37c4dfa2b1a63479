// JSON Lines reading and writing of traces (see jsonl.h).
#include "sim/trace/jsonl.h"

#include <istream>
#include <ostream>
#include <stdexcept>

namespace mailsim::sim {

std::string to_jsonl_line(const TraceEvent& event) { return to_json_value(event).dump(); }

void write_jsonl(const Trace& trace, std::ostream& out) {
  for (const auto& e : trace.events()) out << to_jsonl_line(e) << '\n';
}

std::vector<TraceEvent> read_jsonl(std::istream& in) {
  std::vector<TraceEvent> events;
  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    try {
      events.push_back(from_json_value(nlohmann::json::parse(line)));
    } catch (const std::exception& ex) {
      throw std::invalid_argument("line " + std::to_string(number) + ": " + ex.what());
    }
  }
  return events;
}

}  // namespace mailsim::sim
