// `mailsim check [DIR|FILE...] [--set path=value ...] [--seed N] [--quiet] [--story]`:
// run every scenario's expect block and report each expectation as pass or
// FAIL with what was found. A directory means its *.json scenarios (not
// schema.json), in name order; no argument means ./scenarios. Exit 0 when
// everything passed, 1 when an expectation failed, 2 when a scenario could
// not be loaded (it is reported with the file, the place and why).
#include "ui/commands/commands.h"

#include "sim/roles/run.h"
#include "sim/scenario/loader.h"
#include "sim/world/story.h"

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

namespace {

struct CheckOptions {
  std::vector<std::string> paths;
  std::vector<std::string> overrides;
  std::optional<std::uint64_t> seed;
  bool quiet = false;
  bool story = false;
};

// The scenario files a path names; an unreadable path is left to the loader
// (it reports the file cannot be read).
std::vector<std::string> scenario_files(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return {path};
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(path, ec)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".json") continue;
    if (entry.path().filename() == "schema.json") continue;
    files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

int check(const CheckOptions& o) {
  using namespace mailsim::sim;
  std::vector<std::string> files;
  for (const auto& p : o.paths.empty() ? std::vector<std::string>{"scenarios"} : o.paths) {
    auto more = scenario_files(p);
    if (more.empty()) std::cerr << "mailsim check: no scenarios (*.json) in " << p << "\n";
    files.insert(files.end(), more.begin(), more.end());
  }
  if (files.empty()) return 2;

  LoadOptions load;
  load.overrides = o.overrides;
  load.seed = o.seed;
  int bad = 0, failed_scenarios = 0, met = 0, failed = 0;
  for (const auto& file : files) {
    std::optional<Scenario> scenario;
    try {
      scenario = load_scenario_file(file, load);
    } catch (const ScenarioError& e) {
      ++bad;
      std::cout << "BAD   " << file << "\n" << e.what() << "\n";
      continue;
    }
    RunOptions run;
    if (o.story)
      run.on_event = [](const TraceEvent& e) {
        if (const std::string line = story_line(e); !line.empty()) std::cout << line << "\n";
      };
    const RunOutput out = run_scenario(*scenario, run);
    const bool ok = out.all_met();
    if (!ok) ++failed_scenarios;
    std::cout << (ok ? "ok    " : "FAIL  ") << file << ": " << scenario->title << "\n";
    if (out.expectations.empty() && !o.quiet) std::cout << "        (no expectations)\n";
    for (const auto& r : out.expectations) {
      (r.met ? met : failed) += 1;
      if (o.quiet && r.met) continue;
      std::cout << (r.met ? "  pass  " : "  FAIL  ") << r.summary << "\n"
                << "        " << (r.met ? "" : "because: ") << r.explanation << "\n";
    }
  }
  std::cout << files.size() << " scenario" << (files.size() == 1 ? "" : "s") << ": " << met << " expectation"
            << (met == 1 ? "" : "s") << " met, " << failed << " failed";
  if (bad > 0) std::cout << ", " << bad << " could not be loaded";
  std::cout << "\n";
  if (bad > 0) return 2;
  return failed_scenarios > 0 ? 1 : 0;
}

const mailsim::cli::Register kCheck([](CLI::App& app, int& exit_code) {
  auto o = std::make_shared<CheckOptions>();
  CLI::App* cmd = app.add_subcommand("check", "Run scenarios' expect blocks and report each as pass or FAIL");
  cmd->add_option("paths", o->paths, "scenario files or directories (default: ./scenarios)");
  cmd->add_option("--set", o->overrides, "override a field in every scenario: path=value")
      ->take_all()
      ->allow_extra_args(false);
  cmd->add_option("--seed", o->seed, "random seed (replaces the scenarios')");
  cmd->add_flag("--quiet,-q", o->quiet, "list only failed expectations");
  cmd->add_flag("--story", o->story, "also print each run's story (as `mailsim run` does)");
  cmd->callback([o, &exit_code] { exit_code = check(*o); });
});

}  // namespace
