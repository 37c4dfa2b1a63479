// Running a scenario in the simulator for the view (see runner.h).
#include "ui/model/runner.h"

// Set by ui/CMakeLists.txt from the simulator targets that exist.
#if defined(MAILSIM_HAVE_ROLES)
#include "sim/roles/run.h"
#elif defined(MAILSIM_HAVE_WORLD)
#include "sim/world/world.h"
#endif

namespace mailsim::ui {

ScenarioRunner simulator_runner() {
#if defined(MAILSIM_HAVE_ROLES)
  // Everything in it: every role attached, as `mailsim run` does.
  return [](const sim::Scenario& scenario) {
    const sim::RunOutput out = sim::run_scenario(scenario);
    const auto& events = out.trace().events();
    return std::vector<sim::TraceEvent>(events.begin(), events.end());
  };
#elif defined(MAILSIM_HAVE_WORLD)
  // No roles in this build: the network's own events (outages, notes).
  return [](const sim::Scenario& scenario) {
    sim::World world(scenario);
    world.run();
    const auto& events = world.trace().events();
    return std::vector<sim::TraceEvent>(events.begin(), events.end());
  };
#else
  return {};
#endif
}

}  // namespace mailsim::ui
