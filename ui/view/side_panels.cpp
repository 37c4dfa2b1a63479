// Conversation, letter, queue, mailboxes, DNS and eavesdropper panels.
#include "ui/view/draw.h"
#include "ui/view/panels.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace mailsim::ui {

namespace {

ImVec4 rgba(ImU32 c) { return ImGui::ColorConvertU32ToFloat4(c); }

std::string subject_of(const TraceIndex& x, const std::string& message_id) {
  for (const Transfer* t : x.transfers_of(message_id))
    if (!t->subject.empty()) return t->subject;
  return {};
}

// Bytes as a student can read them: CR and LF shown, other control bytes as \xNN.
std::string escape_bytes(const std::string& bytes, std::size_t max = 4000) {
  std::string out;
  for (std::size_t i = 0; i < bytes.size() && i < max; ++i) {
    const unsigned char ch = static_cast<unsigned char>(bytes[i]);
    if (ch == '\r') out += "\\r";
    else if (ch == '\n') out += "\\n\n";
    else if (ch == '\t') out += "\\t";
    else if (ch < 32 || ch == 127) out += fmt::format("\\x{:02x}", ch);
    else out.push_back(static_cast<char>(ch));
  }
  if (bytes.size() > max) out += "...";
  return out;
}

std::string hex_bytes(const std::string& bytes, std::size_t max = 32) {
  std::string out;
  for (std::size_t i = 0; i < bytes.size() && i < max; ++i)
    out += fmt::format("{:02x}{}", static_cast<unsigned char>(bytes[i]), (i + 1) % 16 == 0 ? "\n" : " ");
  if (bytes.size() > max) out += "...";
  return out;
}

// A chat bubble; returns true when hovered.
bool bubble(const char* who, const std::string& text, bool right, ImU32 fill, bool newest, ImFont* mono, float s) {
  const float avail = ImGui::GetContentRegionAvail().x;
  const float wrap = avail * 0.78f;
  ImGui::PushFont(mono);
  const ImVec2 ts = ImGui::CalcTextSize(text.c_str(), nullptr, false, wrap);
  ImGui::PopFont();
  const ImVec2 ws = ImGui::CalcTextSize(who);
  const float pad = 6 * s;
  const float w = std::max(ts.x, ws.x) + 2 * pad;
  const float h = ts.y + ws.y + 2 * pad;
  ImVec2 p = ImGui::GetCursorScreenPos();
  if (right) p.x += avail - w;
  ImDrawList* dl = ImGui::GetWindowDrawList();
  dl->AddRectFilled(p, {p.x + w, p.y + h}, fill, 8 * s);
  dl->AddRect(p, {p.x + w, p.y + h}, newest ? draw::col::kSelect : IM_COL32(150, 160, 170, 255), 8 * s, 0,
              newest ? 3.f : 1.f);
  dl->AddText({p.x + pad, p.y + pad * 0.6f}, draw::col::kTextDim, who);
  dl->AddText(mono, mono->FontSize, {p.x + pad, p.y + pad + ws.y}, draw::col::kText, text.c_str(), nullptr, wrap);
  ImGui::Dummy({avail, h});
  const bool hovered = ImGui::IsMouseHoveringRect(p, {p.x + w, p.y + h});
  ImGui::Dummy({1, 2 * s});
  return hovered;
}

// The connection to show: the selected one, else the newest that has said something.
const Connection* shown_connection(Ctx& c, bool& following) {
  following = false;
  if (const Connection* sel = c.index.connection(c.state.selection.conn)) return sel;
  const Connection* best = nullptr;
  for (const auto& conn : c.index.connections())
    if (conn.first_event < c.scene.cursor.applied && (!conn.lines.empty() || conn.outcome == "refused")) best = &conn;
  following = best != nullptr;
  return best;
}

std::string conn_label(const TraceIndex& x, const Connection& conn) {
  std::string proto = conn.protocol.empty() ? "tcp" : conn.protocol;
  for (auto& ch : proto) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return fmt::format("#{} {} -> {}:{} {}{}", conn.id, conn.client, conn.server, conn.port, proto,
                     conn.outcome == "refused" ? " (refused)" : conn.outcome == "timeout" ? " (timeout)" : "");
  (void)x;
}

}  // namespace

