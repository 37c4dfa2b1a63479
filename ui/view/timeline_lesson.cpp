// The timeline of the whole run (on the paced axis, so busy moments get room)
// and the lesson panel (md4c blocks drawn with ImGui).
#include "ui/view/draw.h"
#include "ui/view/panels.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

namespace mailsim::ui {

namespace {

ImU32 marker_colour(MarkerKind k) {
  switch (k) {
    case MarkerKind::kSent: return draw::col::kSent;
    case MarkerKind::kDeferred: return draw::col::kDeferred;
    case MarkerKind::kRetried: return IM_COL32(200, 160, 0, 255);
    case MarkerKind::kDelivered: return draw::col::kDelivered;
    case MarkerKind::kBounced: return draw::col::kBounce;
    case MarkerKind::kDown: return draw::col::kClosed;
    case MarkerKind::kUp: return IM_COL32(60, 160, 200, 255);
    case MarkerKind::kRejected: return IM_COL32(150, 20, 60, 255);
  }
  return draw::col::kText;
}

S marker_name(MarkerKind k) { return static_cast<S>(static_cast<int>(S::kMarkerSent) + static_cast<int>(k)); }

// A marker's shape, so colour is not the only cue.
void marker_shape(ImDrawList* dl, MarkerKind k, ImVec2 p, float r, ImU32 colour) {
  switch (k) {
    case MarkerKind::kSent: dl->AddTriangleFilled({p.x - r, p.y - r}, {p.x - r, p.y + r}, {p.x + r, p.y}, colour); break;
    case MarkerKind::kDeferred: dl->AddRectFilled({p.x - r * 0.8f, p.y - r * 0.8f}, {p.x + r * 0.8f, p.y + r * 0.8f}, colour); break;
    case MarkerKind::kRetried: dl->AddCircle(p, r, colour, 16, 2.5f); break;
    case MarkerKind::kDelivered: dl->AddCircleFilled(p, r, colour, 16); break;
    case MarkerKind::kBounced:
    case MarkerKind::kRejected:
      dl->AddLine({p.x - r, p.y - r}, {p.x + r, p.y + r}, colour, 3);
      dl->AddLine({p.x - r, p.y + r}, {p.x + r, p.y - r}, colour, 3);
      break;
    case MarkerKind::kDown:
    case MarkerKind::kUp:
      dl->AddTriangleFilled({p.x - r, p.y + r}, {p.x + r, p.y + r}, {p.x, p.y - r}, colour);
      break;
  }
}

}  // namespace

void TimelinePanel::draw(Ctx& c, ImVec2 size) {
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImVec2 p0 = ImGui::GetCursorScreenPos();
  const float pad = 16 * c.s;
  const float x0 = p0.x + pad, x1 = p0.x + size.x - pad;
  const float total = static_cast<float>(std::max(c.pace.total_show(), 1e-6));
  auto x_of_show = [&](double s) { return x0 + (x1 - x0) * static_cast<float>(s) / total; };
  auto x_of = [&](Time t) { return x_of_show(c.pace.to_show(t)); };
  const float bar_y = p0.y + size.y * 0.58f;
  const float bar_h = std::max(8.f, 10 * c.s);

  ImGui::InvisibleButton("timeline", size);
  const bool hovered = ImGui::IsItemHovered();
  if (ImGui::IsItemActive() && ImGui::IsMouseDown(ImGuiMouseButton_Left)) {
    const float mx = std::clamp(ImGui::GetIO().MousePos.x, x0, x1);
    c.requests.seek_show = static_cast<double>((mx - x0) / (x1 - x0) * total);
  }
  dl->AddLine(p0, {p0.x + size.x, p0.y}, IM_COL32(215, 218, 226, 255));
  // The bar, with the part already played filled.
  dl->AddRectFilled({x0, bar_y - bar_h / 2}, {x1, bar_y + bar_h / 2}, IM_COL32(210, 214, 222, 255), bar_h / 2);
  const float cx = x_of_show(c.state.show);
  dl->AddRectFilled({x0, bar_y - bar_h / 2}, {cx, bar_y + bar_h / 2}, IM_COL32(120, 170, 240, 255), bar_h / 2);
  // Outages as red stretches under the bar.
  {
    std::map<std::string, Time> down_since;
    for (std::size_t i : c.index.outage_events()) {
      const auto& e = c.index.events()[i];
      const auto* o = e.as<sim::OutagePayload>();
      const bool down = e.kind == sim::EventKind::kHostDown || e.kind == sim::EventKind::kLinkDown ||
                        e.kind == sim::EventKind::kPortDown;
      if (down) {
        down_since.emplace(o->target, e.time);
      } else if (auto it = down_since.find(o->target); it != down_since.end()) {
        dl->AddRectFilled({x_of(it->second), bar_y + bar_h / 2 + 2}, {x_of(e.time), bar_y + bar_h / 2 + 6 * c.s},
                          IM_COL32(220, 60, 60, 200));
        down_since.erase(it);
      }
    }
    for (const auto& [target, since] : down_since)
      dl->AddRectFilled({x_of(since), bar_y + bar_h / 2 + 2}, {x1, bar_y + bar_h / 2 + 6 * c.s}, IM_COL32(220, 60, 60, 200));
  }
  // Markers above the bar; hovering one names it.
  const float r = 6 * c.s;
  const Marker* hovered_marker = nullptr;
  const ImVec2 mouse = ImGui::GetIO().MousePos;
  // Markers that would overlap stack upwards (at most three high).
  float last_x = -1e9f;
  int stack = 0;
  for (const auto& m : c.index.markers()) {
    const float x = x_of(m.time);
    stack = x - last_x < r * 1.6f ? std::min(stack + 1, 2) : 0;
    if (stack == 0) last_x = x;
    const ImVec2 p{x, bar_y - bar_h / 2 - r - 3 - static_cast<float>(stack) * (r * 2 + 2)};
    marker_shape(dl, m.kind, p, r, marker_colour(m.kind));
    if (hovered && std::abs(mouse.x - x) < r + 1 && std::abs(mouse.y - p.y) < r + 2) hovered_marker = &m;
  }
  // Clock labels under the bar.
  const int labels = std::max(2, static_cast<int>(size.x / (160 * c.s)));
  for (int k = 0; k <= labels; ++k) {
    const double s = total * k / labels;
    const float x = x_of_show(s);
    const std::string text = format_clock(c.pace.to_trace(s));
    const ImVec2 sz = ImGui::CalcTextSize(text.c_str());
    const float tx = std::clamp(x - sz.x / 2, p0.x + 2, p0.x + size.x - sz.x - 2);
    dl->AddLine({x, bar_y + bar_h / 2}, {x, bar_y + bar_h / 2 + 4}, draw::col::kTextDim);
    dl->AddText({tx, bar_y + bar_h / 2 + 6 * c.s}, draw::col::kTextDim, text.c_str());
  }
  // The cursor.
  dl->AddLine({cx, p0.y + 2}, {cx, p0.y + size.y - 2}, draw::col::kSelect, 3);
  dl->AddCircleFilled({cx, bar_y}, bar_h, draw::col::kSelect, 20);
  if (hovered_marker != nullptr) {
    ImGui::BeginTooltip();
    ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(marker_colour(hovered_marker->kind)), "%s",
                       c.tr(marker_name(hovered_marker->kind)));
    ImGui::Text("%s  %s", format_clock(hovered_marker->time).c_str(), hovered_marker->host.c_str());
    ImGui::PushTextWrapPos(ImGui::GetFontSize() * 30);
    ImGui::TextUnformatted(describe_event(c.index, hovered_marker->event, c.lang()).c_str());
    ImGui::PopTextWrapPos();
    ImGui::EndTooltip();
    if (ImGui::IsMouseClicked(ImGuiMouseButton_Left)) c.requests.seek = cursor_after(c.index, hovered_marker->event);
  } else if (hovered) {
    const float mx = std::clamp(mouse.x, x0, x1);
    ImGui::SetTooltip("%s", format_clock(c.pace.to_trace(static_cast<double>((mx - x0) / (x1 - x0) * total))).c_str());
  }
  // Legend along the top, in a smaller size.
  const float fs = ImGui::GetFontSize() * 0.8f;
  float lx = x1;
  for (int k = kMarkerKindCount - 1; k >= 0; --k) {
    const auto kind = static_cast<MarkerKind>(k);
    const char* name = c.tr(marker_name(kind));
    const float w = ImGui::GetFont()->CalcTextSizeA(fs, 1e9f, 0, name).x;
    lx -= w + r * 2 + 16 * c.s;
    marker_shape(dl, kind, {lx + r, p0.y + 3 + fs / 2}, r * 0.7f, marker_colour(kind));
    dl->AddText(ImGui::GetFont(), fs, {lx + r * 2 + 3, p0.y + 3}, draw::col::kTextDim, name);
  }
  dl->AddText(ImGui::GetFont(), fs, {x0, p0.y + 3}, draw::col::kTextDim, c.tr(S::kTimeline));
}

