// The mail server role (see mail_server.h).
#include "sim/roles/mail_server.h"

#include "real/codec/ascii.h"
#include "real/message/encoded_word.h"
#include "real/mta/address.h"
#include "real/mta/headers.h"
#include "sim/dns/dns.h"

#include <algorithm>

namespace mailsim::sim::roles {
namespace {

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

mta::TlsPolicy outbound_policy(Toggle t) {
  switch (t) {
    case Toggle::kOff: return mta::TlsPolicy::none;
    case Toggle::kOptional: return mta::TlsPolicy::opportunistic;
    case Toggle::kRequired: return mta::TlsPolicy::required;
  }
  return mta::TlsPolicy::opportunistic;
}

smtp::TlsPolicy smtp_tls(Toggle t) {
  switch (t) {
    case Toggle::kOff: return smtp::TlsPolicy::kOff;
    case Toggle::kOptional: return smtp::TlsPolicy::kOptional;
    case Toggle::kRequired: return smtp::TlsPolicy::kRequired;
  }
  return smtp::TlsPolicy::kOptional;
}

smtp::AuthPolicy smtp_auth(Toggle t) {
  switch (t) {
    case Toggle::kOff: return smtp::AuthPolicy::kOff;
    case Toggle::kOptional: return smtp::AuthPolicy::kOptional;
    case Toggle::kRequired: return smtp::AuthPolicy::kRequired;
  }
  return smtp::AuthPolicy::kRequired;
}

// "10.0.0.7" -> "7.0.0.10" (RFC 5782 §2.1: the blocklist name of an address).
std::string reversed_octets(const std::string& address) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    const auto dot = address.find('.', start);
    parts.push_back(address.substr(start, dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  std::string out;
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) out += (out.empty() ? "" : ".") + *it;
  return out;
}

std::string join(const std::vector<std::string>& v, std::string_view sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : std::string(sep)) + s;
  return out;
}


// The TLS side of a POP3 or IMAP connection: server role, the host's
// certificate when the port offers TLS, every byte reported to the tracer.
ChannelOptions mailbox_channel(bool tls_available, const std::optional<tls::TlsContext>& server_tls,
                               const std::shared_ptr<ConnTracer>& tracer) {
  ChannelOptions co;
  co.role = tls::TlsRole::kServer;
  if (tls_available) co.tls = server_tls;
  co.observer = ConnTracer::observer(tracer);
  return co;
}

// The brute-force brake shared by POP3 and IMAP: the failed-login reply waits
// on the virtual clock, then the session resumes (unless it has gone).
template <class Session>
void resume_after(Engine& engine, std::int64_t delay_ms, Session* s, std::shared_ptr<bool> alive,
                  std::shared_ptr<HostedSession*> slot, const char* label) {
  engine.schedule_in(static_cast<Time>(delay_ms) * kMillisecond, [s, alive, slot] {
    if (!*alive) return;
    s->resume();
    (*slot)->flush();
  }, label);
}

}  // namespace

// ---- outbound SMTP, one real SmtpTransport per connection ------------------------
//
// SmtpTransport's trace hooks are told the OpenRequest, not the connection;
// with several connections to one MX at a time (lesson 14) that is not
// enough to file a line under its connection. So every open() gets its own
// SmtpTransport whose hooks know exactly one connection. A transport is
// freed once the MTA has dropped its handle and its link has closed.
class MailServer::Transport final : public mta::Transport {
 public:
  Transport(RunContext& ctx, HostId id, std::string host, mta::Duration reply_timeout)
      : ctx_(ctx), id_(id), host_(std::move(host)), reply_timeout_(reply_timeout) {}
  ~Transport() override {
    if (sweep_event_) ctx_.engine.cancel(sweep_event_);
  }

