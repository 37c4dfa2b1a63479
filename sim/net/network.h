// The simulated network: hosts with addresses, links with latency and
// bandwidth, routing by shortest latency (Dijkstra), scheduled outages, and
// in-process TCP-like stream sockets.
//
// Model (what a learner can rely on, and what the pcap shows):
// - connect() sends a SYN. A listening port answers SYN-ACK, the client
//   answers ACK: the client is connected after one round trip, the server
//   accepts after one and a half. A closed port, a blocked port, or a host
//   that is down (not silently) answers RST: "connection refused" after one
//   round trip. No answer at all (no route, silent host, unknown address):
//   the SYN is retried after 1s, 2s, 4s, ... and the attempt times out after
//   NetConfig::connect_timeout.
// - A segment crosses each link of the route in turn: it waits for the link
//   to be free (FIFO per direction), takes size*8/bandwidth to transmit, then
//   `latency` to propagate. Delivery to the application is in order.
// - The receiver acknowledges every segment (a pure ACK unless the
//   application answers at once, which piggybacks the ACK). Unacknowledged
//   segments are retransmitted with exponential backoff; a connection that
//   makes no progress for NetConfig::give_up_after is reset ("timed out").
// - A link or an intermediate host going down drops the segments on it.
//   A host going down resets its connections; unless silent, its RSTs tell
//   the peers at once.
// - Every segment is recorded in the trace as a `packet` event (with its
//   addresses, ports, sequence numbers, flags, bytes and route).
//
// Everything runs inside Engine callbacks; nothing blocks. Callbacks given to
// the network may call back into it (send, close, connect, ...).
#pragma once

