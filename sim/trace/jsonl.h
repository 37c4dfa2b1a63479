// JSON Lines export of a trace: one event per line, fields as in
// to_json_value() (event.h). Readers (the classroom view, scripts, jq) rely on
// the field names staying stable.
#pragma once

#include "sim/trace/trace.h"

#include <iosfwd>
#include <string>
#include <vector>

namespace mailsim::sim {

// One line, without the trailing newline.
std::string to_jsonl_line(const TraceEvent& event);
// Writes every event followed by '\n'.
void write_jsonl(const Trace& trace, std::ostream& out);

// Reads events back; blank lines are skipped. Throws std::invalid_argument
// with "line N: ..." on a malformed line.
std::vector<TraceEvent> read_jsonl(std::istream& in);

}  // namespace mailsim::sim