void ConversationPanel::draw(Ctx& c) {
  bool following = false;
  const Connection* conn = shown_connection(c, following);
  // Which conversation: a chooser of every connection so far.
  {
    const std::string current = conn ? conn_label(c.index, *conn) : std::string("-");
    ImGui::SetNextItemWidth(-1);
    if (ImGui::BeginCombo("##conn", current.c_str())) {
      for (const auto& other : c.index.connections()) {
        if (other.first_event >= c.scene.cursor.applied) break;
        if (ImGui::Selectable(conn_label(c.index, other).c_str(), conn == &other)) c.select_connection(other.id);
      }
      ImGui::EndCombo();
    }
  }
  if (conn == nullptr) {
    ImGui::TextWrapped("%s", c.tr(S::kNoConnection));
    return;
  }
  const bool tls_now = conn->tls_event && *conn->tls_event < c.scene.cursor.applied;
  if (tls_now || !conn->lines.empty()) {
    // The same picture as on the map: a sealed envelope or a postcard.
    const float h = ImGui::GetTextLineHeight();
    const ImVec2 p = ImGui::GetCursorScreenPos();
    if (tls_now)
      draw::envelope(ImGui::GetWindowDrawList(), {p.x + h, p.y + h / 2}, h * 1.6f, draw::col::kSealed, true, false);
    else
      draw::postcard(ImGui::GetWindowDrawList(), {p.x + h, p.y + h / 2}, h * 1.6f, draw::col::kPostcard);
    ImGui::Dummy({h * 2.2f, h});
    ImGui::SameLine();
    if (tls_now)
      ImGui::TextColored(rgba(IM_COL32(150, 110, 0, 255)), "TLS: %s", c.tr(S::kEncryptedRoad));
    else
      ImGui::TextColored(rgba(IM_COL32(40, 80, 200, 255)), "%s", c.tr(S::kPlaintextRoad));
  }
  if (!conn->auth_user.empty()) {
    ImGui::SameLine();
    ImGui::TextDisabled("  %s %s", c.tr(S::kLoggedInAs), conn->auth_user.c_str());
  }
  ImGui::Checkbox(c.tr(S::kRawBytes), &c.state.show_raw);
  ImGui::Separator();
  ImGui::BeginChild("lines", {0, 0}, false);
  const std::size_t said = lines_said(*conn, c.scene.cursor);
  if (c.state.show_raw) {
    ImGui::PushFont(c.fonts.mono);
    const auto& events = c.index.events();
    for (std::size_t i : conn->data_events) {
      if (i >= c.scene.cursor.applied) break;
      const auto& e = events[i];
      const auto* d = e.as<sim::DataPayload>();
      if (d->direction != "out") continue;
      const bool client = e.host == conn->client;
      ImGui::TextColored(rgba(client ? IM_COL32(30, 80, 190, 255) : IM_COL32(20, 120, 40, 255)), "%s %s  (%zu bytes)%s",
                         format_clock(e.time).c_str(), client ? "C:" : "S:", d->data.value.size(),
                         d->tls ? "  [TLS]" : "");
      ImGui::TextUnformatted(escape_bytes(d->data.value).c_str());
      if (d->tls) {
        // What the road actually carried: the next packet of this connection.
        for (std::size_t k = i + 1; k < events.size() && k < i + 8; ++k)
          if (const auto* p = events[k].as<sim::PacketPayload>(); p && events[k].conn == conn->id && !p->data.value.empty()) {
            ImGui::TextColored(rgba(IM_COL32(150, 110, 0, 255)), "%s:", c.tr(S::kCiphertext));
            ImGui::TextColored(rgba(IM_COL32(120, 100, 60, 255)), "%s", hex_bytes(p->data.value).c_str());
            break;
          }
      }
      ImGui::Separator();
    }
    ImGui::PopFont();
  } else {
    if (conn->outcome == "refused" && conn->end_event < c.scene.cursor.applied)
      ImGui::TextColored(rgba(draw::col::kClosed), "%s", c.tr(S::kRefusedConn));
    if (conn->outcome == "timeout" && conn->end_event < c.scene.cursor.applied)
      ImGui::TextColored(rgba(draw::col::kClosed), "%s", c.tr(S::kTimedOutConn));
    bool tls_marked = false;
    for (std::size_t k = 0; k < said; ++k) {
      const ConvLine& line = conn->lines[k];
      if (!tls_marked && conn->tls_event && line.event > *conn->tls_event) {
        tls_marked = true;
        ImGui::TextColored(rgba(IM_COL32(150, 110, 0, 255)), "-- %s --", c.tr(S::kTlsFromHere));
      }
      const std::string who = line.from_client ? fmt::format("{} ({})", conn->client, c.tr(S::kClient))
                                               : fmt::format("{} ({})", conn->server, c.tr(S::kServer));
      std::string text = line.text;
      if (text.size() > 600) text = text.substr(0, 600) + " ...";
      const bool hovered = bubble(who.c_str(), text, !line.from_client, line.from_client ? draw::col::kClient : draw::col::kServer,
                                  k + 1 == said, c.fonts.mono, c.s);
      if (hovered) {
        const std::string what = explain_line(conn->protocol, line.text, line.from_client, c.lang());
        ImGui::BeginTooltip();
        ImGui::PushTextWrapPos(ImGui::GetFontSize() * 28);
        ImGui::TextUnformatted(what.empty() ? line.text.c_str() : what.c_str());
        ImGui::TextDisabled("%s", format_clock(line.time).c_str());
        ImGui::PopTextWrapPos();
        ImGui::EndTooltip();
      }
    }
  }
  if (conn->id != last_conn || said != last_lines) ImGui::SetScrollHereY(1.0f);
  last_conn = conn->id;
  last_lines = said;
  ImGui::EndChild();
}

