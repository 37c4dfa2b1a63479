// Shared helpers for the roles tests: loading library scenarios (with
// --set style overrides) and looking through a run's trace.
#pragma once

#include "sim/roles/run.h"
#include "sim/scenario/loader.h"

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

namespace mailsim::sim::test {

inline std::string library_dir() { return std::string(MAILSIM_SOURCE_DIR) + "/scenarios"; }

// scenarios/NN-*.json, sorted.
inline std::vector<std::string> library_files() {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(library_dir())) {
    const std::string name = e.path().filename().string();
    if (e.path().extension() == ".json" && name.size() > 3 && std::isdigit(static_cast<unsigned char>(name[0])) &&
        std::isdigit(static_cast<unsigned char>(name[1])) && name[2] == '-')
      files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

inline Scenario load(const std::string& name, std::vector<std::string> overrides = {}) {
  LoadOptions o;
  o.overrides = std::move(overrides);
  const std::string path = name.find('/') == std::string::npos ? library_dir() + "/" + name : name;
  return load_scenario_file(path, o);
}

inline RunOutput run(const std::string& name, std::vector<std::string> overrides = {}) {
  return run_scenario(load(name, std::move(overrides)));
}

// Events of `kind` whose payload is P, as pointers.
template <class P>
std::vector<const P*> payloads(const Trace& trace, EventKind kind, const std::string& host = {}) {
  std::vector<const P*> out;
  for (const auto* e : trace.of_kind(kind))
    if (host.empty() || e->host == host)
      if (const auto* p = e->as<P>()) out.push_back(p);
  return out;
}

// Everything the eavesdropper `host` read in the clear, concatenated.
inline std::string plaintext_captured(const Trace& trace, const std::string& host) {
  std::string all;
  for (const auto* c : payloads<CapturePayload>(trace, EventKind::kCapture, host))
    if (!c->encrypted) all += c->data.value;
  return all;
}

inline bool any_note_contains(const Trace& trace, const std::string& host, const std::string& text) {
  for (const auto* n : payloads<NotePayload>(trace, EventKind::kNote, host))
    if (n->text.find(text) != std::string::npos) return true;
  return false;
}

inline std::string failed_expectations(const RunOutput& out) {
  std::string s;
  for (const auto& r : out.expectations)
    if (!r.met) s += "FAIL " + r.summary + " -- " + r.explanation + "\n";
  return s;
}

}  // namespace mailsim::sim::test
