// The classroom view application (see app.h): window, fonts, layout of the
// panels, keyboard shortcuts, opening and re-running, offscreen rendering.
#include "ui/view/app.h"

#include "sim/engine/duration.h"
#include "ui/model/library.h"
#include "ui/model/toggles.h"
#include "ui/view/draw.h"

#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>
#include <imgui.h>
#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>
#include <GL/gl.h>
#include <GL/glext.h>
#include <fmt/format.h>
#include <stb_image_write.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#ifndef MAILSIM_SOURCE_DIR
#define MAILSIM_SOURCE_DIR ""
#endif

namespace fs = std::filesystem;

namespace mailsim::ui {

namespace {

// Framebuffer objects are OpenGL 3.0; fetch them through GLFW.
struct FboFunctions {
  PFNGLGENFRAMEBUFFERSPROC gen_framebuffers = nullptr;
  PFNGLBINDFRAMEBUFFERPROC bind_framebuffer = nullptr;
  PFNGLDELETEFRAMEBUFFERSPROC delete_framebuffers = nullptr;
  PFNGLGENRENDERBUFFERSPROC gen_renderbuffers = nullptr;
  PFNGLBINDRENDERBUFFERPROC bind_renderbuffer = nullptr;
  PFNGLDELETERENDERBUFFERSPROC delete_renderbuffers = nullptr;
  PFNGLRENDERBUFFERSTORAGEPROC renderbuffer_storage = nullptr;
  PFNGLFRAMEBUFFERRENDERBUFFERPROC framebuffer_renderbuffer = nullptr;
  PFNGLCHECKFRAMEBUFFERSTATUSPROC check_framebuffer_status = nullptr;
  void load() {
    gen_framebuffers = reinterpret_cast<PFNGLGENFRAMEBUFFERSPROC>(glfwGetProcAddress("glGenFramebuffers"));
    bind_framebuffer = reinterpret_cast<PFNGLBINDFRAMEBUFFERPROC>(glfwGetProcAddress("glBindFramebuffer"));
    delete_framebuffers = reinterpret_cast<PFNGLDELETEFRAMEBUFFERSPROC>(glfwGetProcAddress("glDeleteFramebuffers"));
    gen_renderbuffers = reinterpret_cast<PFNGLGENRENDERBUFFERSPROC>(glfwGetProcAddress("glGenRenderbuffers"));
    bind_renderbuffer = reinterpret_cast<PFNGLBINDRENDERBUFFERPROC>(glfwGetProcAddress("glBindRenderbuffer"));
    delete_renderbuffers = reinterpret_cast<PFNGLDELETERENDERBUFFERSPROC>(glfwGetProcAddress("glDeleteRenderbuffers"));
    renderbuffer_storage = reinterpret_cast<PFNGLRENDERBUFFERSTORAGEPROC>(glfwGetProcAddress("glRenderbufferStorage"));
    framebuffer_renderbuffer =
        reinterpret_cast<PFNGLFRAMEBUFFERRENDERBUFFERPROC>(glfwGetProcAddress("glFramebufferRenderbuffer"));
    check_framebuffer_status =
        reinterpret_cast<PFNGLCHECKFRAMEBUFFERSTATUSPROC>(glfwGetProcAddress("glCheckFramebufferStatus"));
  }
};
FboFunctions gl_fbo;

constexpr const char* kFontSans = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
constexpr const char* kFontBold = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";
constexpr const char* kFontMono = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf";
constexpr const char* kFontJaP = "/usr/share/fonts/opentype/ipafont-gothic/ipagp.ttf";
constexpr const char* kFontJa = "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf";

bool exists(const char* path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string repo_dir() { return MAILSIM_SOURCE_DIR; }

void glfw_error(int, const char*) {
  // Reported by init() in one sentence; GLFW's own words would only confuse.
}

}  // namespace

void drop_callback(GLFWwindow* window, int count, const char** paths) {
  auto* app = static_cast<App*>(glfwGetWindowUserPointer(window));
  if (app == nullptr) return;
  for (int i = 0; i < count; ++i) app->dropped_.emplace_back(paths[i]);
}

App::App(AppOptions options) : options_(std::move(options)) {
  state_.zoom = options_.zoom;
  state_.lang = options_.lang;
  index_ = std::make_unique<TraceIndex>(World{}, std::vector<TraceEvent>{});
  pace_ = build_pace(*index_, state_.pace);
  const std::string dir = options_.library_dir.empty() ? find_library_dir(repo_dir()) : options_.library_dir;
  library_ = scan_library(dir);
  // Glyphs the Japanese fonts must hold: the interface, lesson text, titles.
  for (int i = 0; i < static_cast<int>(S::kCount); ++i) glyph_text_ += tr(static_cast<S>(i), Lang::kJa);
  for (const auto& e : library_) glyph_text_ += e.title_ja;
  std::error_code ec;
  const fs::path lessons = fs::path(dir.empty() ? repo_dir() + "/scenarios" : dir).parent_path() / "lessons" / "ja";
  if (fs::is_directory(lessons, ec))
    for (const auto& entry : fs::directory_iterator(lessons, ec))
      if (entry.path().extension() == ".md") glyph_text_ += read_text(entry.path().string());
}

App::~App() {
  if (window_ == nullptr) return;
  if (fbo_ != 0) {
    gl_fbo.delete_framebuffers(1, &fbo_);
    gl_fbo.delete_renderbuffers(1, &rbo_);
  }
  ImGui_ImplOpenGL3_Shutdown();
  ImGui_ImplGlfw_Shutdown();
  ImGui::DestroyContext();
  glfwDestroyWindow(window_);
  glfwTerminate();
}

bool App::init(bool visible, std::string& error) {
  glfwSetErrorCallback(glfw_error);
  const char* display = std::getenv("DISPLAY");
  const char* wayland = std::getenv("WAYLAND_DISPLAY");
  if ((display == nullptr || *display == 0) && (wayland == nullptr || *wayland == 0)) {
    error = "no display to open a window on (DISPLAY is not set)";
    return false;
  }
  if (!glfwInit()) {
    error = std::string("cannot open a window on display ") + (display ? display : wayland);
    return false;
  }
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
  glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
  glfwWindowHint(GLFW_VISIBLE, visible ? GLFW_TRUE : GLFW_FALSE);
  window_ = glfwCreateWindow(options_.width, options_.height, "mailsim", nullptr, nullptr);
  if (window_ == nullptr) {
    glfwTerminate();
    error = "cannot create an OpenGL 3.3 window on this display";
    return false;
  }
  visible_ = visible;
  glfwMakeContextCurrent(window_);
  glfwSwapInterval(visible ? 1 : 0);
  glfwSetWindowUserPointer(window_, this);
  glfwSetDropCallback(window_, drop_callback);
  gl_fbo.load();
  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGuiIO& io = ImGui::GetIO();
  io.IniFilename = nullptr;  // the layout is computed, nothing to remember
  ImGui::StyleColorsLight();
  ImGuiStyle& style = ImGui::GetStyle();
  style.WindowRounding = 0;
  style.FrameRounding = 5;
  style.GrabRounding = 5;
  style.TabRounding = 5;
  style.WindowBorderSize = 0;
  style.FrameBorderSize = 1;
  style.Colors[ImGuiCol_WindowBg] = ImVec4(0.985f, 0.985f, 0.975f, 1);
  style.Colors[ImGuiCol_Tab] = ImVec4(0.82f, 0.86f, 0.93f, 1);
  style.Colors[ImGuiCol_TabActive] = ImVec4(0.35f, 0.55f, 0.9f, 1);
  style.Colors[ImGuiCol_TabHovered] = ImVec4(0.5f, 0.68f, 0.95f, 1);
  style.Colors[ImGuiCol_Text] = ImVec4(0.1f, 0.1f, 0.13f, 1);
  ImGui_ImplGlfw_InitForOpenGL(window_, true);
  ImGui_ImplOpenGL3_Init("#version 330");
  glfwGetWindowSize(window_, &width_, &height_);
  last_time_ = glfwGetTime();
  return true;
}

void App::build_fonts() {
  ImGuiIO& io = ImGui::GetIO();
  io.Fonts->Clear();
  const float z = std::clamp(state_.zoom, 0.6f, 3.0f);
  static ImVector<ImWchar> ranges;
  ranges.clear();
  ImFontGlyphRangesBuilder builder;
  builder.AddRanges(io.Fonts->GetGlyphRangesDefault());
  builder.AddRanges(io.Fonts->GetGlyphRangesJapanese());
  static const ImWchar extra[] = {0x2000, 0x206F, 0x2190, 0x21FF, 0x2500, 0x25FF, 0x2600, 0x26FF, 0x3000, 0x30FF,
                                  0xFF00, 0xFFEF, 0};
  builder.AddRanges(extra);
  builder.AddText(glyph_text_.c_str());
  builder.BuildRanges(&ranges);
  auto add = [&](const char* latin, const char* japanese, float size) -> ImFont* {
    ImFont* font = nullptr;
    ImFontConfig cfg;
    cfg.OversampleH = 2;
    cfg.OversampleV = 1;
    if (exists(latin)) font = io.Fonts->AddFontFromFileTTF(latin, size, &cfg, io.Fonts->GetGlyphRangesDefault());
    if (font == nullptr) {
      ImFontConfig d;
      d.SizePixels = size;
      font = io.Fonts->AddFontDefault(&d);
    }
    if (exists(japanese)) {
      ImFontConfig merge;
      merge.MergeMode = true;
      merge.OversampleH = 1;
      merge.OversampleV = 1;
      io.Fonts->AddFontFromFileTTF(japanese, size * 1.05f, &merge, ranges.Data);
    }
    return font;
  };
  fonts_.text = add(kFontSans, kFontJaP, std::round(18 * z));
  fonts_.mono = add(kFontMono, kFontJa, std::round(16 * z));
  fonts_.big = add(kFontBold, kFontJaP, std::round(23 * z));
  io.Fonts->Build();
  ImGui_ImplOpenGL3_DestroyFontsTexture();
  ImGui_ImplOpenGL3_CreateFontsTexture();
  ImGuiStyle& style = ImGui::GetStyle();
  ImGuiStyle fresh;
  ImGui::StyleColorsLight(&fresh);
  fresh.Colors[ImGuiCol_WindowBg] = style.Colors[ImGuiCol_WindowBg];
  fresh.Colors[ImGuiCol_Tab] = style.Colors[ImGuiCol_Tab];
  fresh.Colors[ImGuiCol_TabActive] = style.Colors[ImGuiCol_TabActive];
  fresh.Colors[ImGuiCol_TabHovered] = style.Colors[ImGuiCol_TabHovered];
  fresh.Colors[ImGuiCol_Text] = style.Colors[ImGuiCol_Text];
  fresh.WindowRounding = 0;
  fresh.FrameRounding = 5;
  fresh.GrabRounding = 5;
  fresh.TabRounding = 5;
  fresh.WindowBorderSize = 0;
  fresh.FrameBorderSize = 1;
  fresh.ScaleAllSizes(z);
  style = fresh;
  fonts_zoom_ = state_.zoom;
  fonts_dirty_ = false;
}

bool App::open(const std::string& file) {
  try {
    LoadedRun run = open_run(file, state_.toggles, options_.runner, options_.map_scenario);
    set_run(std::move(run));
    error_.clear();
    return true;
  } catch (const std::exception& e) {
    error_ = e.what();
    return false;
  }
}

void App::set_run(LoadedRun run) {
  file_ = run.file;
  document_ = run.document;
  // Titles and notes in Japanese need their glyphs in the atlas.
  const std::size_t before = glyph_text_.size();
  glyph_text_ += run.world.title_ja + run.world.description_ja;
  for (const auto& h : run.world.hosts) glyph_text_ += h.description_ja;
  for (const auto& e : run.events)
    if (const auto* n = e.as<sim::NotePayload>()) glyph_text_ += n->text_ja;
  if (glyph_text_.size() != before) fonts_dirty_ = true;
  index_ = std::make_unique<TraceIndex>(std::move(run.world), std::move(run.events));
  pace_ = build_pace(*index_, state_.pace);
  pace_built_ = state_.pace;
  state_.cursor = Cursor{0, 0};
  state_.show = 0;
  state_.selection = {};
  conversation_ = {};
  dns_ = {};
  eavesdropper_ = {};
  load_lesson();
}

void App::load_lesson() {
  std::string lesson;
  const std::string scenario = !options_.map_scenario.empty() && is_trace_file(file_) ? options_.map_scenario : file_;
  if (!scenario.empty() && !is_trace_file(scenario)) lesson = find_lesson(scenario, state_.lang);
  lesson_.load(lesson);
}

void App::rerun() {
  if (file_.empty() || is_trace_file(file_)) return;
  const Selection keep = state_.selection;
  if (open(file_)) {
    state_.selection.host = keep.host;
    state_.playing = true;
  }
}

void App::apply(const Requests& r) {
  if (r.seek) seek(*index_, pace_, state_, *r.seek);
  if (r.seek_show) {
    seek_show(*index_, pace_, state_, *r.seek_show);
    state_.playing = false;
  }
  if (r.show_tab) force_tabs_.push_back(*r.show_tab);
  if (r.open_file) {
    state_.toggles = {};
    open(*r.open_file);
  }
  if (r.rerun) rerun();
}

void App::handle_keys(Ctx& c) {
  ImGuiIO& io = ImGui::GetIO();
  if (io.WantTextInput) return;
  const bool ctrl = io.KeyCtrl;
  auto pressed = [](int key) { return ImGui::IsKeyPressed(key, true); };
  const TraceIndex& x = *index_;
  if (pressed(GLFW_KEY_SPACE)) state_.playing = !state_.playing;
  if (pressed(GLFW_KEY_RIGHT)) {
    state_.playing = false;
    c.requests.seek = step_forward(x, state_.cursor);
  }
  if (pressed(GLFW_KEY_LEFT)) {
    state_.playing = false;
    c.requests.seek = step_back(x, state_.cursor);
  }
  if (!ctrl && pressed(GLFW_KEY_H)) c.requests.seek = next_hop(x, state_.cursor);
  if (!ctrl && pressed(GLFW_KEY_R)) c.requests.seek = next_retry(x, state_.cursor);
  if (pressed(GLFW_KEY_HOME) || pressed(GLFW_KEY_BACKSPACE)) {
    c.requests.seek = Cursor{0, 0};
    state_.playing = false;
  }
  if (pressed(GLFW_KEY_END)) c.requests.seek = cursor_end(x);
  const bool plus = pressed(GLFW_KEY_EQUAL) || pressed(GLFW_KEY_KP_ADD);
  const bool minus = pressed(GLFW_KEY_MINUS) || pressed(GLFW_KEY_KP_SUBTRACT);
  if (ctrl) {
    if (plus) state_.zoom = std::min(3.0f, state_.zoom + 0.25f);
    if (minus) state_.zoom = std::max(0.75f, state_.zoom - 0.25f);
    if (pressed(GLFW_KEY_0)) state_.zoom = 1.0f;
    if (pressed(GLFW_KEY_O)) open_popup_ = true;
  } else {
    if (plus) state_.speed = std::min(8.0, state_.speed * 2);
    if (minus) state_.speed = std::max(0.125, state_.speed / 2);
    if (pressed(GLFW_KEY_L)) state_.lang = state_.lang == Lang::kEn ? Lang::kJa : Lang::kEn;
    if (pressed(GLFW_KEY_B)) state_.show_raw = !state_.show_raw;
  }
  if (pressed(GLFW_KEY_F1) || (io.KeyShift && pressed(GLFW_KEY_SLASH))) state_.show_help = !state_.show_help;
  if (pressed(GLFW_KEY_ESCAPE)) state_.show_help = false;
}

void App::draw_toolbar(Ctx& c) {
  const float s = c.s;
  // Scenario picker.
  {
    std::string current = fs::path(file_).filename().string();
    for (const auto& e : library_)
      if (fs::path(e.path).filename() == fs::path(file_).filename())
        current = e.slug.substr(0, 3) + (c.lang() == Lang::kJa && !e.title_ja.empty() ? e.title_ja : e.title);
    if (current.empty()) current = "-";
    ImGui::SetNextItemWidth(300 * s);
    if (ImGui::BeginCombo("##scenario", current.c_str())) {
      for (const auto& e : library_) {
        const std::string label =
            e.slug.substr(0, 3) + (c.lang() == Lang::kJa && !e.title_ja.empty() ? e.title_ja : e.title);
        if (ImGui::Selectable(label.c_str(), fs::path(e.path).filename() == fs::path(file_).filename()))
          c.requests.open_file = e.path;
      }
      ImGui::EndCombo();
    }
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", c.tr(S::kScenario));
  }
  ImGui::SameLine();
  if (ImGui::Button(c.tr(S::kOpenFile))) open_popup_ = true;
  ImGui::SameLine(0, 14 * s);
  if (ImGui::Button(c.tr(S::kWhatIf))) ImGui::OpenPopup("whatif");
  report_.widget("what-if");
  draw_what_if(c);
  if (state_.toggles.any()) {
    ImGui::SameLine();
    std::string changed;
    for (const auto& line : describe_toggles(state_.toggles, c.lang())) changed += (changed.empty() ? "" : ", ") + line;
    ImGui::TextColored(ImVec4(0.85f, 0.35f, 0.0f, 1), "%s%s", c.tr(S::kChangedFromScenario), changed.c_str());
  }
  // Zoom, language and help at the right end.
  {
    const float right_w = ImGui::CalcTextSize("A-A+?").x + ImGui::CalcTextSize(c.tr(S::kLanguage)).x +
                          ImGui::GetStyle().FramePadding.x * 8 + ImGui::GetStyle().ItemSpacing.x * 4;
    ImGui::SameLine(std::max(ImGui::GetCursorPosX(), ImGui::GetWindowContentRegionMax().x - right_w));
  }
  if (ImGui::Button("A-")) state_.zoom = std::max(0.75f, state_.zoom - 0.25f);
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", c.tr(S::kHelpZoom));
  ImGui::SameLine();
  if (ImGui::Button("A+")) state_.zoom = std::min(3.0f, state_.zoom + 0.25f);
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", c.tr(S::kHelpZoom));
  ImGui::SameLine();
  if (ImGui::Button(c.tr(S::kLanguage))) state_.lang = state_.lang == Lang::kEn ? Lang::kJa : Lang::kEn;
  ImGui::SameLine();
  if (ImGui::Button("?")) state_.show_help = !state_.show_help;
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", c.tr(S::kHelp));
  const TraceIndex& x = *index_;
  auto button = [&](const char* label, const char* tip) {
    const bool b = ImGui::Button(label);
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", tip);
    ImGui::SameLine();
    return b;
  };
  if (button("|<", c.tr(S::kRestart))) {
    c.requests.seek = Cursor{0, 0};
    state_.playing = false;
  }
  if (button(fmt::format("< {}", c.tr(S::kStepBack)).c_str(), c.tr(S::kHelpStep))) {
    state_.playing = false;
    c.requests.seek = step_back(x, state_.cursor);
  }
  ImGui::PushStyleColor(ImGuiCol_Button, ImVec4(0.25f, 0.55f, 0.95f, 1));
  ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1, 1, 1, 1));
  const std::string play = state_.playing ? fmt::format("|| {}", c.tr(S::kPause)) : fmt::format("> {}", c.tr(S::kPlay));
  if (button(play.c_str(), c.tr(S::kHelpPlay))) {
    if (!state_.playing && state_.cursor == cursor_end(x)) c.requests.seek = Cursor{0, 0};
    state_.playing = !state_.playing;
  }
  ImGui::PopStyleColor(2);
  if (button(fmt::format("{} >", c.tr(S::kStepForward)).c_str(), c.tr(S::kHelpStep))) {
    state_.playing = false;
    c.requests.seek = step_forward(x, state_.cursor);
  }
  if (button(fmt::format("{} >>", c.tr(S::kNextHop)).c_str(), c.tr(S::kHelpHop))) c.requests.seek = next_hop(x, state_.cursor);
  if (button(fmt::format("{} >>", c.tr(S::kNextRetry)).c_str(), c.tr(S::kHelpRetry)))
    c.requests.seek = next_retry(x, state_.cursor);
  if (button(">|", c.tr(S::kHelpEnd))) c.requests.seek = cursor_end(x);
  ImGui::SameLine(0, 14 * s);
  ImGui::SetNextItemWidth(110 * s);
  float speed = static_cast<float>(state_.speed);
  if (ImGui::SliderFloat(c.tr(S::kSpeed), &speed, 0.125f, 8.f, "%.2gx", ImGuiSliderFlags_Logarithmic))
    state_.speed = speed;
  ImGui::SameLine();
  ImGui::SetNextItemWidth(90 * s);
  float waits = static_cast<float>(state_.pace.wait_seconds);
  if (ImGui::SliderFloat(c.tr(S::kWaits), &waits, 0.5f, 20.f, "%.1f s", ImGuiSliderFlags_Logarithmic))
    state_.pace.wait_seconds = waits;
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("%s", c.lang() == Lang::kJa ? "1時間の待ち時間を何秒で見せるか (再送待ちを圧縮)"
                                                 : "How many seconds a one-hour wait takes on screen (compresses retry waits)");
}