void LetterPanel::draw(Ctx& c) {
  // Which letter: the selected one, else the newest handed over so far.
  std::string id = c.state.selection.message_id;
  if (id.empty())
    for (const auto& t : c.index.transfers())
      if (t.end_event < c.scene.cursor.applied && !t.message_id.empty()) id = t.message_id;
  {
    const std::string label = id.empty() ? std::string("-") : fmt::format("{}  <{}>", subject_of(c.index, id), id);
    ImGui::SetNextItemWidth(-1);
    if (ImGui::BeginCombo("##letter", label.c_str())) {
      for (const auto& m : c.index.message_ids())
        if (ImGui::Selectable(fmt::format("{}  <{}>", subject_of(c.index, m), m).c_str(), m == id)) c.select_message(m);
      ImGui::EndCombo();
    }
  }
  if (id.empty()) {
    ImGui::TextWrapped("%s", c.tr(S::kNoLetter));
    return;
  }
  const Transfer* t = letter_at(c.index, id, c.scene.cursor);
  if (t == nullptr) {
    ImGui::TextWrapped("%s", c.tr(S::kNotPostedYet));
    return;
  }
  ImGui::BeginChild("letter", {0, 0}, false);
  ImGui::TextDisabled("%s %s, %s", c.tr(S::kCopyAt), t->to_host.c_str(), format_clock(t->end).c_str());
  // The envelope: from the newest SMTP copy (POP3 and IMAP hand over the letter without one).
  const Transfer* env = t;
  if (env->mail_from.empty() && env->rcpt_to.empty())
    for (const Transfer* other : c.index.transfers_of(id))
      if (other->end_event <= t->end_event && (!other->mail_from.empty() || !other->rcpt_to.empty())) env = other;
  {
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const float w = ImGui::GetContentRegionAvail().x;
    const float line = ImGui::GetTextLineHeightWithSpacing();
    const float h = line * 4.2f;
    const ImVec2 p = ImGui::GetCursorScreenPos();
    dl->AddRectFilled(p, {p.x + w, p.y + h}, draw::col::kSealed, 6);
    dl->AddRect(p, {p.x + w, p.y + h}, IM_COL32(120, 90, 50, 255), 6, 0, 2);
    dl->AddRectFilled({p.x + w - 34 * c.s, p.y + 6}, {p.x + w - 8 * c.s, p.y + 6 + 32 * c.s}, IM_COL32(220, 70, 60, 255), 2);
    ImGui::SetCursorScreenPos({p.x + 10, p.y + 6});
    ImGui::TextColored(rgba(IM_COL32(110, 70, 30, 255)), "%s", c.tr(S::kEnvelope));
    ImGui::SetCursorScreenPos({p.x + 10, ImGui::GetCursorScreenPos().y});
    ImGui::PushFont(c.fonts.mono);
    ImGui::Text("%s:  <%s>", c.tr(S::kMailFrom), env->mail_from.c_str());
    std::string rcpts;
    for (const auto& r : env->rcpt_to) rcpts += (rcpts.empty() ? "<" : ", <") + r + ">";
    ImGui::SetCursorScreenPos({p.x + 10, ImGui::GetCursorScreenPos().y});
    ImGui::Text("%s:  %s", c.tr(S::kRcptTo), rcpts.c_str());
    ImGui::PopFont();
    ImGui::SetCursorScreenPos({p.x, p.y + h + 6});
    ImGui::Dummy({w, 1});
  }
  // Postmarks, one per office that added a Received: line.
  ImGui::TextColored(rgba(IM_COL32(60, 60, 140, 255)), "%s", c.tr(S::kPostmarks));
  if (t->postmarks.empty()) {
    ImGui::TextDisabled("-");
  } else {
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const float r = 46 * c.s;
    ImVec2 p = ImGui::GetCursorScreenPos();
    p.x += r + 6;
    p.y += r + 4;
    for (const auto& pm : t->postmarks) {
      // "Mon, 1 Apr 2024 09:00:01 +0000" -> "1 Apr 2024" over "09:00:01".
      std::string date = pm.date;
      if (const auto comma = date.find(", "); comma != std::string::npos) date = date.substr(comma + 2);
      if (const auto zone = date.rfind(' '); zone != std::string::npos && zone > 12) date = date.substr(0, zone);
      if (const auto last = date.rfind(' '); last != std::string::npos) date[last] = '\n';
      const ImU32 ink = pm.with.find('S') != std::string::npos && pm.with.size() > 4 ? IM_COL32(30, 90, 40, 255)
                                                                                      : IM_COL32(40, 60, 160, 255);
      draw::postmark(dl, p, r, pm.by.c_str(), date.c_str(), ink);
      const ImVec2 q{p.x - r, p.y - r};
      if (ImGui::IsMouseHoveringRect(q, {p.x + r, p.y + r})) {
        ImGui::BeginTooltip();
        ImGui::PushTextWrapPos(ImGui::GetFontSize() * 30);
        ImGui::Text("%s %s", c.tr(S::kStampedBy), pm.by.c_str());
        if (!pm.from.empty()) ImGui::Text("%s %s", c.tr(S::kCameFrom), pm.from.c_str());
        ImGui::PushFont(c.fonts.mono);
        ImGui::TextUnformatted(pm.raw.c_str());
        ImGui::PopFont();
        ImGui::PopTextWrapPos();
        ImGui::EndTooltip();
      }
      p.x += 2 * r + 40 * c.s;
    }
    ImGui::Dummy({1, 2 * r + 10});
  }
  // Headers, then the body.
  const auto split = t->content.find("\r\n\r\n");
  const std::string headers = t->content.substr(0, split);
  const std::string body = split == std::string::npos ? std::string{} : t->content.substr(split + 4);
  ImGui::TextColored(rgba(IM_COL32(60, 60, 140, 255)), "%s", c.tr(S::kHeaders));
  ImGui::PushFont(c.fonts.mono);
  std::size_t pos = 0;
  bool in_received = false;
  while (pos < headers.size()) {
    auto eol = headers.find("\r\n", pos);
    if (eol == std::string::npos) eol = headers.size();
    const std::string line = headers.substr(pos, eol - pos);
    if (!line.empty() && line[0] != ' ' && line[0] != '\t') in_received = line.rfind("Received:", 0) == 0;
    ImGui::PushTextWrapPos(0);
    ImGui::TextColored(in_received ? rgba(IM_COL32(30, 90, 40, 255)) : rgba(draw::col::kText), "%s", line.c_str());
    ImGui::PopTextWrapPos();
    pos = eol + 2;
  }
  ImGui::PopFont();
  ImGui::Separator();
  ImGui::TextColored(rgba(IM_COL32(60, 60, 140, 255)), "%s", c.tr(S::kBody));
  ImGui::PushTextWrapPos(0);
  std::string plain = body;
  plain.erase(std::remove(plain.begin(), plain.end(), '\r'), plain.end());
  if (plain.size() > 4000) plain = plain.substr(0, 4000) + "...";
  ImGui::TextUnformatted(plain.c_str());
  ImGui::PopTextWrapPos();
  ImGui::EndChild();
}

