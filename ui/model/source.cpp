// Opening scenarios and traces for the view (see source.h).
#include "ui/model/source.h"

#include "sim/scenario/loader.h"
#include "sim/trace/jsonl.h"
#include "ui/model/toggles.h"

#include <fstream>

namespace mailsim::ui {

bool is_trace_file(const std::string& path) {
  return path.size() > 6 && path.compare(path.size() - 6, 6, ".jsonl") == 0;
}

namespace {

std::string problems_text(const sim::ScenarioError& e) {
  std::string out;
  for (const auto& p : e.problems()) out += (out.empty() ? "" : "\n") + p.str();
  return out.empty() ? e.what() : out;
}

}  // namespace

LoadedRun open_run(const std::string& path, const Toggles& toggles, const ScenarioRunner& runner,
                   const std::string& scenario_for_map) {
  LoadedRun run;
  run.file = path;
  if (is_trace_file(path)) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw OpenError(path + ": cannot read the file");
    try {
      run.events = sim::read_jsonl(in);
    } catch (const std::invalid_argument& e) {
      throw OpenError(path + ": " + e.what());
    }
    if (!scenario_for_map.empty()) {
      try {
        run.world = world_from_scenario(sim::load_scenario_file(scenario_for_map));
      } catch (const sim::ScenarioError& e) {
        throw OpenError(problems_text(e));
      }
      // Hosts the scenario does not name (a trace from another run) still get a place.
      World guessed = world_from_trace({run.events.begin(), run.events.end()});
      bool added = false;
      for (const auto& h : guessed.hosts)
        if (!run.world.find(h.name)) {
          run.world.hosts.push_back(h);
          added = true;
        }
      if (added) layout_world(run.world);
    } else {
      run.world = world_from_trace({run.events.begin(), run.events.end()});
      run.world.file = path;
    }
    return run;
  }
  sim::Scenario scenario;
  try {
    scenario = sim::load_scenario_file(path);
    run.document = scenario.document;
    if (toggles.any()) scenario = sim::load_scenario_text(apply_toggles(scenario.document, toggles).dump(2), path);
  } catch (const sim::ScenarioError& e) {
    throw OpenError(problems_text(e));
  }
  if (!runner) throw OpenError(path + ": this build of mailsim cannot run scenarios (the simulator's runner is missing)");
  run.events = runner(scenario);
  run.world = world_from_scenario(scenario);
  return run;
}

}  // namespace mailsim::ui
