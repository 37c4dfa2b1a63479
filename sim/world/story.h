// The trace told as text, one line per event, for `mailsim run`. Packets and
// raw data are left out unless verbose: they are for pcap and the view.
#pragma once

#include "sim/trace/trace.h"

#include <string>

namespace mailsim::sim {

// "00:00:01.005  mail.alpha.example  connect to mx.beta.example (10.0.0.3:25)",
// or "" when the event is not part of the story at this level of detail.
std::string story_line(const TraceEvent& event, bool verbose = false);

}  // namespace mailsim::sim