  void open(const mta::OpenRequest& request, std::function<void(mta::OpenResult)> done) override {
    sweep();
    auto state = std::make_shared<State>();
    auto attempt = std::make_unique<Attempt>();
    Attempt* const raw = attempt.get();
    state->owner = this;
    state->attempt = raw;
    attempt->state = state;
    attempt->connector = std::make_unique<Connector>(ctx_.net, id_, state);
    mta::SmtpTransportOptions o;
    o.tls = ctx_.client_tls;
    o.reply_timeout = reply_timeout_;
    o.channel_observer = [this, state](const mta::OpenRequest&) {
      state->tracer = std::make_shared<ConnTracer>(ctx_.trace, host_, state->conn, "smtp", true, ctx_.options.record_data);
      return ConnTracer::observer(state->tracer);
    };
    o.client_observer = [state](const mta::OpenRequest&, const smtp::ClientEvent& e) {
      if (state->tracer) state->tracer->on_smtp(e);
    };
    // A finished attempt (connect refused, or its link closed after the MTA
    // let go) is freed on the next turn, not when this server next connects:
    // a server whose letters all wait for a down MX would otherwise keep one.
    o.on_link_freed = [this, raw] {
      maybe_finished(raw);
      schedule_sweep();
    };
    attempt->transport = std::make_unique<mta::SmtpTransport>(*attempt->connector, ctx_.clock, std::move(o));
    mta::SmtpTransport& transport = *attempt->transport;
    attempts_.push_back(std::move(attempt));
    raw->self = std::prev(attempts_.end());
    transport.open(request, [this, state, raw, done = std::move(done)](mta::OpenResult r) {
      state->opened = true;
      maybe_finished(raw);
      if (r.connection) {
        state->handle_alive = true;
        r.connection = std::make_unique<Handle>(std::move(r.connection), state);
      }
      done(std::move(r));
    });
  }

 private:
  struct Attempt;
  struct State {
    ConnId conn = 0;
    std::shared_ptr<ConnTracer> tracer;
    bool opened = false;
    bool handle_alive = false;
    Transport* owner = nullptr;  // outlives every handle (the Mta goes first)
    Attempt* attempt = nullptr;  // not freed while the handle lives
  };
  // Learns the connection id of the socket the MTA connects with.
  class Connector final : public mta::Connector {
   public:
    Connector(Network& net, HostId from, std::shared_ptr<State> state) : inner_(net, from), state_(std::move(state)) {}
    void connect(const std::string& host, std::uint16_t port, std::function<void(mta::ConnectResult)> done) override {
      inner_.connect(host, port, [state = state_, done = std::move(done)](mta::ConnectResult r) {
        if (const auto* s = dynamic_cast<const SocketStream*>(r.stream.get())) state->conn = s->socket().id();
        done(std::move(r));
      });
    }

   private:
    SimConnector inner_;
    std::shared_ptr<State> state_;
  };
  // What the MTA holds; tells us when it lets go.
  class Handle final : public mta::Connection {
   public:
    Handle(std::unique_ptr<mta::Connection> inner, std::shared_ptr<State> state)
        : inner_(std::move(inner)), state_(std::move(state)) {}
    ~Handle() override {
      inner_.reset();
      state_->handle_alive = false;
      state_->owner->maybe_finished(state_->attempt);
    }
    // (Dropping the handle quits the link; its closing calls on_link_freed.)
    void send(const mta::DeliveryJob& job, std::function<void(mta::JobResult)> done) override {
      inner_->send(job, std::move(done));
    }
    void probe(const std::string& recipient, std::function<void(mta::Reply)> done) override {
      inner_->probe(recipient, std::move(done));
    }
    void quit() override { inner_->quit(); }
    bool usable() const override { return inner_->usable(); }
    std::string tls_version() const override { return inner_->tls_version(); }

   private:
    std::unique_ptr<mta::Connection> inner_;
    std::shared_ptr<State> state_;
  };
  struct Attempt {
    std::shared_ptr<State> state;
    std::unique_ptr<Connector> connector;
    std::unique_ptr<mta::SmtpTransport> transport;  // declared last: goes first
    std::list<std::unique_ptr<Attempt>>::iterator self;  // its place in attempts_
    bool candidate = false;                              // in candidates_
  };

  void schedule_sweep() {
    if (sweep_event_) return;
    sweep_event_ = ctx_.engine.schedule_in(0, [this] {
      sweep_event_ = EventId{};
      sweep();
    });
  }
  // An attempt is finished once it has been answered, the MTA has dropped
  // its handle and its link is gone. Each of the three moments names the
  // attempt a candidate (the last of them finds it finished), so a sweep
  // looks at those alone, not at every connection the server has open.
  void maybe_finished(Attempt* a) {
    if (a->candidate) return;
    a->candidate = true;
    candidates_.push_back(a);
  }
  void sweep() {
    std::vector<Attempt*> candidates;
    candidates.swap(candidates_);
    for (Attempt* a : candidates) {
      a->candidate = false;
      if (a->state->opened && !a->state->handle_alive && a->transport->live_links() == 0) attempts_.erase(a->self);
    }
    candidates.clear();
    if (candidates_.empty()) candidates_.swap(candidates);  // keep the room for next time
  }

  RunContext& ctx_;
  HostId id_;
  std::string host_;
  mta::Duration reply_timeout_;
  std::list<std::unique_ptr<Attempt>> attempts_;
  std::vector<Attempt*> candidates_;  // attempts that may have finished since the last sweep
  EventId sweep_event_;
};

