// The classroom view application: a GLFW window with Dear ImGui panels that
// plays a run. Also renders single moments offscreen (`mailsim screenshot`,
// the Xvfb tests and the frame-time benchmark use the same App).
//
// Lifetime: construct, init() (creates the window and GL context; false when
// there is no display), open() a file or set_run(), then either loop() until
// the window closes or render() frames yourself. One App per process.
#pragma once

#include "ui/model/source.h"
#include "ui/model/trace_index.h"
#include "ui/model/view_state.h"
#include "ui/view/panels.h"

#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

struct GLFWwindow;

namespace mailsim::ui {

struct AppOptions {
  std::string file;          // scenario (.json) or trace (.jsonl); "" = the first scenario of the library
  std::string map_scenario;  // for a trace: the scenario whose map to use
  std::string library_dir;   // "" = find_library_dir()
  ScenarioRunner runner;     // runs scenarios; empty: only traces can be opened
  int width = 1280, height = 800;
  float zoom = 1.0f;
  Lang lang = Lang::kEn;
};

class App {
 public:
  explicit App(AppOptions options);
  ~App();
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  // Creates the window (hidden when !visible: offscreen rendering only).
  // Returns false with a one-sentence reason when there is no display.
  bool init(bool visible, std::string& error);

  // Opens a file (scenario or trace); on failure keeps what was open and
  // shows the error in the window. Returns whether it opened.
  bool open(const std::string& file);
  void set_run(LoadedRun run);
  const std::string& error() const { return error_; }

  ViewState& state() { return state_; }
  const TraceIndex& index() const { return *index_; }
  const PaceMap& pace() const { return pace_; }
  // Brings a tab to the front in the next frame.
  void show_tab(Tab tab) { force_tabs_.push_back(tab); }

  // Drives the view without a person (tests, demonstrations): in the frames
  // that follow, the pointer is at (x, y) in window pixels with the left
  // button down or up, in place of the real mouse. nullopt gives the mouse
  // back. A click is three frames: move there, press, release.
  struct Pointer {
    float x = 0, y = 0;
    bool down = false;
  };
  void set_pointer(std::optional<Pointer> pointer) { pointer_ = pointer; }

  // Runs the interactive loop until the window is closed. Returns 0.
  int loop();

  // Renders one frame of the view into an offscreen buffer of the window's
  // size, advancing playback by dt seconds. Returns the CPU+GPU time it took
  // (seconds, glFinish included).
  double render(double dt);
  // Of the last render(): the seconds spent building the scene and the
  // panels (CPU), the rest being OpenGL drawing.
  double ui_seconds() const { return ui_seconds_; }
  // The last rendered frame, RGBA, top row first.
  std::vector<unsigned char> pixels() const;
  int width() const { return width_; }
  int height() const { return height_; }
  const FrameReport& report() const { return report_; }

  // Writes the last rendered frame as PNG. False (with `error`) on failure.
  bool write_png(const std::string& path, std::string& error) const;

 private:
  void build_fonts();
  void frame_ui(double dt);
  void draw_toolbar(Ctx& c);
  void draw_banner(Ctx& c);
  void draw_what_if(Ctx& c);
  void draw_open_popup(Ctx& c);
  void draw_help();
  void handle_keys(Ctx& c);
  void apply(const Requests& r);
  void rerun();
  void load_lesson();
  void ensure_offscreen();

  AppOptions options_;
  GLFWwindow* window_ = nullptr;
  bool visible_ = false;
  int width_ = 0, height_ = 0;
  float fonts_zoom_ = 0;
  Lang fonts_lang_ = Lang::kEn;
  std::string glyph_text_;  // text whose glyphs the font atlas must hold
  bool fonts_dirty_ = true;
  Fonts fonts_;

  std::string file_;
  std::optional<nlohmann::json> document_;
  std::unique_ptr<TraceIndex> index_;
  PaceMap pace_;
  PaceOptions pace_built_;
  ViewState state_;
  std::string error_;
  std::vector<LibraryEntry> library_;
  std::vector<Tab> force_tabs_;
  std::string open_path_;
  bool open_popup_ = false;
  std::vector<std::string> dropped_;

  MapPanel map_;
  ConversationPanel conversation_;
  LetterPanel letter_;
  QueuePanel queue_;
  MailboxPanel mailboxes_;
  DnsPanel dns_;
  EavesdropperPanel eavesdropper_;
  TimelinePanel timeline_;
  LessonPanel lesson_;
  FrameReport report_;

  std::optional<Pointer> pointer_;

  unsigned fbo_ = 0, rbo_ = 0;
  int fbo_w_ = 0, fbo_h_ = 0;
  double last_time_ = 0;
  double ui_seconds_ = 0;

  friend void drop_callback(GLFWwindow*, int, const char**);
};

// `mailsim` / `mailsim open FILE`: the interactive view. Writes one sentence
// to `err` and returns 2 when there is no display.
int run_view(const AppOptions& options, std::ostream& err);

struct ShotOptions {
  std::string at = "end";       // see parse_moment()
  std::string out = "shot.png";
  std::vector<Tab> tabs;
  std::string select;           // "conn:N" | "message:ID" | "host:NAME"
  bool describe = false;        // print the frame report as JSON on stdout
};

// `mailsim screenshot FILE --at MOMENT --out shot.png`: renders one moment
// offscreen and writes a PNG. Exit code 0, or 2 (bad moment, no display, ...).
int take_screenshot(const AppOptions& options, const ShotOptions& shot, std::ostream& out, std::ostream& err);

// A moment of a run, as people name them on the command line: "start",
// "end", an event number "E123" (or just "123"), the N-th story step "#N", a
// marker "deferred:2" / "delivered" (sent, deferred, retried, delivered,
// bounced, down, up, rejected), "hop:N", "retry:N", or a simulated time
// "5m", "1h30m", "250ms", "0:20:00". nullopt when it names nothing.
std::optional<Cursor> parse_moment(const TraceIndex& index, const std::string& text);

std::optional<Tab> parse_tab(const std::string& name);

}  // namespace mailsim::ui
