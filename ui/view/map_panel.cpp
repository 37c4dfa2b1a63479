// The map: post offices on roads, letters moving at the pace of the trace.
#include "ui/view/draw.h"
#include "ui/view/panels.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace mailsim::ui {

namespace {

ImVec2 lerp(ImVec2 a, ImVec2 b, float t) { return {a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t}; }
float dist2(ImVec2 a, ImVec2 b) { return (a.x - b.x) * (a.x - b.x) + (a.y - b.y) * (a.y - b.y); }

float segment_dist2(ImVec2 p, ImVec2 a, ImVec2 b) {
  const float vx = b.x - a.x, vy = b.y - a.y;
  const float len2 = vx * vx + vy * vy;
  const float t = len2 > 0 ? std::clamp(((p.x - a.x) * vx + (p.y - a.y) * vy) / len2, 0.f, 1.f) : 0.f;
  return dist2(p, {a.x + vx * t, a.y + vy * t});
}

// The first readable line of a packet, for tooltips.
std::string first_line(const std::string& bytes, std::size_t max = 60) {
  std::string line = bytes.substr(0, bytes.find("\r\n"));
  if (line.size() > max) line = line.substr(0, max) + "...";
  return line;
}

enum class Hit { kNone, kHost, kLetter, kRoad };

// The retry clock stands just above the tray (left of the building at p).
ImVec2 retry_clock_centre(ImVec2 p, float s) { return {p.x - 54 * s, p.y - 27 * s}; }

}  // namespace

void Ctx::select_connection(ConnId id) {
  state.selection.conn = id;
  if (const Connection* conn = index.connection(id))
    for (std::size_t t : conn->transfers)
      if (!index.transfers()[t].message_id.empty()) state.selection.message_id = index.transfers()[t].message_id;
}

void Ctx::select_message(const std::string& id) { state.selection.message_id = id; }

void Ctx::select_host(std::size_t host) { state.selection.host = host; }