// ---- the relay host as a transport for relay domains ------------------------------
//
// real/mta's Router sends mail for relay_domains by MX even when a relay host
// is set (a backup MX delivers to its primary). A scenario that gives a
// relay host *and* relay domains means a gateway: the front office of a
// domain whose MX it is itself, passing that domain's mail to the inner
// office (Postfix: relay_domains + transport_maps). Here that transport is
// given to the Router as the MX answer for those domains, from the
// configuration rather than from DNS (a transport map asks no DNS).
class MailServer::TransportMap final : public mta::Resolver {
 public:
  TransportMap(RunContext& ctx, mta::Resolver& dns, const HostSpec& spec) : ctx_(ctx), dns_(dns), spec_(spec) {}
  void resolve_mx(const std::string& domain, std::function<void(mta::MxAnswer)> done) override {
    const bool mapped = !spec_.relay.relay_host.empty() &&
                        std::any_of(spec_.relay.relay_domains.begin(), spec_.relay.relay_domains.end(),
                                    [&](const std::string& d) { return mta::iequals(d, domain); });
    if (!mapped) return dns_.resolve_mx(domain, std::move(done));
    ctx_.engine.schedule_in(0, [done = std::move(done), host = spec_.relay.relay_host] {
      done(mta::MxAnswer{mta::DnsStatus::ok, {mta::MxRecord{0, host}}});
    }, "transport map");
  }
  void resolve_a(const std::string& host, std::function<void(mta::AddressAnswer)> done) override {
    dns_.resolve_a(host, std::move(done));
  }
  void resolve_txt(const std::string& name, std::function<void(mta::TxtAnswer)> done) override {
    dns_.resolve_txt(name, std::move(done));
  }

 private:
  RunContext& ctx_;
  mta::Resolver& dns_;
  const HostSpec& spec_;
};

// ---- local delivery, remembered for the trace ------------------------------------

class MailServer::Delivery final : public mta::LocalDelivery {
 public:
  Delivery(MailServer& server, mta::StoreDelivery& inner) : server_(server), inner_(inner) {}
  bool has_mailbox(std::string_view local_part, std::string_view domain) const override {
    return inner_.has_mailbox(local_part, domain);
  }
  void deliver(const std::string& recipient, const std::string& message,
               std::function<void(mta::LocalDeliveryResult)> done) override {
    PendingDelivery p;
    const Trace& trace = server_.ctx_.trace;
    if (trace.wants(EventKind::kDelivery) || trace.wants(EventKind::kMailbox)) {  // else a lean trace: only counted
      p.message_id = mta::header_value(message, "Message-ID");
      p.subject = message::decode_words(mta::header_value(message, "Subject"));
      p.received = mta::count_received(message);
      p.mailbox = inner_.mailbox_for(mta::local_part_of(recipient), mta::domain_of(recipient));
    }
    // Keyed by the recipient exactly as the MTA names it in its Delivered event.
    inner_.deliver(recipient, message, [this, key = recipient, p = std::move(p), done = std::move(done)](mta::LocalDeliveryResult r) {
      if (r.kind == mta::LocalDeliveryResult::Kind::delivered) server_.pending_deliveries_[key] = p;
      done(std::move(r));
    });
  }

 private:
  MailServer& server_;
  mta::StoreDelivery& inner_;
};

// ---- the server ------------------------------------------------------------------