void App::draw_what_if(Ctx& c) {
  if (!ImGui::BeginPopup("whatif")) return;
  const bool can_rerun = document_.has_value() && static_cast<bool>(options_.runner);
  if (!can_rerun)
    ImGui::TextDisabled("%s", c.lang() == Lang::kJa ? "記録済みのトレースは再実行できません" : "A recorded trace cannot be re-run");
  ImGui::BeginDisabled(!can_rerun);
  Toggles t = state_.toggles;
  // Each switch: as the scenario says, on or off. Every choice is reported
  // by name ("starttls", "starttls:on", ...) for tests that click them.
  auto tri = [&](const char* label, const char* name, std::optional<bool>& v) {
    const int choice = !v ? 0 : *v ? 1 : 2;
    const char* items[] = {c.tr(S::kAsScenario), c.tr(S::kOn), c.tr(S::kOff)};
    static const char* const kChoiceNames[] = {":as-scenario", ":on", ":off"};
    ImGui::SetNextItemWidth(220 * c.s);
    if (!ImGui::BeginCombo(label, items[choice])) {
      report_.widget(name);
      return;
    }
    for (int k = 0; k < 3; ++k) {
      if (ImGui::Selectable(items[k], k == choice)) v = k == 0 ? std::nullopt : std::optional<bool>(k == 1);
      report_.widget(std::string(name) + kChoiceNames[k]);
    }
    ImGui::EndCombo();
  };
  tri(c.tr(S::kStartTls), "starttls", t.starttls);
  tri(c.tr(S::kAuth), "auth", t.auth);
  tri(c.tr(S::kOpenRelay), "open-relay", t.open_relay);
  {
    std::vector<std::string> servers = document_ ? server_names(*document_) : std::vector<std::string>{};
    ImGui::SetNextItemWidth(220 * c.s);
    if (ImGui::BeginCombo(c.tr(S::kServerDown), t.down_host.empty() ? c.tr(S::kNoServerDown) : t.down_host.c_str())) {
      if (ImGui::Selectable(c.tr(S::kNoServerDown), t.down_host.empty())) t.down_host.clear();
      for (const auto& name : servers)
        if (ImGui::Selectable(name.c_str(), name == t.down_host)) t.down_host = name;
      ImGui::EndCombo();
    }
  }
  ImGui::Checkbox(c.tr(S::kUnknownRecipient), &t.unknown_recipient);
  report_.widget("unknown-recipient");
  if (ImGui::Button(c.tr(S::kResetToggles))) t = {};
  ImGui::EndDisabled();
  if (!(t == state_.toggles)) {
    state_.toggles = t;
    c.requests.rerun = true;
  }
  ImGui::EndPopup();
}

