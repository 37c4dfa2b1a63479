// `mailsim run FILE.json [--json out.jsonl] [--pcap out.pcap] [--seed N]
// [--set path=value ...] [--verbose]`: load and validate a scenario (a bad one
// is refused with exit code 2 before anything runs), simulate it headless,
// print the story, export the trace, and report the scenario's expectations.
#include "ui/commands/commands.h"

#include "sim/engine/duration.h"
#include "sim/scenario/loader.h"
#include "sim/trace/jsonl.h"
#include "sim/trace/pcap.h"
#include "sim/world/expect.h"
#include "sim/world/story.h"
#include "sim/roles/run.h"
#include "sim/world/world.h"

#include <fstream>
#include <iostream>
#include <memory>
#include <optional>

namespace {

struct RunOptions {
  std::string file;
  std::string json_out;
  std::string pcap_out;
  std::optional<std::uint64_t> seed;
  std::vector<std::string> overrides;
  bool verbose = false;
  bool quiet = false;
};

int run(const RunOptions& o) {
  using namespace mailsim::sim;
  LoadOptions load;
  load.overrides = o.overrides;
  load.seed = o.seed;
  std::optional<Scenario> scenario;
  try {
    scenario = load_scenario_file(o.file, load);
  } catch (const ScenarioError& e) {
    std::cerr << e.what() << "\n"
              << "mailsim: the scenario was not run (" << e.problems().size() << " problem"
              << (e.problems().size() == 1 ? "" : "s") << ")\n";
    return 2;
  }

  if (!o.quiet) {
    std::cout << "# " << scenario->title << "\n";
    if (!scenario->description.empty()) std::cout << "# " << scenario->description << "\n";
  }
  mailsim::sim::RunOptions run_options;
  if (!o.quiet)
    run_options.on_event = [verbose = o.verbose](const TraceEvent& e) {
      const std::string line = story_line(e, verbose);
      if (!line.empty()) std::cout << line << "\n";
    };
  // The world with every role of the scenario (servers, mail programs,
  // spammers, eavesdroppers), run to its end, expectations checked.
  const RunOutput ran = run_scenario(*scenario, run_options);
  const World& world = *ran.world;
  const RunResult& result = ran.result;
  if (!o.quiet)
    std::cout << "# the run ended at " << format_clock(ran.world->engine().now()) << " after " << result.events
              << " events" << (result.reason == StopReason::kTimeLimit ? " (time limit reached)" : "") << "\n";

  if (!o.json_out.empty()) {
    std::ofstream out(o.json_out, std::ios::binary);
    write_jsonl(world.trace(), out);
    if (!out) {
      std::cerr << "mailsim: cannot write " << o.json_out << "\n";
      return 2;
    }
  }
  if (!o.pcap_out.empty()) {
    std::ofstream out(o.pcap_out, std::ios::binary);
    PcapOptions options;
    options.epoch_seconds = scenario->start_unix;
    write_pcap(world.trace(), out, options);
    if (!out) {
      std::cerr << "mailsim: cannot write " << o.pcap_out << "\n";
      return 2;
    }
  }
  const auto& results = ran.expectations;
  if (!results.empty() && !o.quiet) {
    std::cout << "# expectations:\n";
    for (const auto& r : results)
      std::cout << (r.met ? "  ok    " : "  NOT   ") << r.summary << " -- " << r.explanation << "\n";
  }
  return 0;
}

const mailsim::cli::Register kRun([](CLI::App& app, int& exit_code) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* cmd = app.add_subcommand("run", "Simulate a scenario headless and print the story as text");
  cmd->add_option("file", o->file, "scenario JSON file")->required();
  cmd->add_option("--json", o->json_out, "write the trace as JSON Lines to this file");
  cmd->add_option("--pcap", o->pcap_out, "write the packets as a pcap file (Wireshark, tshark)");
  cmd->add_option("--seed", o->seed, "random seed (replaces the scenario's)");
  cmd->add_option("--set", o->overrides, "override a field: path=value, e.g. hosts.mx1.submission.tls=off")
      ->take_all()
      ->allow_extra_args(false);
  cmd->add_flag("--verbose,-v", o->verbose, "also show packets and raw protocol bytes");
  cmd->add_flag("--quiet,-q", o->quiet, "print nothing but errors");
  cmd->callback([o, &exit_code] { exit_code = run(*o); });
});

}  // namespace