MailServer::MailServer(RunContext& ctx, HostId id, const HostSpec& spec)
    : ctx_(ctx),
      id_(id),
      spec_(spec),
      dns_(ctx.world.resolver(id)),
      resolver_(std::make_unique<TransportMap>(ctx, dns_, spec)),
      spool_(ctx.texts, ctx.clock, kMillisecond) {
  // Mailboxes: "bob" per local part when the scenario lists local parts,
  // full addresses when any user is written as one.
  full_address_mailboxes_ = std::any_of(spec_.users.begin(), spec_.users.end(),
                                        [](const UserAccount& u) { return u.name.find('@') != std::string::npos; });
  const std::string first_domain = spec_.local_domains.empty() ? std::string() : spec_.local_domains.front();
  for (const auto& u : spec_.users) {
    std::string mailbox = u.name;
    std::string address = u.name;
    if (u.name.find('@') == std::string::npos) {
      address = first_domain.empty() ? u.name : u.name + "@" + first_domain;
      if (full_address_mailboxes_) mailbox = address;
    }
    store_.ensure_user(mailbox);
    users_.set(mailbox, u.password);
    mailbox_address_[mailbox] = address;
  }
  store_delivery_ = std::make_unique<mta::StoreDelivery>(
      store_, ctx_.clock, full_address_mailboxes_ ? mta::MailboxNaming::full_address : mta::MailboxNaming::local_part);
  delivery_ = std::make_unique<Delivery>(*this, *store_delivery_);

  std::vector<std::string> names{spec_.name};
  std::vector<std::string> ips;
  for (const auto& a : ctx_.net.host(id_).addresses) ips.push_back(a.str());
  server_tls_ = ctx_.ca.server_context(names, ips);

  const mta::MtaConfig config = mta_config();
  transport_ = std::make_unique<Transport>(ctx_, id_, spec_.name, config.smtp_reply_timeout);
  mta_ = std::make_unique<mta::Mta>(
      config, mta::MtaServices{ctx_.clock, *resolver_, spool_, *transport_, delivery_.get(),
                               [this](const mta::MtaEvent& e) { on_mta_event(e); },
                               [this](std::size_t kind) { return wants_mta_event(kind); }});
  mta_->start();

  if (spec_.mx.enabled)
    smtp_ports_.push_back(SmtpPortPolicy{spec_.mx.port, smtp_tls(spec_.mx.tls),
                                         spec_.users.empty() ? smtp::AuthPolicy::kOff : smtp::AuthPolicy::kOptional,
                                         false});
  if (spec_.submission && spec_.submission->enabled &&
      !(spec_.mx.enabled && spec_.submission->port == spec_.mx.port))
    smtp_ports_.push_back(SmtpPortPolicy{spec_.submission->port, smtp_tls(spec_.submission->tls),
                                         smtp_auth(spec_.submission->auth), true});
  for (const auto& p : smtp_ports_) listen_smtp(p);

  // POP3 and IMAP: as the scenario says, or on by default for a server with users.
  auto service = [&](const std::optional<ServiceSettings>& s, std::uint16_t port) -> std::optional<ServiceSettings> {
    if (s) return s->enabled ? s : std::nullopt;
    if (spec_.users.empty()) return std::nullopt;
    ServiceSettings d;
    d.port = port;
    return d;
  };
  pop3_ = service(spec_.pop3, 110);
  imap_ = service(spec_.imap, 143);
  if (pop3_)
    ctx_.net.listen(id_, pop3_->port, [this](Socket s) { accept_pop3(s, *pop3_); });
  if (imap_)
    ctx_.net.listen(id_, imap_->port, [this](Socket s) { accept_imap(s, *imap_); });
}

MailServer::~MailServer() {
  for (const auto& p : smtp_ports_) ctx_.net.unlisten(id_, p.port);
  if (pop3_) ctx_.net.unlisten(id_, pop3_->port);
  if (imap_) ctx_.net.unlisten(id_, imap_->port);
  smtp_servers_.clear();
  mta_.reset();
}

mta::MtaConfig MailServer::mta_config() const {
  mta::MtaConfig c;
  c.hostname = spec_.name;
  for (const auto& a : ctx_.net.host(id_).addresses) c.own_addresses.push_back(a.str());
  c.local_domains = spec_.local_domains;
  c.relay_domains = spec_.relay.relay_domains;
  c.trusted_networks = spec_.relay.trusted_networks;
  c.open_relay = spec_.relay.open_relay;
  c.verify_relay_recipients = spec_.mx.verify_recipients;
  if (!spec_.relay.relay_host.empty()) {
    mta::RelayHost r;
    r.host = spec_.relay.relay_host;
    r.port = spec_.relay.relay_port;
    r.tls = outbound_policy(spec_.relay.outbound_tls);
    c.relay_host = r;
  }
  c.outbound_tls = outbound_policy(spec_.relay.outbound_tls);
  c.minimal_backoff_time = spec_.queue.min_backoff;
  c.maximal_backoff_time = spec_.queue.max_backoff;
  c.maximal_queue_lifetime = spec_.queue.lifetime;
  c.bounce_queue_lifetime = spec_.queue.lifetime;
  c.delay_warning_time = spec_.queue.delay_warning;
  c.destination_concurrency_limit = spec_.queue.concurrency;
  c.max_received_headers = spec_.queue.hop_limit;
  c.seed = ctx_.engine.random().derive("mta " + spec_.name).next_u64();
  return c;
}

std::string MailServer::login_name(std::string_view address) const {
  if (address.find('@') == std::string_view::npos) return codec::to_lower(address);
  return full_address_mailboxes_ ? codec::to_lower(address) : codec::to_lower(mta::local_part_of(address));
}

std::string MailServer::address_of(const std::string& mailbox) const {
  const auto it = mailbox_address_.find(mailbox);
  return it == mailbox_address_.end() ? mailbox : it->second;
}