void LessonPanel::load(const std::string& lesson_path) {
  if (lesson_path == path) return;
  path = lesson_path;
  blocks.clear();
  if (path.empty()) return;
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  blocks = parse_lesson(text.str());
}

void draw_spans(const std::vector<Span>& spans, const Fonts& fonts, float wrap_width, ImU32 text_colour) {
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImVec2 origin = ImGui::GetCursorScreenPos();
  const float line_h = ImGui::GetTextLineHeightWithSpacing();
  float x = 0, y = 0;
  for (const auto& span : spans) {
    ImFont* font = span.style == Span::kCode ? fonts.mono : ImGui::GetFont();
    const float fs = ImGui::GetFontSize();
    const ImU32 colour = span.style == Span::kCode      ? IM_COL32(150, 40, 40, 255)
                         : span.style == Span::kStrong  ? IM_COL32(10, 40, 120, 255)
                         : span.style == Span::kLink    ? IM_COL32(30, 90, 200, 255)
                         : span.style == Span::kEmphasis ? IM_COL32(70, 70, 90, 255)
                                                         : text_colour;
    // Units: a word with its trailing space, or one CJK character.
    std::size_t i = 0;
    const std::string& t = span.text;
    while (i < t.size()) {
      std::size_t j = i;
      const auto lead = static_cast<unsigned char>(t[i]);
      if (lead == '\n') {
        x = 0;
        y += line_h;
        ++i;
        continue;
      }
      if (lead >= 0xE0) {  // a 3-byte UTF-8 character: CJK, kana, punctuation
        j = i + 3;
      } else {
        while (j < t.size() && t[j] != ' ' && t[j] != '\n' && static_cast<unsigned char>(t[j]) < 0xE0) ++j;
        while (j < t.size() && t[j] == ' ') ++j;
      }
      j = std::min(j, t.size());
      const ImVec2 sz = font->CalcTextSizeA(fs, 1e9f, 0, t.data() + i, t.data() + j);
      if (x > 0 && x + sz.x > wrap_width) {
        x = 0;
        y += line_h;
        if (t[i] == ' ') {
          i = j;
          continue;
        }
      }
      const ImVec2 p{origin.x + x, origin.y + y};
      if (span.style == Span::kCode) dl->AddRectFilled({p.x - 1, p.y}, {p.x + sz.x + 1, p.y + fs}, IM_COL32(238, 236, 230, 255), 2);
      dl->AddText(font, fs, p, colour, t.data() + i, t.data() + j);
      if (span.style == Span::kStrong) dl->AddText(font, fs, {p.x + 0.7f, p.y}, colour, t.data() + i, t.data() + j);
      x += sz.x;
      i = j;
    }
  }
  ImGui::Dummy({wrap_width, y + line_h});
}