void QueuePanel::draw(Ctx& c) {
  const auto& queue = c.scene.queue;
  if (queue.empty()) {
    ImGui::TextWrapped("%s", c.tr(S::kQueueEmpty));
    return;
  }
  const ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerH | ImGuiTableFlags_ScrollY |
                                ImGuiTableFlags_Resizable | ImGuiTableFlags_SizingStretchProp;
  if (!ImGui::BeginTable("queue", 5, flags)) return;
  ImGui::TableSetupScrollFreeze(0, 1);
  ImGui::TableSetupColumn(c.tr(S::kOffice), 0, 1.5f);
  ImGui::TableSetupColumn(c.tr(S::kLetter), 0, 1.0f);
  ImGui::TableSetupColumn(c.tr(S::kState), 0, 1.3f);
  ImGui::TableSetupColumn(c.tr(S::kNextTry), 0, 1.2f);
  ImGui::TableSetupColumn(c.tr(S::kReason), 0, 1.4f);
  ImGui::TableHeadersRow();
  ImGuiListClipper clipper;
  clipper.Begin(static_cast<int>(queue.size()));
  while (clipper.Step()) {
    for (int row = clipper.DisplayStart; row < clipper.DisplayEnd; ++row) {
      const auto& q = queue[static_cast<std::size_t>(row)];
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      const bool selected = (!q.message_id.empty() && q.message_id == c.state.selection.message_id) ||
                            (q.host == c.state.selection.queue_host && q.queue_id == c.state.selection.queue_id);
      ImGui::PushID(row);
      // The office name may be long: let it wrap instead of being cut.
      const ImVec2 name_size = ImGui::CalcTextSize(q.host.c_str(), nullptr, false, ImGui::GetContentRegionAvail().x);
      if (ImGui::Selectable("##row", selected, ImGuiSelectableFlags_SpanAllColumns, {0, name_size.y})) {
        c.state.selection.queue_host = q.host;
        c.state.selection.queue_id = q.queue_id;
        if (!q.message_id.empty()) c.select_message(q.message_id);
        if (auto h = c.index.world().find(q.host)) c.select_host(*h);
      }
      ImGui::SameLine(0, 0);
      ImGui::PushTextWrapPos(0);
      ImGui::TextUnformatted(q.host.c_str());
      ImGui::PopTextWrapPos();
      ImGui::PopID();
      ImGui::TableNextColumn();
      const std::string subject = q.message_id.empty() ? std::string{} : subject_of(c.index, q.message_id);
      ImGui::PushTextWrapPos(0);
      ImGui::Text("%s %s", q.queue_id.c_str(), subject.c_str());
      ImGui::PopTextWrapPos();
      if (ImGui::IsItemHovered() && !q.recipients.empty()) {
        std::string r;
        for (const auto& x : q.recipients) r += x + "\n";
        ImGui::SetTooltip("%s -> \n%s", q.sender.c_str(), r.c_str());
      }
      ImGui::TableNextColumn();
      const ImU32 colour = q.state == "deferred"                            ? draw::col::kDeferred
                           : q.state == "bounced" || q.state == "expired"   ? draw::col::kBounce
                           : q.state == "sent" || q.state == "delivered"    ? draw::col::kDelivered
                                                                            : draw::col::kSent;
      ImGui::PushTextWrapPos(0);
      ImGui::TextColored(rgba(colour), "%s", queue_state_name(q.state, c.lang()));
      ImGui::TextDisabled("%s: %d", c.tr(S::kAttempts), q.attempts);
      ImGui::TableNextColumn();
      if (q.state == "deferred" && q.next_retry > 0) {
        ImGui::TextUnformatted(format_clock(q.next_retry).c_str());
        ImGui::TextColored(rgba(draw::col::kDeferred), "%s", format_countdown(q.next_retry - c.scene.cursor.t, c.lang()).c_str());
        if (c.report != nullptr) c.report->widget("next-try:" + q.host + ":" + q.queue_id);
      }
      ImGui::PopTextWrapPos();
      ImGui::TableNextColumn();
      ImGui::PushTextWrapPos(0);
      ImGui::TextUnformatted(q.reason.c_str());
      ImGui::PopTextWrapPos();
    }
  }
  ImGui::EndTable();
}

