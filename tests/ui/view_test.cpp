// The classroom view under Xvfb: render moments offscreen and check what a
// person would check on the picture: the map is drawn, the closed sign shows
// during an outage, an envelope is where the trace says, stepping back shows
// exactly the earlier picture, Japanese text and zoom work, and the
// `mailsim screenshot` command writes such a picture.
#include "story.h"
#include "ui/model/library.h"
#include "ui/model/runner.h"
#include "ui/view/app.h"

#include <catch2/catch.hpp>
#include <imgui.h>
#include <nlohmann/json.hpp>
#include <stb_image.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace mailsim::ui;
namespace fs = std::filesystem;
using mailsim::sim::kMinute;

namespace {

const std::string kData = std::string(MAILSIM_SOURCE_DIR) + "/tests/ui/data/";

// One window per process (GLFW and ImGui are process-wide).
App& app() {
  static App* instance = [] {
    AppOptions o;
    o.map_scenario = kData + "retry-story.json";
    o.runner = simulator_runner();
    auto* a = new App(o);
    std::string error;
    if (!a->init(false, error)) FAIL("no display: " << error << " (run under xvfb-run)");
    return a;
  }();
  return *instance;
}

void open_story() {
  REQUIRE(app().open(kData + "retry-story.jsonl"));
  app().state().lang = Lang::kEn;
  app().state().zoom = 1.0f;
}

struct Image {
  std::vector<unsigned char> rgba;
  int w = 0, h = 0;
  const unsigned char* at(int x, int y) const { return &rgba[(static_cast<std::size_t>(y) * w + x) * 4]; }
};

Image show(const Cursor& c, int frames = 3) {
  seek(app().index(), app().pace(), app().state(), c);
  app().state().playing = false;
  for (int i = 0; i < frames; ++i) app().render(0);
  return {app().pixels(), app().width(), app().height()};
}

// Pixels within `tol` of a colour, in a box around (cx, cy).
int count_near(const Image& img, float cx, float cy, int half, int r, int g, int b, int tol = 12) {
  int n = 0;
  for (int y = std::max(0, static_cast<int>(cy) - half); y < std::min(img.h, static_cast<int>(cy) + half); ++y)
    for (int x = std::max(0, static_cast<int>(cx) - half); x < std::min(img.w, static_cast<int>(cx) + half); ++x) {
      const unsigned char* p = img.at(x, y);
      if (std::abs(p[0] - r) <= tol && std::abs(p[1] - g) <= tol && std::abs(p[2] - b) <= tol) ++n;
    }
  return n;
}

const FrameReport::HostSpot& spot(const char* name) {
  for (const auto& h : app().report().hosts)
    if (h.name == name) return h;
  FAIL("no host " << name << " on the map");
  throw std::logic_error("unreachable");
}

ImVec4 widget(const std::string& name) {
  const auto& w = app().report().widgets;
  const auto it = w.find(name);
  if (it == w.end()) FAIL("no control named " << name << " in the last frame");
  return it->second;
}

// A click as a person makes it: move there, press, release (three frames).
void click(const std::string& name) {
  app().render(0);  // the controls' places in the current frame
  const ImVec4 r = widget(name);
  const float x = (r.x + r.z) / 2, y = (r.y + r.w) / 2;
  for (const bool down : {false, true, false}) {
    app().set_pointer(App::Pointer{x, y, down});
    app().render(0);
  }
  app().render(0);  // a popup that opened settles its size
}

void let_go_of_the_mouse() {
  // Away from every control, then the real (absent) mouse again.
  app().set_pointer(App::Pointer{-100, -100, false});
  app().render(0);
  app().set_pointer(std::nullopt);
}

// Pixels within `tol` of a colour inside a rectangle (min x, min y, max x, max y).
int count_in(const Image& img, const ImVec4& r, int red, int green, int blue, int tol) {
  int n = 0;
  for (int y = std::max(0, static_cast<int>(r.y)); y < std::min(img.h, static_cast<int>(r.w)); ++y)
    for (int x = std::max(0, static_cast<int>(r.x)); x < std::min(img.w, static_cast<int>(r.z)); ++x) {
      const unsigned char* p = img.at(x, y);
      if (std::abs(p[0] - red) <= tol && std::abs(p[1] - green) <= tol && std::abs(p[2] - blue) <= tol) ++n;
    }
  return n;
}

// The closed sign's red and the map's ground colour (ui/view/draw.h).
constexpr int kRed[] = {205, 30, 30};
constexpr int kGround[] = {233, 238, 224};
constexpr int kRoad[] = {120, 124, 130};

}  // namespace

