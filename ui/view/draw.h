// Colours, fonts and the little drawings of the map (post offices,
// computers, envelopes, postcards, locks, closed signs, retry clocks). All
// sizes are in pixels at zoom 1 and scaled by the caller's `s`.
#pragma once

#include "ui/model/world.h"

#include <imgui.h>

namespace mailsim::ui::draw {

// The palette: chosen to read from the back of a room (strong contrast,
// colour never the only cue: every colour also has a shape or a word).
namespace col {
inline constexpr ImU32 kGround = IM_COL32(233, 238, 224, 255);
inline constexpr ImU32 kRoad = IM_COL32(120, 124, 130, 255);
inline constexpr ImU32 kRoadEdge = IM_COL32(90, 94, 100, 255);
inline constexpr ImU32 kRoadStripe = IM_COL32(250, 250, 235, 255);
inline constexpr ImU32 kText = IM_COL32(30, 32, 38, 255);
inline constexpr ImU32 kTextDim = IM_COL32(90, 95, 105, 255);
inline constexpr ImU32 kSealed = IM_COL32(238, 214, 160, 255);    // kraft-paper envelope
inline constexpr ImU32 kPostcard = IM_COL32(255, 255, 255, 255);
inline constexpr ImU32 kLock = IM_COL32(214, 160, 20, 255);
inline constexpr ImU32 kSpam = IM_COL32(190, 60, 200, 255);
inline constexpr ImU32 kBounce = IM_COL32(215, 40, 40, 255);
inline constexpr ImU32 kClosed = IM_COL32(205, 30, 30, 255);
inline constexpr ImU32 kSelect = IM_COL32(20, 120, 255, 255);
inline constexpr ImU32 kClient = IM_COL32(214, 232, 255, 255);
inline constexpr ImU32 kServer = IM_COL32(220, 245, 214, 255);
inline constexpr ImU32 kKnock = IM_COL32(70, 75, 85, 255);
inline constexpr ImU32 kDeferred = IM_COL32(230, 140, 0, 255);
inline constexpr ImU32 kDelivered = IM_COL32(30, 150, 60, 255);
inline constexpr ImU32 kSent = IM_COL32(40, 110, 220, 255);
inline constexpr ImU32 kEave = IM_COL32(120, 40, 140, 255);
}  // namespace col

// The roof colour of each kind of building.
ImU32 place_colour(Place place);

// A building for `place`, centred at c, about 64*s wide. `dim` greys it out.
void building(ImDrawList* dl, Place place, ImVec2 c, float s, bool dim);
// The red "CLOSED" sign across a building.
void closed_sign(ImDrawList* dl, ImVec2 c, float s, const char* text);
// A clock face with the part of the wait still to go filled.
void retry_clock(ImDrawList* dl, ImVec2 c, float r, float remaining_fraction);
// An envelope (sealed: kraft paper and a padlock) or a postcard (white, lines
// of readable text, a stamp), centred at c, w wide, rotated by direction (dx, dy).
void envelope(ImDrawList* dl, ImVec2 c, float w, ImU32 fill, bool lock, bool outline_thick);
void postcard(ImDrawList* dl, ImVec2 c, float w, ImU32 fill);
void padlock(ImDrawList* dl, ImVec2 c, float h);
// A small return arrow (return to sender).
void return_arrow(ImDrawList* dl, ImVec2 c, float r, ImU32 colour);
// A mailbox (post box) icon.
void mailbox_icon(ImDrawList* dl, ImVec2 c, float s);
// A round postmark: office name around, date inside.
void postmark(ImDrawList* dl, ImVec2 c, float r, const char* office, const char* date, ImU32 ink);

// Fills the rectangle [a, b) with an opaque colour by clearing the
// framebuffer there (an ImDrawList callback run by the OpenGL backend), for
// large backgrounds: same pixels as AddRectFilled, none of the shading cost.
// Later primitives of the list draw over it as usual.
void clear_rect(ImDrawList* dl, ImVec2 a, ImVec2 b, ImU32 colour);

// Between opaque_begin and opaque_end the list's primitives are written
// without blending (ImDrawList callbacks run by the OpenGL backend). Only
// for opaque, unsmoothed shapes (alpha 255, anti-aliasing off): they look
// the same, and a software renderer skips reading back every pixel.
void opaque_begin(ImDrawList* dl);
void opaque_end(ImDrawList* dl);

// Text centred at a point, with an optional rounded background.
void text_centered(ImDrawList* dl, ImVec2 c, ImU32 colour, const char* text, ImU32 background = 0, float pad = 3);

}  // namespace mailsim::ui::draw