void App::draw_banner(Ctx& c) {
  // The simulated clock, big, then what is happening now, in one sentence.
  ImGui::PushFont(fonts_.big);
  ImGui::TextColored(ImVec4(0.1f, 0.3f, 0.7f, 1), "%s", format_clock(state_.cursor.t).c_str());
  ImGui::PopFont();
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", c.tr(S::kClock));
  ImGui::SameLine(0, 20 * c.s);
  std::string story;
  if (c.scene.last_step) story = describe_event(*index_, *c.scene.last_step, c.lang());
  else {
    const World& w = index_->world();
    story = c.lang() == Lang::kJa && !w.description_ja.empty() ? w.description_ja : w.description;
  }
  ImGui::PushFont(fonts_.big);
  const float avail = ImGui::GetContentRegionAvail().x;
  std::string shown = story;
  while (!shown.empty() && ImGui::CalcTextSize(shown.c_str()).x > avail) {
    // Trim whole UTF-8 characters from the end until it fits.
    do shown.pop_back();
    while (!shown.empty() && (static_cast<unsigned char>(shown.back()) & 0xC0) == 0x80);
    if (!shown.empty() && (static_cast<unsigned char>(shown.back()) & 0x80)) shown.pop_back();
  }
  if (shown.size() < story.size() && shown.size() > 3) shown = shown.substr(0, shown.size() - 3) + "...";
  ImGui::TextUnformatted(shown.c_str());
  ImGui::PopFont();
  if (ImGui::IsItemHovered() && shown != story) {
    ImGui::BeginTooltip();
    ImGui::PushTextWrapPos(ImGui::GetFontSize() * 40);
    ImGui::TextUnformatted(story.c_str());
    ImGui::PopTextWrapPos();
    ImGui::EndTooltip();
  }
}