void MailboxPanel::draw(Ctx& c) {
  if (c.scene.mailboxes.empty()) {
    ImGui::TextWrapped("%s", c.tr(S::kNoMailboxes));
    return;
  }
  ImGui::BeginChild("boxes", {0, 0}, false);
  auto letter_row = [&](const std::string& id, bool gone) {
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const ImVec2 p = ImGui::GetCursorScreenPos();
    const float h = ImGui::GetTextLineHeight();
    draw::envelope(dl, {p.x + h * 0.8f, p.y + h / 2}, h * 1.3f, gone ? IM_COL32(220, 220, 220, 255) : draw::col::kSealed,
                   false, false);
    ImGui::Dummy({h * 1.8f, h});
    ImGui::SameLine();
    const std::string text = fmt::format("{}  <{}>", subject_of(c.index, id), id);
    const bool selected = id == c.state.selection.message_id;
    if (ImGui::Selectable(text.c_str(), selected)) {
      c.select_message(id);
      c.requests.show_tab = Tab::kLetter;
    }
    if (gone) {
      const ImVec2 a = ImGui::GetItemRectMin(), b = ImGui::GetItemRectMax();
      dl->AddLine({a.x, (a.y + b.y) / 2}, {b.x, (a.y + b.y) / 2}, IM_COL32(120, 120, 120, 255), 1.5f);
    }
  };
  for (const auto& box : c.scene.mailboxes) {
    ImGui::PushID(&box);
    ImGui::TextColored(rgba(IM_COL32(30, 100, 50, 255)), "%s", box.user.c_str());
    ImGui::SameLine();
    ImGui::TextDisabled("@ %s", box.host.c_str());
    ImGui::Indent();
    ImGui::Text("%s: %zu", c.tr(S::kOnServer), box.on_server.size());
    for (const auto& id : box.on_server) letter_row(id, false);
    if (!box.deleted.empty()) {
      ImGui::TextColored(rgba(draw::col::kDeferred), "%s:", c.tr(S::kDownloadedDeleted));
      for (const auto& id : box.deleted) letter_row(id, true);
    }
    for (const auto& d : box.devices) {
      std::string proto = d.protocol;
      for (auto& ch : proto) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      ImGui::Text("%s: %s %s", c.tr(S::kDevice), d.device.c_str(), proto.empty() ? "" : ("(" + proto + ")").c_str());
      ImGui::Indent();
      if (d.protocol == "pop3") ImGui::TextColored(rgba(IM_COL32(150, 90, 0, 255)), "%s", c.tr(S::kPop3Note));
      if (d.protocol == "imap") ImGui::TextColored(rgba(IM_COL32(30, 100, 160, 255)), "%s", c.tr(S::kImapNote));
      for (const auto& id : d.messages) letter_row(id, false);
      ImGui::Unindent();
    }
    ImGui::Unindent();
    ImGui::Separator();
    ImGui::PopID();
  }
  ImGui::EndChild();
}

