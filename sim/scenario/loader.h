// Loading a scenario: parse (nlohmann/json), apply --set overrides, validate
// every field and every reference, and read it into Scenario (scenario.h).
// A bad scenario is refused before anything runs, with every problem found:
// the file, the JSON pointer, the line and column, and what was expected, in
// words a student understands. The `mailsim` commands exit with code 2.
//
// The field tables here and scenarios/schema.json describe the same format;
// a unit test keeps them in step.
#pragma once

#include "sim/scenario/json_locations.h"
#include "sim/scenario/scenario.h"

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace mailsim::sim {

struct ScenarioProblem {
  std::string file;
  std::string pointer;    // JSON pointer ("" = the whole document)
  TextPosition position;  // line 0 = unknown (e.g. a value given with --set)
  std::string message;    // what is wrong and what was expected
  std::string origin;     // "--set hosts.mx1.port=x" when the value came from the command line

  // "file:12:15: /hosts/2/submission/tls: expected ..." (compiler style).
  std::string str() const;
};

class ScenarioError : public std::runtime_error {
 public:
  explicit ScenarioError(std::vector<ScenarioProblem> problems);
  const std::vector<ScenarioProblem>& problems() const { return problems_; }

 private:
  std::vector<ScenarioProblem> problems_;
};

struct LoadOptions {
  // "path=value" assignments applied before validation (see apply_override).
  std::vector<std::string> overrides;
  std::optional<std::uint64_t> seed;  // replaces the scenario's seed
};

// Throw ScenarioError on any problem (a file that cannot be read included).
Scenario load_scenario_file(const std::string& path, const LoadOptions& options = {});
Scenario load_scenario_text(std::string_view text, const std::string& file_name, const LoadOptions& options = {});

// Applies one "path=value" to `document`. The path is dotted; an array of
// named objects (hosts) is entered by name or by index: hosts.mx1.submission.tls,
// hosts.2.role, hosts.mail.alpha.example.queue.lifetime (names may contain
// dots), dns.records.beta.example.MX. Missing objects on the way are created.
// The value is JSON if it parses as JSON, else a string: port=2525 is a
// number, tls=off is the string "off", to=["a@x"] a list.
// Returns the JSON pointer that was set; throws std::invalid_argument with a
// readable message when the path does not lead anywhere.
std::string apply_override(nlohmann::json& document, std::string_view assignment);

// Levenshtein distance, and the nearest candidate when it is near enough to
// be a likely typo ("" otherwise).
std::size_t edit_distance(std::string_view a, std::string_view b);
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

// The property names the loader accepts, per object kind (named as the
// "$defs" of scenarios/schema.json; "scenario" is the top level).
const std::map<std::string, std::vector<std::string>>& scenario_fields();

// Parses "10Mbit", "1Gbps", "56kbps", "1500000" (bits per second).
std::optional<std::uint64_t> parse_bandwidth(std::string_view text);

}  // namespace mailsim::sim