TEST_CASE("the map is drawn: ground, roads and a building for every host", "[ui][view]") {
  open_story();
  const Image img = show(cursor_at_time(app().index(), 10 * mailsim::sim::kMinute));
  const auto& r = app().report();
  REQUIRE(r.map_w > 400);
  REQUIRE(r.map_h > 300);
  // Mostly ground...
  const int ground = count_near(img, r.map_x + r.map_w / 2, r.map_y + r.map_h / 2, static_cast<int>(r.map_h / 2) - 2,
                                kGround[0], kGround[1], kGround[2], 3);
  CHECK(ground > r.map_h * r.map_h / 4);
  // ...a road halfway between Alice's computer and her office...
  const auto& alice = spot("alice-pc");
  const auto& alpha = spot("mail.alpha.example");
  CHECK(count_near(img, (alice.x + alpha.x) / 2, (alice.y + alpha.y) / 2, 6, kRoad[0], kRoad[1], kRoad[2], 4) > 20);
  // ...and at every host something that is not ground.
  REQUIRE(r.hosts.size() == 6);
  for (const auto& h : r.hosts) {
    INFO(h.name);
    CHECK(count_near(img, h.x, h.y, 20, kGround[0], kGround[1], kGround[2], 3) < 20 * 20);
  }
}

TEST_CASE("the closed sign and the retry clock show during the outage, and go after it", "[ui][view]") {
  open_story();
  const auto& x = app().index();
  const Image during = show(cursor_at_time(x, 10 * mailsim::sim::kMinute));
  const auto beta = spot("mx.beta.example");
  const auto alpha = spot("mail.alpha.example");
  CHECK(beta.closed);
  CHECK(count_near(during, beta.x, beta.y, 40, kRed[0], kRed[1], kRed[2]) > 300);
  // The retry clock's orange rim, on the tray left of Alice's office.
  CHECK(alpha.retry_clock);
  REQUIRE(alpha.clock_r > 0);
  CHECK(alpha.clock_x < alpha.x);
  CHECK(count_near(during, alpha.clock_x, alpha.clock_y, static_cast<int>(alpha.clock_r) + 4, 230, 140, 0, 20) > 30);
  const Image after = show(cursor_end(x));
  CHECK_FALSE(spot("mx.beta.example").closed);
  CHECK(count_near(after, beta.x, beta.y, 40, kRed[0], kRed[1], kRed[2]) < 20);
  CHECK_FALSE(spot("mail.alpha.example").retry_clock);
}

TEST_CASE("a postcard is drawn where the trace puts it on the road", "[ui][view]") {
  open_story();
  const auto& x = app().index();
  const Flight* letter = nullptr;
  for (const auto& f : x.flights())
    if (f.kind == FlightKind::kLetter && !f.sealed && x.connection(f.conn)->port == 25) letter = &f;
  REQUIRE(letter);
  for (double frac : {0.3, 0.7}) {
    const Time t = letter->start + static_cast<Time>(frac * static_cast<double>(letter->end - letter->start));
    const Image img = show(cursor_at_time(x, t));
    // Where the trace says: `frac` of the way from Alice's office to Bob's.
    const auto a = spot("mail.alpha.example"), b = spot("mx.beta.example");
    const float ex = a.x + (b.x - a.x) * static_cast<float>(frac), ey = a.y + (b.y - a.y) * static_cast<float>(frac);
    bool reported = false;
    for (const auto& l : app().report().letters)
      if (l.kind == FlightKind::kLetter && std::abs(l.x - ex) < 1.5f && std::abs(l.y - ey) < 1.5f) reported = true;
    CHECK(reported);
    // A postcard: white card with blue lines of readable text, on its lane just off the road.
    INFO("at " << frac << " of the road, around " << ex << "," << ey);
    CHECK(count_near(img, ex, ey + 8, 26, 255, 255, 255, 4) > 150);
    CHECK(count_near(img, ex, ey + 8, 26, 40, 80, 200, 40) > 15);
  }
}

TEST_CASE("after STARTTLS the letter travels as a sealed envelope with a lock", "[ui][view]") {
  open_story();
  const auto& x = app().index();
  const Flight* sealed = nullptr;
  for (const auto& f : x.flights())
    if (f.kind == FlightKind::kLetter && f.sealed) sealed = &f;
  REQUIRE(sealed);
  const Image img = show(cursor_at_time(x, (sealed->start + sealed->end) / 2));
  const auto a = spot("alice-pc"), b = spot("mail.alpha.example");
  const float ex = (a.x + b.x) / 2, ey = (a.y + b.y) / 2;
  CHECK(count_near(img, ex, ey + 8, 28, 238, 214, 160, 6) > 150);  // kraft paper
  CHECK(count_near(img, ex, ey + 8, 28, 214, 160, 20, 20) > 10);   // the padlock
  // No postcard white there.
  CHECK(count_near(img, ex, ey + 8, 20, 255, 255, 255, 2) < 40);
}

