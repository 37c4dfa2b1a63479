// `mailsim` (no subcommand), `mailsim open FILE` and `mailsim screenshot`:
// the classroom view (ui/view/app.h). These are the only commands that
// initialise GLFW; `run`, `check` and `serve` stay headless.
#include "ui/commands/commands.h"

#ifdef MAILSIM_HAVE_VIEW
#include "ui/model/runner.h"
#include "ui/view/app.h"

#include <iostream>
#include <memory>

namespace {

using mailsim::ui::AppOptions;

// Options shared by open and screenshot.
struct ViewFlags {
  std::string file, map, lang = "en", size;
  float zoom = 1.0f;
};

void add_view_flags(CLI::App* cmd, ViewFlags& f) {
  cmd->add_option("--map", f.map, "for a trace (.jsonl): the scenario whose map to draw");
  cmd->add_option("--lang", f.lang, "interface language: en or ja")->check(CLI::IsMember({"en", "ja"}));
  cmd->add_option("--zoom", f.zoom, "text and drawing size (1 = normal, 1.5 for a projector)")->check(CLI::Range(0.6, 3.0));
}

bool options_from(const ViewFlags& f, AppOptions& o, int default_w, int default_h) {
  o.file = f.file;
  o.map_scenario = f.map;
  o.lang = f.lang == "ja" ? mailsim::ui::Lang::kJa : mailsim::ui::Lang::kEn;
  o.zoom = f.zoom;
  o.runner = mailsim::ui::simulator_runner();
  o.width = default_w;
  o.height = default_h;
  if (!f.size.empty()) {
    int w = 0, h = 0;
    if (std::sscanf(f.size.c_str(), "%dx%d", &w, &h) != 2 || w < 320 || h < 240 || w > 8192 || h > 8192) {
      std::cerr << "mailsim: --size " << f.size << ": expected WIDTHxHEIGHT, like 1280x800\n";
      return false;
    }
    o.width = w;
    o.height = h;
  }
  return true;
}

const mailsim::cli::Register kOpen([](CLI::App& app, int& exit_code) {
  auto f = std::make_shared<ViewFlags>();
  CLI::App* cmd = app.add_subcommand("open", "Open the classroom view on a scenario (.json) or a recorded trace (.jsonl)");
  cmd->add_option("file", f->file, "scenario or trace file")->required();
  cmd->add_option("--size", f->size, "window size, WIDTHxHEIGHT (default 1280x800)");
  add_view_flags(cmd, *f);
  cmd->callback([f, &exit_code] {
    AppOptions o;
    if (!options_from(*f, o, 1280, 800)) {
      exit_code = 2;
      return;
    }
    exit_code = mailsim::ui::run_view(o, std::cerr);
  });
  // `mailsim` alone: the view on the first scenario of the library.
  mailsim::cli::default_command() = [] {
    AppOptions o;
    o.runner = mailsim::ui::simulator_runner();
    return mailsim::ui::run_view(o, std::cerr);
  };
});

const mailsim::cli::Register kScreenshot([](CLI::App& app, int& exit_code) {
  auto f = std::make_shared<ViewFlags>();
  auto shot = std::make_shared<mailsim::ui::ShotOptions>();
  auto tabs = std::make_shared<std::vector<std::string>>();
  CLI::App* cmd = app.add_subcommand("screenshot", "Render one moment of a run to a PNG file (no window is shown)");
  cmd->add_option("file", f->file, "scenario or trace file")->required();
  cmd->add_option("--at", shot->at,
                  "the moment: start, end, an event number, #STEP, deferred:N, delivered, bounced, down, hop:N, "
                  "retry:N, or a simulated time like 5m or 0:20:00 (default: end)");
  cmd->add_option("--out", shot->out, "PNG file to write (default shot.png)");
  cmd->add_option("--size", f->size, "image size, WIDTHxHEIGHT (default 1280x800)");
  cmd->add_option("--tab", *tabs, "bring a panel to the front: conversation, letter, lesson, queue, mailboxes, dns, eavesdropper");
  cmd->add_option("--select", shot->select, "select something as a click would: conn:N, message:ID or host:NAME");
  cmd->add_flag("--describe", shot->describe, "print where the map drew hosts and letters, as JSON (for tests)");
  add_view_flags(cmd, *f);
  cmd->callback([f, shot, tabs, &exit_code] {
    AppOptions o;
    if (!options_from(*f, o, 1280, 800)) {
      exit_code = 2;
      return;
    }
    for (const auto& t : *tabs) {
      auto tab = mailsim::ui::parse_tab(t);
      if (!tab) {
        std::cerr << "mailsim: --tab " << t << ": expected conversation, letter, lesson, queue, mailboxes, dns or eavesdropper\n";
        exit_code = 2;
        return;
      }
      shot->tabs.push_back(*tab);
    }
    exit_code = mailsim::ui::take_screenshot(o, *shot, std::cout, std::cerr);
  });
});

}  // namespace
#endif