void App::draw_open_popup(Ctx& c) {
  if (open_popup_) {
    ImGui::OpenPopup("open");
    open_popup_ = false;
  }
  ImGui::SetNextWindowSize({640 * c.s, 420 * c.s}, ImGuiCond_Appearing);
  if (!ImGui::BeginPopupModal("open", nullptr)) return;
  ImGui::TextWrapped("%s", c.tr(S::kDropHint));
  char buffer[1024];
  std::snprintf(buffer, sizeof buffer, "%s", open_path_.c_str());
  ImGui::SetNextItemWidth(-120 * c.s);
  const bool enter = ImGui::InputText("##path", buffer, sizeof buffer, ImGuiInputTextFlags_EnterReturnsTrue);
  open_path_ = buffer;
  ImGui::SameLine();
  if (ImGui::Button(c.tr(S::kOpenFile)) || enter) {
    c.requests.open_file = open_path_;
    ImGui::CloseCurrentPopup();
  }
  ImGui::BeginChild("files", {0, -ImGui::GetFrameHeightWithSpacing()}, true);
  std::error_code ec;
  for (const fs::path& dir : {fs::current_path(ec), fs::path(find_library_dir(repo_dir()))}) {
    if (dir.empty() || !fs::is_directory(dir, ec)) continue;
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.path().extension() == ".json" || e.path().extension() == ".jsonl") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files)
      if (ImGui::Selectable(f.string().c_str(), f.string() == open_path_, ImGuiSelectableFlags_DontClosePopups))
        open_path_ = f.string();
  }
  ImGui::EndChild();
  if (ImGui::Button("Cancel")) ImGui::CloseCurrentPopup();
  ImGui::EndPopup();
}

