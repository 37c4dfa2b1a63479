// The map of a run: which hosts there are, what each one is in the
// post-office picture (DESIGN.md), where it stands on the map, and which roads
// join them. Built from a scenario (world_from_scenario) or, for a trace file
// opened on its own, guessed from what the hosts did (world_from_trace).
// Positions are normalised map coordinates in [0, 1] x [0, 1]; the view scales
// them to its panel.
#pragma once

#include "sim/engine/time.h"
#include "sim/trace/event.h"

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mailsim::sim {
struct Scenario;
}

namespace mailsim::ui {

using sim::Time;

// What a host is in the post-office picture; decides its drawing and caption.
enum class Place {
  kSenderComputer,     // a mail program that posts letters
  kRecipientComputer,  // a mail program that only collects them
  kOutgoingOffice,     // the sender's mail server (submission)
  kPostOffice,         // one server that both sends and keeps mailboxes
  kSortingOffice,      // relay / smart host / backup MX
  kRecipientOffice,    // the server that keeps the recipient's mailbox
  kDnsDirectory,       // the DNS server: the address book of the post
  kSpammer,
  kEavesdropper,
  kRouter,             // a crossroads that only forwards packets
};
inline constexpr int kPlaceCount = static_cast<int>(Place::kRouter) + 1;

struct WorldHost {
  std::string name;
  Place place = Place::kRouter;
  std::string user;                  // clients: "alice@alpha.example"
  std::vector<std::string> devices;  // clients: extra devices of the same user
  std::string fetch_protocol;        // clients: "pop3" | "imap" | ""
  std::string description, description_ja;
  float x = 0.5f, y = 0.5f;          // map position, normalised
};

struct WorldLink {
  std::size_t a = 0, b = 0;  // host indices
  Time latency = sim::kMillisecond;
  std::optional<std::size_t> tapped_by;  // eavesdropper host index
};

struct World {
  std::string title, title_ja, description, description_ja;
  std::string file;    // the scenario or trace it came from
  std::string lesson;  // the scenario's lesson path, if it names one
  std::vector<WorldHost> hosts;
  std::vector<WorldLink> links;

  std::optional<std::size_t> find(std::string_view name) const;
  // The link between two hosts (either order).
  std::optional<std::size_t> link_between(std::size_t a, std::size_t b) const;
  // Adds a host if it is not there yet (kRouter until told otherwise).
  std::size_t ensure_host(std::string_view name);
  // Adds a link if the two hosts are not linked yet.
  std::size_t ensure_link(std::size_t a, std::size_t b, Time latency = sim::kMillisecond);
};

// The map of a scenario: roles from the scenario (and what its timeline
// sends), then a layout (see layout_world).
World world_from_scenario(const sim::Scenario& scenario);

// The map of a bare trace: hosts and roads from the packets' routes, places
// guessed from ports and events (587: outgoing office, deliveries: recipient
// office, captures: eavesdropper, ...).
World world_from_trace(const std::deque<sim::TraceEvent>& events);

// Places hosts in columns by road distance from the senders (senders left,
// recipients right), the DNS directory top centre, eavesdroppers below the
// road they tap. Deterministic; called by both builders.
void layout_world(World& world);

}  // namespace mailsim::ui
