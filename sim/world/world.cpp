// Building a World from a Scenario (see world.h).
#include "sim/world/world.h"

#include "sim/engine/duration.h"

#include <algorithm>
#include <stdexcept>

namespace mailsim::sim {

World::World(const Scenario& scenario)
    : scenario_(scenario), engine_(scenario.seed), trace_(&engine_) {
  NetConfig config;
  config.connect_timeout = scenario_.network.connect_timeout;
  config.give_up_after = scenario_.network.give_up_after;
  network_ = std::make_unique<Network>(engine_, trace_, config);

  // Hosts with fixed addresses first, so automatic ones never take theirs.
  std::vector<std::vector<Ipv4>> fixed(scenario_.hosts.size());
  for (std::size_t i = 0; i < scenario_.hosts.size(); ++i)
    for (const auto& a : scenario_.hosts[i].addresses) fixed[i].push_back(*Ipv4::parse(a));
  std::vector<Ipv4> taken;
  for (const auto& list : fixed) taken.insert(taken.end(), list.begin(), list.end());
  Ipv4 next{0x0A000001};
  for (std::size_t i = 0; i < scenario_.hosts.size(); ++i) {
    const auto& h = scenario_.hosts[i];
    auto addresses = fixed[i];
    if (addresses.empty()) {
      while (std::find(taken.begin(), taken.end(), next) != taken.end()) ++next.value;
      addresses.push_back(next);
      taken.push_back(next);
    }
    network_->add_host(h.name, addresses, std::string(role_name(h.role)));
  }
  for (const auto& l : scenario_.links)
    network_->add_link(*network_->find_host(l.a), *network_->find_host(l.b), l.latency, l.bandwidth_bps);

  // DNS: automatic A/PTR for hosts, then the scenario's own records.
  dns_.set_negative_ttl(scenario_.dns.negative_ttl);
  if (scenario_.dns.auto_records) {
    for (HostId i = 0; i < network_->host_count(); ++i) {
      const Host& h = network_->host(i);
      dns_.add({h.name, DnsType::kA, scenario_.dns.ttl, 0, h.addresses.front().str()});
      for (const auto& a : h.addresses) dns_.add({reverse_name(a), DnsType::kPtr, scenario_.dns.ttl, 0, h.name});
    }
  }
  for (const auto& n : scenario_.dns.names) {
    const std::uint32_t ttl = n.ttl.value_or(scenario_.dns.ttl);
    for (const auto& a : n.a) dns_.add({n.name, DnsType::kA, ttl, 0, a});
    for (const auto& m : n.mx) dns_.add({n.name, DnsType::kMx, ttl, m.preference, m.exchange});
    for (const auto& t : n.txt) dns_.add({n.name, DnsType::kTxt, ttl, 0, t});
    for (const auto& p : n.ptr) dns_.add({n.name, DnsType::kPtr, ttl, 0, p});
  }
  for (const auto& bl : scenario_.dns.blocklists) {
    std::vector<Cidr> listed;
    for (const auto& entry : bl.listed) {
      if (auto c = Cidr::parse(entry)) {
        listed.push_back(*c);
      } else if (auto h = network_->find_host(entry)) {
        for (const auto& a : network_->host(*h).addresses) listed.push_back(Cidr{a, 32});
      }
    }
    dns_.add_blocklist(bl.zone, listed, bl.reason);
  }
  std::optional<HostId> server;
  if (!scenario_.dns.server.empty()) {
    server = network_->find_host(scenario_.dns.server);
  } else {
    std::vector<HostId> dns_hosts;
    for (HostId i = 0; i < scenario_.hosts.size(); ++i)
      if (scenario_.hosts[i].role == HostRole::kDns) dns_hosts.push_back(i);
    if (dns_hosts.size() == 1) server = dns_hosts.front();
  }
  ResolverConfig rc;
  rc.timeout = scenario_.network.dns_timeout;
  for (HostId i = 0; i < network_->host_count(); ++i)
    resolvers_.push_back(std::make_unique<DnsResolver>(*network_, dns_, i, server, rc));

  for (const auto& item : scenario_.timeline)
    // action_name() gives views of string literals: data() is the whole name.
    engine_.schedule_at(item.at, [this, &item] { perform(item); }, action_name(item.action).data());
}

HostId World::host_id(std::string_view name) const {
  const auto id = network_->find_host(name);
  if (!id) throw std::out_of_range("no host named " + std::string(name));
  return *id;
}

void World::on_action(std::string_view action, ActionHandler handler) {
  handlers_[std::string(action)] = std::move(handler);
}

void World::perform(const TimelineItem& item) {
  if (!item.note.empty() && !std::holds_alternative<NoteAction>(item.action))
    trace_.record(EventKind::kNote, "", 0, NotePayload{item.note, item.note_ja});
  const std::string reason = "timeline " + item.pointer;
  std::visit(
      [&](const auto& a) {
        using A = std::decay_t<decltype(a)>;
        if constexpr (std::is_same_v<A, HostAction>) {
          network_->set_host_up(host_id(a.host), a.up, a.silent, reason);
        } else if constexpr (std::is_same_v<A, LinkAction>) {
          network_->set_link_up(*network_->find_link(host_id(a.a), host_id(a.b)), a.up, reason);
        } else if constexpr (std::is_same_v<A, PortAction>) {
          network_->set_port_blocked(host_id(a.host), a.port, !a.up, reason);
        } else if constexpr (std::is_same_v<A, NoteAction>) {
          trace_.record(EventKind::kNote, "", 0, NotePayload{a.text, a.text_ja});
        } else {
          const std::string_view name = action_name(item.action);
          const auto it = handlers_.find(name);
          if (it != handlers_.end()) {
            it->second(item);
          } else {
            trace_.record(EventKind::kNote, "", 0,
                          NotePayload{"nothing in this build carries out \"" + std::string(name) + "\" (" +
                                          item.pointer + "): no role is registered for it",
                                      ""});
          }
        }
      },
      item.action);
}

Time World::time_limit() const {
  if (scenario_.duration > 0) return scenario_.duration;
  Time last = 0;
  for (const auto& item : scenario_.timeline) last = std::max(last, item.at);
  Time lifetime = 0;
  for (const auto& h : scenario_.hosts) lifetime = std::max(lifetime, h.queue.lifetime);
  return last + lifetime + kDay;
}

RunResult World::run() {
  if (scenario_.duration > 0) return engine_.run_until(scenario_.duration);
  return engine_.run(RunLimits{time_limit(), UINT64_MAX});
}

}  // namespace mailsim::sim