TEST_CASE("stepping to the end and back shows exactly the same pictures", "[ui][view]") {
  open_story();
  const auto& x = app().index();
  std::vector<Cursor> cursors{Cursor{0, 0}};
  while (true) {
    const Cursor n = step_forward(x, cursors.back());
    if (n == cursors.back()) break;
    cursors.push_back(n);
  }
  REQUIRE(cursors.size() > 50);
  std::map<std::size_t, std::vector<unsigned char>> forward;
  for (std::size_t k = 0; k < cursors.size(); ++k) {
    const Image img = show(cursors[k], 2);
    if (k % 7 == 0) forward[k] = img.rgba;
  }
  Cursor c = cursors.back();
  for (std::size_t k = cursors.size() - 1; k-- > 0;) {
    c = step_back(x, c);
    REQUIRE(c == cursors[k]);
    if (forward.count(k)) {
      const Image img = show(c, 2);
      INFO("step " << k);
      CHECK(img.rgba == forward[k]);
    }
  }
}

TEST_CASE("every library scenario opens, steps to the end and back", "[ui][view][library]") {
  const auto library = scan_library(std::string(MAILSIM_SOURCE_DIR) + "/scenarios");
  if (library.empty()) WARN("scenarios/ has no scenarios yet: only the story trace is played");
  for (const auto& entry : library) {
    INFO(entry.path);
    REQUIRE(app().open(entry.path));
    const auto& x = app().index();
    Cursor c{0, 0};
    std::size_t steps = 0;
    const Image first = show(c, 2);
    while (true) {
      const Cursor n = step_forward(x, c);
      if (n == c) break;
      c = n;
      if (++steps % 5 == 0) app().render(0);
    }
    CHECK(c == cursor_end(x));
    const Image last = show(c, 2);
    while (!(c == Cursor{0, 0})) c = step_back(x, c);
    const Image again = show(c, 2);
    CHECK(again.rgba == first.rgba);
    const std::string out = (fs::temp_directory_path() / ("mailsim-" + entry.slug + ".png")).string();
    std::string error;
    CHECK(app().write_png(out, error));
    (void)last;
  }
}

TEST_CASE("Japanese interface text is drawn with Japanese glyphs", "[ui][view]") {
  open_story();
  const Cursor c = cursor_at_time(app().index(), 10 * mailsim::sim::kMinute);
  const Image en = show(c);
  app().state().lang = Lang::kJa;
  const Image ja = show(c);
  ImFont* font = ImGui::GetIO().Fonts->Fonts[0];
  for (const char32_t ch : {U'郵', U'便', U'局', U'休', U'業', U'再', U'送', U'ア', U'の'}) {
    INFO("U+" << std::hex << static_cast<unsigned>(ch));
    CHECK(font->FindGlyphNoFallback(static_cast<ImWchar>(ch)) != nullptr);
  }
  // The toolbar and the banner changed language.
  int differ = 0;
  for (int y = 0; y < 90; ++y)
    for (int xx = 0; xx < en.w; ++xx)
      if (std::memcmp(en.at(xx, y), ja.at(xx, y), 3) != 0) ++differ;
  CHECK(differ > 2000);
  app().state().lang = Lang::kEn;
}

TEST_CASE("zoom makes the interface larger for a projector", "[ui][view]") {
  open_story();
  const Cursor c = cursor_at_time(app().index(), 10 * mailsim::sim::kMinute);
  show(c);
  const float toolbar = app().report().map_y;
  app().state().zoom = 1.5f;
  show(c);
  const float zoomed = app().report().map_y;
  CHECK(zoomed > toolbar * 1.35f);
  CHECK(ImGui::GetFontSize() >= 26.f);
  app().state().zoom = 1.0f;
}

