// The simulated network and its TCP-like sockets (see network.h for the model).
// Segment handling follows RFC 9293 §3.10 in spirit: SYN / SYN-ACK / ACK
// handshake, sequence numbers counting bytes plus SYN and FIN, cumulative
// ACKs, RST in answer to segments for connections that do not exist, and
// RFC 6298 retransmission backoff. Windows, congestion control and
// TIME-WAIT are left out: they do not change what a mail lesson shows.
#include "sim/net/network.h"

#include <algorithm>
#include <array>
#include <set>
#include <stdexcept>
#include <tuple>
#include <utility>

namespace mailsim::sim {
namespace {

constexpr HostId kNoHost = static_cast<HostId>(-1);
constexpr std::uint8_t kSyn = TcpFlags::kSyn, kAck = TcpFlags::kAck, kFin = TcpFlags::kFin, kRst = TcpFlags::kRst,
                       kPsh = TcpFlags::kPsh;

// Sequence-number arithmetic modulo 2^32 (RFC 9293 §3.4).
bool seq_leq(std::uint32_t a, std::uint32_t b) { return static_cast<std::int32_t>(b - a) >= 0; }

// One end of a connection in one word: an engine event that names an end
// (a lambda holding a pointer and this) fits in std::function's own
// storage, so scheduling it allocates nothing.
std::uint64_t end_key(ConnId id, int side) { return (id << 1) | static_cast<std::uint64_t>(side); }
ConnId key_conn(std::uint64_t key) { return key >> 1; }
int key_side(std::uint64_t key) { return static_cast<int>(key & 1); }

}  // namespace

struct Network::Segment {
  std::uint32_t seq = 0;
  std::uint8_t flags = 0;
  std::string data;
  Time first_sent = 0;
  Time ack_due = 0;  // when its ACK is expected back, if the path holds
  std::uint32_t length() const {
    return static_cast<std::uint32_t>(data.size()) + ((flags & kSyn) ? 1 : 0) + ((flags & kFin) ? 1 : 0);
  }
};

struct Network::End {
  HostId host = kNoHost;
  Endpoint endpoint;
  bool alive = false;        // takes part in the connection (not reset, not finished)
  bool established = false;  // handshake done from this end's point of view
  std::uint32_t snd_nxt = 0, rcv_nxt = 0, ack_sent = 0, iss = 0;
  std::vector<Segment> unacked;  // a handful at most: a vector allocates nothing while empty
  // The retransmission timer. rto_due is when it expires (0: not running).
  // Every ACK that makes progress restarts it (RFC 6298 §5.3), so the engine
  // event is not moved each time: rto_timer fires at rto_timer_at, no later
  // than rto_due, and is set again for the rest when the deadline moved on.
  Time rto_due = 0;
  EventId rto_timer;
  Time rto_timer_at = 0;
  Time rto = 0;
  Time last_arrival = 0;  // keeps this end's segments in order on the wire
  bool fin_sent = false, fin_acked = false, fin_received = false, peer_close_reported = false;
  bool was_reset = false;
  bool ack_check_pending = false, ack_forced = false;
  bool flush_pending = false;
  std::string inbox;  // bytes received but not yet handed to on_data
  // Shared, so deliver() can hold on to the handler while it runs (it may
  // replace or clear itself) without copying the closure for every segment.
  std::shared_ptr<const std::function<void(std::string_view)>> on_data;
  std::function<void()> on_peer_closed;
  std::function<void(std::string_view)> on_reset;
};

struct Network::Conn {
  ConnId id = 0;
  End ends[2];
  bool connecting = true;  // until the connect handler has its answer
  ConnectHandler on_connect;
  EventId connect_timer;
  std::string refuse_reason;
  bool port_released = false;
  int pending_events = 0;  // engine events (ack checks, flushes) that will look this connection up
  bool retire_queued = false;
};

// A finished connection, out of the table: enough to answer a late segment
// exactly as the live record would have (a RST, in order behind the end's
// earlier segments) and to answer the Socket handles the roles still hold.
struct Network::Remains {
  HostId host[2] = {kNoHost, kNoHost};
  Endpoint endpoint[2];
  Time last_arrival[2] = {0, 0};
  bool was_reset[2] = {false, false};
  bool fin_received[2] = {false, false};
  bool peer_close_reported[2] = {false, false};
  bool present = false;  // false: the id is live, or was never retired
};

struct Network::HostState {
  Host info;
  std::uint64_t epoch = 0;  // bumped on every down: packets in flight through it are lost
  std::uint16_t next_port = kFirstEphemeralPort;
  std::set<std::uint16_t> used_ports;
};

struct Network::LinkState {
  Link info;
  std::uint64_t epoch = 0;
  Time busy_until[2] = {0, 0};  // per direction: 0 = a->b, 1 = b->a
};

// What must still be as it was when a segment left for it to arrive: the
// epochs of its links and intermediate hosts. Inline for the routes a
// scenario has (a few hops), so a segment in flight allocates nothing.
struct Network::Snapshot {
  struct Mark {
    std::size_t index = 0;  // LinkId or HostId
    std::uint64_t epoch = 0;
    bool link = false;
  };
  static constexpr std::size_t kInline = 8;
  std::array<Mark, kInline> inline_marks{};
  std::size_t count = 0;
  std::vector<Mark> more;
  void add(Mark m) {
    if (count < kInline) inline_marks[count] = m;
    else more.push_back(m);
    ++count;
  }
  template <class F>
  bool all(F&& f) const {
    for (std::size_t i = 0; i < std::min(count, kInline); ++i)
      if (!f(inline_marks[i])) return false;
    for (const auto& m : more)
      if (!f(m)) return false;
    return true;
  }
};

// A segment on its way: what arrive() is told when it gets there. Held in
// Network::flights_ (a deque: taking a slot never moves the others, so
// arrive() may put more segments on the wire while it reads its own), and
// the engine event names only the slot: no closure allocated per segment,
// and a slot's data keeps its room for the next segment that takes it.
struct Network::Flight {
  ConnId id = 0;
  int to_side = 0;
  HostId from = 0, to = 0;
  Endpoint src, dst;
  std::uint32_t seq = 0, ack = 0;
  std::uint8_t flags = 0;
  std::string data;
  Snapshot snapshot;
};

// ---- Socket ---------------------------------------------------------------------

HostId Socket::host() const {
  if (!valid()) return 0;
  if (const auto* r = net_->remains_of(conn_)) return r->host[side_];
  return net_->end(conn_, side_).host;
}
HostId Socket::peer_host() const {
  if (!valid()) return 0;
  if (const auto* r = net_->remains_of(conn_)) return r->host[1 - side_];
  return net_->end(conn_, 1 - side_).host;
}
Endpoint Socket::local() const {
  if (!valid()) return Endpoint{};
  if (const auto* r = net_->remains_of(conn_)) return r->endpoint[side_];
  return net_->end(conn_, side_).endpoint;
}
Endpoint Socket::remote() const {
  if (!valid()) return Endpoint{};
  if (const auto* r = net_->remains_of(conn_)) return r->endpoint[1 - side_];
  return net_->end(conn_, 1 - side_).endpoint;
}
bool Socket::send(std::string bytes) { return valid() && net_->socket_send(conn_, side_, std::move(bytes)); }
void Socket::close() {
  if (valid()) net_->socket_close(conn_, side_);
}
void Socket::reset() {
  if (valid()) net_->socket_reset(conn_, side_);
}
bool Socket::can_send() const {
  if (!valid() || net_->remains_of(conn_) != nullptr) return false;
  const auto& e = net_->end(conn_, side_);
  return e.alive && e.established && !e.fin_sent;
}
bool Socket::peer_closed() const {
  if (!valid()) return false;
  if (const auto* r = net_->remains_of(conn_)) return r->fin_received[side_];
  return net_->end(conn_, side_).fin_received;
}
bool Socket::is_reset() const {
  if (!valid()) return false;
  if (const auto* r = net_->remains_of(conn_)) return r->was_reset[side_];
  return net_->end(conn_, side_).was_reset;
}

// Handlers set after data (or the peer's close) arrived get it in a fresh
// event, not inside the setter.
void Socket::flush_later() const {
  Network* net = net_;
  ++net->conns_.at(conn_)->pending_events;
  net->engine().schedule_in(
      0,
      [net, key = end_key(conn_, side_)] {
        auto& c = *net->conns_.at(key_conn(key));
        --c.pending_events;
        net->deliver(c, key_side(key), {});
        net->maybe_retire(c);
      },
      "socket flush");
}

void Socket::on_data(std::function<void(std::string_view)> handler) {
  if (!valid() || net_->remains_of(conn_) != nullptr) return;
  auto& e = net_->end(conn_, side_);
  if (!e.alive) return;
  e.on_data = handler ? std::make_shared<const std::function<void(std::string_view)>>(std::move(handler)) : nullptr;
  if (!e.inbox.empty() || e.fin_received) {
    flush_later();
  }
}

void Socket::on_peer_closed(std::function<void()> handler) {
  if (!valid()) return;
  if (Network::Remains* r = net_->remains_of(conn_)) {
    // Retired with the peer's close never told (this end was closed without
    // a handler): told now, once, in a fresh event, as a live end would.
    if (handler && r->fin_received[side_] && !r->peer_close_reported[side_]) {
      r->peer_close_reported[side_] = true;
      net_->engine().schedule_in(0, [h = std::move(handler)] { h(); }, "peer closed");
    }
    return;
  }
  auto& e = net_->end(conn_, side_);
  if (!e.alive && !e.fin_received) return;
  e.on_peer_closed = std::move(handler);
  if (e.fin_received && !e.peer_close_reported) {
    flush_later();
  }
}

void Socket::on_reset(std::function<void(std::string_view)> handler) {
  if (!valid() || net_->remains_of(conn_) != nullptr) return;
  auto& e = net_->end(conn_, side_);
  if (e.alive) e.on_reset = std::move(handler);
}

// ---- topology ----------------------------------------------------------------------

Network::Network(Engine& engine, Trace& trace, NetConfig config)
    : engine_(engine), trace_(trace), config_(config), isn_random_(engine.random().derive("tcp isn")) {}

Network::~Network() = default;

HostId Network::add_host(std::string name, std::vector<Ipv4> addresses, std::string role) {
  if (find_host(name)) throw std::invalid_argument("duplicate host name " + name);
  for (const auto& a : addresses)
    if (host_by_address(a)) throw std::invalid_argument("duplicate address " + a.str());
  if (addresses.empty()) {
    Ipv4 candidate{0x0A000001};  // 10.0.0.1
    while (host_by_address(candidate)) ++candidate.value;
    addresses.push_back(candidate);
  }
  for (const auto& a : addresses) by_address_.emplace(a.value, hosts_.size());
  HostState h;
  h.info.name = std::move(name);
  h.info.addresses = std::move(addresses);
  h.info.role = std::move(role);
  hosts_.push_back(std::move(h));
  adjacency_.emplace_back();
  topology_changed();
  return hosts_.size() - 1;
}

LinkId Network::add_link(HostId a, HostId b, Time latency, std::uint64_t bandwidth_bps) {
  if (a >= hosts_.size() || b >= hosts_.size()) throw std::invalid_argument("add_link: unknown host");
  if (a == b) throw std::invalid_argument("add_link: a link needs two different hosts");
  if (latency < 0) throw std::invalid_argument("add_link: negative latency");
  LinkState l;
  l.info = Link{a, b, latency, bandwidth_bps, true};
  links_.push_back(l);
  const LinkId id = links_.size() - 1;
  adjacency_[a].push_back(id);
  adjacency_[b].push_back(id);
  topology_changed();
  return id;
}

std::size_t Network::host_count() const { return hosts_.size(); }
std::size_t Network::link_count() const { return links_.size(); }
const Host& Network::host(HostId id) const { return hosts_.at(id).info; }
const Link& Network::link(LinkId id) const { return links_.at(id).info; }

std::optional<HostId> Network::find_host(std::string_view name) const {
  for (HostId i = 0; i < hosts_.size(); ++i)
    if (hosts_[i].info.name == name) return i;
  return std::nullopt;
}

std::optional<HostId> Network::host_by_address(Ipv4 address) const {
  const auto it = by_address_.find(address.value);
  if (it == by_address_.end()) return std::nullopt;
  return it->second;
}

std::optional<LinkId> Network::find_link(HostId a, HostId b) const {
  for (LinkId i = 0; i < links_.size(); ++i) {
    const auto& l = links_[i].info;
    if ((l.a == a && l.b == b) || (l.a == b && l.b == a)) return i;
  }
  return std::nullopt;
}

namespace {
constexpr std::uint32_t kUnreached = UINT32_MAX;
constexpr std::uint32_t kSource = UINT32_MAX - 1;
}  // namespace

void Network::topology_changed() {
  ++topology_generation_;
  for (auto& t : trees_) t.clear();
  for (auto& r : routes_) r.from = kNoHost;
}

// Dijkstra from `from` over the links that are up, through hosts that are up
// (see route()). Each host's links are visited in link order, and a host's
// entry is replaced only by a strictly better (latency, hops), so every
// route read off the tree is the one a search for that single destination
// finds.
const std::vector<std::uint32_t>& Network::tree(HostId from) const {
  if (trees_.size() < hosts_.size()) trees_.resize(hosts_.size());
  auto& via = trees_[from];
  if (!via.empty()) return via;
  via.assign(hosts_.size(), kUnreached);
  using Key = PathKey;
  auto& best = dijkstra_best_;  // scratch, kept between calls: a tree per host adds up
  auto& frontier = dijkstra_frontier_;
  best.assign(hosts_.size(), Key{kNever, 0, 0});
  frontier.clear();
  auto push = [&](Key k) {
    frontier.push_back(k);
    std::push_heap(frontier.begin(), frontier.end(), std::greater<>());
  };
  best[from] = Key{0, 0, static_cast<std::uint32_t>(from)};
  push(best[from]);
  while (!frontier.empty()) {
    std::pop_heap(frontier.begin(), frontier.end(), std::greater<>());
    const Key top = frontier.back();
    frontier.pop_back();
    const HostId u = top.host;
    if (best[u].latency != top.latency || best[u].hops != top.hops) continue;  // superseded
    if (u != from && !hosts_[u].info.up) continue;  // a host that is down forwards nothing
    for (const LinkId li : adjacency_[u]) {
      const auto& l = links_[li].info;
      if (!l.up) continue;
      const HostId v = l.a == u ? l.b : l.a;
      const Key candidate{top.latency + l.latency, top.hops + 1, static_cast<std::uint32_t>(v)};
      if (best[v].latency == kNever || best[v] > candidate) {
        best[v] = candidate;
        via[v] = static_cast<std::uint32_t>(li);
        // A host with one link (a mail host behind its router) is only ever
        // reached through it, and going back out of it never beats the way
        // in: its place in the tree is final now, and the frontier stays as
        // small as the set of routers.
        if (adjacency_[v].size() > 1) push(candidate);
      }
    }
  }
  via[from] = kSource;
  return via;
}

bool Network::walk(HostId from, HostId to, std::vector<HostId>& hosts, std::vector<LinkId>& links) const {
  hosts.clear();
  links.clear();
  if (from >= hosts_.size() || to >= hosts_.size()) return false;
  // A host with a single link (a mail host behind its router) reaches
  // everything through the host at the other end, and its tree is that
  // host's tree one link further out: the same keys plus that link's latency
  // and one hop, so the same order and the same ties. The route is read off
  // the router's tree, and only routers get trees: a dozen small ones the
  // cache keeps, not one per sending host.
  if (from == to) {
    hosts.push_back(from);
    return true;
  }
  HostId source = from;
  LinkId first_link = 0;
  if (adjacency_[from].size() == 1) {
    first_link = adjacency_[from].front();
    const auto& l = links_[first_link].info;
    if (!l.up) return false;
    const HostId next = l.a == from ? l.b : l.a;
    if (to == next) {
      hosts.assign({from, to});
      links.push_back(first_link);
      return true;
    }
    // Further only if the next host forwards: it is up, and it has other
    // links (the two ends of a lone link reach only each other).
    if (!hosts_[next].info.up || adjacency_[next].size() < 2) return false;
    source = next;
  }
  const auto& via = tree(source);
  for (HostId v = to; v != source;) {
    const std::uint32_t li = via[v];
    if (li == kUnreached) return false;
    hosts.push_back(v);
    links.push_back(li);
    const auto& l = links_[li].info;
    v = l.a == v ? l.b : l.a;
  }
  hosts.push_back(source);
  if (source != from) {
    hosts.push_back(from);
    links.push_back(first_link);
  }
  std::reverse(hosts.begin(), hosts.end());
  std::reverse(links.begin(), links.end());
  return true;
}

std::optional<Route> Network::route(HostId from, HostId to) const {
  const CachedRoute& r = cached_route(from, to);
  if (!r.found) return std::nullopt;
  return Route{r.hosts, r.links, r.latency};
}

const Network::CachedRoute& Network::cached_route(HostId from, HostId to) const {
  CachedRoute& r = routes_[(from * 31 + to) % routes_.size()];
  if (r.from == from && r.to == to) return r;
  r.from = from;
  r.to = to;
  r.found = walk(from, to, r.hosts, r.links);
  r.latency = 0;
  for (const LinkId li : r.links) r.latency += links_[li].info.latency;
  return r;
}

std::optional<Time> Network::route_latency(HostId from, HostId to) const {
  if (from >= hosts_.size() || to >= hosts_.size()) return std::nullopt;
  const CachedRoute& r = cached_route(from, to);
  if (!r.found) return std::nullopt;
  return r.latency;
}

// ---- outages --------------------------------------------------------------------------

void Network::set_host_up(HostId id, bool up, bool silent, std::string_view reason) {
  HostState& h = hosts_.at(id);
  if (h.info.up == up && (up || h.info.silent == silent)) return;
  h.info.up = up;
  h.info.silent = !up && silent;
  // A host that is down forwards nothing, so routes through it change. A
  // host with a single link forwards for nobody either way (going back out
  // of it never beats the way in), and tree() reads a host's state only to
  // decide whether it forwards: every cached route tree stays exact.
  if (adjacency_[id].size() > 1) topology_changed();
  trace_.record(up ? EventKind::kHostUp : EventKind::kHostDown, h.info.name, 0,
                OutagePayload{h.info.name, !up && silent, std::string(reason)});
  if (up) {
    retransmit_stalled();
    return;
  }
  ++h.epoch;
  std::vector<std::pair<ConnId, int>> affected;
  conns_.for_each([&](ConnId cid, const Conn* c) {
    for (int side = 0; side < 2; ++side)
      if (c->ends[side].alive && c->ends[side].host == id) affected.emplace_back(cid, side);
  });
  for (const auto& [cid, side] : affected) {
    Conn& c = *conns_.at(cid);
    End& e = c.ends[side];
    if (!e.alive) continue;
    if (side == 0 && c.connecting) {
      finish_connect(c, ConnectStatus::kAborted, "host " + h.info.name + " went down");
      continue;
    }
    if (!silent) {
      // The stack's last word: RST to the peer, so it learns at once.
      const End& peer = c.ends[1 - side];
      emit_raw(cid, id, peer.host, e.endpoint, peer.endpoint, e.snd_nxt, e.rcv_nxt, kRst | kAck, 1 - side);
    }
    kill_end(c, side, "host " + h.info.name + " went down", e.established);
  }
}

void Network::set_link_up(LinkId id, bool up, std::string_view reason) {
  LinkState& l = links_.at(id);
  if (l.info.up == up) return;
  l.info.up = up;
  if (!up) ++l.epoch;
  topology_changed();
  const std::string target = hosts_[l.info.a].info.name + "<->" + hosts_[l.info.b].info.name;
  trace_.record(up ? EventKind::kLinkUp : EventKind::kLinkDown, "", 0, OutagePayload{target, false, std::string(reason)});
  if (up) retransmit_stalled();
}

void Network::set_port_blocked(HostId host, std::uint16_t port, bool blocked, std::string_view reason) {
  auto& flag = blocked_[{host, port}];
  if (flag == blocked) return;
  flag = blocked;
  const std::string& name = hosts_.at(host).info.name;
  trace_.record(blocked ? EventKind::kPortDown : EventKind::kPortUp, name, 0,
                OutagePayload{name + ":" + std::to_string(port), false, std::string(reason)});
  if (!blocked) return;
  std::vector<ConnId> affected;
  conns_.for_each([&](ConnId cid, const Conn* c) {
    if (c->ends[1].alive && c->ends[1].host == host && c->ends[1].endpoint.port == port) affected.push_back(cid);
  });
  for (ConnId cid : affected) socket_reset(cid, 1);
}

bool Network::port_blocked(HostId host, std::uint16_t port) const {
  const auto it = blocked_.find({host, port});
  return it != blocked_.end() && it->second;
}

// ---- listening and connecting --------------------------------------------------------------

bool Network::listen(HostId host, std::uint16_t port, AcceptHandler on_accept) {
  if (host >= hosts_.size()) throw std::invalid_argument("listen: unknown host");
  return listeners_.emplace(std::pair{host, port}, std::move(on_accept)).second;
}

void Network::unlisten(HostId host, std::uint16_t port) { listeners_.erase({host, port}); }

bool Network::listening(HostId host, std::uint16_t port) const { return listeners_.contains({host, port}); }

std::uint16_t Network::ephemeral_port(HostId host) {
  HostState& h = hosts_[host];
  for (int tries = 0; tries < 65536 - kFirstEphemeralPort; ++tries) {
    const std::uint16_t port = h.next_port;
    h.next_port = h.next_port == 65535 ? kFirstEphemeralPort : static_cast<std::uint16_t>(h.next_port + 1);
    if (!h.used_ports.contains(port)) {
      h.used_ports.insert(port);
      return port;
    }
  }
  throw std::runtime_error("host " + h.info.name + " ran out of ephemeral ports");
}

ConnId Network::connect(HostId from, HostId to, std::uint16_t port, ConnectHandler on_done) {
  return connect(from, hosts_.at(to).info.addresses.front(), port, std::move(on_done));
}

ConnId Network::connect(HostId from, Ipv4 to, std::uint16_t port, ConnectHandler on_done) {
  if (from >= hosts_.size()) throw std::invalid_argument("connect: unknown host");
  const ConnId id = next_conn_++;
  auto owned = std::make_unique<Conn>();
  Conn& c = *owned;
  conns_.emplace(id, std::move(owned));
  c.id = id;
  c.on_connect = std::move(on_done);
  End& client = c.ends[0];
  End& server = c.ends[1];
  client.host = from;
  server.host = host_by_address(to).value_or(kNoHost);
  server.endpoint = Endpoint{to, port};
  if (!hosts_[from].info.up) {
    client.endpoint = Endpoint{hosts_[from].info.addresses.front(), 0};
    c.port_released = true;
    engine_.schedule_in(
        0,
        [this, id] {
          finish_connect(*conns_.at(id), ConnectStatus::kAborted,
                         "host " + hosts_[conns_.at(id)->ends[0].host].info.name + " is down");
        },
        "connect from a host that is down");
    return id;
  }
  client.endpoint = Endpoint{hosts_[from].info.addresses.front(), ephemeral_port(from)};
  client.alive = true;
  client.rto = config_.initial_rto;
  client.iss = static_cast<std::uint32_t>(isn_random_.next_u64());
  client.snd_nxt = client.iss;
  record_conn(EventKind::kConnect, c, 0);
  c.connect_timer = engine_.schedule_in(
      config_.connect_timeout,
      [this, id] {
        Conn& cc = *conns_.at(id);
        cc.connect_timer = {};
        if (!cc.connecting) return;
        const std::string peer =
            cc.ends[1].host == kNoHost ? cc.ends[1].endpoint.address.str() : hosts_[cc.ends[1].host].info.name;
        finish_connect(cc, ConnectStatus::kTimedOut,
                       "no answer from " + peer + " port " + std::to_string(cc.ends[1].endpoint.port) + " within " +
                           std::to_string(config_.connect_timeout / kSecond) + "s");
      },
      "connect timeout");
  send_segment(c, 0, kSyn, {});
  return id;
}

void Network::abort_connect(ConnId id) {
  Conn* found = conns_.find(id);
  if (found == nullptr || !found->connecting) return;
  found->on_connect = nullptr;
  Conn& c = *found;
  finish_connect(c, ConnectStatus::kAborted, "connection attempt abandoned");
}

void Network::finish_connect(Conn& c, ConnectStatus status, std::string reason) {
  if (!c.connecting) return;
  c.connecting = false;
  engine_.cancel(c.connect_timer);
  c.connect_timer = {};
  End& client = c.ends[0];
  ConnectResult result;
  result.status = status;
  result.reason = reason;
  if (status == ConnectStatus::kConnected) {
    result.socket = Socket(this, c.id, 0);
    record_conn(EventKind::kConnected, c, 0);
  } else {
    client.alive = false;
    stop_rto(client);  // else the record looks busy and is never retired
    client.unacked.clear();
    if (status == ConnectStatus::kRefused) record_conn(EventKind::kRefused, c, 0, reason);
    if (status == ConnectStatus::kTimedOut) record_conn(EventKind::kConnectTimeout, c, 0, reason);
    if (status == ConnectStatus::kAborted && !c.port_released) record_conn(EventKind::kReset, c, 0, reason);
    maybe_finished(c);
  }
  ConnectHandler handler = std::move(c.on_connect);
  c.on_connect = nullptr;
  if (handler) {
    handler(result);
  } else if (status == ConnectStatus::kConnected) {
    socket_reset(c.id, 0);  // nobody wants it any more
  }
  maybe_retire(c);
}

std::vector<Socket> Network::sockets_of(HostId host) const {
  std::vector<Socket> out;
  conns_.for_each([&](ConnId cid, const Conn* c) {
    for (int side = 0; side < 2; ++side)
      if (c->ends[side].alive && c->ends[side].established && c->ends[side].host == host)
        out.push_back(Socket(const_cast<Network*>(this), cid, side));
  });
  return out;
}

// ---- segments on the wire ---------------------------------------------------------------------

Network::End& Network::end(ConnId id, int side) { return conns_.at(id)->ends[side]; }


void Network::send_segment(Conn& c, int side, std::uint8_t flags, std::string data) {
  End& e = c.ends[side];
  Segment seg;
  seg.seq = e.snd_nxt;
  seg.flags = flags;
  seg.data = std::move(data);
  seg.first_sent = engine_.now();
  e.snd_nxt += seg.length();
  if (seg.length() == 0) {
    transmit(c, side, seg);
    return;
  }
  e.unacked.push_back(std::move(seg));
  transmit(c, side, e.unacked.back());
  arm_rto(c, side);
}

// Store and forward across each link of `r`: wait for the link to be free,
// serialise at its bandwidth, propagate. Returns the arrival time at the end.
Time Network::carry(const std::vector<HostId>& hosts, const std::vector<LinkId>& links, std::size_t payload_bytes,
                    Snapshot& snap) {
  const std::uint64_t wire_bytes = payload_bytes + 54;  // Ethernet + IPv4 + TCP headers
  Time t = engine_.now();
  for (std::size_t i = 0; i < links.size(); ++i) {
    LinkState& l = links_[links[i]];
    const int dir = l.info.a == hosts[i] ? 0 : 1;
    const Time start = std::max(t, l.busy_until[dir]);
    Time tx = 0;
    if (l.info.bandwidth_bps > 0)
      tx = static_cast<Time>((wire_bytes * 8 * 1'000'000 + l.info.bandwidth_bps - 1) / l.info.bandwidth_bps);
    l.busy_until[dir] = start + tx;
    t = start + tx + l.info.latency;
    snap.add({links[i], l.epoch, true});
    if (i > 0) snap.add({hosts[i], hosts_[hosts[i]].epoch, false});
  }
  return t;
}

std::optional<Time> Network::put_on_wire(ConnId id, int from_side, HostId from, HostId to, Endpoint src,
                                         Endpoint dst, std::uint32_t seq, std::uint32_t ack, std::uint8_t flags,
                                         const std::string& data) {
  if (from == kNoHost || to == kNoHost) return std::nullopt;  // an address nobody has
  // The route's slot stays as it is until the topology changes, and nothing
  // below changes it.
  const CachedRoute& route = cached_route(from, to);
  if (!route.found) return std::nullopt;  // no way there now; a retransmission may find one
  const std::vector<HostId>& path = route.hosts;
  const std::vector<LinkId>& hops = route.links;
  const Time route_latency = route.latency;
  std::uint32_t slot;
  if (!free_flights_.empty()) {
    slot = free_flights_.back();
    free_flights_.pop_back();
  } else {
    slot = static_cast<std::uint32_t>(flights_.size());
    flights_.emplace_back();
  }
  Flight& f = flights_[slot];
  f.snapshot.count = 0;
  f.snapshot.more.clear();
  // TCP delivers in order: never overtake an earlier segment of this end.
  Conn* live = live_conn(id);
  Time& last_arrival = live != nullptr ? live->ends[from_side].last_arrival : retired_.at(id - 1).last_arrival[from_side];
  const Time arrival = std::max(carry(path, hops, data.size(), f.snapshot), last_arrival);
  last_arrival = arrival;
  f.id = id;
  f.to_side = 1 - from_side;
  f.from = from;
  f.to = to;
  f.src = src;
  f.dst = dst;
  f.seq = seq;
  f.ack = ack;
  f.flags = flags;
  f.data.assign(data);

  if (trace_.wants(EventKind::kPacket)) {
    PacketPayload p;
    p.from = hosts_[from].info.name;
    p.to = hosts_[to].info.name;
    p.src_addr = src.address.str();
    p.src_port = src.port;
    p.dst_addr = dst.address.str();
    p.dst_port = dst.port;
    p.tcp_seq = seq;
    p.tcp_ack = ack;
    p.flags = TcpFlags{flags};
    p.data = Bytes{data};
    for (HostId h : path) p.path.push_back(hosts_[h].info.name);
    p.arrive = arrival;
    trace_.record(EventKind::kPacket, p.from, id, std::move(p));
  } else {
    trace_.count(EventKind::kPacket);
  }
  engine_.schedule_at(arrival, [this, slot] { land(slot); }, "segment arrives");
  return arrival + route_latency;
}

void Network::land(std::uint32_t slot) {
  const Flight& f = flights_[slot];
  arrive(f.id, f.to_side, f.from, f.to, f.src, f.dst, f.seq, f.ack, f.flags, f.data, f.snapshot);
  free_flights_.push_back(slot);
  // The network fell quiet: give back the slots a busy moment took (a long
  // wait, such as a queue of deferred letters, then holds only a few). The
  // few stay, with their buffers: a quiet network that carries one letter
  // at a time would otherwise allocate them again for every segment.
  constexpr std::uint32_t kKept = 64;
  if (free_flights_.size() == flights_.size() && flights_.size() > kKept) {
    flights_.resize(kKept);
    flights_.shrink_to_fit();
    free_flights_.clear();
    for (std::uint32_t i = kKept; i-- > 0;) free_flights_.push_back(i);
    free_flights_.shrink_to_fit();
  }
}

void Network::transmit(Conn& c, int side, const Segment& seg) {
  End& e = c.ends[side];
  const End& peer = c.ends[1 - side];
  // Every segment but the client's first SYN acknowledges what arrived so far.
  std::uint8_t flags = seg.flags;
  if (!((flags & kSyn) && side == 0)) flags |= kAck;
  const std::uint32_t ack = (flags & kAck) ? e.rcv_nxt : 0;
  if (flags & kAck) e.ack_sent = e.rcv_nxt;
  const auto ack_due = put_on_wire(c.id, side, e.host, peer.host, e.endpoint, peer.endpoint, seg.seq, ack, flags,
                                   seg.data);
  if (!ack_due) return;
  for (auto& u : e.unacked)
    if (u.seq == seg.seq && u.flags == seg.flags) u.ack_due = *ack_due;
}

void Network::emit_raw(ConnId id, HostId from, HostId to, Endpoint src, Endpoint dst, std::uint32_t seq,
                       std::uint32_t ack, std::uint8_t flags, int to_side) {
  put_on_wire(id, 1 - to_side, from, to, src, dst, seq, ack, flags, {});
}

bool Network::snapshot_valid(const Snapshot& s) const {
  return s.all([this](const Snapshot::Mark& m) {
    return m.link ? links_[m.index].info.up && links_[m.index].epoch == m.epoch
                  : hosts_[m.index].info.up && hosts_[m.index].epoch == m.epoch;
  });
}

void Network::arrive(ConnId id, int to_side, HostId from, HostId to, Endpoint src, Endpoint dst, std::uint32_t seq,
                     std::uint32_t ack, std::uint8_t flags, const std::string& data, const Snapshot& snapshot) {
  retire_finished();  // here, at the top of an engine event, nobody holds a Conn&
  if (!snapshot_valid(snapshot)) return;  // lost on the way
  Conn* live = live_conn(id);
  if (live == nullptr) {
    const std::uint32_t length =
        static_cast<std::uint32_t>(data.size()) + ((flags & kSyn) ? 1 : 0) + ((flags & kFin) ? 1 : 0);
    return arrive_after_end(id, to_side, from, to, src, dst, seq, ack, flags, length);
  }
  Conn& c = *live;
  End& e = c.ends[to_side];
  End& peer = c.ends[1 - to_side];
  const HostState& h = hosts_[e.host];
  const std::uint32_t length =
      static_cast<std::uint32_t>(data.size()) + ((flags & kSyn) ? 1 : 0) + ((flags & kFin) ? 1 : 0);

  // RFC 9293 §3.10.7.1: a segment for a connection that does not exist
  // draws a RST (never in answer to a RST).
  auto answer_rst = [&] {
    if (flags & kRst) return;
    if (flags & kAck)
      emit_raw(id, e.host, peer.host, e.endpoint, peer.endpoint, ack, 0, kRst, 1 - to_side);
    else
      emit_raw(id, e.host, peer.host, e.endpoint, peer.endpoint, 0, seq + length, kRst | kAck, 1 - to_side);
  };

  if (!h.info.up) {
    if (h.info.silent) return;
    if ((flags & kSyn) && !(flags & kAck))
      c.refuse_reason = "host " + h.info.name + " is down: connection refused";
    answer_rst();
    return;
  }
  if ((flags & kSyn) && !(flags & kAck)) {
    on_syn(c, seq, snapshot);
    return;
  }
  if (flags & kRst) {
    if (to_side == 0 && c.connecting) {
      finish_connect(c, ConnectStatus::kRefused,
                     c.refuse_reason.empty() ? "connection refused" : c.refuse_reason);
    } else if (e.alive) {
      kill_end(c, to_side, "connection reset by " + hosts_[peer.host].info.name, true);
    }
    return;
  }
  if (!e.alive) {
    answer_rst();
    return;
  }
  if ((flags & kSyn) && (flags & kAck)) {  // SYN-ACK at the client
    if (c.connecting) {
      e.rcv_nxt = seq + 1;
      on_ack(c, to_side, ack);
      e.established = true;
      send_segment(c, to_side, kAck, {});
      finish_connect(c, ConnectStatus::kConnected, {});
    } else {
      schedule_ack_check(id, to_side);
      e.ack_forced = true;
    }
    return;
  }
  if (flags & kAck) on_ack(c, to_side, ack);
  if (!e.alive) return;
  if (to_side == 1 && !e.established && e.unacked.empty()) {  // the handshake's last ACK
    e.established = true;
    record_conn(EventKind::kAccept, c, 1);
    const auto it = listeners_.find({e.host, e.endpoint.port});
    if (it == listeners_.end() || port_blocked(e.host, e.endpoint.port)) {
      socket_reset(id, 1);
      return;
    }
    AcceptHandler handler = it->second;
    handler(Socket(this, id, 1));
    if (!e.alive) return;
  }
  if (length == 0) {
    maybe_finished(c);
    return;
  }
  if (seq != e.rcv_nxt) {
    // A retransmission of something we have, or a segment after a gap: say
    // where we are; the sender resends from there.
    e.ack_forced = true;
    schedule_ack_check(id, to_side);
    return;
  }
  if (!e.established) return;  // data before the handshake finished: wait for the resend
  e.rcv_nxt += static_cast<std::uint32_t>(data.size());
  if (flags & kFin) {
    e.rcv_nxt += 1;
    e.fin_received = true;
  }
  schedule_ack_check(id, to_side);
  deliver(c, to_side, data);
  maybe_finished(c);
}

// A segment for a retired connection: both ends are closed or reset, so it
// is answered as arrive() answers a segment for a dead end (RFC 9293
// §3.10.7.1), from the addresses the segment carries.
void Network::arrive_after_end(ConnId id, int to_side, HostId from, HostId to, Endpoint src, Endpoint dst,
                               std::uint32_t seq, std::uint32_t ack, std::uint8_t flags, std::uint32_t length) {
  const HostState& h = hosts_[to];
  auto answer_rst = [&] {
    if (flags & kRst) return;
    if (flags & kAck)
      emit_raw(id, to, from, dst, src, ack, 0, kRst, 1 - to_side);
    else
      emit_raw(id, to, from, dst, src, 0, seq + length, kRst | kAck, 1 - to_side);
  };
  if (!h.info.up) {
    if (!h.info.silent) answer_rst();
    return;
  }
  if ((flags & kSyn) && !(flags & kAck)) return;  // the attempt is long over
  if (flags & kRst) return;
  answer_rst();
}

void Network::ConnTable::emplace(ConnId id, std::unique_ptr<Conn> c) {
  if (slots_.empty()) base_ = id;
  if (id < base_ + slots_.size()) throw std::logic_error("Network: connection ids must grow");
  slots_.resize(id - base_ + 1);
  slots_.back() = std::move(c);
}

void Network::ConnTable::erase(ConnId id) {
  if (find(id) == nullptr) return;
  slots_[id - base_].reset();
  while (!slots_.empty() && !slots_.front()) {  // the oldest ones went: the window slides on
    slots_.pop_front();
    ++base_;
  }
}

std::size_t Network::live_connections() const {
  std::size_t n = 0;
  conns_.for_each([&n](ConnId, const Conn* c) {
    if (!c->retire_queued) ++n;  // else finished, it leaves at the next segment's landing
  });
  return n;
}

Network::Conn* Network::live_conn(ConnId id) {
  return conns_.find(id);
}

const Network::Remains* Network::remains_of(ConnId id) const {
  if (id == 0 || id > retired_.size()) return nullptr;
  const Remains& r = retired_[id - 1];
  return r.present ? &r : nullptr;
}
Network::Remains* Network::remains_of(ConnId id) {
  return const_cast<Remains*>(std::as_const(*this).remains_of(id));
}

namespace {
// Over for good: nothing left to say, hear, report or time.
template <class Conn>
bool retirable(const Conn& c) {
  if (c.connecting || c.on_connect || c.pending_events > 0) return false;
  for (const auto& e : c.ends) {
    if (e.alive || e.rto_timer) return false;
    // A closed end waits only for a handler it still holds. Bytes that came
    // after it closed (a TLS close_notify behind the application's last
    // read) and a peer's close it was never told of (it had dropped its
    // handler) have nobody to go to; its Socket can still ask (Remains).
    if (e.on_data || e.on_peer_closed || e.on_reset) return false;
  }
  return true;
}
}  // namespace

void Network::maybe_retire(Conn& c) {
  if (c.retire_queued || !retirable(c)) return;
  c.retire_queued = true;
  to_retire_.push_back(c.id);
}

void Network::retire_finished() {
  for (const ConnId id : to_retire_) {
    Conn* found = conns_.find(id);
    if (found == nullptr) continue;
    Conn& c = *found;
    c.retire_queued = false;
    if (!retirable(c)) continue;
    Remains r;
    for (int side = 0; side < 2; ++side) {
      r.host[side] = c.ends[side].host;
      r.endpoint[side] = c.ends[side].endpoint;
      r.last_arrival[side] = c.ends[side].last_arrival;
      r.was_reset[side] = c.ends[side].was_reset;
      r.fin_received[side] = c.ends[side].fin_received;
      r.peer_close_reported[side] = c.ends[side].peer_close_reported;
    }
    r.present = true;
    if (retired_.size() < id) retired_.resize(id);
    retired_[id - 1] = r;
    conns_.erase(id);
  }
  to_retire_.clear();
}

void Network::on_syn(Conn& c, std::uint32_t seq, const Snapshot&) {
  End& s = c.ends[1];
  if (s.alive) {  // a retransmitted SYN: resend our SYN-ACK
    if (!s.established && !s.unacked.empty()) transmit(c, 1, s.unacked.front());
    return;
  }
  if (s.was_reset || !c.connecting) return;
  const std::string& name = hosts_[s.host].info.name;
  const std::uint16_t port = s.endpoint.port;
  if (!listeners_.contains({s.host, port}) || port_blocked(s.host, port)) {
    c.refuse_reason = port_blocked(s.host, port)
                          ? "port " + std::to_string(port) + " of " + name + " is closed: connection refused"
                          : "nothing listens on port " + std::to_string(port) + " of " + name + ": connection refused";
    emit_raw(c.id, s.host, c.ends[0].host, s.endpoint, c.ends[0].endpoint, 0, seq + 1, kRst | kAck, 0);
    return;
  }
  s.alive = true;
  s.rto = config_.initial_rto;
  s.iss = static_cast<std::uint32_t>(isn_random_.next_u64());
  s.snd_nxt = s.iss;
  s.rcv_nxt = seq + 1;
  send_segment(c, 1, kSyn | kAck, {});
}

void Network::on_ack(Conn& c, int side, std::uint32_t ack) {
  End& e = c.ends[side];
  bool progress = false;
  while (!e.unacked.empty()) {
    const Segment& front = e.unacked.front();
    if (!seq_leq(front.seq + front.length(), ack)) break;
    if (front.flags & kFin) e.fin_acked = true;
    e.unacked.erase(e.unacked.begin());
    progress = true;
  }
  if (!progress) return;
  e.rto = config_.initial_rto;
  e.rto_due = 0;  // restarted for what is still unacknowledged
  arm_rto(c, side);
}

void Network::deliver(Conn& c, int side, std::string_view data) {
  End& e = c.ends[side];
  const bool open = e.alive || e.fin_received;
  if (open && e.on_data && e.inbox.empty() && !data.empty()) {
    // Nothing waits before these bytes: hand them over as they are.
    const auto handler = e.on_data;  // the handler may replace or clear itself
    (*handler)(data);
  } else {
    e.inbox.append(data);
    if (!open) return;
    if (!e.inbox.empty() && e.on_data) {
      std::string bytes = std::move(e.inbox);
      e.inbox.clear();
      const auto handler = e.on_data;
      (*handler)(bytes);
    }
  }
  if (e.fin_received && !e.peer_close_reported && e.inbox.empty() && e.on_peer_closed) {
    e.peer_close_reported = true;
    auto handler = e.on_peer_closed;
    handler();
  }
}

void Network::schedule_ack_check(ConnId id, int side) {
  Conn& conn = *conns_.at(id);
  End& e = conn.ends[side];
  if (e.ack_check_pending) return;
  e.ack_check_pending = true;
  ++conn.pending_events;
  // When this instant is over, every application has had its say: if one
  // answered, its data carried the ACK and no pure ACK is needed (delayed
  // ACK, RFC 1122 §4.2.3.2, with the delay cut to the end of the instant).
  if (ack_checks_.empty()) engine_.at_instant_end([this] { run_ack_checks(); });
  ack_checks_.push_back(end_key(id, side));
}

void Network::run_ack_checks() {
  ack_checks_running_.swap(ack_checks_);  // a check's ACK may make more checks: they wait for the next hook
  for (const std::uint64_t key : ack_checks_running_) {
    Conn& c = *conns_.at(key_conn(key));
    const int at_side = key_side(key);
    --c.pending_events;
    End& en = c.ends[at_side];
    en.ack_check_pending = false;
    const bool forced = en.ack_forced;
    en.ack_forced = false;
    if ((en.alive || (en.fin_received && en.fin_acked)) && (forced || en.ack_sent != en.rcv_nxt)) {
      Segment ack_only;
      ack_only.seq = en.snd_nxt;
      ack_only.flags = kAck;
      transmit(c, at_side, ack_only);
    }
    maybe_retire(c);
  }
  ack_checks_running_.clear();
}

void Network::arm_rto(Conn& c, int side) {
  End& e = c.ends[side];
  if (e.rto_due != 0 || e.unacked.empty() || !e.alive) return;
  const Time base = std::max(engine_.now(), e.unacked.front().ack_due);
  set_rto(c, side, base + e.rto, "retransmission timer");
}

void Network::set_rto(Conn& c, int side, Time due, const char* label) {
  End& e = c.ends[side];
  e.rto_due = due;
  if (e.rto_timer && e.rto_timer_at <= due) return;  // it fires first and sets itself again
  engine_.cancel(e.rto_timer);
  e.rto_timer_at = due;
  e.rto_timer = engine_.schedule_at(due, [this, key = end_key(c.id, side)] { on_rto(key_conn(key), key_side(key)); },
                                    label);
}

void Network::stop_rto(End& e) {
  engine_.cancel(e.rto_timer);
  e.rto_timer = {};
  e.rto_due = 0;
}

void Network::on_rto(ConnId id, int side) {
  Conn& c = *conns_.at(id);
  End& e = c.ends[side];
  e.rto_timer = {};
  if (e.rto_due == 0) return;  // everything was acknowledged since it was set
  if (engine_.now() < e.rto_due) {  // restarted by an ACK meanwhile
    set_rto(c, side, e.rto_due, "retransmission timer");
    return;
  }
  e.rto_due = 0;
  if (!e.alive || e.unacked.empty()) return;
  const bool handshake = !e.established;
  if (!handshake && engine_.now() - e.unacked.front().first_sent >= config_.give_up_after) {
    const End& peer = c.ends[1 - side];
    kill_end(c, side,
             "connection timed out: no answer from " + hosts_[peer.host].info.name + " for " +
                 std::to_string(config_.give_up_after / kSecond) + "s",
             true);
    return;
  }
  if (handshake && side == 1 && engine_.now() - e.unacked.front().first_sent >= config_.connect_timeout) {
    kill_end(c, side, "half-open connection abandoned", false);  // the client never completed the handshake
    return;
  }
  for (const auto& seg : std::vector<Segment>(e.unacked.begin(), e.unacked.end())) transmit(c, side, seg);
  e.rto = std::min(e.rto * 2, config_.max_rto);
  arm_rto(c, side);
}

void Network::retransmit_stalled() {
  // Called when a host or link comes back: segments waiting for a route go
  // now rather than at their next backoff.
  conns_.for_each([&](ConnId, Conn* c) {
    for (int side = 0; side < 2; ++side) {
      End& e = c->ends[side];
      if (!e.alive || e.unacked.empty() || e.rto_due == 0) continue;
      set_rto(*c, side, engine_.now(), "retransmit after repair");
    }
  });
}

void Network::kill_end(Conn& c, int side, std::string_view reason, bool record) {
  End& e = c.ends[side];
  if (!e.alive) return;
  e.alive = false;
  e.was_reset = true;
  stop_rto(e);
  e.unacked.clear();
  e.inbox.clear();
  if (record) record_conn(EventKind::kReset, c, side, std::string(reason));
  auto handler = std::move(e.on_reset);
  e.on_reset = nullptr;
  e.on_data = nullptr;
  e.on_peer_closed = nullptr;
  maybe_finished(c);
  if (handler) handler(reason);
}

void Network::release_doomed() {
  // Out of the member first: a handler's last owner may close other
  // connections as it goes, and their handlers wait for the next hook.
  std::vector<DoomedHandlers> going;
  going.swap(doomed_);
}

void Network::maybe_finished(Conn& c) {
  for (auto& e : c.ends) {
    const bool done = !e.alive || (e.fin_sent && e.fin_acked && e.fin_received);
    if (!done) return;
  }
  for (auto& e : c.ends) {
    if (e.alive) {
      e.alive = false;
      stop_rto(e);
      // Handlers are dropped when the instant is over: one of them may be running now.
      if (doomed_.empty()) engine_.at_instant_end([this] { release_doomed(); });
      doomed_.push_back(DoomedHandlers{std::move(e.on_data), std::move(e.on_peer_closed), std::move(e.on_reset)});
      e.on_data = nullptr;
      e.on_peer_closed = nullptr;
      e.on_reset = nullptr;
    }
  }
  if (!c.port_released && c.ends[0].host != kNoHost) {
    c.port_released = true;
    hosts_[c.ends[0].host].used_ports.erase(c.ends[0].endpoint.port);
  }
  maybe_retire(c);
}

// ---- socket calls ----------------------------------------------------------------------------

bool Network::socket_send(ConnId id, int side, std::string bytes) {
  if (remains_of(id) != nullptr) return false;
  Conn& c = *conns_.at(id);
  End& e = c.ends[side];
  if (!e.alive || !e.established || e.fin_sent) return false;
  if (!hosts_[e.host].info.up) return false;
  if (bytes.size() <= config_.mss) {  // one segment: it takes the bytes as they are
    if (!bytes.empty()) send_segment(c, side, kAck | kPsh, std::move(bytes));
    return true;
  }
  const std::string_view all = bytes;
  std::size_t offset = 0;
  while (offset < all.size()) {
    const std::size_t n = std::min(config_.mss, all.size() - offset);
    const bool last = offset + n == all.size();
    send_segment(c, side, kAck | (last ? kPsh : 0), std::string(all.substr(offset, n)));
    offset += n;
  }
  return true;
}

void Network::socket_close(ConnId id, int side) {
  if (remains_of(id) != nullptr) return;
  Conn& c = *conns_.at(id);
  End& e = c.ends[side];
  if (!e.alive || e.fin_sent || !e.established) return;
  e.fin_sent = true;
  record_conn(EventKind::kClose, c, side);
  send_segment(c, side, kFin | kAck, {});
}

void Network::socket_reset(ConnId id, int side) {
  if (remains_of(id) != nullptr) return;
  Conn& c = *conns_.at(id);
  End& e = c.ends[side];
  if (!e.alive) return;
  const End& peer = c.ends[1 - side];
  emit_raw(id, e.host, peer.host, e.endpoint, peer.endpoint, e.snd_nxt, e.rcv_nxt, kRst | kAck, 1 - side);
  e.on_reset = nullptr;  // we reset it ourselves: no callback
  kill_end(c, side, "reset by " + hosts_[e.host].info.name, true);
}

void Network::record_conn(EventKind kind, const Conn& c, int side, std::string reason) {
  if (!trace_.wants(kind)) return trace_.count(kind);
  const End& e = c.ends[side];
  const End& peer = c.ends[1 - side];
  ConnPayload p;
  p.peer = peer.host == kNoHost ? "" : hosts_[peer.host].info.name;
  p.local_addr = e.endpoint.address.str();
  p.local_port = e.endpoint.port;
  p.remote_addr = peer.endpoint.address.str();
  p.remote_port = peer.endpoint.port;
  p.reason = std::move(reason);
  trace_.record(kind, hosts_[e.host].info.name, c.id, std::move(p));
}

bool packet_crosses(const PacketPayload& packet, std::string_view a, std::string_view b) {
  for (std::size_t i = 0; i + 1 < packet.path.size(); ++i)
    if ((packet.path[i] == a && packet.path[i + 1] == b) || (packet.path[i] == b && packet.path[i + 1] == a))
      return true;
  return false;
}

}  // namespace mailsim::sim