void App::draw_help() {
  if (!state_.show_help) return;
  const Lang l = state_.lang;
  const ImVec2 size{std::min(760.f * state_.zoom, static_cast<float>(width_) - 40),
                    std::min(520.f * state_.zoom, static_cast<float>(height_) - 40)};
  ImGui::SetNextWindowPos({(static_cast<float>(width_) - size.x) / 2, (static_cast<float>(height_) - size.y) / 2});
  ImGui::SetNextWindowSize(size);
  ImGui::SetNextWindowBgAlpha(0.97f);
  ImGui::Begin("##help", &state_.show_help, ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove);
  ImGui::PushFont(fonts_.big);
  ImGui::TextUnformatted(tr(S::kHelpTitle, l));
  ImGui::PopFont();
  ImGui::Separator();
  for (S k : {S::kHelpPlay, S::kHelpStep, S::kHelpHop, S::kHelpRetry, S::kHelpRestart, S::kHelpEnd, S::kHelpSpeed,
              S::kHelpZoom, S::kHelpLang, S::kHelpRaw, S::kHelpOpen, S::kHelpHelp, S::kHelpMouse}) {
    ImGui::Bullet();
    ImGui::TextWrapped("%s", tr(k, l));
  }
  ImGui::End();
}

void App::frame_ui(double dt) {
  if (fonts_dirty_ || fonts_zoom_ != state_.zoom) build_fonts();
  if (fonts_lang_ != state_.lang) {
    fonts_lang_ = state_.lang;
    load_lesson();
  }
  if (!(pace_built_.wait_seconds == state_.pace.wait_seconds)) {
    pace_ = build_pace(*index_, state_.pace);
    pace_built_ = state_.pace;
    state_.show = pace_.to_show(state_.cursor.t);
  }
  for (const auto& path : dropped_) {
    state_.toggles = {};
    open(path);
  }
  dropped_.clear();
  ImGui_ImplOpenGL3_NewFrame();
  ImGui_ImplGlfw_NewFrame();
  if (pointer_) {
    // In place of the real mouse (set_pointer); the GLFW backend has just
    // written the real one, ImGui reads these in NewFrame (1.86 API).
    ImGuiIO& io = ImGui::GetIO();
    io.MousePos = ImVec2(pointer_->x, pointer_->y);
    io.MouseDown[0] = pointer_->down;
  }
  ImGui::NewFrame();
  advance_playback(*index_, pace_, state_, dt);
  const Scene scene = build_scene(*index_, state_.cursor);
  Requests requests;
  report_.widgets.clear();
  Ctx c{*index_, scene, pace_, state_, requests, fonts_, state_.zoom, &report_};
  handle_keys(c);

  const float W = static_cast<float>(width_), H = static_cast<float>(height_);
  const float s = state_.zoom;
  // The panels draw no background of their own: the frame is cleared to the
  // panel colour (software renderers in classrooms are fill-rate bound).
  const ImGuiWindowFlags fixed = ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove |
                                 ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoBringToFrontOnFocus |
                                 ImGuiWindowFlags_NoBackground;
  const ImGuiStyle& style = ImGui::GetStyle();
  const float toolbar_h =
      ImGui::GetFrameHeight() * 2 + fonts_.big->FontSize + style.WindowPadding.y * 2 + style.ItemSpacing.y * 3;
  const float timeline_h = std::round(96 * s);
  const float side_w = std::round(W * 0.40f);
  const float body_h = H - toolbar_h - timeline_h;

  ImGui::SetNextWindowPos({0, 0});
  ImGui::SetNextWindowSize({W, toolbar_h});
  ImGui::Begin("##toolbar", nullptr, fixed);
  draw_toolbar(c);
  draw_banner(c);
  draw_open_popup(c);
  ImGui::End();

  ImGui::SetNextWindowPos({0, toolbar_h});
  ImGui::SetNextWindowSize({W - side_w, body_h});
  ImGui::PushStyleVar(ImGuiStyleVar_WindowPadding, {0, 0});
  ImGui::Begin("##map", nullptr, fixed);
  {
    const ImVec2 p = ImGui::GetCursorScreenPos();
    map_.draw(c, {W - side_w, body_h});
    const World& w = index_->world();
    const std::string& title = state_.lang == Lang::kJa && !w.title_ja.empty() ? w.title_ja : w.title;
    ImDrawList* dl = ImGui::GetWindowDrawList();
    ImGui::PushFont(fonts_.big);
    if (!title.empty()) {
      const ImVec2 sz = ImGui::CalcTextSize(title.c_str());
      dl->AddRectFilled({p.x + 8, p.y + 6}, {p.x + 20 + sz.x, p.y + 12 + sz.y}, IM_COL32(255, 255, 255, 215), 6);
      dl->AddText({p.x + 14, p.y + 9}, draw::col::kText, title.c_str());
    }
    ImGui::PopFont();
    if (!error_.empty()) {
      const std::string text = std::string(tr(S::kLoadFailed, state_.lang)) + ":\n" + error_;
      const float wrap = W - side_w - 60;
      const ImVec2 sz = ImGui::CalcTextSize(text.c_str(), nullptr, false, wrap);
      const ImVec2 q{p.x + 20, p.y + 60};
      dl->AddRectFilled(q, {q.x + sz.x + 20, q.y + sz.y + 20}, IM_COL32(255, 235, 235, 245), 8);
      dl->AddRect(q, {q.x + sz.x + 20, q.y + sz.y + 20}, draw::col::kClosed, 8, 0, 2);
      dl->AddText(ImGui::GetFont(), ImGui::GetFontSize(), {q.x + 10, q.y + 10}, draw::col::kClosed, text.c_str(), nullptr, wrap);
    } else if (index_->events().empty()) {
      draw::text_centered(dl, {p.x + (W - side_w) / 2, p.y + body_h / 2}, draw::col::kTextDim, tr(S::kDropHint, state_.lang));
    }
  }
  ImGui::End();
  ImGui::PopStyleVar();

  ImGui::SetNextWindowPos({W - side_w, toolbar_h});
  ImGui::SetNextWindowSize({side_w, body_h});
  ImGui::Begin("##side", nullptr, fixed);
  auto flags_for = [&](Tab t) {
    for (Tab f : force_tabs_)
      if (f == t) return ImGuiTabItemFlags_SetSelected;
    return ImGuiTabItemFlags_None;
  };
  const float half = (body_h - style.WindowPadding.y * 2) * 0.56f;
  ImGui::BeginChild("top", {0, half}, false);
  if (ImGui::BeginTabBar("tabs_top")) {
    if (ImGui::BeginTabItem(tr(S::kConversation, state_.lang), nullptr, flags_for(Tab::kConversation))) {
      conversation_.draw(c);
      ImGui::EndTabItem();
    }
    if (ImGui::BeginTabItem(tr(S::kLetter, state_.lang), nullptr, flags_for(Tab::kLetter))) {
      letter_.draw(c);
      ImGui::EndTabItem();
    }
    if (ImGui::BeginTabItem(tr(S::kLesson, state_.lang), nullptr, flags_for(Tab::kLesson))) {
      lesson_.draw(c);
      ImGui::EndTabItem();
    }
    ImGui::EndTabBar();
  }
  ImGui::EndChild();
  ImGui::Separator();
  ImGui::BeginChild("bottom", {0, 0}, false);
  {
    const ImVec2 a = ImGui::GetWindowPos(), b = ImGui::GetWindowSize();
    report_.widgets["side-bottom"] = ImVec4(a.x, a.y, a.x + b.x, a.y + b.y);
  }
  if (ImGui::BeginTabBar("tabs_bottom")) {
    if (ImGui::BeginTabItem(tr(S::kQueue, state_.lang), nullptr, flags_for(Tab::kQueue))) {
      queue_.draw(c);
      ImGui::EndTabItem();
    }
    if (ImGui::BeginTabItem(tr(S::kMailboxes, state_.lang), nullptr, flags_for(Tab::kMailboxes))) {
      mailboxes_.draw(c);
      ImGui::EndTabItem();
    }
    if (ImGui::BeginTabItem(tr(S::kDns, state_.lang), nullptr, flags_for(Tab::kDns))) {
      dns_.draw(c);
      ImGui::EndTabItem();
    }
    if (ImGui::BeginTabItem(tr(S::kEavesdropper, state_.lang), nullptr, flags_for(Tab::kEavesdropper))) {
      eavesdropper_.draw(c);
      ImGui::EndTabItem();
    }
    ImGui::EndTabBar();
  }
  ImGui::EndChild();
  ImGui::End();
  force_tabs_.clear();

  ImGui::SetNextWindowPos({0, H - timeline_h});
  ImGui::SetNextWindowSize({W, timeline_h});
  ImGui::PushStyleVar(ImGuiStyleVar_WindowPadding, {0, 0});
  ImGui::Begin("##timeline", nullptr, fixed);
  timeline_.draw(c, {W, timeline_h});
  ImGui::End();
  ImGui::PopStyleVar();

  draw_help();
  ImGui::Render();
  apply(requests);
}

