// The scene at a cursor (see scene.h): replays the few events that change
// state (outages, queue, mailboxes) and places the flights on their roads.
#include "ui/model/scene.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace mailsim::ui {

using sim::EventKind;

namespace {

std::size_t prefix(const std::vector<std::size_t>& events, std::size_t applied) {
  return static_cast<std::size_t>(std::lower_bound(events.begin(), events.end(), applied) - events.begin());
}

std::string strip_angles(std::string s) {
  if (!s.empty() && s.front() == '<') s.erase(0, 1);
  if (!s.empty() && s.back() == '>') s.pop_back();
  return s;
}

}  // namespace

std::size_t lines_said(const Connection& conn, const Cursor& cursor) {
  return static_cast<std::size_t>(
      std::lower_bound(conn.lines.begin(), conn.lines.end(), cursor.applied,
                       [](const ConvLine& l, std::size_t applied) { return l.event < applied; }) -
      conn.lines.begin());
}

const Transfer* letter_at(const TraceIndex& index, const std::string& message_id, const Cursor& cursor) {
  const Transfer* best = nullptr;
  for (const Transfer* t : index.transfers_of(message_id))
    if (t->end_event < cursor.applied) best = t;
  return best;
}

bool flight_position(const TraceIndex& index, const Flight& f, Time t, LetterOnRoad& out) {
  if (t < f.start || t >= f.end || f.path.size() < 2) return false;
  const auto& hosts = index.world().hosts;
  Time leg_start = f.start;
  for (std::size_t k = 0; k < f.leg_end.size(); ++k) {
    if (t < f.leg_end[k] || k + 1 == f.leg_end.size()) {
      const auto& a = hosts[f.path[k]];
      const auto& b = hosts[f.path[k + 1]];
      const double span = static_cast<double>(std::max<Time>(f.leg_end[k] - leg_start, 1));
      const float u = static_cast<float>(std::clamp(static_cast<double>(t - leg_start) / span, 0.0, 1.0));
      out.x = a.x + (b.x - a.x) * u;
      out.y = a.y + (b.y - a.y) * u;
      const float len = std::hypot(b.x - a.x, b.y - a.y);
      out.dx = len > 0 ? (b.x - a.x) / len : 1.f;
      out.dy = len > 0 ? (b.y - a.y) / len : 0.f;
      out.progress = static_cast<float>(static_cast<double>(t - f.start) / static_cast<double>(f.end - f.start));
      return true;
    }
    leg_start = f.leg_end[k];
  }
  return false;
}