void DnsPanel::draw(Ctx& c) {
  const auto& lookups = c.index.dns_lookups();
  const std::size_t n = c.scene.dns_count;
  if (n == 0) {
    ImGui::TextWrapped("%s", c.tr(S::kNoLookups));
    return;
  }
  const ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerH | ImGuiTableFlags_ScrollY |
                                ImGuiTableFlags_SizingStretchProp;
  if (!ImGui::BeginTable("dns", 4, flags)) return;
  ImGui::TableSetupScrollFreeze(0, 1);
  ImGui::TableSetupColumn(c.tr(S::kTime), 0, 0.9f);
  ImGui::TableSetupColumn(c.tr(S::kOffice), 0, 1.2f);
  ImGui::TableSetupColumn(c.tr(S::kQuestion), 0, 1.3f);
  ImGui::TableSetupColumn(c.tr(S::kAnswer), 0, 2.0f);
  ImGui::TableHeadersRow();
  const auto& events = c.index.events();
  for (std::size_t i = 0; i < n; ++i) {
    const auto& q = events[lookups[i].query_event];
    const auto* d = q.as<sim::DnsPayload>();
    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(format_clock(q.time).c_str());
    ImGui::TableNextColumn();
    const bool selected = c.state.selection.host && c.index.world().find(q.host) == c.state.selection.host;
    ImGui::TextColored(selected ? rgba(draw::col::kSelect) : rgba(draw::col::kText), "%s", q.host.c_str());
    ImGui::TableNextColumn();
    ImGui::PushFont(c.fonts.mono);
    ImGui::PushTextWrapPos(0);
    ImGui::Text("%s %s?", d->name.c_str(), d->type.c_str());
    ImGui::PopTextWrapPos();
    ImGui::PopFont();
    ImGui::TableNextColumn();
    if (lookups[i].answer_event && *lookups[i].answer_event < c.scene.cursor.applied) {
      const auto* a = events[*lookups[i].answer_event].as<sim::DnsPayload>();
      ImGui::PushFont(c.fonts.mono);
      if (a->records.empty()) ImGui::TextColored(rgba(draw::col::kBounce), "%s", a->rcode.c_str());
      for (const auto& r : a->records)
        ImGui::Text("%s %s%s", r.type.c_str(), r.type == "MX" ? (std::to_string(r.preference) + " ").c_str() : "",
                    r.value.c_str());
      ImGui::PopFont();
      if (a->cached) ImGui::TextDisabled("(%s)", c.tr(S::kFromCache));
    } else {
      ImGui::TextDisabled("%s", c.tr(S::kWaitingAnswer));
    }
  }
  if (n != last_count) ImGui::SetScrollHereY(1.0f);
  last_count = n;
  ImGui::EndTable();
}