void App::ensure_offscreen() {
  if (fbo_ != 0 && fbo_w_ == width_ && fbo_h_ == height_) return;
  if (fbo_ == 0) {
    gl_fbo.gen_framebuffers(1, &fbo_);
    gl_fbo.gen_renderbuffers(1, &rbo_);
  }
  gl_fbo.bind_renderbuffer(GL_RENDERBUFFER, rbo_);
  gl_fbo.renderbuffer_storage(GL_RENDERBUFFER, GL_RGBA8, width_, height_);
  gl_fbo.bind_framebuffer(GL_FRAMEBUFFER, fbo_);
  gl_fbo.framebuffer_renderbuffer(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_RENDERBUFFER, rbo_);
  gl_fbo.bind_framebuffer(GL_FRAMEBUFFER, 0);
  fbo_w_ = width_;
  fbo_h_ = height_;
}

double App::render(double dt) {
  const auto start = std::chrono::steady_clock::now();
  glfwPollEvents();
  glfwGetWindowSize(window_, &width_, &height_);
  ensure_offscreen();
  frame_ui(dt);
  const auto drawn = std::chrono::steady_clock::now();
  ui_seconds_ = std::chrono::duration<double>(drawn - start).count();
  gl_fbo.bind_framebuffer(GL_FRAMEBUFFER, fbo_);
  glViewport(0, 0, width_, height_);
  glClearColor(0.985f, 0.985f, 0.975f, 1);
  glClear(GL_COLOR_BUFFER_BIT);
  ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
  glFinish();
  gl_fbo.bind_framebuffer(GL_FRAMEBUFFER, 0);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::vector<unsigned char> App::pixels() const {
  std::vector<unsigned char> rgba(static_cast<std::size_t>(width_) * static_cast<std::size_t>(height_) * 4);
  gl_fbo.bind_framebuffer(GL_FRAMEBUFFER, fbo_);
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  glReadPixels(0, 0, width_, height_, GL_RGBA, GL_UNSIGNED_BYTE, rgba.data());
  gl_fbo.bind_framebuffer(GL_FRAMEBUFFER, 0);
  // OpenGL's first row is the bottom one.
  const std::size_t row = static_cast<std::size_t>(width_) * 4;
  for (int y = 0; y < height_ / 2; ++y)
    std::swap_ranges(rgba.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(y) * row),
                     rgba.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(y + 1) * row),
                     rgba.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(height_ - 1 - y) * row));
  return rgba;
}