Scene build_scene(const TraceIndex& index, const Cursor& cursor) {
  const auto& events = index.events();
  const auto& world = index.world();
  Scene s;
  s.cursor = cursor;
  s.hosts.resize(world.hosts.size());
  s.link_down.assign(world.links.size(), false);

  // Outages.
  for (std::size_t i : index.outage_events()) {
    if (i >= cursor.applied) break;
    const auto& e = events[i];
    const auto* o = e.as<sim::OutagePayload>();
    switch (e.kind) {
      case EventKind::kHostDown:
      case EventKind::kHostUp:
        if (auto h = world.find(o->target)) {
          s.hosts[*h].down = e.kind == EventKind::kHostDown;
          s.hosts[*h].silent = s.hosts[*h].down && o->silent;
        }
        break;
      case EventKind::kPortDown:
      case EventKind::kPortUp: {
        const auto colon = o->target.rfind(':');
        if (colon == std::string::npos) break;
        const auto h = world.find(o->target.substr(0, colon));
        if (!h) break;
        const auto port = static_cast<std::uint16_t>(std::strtoul(o->target.c_str() + colon + 1, nullptr, 10));
        auto& ports = s.hosts[*h].closed_ports;
        ports.erase(std::remove(ports.begin(), ports.end(), port), ports.end());
        if (e.kind == EventKind::kPortDown) ports.push_back(port);
        break;
      }
      case EventKind::kLinkDown:
      case EventKind::kLinkUp: {
        // target "a<->b"
        const auto sep = o->target.find("<->");
        if (sep == std::string::npos) break;
        const auto a = world.find(o->target.substr(0, sep));
        const auto b = world.find(o->target.substr(sep + 3));
        if (a && b)
          if (auto l = world.link_between(*a, *b)) s.link_down[*l] = e.kind == EventKind::kLinkDown;
        break;
      }
      default: break;
    }
  }

  // Queues: each step names its entry (worked out once in the index), so
  // replaying them is a walk over a vector, no lookups by name.
  const auto& entries = index.queue_entries();
  constexpr std::size_t kUnseen = static_cast<std::size_t>(-1);
  std::vector<std::size_t> entry_pos(entries.size(), kUnseen);
  std::vector<std::size_t> pos_entry;
  for (const QueueStep& step : index.queue_steps()) {
    if (step.event >= cursor.applied) break;
    const auto& e = events[step.event];
    const auto* q = e.as<sim::QueuePayload>();
    std::size_t& pos = entry_pos[step.entry];
    if (pos == kUnseen) {
      pos = s.queue.size();
      pos_entry.push_back(step.entry);
      QueueEntryState entry;
      entry.host = entries[step.entry].host;
      entry.queue_id = entries[step.entry].queue_id;
      entry.message_id = entries[step.entry].message_id;
      s.queue.push_back(std::move(entry));
    }
    auto& entry = s.queue[pos];
    if (!q->sender.empty() && q->sender != entry.sender) entry.sender = q->sender;
    if (!q->recipients.empty() && q->recipients != entry.recipients) entry.recipients = q->recipients;
    if (!q->reason.empty()) entry.reason = q->reason;
    entry.attempts = std::max(entry.attempts, q->attempt);
    entry.last_event = step.event;
    if (e.kind == EventKind::kRetry) {
      entry.next_retry = q->retry_at;
      if (!q->state.empty() && q->state != entry.state) {
        entry.state = q->state;
        entry.since = e.time;
      }
    } else {
      if (q->state != entry.state) {
        entry.since = e.time;
        entry.state = q->state;
      }
      if (q->state != "deferred")
        entry.next_retry = 0;
      else if (step.retry_at > 0)
        entry.next_retry = step.retry_at;  // scheduled at the same instant (see QueueStep)
      else if (q->retry_at > 0)
        entry.next_retry = q->retry_at;    // a trace that tells it on the deferral itself
    }
  }
  for (std::size_t k = 0; k < s.queue.size(); ++k) {
    const auto& entry = s.queue[k];
    const auto h = entries[pos_entry[k]].host_index;
    if (!h || !entry.waiting()) continue;
    auto& hs = s.hosts[*h];
    ++hs.tray;
    if (entry.state == "deferred") {
      ++hs.deferred;
      if (entry.next_retry > 0 && (!hs.next_retry || entry.next_retry < *hs.next_retry)) {
        hs.next_retry = entry.next_retry;
        hs.waiting_since = entry.since;
      }
    }
  }
  for (std::size_t i : index.bounce_events()) {
    if (i >= cursor.applied) break;
    if (auto h = world.find(events[i].host)) ++s.hosts[*h].bounces;
  }

  // Mailboxes.
  std::map<std::pair<std::string, std::string>, std::size_t> box_pos;
  auto protocol_of_device = [&](const std::string& device) -> std::string {
    if (auto h = world.find(device); h && !world.hosts[*h].fetch_protocol.empty()) return world.hosts[*h].fetch_protocol;
    for (const auto& h : world.hosts)
      if (std::find(h.devices.begin(), h.devices.end(), device) != h.devices.end()) return h.fetch_protocol;
    return {};
  };
  for (std::size_t i : index.mailbox_events()) {
    if (i >= cursor.applied) break;
    const auto& e = events[i];
    const auto* m = e.as<sim::MailboxPayload>();
    auto [it, fresh] = box_pos.emplace(std::make_pair(e.host, m->user), s.mailboxes.size());
    if (fresh) s.mailboxes.push_back({e.host, m->user, {}, {}, {}, 0});
    auto& box = s.mailboxes[it->second];
    const std::string id = strip_angles(m->message_id);
    auto add_unique = [](std::vector<std::string>& v, const std::string& x) {
      if (std::find(v.begin(), v.end(), x) == v.end()) v.push_back(x);
    };
    if (m->action == "stored") {
      add_unique(box.on_server, id);
    } else if (m->action == "deleted") {
      const auto before = box.on_server.size();
      box.on_server.erase(std::remove(box.on_server.begin(), box.on_server.end(), id), box.on_server.end());
      if (box.on_server.size() != before) add_unique(box.deleted, id);
    } else if (m->action == "fetched" || m->action == "seen") {
      const std::string device = m->device.empty() ? std::string("?") : m->device;
      auto d = std::find_if(box.devices.begin(), box.devices.end(), [&](const DeviceCopy& c) { return c.device == device; });
      if (d == box.devices.end()) {
        box.devices.push_back({device, protocol_of_device(device), {}});
        d = box.devices.end() - 1;
      }
      if (m->action == "fetched") add_unique(d->messages, id);
    }
    box.count = m->count;
  }
  for (const auto& box : s.mailboxes)
    if (auto h = world.find(box.host)) s.hosts[*h].mailbox += static_cast<int>(box.on_server.size());

  // Connections open now.
  const auto& conns = index.connections();
  for (std::size_t c = 0; c < conns.size(); ++c) {
    const auto& conn = conns[c];
    if (conn.first_event >= cursor.applied) continue;
    const bool ended = conn.outcome != "" && conn.end_event < cursor.applied;
    if (ended) continue;
    s.open_connections.push_back(c);
    if (conn.client_host) s.hosts[*conn.client_host].busy = true;
    if (conn.server_host) s.hosts[*conn.server_host].busy = true;
  }

  // Letters on the roads: flights that have left and not yet arrived.
  const auto& flights = index.flights();
  const Time earliest = cursor.t - index.longest_flight();
  auto it = std::lower_bound(flights.begin(), flights.end(), earliest,
                             [](const Flight& f, Time t) { return f.start < t; });
  for (; it != flights.end() && it->start <= cursor.t; ++it) {
    if (it->event >= cursor.applied) continue;
    LetterOnRoad l;
    if (!flight_position(index, *it, cursor.t, l)) continue;
    l.flight = static_cast<std::size_t>(it - flights.begin());
    s.letters.push_back(l);
  }

  // Prefix counts for list panels.
  const auto& dns = index.dns_lookups();
  s.dns_count = static_cast<std::size_t>(
      std::lower_bound(dns.begin(), dns.end(), cursor.applied,
                       [](const DnsLookup& d, std::size_t applied) { return d.query_event < applied; }) -
      dns.begin());
  s.capture_count = prefix(index.captures(), cursor.applied);
  const auto& steps = index.steps();
  if (const std::size_t n = prefix(steps, cursor.applied); n > 0) s.last_step = steps[n - 1];
  if (const std::size_t n = prefix(index.notes(), cursor.applied); n > 0) s.last_note = index.notes()[n - 1];
  return s;
}

}  // namespace mailsim::ui