void LessonPanel::draw(Ctx& c) {
  if (blocks.empty()) {
    ImGui::TextWrapped("%s", c.tr(S::kNoLesson));
    return;
  }
  ImGui::BeginChild("lesson", {0, 0}, false);
  const float wrap = ImGui::GetContentRegionAvail().x - 8;
  const ImU32 text = draw::col::kText;
  for (const auto& b : blocks) {
    const float indent = 18.f * c.s * static_cast<float>(std::max(0, b.level - 1));
    switch (b.kind) {
      case Block::kHeading: {
        ImGui::Dummy({1, 4 * c.s});
        ImGui::PushFont(b.level <= 1 ? c.fonts.big : ImGui::GetFont());
        draw_spans(b.spans, c.fonts, wrap, b.level <= 1 ? IM_COL32(20, 50, 120, 255) : IM_COL32(40, 80, 150, 255));
        ImGui::PopFont();
        if (b.level <= 2) ImGui::Separator();
        break;
      }
      case Block::kParagraph:
      case Block::kQuote:
        if (indent > 0) ImGui::Indent(indent);
        draw_spans(b.spans, c.fonts, wrap - indent, b.kind == Block::kQuote ? draw::col::kTextDim : text);
        if (indent > 0) ImGui::Unindent(indent);
        ImGui::Dummy({1, 3 * c.s});
        break;
      case Block::kListItem: {
        const float ind = 18.f * c.s * static_cast<float>(b.level);
        ImGui::Indent(ind);
        const ImVec2 p = ImGui::GetCursorScreenPos();
        const std::string bullet = b.number > 0 ? fmt::format("{}.", b.number) : "•";
        const float bw = ImGui::CalcTextSize(bullet.c_str()).x;
        ImGui::GetWindowDrawList()->AddText({p.x - bw - 5 * c.s, p.y}, IM_COL32(40, 80, 150, 255), bullet.c_str());
        draw_spans(b.spans, c.fonts, wrap - ind, text);
        ImGui::Unindent(ind);
        break;
      }
      case Block::kCode: {
        ImGui::PushFont(c.fonts.mono);
        const ImVec2 sz = ImGui::CalcTextSize(b.code.c_str());
        const ImVec2 p = ImGui::GetCursorScreenPos();
        ImGui::GetWindowDrawList()->AddRectFilled(p, {p.x + std::max(sz.x + 16, wrap), p.y + sz.y + 12},
                                                  IM_COL32(240, 242, 236, 255), 4);
        ImGui::SetCursorScreenPos({p.x + 8, p.y + 6});
        ImGui::TextUnformatted(b.code.c_str());
        ImGui::PopFont();
        ImGui::Dummy({1, 8 * c.s});
        break;
      }
      case Block::kRule: ImGui::Separator(); break;
      case Block::kTableRow: {
        const float col_w = wrap / static_cast<float>(std::max<std::size_t>(b.cells.size(), 1));
        const ImVec2 p = ImGui::GetCursorScreenPos();
        float h = ImGui::GetTextLineHeight();
        for (std::size_t k = 0; k < b.cells.size(); ++k)
          h = std::max(h, ImGui::CalcTextSize(b.cells[k].c_str(), nullptr, false, col_w - 8).y);
        if (b.header) ImGui::GetWindowDrawList()->AddRectFilled(p, {p.x + wrap, p.y + h + 4}, IM_COL32(225, 232, 245, 255));
        for (std::size_t k = 0; k < b.cells.size(); ++k)
          ImGui::GetWindowDrawList()->AddText(ImGui::GetFont(), ImGui::GetFontSize(),
                                              {p.x + static_cast<float>(k) * col_w + 4, p.y + 2}, text,
                                              b.cells[k].c_str(), nullptr, col_w - 8);
        ImGui::GetWindowDrawList()->AddLine({p.x, p.y + h + 4}, {p.x + wrap, p.y + h + 4}, IM_COL32(200, 200, 210, 255));
        ImGui::Dummy({wrap, h + 6});
        break;
      }
    }
  }
  ImGui::EndChild();
}

}  // namespace mailsim::ui
