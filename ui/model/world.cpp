// Building the map of a run from a scenario or a trace, and laying it out.
#include "ui/model/world.h"

#include "sim/scenario/scenario.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>

namespace mailsim::ui {

std::optional<std::size_t> World::find(std::string_view name) const {
  for (std::size_t i = 0; i < hosts.size(); ++i)
    if (hosts[i].name == name) return i;
  return std::nullopt;
}

std::optional<std::size_t> World::link_between(std::size_t a, std::size_t b) const {
  for (std::size_t i = 0; i < links.size(); ++i)
    if ((links[i].a == a && links[i].b == b) || (links[i].a == b && links[i].b == a)) return i;
  return std::nullopt;
}

std::size_t World::ensure_host(std::string_view name) {
  if (auto i = find(name)) return *i;
  WorldHost h;
  h.name = std::string(name);
  hosts.push_back(std::move(h));
  return hosts.size() - 1;
}

std::size_t World::ensure_link(std::size_t a, std::size_t b, Time latency) {
  if (auto i = link_between(a, b)) return *i;
  links.push_back({a, b, latency, std::nullopt});
  return links.size() - 1;
}

namespace {

std::string domain_of(std::string_view address) {
  const auto at = address.rfind('@');
  std::string d(at == std::string_view::npos ? std::string_view{} : address.substr(at + 1));
  std::transform(d.begin(), d.end(), d.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return d;
}

bool is_server(const sim::HostSpec& h) { return h.role == sim::HostRole::kMta || h.role == sim::HostRole::kRelay; }

bool is_sender_side(Place p) { return p == Place::kSenderComputer || p == Place::kSpammer; }

}  // namespace

World world_from_scenario(const sim::Scenario& s) {
  World w;
  w.title = s.title;
  w.title_ja = s.title_ja;
  w.description = s.description;
  w.description_ja = s.description_ja;
  w.file = s.file;
  w.lesson = s.lesson;

  // Who posts letters, and to which domains.
  std::set<std::string> sending_hosts, sending_users, recipient_domains;
  for (const auto& item : s.timeline) {
    if (const auto* send = std::get_if<sim::SendAction>(&item.action)) {
      sending_users.insert(send->from);
      if (!send->via.empty()) sending_hosts.insert(send->via);
      for (const auto& r : send->to) recipient_domains.insert(domain_of(r));
      for (const auto& r : send->cc) recipient_domains.insert(domain_of(r));
    } else if (const auto* spam = std::get_if<sim::SpamAction>(&item.action)) {
      for (const auto& r : spam->to) recipient_domains.insert(domain_of(r));
    }
  }
  auto server_for = [&](const std::string& domain) -> const sim::HostSpec* {
    for (const auto& h : s.hosts)
      if (is_server(h) && std::find(h.local_domains.begin(), h.local_domains.end(), domain) != h.local_domains.end())
        return &h;
    return nullptr;
  };
  std::set<std::string> outgoing_servers;
  for (const auto& h : s.hosts) {
    if (h.role != sim::HostRole::kClient) continue;
    bool sends = sending_hosts.count(h.name) > 0 || sending_users.count(h.user) > 0;
    for (const auto& d : h.devices) sends = sends || sending_hosts.count(d) > 0;
    if (!sends) continue;
    if (!h.outgoing.server.empty())
      outgoing_servers.insert(h.outgoing.server);
    else if (const auto* srv = server_for(domain_of(h.user)))
      outgoing_servers.insert(srv->name);
  }

  for (const auto& h : s.hosts) {
    WorldHost wh;
    wh.name = h.name;
    wh.description = h.description;
    wh.description_ja = h.description_ja;
    switch (h.role) {
      case sim::HostRole::kClient: {
        bool sends = sending_hosts.count(h.name) > 0 || sending_users.count(h.user) > 0;
        for (const auto& d : h.devices) sends = sends || sending_hosts.count(d) > 0;
        wh.place = sends ? Place::kSenderComputer : Place::kRecipientComputer;
        wh.user = h.user;
        wh.devices = h.devices;
        if (h.fetch) wh.fetch_protocol = h.fetch->protocol == sim::FetchProtocol::kPop3 ? "pop3" : "imap";
        break;
      }
      case sim::HostRole::kMta:
      case sim::HostRole::kRelay: {
        const bool outgoing = outgoing_servers.count(h.name) > 0;
        bool receiving = false;
        for (const auto& d : h.local_domains) receiving = receiving || recipient_domains.count(d) > 0;
        if (outgoing && receiving)
          wh.place = Place::kPostOffice;
        else if (outgoing)
          wh.place = Place::kOutgoingOffice;
        else if (receiving)
          wh.place = Place::kRecipientOffice;
        else
          wh.place = Place::kSortingOffice;
        break;
      }
      case sim::HostRole::kDns: wh.place = Place::kDnsDirectory; break;
      case sim::HostRole::kSpammer: wh.place = Place::kSpammer; break;
      case sim::HostRole::kEavesdropper: wh.place = Place::kEavesdropper; break;
      case sim::HostRole::kRouter: wh.place = Place::kRouter; break;
    }
    w.hosts.push_back(std::move(wh));
  }
  for (const auto& l : s.links) {
    auto a = w.find(l.a), b = w.find(l.b);
    if (a && b && *a != *b) w.ensure_link(*a, *b, l.latency);
  }
  for (std::size_t i = 0; i < s.hosts.size(); ++i)
    for (const auto& tap : s.hosts[i].taps) {
      auto a = w.find(tap[0]), b = w.find(tap[1]);
      if (!a || !b) continue;
      if (auto l = w.link_between(*a, *b)) w.links[*l].tapped_by = i;
    }
  layout_world(w);
  return w;
}

World world_from_trace(const std::deque<sim::TraceEvent>& events) {
  World w;
  std::set<std::size_t> accepts_587, accepts_25, connects_587, connects_fetch, delivers, eavesdrops, dns_servers;
  for (const auto& e : events) {
    if (!e.host.empty()) w.ensure_host(e.host);
    if (const auto* p = e.as<sim::PacketPayload>()) {
      std::optional<std::size_t> prev;
      for (const auto& name : p->path) {
        const std::size_t h = w.ensure_host(name);
        if (prev && *prev != h) w.ensure_link(*prev, h);
        prev = h;
      }
    }
    if (const auto* c = e.as<sim::ConnPayload>(); c != nullptr && !e.host.empty()) {
      const std::size_t h = *w.find(e.host);
      if (e.kind == sim::EventKind::kAccept) {
        if (c->local_port == 587 || c->local_port == 465) accepts_587.insert(h);
        if (c->local_port == 25) accepts_25.insert(h);
      }
      if (e.kind == sim::EventKind::kConnect || e.kind == sim::EventKind::kConnected) {
        if (c->remote_port == 587 || c->remote_port == 465) connects_587.insert(h);
        if (c->remote_port == 110 || c->remote_port == 143 || c->remote_port == 995 || c->remote_port == 993)
          connects_fetch.insert(h);
      }
    }
    if (e.kind == sim::EventKind::kDelivery && !e.host.empty()) delivers.insert(*w.find(e.host));
    if (const auto* c = e.as<sim::CapturePayload>()) {
      if (!e.host.empty()) eavesdrops.insert(*w.find(e.host));
      const std::size_t a = w.ensure_host(c->link_a), b = w.ensure_host(c->link_b);
      const std::size_t l = w.ensure_link(a, b);
      if (!e.host.empty()) w.links[l].tapped_by = *w.find(e.host);
    }
    if (const auto* d = e.as<sim::DnsPayload>(); d != nullptr && !d->server.empty())
      dns_servers.insert(w.ensure_host(d->server));
  }
  for (std::size_t i = 0; i < w.hosts.size(); ++i) {
    auto& h = w.hosts[i];
    if (eavesdrops.count(i))
      h.place = Place::kEavesdropper;
    else if (dns_servers.count(i))
      h.place = Place::kDnsDirectory;
    else if (h.name.find("spam") != std::string::npos)
      h.place = Place::kSpammer;
    else if (accepts_587.count(i) && delivers.count(i))
      h.place = Place::kPostOffice;
    else if (accepts_587.count(i))
      h.place = Place::kOutgoingOffice;
    else if (delivers.count(i))
      h.place = Place::kRecipientOffice;
    else if (accepts_25.count(i))
      h.place = Place::kSortingOffice;
    else if (connects_587.count(i))
      h.place = Place::kSenderComputer;
    else if (connects_fetch.count(i))
      h.place = Place::kRecipientComputer;
  }
  layout_world(w);
  return w;
}

void layout_world(World& w) {
  const std::size_t n = w.hosts.size();
  if (n == 0) return;
  std::vector<std::vector<std::size_t>> adj(n);
  for (const auto& l : w.links) {
    adj[l.a].push_back(l.b);
    adj[l.b].push_back(l.a);
  }
  auto on_roads = [&](std::size_t i) {
    const Place p = w.hosts[i].place;
    return p != Place::kDnsDirectory && p != Place::kEavesdropper;
  };
  // Columns: road distance from the senders (breadth first).
  std::vector<int> column(n, -1);
  std::vector<std::size_t> frontier;
  for (std::size_t i = 0; i < n; ++i)
    if (is_sender_side(w.hosts[i].place)) {
      column[i] = 0;
      frontier.push_back(i);
    }
  auto bfs = [&](std::vector<std::size_t> queue) {
    for (std::size_t k = 0; k < queue.size(); ++k) {
      const std::size_t h = queue[k];
      for (std::size_t nb : adj[h])
        if (column[nb] < 0 && on_roads(nb)) {
          column[nb] = column[h] + 1;
          queue.push_back(nb);
        }
    }
  };
  bfs(frontier);
  // Hosts no sender reaches: start a new search from the first of them.
  for (std::size_t i = 0; i < n; ++i) {
    if (column[i] >= 0 || !on_roads(i)) continue;
    int max_col = 0;
    for (int c : column) max_col = std::max(max_col, c);
    const bool any_placed = std::any_of(column.begin(), column.end(), [](int c) { return c >= 0; });
    // Recipient computers belong at the far end; anything else joins column 0.
    column[i] = any_placed && w.hosts[i].place == Place::kRecipientComputer ? max_col + 1 : 0;
    bfs({i});
  }
  int columns = 1;
  for (std::size_t i = 0; i < n; ++i)
    if (on_roads(i)) columns = std::max(columns, column[i] + 1);

  // Rows inside a column: order by the mean row of already-placed neighbours
  // (fewer crossing roads), spammers at the bottom.
  std::vector<std::vector<std::size_t>> by_column(static_cast<std::size_t>(columns));
  for (std::size_t i = 0; i < n; ++i)
    if (on_roads(i)) by_column[static_cast<std::size_t>(column[i])].push_back(i);
  const bool has_dns = std::any_of(w.hosts.begin(), w.hosts.end(), [](const WorldHost& h) { return h.place == Place::kDnsDirectory; });
  const float top = has_dns ? 0.30f : 0.14f, bottom = 0.80f;
  const float left = 0.09f, right = 0.91f;
  std::vector<float> row(n, 0.5f);
  for (std::size_t c = 0; c < by_column.size(); ++c) {
    auto& col = by_column[c];
    std::vector<float> key(n, 0.f);
    for (std::size_t h : col) {
      float sum = 0;
      int count = 0;
      for (std::size_t nb : adj[h])
        if (on_roads(nb) && column[nb] >= 0 && static_cast<std::size_t>(column[nb]) < c) {
          sum += row[nb];
          ++count;
        }
      key[h] = count > 0 ? sum / static_cast<float>(count) : 0.5f;
      if (w.hosts[h].place == Place::kSpammer) key[h] += 10.f;
    }
    std::stable_sort(col.begin(), col.end(), [&](std::size_t a, std::size_t b) { return key[a] < key[b]; });
    const std::size_t m = col.size();
    for (std::size_t k = 0; k < m; ++k) {
      const float y = m == 1 ? (top + bottom) / 2 : top + (bottom - top) * static_cast<float>(k) / static_cast<float>(m - 1);
      // A lone host in a column sits at its neighbours' height when it has them.
      row[col[k]] = (m == 1 && key[col[k]] < 1.f && c > 0) ? std::clamp(key[col[k]], top, bottom) : y;
      w.hosts[col[k]].y = row[col[k]];
      w.hosts[col[k]].x = columns == 1 ? 0.5f
                                       : left + (right - left) * static_cast<float>(c) / static_cast<float>(columns - 1);
    }
  }
  // The DNS directory: top centre (several: spread along the top).
  std::vector<std::size_t> dns;
  for (std::size_t i = 0; i < n; ++i)
    if (w.hosts[i].place == Place::kDnsDirectory) dns.push_back(i);
  for (std::size_t k = 0; k < dns.size(); ++k) {
    w.hosts[dns[k]].x = (static_cast<float>(k) + 1.f) / (static_cast<float>(dns.size()) + 1.f);
    w.hosts[dns[k]].y = 0.10f;
  }
  // Eavesdroppers: just below the middle of the road they tap.
  for (std::size_t i = 0; i < n; ++i) {
    if (w.hosts[i].place != Place::kEavesdropper) continue;
    const WorldLink* tapped = nullptr;
    for (const auto& l : w.links)
      if (l.tapped_by == i) {
        tapped = &l;
        break;
      }
    if (tapped != nullptr) {
      const auto& a = w.hosts[tapped->a];
      const auto& b = w.hosts[tapped->b];
      w.hosts[i].x = (a.x + b.x) / 2;
      w.hosts[i].y = std::min(0.93f, std::max(a.y, b.y) + 0.17f);
    } else {
      w.hosts[i].x = 0.5f;
      w.hosts[i].y = 0.92f;
    }
  }
}

}  // namespace mailsim::ui