TEST_CASE("mailsim screenshot writes the picture of a moment", "[ui][view][cli]") {
  const fs::path dir = fs::temp_directory_path() / "mailsim-shot-test";
  fs::create_directories(dir);
  const fs::path png = dir / "outage.png", json = dir / "outage.json";
  const std::string cmd = std::string("'") + MAILSIM_BINARY + "' screenshot '" + kData + "retry-story.jsonl' --map '" + kData +
                          "retry-story.json' --at deferred:2 --size 1024x700 --describe --out '" + png.string() + "' > '" +
                          json.string() + "'";
  REQUIRE(std::system(cmd.c_str()) == 0);
  int w = 0, h = 0, n = 0;
  unsigned char* data = stbi_load(png.string().c_str(), &w, &h, &n, 4);
  REQUIRE(data != nullptr);
  Image img{std::vector<unsigned char>(data, data + static_cast<std::size_t>(w) * h * 4), w, h};
  stbi_image_free(data);
  CHECK(w == 1024);
  CHECK(h == 700);
  std::ifstream in(json);
  const auto report = nlohmann::json::parse(in);
  bool found = false;
  for (const auto& host : report["hosts"])
    if (host["name"] == "mx.beta.example") {
      found = true;
      CHECK(host["closed"] == true);
      CHECK(count_near(img, host["x"].get<float>(), host["y"].get<float>(), 40, kRed[0], kRed[1], kRed[2]) > 200);
    }
  CHECK(found);
  fs::remove_all(dir);
}

TEST_CASE("without a display the view says so and points to mailsim run", "[ui][view][cli]") {
  const fs::path err = fs::temp_directory_path() / "mailsim-nodisplay.txt";
  const std::string cmd = std::string("env -u DISPLAY -u WAYLAND_DISPLAY '") + MAILSIM_BINARY + "' open '" + kData +
                          "retry-story.json' 2> '" + err.string() + "'";
  const int status = std::system(cmd.c_str());
  CHECK(WEXITSTATUS(status) == 2);
  std::ifstream in(err);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK_THAT(text, Catch::Contains("no display"));
  CHECK_THAT(text, Catch::Contains("mailsim run"));
  CHECK(std::count(text.begin(), text.end(), '\n') == 1);  // one sentence
  fs::remove(err);
}

TEST_CASE("a moment can be named in every way the screenshot command accepts", "[ui][view][cli]") {
  open_story();
  const auto& x = app().index();
  CHECK(parse_moment(x, "start") == Cursor{0, 0});
  CHECK(parse_moment(x, "end") == cursor_end(x));
  CHECK(parse_moment(x, "12") == cursor_after(x, 12));
  CHECK(parse_moment(x, "E12") == cursor_after(x, 12));
  CHECK(parse_moment(x, "#1") == cursor_after(x, x.steps()[0]));
  CHECK(parse_moment(x, "5m") == cursor_at_time(x, 5 * mailsim::sim::kMinute));
  CHECK(parse_moment(x, "0:20:00") == cursor_at_time(x, 20 * mailsim::sim::kMinute));
  REQUIRE(parse_moment(x, "deferred:2"));
  CHECK(parse_moment(x, "deferred:2")->t > parse_moment(x, "deferred:1")->t);
  CHECK(parse_moment(x, "delivered"));
  CHECK_FALSE(parse_moment(x, "bounced"));
  CHECK_FALSE(parse_moment(x, "nonsense"));
  CHECK_FALSE(parse_moment(x, "999999"));
}

TEST_CASE("scenario 05 at its second deferral: a retry clock on the tray counts down, the queue shows the next try",
          "[ui][view][retry]") {
  app().state().toggles = {};
  REQUIRE(app().open(std::string(MAILSIM_SOURCE_DIR) + "/scenarios/05-retry-backoff.json"));
  app().state().lang = Lang::kEn;
  const auto& x = app().index();
  const auto at = parse_moment(x, "deferred:2");
  REQUIRE(at);
  // The model: the letter waits at Alice's office, its next try about 10 minutes away.
  const Scene scene = build_scene(x, *at);
  const QueueEntryState* entry = nullptr;
  for (const auto& q : scene.queue)
    if (q.host == "mail.alpha.example" && q.state == "deferred") entry = &q;
  REQUIRE(entry);
  CHECK(entry->next_retry > at->t + 9 * kMinute);
  CHECK(entry->next_retry < at->t + 11 * kMinute);

  app().show_tab(Tab::kQueue);
  const Image img = show(*at);
  const auto alpha = spot("mail.alpha.example");
  CHECK(alpha.tray == 1);
  CHECK(alpha.retry_clock);
  REQUIRE(alpha.clock_r > 0);
  // Beside the tray, left of the building, the wait just begun: nearly all still to go.
  CHECK(alpha.clock_x < alpha.x);
  CHECK(alpha.clock_left > 0.95f);
  const int r = static_cast<int>(alpha.clock_r);
  CHECK(count_near(img, alpha.clock_x, alpha.clock_y, r + 4, 230, 140, 0, 20) > 30);    // the orange rim
  const int full = count_near(img, alpha.clock_x, alpha.clock_y, r, 255, 190, 90, 10);   // the wait to go
  CHECK(full > r * r);
  // "Next try" in the queue panel: the clock time and "in 10 min ..." in orange.
  const ImVec4 cell = widget("next-try:mail.alpha.example:" + entry->queue_id);
  CHECK(cell.z > cell.x);
  CHECK(count_in(img, cell, 230, 140, 0, 30) > 20);

  // Five minutes later the clock has counted half of the wait down.
  const Image later = show(cursor_at_time(x, at->t + 5 * kMinute));
  const auto alpha_later = spot("mail.alpha.example");
  CHECK(alpha_later.retry_clock);
  CHECK(alpha_later.clock_left > 0.4f);
  CHECK(alpha_later.clock_left < 0.6f);
  const int half = count_near(later, alpha_later.clock_x, alpha_later.clock_y, r, 255, 190, 90, 10);
  CHECK(half < full * 3 / 4);
  CHECK(half > full / 4);
  // Delivered at the end: no clock, no tray.
  show(cursor_end(x));
  CHECK_FALSE(spot("mail.alpha.example").retry_clock);
  CHECK(spot("mail.alpha.example").tray == 0);
}

