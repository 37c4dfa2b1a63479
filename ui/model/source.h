// Opening something to play: a scenario (run it, with the view's toggles
// applied) or a recorded trace (JSON Lines from `mailsim run --json`).
#pragma once

#include "sim/trace/event.h"
#include "ui/model/view_state.h"
#include "ui/model/world.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace mailsim::sim {
struct Scenario;
}

namespace mailsim::ui {

// Runs a loaded scenario to the end and returns its trace. Supplied by the
// `mailsim` executable (the simulator's runner); the model does not run
// anything itself.
using ScenarioRunner = std::function<std::vector<sim::TraceEvent>(const sim::Scenario&)>;

struct LoadedRun {
  std::string file;                        // what was opened
  std::optional<nlohmann::json> document;  // the scenario as loaded (before toggles), for toggles and re-runs
  World world;
  std::vector<sim::TraceEvent> events;
};

// Why a file could not be opened, in sentences a student understands
// (the loader's problems, one per line, "file:line:col: pointer: message").
class OpenError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

bool is_trace_file(const std::string& path);  // *.jsonl

// A scenario file: load, apply toggles, run. A trace file: read it; the map
// comes from `scenario_for_map` when given (else it is guessed from the trace).
LoadedRun open_run(const std::string& path, const Toggles& toggles, const ScenarioRunner& runner,
                   const std::string& scenario_for_map = {});

}  // namespace mailsim::ui