int MailServer::mailbox_count(const std::string& mailbox) {
  if (!store_.user_exists(mailbox)) return 0;
  return static_cast<int>(store_.status(mailbox, "INBOX").messages);
}

std::optional<SmtpPortPolicy> MailServer::smtp_port(std::uint16_t port) const {
  for (const auto& p : smtp_ports_)
    if (p.port == port) return p;
  return std::nullopt;
}

std::uint16_t MailServer::service_port(FetchProtocol p) const {
  const auto& s = p == FetchProtocol::kPop3 ? pop3_ : imap_;
  return s ? s->port : 0;
}

void MailServer::record_mailbox(const std::string& mailbox, std::string action, std::string message_id,
                                std::string device, ConnId conn) {
  if (!ctx_.trace.wants(EventKind::kMailbox)) return ctx_.trace.count(EventKind::kMailbox);
  ctx_.trace.record(EventKind::kMailbox, spec_.name, conn,
                    MailboxPayload{address_of(mailbox), std::move(action), std::move(message_id), std::move(device),
                                   mailbox_count(mailbox)});
}

bool MailServer::check_password(const std::string& user, const std::string& password) const {
  std::string mailbox = codec::to_lower(user);
  if (!users_.exists(mailbox)) mailbox = login_name(user);
  return users_.check(mailbox, password);
}

// ---- the queue, told ---------------------------------------------------------------

// What on_mta_event() reads of an event of each kind, given what the trace
// keeps now: the kinds it would only count come without their texts (a lean
// trace, the benchmark's). Keep the two in step: a kind read below in a lean
// trace must be wanted here.
bool MailServer::wants_mta_event(std::size_t kind) const {
  namespace ev = mta::event;
  const Trace& trace = ctx_.trace;
  switch (kind) {
    case mta::event_kind_v<ev::Received>:
    case mta::event_kind_v<ev::Deferred>:
      return trace.wants(EventKind::kQueue);
    case mta::event_kind_v<ev::RetryScheduled>:
      return trace.wants(EventKind::kRetry);
    case mta::event_kind_v<ev::RecipientUpdated>:
      return false;  // never shown: Delivered and Bounced tell the outcome
    case mta::event_kind_v<ev::RouteChosen>:
    case mta::event_kind_v<ev::DeliveryAttempt>:
    case mta::event_kind_v<ev::ConnectionReused>:
    case mta::event_kind_v<ev::DsnGenerated>:
    case mta::event_kind_v<ev::BounceDropped>:
    case mta::event_kind_v<ev::LoopDetected>:
    case mta::event_kind_v<ev::RelayDenied>:
    case mta::event_kind_v<ev::RecipientRejected>:
      return trace.wants(EventKind::kNote);
    default:
      return true;  // StateChanged, Delivered, Bounced, Removed: read in any trace
  }
}