TEST_CASE("clicking STARTTLS on in the window re-runs the scenario: Eve's postcards become ciphertext",
          "[ui][view][toggles]") {
  app().state().toggles = {};
  REQUIRE(app().open(std::string(MAILSIM_SOURCE_DIR) + "/scenarios/09-starttls-eavesdropper.json"));
  app().state().lang = Lang::kEn;
  auto captures = [] {
    std::size_t readable = 0, sealed = 0;
    bool door_code = false;
    for (std::size_t i : app().index().captures()) {
      const auto* cap = app().index().events()[i].as<mailsim::sim::CapturePayload>();
      (cap->encrypted ? sealed : readable) += 1;
      if (!cap->encrypted && cap->data.value.find("4711") != std::string::npos) door_code = true;
    }
    return std::make_tuple(readable, sealed, door_code);
  };
  const auto [readable_before, sealed_before, code_before] = captures();
  CHECK(readable_before > 5);
  CHECK(sealed_before == 0);
  CHECK(code_before);
  app().show_tab(Tab::kEavesdropper);
  const Image before = show(cursor_end(app().index()));
  const ImVec4 panel = widget("side-bottom");
  constexpr int kOchre[] = {150, 110, 0};   // ciphertext lines (side_panels.cpp)
  const int ochre_before = count_in(before, panel, kOchre[0], kOchre[1], kOchre[2], 30);

  click("what-if");
  click("starttls");
  click("starttls:on");
  let_go_of_the_mouse();
  // The toggle is set and the scenario ran again with it.
  REQUIRE(app().state().toggles.starttls.has_value());
  CHECK(*app().state().toggles.starttls);
  const auto [readable_after, sealed_after, code_after] = captures();
  CHECK(sealed_after > 5);
  CHECK_FALSE(code_after);  // the door code no longer crosses the road readable
  (void)readable_after;
  // And it shows: the eavesdropper panel fills with ciphertext lines.
  app().show_tab(Tab::kEavesdropper);
  const Image after = show(cursor_end(app().index()));
  const int ochre_after = count_in(after, widget("side-bottom"), kOchre[0], kOchre[1], kOchre[2], 30);
  CHECK(ochre_after > ochre_before + 150);
  app().state().toggles = {};
}

TEST_CASE("clicking \"recipient unknown\" in the window re-runs the scenario: a letter returns to sender",
          "[ui][view][toggles]") {
  app().state().toggles = {};
  REQUIRE(app().open(std::string(MAILSIM_SOURCE_DIR) + "/scenarios/01-basic-send-pop3.json"));
  app().state().lang = Lang::kEn;
  CHECK(app().index().bounce_events().empty());
  show(cursor_end(app().index()));
  for (const auto& h : app().report().hosts) CHECK(h.bounces == 0);

  click("what-if");
  click("unknown-recipient");
  let_go_of_the_mouse();
  CHECK(app().state().toggles.unknown_recipient);
  REQUIRE_FALSE(app().index().bounce_events().empty());
  const Image img = show(cursor_end(app().index()));
  const FrameReport::HostSpot* bouncer = nullptr;
  for (const auto& h : app().report().hosts)
    if (h.bounces > 0) bouncer = &h;
  REQUIRE(bouncer);
  // The red return-to-sender envelope beside that office (ui/view/map_panel.cpp: right of the roof).
  CHECK(count_near(img, bouncer->x + 46, bouncer->y - 30, 18, 215, 40, 40, 12) > 60);
  app().state().toggles = {};
}
