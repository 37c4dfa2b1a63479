// The little drawings of the map (see draw.h).
#include "ui/view/draw.h"

#include <GL/gl.h>

#include <cmath>
#include <cstdint>

namespace mailsim::ui::draw {

namespace {
constexpr float kPi = 3.14159265f;
ImVec2 add(ImVec2 a, ImVec2 b) { return {a.x + b.x, a.y + b.y}; }
ImU32 dimmed(ImU32 c, bool dim) {
  if (!dim) return c;
  const ImVec4 v = ImGui::ColorConvertU32ToFloat4(c);
  const float g = (v.x + v.y + v.z) / 3.f * 0.6f + 0.35f;
  return ImGui::ColorConvertFloat4ToU32(ImVec4(g, g, g, v.w));
}
}  // namespace

void clear_rect(ImDrawList* dl, ImVec2 a, ImVec2 b, ImU32 colour) {
  dl->PushClipRect(a, b, true);
  dl->AddCallback(
      [](const ImDrawList*, const ImDrawCmd* cmd) {
        const ImDrawData* data = ImGui::GetDrawData();
        const auto c = static_cast<ImU32>(reinterpret_cast<std::uintptr_t>(cmd->UserCallbackData));
        const ImVec4 rgba = ImGui::ColorConvertU32ToFloat4(c);
        GLint viewport[4] = {0, 0, 0, 0};
        glGetIntegerv(GL_VIEWPORT, viewport);
        const ImVec2 scale = data != nullptr ? data->FramebufferScale : ImVec2(1, 1);
        const ImVec2 off = data != nullptr ? data->DisplayPos : ImVec2(0, 0);
        const float x0 = (cmd->ClipRect.x - off.x) * scale.x, y0 = (cmd->ClipRect.y - off.y) * scale.y;
        const float x1 = (cmd->ClipRect.z - off.x) * scale.x, y1 = (cmd->ClipRect.w - off.y) * scale.y;
        // The backend has the scissor test on and sets the box per command.
        glScissor(static_cast<GLint>(x0), static_cast<GLint>(static_cast<float>(viewport[3]) - y1),
                  static_cast<GLsizei>(x1 - x0), static_cast<GLsizei>(y1 - y0));
        glClearColor(rgba.x, rgba.y, rgba.z, 1);
        glClear(GL_COLOR_BUFFER_BIT);
      },
      reinterpret_cast<void*>(static_cast<std::uintptr_t>(colour)));
  dl->PopClipRect();
}

void opaque_begin(ImDrawList* dl) {
  dl->AddCallback([](const ImDrawList*, const ImDrawCmd*) { glDisable(GL_BLEND); }, nullptr);
}

void opaque_end(ImDrawList* dl) {
  // The backend turns blending on once per frame, not per command.
  dl->AddCallback([](const ImDrawList*, const ImDrawCmd*) { glEnable(GL_BLEND); }, nullptr);
}

ImU32 place_colour(Place place) {
  switch (place) {
    case Place::kSenderComputer: return IM_COL32(60, 120, 210, 255);
    case Place::kRecipientComputer: return IM_COL32(40, 150, 120, 255);
    case Place::kOutgoingOffice: return IM_COL32(40, 90, 200, 255);
    case Place::kPostOffice: return IM_COL32(120, 70, 190, 255);
    case Place::kSortingOffice: return IM_COL32(225, 130, 20, 255);
    case Place::kRecipientOffice: return IM_COL32(30, 140, 70, 255);
    case Place::kDnsDirectory: return IM_COL32(150, 100, 50, 255);
    case Place::kSpammer: return IM_COL32(160, 30, 140, 255);
    case Place::kEavesdropper: return IM_COL32(60, 50, 70, 255);
    case Place::kRouter: return IM_COL32(110, 110, 120, 255);
  }
  return IM_COL32(110, 110, 120, 255);
}

void text_centered(ImDrawList* dl, ImVec2 c, ImU32 colour, const char* text, ImU32 background, float pad) {
  const ImVec2 size = ImGui::CalcTextSize(text);
  const ImVec2 p{std::floor(c.x - size.x / 2), std::floor(c.y - size.y / 2)};
  if (background != 0)
    dl->AddRectFilled({p.x - pad, p.y - pad / 2}, {p.x + size.x + pad, p.y + size.y + pad / 2}, background, pad + 1);
  dl->AddText(p, colour, text);
}

static void computer(ImDrawList* dl, ImVec2 c, float s, ImU32 frame, bool dim) {
  const ImU32 screen = dimmed(IM_COL32(200, 230, 255, 255), dim);
  dl->AddRectFilled(add(c, {-28 * s, -24 * s}), add(c, {28 * s, 14 * s}), dimmed(frame, dim), 5 * s);
  dl->AddRectFilled(add(c, {-23 * s, -19 * s}), add(c, {23 * s, 9 * s}), screen, 2 * s);
  dl->AddRectFilled(add(c, {-5 * s, 14 * s}), add(c, {5 * s, 22 * s}), dimmed(frame, dim));
  dl->AddRectFilled(add(c, {-16 * s, 21 * s}), add(c, {16 * s, 25 * s}), dimmed(frame, dim), 2 * s);
  // a tiny letter on the screen: this computer writes or reads mail
  envelope(dl, add(c, {0, -5 * s}), 22 * s, dimmed(col::kPostcard, dim), false, false);
}

void building(ImDrawList* dl, Place place, ImVec2 c, float s, bool dim) {
  const ImU32 roof = dimmed(place_colour(place), dim);
  const ImU32 wall = dimmed(IM_COL32(250, 246, 236, 255), dim);
  const ImU32 line = dimmed(IM_COL32(60, 60, 70, 255), dim);
  switch (place) {
    case Place::kSenderComputer:
    case Place::kRecipientComputer:
      computer(dl, c, s, roof, dim);
      return;
    case Place::kSpammer:
      computer(dl, c, s, roof, dim);
      text_centered(dl, add(c, {0, -5 * s}), IM_COL32(255, 255, 255, 255), "$$$", dimmed(col::kSpam, dim), 2 * s);
      return;
    case Place::kDnsDirectory: {
      // A thick address book.
      dl->AddRectFilled(add(c, {-26 * s, -26 * s}), add(c, {26 * s, 26 * s}), roof, 4 * s);
      dl->AddRectFilled(add(c, {-20 * s, -26 * s}), add(c, {26 * s, 22 * s}), wall, 3 * s);
      dl->AddRectFilled(add(c, {-26 * s, -26 * s}), add(c, {-18 * s, 26 * s}), roof, 4 * s);
      for (int i = 0; i < 4; ++i) {
        const float y = (-14.f + 9.f * static_cast<float>(i)) * s;
        dl->AddLine(add(c, {-12 * s, y}), add(c, {18 * s, y}), dimmed(IM_COL32(150, 150, 160, 255), dim), 2 * s);
      }
      text_centered(dl, add(c, {3 * s, -20 * s}), line, "@");
      return;
    }
    case Place::kEavesdropper: {
      // An eye that watches the road.
      const ImU32 white = dimmed(IM_COL32(255, 255, 255, 255), dim);
      dl->AddCircleFilled(c, 27 * s, dimmed(IM_COL32(250, 235, 250, 255), dim), 32);
      dl->AddCircle(c, 27 * s, roof, 32, 3 * s);
      dl->PathClear();
      for (int i = 0; i <= 16; ++i) {
        const float a = kPi * static_cast<float>(i) / 16.f;
        dl->PathLineTo(add(c, {-22 * s * std::cos(a), -11 * s * std::sin(a)}));
      }
      for (int i = 1; i < 16; ++i) {
        const float a = kPi * static_cast<float>(i) / 16.f;
        dl->PathLineTo(add(c, {22 * s * std::cos(a), 11 * s * std::sin(a)}));
      }
      dl->PathFillConvex(white);
      dl->AddCircleFilled(c, 8 * s, dimmed(col::kEave, dim), 20);
      dl->AddCircleFilled(c, 3.5f * s, IM_COL32(10, 10, 10, 255), 12);
      return;
    }
    case Place::kRouter:
      dl->AddCircleFilled(c, 16 * s, roof, 24);
      dl->AddCircle(c, 16 * s, line, 24, 2 * s);
      return;
    default: break;
  }
  // A post office: walls, a roof in the role's colour, a door and a post horn sign.
  const float w = 34 * s, h = 22 * s;
  dl->AddRectFilled(add(c, {-w, -h + 6 * s}), add(c, {w, h + 6 * s}), wall, 2 * s);
  dl->AddRect(add(c, {-w, -h + 6 * s}), add(c, {w, h + 6 * s}), line, 2 * s, 0, 2 * s);
  dl->AddTriangleFilled(add(c, {-w - 7 * s, -h + 7 * s}), add(c, {w + 7 * s, -h + 7 * s}), add(c, {0, -h - 20 * s}), roof);
  dl->AddRectFilled(add(c, {-7 * s, 8 * s}), add(c, {7 * s, h + 6 * s}), dimmed(IM_COL32(140, 90, 50, 255), dim), 2 * s);
  dl->AddRectFilled(add(c, {-26 * s, -6 * s}), add(c, {-14 * s, 6 * s}), dimmed(IM_COL32(190, 220, 250, 255), dim));
  dl->AddRectFilled(add(c, {14 * s, -6 * s}), add(c, {26 * s, 6 * s}), dimmed(IM_COL32(190, 220, 250, 255), dim));
  envelope(dl, add(c, {0, -h - 4 * s}), 16 * s, dimmed(IM_COL32(255, 255, 255, 255), dim), false, false);
}

void closed_sign(ImDrawList* dl, ImVec2 c, float s, const char* text) {
  const ImVec2 size = ImGui::CalcTextSize(text);
  const float w = std::max(size.x / 2 + 8 * s, 30 * s), h = size.y / 2 + 5 * s;
  // Two strings from the eaves, then the board.
  dl->AddLine(add(c, {-w * 0.6f, -h - 12 * s}), add(c, {-w * 0.6f, -h}), IM_COL32(60, 40, 30, 255), 2 * s);
  dl->AddLine(add(c, {w * 0.6f, -h - 12 * s}), add(c, {w * 0.6f, -h}), IM_COL32(60, 40, 30, 255), 2 * s);
  dl->AddRectFilled(add(c, {-w, -h}), add(c, {w, h}), col::kClosed, 4 * s);
  dl->AddRect(add(c, {-w, -h}), add(c, {w, h}), IM_COL32(255, 255, 255, 255), 4 * s, 0, 2 * s);
  text_centered(dl, c, IM_COL32(255, 255, 255, 255), text);
}

void retry_clock(ImDrawList* dl, ImVec2 c, float r, float remaining) {
  dl->AddCircleFilled(c, r, IM_COL32(255, 255, 255, 255), 32);
  if (remaining > 0) {
    dl->PathClear();
    dl->PathLineTo(c);
    const float a0 = -kPi / 2, a1 = a0 + 2 * kPi * std::fmin(remaining, 1.f);
    dl->PathArcTo(c, r - 1, a0, a1, 32);
    dl->PathFillConvex(IM_COL32(255, 190, 90, 255));
  }
  dl->AddCircle(c, r, col::kDeferred, 32, std::fmax(2.f, r / 8));
  for (int i = 0; i < 12; ++i) {
    const float a = 2 * kPi * static_cast<float>(i) / 12.f;
    dl->AddLine(add(c, {std::cos(a) * r * 0.8f, std::sin(a) * r * 0.8f}), add(c, {std::cos(a) * r, std::sin(a) * r}),
                IM_COL32(80, 60, 30, 255), 1.5f);
  }
  const float hand = -kPi / 2 + 2 * kPi * std::fmin(remaining, 1.f);
  dl->AddLine(c, add(c, {std::cos(hand) * r * 0.85f, std::sin(hand) * r * 0.85f}), IM_COL32(40, 30, 20, 255),
              std::fmax(2.f, r / 9));
  dl->AddCircleFilled(c, std::fmax(2.f, r / 8), IM_COL32(40, 30, 20, 255));
}

void padlock(ImDrawList* dl, ImVec2 c, float h) {
  const float w = h * 0.8f;
  dl->AddCircle(add(c, {0, -h * 0.15f}), w * 0.32f, IM_COL32(90, 70, 20, 255), 16, std::fmax(1.5f, h * 0.14f));
  dl->AddRectFilled(add(c, {-w / 2, -h * 0.1f}), add(c, {w / 2, h * 0.5f}), col::kLock, h * 0.1f);
  dl->AddRect(add(c, {-w / 2, -h * 0.1f}), add(c, {w / 2, h * 0.5f}), IM_COL32(90, 70, 20, 255), h * 0.1f, 0, 1.f);
  dl->AddCircleFilled(add(c, {0, h * 0.18f}), h * 0.08f, IM_COL32(60, 40, 10, 255));
}

void envelope(ImDrawList* dl, ImVec2 c, float w, ImU32 fill, bool lock, bool thick) {
  const float h = w * 0.64f;
  const ImVec2 a = add(c, {-w / 2, -h / 2}), b = add(c, {w / 2, h / 2});
  const ImU32 ink = IM_COL32(70, 55, 40, 255);
  dl->AddRectFilled(a, b, fill, w * 0.06f);
  dl->AddRect(a, b, ink, w * 0.06f, 0, thick ? 2.5f : 1.2f);
  // The flap, closed.
  dl->AddLine(a, add(c, {0, h * 0.1f}), ink, thick ? 2.f : 1.f);
  dl->AddLine({b.x, a.y}, add(c, {0, h * 0.1f}), ink, thick ? 2.f : 1.f);
  if (lock) padlock(dl, add(c, {0, h * 0.12f}), h * 0.62f);
}

void postcard(ImDrawList* dl, ImVec2 c, float w, ImU32 fill) {
  const float h = w * 0.64f;
  const ImVec2 a = add(c, {-w / 2, -h / 2}), b = add(c, {w / 2, h / 2});
  dl->AddRectFilled(a, b, fill, 1.5f);
  dl->AddRect(a, b, IM_COL32(70, 70, 80, 255), 1.5f, 0, 1.2f);
  // Readable lines of text on the left, a stamp on the right: anyone can read it.
  for (int i = 0; i < 3; ++i) {
    const float y = a.y + h * (0.3f + 0.22f * static_cast<float>(i));
    dl->AddLine({a.x + w * 0.08f, y}, {a.x + w * 0.58f, y}, IM_COL32(40, 80, 200, 255), std::fmax(1.f, w * 0.05f));
  }
  dl->AddRectFilled({b.x - w * 0.3f, a.y + h * 0.12f}, {b.x - w * 0.08f, a.y + h * 0.48f}, IM_COL32(220, 70, 60, 255));
}

void return_arrow(ImDrawList* dl, ImVec2 c, float r, ImU32 colour) {
  dl->PathClear();
  dl->PathArcTo(c, r, -kPi * 0.9f, kPi * 0.5f, 20);
  dl->PathStroke(colour, 0, std::fmax(2.f, r * 0.3f));
  const ImVec2 tip = add(c, {std::cos(-kPi * 0.9f) * r, std::sin(-kPi * 0.9f) * r});
  dl->AddTriangleFilled(add(tip, {-r * 0.5f, r * 0.1f}), add(tip, {r * 0.5f, r * 0.1f}), add(tip, {0, -r * 0.6f}), colour);
}

void mailbox_icon(ImDrawList* dl, ImVec2 c, float s) {
  dl->AddRectFilled(add(c, {-9 * s, -8 * s}), add(c, {9 * s, 9 * s}), IM_COL32(200, 40, 40, 255), 6 * s);
  dl->AddRectFilled(add(c, {-6 * s, -3 * s}), add(c, {6 * s, 0}), IM_COL32(40, 20, 20, 255), 1 * s);
  dl->AddRectFilled(add(c, {-2 * s, 9 * s}), add(c, {2 * s, 16 * s}), IM_COL32(80, 80, 80, 255));
}

void postmark(ImDrawList* dl, ImVec2 c, float r, const char* office, const char* date, ImU32 ink) {
  dl->AddCircleFilled(c, r, IM_COL32(255, 252, 240, 255), 40);
  dl->AddCircle(c, r, ink, 40, 2.5f);
  dl->AddCircle(c, r * 0.9f, ink, 40, 1.2f);
  // Office name across the top, date in the middle: shrunk to fit the circle.
  ImFont* font = ImGui::GetFont();
  auto fitted = [&](const char* text, float max_w, float size) {
    const float w = font->CalcTextSizeA(size, 1e9f, 0, text).x;
    return w > max_w ? size * max_w / w : size;
  };
  const float fs = ImGui::GetFontSize();
  const float name_size = fitted(office, r * 1.6f, fs * 0.75f);
  const ImVec2 nsz = font->CalcTextSizeA(name_size, 1e9f, 0, office);
  dl->AddText(font, name_size, {c.x - nsz.x / 2, c.y - r * 0.55f - nsz.y / 2}, ink, office);
  dl->AddLine({c.x - r * 0.8f, c.y - r * 0.3f}, {c.x + r * 0.8f, c.y - r * 0.3f}, ink, 1.2f);
  const float date_size = fitted(date, r * 1.7f, fs * 0.7f);
  const ImVec2 dsz = font->CalcTextSizeA(date_size, r * 1.7f, r * 1.7f, date);
  dl->AddText(font, date_size, {c.x - dsz.x / 2, c.y + r * 0.15f - dsz.y / 2}, ink, date, nullptr, r * 1.7f);
  // Wavy cancellation lines to the right.
  for (int k = 0; k < 3; ++k) {
    dl->PathClear();
    for (int i = 0; i <= 12; ++i) {
      const float x = c.x + r * 0.95f + static_cast<float>(i) * r * 0.1f;
      dl->PathLineTo({x, c.y - r * 0.35f + static_cast<float>(k) * r * 0.35f + std::sin(static_cast<float>(i)) * r * 0.08f});
    }
    dl->PathStroke(ink, 0, 1.5f);
  }
}

}  // namespace mailsim::ui::draw