void MailServer::on_mta_event(const mta::MtaEvent& e) {
  namespace ev = mta::event;
  const std::string& host = spec_.name;
  Trace& trace = ctx_.trace;
  // Events that only become notes: in a lean trace they are counted, not written.
  if (!trace.wants(EventKind::kNote) &&
      (std::holds_alternative<ev::RouteChosen>(e.what) || std::holds_alternative<ev::DeliveryAttempt>(e.what) ||
       std::holds_alternative<ev::ConnectionReused>(e.what) || std::holds_alternative<ev::DsnGenerated>(e.what) ||
       std::holds_alternative<ev::BounceDropped>(e.what) || std::holds_alternative<ev::LoopDetected>(e.what) ||
       std::holds_alternative<ev::RelayDenied>(e.what) || std::holds_alternative<ev::RecipientRejected>(e.what)))
    return trace.count(EventKind::kNote);
  // A queue event: `fill` writes its state, recipients, reason (and retry
  // time and attempt, when it has them) only when somebody reads the kind.
  auto queue = [&](EventKind kind, const std::string& id, auto&& fill) {
    if (!trace.wants(kind)) return trace.count(kind);
    QueuePayload q;
    q.queue_id = id;
    q.attempt = -1;
    fill(q);
    const mta::QueueEntry* entry = mta_ ? mta_->find(id) : nullptr;
    if (entry != nullptr) q.sender = entry->sender;
    if (q.attempt < 0) q.attempt = entry != nullptr ? entry->attempts : 0;
    ctx_.trace.record(kind, host, 0, std::move(q));
  };
  auto sender_of = [&](const std::string& id) {
    const mta::QueueEntry* entry = mta_ ? mta_->find(id) : nullptr;
    return entry != nullptr ? entry->sender : std::string();
  };
  std::visit(
      Overloaded{
          [&](const ev::Received& r) {
            if (!trace.wants(EventKind::kQueue)) return trace.count(EventKind::kQueue);
            QueuePayload q;
            q.queue_id = r.id;
            q.state = "queued";
            q.sender = r.sender;
            q.recipients = r.recipients;
            q.reason = "accepted from " + r.client + ", " + std::to_string(r.size) + " bytes";
            ctx_.trace.record(EventKind::kQueue, host, 0, std::move(q));
          },
          [&](const ev::StateChanged& s) {
            if (s.to != mta::QueueState::active) return;  // deferred and the end are told by their own events
            queue(EventKind::kQueue, s.id, [&](QueuePayload& q) {
              q.state = "active";
              if (const auto* entry = mta_ ? mta_->find(s.id) : nullptr)
                for (const auto& r : entry->recipients)
                  if (!r.done()) q.recipients.push_back(r.address);
              q.reason = "delivery attempt";
            });
          },
          [&](const ev::RecipientUpdated&) {},
          [&](const ev::RouteChosen& r) {
            ctx_.note(host, "route for " + r.domain + ": " + join(r.hosts, ", ") + (r.note.empty() ? "" : " (" + r.note + ")"));
          },
          [&](const ev::DeliveryAttempt& a) {
            ctx_.note(host, "attempt to " + a.host + (a.address.empty() ? "" : " [" + a.address + "]") + ": " + a.result);
          },
          [&](const ev::ConnectionReused& c) {
            ctx_.note(host, "reuses the open connection to " + c.host + " [" + c.address + "] for letter " + c.id +
                                " (letter number " + std::to_string(c.message_number) + " on it)");
          },
          [&](const ev::Deferred& d) {
            queue(EventKind::kQueue, d.id, [&](QueuePayload& q) {
              q.state = "deferred";
              q.reason = d.reason;
            });
          },
          [&](const ev::RetryScheduled& r) {
            queue(EventKind::kRetry, r.id, [&](QueuePayload& q) {
              q.state = "deferred";
              q.retry_at = ctx_.clock.to_sim(r.at);
              q.attempt = r.attempt;
            });
          },
          [&](const ev::Delivered& d) {
            const auto it = pending_deliveries_.find(d.recipient);
            if (it == pending_deliveries_.end()) {
              queue(EventKind::kQueue, d.id, [&](QueuePayload& q) {
                q.state = "sent";
                q.recipients = {d.recipient};
                q.reason = "to " + d.where + ": " + d.reply;
              });
              return;
            }
            const PendingDelivery p = std::move(it->second);
            pending_deliveries_.erase(it);
            queue(EventKind::kQueue, d.id, [&](QueuePayload& q) {
              q.state = "delivered";
              q.recipients = {d.recipient};
              q.reason = "into the " + d.where;
            });
            if (!trace.wants(EventKind::kDelivery)) {
              trace.count(EventKind::kDelivery);
              return record_mailbox(p.mailbox, "stored", p.message_id, "");
            }
            MessagePayload m;
            m.queue_id = d.id;
            m.message_id = p.message_id;
            m.sender = sender_of(d.id);
            m.recipient = d.recipient;
            m.subject = p.subject;
            m.received_headers = p.received;
            ctx_.trace.record(EventKind::kDelivery, host, 0, std::move(m));
            record_mailbox(p.mailbox, "stored", p.message_id, "");
          },
          [&](const ev::Bounced& b) {
            queue(EventKind::kQueue, b.id, [&](QueuePayload& q) {
              q.state = "bounced";
              q.recipients = {b.recipient};
              q.reason = b.status + " " + b.diagnostic;
            });
            const std::string sender = sender_of(b.id);
            if (sender.empty()) return;  // a failed bounce is not bounced again (RFC 3464 §2)
            if (!trace.wants(EventKind::kBounce)) return trace.count(EventKind::kBounce);
            MessagePayload m;
            m.queue_id = b.id;
            m.sender = sender;
            m.recipient = b.recipient;
            m.status = b.status;
            m.diagnostic = b.diagnostic;
            if (const auto* entry = mta_ ? mta_->find(b.id) : nullptr) {
              m.message_id = mta::header_value(entry->message, "Message-ID");
              m.subject = message::decode_words(mta::header_value(entry->message, "Subject"));
              m.received_headers = mta::count_received(entry->message);
            }
            ctx_.trace.record(EventKind::kBounce, host, 0, std::move(m));
          },
          [&](const ev::DsnGenerated& d) {
            ctx_.note(host, std::string(d.action == "failed" ? "writes a bounce (delivery status notification) "
                                                             : "writes a delay warning ") +
                                d.dsn + " about letter " + d.original + " back to " + d.to);
          },
          [&](const ev::BounceDropped& b) {
            ctx_.note(host, "letter " + b.id + " was itself a bounce (empty sender): its failure is dropped, not returned");
          },
          [&](const ev::LoopDetected& l) { ctx_.note(host, "mail loop stopped for letter " + l.id + ": " + l.reason); },
          [&](const ev::RelayDenied& r) {
            ctx_.note(host, "refuses to relay for " + r.client + " to " + r.recipient + " (not our domain, client not ours)");
          },
          [&](const ev::RecipientRejected& r) { ctx_.note(host, "rejects " + r.recipient + " from " + r.client + ": " + r.reply); },
          [&](const ev::Removed& r) {
            queue(EventKind::kQueue, r.id, [&](QueuePayload& q) {
              q.state = "removed";
              q.reason = "every recipient is done";
            });
          },
      },
      e.what);
}

