// Checking a scenario's `expect` block against the trace of a run. The
// checks read only trace events, so they define what roles must record:
//   delivered / not_delivered  `delivery` events (MessagePayload.recipient,
//                              .received_headers, .subject)
//   bounced                    `bounce` events (.recipient, .sender, .status)
//   deferred                   `queue` events with state "deferred" on the host
//   rejected                   `reply` events sent by a server (side "server"),
//                              matched with the last `command` on that connection
//   eavesdropper               `capture` events (not encrypted), per connection
//   mailbox                    the last `mailbox` event of the user (.count)
#pragma once

#include "sim/scenario/scenario.h"
#include "sim/trace/trace.h"

#include <string>
#include <vector>

namespace mailsim::sim {

struct ExpectResult {
  const ExpectItem* item = nullptr;
  bool met = false;
  std::string summary;      // what was expected, in words ("bob@beta.example receives a letter before 40m")
  std::string explanation;  // what was found ("delivered at 20m05s with 2 Received: headers")
};

std::vector<ExpectResult> check_expectations(const Scenario& scenario, const Trace& trace);

}  // namespace mailsim::sim