bool App::write_png(const std::string& path, std::string& error) const {
  const auto rgba = pixels();
  if (stbi_write_png(path.c_str(), width_, height_, 4, rgba.data(), width_ * 4) == 0) {
    error = "cannot write " + path;
    return false;
  }
  return true;
}

int App::loop() {
  while (!glfwWindowShouldClose(window_)) {
    // Sleep until something happens unless the run is playing.
    if (state_.playing)
      glfwPollEvents();
    else
      glfwWaitEventsTimeout(0.5);
    const double now = glfwGetTime();
    const double dt = std::min(now - last_time_, 0.1);
    last_time_ = now;
    int fb_w = 0, fb_h = 0;
    glfwGetFramebufferSize(window_, &fb_w, &fb_h);
    glfwGetWindowSize(window_, &width_, &height_);
    frame_ui(dt);
    glViewport(0, 0, fb_w, fb_h);
    glClearColor(0.985f, 0.985f, 0.975f, 1);
    glClear(GL_COLOR_BUFFER_BIT);
    ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
    glfwSwapBuffers(window_);
  }
  return 0;
}

std::optional<Tab> parse_tab(const std::string& name) {
  static const std::pair<const char*, Tab> kTabs[] = {
      {"conversation", Tab::kConversation}, {"letter", Tab::kLetter}, {"lesson", Tab::kLesson},
      {"queue", Tab::kQueue}, {"mailboxes", Tab::kMailboxes}, {"dns", Tab::kDns}, {"eavesdropper", Tab::kEavesdropper}};
  for (const auto& [n, t] : kTabs)
    if (name == n) return t;
  return std::nullopt;
}