void MapPanel::draw(Ctx& c, ImVec2 size) {
  const World& world = c.index.world();
  const Scene& scene = c.scene;
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImVec2 p0 = ImGui::GetCursorScreenPos();
  ImGui::InvisibleButton("map", size);
  const bool map_hovered = ImGui::IsItemHovered();
  const bool clicked = ImGui::IsItemClicked(ImGuiMouseButton_Left);
  const ImVec2 mouse = ImGui::GetIO().MousePos;
  dl->PushClipRect(p0, {p0.x + size.x, p0.y + size.y}, true);
  // The ground is a clear of the map's rectangle, not a polygon: a software
  // renderer fills it at memset speed instead of shading 400,000 pixels.
  draw::clear_rect(dl, p0, {p0.x + size.x, p0.y + size.y}, draw::col::kGround);

  // Buildings shrink when the town is crowded, never below a third.
  const float crowd = std::clamp(std::sqrt(10.f / static_cast<float>(std::max<std::size_t>(world.hosts.size(), 1))), 0.32f, 1.f);
  const float fit = std::clamp(std::min(size.x / 760.f, size.y / 520.f), 0.55f, 1.6f);
  const float s = c.s * crowd * fit;
  // A crowded town is drawn plainer (no smoothing, no stripes, simple
  // buildings): software renderers in classrooms must keep up.
  const bool crowded = world.hosts.size() > 40 || scene.letters.size() > 250;
  const ImDrawListFlags saved_flags = dl->Flags;
  if (crowded) dl->Flags &= ~(ImDrawListFlags_AntiAliasedLines | ImDrawListFlags_AntiAliasedFill);
  auto at = [&](float x, float y) { return ImVec2{p0.x + x * size.x, p0.y + y * size.y}; };
  auto host_pos = [&](std::size_t h) { return at(world.hosts[h].x, world.hosts[h].y); };
  if (c.report != nullptr) {
    c.report->hosts.clear();
    c.report->letters.clear();
    c.report->map_x = p0.x;
    c.report->map_y = p0.y;
    c.report->map_w = size.x;
    c.report->map_h = size.y;
    for (std::size_t h = 0; h < world.hosts.size(); ++h) {
      const ImVec2 p = host_pos(h);
      const HostState& hs = scene.hosts[h];
      FrameReport::HostSpot spot{world.hosts[h].name, p.x, p.y, hs.closed(), hs.next_retry.has_value(), hs.tray, hs.bounces};
      if (hs.next_retry && !crowded) {
        const ImVec2 cp = retry_clock_centre(p, s);
        spot.clock_x = cp.x;
        spot.clock_y = cp.y;
        spot.clock_r = 15 * s;
        spot.clock_left = std::clamp(static_cast<float>(*hs.next_retry - scene.cursor.t) /
                                         static_cast<float>(std::max<Time>(*hs.next_retry - hs.waiting_since, 1)),
                                     0.f, 1.f);
      }
      c.report->hosts.push_back(std::move(spot));
    }
    for (const auto& l : scene.letters) {
      const Flight& f = c.index.flights()[l.flight];
      const ImVec2 p = at(l.x, l.y);
      c.report->letters.push_back({p.x, p.y, f.sealed, f.kind, f.conn});
    }
  }

  Hit hit = Hit::kNone;
  std::size_t hit_index = 0;
  float hit_d2 = 1e30f;
  auto consider = [&](Hit kind, std::size_t i, float d2, float radius) {
    if (!map_hovered || d2 > radius * radius) return;
    // Letters win over roads and buildings: they are small and on top.
    const float bias = kind == Hit::kLetter ? 0.25f : kind == Hit::kRoad ? 4.f : 1.f;
    if (d2 * bias < hit_d2) {
      hit = kind;
      hit_index = i;
      hit_d2 = d2 * bias;
    }
  };

  // The selected connection's road glows.
  std::vector<bool> selected_link(world.links.size(), false);
  if (const Connection* sel = c.index.connection(c.state.selection.conn))
    if (sel->client_host && sel->server_host)
      if (auto l = world.link_between(*sel->client_host, *sel->server_host)) selected_link[*l] = true;

  // Roads.
  const float road_w = crowded ? 4.f : std::max(6.f, 14.f * s);
  // A crowded map draws its roads, buildings and letters as opaque shapes
  // with blending off (a software renderer then only writes those pixels);
  // the see-through glows of the selection go first, blended.
  if (crowded) {
    for (std::size_t i = 0; i < world.links.size(); ++i)
      if (selected_link[i])
        dl->AddLine(host_pos(world.links[i].a), host_pos(world.links[i].b), IM_COL32(120, 180, 255, 160), road_w + 12 * s);
    if (c.state.selection.host && *c.state.selection.host < world.hosts.size())
      dl->AddCircleFilled(host_pos(*c.state.selection.host), 50 * s, IM_COL32(120, 180, 255, 110), 40);
    draw::opaque_begin(dl);
  }
  for (std::size_t i = 0; i < world.links.size(); ++i) {
    const auto& l = world.links[i];
    const ImVec2 a = host_pos(l.a), b = host_pos(l.b);
    if (selected_link[i] && !crowded) dl->AddLine(a, b, IM_COL32(120, 180, 255, 160), road_w + 12 * s);
    if (!crowded) dl->AddLine(a, b, draw::col::kRoadEdge, road_w + 3);
    dl->AddLine(a, b, draw::col::kRoad, road_w);
    // Dashed centre stripe.
    const float len = std::sqrt(dist2(a, b));
    const int dashes = crowded ? 0 : static_cast<int>(len / (22 * s + 1));
    for (int k = 0; k < dashes; k += 2)
      dl->AddLine(lerp(a, b, static_cast<float>(k) / static_cast<float>(dashes)),
                  lerp(a, b, static_cast<float>(k + 1) / static_cast<float>(dashes)), draw::col::kRoadStripe,
                  std::max(1.f, 2 * s));
    if (scene.link_down[i]) {
      const ImVec2 m = lerp(a, b, 0.5f);
      const float r = 12 * s;
      dl->AddLine({m.x - r, m.y - r}, {m.x + r, m.y + r}, draw::col::kClosed, 5 * s);
      dl->AddLine({m.x - r, m.y + r}, {m.x + r, m.y - r}, draw::col::kClosed, 5 * s);
    }
    if (l.tapped_by) {
      // A dotted wire from the road to the eavesdropper.
      const ImVec2 m = lerp(a, b, 0.5f), e = host_pos(*l.tapped_by);
      const float wl = std::sqrt(dist2(m, e));
      const int dots = std::max(2, static_cast<int>(wl / (10 * s + 1)));
      for (int k = 0; k < dots; k += 2)
        dl->AddLine(lerp(m, e, static_cast<float>(k) / static_cast<float>(dots)),
                    lerp(m, e, static_cast<float>(k + 1) / static_cast<float>(dots)), draw::col::kEave, 3 * s);
      dl->AddCircleFilled(m, 6 * s, draw::col::kEave);
    }
    consider(Hit::kRoad, i, segment_dist2(mouse, a, b), road_w);
  }

  // Buildings, names, signs, clocks, trays.
  const char* closed_text = c.tr(S::kClosedSign);
  // Name (and, on small maps, role) under the building at host h.
  std::vector<ImVec4> labels;
  auto draw_label = [&](std::size_t h) {
    const ImVec2 p = host_pos(h);
    const float font = ImGui::GetFontSize();
    const float label_scale = std::clamp(s / c.s, 0.7f, 1.f);
    const std::string name = world.hosts[h].name;
    const ImVec2 nsz = ImGui::GetFont()->CalcTextSizeA(font * label_scale, 1e9f, 0, name.c_str());
    const ImVec2 np{p.x - nsz.x / 2, p.y + 34 * s};
    // Crowded: a name that would cover another is left to the tooltip.
    bool label = true;
    if (crowded) {
      const ImVec4 box{np.x, np.y, np.x + nsz.x, np.y + nsz.y};
      for (const auto& other : labels)
        if (box.x < other.z && other.x < box.z && box.y < other.w && other.y < box.w) label = false;
      if (label) labels.push_back(box);
    }
    if (label) {
      dl->AddRectFilled({np.x - 3, np.y - 1}, {np.x + nsz.x + 3, np.y + nsz.y + 1}, IM_COL32(255, 255, 255, 200), crowded ? 0.f : 3.f);
      dl->AddText(ImGui::GetFont(), font * label_scale, np, draw::col::kText, name.c_str());
    }
    if (world.hosts.size() <= 30) {
      const char* role = place_name(world.hosts[h].place, c.lang());
      const ImVec2 rsz = ImGui::GetFont()->CalcTextSizeA(font * 0.82f * label_scale, 1e9f, 0, role);
      dl->AddText(ImGui::GetFont(), font * 0.82f * label_scale, {p.x - rsz.x / 2, np.y + nsz.y + 1},
                  draw::place_colour(world.hosts[h].place), role);
    }
  };
  if (crowded) {
    // Names go under the buildings (as on a small map, where each building
    // is drawn after its neighbour's name), in one blended pass of text.
    // Only the office under the pointer and the selected one are named:
    // two hundred names cover each other and the roads, and cost a software
    // renderer a quarter of the frame. Every office still names itself on
    // hover (the tooltip) and in the panels.
    draw::opaque_end(dl);
    std::size_t pointed = world.hosts.size();
    float pointed_d2 = 1e30f;
    if (map_hovered) {
      const float reach = 24 * s + 8;
      for (std::size_t h = 0; h < world.hosts.size(); ++h) {
        const float d2 = dist2(mouse, host_pos(h));
        if (d2 < reach * reach && d2 < pointed_d2) {
          pointed = h;
          pointed_d2 = d2;
        }
      }
    }
    for (std::size_t h = 0; h < world.hosts.size(); ++h)
      if (h == pointed || c.state.selection.host == h) draw_label(h);
    draw::opaque_begin(dl);
  }
  for (std::size_t h = 0; h < world.hosts.size(); ++h) {
    const auto& wh = world.hosts[h];
    const auto& hs = scene.hosts[h];
    const ImVec2 p = host_pos(h);
    if (c.state.selection.host == h && !crowded) dl->AddCircleFilled(p, 50 * s, IM_COL32(120, 180, 255, 110), 40);
    if (hs.busy && !crowded) dl->AddCircle(p, 46 * s, IM_COL32(255, 200, 40, 220), 40, 4 * s);
    if (crowded) {
      // Walls and a roof in the role's colour; busy offices get a yellow doorstep.
      const float b = 24 * s + 4;
      dl->AddRectFilled({p.x - b, p.y - b * 0.6f}, {p.x + b, p.y + b * 0.8f}, hs.down ? IM_COL32(170, 170, 170, 255)
                                                                                      : IM_COL32(250, 246, 236, 255));
      dl->AddRectFilled({p.x - b, p.y - b}, {p.x + b, p.y - b * 0.6f}, draw::place_colour(wh.place));
      if (hs.busy) dl->AddRectFilled({p.x - b, p.y + b * 0.8f}, {p.x + b, p.y + b}, IM_COL32(255, 200, 40, 255));
      if (hs.closed()) dl->AddRectFilled({p.x - b, p.y - b * 0.2f}, {p.x + b, p.y + b * 0.3f}, draw::col::kClosed);
      if (hs.next_retry) dl->AddRectFilled({p.x + b, p.y - b}, {p.x + b + 6, p.y - b + 6}, draw::col::kDeferred);
      if (hs.tray > 0) dl->AddRectFilled({p.x - b - 7, p.y}, {p.x - b - 1, p.y + 5}, draw::col::kSealed);
      consider(Hit::kHost, h, dist2(mouse, p), b + 4);
      continue;  // names: drawn in their own pass above
    } else {
      draw::building(dl, wh.place, p, s, hs.down);
    }
    draw_label(h);
    {
    if (hs.closed()) {
      std::string sign = closed_text;
      if (!hs.down && !hs.closed_ports.empty()) sign += fmt::format(" :{}", hs.closed_ports.front());
      draw::closed_sign(dl, {p.x, p.y + 2 * s}, s, sign.c_str());
    }
    if (hs.tray > 0) {
      // Letters stacked in the outgoing tray, left of the building.
      const ImVec2 tp{p.x - 50 * s, p.y + 14 * s};
      for (int k = std::min(hs.tray, 3) - 1; k >= 0; --k)
        draw::envelope(dl, {tp.x - static_cast<float>(k) * 3 * s, tp.y - static_cast<float>(k) * 4 * s}, 26 * s,
                       hs.deferred > 0 ? IM_COL32(255, 225, 170, 255) : draw::col::kSealed, false, false);
      if (hs.tray > 1) {
        char n[16];
        std::snprintf(n, sizeof n, "x%d", hs.tray);
        draw::text_centered(dl, {tp.x, tp.y + 16 * s}, draw::col::kText, n, IM_COL32(255, 255, 255, 220));
      }
    }
    if (hs.next_retry) {
      // The retry clock stands on the tray that holds the deferred letter:
      // the orange part is the wait still to go, the label counts it down.
      const Time left = *hs.next_retry - scene.cursor.t;
      const float total = static_cast<float>(std::max<Time>(*hs.next_retry - hs.waiting_since, 1));
      const float frac = std::clamp(static_cast<float>(left) / total, 0.f, 1.f);
      const float r = 15 * s;
      const ImVec2 cp = retry_clock_centre(p, s);
      draw::retry_clock(dl, cp, r, frac);
      const std::string text = fmt::format("{} {}", c.tr(S::kRetryIn), format_countdown(left, c.lang()));
      draw::text_centered(dl, {cp.x, cp.y - r - ImGui::GetFontSize() * 0.6f}, IM_COL32(120, 60, 0, 255), text.c_str(),
                          IM_COL32(255, 240, 210, 235));
    }
    if (hs.mailbox > 0) {
      const ImVec2 mp{p.x + 48 * s, p.y + 12 * s};
      draw::mailbox_icon(dl, mp, s);
      const std::string n = std::to_string(hs.mailbox);
      draw::text_centered(dl, {mp.x + 14 * s, mp.y - 12 * s}, IM_COL32(255, 255, 255, 255), n.c_str(), draw::col::kClosed);
    }
    // Letters a computer has collected (POP3: taken home; IMAP: seen).
    int collected = 0;
    for (const auto& box : scene.mailboxes)
      for (const auto& d : box.devices)
        if (d.device == wh.name) collected += static_cast<int>(d.messages.size());
    if (collected > 0) {
      const ImVec2 cp{p.x + 36 * s, p.y + 16 * s};
      draw::envelope(dl, cp, 24 * s, draw::col::kSealed, false, false);
      const std::string n = std::to_string(collected);
      draw::text_centered(dl, {cp.x + 14 * s, cp.y - 10 * s}, IM_COL32(255, 255, 255, 255), n.c_str(), draw::col::kDelivered);
    }
    if (hs.bounces > 0) {
      const ImVec2 bp{p.x + 46 * s, p.y - 30 * s};  // the left is the tray's and its clock's
      draw::envelope(dl, bp, 30 * s, draw::col::kBounce, false, true);
      draw::return_arrow(dl, {bp.x, bp.y}, 6 * s, IM_COL32(255, 255, 255, 255));
    }
    consider(Hit::kHost, h, dist2(mouse, p), 40 * s);
    }
  }

  if (crowded) draw::opaque_end(dl);

  // Letters on the roads: client to server on one lane, replies on the other.
  const auto& flights = c.index.flights();
  const float lane = std::max(4.f, 8.f * s);
  const bool simple = scene.letters.size() > 250;
  auto letter_pos = [&](const LetterOnRoad& l) {
    const float side = flights[l.flight].from_client ? 1.f : -1.f;
    const ImVec2 p = at(l.x, l.y);
    return ImVec2{p.x - l.dy * lane * side, p.y + l.dx * lane * side};
  };
  if (simple) {
    // Many letters: opaque rectangles, blending off; the selected
    // connection's see-through halo goes under them first.
    for (const auto& l : scene.letters)
      if (flights[l.flight].conn != 0 && flights[l.flight].conn == c.state.selection.conn)
        dl->AddCircleFilled(letter_pos(l), 22 * s, IM_COL32(120, 180, 255, 130), 24);
    draw::opaque_begin(dl);
  }
  // On a crowded map, letters that would land on the same few pixels as one
  // already drawn are skipped: the picture is the same, the renderer's work is not.
  std::vector<std::uint8_t> occupied;
  const float cell = 6.f;
  const int grid_w = static_cast<int>(size.x / cell) + 1, grid_h = static_cast<int>(size.y / cell) + 1;
  if (simple) occupied.assign(static_cast<std::size_t>(grid_w) * static_cast<std::size_t>(grid_h), 0);
  for (std::size_t k = 0; k < scene.letters.size(); ++k) {
    const auto& l = scene.letters[k];
    const Flight& f = flights[l.flight];
    const ImVec2 p = letter_pos(l);
    const bool selected = f.conn != 0 && f.conn == c.state.selection.conn;
    if (selected && !simple) dl->AddCircleFilled(p, 22 * s, IM_COL32(120, 180, 255, 130), 24);
    const ImU32 tint = f.bounce ? draw::col::kBounce : f.spam ? draw::col::kSpam : 0;
    if (simple) {
      const int gx = std::clamp(static_cast<int>((p.x - p0.x) / cell), 0, grid_w - 1);
      const int gy = std::clamp(static_cast<int>((p.y - p0.y) / cell), 0, grid_h - 1);
      auto& taken = occupied[static_cast<std::size_t>(gy) * static_cast<std::size_t>(grid_w) + static_cast<std::size_t>(gx)];
      if (taken != 0 && !selected) continue;
      taken = 1;
      // A crowded map: the same cues (kraft + gold lock / white + blue lines)
      // in a handful of unsmoothed rectangles, so thousands of letters stay fast.
      const float w = (f.kind == FlightKind::kLetter ? 30.f : 20.f) * s + 6, h = w * 0.64f;
      const ImVec2 a{p.x - w / 2, p.y - h / 2}, b{p.x + w / 2, p.y + h / 2};
      switch (f.kind) {
        case FlightKind::kKnock: dl->AddRectFilled({p.x - 3, p.y - 3}, {p.x + 3, p.y + 3}, draw::col::kKnock); break;
        case FlightKind::kRefusal: dl->AddRectFilled({p.x - 4, p.y - 4}, {p.x + 4, p.y + 4}, draw::col::kClosed); break;
        default:
          dl->AddRectFilled(a, b, tint ? tint : f.sealed ? draw::col::kSealed : draw::col::kPostcard);
          if (f.sealed)
            dl->AddRectFilled({p.x - h * 0.2f, p.y - h * 0.2f}, {p.x + h * 0.2f, p.y + h * 0.3f}, draw::col::kLock);
          else
            dl->AddRectFilled({a.x + w * 0.1f, p.y - 1}, {a.x + w * 0.6f, p.y + 1}, IM_COL32(40, 80, 200, 255));
      }
      consider(Hit::kLetter, k, dist2(mouse, p), 12 * s + 4);
      continue;
    }
    switch (f.kind) {
      case FlightKind::kKnock:
        dl->AddCircleFilled(p, 5 * s, draw::col::kKnock, 12);
        dl->AddCircle(p, 9 * s, draw::col::kKnock, 16, 1.5f);
        break;
      case FlightKind::kRefusal: {
        const float r = 8 * s;
        dl->AddCircleFilled(p, r + 2, IM_COL32(255, 255, 255, 255), 16);
        dl->AddLine({p.x - r, p.y - r}, {p.x + r, p.y + r}, draw::col::kClosed, 3.5f * s);
        dl->AddLine({p.x - r, p.y + r}, {p.x + r, p.y - r}, draw::col::kClosed, 3.5f * s);
        break;
      }
      case FlightKind::kLine:
      case FlightKind::kLetter: {
        const float w = (f.kind == FlightKind::kLetter ? 46.f : 28.f) * s;
        if (f.sealed)
          draw::envelope(dl, p, w, tint ? tint : draw::col::kSealed, true, f.kind == FlightKind::kLetter);
        else
          draw::postcard(dl, p, w, tint ? tint : draw::col::kPostcard);
        if (f.bounce) draw::return_arrow(dl, {p.x + w * 0.55f, p.y - w * 0.3f}, 5 * s, draw::col::kBounce);
        if (f.lost) {
          dl->AddLine({p.x - w / 2, p.y - w / 3}, {p.x + w / 2, p.y + w / 3}, draw::col::kClosed, 2);
        }
        break;
      }
    }
    consider(Hit::kLetter, k, dist2(mouse, p), 20 * s);
  }

  if (simple) draw::opaque_end(dl);

  // What each eavesdropper reads off its road right now: a postcard's words, or nothing but ciphertext.
  const bool any_tap = std::any_of(world.links.begin(), world.links.end(), [](const WorldLink& l) { return l.tapped_by.has_value(); });
  for (const auto& l : scene.letters) {
    if (!any_tap || simple) break;
    const Flight& f = flights[l.flight];
    if (f.kind != FlightKind::kLine && f.kind != FlightKind::kLetter) continue;
    for (std::size_t k = 0; k + 1 < f.path.size(); ++k) {
      const auto link = world.link_between(f.path[k], f.path[k + 1]);
      if (!link || !world.links[*link].tapped_by) continue;
      const ImVec2 e = host_pos(*world.links[*link].tapped_by);
      std::string said;
      if (f.sealed) {
        said = c.lang() == Lang::kJa ? "??? 読めない (暗号文)" : "??? can't read it (ciphertext)";
      } else if (const auto* p = c.index.events()[f.event].as<sim::PacketPayload>()) {
        said = "\"" + first_line(p->data.value, 34) + "\"";
      }
      const ImVec2 tsz = ImGui::CalcTextSize(said.c_str());
      const ImVec2 b{e.x + 36 * s, e.y - tsz.y / 2};
      dl->AddRectFilled({b.x - 6, b.y - 4}, {b.x + tsz.x + 6, b.y + tsz.y + 4}, IM_COL32(255, 255, 255, 240), 8);
      dl->AddRect({b.x - 6, b.y - 4}, {b.x + tsz.x + 6, b.y + tsz.y + 4}, draw::col::kEave, 8, 0, 2);
      dl->AddTriangleFilled({b.x - 6, b.y + tsz.y / 2 - 5}, {b.x - 6, b.y + tsz.y / 2 + 5}, {e.x + 26 * s, e.y}, draw::col::kEave);
      dl->AddText(b, f.sealed ? IM_COL32(150, 110, 0, 255) : draw::col::kEave, said.c_str());
      break;
    }
  }

  // Legend: what the shapes mean.
  {
    const float lh = ImGui::GetFontSize() * 1.5f;
    ImVec2 q{p0.x + 10, p0.y + size.y - lh - 6};
    dl->AddRectFilled({p0.x, q.y - 6}, {p0.x + size.x, p0.y + size.y}, IM_COL32(255, 255, 255, 190));
    auto item = [&](auto icon, const char* text) {
      icon(ImVec2{q.x + 14, q.y + lh / 2});
      dl->AddText({q.x + 32, q.y + lh / 2 - ImGui::GetFontSize() / 2}, draw::col::kText, text);
      q.x += 44 + ImGui::CalcTextSize(text).x;
    };
    const bool ja = c.lang() == Lang::kJa;
    item([&](ImVec2 p) { draw::envelope(dl, p, 26, draw::col::kSealed, true, false); }, ja ? "封筒 (TLS)" : "sealed (TLS)");
    item([&](ImVec2 p) { draw::postcard(dl, p, 26, draw::col::kPostcard); }, ja ? "はがき (平文)" : "postcard (plain)");
    item([&](ImVec2 p) { draw::envelope(dl, p, 26, draw::col::kSpam, false, false); }, c.tr(S::kSpam));
    item([&](ImVec2 p) { draw::envelope(dl, p, 26, draw::col::kBounce, false, false); }, c.tr(S::kReturnToSender));
    item([&](ImVec2 p) { dl->AddCircleFilled(p, 5, draw::col::kKnock); dl->AddCircle(p, 9, draw::col::kKnock); },
         ja ? "ノック (接続)" : "knock (connect)");
  }
  dl->Flags = saved_flags;
  dl->PopClipRect();

  // Hover: say what it is. Click: select it everywhere.
  if (hit == Hit::kNone) return;
  ImGui::BeginTooltip();
  ImGui::PushTextWrapPos(ImGui::GetFontSize() * 30);
  if (hit == Hit::kHost) {
    const auto& wh = world.hosts[hit_index];
    const auto& hs = scene.hosts[hit_index];
    ImGui::TextUnformatted(wh.name.c_str());
    ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(draw::place_colour(wh.place)), "%s", place_name(wh.place, c.lang()));
    const std::string& desc = c.lang() == Lang::kJa && !wh.description_ja.empty() ? wh.description_ja : wh.description;
    if (!desc.empty()) ImGui::TextUnformatted(desc.c_str());
    if (!wh.user.empty()) ImGui::Text("%s", wh.user.c_str());
    if (hs.closed()) ImGui::TextColored(ImVec4(0.8f, 0.1f, 0.1f, 1), "%s", c.tr(S::kClosedSign));
    if (hs.next_retry)
      ImGui::Text("%s %s", c.tr(S::kRetryIn), format_countdown(*hs.next_retry - scene.cursor.t, c.lang()).c_str());
    if (hs.tray) ImGui::Text("%s: %d", c.tr(S::kInTray), hs.tray);
    if (hs.mailbox) ImGui::Text("%s: %d", c.tr(S::kInMailbox), hs.mailbox);
    if (hs.bounces) ImGui::Text("%s: %d", c.tr(S::kReturnToSender), hs.bounces);
    ImGui::TextDisabled("%s", c.tr(S::kClickToSelect));
    if (clicked) {
      c.select_host(hit_index);
      switch (wh.place) {
        case Place::kEavesdropper: c.requests.show_tab = Tab::kEavesdropper; break;
        case Place::kDnsDirectory: c.requests.show_tab = Tab::kDns; break;
        case Place::kRecipientOffice:
        case Place::kRecipientComputer: c.requests.show_tab = Tab::kMailboxes; break;
        default:
          if (hs.tray > 0) c.requests.show_tab = Tab::kQueue;
      }
    }
  } else if (hit == Hit::kLetter) {
    const Flight& f = flights[scene.letters[hit_index].flight];
    const char* what = f.kind == FlightKind::kKnock     ? c.tr(S::kKnock)
                       : f.kind == FlightKind::kRefusal ? c.tr(S::kRefusal)
                       : f.sealed                       ? c.tr(S::kSealedLetter)
                                                        : c.tr(S::kPostcard);
    ImGui::TextUnformatted(what);
    if (f.kind == FlightKind::kLetter) ImGui::TextUnformatted(c.tr(S::kLetterContent));
    const auto& from = world.hosts[f.path.front()].name;
    const auto& to = world.hosts[f.path.back()].name;
    ImGui::Text("%s  ->  %s", from.c_str(), to.c_str());
    if (f.spam) ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(draw::col::kSpam), "%s", c.tr(S::kSpam));
    if (f.bounce) ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(draw::col::kBounce), "%s", c.tr(S::kReturnToSender));
    const auto* p = c.index.events()[f.event].as<sim::PacketPayload>();
    if (p != nullptr && !p->data.value.empty()) {
      ImGui::PushFont(c.fonts.mono);
      if (f.sealed)
        ImGui::TextColored(ImVec4(0.5f, 0.4f, 0.1f, 1), "%s (%zu bytes)", c.tr(S::kCiphertext), p->data.value.size());
      else
        ImGui::TextUnformatted(first_line(p->data.value).c_str());
      ImGui::PopFont();
    }
    ImGui::TextDisabled("%s", c.tr(S::kClickToSelect));
    if (clicked && f.conn != 0) {
      c.select_connection(f.conn);
      c.requests.show_tab = f.kind == FlightKind::kLetter ? Tab::kLetter : Tab::kConversation;
    }
  } else if (hit == Hit::kRoad) {
    const auto& l = world.links[hit_index];
    ImGui::Text("%s: %s  <->  %s", c.tr(S::kRoad), world.hosts[l.a].name.c_str(), world.hosts[l.b].name.c_str());
    ImGui::Text("%s", fmt::format("{} ms", static_cast<double>(l.latency) / 1000.0).c_str());
    if (l.tapped_by) ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(draw::col::kEave), "%s", c.tr(S::kTappedRoad));
    if (scene.link_down[hit_index]) ImGui::TextColored(ImVec4(0.8f, 0.1f, 0.1f, 1), "%s", c.tr(S::kRoadDown));
  }
  ImGui::PopTextWrapPos();
  ImGui::EndTooltip();
}

}  // namespace mailsim::ui
