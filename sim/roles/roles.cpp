// Building the roles of a scenario (see roles.h).
#include "sim/roles/roles.h"

#include "sim/roles/eavesdropper.h"
#include "sim/roles/mail_server.h"
#include "sim/roles/spammer.h"
#include "sim/roles/user_agent.h"

namespace mailsim::sim::roles {

Roles::Roles(World& world, RoleOptions options) : ctx_(std::make_unique<RunContext>(world, options)) {
  const Scenario& scenario = world.scenario();
  for (const auto& h : scenario.hosts) {
    const HostId id = world.host_id(h.name);
    switch (h.role) {
      case HostRole::kMta:
      case HostRole::kRelay:
        servers_.push_back(std::make_unique<MailServer>(*ctx_, id, h));
        ctx_->servers[h.name] = servers_.back().get();
        break;
      case HostRole::kClient: clients_[h.name] = std::make_unique<UserAgent>(*ctx_, id, h); break;
      case HostRole::kSpammer: spammers_[h.name] = std::make_unique<Spammer>(*ctx_, id, h); break;
      case HostRole::kEavesdropper: eavesdroppers_.push_back(std::make_unique<Eavesdropper>(*ctx_, h)); break;
      case HostRole::kDns:
      case HostRole::kRouter: break;  // the DNS server answers inside sim/dns; routers only forward
    }
  }
  if (!eavesdroppers_.empty()) {
    std::weak_ptr<bool> alive = alive_;
    world.trace().subscribe([this, alive](const TraceEvent& e) {
      if (alive.expired() || e.kind != EventKind::kPacket) return;
      for (auto& eve : eavesdroppers_) eve->on_event(e);
    });
  }
  world.on_action("send", [this](const TimelineItem& item) { send(item); });
  world.on_action("fetch", [this](const TimelineItem& item) { fetch(item); });
  world.on_action("spam", [this](const TimelineItem& item) { spam(item); });
}

Roles::~Roles() {
  alive_.reset();
  // Sessions first (they point into the servers' stores), then the servers,
  // then the context they all use.
  eavesdroppers_.clear();
  spammers_.clear();
  clients_.clear();
  ctx_->close_sessions();  // POP3/IMAP sessions read the servers' stores
  ctx_->servers.clear();
  servers_.clear();
  ctx_.reset();
}

MailServer* Roles::server(std::string_view name) const { return ctx_->server_named(name); }

UserAgent* Roles::client(std::string_view name) const {
  const auto it = clients_.find(name);
  return it == clients_.end() ? nullptr : it->second.get();
}

void Roles::send(const TimelineItem& item) {
  const auto& a = std::get<SendAction>(item.action);
  UserAgent* sender = nullptr;
  if (!a.via.empty()) {
    sender = client(a.via);
  } else {
    for (const auto& [name, c] : clients_)
      if (c->spec().user == a.from) sender = c.get();
  }
  if (sender == nullptr) {
    ctx_->note("", "nobody can write the letter of " + item.pointer + ": no client sends as " + a.from);
    return;
  }
  sender->send(a);
}

void Roles::fetch(const TimelineItem& item) {
  const auto& a = std::get<FetchAction>(item.action);
  if (UserAgent* c = client(a.host)) c->fetch(a);
}

void Roles::spam(const TimelineItem& item) {
  const auto& a = std::get<SpamAction>(item.action);
  const auto it = spammers_.find(a.from);
  if (it != spammers_.end()) it->second->spam(a);
}

}  // namespace mailsim::sim::roles
