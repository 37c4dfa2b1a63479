// The one entry point that runs a scenario with everything in it: the World
// (engine, network, DNS, trace, timeline), every role attached, the run to
// its end, and the scenario's expectations checked. `mailsim run`,
// `mailsim check`, the classroom view and the tests all call this.
//
//   RunOutput out = run_scenario(load_scenario_file("scenarios/01-basic-send-pop3.json"));
//   for (const auto& r : out.expectations) std::cout << (r.met ? "pass " : "FAIL ") << r.summary << "\n";
//   write_jsonl(out.trace(), file);
#pragma once

#include "sim/roles/roles.h"
#include "sim/world/expect.h"
#include "sim/world/world.h"

#include <functional>
#include <memory>
#include <vector>

namespace mailsim::sim {

struct RunOptions {
  roles::RoleOptions roles;
  // Called for every trace event as it is recorded (a live story printer).
  std::function<void(const TraceEvent&)> on_event;
};

struct RunOutput {
  std::unique_ptr<World> world;        // engine, network, trace; outlives the roles
  std::unique_ptr<roles::Roles> roles; // servers (queues, mailboxes) as the run left them
  RunResult result;
  // One per expect item, in the scenario's order; `item` points into
  // world->scenario().
  std::vector<ExpectResult> expectations;

  const Trace& trace() const { return world->trace(); }
  const Scenario& scenario() const { return world->scenario(); }
  bool all_met() const;

  RunOutput() = default;
  RunOutput(RunOutput&&) noexcept = default;
  RunOutput& operator=(RunOutput&&) noexcept;
  ~RunOutput();
};

// Builds, runs and checks. The scenario must be valid (load_scenario_*);
// it is copied. Throws only on a programming error inside the run.
RunOutput run_scenario(const Scenario& scenario, const RunOptions& options = {});

}  // namespace mailsim::sim
