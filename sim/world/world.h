// A scenario brought to life: the engine, the trace, the network of hosts and
// links, the DNS database and one resolver per host, and the timeline
// scheduled on the engine. Network actions (down/up, link_down/link_up,
// port_down/port_up) and notes are carried out here; mail actions (send,
// fetch, spam) are handed to the roles that registered for them.
//
//   World world(scenario);
//   world.on_action("send", [&](const TimelineItem& item) { ... });  // roles
//   world.run();
//   write_jsonl(world.trace(), out);
#pragma once

#include "sim/dns/dns.h"
#include "sim/engine/engine.h"
#include "sim/net/network.h"
#include "sim/scenario/scenario.h"
#include "sim/trace/trace.h"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mailsim::sim {

class World {
 public:
  // Builds everything from a validated scenario (load_scenario_*). The
  // timeline is scheduled at once; nothing runs until run().
  explicit World(const Scenario& scenario);
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  const Scenario& scenario() const { return scenario_; }
  Engine& engine() { return engine_; }
  Trace& trace() { return trace_; }
  const Trace& trace() const { return trace_; }
  Network& network() { return *network_; }
  const DnsDatabase& dns() const { return dns_; }
  DnsResolver& resolver(HostId host) { return *resolvers_.at(host); }

  HostId host_id(std::string_view name) const;  // throws std::out_of_range for an unknown name
  const HostSpec& host_spec(HostId id) const { return scenario_.hosts.at(id); }

  // Who carries out a mail action ("send", "fetch", "spam"). Without a
  // handler the action is recorded as a note saying nobody performed it.
  using ActionHandler = std::function<void(const TimelineItem&)>;
  void on_action(std::string_view action, ActionHandler handler);

  // Runs to the end: scenario.duration if set, else until nothing is left to
  // do, bounded by the last timeline entry plus the longest queue lifetime
  // plus a day (so a forgotten retry loop cannot run forever).
  RunResult run();
  Time time_limit() const;

 private:
  void perform(const TimelineItem& item);

  Scenario scenario_;
  Engine engine_;
  Trace trace_;
  std::unique_ptr<Network> network_;
  DnsDatabase dns_;
  std::vector<std::unique_ptr<DnsResolver>> resolvers_;
  std::map<std::string, ActionHandler, std::less<>> handlers_;
};

}  // namespace mailsim::sim