std::optional<Cursor> parse_moment(const TraceIndex& x, const std::string& text) {
  if (text == "start") return Cursor{0, 0};
  if (text == "end") return cursor_end(x);
  auto number = [](const std::string& s) -> std::optional<std::size_t> {
    if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    return static_cast<std::size_t>(std::stoull(s));
  };
  if (auto n = number(text); n || (text.size() > 1 && text[0] == 'E' && (n = number(text.substr(1))))) {
    if (*n >= x.events().size()) return std::nullopt;
    return cursor_after(x, *n);
  }
  if (text.size() > 1 && text[0] == '#') {
    const auto n = number(text.substr(1));
    if (!n || *n == 0 || *n > x.steps().size()) return std::nullopt;
    return cursor_after(x, x.steps()[*n - 1]);
  }
  const auto colon = text.find(':');
  const std::string name = text.substr(0, colon);
  std::size_t nth = 1;
  if (colon != std::string::npos) {
    const auto n = number(text.substr(colon + 1));
    if (n) nth = *n;
    else if (name.find_first_not_of("0123456789") == std::string::npos) nth = 0;  // a clock "0:20:00"
  }
  if (nth > 0) {
    if (name == "hop" || name == "retry") {
      const auto& points = name == "hop" ? x.hops() : x.retries();
      if (nth > points.size()) return std::nullopt;
      return cursor_after(x, points[nth - 1]);
    }
    for (int k = 0; k < kMarkerKindCount; ++k) {
      const char* names[] = {"sent", "deferred", "retried", "delivered", "bounced", "down", "up", "rejected"};
      if (name != names[k]) continue;
      std::size_t seen = 0;
      for (const auto& m : x.markers())
        if (static_cast<int>(m.kind) == k && ++seen == nth) return cursor_after(x, m.event);
      return std::nullopt;
    }
  }
  if (auto d = sim::parse_duration(text)) return cursor_at_time(x, *d);
  // A clock: H:MM:SS(.mmm)
  int h = 0, m = 0;
  double sec = 0;
  if (std::sscanf(text.c_str(), "%d:%d:%lf", &h, &m, &sec) == 3 && h >= 0 && m >= 0 && sec >= 0)
    return cursor_at_time(x, static_cast<Time>(h) * sim::kHour + static_cast<Time>(m) * sim::kMinute +
                                 static_cast<Time>(sec * 1e6));
  return std::nullopt;
}

int run_view(const AppOptions& options, std::ostream& err) {
  App app(options);
  std::string why;
  if (!app.init(true, why)) {
    err << "mailsim: " << why << "; use `mailsim run FILE` to see the story as text in the terminal.\n";
    return 2;
  }
  std::string file = options.file;
  if (file.empty()) {
    const auto lib = scan_library(options.library_dir.empty() ? find_library_dir(MAILSIM_SOURCE_DIR) : options.library_dir);
    if (!lib.empty()) file = lib.front().path;
  }
  if (!file.empty()) app.open(file);
  if (!app.error().empty()) err << "mailsim: " << app.error() << "\n";
  app.state().playing = app.error().empty() && !app.index().events().empty();
  return app.loop();
}

int take_screenshot(const AppOptions& options, const ShotOptions& shot, std::ostream& out, std::ostream& err) {
  App app(options);
  std::string why;
  if (!app.init(false, why)) {
    err << "mailsim: " << why << "; screenshots need a display (in a terminal: xvfb-run -a mailsim screenshot ...).\n";
    return 2;
  }
  if (!app.open(options.file)) {
    err << "mailsim: " << app.error() << "\n";
    return 2;
  }
  const auto moment = parse_moment(app.index(), shot.at);
  if (!moment) {
    err << "mailsim: --at " << shot.at
        << ": no such moment in this run (use start, end, an event number, #STEP, deferred:N, delivered, hop:N, "
           "retry:N or a time like 5m)\n";
    return 2;
  }
  seek(app.index(), app.pace(), app.state(), *moment);
  app.state().playing = false;
  if (!shot.select.empty()) {
    const auto colon = shot.select.find(':');
    const std::string kind = shot.select.substr(0, colon);
    const std::string value = colon == std::string::npos ? "" : shot.select.substr(colon + 1);
    if (kind == "conn") app.state().selection.conn = std::strtoull(value.c_str(), nullptr, 10);
    else if (kind == "message") app.state().selection.message_id = value;
    else if (kind == "host") app.state().selection.host = app.index().world().find(value);
    else {
      err << "mailsim: --select " << shot.select << ": expected conn:N, message:ID or host:NAME\n";
      return 2;
    }
  }
  for (Tab t : shot.tabs) app.show_tab(t);
  // A few frames: ImGui settles window and tab layout over the first ones.
  for (int i = 0; i < 4; ++i) {
    for (Tab t : shot.tabs) app.show_tab(t);
    app.render(0);
  }
  std::string error;
  if (!app.write_png(shot.out, error)) {
    err << "mailsim: " << error << "\n";
    return 2;
  }
  if (shot.describe) {
    const auto& r = app.report();
    nlohmann::json j;
    j["width"] = app.width();
    j["height"] = app.height();
    j["time"] = app.state().cursor.t;
    j["applied"] = app.state().cursor.applied;
    j["map"] = {r.map_x, r.map_y, r.map_w, r.map_h};
    for (const auto& h : r.hosts) {
      nlohmann::json host = {{"name", h.name}, {"x", h.x}, {"y", h.y}, {"closed", h.closed},
                             {"retry_clock", h.retry_clock}, {"tray", h.tray}};
      if (h.clock_r > 0) host["clock"] = {{"x", h.clock_x}, {"y", h.clock_y}, {"r", h.clock_r}, {"left", h.clock_left}};
      j["hosts"].push_back(std::move(host));
    }
    for (const auto& l : r.letters)
      j["letters"].push_back({{"x", l.x}, {"y", l.y}, {"sealed", l.sealed}, {"conn", l.conn},
                              {"kind", static_cast<int>(l.kind)}});
    out << j.dump() << "\n";
  }
  return 0;
}

}  // namespace mailsim::ui
