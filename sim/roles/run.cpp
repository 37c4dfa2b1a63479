// run_scenario (see run.h).
#include "sim/roles/run.h"

#include <algorithm>

namespace mailsim::sim {

bool RunOutput::all_met() const {
  return std::all_of(expectations.begin(), expectations.end(), [](const ExpectResult& r) { return r.met; });
}

RunOutput& RunOutput::operator=(RunOutput&& other) noexcept {
  if (this != &other) {
    roles.reset();  // roles before the world they live in
    world = std::move(other.world);
    roles = std::move(other.roles);
    result = other.result;
    expectations = std::move(other.expectations);
  }
  return *this;
}

RunOutput::~RunOutput() { roles.reset(); }

RunOutput run_scenario(const Scenario& scenario, const RunOptions& options) {
  RunOutput out;
  out.world = std::make_unique<World>(scenario);
  if (options.on_event) out.world->trace().subscribe(options.on_event);
  out.roles = std::make_unique<roles::Roles>(*out.world, options.roles);
  out.result = out.world->run();
  out.expectations = check_expectations(out.world->scenario(), out.world->trace());
  return out;
}

}  // namespace mailsim::sim