// ---- SMTP service ----------------------------------------------------------------

void MailServer::listen_smtp(const SmtpPortPolicy& policy) {
  mta::InboundOptions o;
  o.server.hostname = spec_.name;
  o.server.tls = policy.tls;
  o.server.auth = policy.auth;
  // RFC 4954 §4: passwords only inside TLS — unless TLS is switched off on
  // this port altogether (lesson 10 shows what that costs).
  o.server.auth_before_tls = policy.tls == smtp::TlsPolicy::kOff;
  if (policy.tls != smtp::TlsPolicy::kOff) o.tls = server_tls_;
  o.authenticator = [this](const std::string& user, const std::string& password) {
    return check_password(user, password);
  };
  smtp_servers_[policy.port] = std::make_unique<mta::InboundServer>(*mta_, ctx_.clock, std::move(o));
  ctx_.net.listen(id_, policy.port, [this, policy](Socket s) { accept_smtp(s, policy); });
}

void MailServer::accept_smtp(Socket socket, const SmtpPortPolicy& policy) {
  if (!policy.submission && spec_.mx.max_connections > 0) {
    // Postfix's smtpd_client_connection_count_limit / a crowded counter:
    // a temporary "come back later", so the sender defers and retries.
    const auto busy = static_cast<int>(smtp_servers_.at(policy.port)->connections());
    if (busy >= spec_.mx.max_connections) {
      ctx_.note(spec_.name, "already serves " + std::to_string(busy) + " clients on port " +
                                std::to_string(policy.port) + ": tells the next one to come back later", socket.id());
      return serve_smtp(socket, policy,
                        smtp::make_reply(421, "4.7.0", spec_.name + " Error: too many connections, try again later"));
    }
  }
  if (!policy.submission && !spec_.mx.dnsbl.empty())
    return check_blocklists(socket, policy, 0);
  serve_smtp(socket, policy, std::nullopt);
}

void MailServer::check_blocklists(Socket socket, const SmtpPortPolicy& policy, std::size_t zone) {
  if (zone >= spec_.mx.dnsbl.size()) return serve_smtp(socket, policy, std::nullopt);
  const std::string ip = socket.remote().address.str();
  const std::string zone_name = codec::to_lower(spec_.mx.dnsbl[zone]);
  const std::string query = reversed_octets(ip) + "." + zone_name;
  DnsResolver& dns = ctx_.world.resolver(id_);
  // Postfix's postscreen/reject_rbl_client: an A record 127.0.0.x means
  // "listed"; the TXT record says why, for the 554 reply.
  dns.query(query, DnsType::kA, [this, socket, policy, zone, ip, zone_name, query, &dns](const DnsAnswer& a) {
    if (!socket.can_send()) return;  // the client left meanwhile
    if (a.rcode != Rcode::kNoError || a.records.empty()) return check_blocklists(socket, policy, zone + 1);
    dns.query(query, DnsType::kTxt, [this, socket, policy, ip, zone_name](const DnsAnswer& t) {
      if (!socket.can_send()) return;
      const std::string why = t.records.empty() ? std::string() : "; " + t.records.front().value;
      ctx_.note(spec_.name, "the client " + ip + " is on the blocklist " + zone_name + ": the counter stays shut",
                socket.id());
      serve_smtp(socket, policy,
                 smtp::make_reply(554, "5.7.1",
                                  "Service unavailable; Client host [" + ip + "] blocked using " + zone_name + why));
    });
  });
}

