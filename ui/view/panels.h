// The panels of the classroom view. Each is a struct with draw(Ctx&); they
// read the trace index, the scene and the view state, and change things only
// through the requests in Ctx (seek, select, re-run, open). Panel-local
// memory (scroll positions, last cursor seen) lives in the struct.
#pragma once

#include "ui/model/library.h"
#include "ui/model/pacing.h"
#include "ui/model/scene.h"
#include "ui/model/trace_index.h"
#include "ui/model/view_state.h"

#include <imgui.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mailsim::ui {

enum class Tab { kConversation, kLetter, kLesson, kQueue, kMailboxes, kDns, kEavesdropper };

struct Fonts {
  ImFont* text = nullptr;   // proportional, Latin + Japanese
  ImFont* mono = nullptr;   // protocol lines, headers, raw bytes
  ImFont* big = nullptr;    // the story line, headings
};

// Where things were drawn in the last frame, in window pixels (top-left
// origin), for tests that look at the pixels.
struct FrameReport {
  float map_x = 0, map_y = 0, map_w = 0, map_h = 0;
  struct HostSpot {
    std::string name;
    float x = 0, y = 0;
    bool closed = false, retry_clock = false;
    int tray = 0, bounces = 0;
    float clock_x = 0, clock_y = 0, clock_r = 0;  // the retry clock's face (r = 0: none drawn)
    float clock_left = 0;                          // the part of the wait still to go, 0..1
  };
  struct LetterSpot {
    float x = 0, y = 0;  // on the road (before the lane offset)
    bool sealed = false;
    FlightKind kind = FlightKind::kLine;
    ConnId conn = 0;
  };
  std::vector<HostSpot> hosts;
  std::vector<LetterSpot> letters;
  // Controls and areas by name ("what-if", "starttls", "starttls:on",
  // "unknown-recipient", "side-bottom", ...): min x, min y, max x, max y.
  std::map<std::string, ImVec4> widgets;
  void widget(const std::string& name) {  // the last ImGui item
    const ImVec2 a = ImGui::GetItemRectMin(), b = ImGui::GetItemRectMax();
    widgets[name] = ImVec4(a.x, a.y, b.x, b.y);
  }
};

// What a panel asks the App to do after the frame.
struct Requests {
  std::optional<Cursor> seek;
  std::optional<double> seek_show;
  std::optional<std::string> open_file;
  bool rerun = false;           // toggles changed
  std::optional<Tab> show_tab;  // bring a tab to the front
};

struct Ctx {
  const TraceIndex& index;
  const Scene& scene;
  const PaceMap& pace;
  ViewState& state;
  Requests& requests;
  const Fonts& fonts;
  float s;  // pixel scale (zoom)
  FrameReport* report = nullptr;  // filled by the map when not null
  Lang lang() const { return state.lang; }
  const char* tr(S key) const { return ui::tr(key, state.lang); }
  // Selects what the user clicked, in every panel at once.
  void select_connection(ConnId id);
  void select_message(const std::string& id);
  void select_host(std::size_t host);
};

struct MapPanel {
  void draw(Ctx& c, ImVec2 size);
};

struct ConversationPanel {
  ConnId last_conn = 0;
  std::size_t last_lines = 0;
  void draw(Ctx& c);
};

struct LetterPanel {
  void draw(Ctx& c);
};

struct QueuePanel {
  void draw(Ctx& c);
};

struct MailboxPanel {
  void draw(Ctx& c);
};

struct DnsPanel {
  std::size_t last_count = 0;
  void draw(Ctx& c);
};

struct EavesdropperPanel {
  std::size_t last_count = 0;
  void draw(Ctx& c);
};

struct TimelinePanel {
  void draw(Ctx& c, ImVec2 size);
};

struct LessonPanel {
  std::string path;               // the lesson file shown
  std::vector<Block> blocks;
  void load(const std::string& lesson_path);
  void draw(Ctx& c);
};

// Wrapped text made of styled spans (lessons): words for Latin text, single
// characters for Japanese, so both wrap at the panel's edge.
void draw_spans(const std::vector<Span>& spans, const Fonts& fonts, float wrap_width, ImU32 text_colour);

}  // namespace mailsim::ui