void EavesdropperPanel::draw(Ctx& c) {
  const std::size_t n = c.scene.capture_count;
  if (n == 0) {
    ImGui::TextWrapped("%s", c.tr(S::kNothingCaptured));
    return;
  }
  const auto& events = c.index.events();
  const auto& caps = c.index.captures();
  std::size_t readable = 0;
  std::vector<std::string> passwords;
  for (std::size_t i = 0; i < n; ++i) {
    if (!events[caps[i]].as<sim::CapturePayload>()->encrypted) ++readable;
    if (auto it = c.index.leaked_passwords().find(caps[i]); it != c.index.leaked_passwords().end())
      passwords.push_back(it->second);
  }
  ImGui::Text("%zu %s: %zu %s, %zu %s", n, c.tr(S::kCaptured), readable, c.tr(S::kReadable), n - readable,
              c.tr(S::kCiphertext));
  for (const auto& pw : passwords) {
    const ImVec2 p = ImGui::GetCursorScreenPos();
    const std::string text = fmt::format("{}: {}", c.tr(S::kPasswordLeaked), pw);
    const ImVec2 sz = ImGui::CalcTextSize(text.c_str());
    ImGui::GetWindowDrawList()->AddRectFilled(p, {p.x + sz.x + 12, p.y + sz.y + 4}, draw::col::kClosed, 4);
    ImGui::SetCursorScreenPos({p.x + 6, p.y + 2});
    ImGui::TextColored(ImVec4(1, 1, 1, 1), "%s", text.c_str());
    ImGui::Dummy({1, 2});
  }
  ImGui::Separator();
  ImGui::BeginChild("caps", {0, 0}, false);
  ImGuiListClipper clipper;
  clipper.Begin(static_cast<int>(n));
  while (clipper.Step()) {
    for (int row = clipper.DisplayStart; row < clipper.DisplayEnd; ++row) {
      const std::size_t ev = caps[static_cast<std::size_t>(row)];
      const auto& e = events[ev];
      const auto* cap = e.as<sim::CapturePayload>();
      ImGui::TextColored(cap->encrypted ? rgba(IM_COL32(150, 110, 0, 255)) : rgba(IM_COL32(40, 80, 200, 255)),
                         "%s  %s -> %s  [%s]", format_clock(e.time).c_str(), cap->from.c_str(), cap->to.c_str(),
                         cap->encrypted ? c.tr(S::kCiphertext) : c.tr(S::kReadable));
      ImGui::PushFont(c.fonts.mono);
      ImGui::Indent();
      if (cap->encrypted) {
        ImGui::TextColored(rgba(IM_COL32(130, 110, 70, 255)), "%s", hex_bytes(cap->data.value, 24).c_str());
      } else {
        std::string text = cap->data.value.substr(0, 300);
        text.erase(std::remove(text.begin(), text.end(), '\r'), text.end());
        if (!text.empty() && text.back() == '\n') text.pop_back();
        const auto leak = c.index.leaked_passwords().find(ev);
        if (leak != c.index.leaked_passwords().end()) {
          const ImVec2 p = ImGui::GetCursorScreenPos();
          const ImVec2 sz = ImGui::CalcTextSize(text.c_str());
          ImGui::GetWindowDrawList()->AddRectFilled(p, {p.x + sz.x + 4, p.y + sz.y}, IM_COL32(255, 200, 200, 255));
          ImGui::TextColored(rgba(draw::col::kClosed), "%s", text.c_str());
          ImGui::SameLine();
          ImGui::TextColored(rgba(draw::col::kClosed), "  <- %s: %s", c.tr(S::kPasswordLeaked), leak->second.c_str());
        } else {
          ImGui::TextUnformatted(text.c_str());
        }
      }
      ImGui::Unindent();
      ImGui::PopFont();
    }
  }
  if (n != last_count) ImGui::SetScrollHereY(1.0f);
  last_count = n;
  ImGui::EndChild();
}

}  // namespace mailsim::ui