void MailServer::serve_smtp(Socket socket, const SmtpPortPolicy& policy, std::optional<smtp::Reply> reject) {
  auto tracer =
      std::make_shared<ConnTracer>(ctx_.trace, spec_.name, socket.id(), "smtp", false, ctx_.options.record_data);
  mta::ConnectionOptions own;
  own.channel_observer = ConnTracer::observer(tracer);
  own.session_observer = [tracer](const smtp::ServerEvent& e) { tracer->on_smtp(e); };
  own.auth_observer = [tracer](const std::string& user, bool ok) { tracer->auth_decided(user, ok); };
  own.reject_greeting = std::move(reject);
  // The client's name as reverse DNS would give it (the run's PTR records
  // name every host), for the Received: postmark.
  smtp::PeerIdentity peer;
  peer.address = socket.remote().address.str();
  peer.hostname = ctx_.net.host(socket.peer_host()).name;
  smtp_servers_.at(policy.port)->accept(std::make_unique<SocketStream>(socket), std::move(peer), std::move(own));
}

// ---- POP3 and IMAP service --------------------------------------------------------

void MailServer::accept_pop3(Socket socket, const ServiceSettings& settings) {
  const ConnId conn = socket.id();
  pop3::ServerConfig c;
  c.hostname = spec_.name;
  c.tls_available = settings.tls != Toggle::kOff;
  c.allow_plaintext_auth = settings.tls != Toggle::kRequired;
  auto session = std::make_unique<pop3::ServerSession>(c, store_, users_);
  pop3::ServerSession* s = session.get();
  auto tracer = std::make_shared<ConnTracer>(ctx_.trace, spec_.name, conn, "pop3", false, ctx_.options.record_data);
  ChannelOptions co = mailbox_channel(c.tls_available, server_tls_, tracer);
  auto alive = std::make_shared<bool>(true);
  auto slot = std::make_shared<HostedSession*>(nullptr);
  auto drain = [this, s, tracer, alive, slot, conn] {
    while (auto ev = s->next_event()) {
      tracer->on_pop3(*ev);
      if (const auto* f = std::get_if<pop3::server_events::AuthFailed>(&*ev)) {
        resume_after(ctx_.engine, f->delay_ms, s, alive, slot, "pop3 auth delay");
      } else if (std::holds_alternative<pop3::server_events::MessagesDeleted>(*ev)) {
        const auto d = ctx_.device_of_conn.find(conn);
        record_mailbox(s->user(), "deleted", "", d == ctx_.device_of_conn.end() ? "" : d->second, conn);
      }
    }
  };
  HostedSession& h = ctx_.host_session(std::move(session), std::move(co), socket, drain, [alive] { *alive = false; });
  *slot = &h;
  h.start();
}

void MailServer::accept_imap(Socket socket, const ServiceSettings& settings) {
  const ConnId conn = socket.id();
  imap::ServerConfig c;
  c.hostname = spec_.name;
  c.tls_available = settings.tls != Toggle::kOff;
  c.allow_plaintext_login = settings.tls != Toggle::kRequired;
  c.now = [this] { return ctx_.clock.unix_seconds(); };
  auto session = std::make_unique<imap::ServerSession>(c, store_, users_);
  imap::ServerSession* s = session.get();
  auto tracer = std::make_shared<ConnTracer>(ctx_.trace, spec_.name, conn, "imap", false, ctx_.options.record_data);
  ChannelOptions co = mailbox_channel(c.tls_available, server_tls_, tracer);
  auto alive = std::make_shared<bool>(true);
  auto slot = std::make_shared<HostedSession*>(nullptr);
  auto drain = [this, s, tracer, alive, slot, conn] {
    while (auto ev = s->next_event()) {
      tracer->on_imap(*ev);
      if (const auto* f = std::get_if<imap::server_events::AuthFailed>(&*ev)) {
        resume_after(ctx_.engine, f->delay_ms, s, alive, slot, "imap auth delay");
      } else if (const auto* fl = std::get_if<imap::server_events::FlagsChanged>(&*ev)) {
        if (fl->flags.find("\\Seen") == std::string::npos) continue;
        std::string message_id;
        try {
          message_id = mta::header_value(store_.fetch(s->user(), fl->folder, fl->uid), "Message-ID");
        } catch (const std::exception&) {
        }
        const auto d = ctx_.device_of_conn.find(conn);
        record_mailbox(s->user(), "seen", message_id, d == ctx_.device_of_conn.end() ? "" : d->second, conn);
      }
    }
  };
  HostedSession& h = ctx_.host_session(std::move(session), std::move(co), socket, drain, [alive] { *alive = false; });
  *slot = &h;
  h.start();
}

}  // namespace mailsim::sim::roles
