// Shared run state of the roles (see context.h).
#include "sim/roles/context.h"

#include "real/mta/address.h"
#include "sim/roles/mail_server.h"

#include <cctype>

namespace mailsim::sim::roles {
namespace {
tls::DemoCaOptions ed25519() {
  tls::DemoCaOptions o;
  o.key_type = tls::KeyType::kEd25519;
  return o;
}
}  // namespace

HostedSession::HostedSession(std::unique_ptr<Session> session, ChannelOptions options, Socket socket,
                             std::function<void()> drain, std::function<void()> on_closed)
    : session_(std::move(session)), drain_(std::move(drain)) {
  io_ = std::make_unique<mta::ChannelStream>(
      *session_, std::move(options), std::make_unique<SocketStream>(socket), [this] { drain_(); },
      std::move(on_closed));
}

void HostedSession::start() {
  io_->start();
  drain_();
  io_->flush();
}

void HostedSession::flush() {
  io_->flush();
  drain_();
  io_->flush();
}

RunContext::RunContext(World& w, RoleOptions o)
    : world(w),
      engine(w.engine()),
      net(w.network()),
      trace(w.trace()),
      clock(w.engine(), w.scenario().start_unix),
      options(o),
      // Ed25519: handshakes have the same length run after run, so timings replay.
      ca(tls::DemoCa::create(ed25519())),
      client_tls(ca.client_context(tls::PeerVerification::kRequired)) {}

void RunContext::note(const std::string& host, std::string text, ConnId conn) {
  trace.record(EventKind::kNote, host, conn, NotePayload{std::move(text), ""});
}

HostedSession& RunContext::host_session(std::unique_ptr<Session> session, ChannelOptions options, Socket socket,
                                        std::function<void()> drain, std::function<void()> on_closed) {
  auto holder = std::make_shared<HostedSession*>(nullptr);
  // The channel says "closed" from inside its own callbacks: free the
  // session on the next turn of the engine, never inside them.
  auto closed = [this, holder, on_closed = std::move(on_closed)] {
    if (on_closed) on_closed();
    HostedSession* h = *holder;
    engine.schedule_in(0, [this, h] { hosted_.erase(h); }, "free a finished session");
  };
  auto h = std::make_unique<HostedSession>(std::move(session), std::move(options), socket, std::move(drain),
                                           std::move(closed));
  HostedSession* raw = h.get();
  *holder = raw;
  hosted_[raw] = std::move(h);
  return *raw;
}

void RunContext::connect_by_name(HostId from, const std::string& name, std::uint16_t port, ConnectHandler done) {
  world.resolver(from).query(name, DnsType::kA, [this, from, name, port, done = std::move(done)](const DnsAnswer& a) {
    std::optional<Ipv4> address;
    for (const auto& r : a.records)
      if (r.type == DnsType::kA && (address = Ipv4::parse(r.value))) break;
    if (!address) {
      ConnectResult failed;
      failed.status = ConnectStatus::kAborted;
      failed.reason = "DNS has no address for " + name + " (" + std::string(rcode_name(a.rcode)) + ")";
      done(failed);
      return;
    }
    net.connect(from, *address, port, done);
  });
}

MailServer* RunContext::server_named(std::string_view name) const {
  const auto it = servers.find(name);
  return it == servers.end() ? nullptr : it->second;
}

MailServer* RunContext::server_for_domain(std::string_view domain) const {
  for (const auto& h : world.scenario().hosts) {
    if (h.role != HostRole::kMta && h.role != HostRole::kRelay) continue;
    for (const auto& d : h.local_domains)
      if (mta::iequals(d, domain)) return server_named(h.name);
  }
  return nullptr;
}

std::string display_name_of(std::string_view address) {
  std::string local(address.substr(0, address.find('@')));
  if (!local.empty()) local[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(local[0])));
  return local;
}

}  // namespace mailsim::sim::roles