#include "sim/engine/engine.h"
#include "sim/net/address.h"
#include "sim/trace/trace.h"

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <stdexcept>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mailsim::sim {

using HostId = std::size_t;
using LinkId = std::size_t;

struct NetConfig {
  Time connect_timeout = 30 * kSecond;   // SYN unanswered (Postfix smtp_connect_timeout)
  Time initial_rto = 1 * kSecond;        // RFC 6298 §2.1
  Time max_rto = 60 * kSecond;           // RFC 6298 §2.5
  Time give_up_after = 2 * kMinute;      // no progress at all -> reset
  std::size_t mss = 1460;                // payload bytes per segment
};

struct Host {
  std::string name;
  std::vector<Ipv4> addresses;  // the first one is the host's source address
  std::string role;             // free text from the scenario ("mta", "client", ...)
  bool up = true;
  bool silent = false;          // while down: drop packets instead of answering RST
};

struct Link {
  HostId a = 0, b = 0;
  Time latency = 0;                 // one-way propagation delay
  std::uint64_t bandwidth_bps = 0;  // bits per second; 0 = unlimited
  bool up = true;
};

// A path through the network, from hosts.front() to hosts.back().
struct Route {
  std::vector<HostId> hosts;
  std::vector<LinkId> links;  // links[i] joins hosts[i] and hosts[i+1]
  Time latency = 0;           // sum of link latencies (one way, no queueing)
};

class Network;

// One end of a connection. A small copyable handle: the Network owns the
// state and must outlive every Socket. A default-constructed Socket is not
// valid and every call on it is a no-op.
class Socket {
 public:
  Socket() = default;
  bool valid() const { return net_ != nullptr; }

  ConnId id() const { return conn_; }
  HostId host() const;
  HostId peer_host() const;
  Endpoint local() const;
  Endpoint remote() const;

  // Queues bytes for the peer (segmented by NetConfig::mss). Returns false,
  // sending nothing, after close() or reset or once the host went down.
  bool send(std::string bytes);
  // Sends FIN after the bytes already sent: "I have nothing more to say".
  // Receiving continues until the peer closes too.
  void close();
  // Aborts the connection with RST; no more callbacks.
  void reset();

  bool can_send() const;    // established, not closed by us, not reset
  bool peer_closed() const; // the peer's FIN arrived
  bool is_reset() const;

  // Handlers run inside engine events. Bytes that arrive before on_data is
  // set are kept and handed over when it is set. The string_view is valid
  // only during the call.
  void on_data(std::function<void(std::string_view bytes)> handler);
  void on_peer_closed(std::function<void()> handler);
  void on_reset(std::function<void(std::string_view reason)> handler);

  friend bool operator==(const Socket&, const Socket&) = default;

 private:
  friend class Network;
  Socket(Network* net, ConnId conn, int side) : net_(net), conn_(conn), side_(side) {}
  // Delivers what already waits at this end in an event of its own.
  void flush_later() const;
  Network* net_ = nullptr;
  ConnId conn_ = 0;
  int side_ = 0;  // 0 = the connecting client, 1 = the accepting server
};

enum class ConnectStatus {
  kConnected,
  kRefused,   // RST in answer to SYN
  kTimedOut,  // no answer within NetConfig::connect_timeout
  kAborted,   // the connecting host went down (or abort_connect)
};

struct ConnectResult {
  ConnectStatus status = ConnectStatus::kAborted;
  Socket socket;       // valid when connected
  std::string reason;  // words for the story when not connected
  bool ok() const { return status == ConnectStatus::kConnected; }
};

using AcceptHandler = std::function<void(Socket)>;
using ConnectHandler = std::function<void(const ConnectResult&)>;

class Network {
 public:
  Network(Engine& engine, Trace& trace, NetConfig config = {});
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;
  ~Network();

  // ---- topology ---------------------------------------------------------------
  // Adds a host. Without addresses it gets the next free one of 10.0.0.1,
  // 10.0.0.2, ... Throws std::invalid_argument on a duplicate name or address.
  HostId add_host(std::string name, std::vector<Ipv4> addresses = {}, std::string role = {});
  // Adds a bidirectional link. Throws on an unknown host or a self-link.
  LinkId add_link(HostId a, HostId b, Time latency, std::uint64_t bandwidth_bps = 0);

  std::size_t host_count() const;
  std::size_t link_count() const;
  // Connections not finished yet: open, closing, or waiting for a late
  // event. A finished one leaves the table for a small record (Remains).
  std::size_t live_connections() const;
  const Host& host(HostId id) const;  // throws std::out_of_range on a bad id
  const Link& link(LinkId id) const;
  std::optional<HostId> find_host(std::string_view name) const;
  std::optional<HostId> host_by_address(Ipv4 address) const;
  // The link joining a and b (either order), if any.
  std::optional<LinkId> find_link(HostId a, HostId b) const;

  // Shortest-latency route over links that are up, through intermediate hosts
  // that are up (ties: fewer hops, then lower host ids). The end hosts may be
  // down. nullopt when no path exists.
  std::optional<Route> route(HostId from, HostId to) const;
  // The one-way latency of route(from, to), without building it.
  std::optional<Time> route_latency(HostId from, HostId to) const;
  // Changes whenever a route may have changed (a host or link added, a link
  // or a forwarding host going down or up): what a caller computed from
  // routes stays right while this stays the same.
  std::uint64_t topology_generation() const { return topology_generation_; }

  // ---- outages (take effect now; use the engine to schedule them) -------------
  // Down: every connection of the host is reset (see the model above);
  // silent: the host drops packets instead of answering RST while down.
  void set_host_up(HostId host, bool up, bool silent = false, std::string_view reason = {});
  // Down: segments on the link are lost; routes avoid it.
  void set_link_up(LinkId link, bool up, std::string_view reason = {});
  // Blocked: the port answers RST as if nothing listened; its connections are reset.
  void set_port_blocked(HostId host, std::uint16_t port, bool blocked, std::string_view reason = {});
  bool port_blocked(HostId host, std::uint16_t port) const;

  // ---- sockets -----------------------------------------------------------------
  // Accepts connections to host:port (on any of its addresses). Returns false
  // if something already listens there. The listener survives outages.
  bool listen(HostId host, std::uint16_t port, AcceptHandler on_accept);
  void unlisten(HostId host, std::uint16_t port);
  bool listening(HostId host, std::uint16_t port) const;

  // Opens a connection from `from` (its first address, next ephemeral port)
  // to address:port. The handler runs exactly once, later, in an engine event
  // (never inside this call), unless abort_connect() is called first.
  // Returns the connection id (also used in the trace).
  ConnId connect(HostId from, Ipv4 to, std::uint16_t port, ConnectHandler on_done);
  // Connects to a host's first address.
  ConnId connect(HostId from, HostId to, std::uint16_t port, ConnectHandler on_done);
  // Gives up a connect attempt still in progress: its handler will not run.
  void abort_connect(ConnId id);

  // Sockets of established, not yet reset connections with an end on `host`.
  std::vector<Socket> sockets_of(HostId host) const;

  Engine& engine() { return engine_; }
  Trace& trace() { return trace_; }
  const NetConfig& config() const { return config_; }

 private:
  friend class Socket;
  struct Segment;
  struct End;
  struct Conn;
  struct HostState;
  struct LinkState;
  struct Snapshot;
  struct Remains;
  struct Flight;

  End& end(ConnId id, int side);
  Conn* live_conn(ConnId id);
  // What is left of a connection: its live record or, once retired, its remains.
  const Remains* remains_of(ConnId id) const;
  Remains* remains_of(ConnId id);
  // The shortest-path tree from `from` (Dijkstra, computed on first use):
  // for every host, the link it is reached by (kUnreached: no path). walk()
  // asks for the trees of hosts with several links only.
  const std::vector<std::uint32_t>& tree(HostId from) const;
  // The route from -> to into `hosts` and `links` (see Route); false: none.
  bool walk(HostId from, HostId to, std::vector<HostId>& hosts, std::vector<LinkId>& links) const;
  void topology_changed();
  void retire_finished();
  void maybe_retire(Conn& c);
  void send_segment(Conn& c, int side, std::uint8_t flags, std::string data);
  void transmit(Conn& c, int side, const Segment& seg);
  Time carry(const std::vector<HostId>& hosts, const std::vector<LinkId>& links, std::size_t payload_bytes,
             Snapshot& snap);
  // Puts a segment on the wire: its arrival is an engine event naming a slot of flights_.
  std::optional<Time> put_on_wire(ConnId id, int from_side, HostId from, HostId to, Endpoint src, Endpoint dst,
                                  std::uint32_t seq, std::uint32_t ack, std::uint8_t flags, const std::string& data);
  void emit_raw(ConnId id, HostId from, HostId to, Endpoint src, Endpoint dst, std::uint32_t seq, std::uint32_t ack,
                std::uint8_t flags, int to_side);
  void land(std::uint32_t flight);  // the event of a segment's arrival: arrive(), then free the slot
  void arrive(ConnId id, int to_side, HostId from, HostId to, Endpoint src, Endpoint dst, std::uint32_t seq,
              std::uint32_t ack, std::uint8_t flags, const std::string& data, const Snapshot& snapshot);
  void arrive_after_end(ConnId id, int to_side, HostId from, HostId to, Endpoint src, Endpoint dst,
                        std::uint32_t seq, std::uint32_t ack, std::uint8_t flags, std::uint32_t length);
  void on_syn(Conn& c, std::uint32_t seq, const Snapshot& snapshot);
  void on_ack(Conn& c, int side, std::uint32_t ack);
  void deliver(Conn& c, int side, std::string_view data);
  void arm_rto(Conn& c, int side);
  void set_rto(Conn& c, int side, Time due, const char* label);
  void stop_rto(End& e);
  void on_rto(ConnId id, int side);
  void schedule_ack_check(ConnId id, int side);
  void run_ack_checks();  // the instant is over: a pure ACK from each end that still owes one
  void kill_end(Conn& c, int side, std::string_view reason, bool record);
  void finish_connect(Conn& c, ConnectStatus status, std::string reason);
  void maybe_finished(Conn& c);
  void retransmit_stalled();
  void record_conn(EventKind kind, const Conn& c, int side, std::string reason = {});
  std::uint16_t ephemeral_port(HostId host);
  bool snapshot_valid(const Snapshot& s) const;

  // Socket entry points.
  bool socket_send(ConnId id, int side, std::string bytes);
  void socket_close(ConnId id, int side);
  void socket_reset(ConnId id, int side);

  Engine& engine_;
  Trace& trace_;
  NetConfig config_;
  Random isn_random_;
  std::vector<HostState> hosts_;
  std::unordered_map<std::uint32_t, HostId> by_address_;  // every address of every host
  std::vector<LinkState> links_;
  std::map<std::pair<HostId, std::uint16_t>, AcceptHandler> listeners_;
  std::map<std::pair<HostId, std::uint16_t>, bool> blocked_;
  // Connections still in play, by id. Ids are handed out in order, so a
  // deque indexed by (id - first id still held) finds one without a search,
  // and walking it visits them in id order (outages walk them in that order).
  class ConnTable {
   public:
    Conn* find(ConnId id) const {
      return id >= base_ && id - base_ < slots_.size() ? slots_[id - base_].get() : nullptr;
    }
    Conn* at(ConnId id) const {  // throws std::out_of_range like std::map::at
      Conn* c = find(id);
      if (c == nullptr) throw std::out_of_range("Network: no such connection");
      return c;
    }
    void emplace(ConnId id, std::unique_ptr<Conn> c);  // ids in increasing order
    void erase(ConnId id);
    // Visits (id, Conn*) in id order; `f` must not add or remove connections.
    template <class F>
    void for_each(F&& f) const {
      for (std::size_t i = 0; i < slots_.size(); ++i)
        if (slots_[i]) f(base_ + i, slots_[i].get());
    }

   private:
    ConnId base_ = 1;
    std::deque<std::unique_ptr<Conn>> slots_;
  };
  ConnTable conns_;
  // Finished connections leave the table for a small record (see Remains):
  // late segments still draw the RST they always drew, and Socket handles
  // the roles still hold keep answering.
  std::deque<Remains> retired_;  // by id - 1 (ids are handed out in order); no node per connection
  std::vector<ConnId> to_retire_;
  // Ends (end keys) owing an ACK check when this instant is over, in the
  // order they came to owe it; the second vector is the list being run.
  std::vector<std::uint64_t> ack_checks_, ack_checks_running_;
  // Handlers of ends that finished in this instant, dropped when it is over.
  struct DoomedHandlers {
    std::shared_ptr<const std::function<void(std::string_view)>> on_data;
    std::function<void()> on_peer_closed;
    std::function<void(std::string_view)> on_reset;
  };
  std::vector<DoomedHandlers> doomed_;
  void release_doomed();
  ConnId next_conn_ = 1;
  // links of each host, in link order (Dijkstra visits them in that order)
  std::vector<std::vector<LinkId>> adjacency_;
  // Shortest-path trees by source, computed on first use (four bytes per
  // host each; routers only, see walk()); forgotten whenever a host or link
  // goes up or down, or the topology grows.
  mutable std::vector<std::vector<std::uint32_t>> trees_;
  std::uint64_t topology_generation_ = 0;
  // Dijkstra's (latency, hops, host), compared in that order (ties go to
  // fewer hops, then the lower host id), and its scratch vectors.
  struct PathKey {
    Time latency;
    std::uint32_t hops;
    std::uint32_t host;
    bool operator>(const PathKey& o) const {
      if (latency != o.latency) return latency > o.latency;
      return hops != o.hops ? hops > o.hops : host > o.host;
    }
  };
  mutable std::vector<PathKey> dijkstra_best_, dijkstra_frontier_;
  std::deque<Flight> flights_;  // segments on their way (see Flight)
  std::vector<std::uint32_t> free_flights_;
  // Routes read off the trees, by (from, to) in a few slots: a connection's
  // segments go back and forth between the same two hosts, and walking the
  // tree for each of them cost a sixth of putting a segment on the wire.
  // Forgotten with the trees.
  struct CachedRoute {
    HostId from = static_cast<HostId>(-1);
    HostId to = static_cast<HostId>(-1);
    bool found = false;
    std::vector<HostId> hosts;
    std::vector<LinkId> links;
    Time latency = 0;
  };
  const CachedRoute& cached_route(HostId from, HostId to) const;
  mutable std::array<CachedRoute, 64> routes_;
};

// True when the packet's route crosses the link between hosts a and b (in
// either direction): what an eavesdropper tapping that link sees.
bool packet_crosses(const PacketPayload& packet, std::string_view a, std::string_view b);

}  // namespace mailsim::sim
