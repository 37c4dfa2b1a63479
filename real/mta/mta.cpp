// The MTA core: queue, scheduler, delivery passes, bounces (RFC 5321 §4.5.4
// retry strategy, §5.1 MX, §6 problem detection; RFC 3464 DSN).
#include "real/mta/mta.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <arpa/inet.h>

#include "real/mta/address.h"
#include "real/mta/dsn.h"
#include "real/mta/headers.h"
#include "real/mta/policy.h"

namespace mailsim::mta {

// ---- internal records -------------------------------------------------------

struct Mta::Entry {
  QueueEntry q;
  std::optional<TimerId> retry_timer;
  int jobs_outstanding = 0;  // jobs of the current pass still running
  bool in_pass = false;
};

// One delivery job: the recipients of one message that share a domain.
struct Mta::Job {
  QueueId id;
  std::string domain;
  struct Recipient {
    std::size_t index = 0;  // into the entry's recipients
    bool final = false;     // delivered or bounced in this job
    Reply soft;             // last temporary reply (code 0: none yet)
    std::string soft_host;
  };
  std::vector<Recipient> rcpts;  // one vector: a pass starts a job per domain
  Route route;
  std::size_t hop = 0;
  std::string dest_key;
  Reply last_failure;              // last failure not tied to a recipient (connect, greeting)
  std::string last_failure_host;  // "host [address]" for the text
  std::string last_failure_mta;   // host name, when a server said it (Remote-MTA)
};

struct Mta::Destination {
  std::deque<std::shared_ptr<Job>> waiting;
  int active = 0;
};

struct Mta::IdleConnection {
  std::unique_ptr<Connection> conn;
  std::string host;
  std::string address;
  int uses = 0;
  TimerId timer = 0;
};

template <class F>
auto Mta::guarded(F f) {
  return [alive = std::weak_ptr<int>(alive_), f = std::move(f)](auto&&... args) mutable {
    if (alive.expired()) return;
    f(std::forward<decltype(args)>(args)...);
  };
}

// ---- helpers ----------------------------------------------------------------

std::string ClientInfo::describe() const {
  const std::string_view name_part = !helo.empty() ? helo : !name.empty() ? name : std::string_view("unknown");
  std::string out;
  out.reserve(name_part.size() + address.size() + 3);
  out += name_part;
  if (!address.empty()) {
    out += " [";
    out += address;
    out += ']';
  }
  return out;
}

Duration backoff_delay(const MtaConfig& config, int failed_passes) {
  Duration d = config.minimal_backoff_time;
  for (int i = 1; i < failed_passes && d < config.maximal_backoff_time; ++i) d *= 2;
  return std::min(d, config.maximal_backoff_time);
}

namespace {

bool is_ip_literal(const std::string& host) {
  unsigned char buf[16];
  return ::inet_pton(AF_INET, host.c_str(), buf) == 1 || ::inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

std::string host_key(const std::string& host, std::uint16_t port) {
  char digits[8];
  const auto written = std::to_chars(digits, digits + sizeof digits, port).ptr;
  std::string key = normalize_domain(host);
  key += ':';
  key.append(digits, written);
  return key;
}

std::string where_remote(const std::string& host, const std::string& address) {
  return address.empty() || address == host ? host : host + " [" + address + "]";
}

}  // namespace

// ---- construction -------------------------------------------------------------

Mta::Mta(MtaConfig config, MtaServices services)
    : config_(std::move(config)),
      clock_(services.clock),
      resolver_(services.resolver),
      spool_(services.spool),
      transport_(services.transport),
      local_(services.local),
      events_(std::move(services.events)),
      interest_(std::move(services.interest)),
      router_(config_, resolver_),
      policy_(config_, local_) {}

Mta::~Mta() {
  alive_.reset();  // pending callbacks become no-ops
  for (auto& [id, e] : entries_)
    if (e.retry_timer) clock_.cancel(*e.retry_timer);
  for (auto& [key, idle] : idle_) {
    clock_.cancel(idle->timer);
    idle->conn->quit();
  }
  idle_.clear();
  for (auto& [ptr, conn] : busy_) conn->quit();
  busy_.clear();
}

void Mta::start() {
  auto now = clock_.now();
  for (auto& q : spool_.load_all()) {
    if (entries_.count(q.id)) continue;
    auto id = q.id;
    Entry& ref = entries_[id];
    ref.q = std::move(q);
    recover_entry(ref.q, now);
    if (ref.q.all_done()) {
      // The last pass finished but the removal did not reach the disk.
      finish_pass(id);
      continue;
    }
    save(ref);
    schedule_retry(ref, std::max(ref.q.next_attempt, now));
  }
}

// ---- events and state ---------------------------------------------------------

void Mta::emit(EventPayload payload) {
  if (events_) events_(MtaEvent{clock_.now(), config_.hostname, std::move(payload)});
}

Mta::Entry* Mta::entry(const QueueId& id) {
  auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : &it->second;
}

const QueueEntry* Mta::find(const QueueId& id) const {
  auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : &it->second.q;
}

std::vector<QueueEntry> Mta::queue() const {
  std::vector<QueueEntry> out;
  for (const auto& [id, e] : entries_) out.push_back(e.q);
  return out;
}

void Mta::set_state(Entry& e, QueueState to) {
  if (e.q.state == to) return;
  auto from = e.q.state;
  e.q.state = to;
  emit(event::StateChanged{e.q.id, from, to});
}

void Mta::set_recipient(Entry& e, std::size_t index, RecipientState state, const Reply& reply,
                        const std::string& remote, const std::string& where) {
  auto& r = e.q.recipients[index];
  r.state = state;
  r.status = reply.status();
  // A refusal repeats for every letter to the same place; an acceptance
  // names its own queue id, so sharing would only churn the table.
  r.diagnostic = reply.code >= 400 ? shared_text(reply.to_string()) : SharedText(reply.to_string());
  r.remote_mta = remote;
  emit_lazy<event::RecipientUpdated>(
      [&] { return event::RecipientUpdated{e.q.id, r.address, state, r.status, r.diagnostic}; });
  if (state == RecipientState::delivered)
    emit_lazy<event::Delivered>([&] { return event::Delivered{e.q.id, r.address, where, r.diagnostic}; });
  else if (state == RecipientState::bounced)
    emit_lazy<event::Bounced>([&] { return event::Bounced{e.q.id, r.address, r.status, r.diagnostic}; });
}

void Mta::save_job_results(const Entry& e) {
  // The pass's last job, every recipient done: finish_pass() removes the
  // entry next, and its removal record says all of this.
  if (e.jobs_outstanding == 1 && e.q.all_done()) return;
  save(e);
}

void Mta::save(const Entry& e) {
  // The callback only reports: a failed status write means a restart may
  // retry a recipient once more, which SMTP tolerates (duplicates, not loss).
  spool_.update(e.q, [](bool) {});
}

QueueId Mta::next_id(TimePoint now) const {
  // Seconds, then a counter: sortable, unique within a second for 65536 ids.
  const auto secs = static_cast<std::uint32_t>(now / kSecond);
  const auto count = static_cast<std::uint32_t>(id_counter_++ & 0xFFFF);
  // "{:08X}{:04X}" written by hand: a letter takes an id at every hop, and
  // fmt::format took about 1,100 instructions for it.
  QueueId id(12, '0');
  auto hex = [&id](std::uint32_t v, std::size_t end, std::size_t digits) {
    for (std::size_t i = 1; i <= digits; ++i, v >>= 4) id[end - i] = "0123456789ABCDEF"[v & 0xF];
  };
  hex(secs, 8, 8);
  hex(count, 12, 4);
  return id;
}

QueueId Mta::new_id() {
  for (;;) {
    auto id = next_id(clock_.now());
    if (!entries_.count(id)) return id;
  }
}

void Mta::schedule_retry(Entry& e, TimePoint at) {
  if (e.retry_timer) clock_.cancel(*e.retry_timer);
  e.q.next_attempt = at;
  auto id = e.q.id;
  e.retry_timer = clock_.schedule(at - clock_.now(), guarded([this, id] {
                                    if (auto* en = entry(id)) en->retry_timer.reset();
                                    activate(id);
                                  }));
}

// ---- SMTP server decisions --------------------------------------------------------

Reply Mta::check_sender(const ClientInfo&, const std::string& sender) const {
  return InboundPolicy::check_sender(sender);  // pure: real/net asks it on the io thread too
}

void Mta::check_recipient(const ClientInfo& client, const std::string& recipient,
                          std::function<void(Reply)> done) {
  using Kind = InboundPolicy::RecipientKind;
  const auto check = policy_.classify_recipient(client.authenticated(), client.address, recipient);
  switch (check.kind) {
    case Kind::bad_address:
      return done(reply_bad_address(recipient));
    case Kind::relay_denied:
      emit(event::RelayDenied{client.describe(), recipient});
      return done(relay_reply(check.verdict, recipient));
    case Kind::unknown_local_user: {
      auto r = reply_unknown_user(recipient);
      emit(event::RecipientRejected{client.describe(), recipient, r.to_string()});
      return done(r);
    }
    case Kind::verify_first:
      return verify_recipient(recipient, [this, client, recipient, done = std::move(done)](Reply r) {
        if (!r.positive()) emit(event::RecipientRejected{client.describe(), recipient, r.to_string()});
        done(r);
      });
    case Kind::local_mailbox:
    case Kind::relay_ok:
      break;
  }
  done(reply_recipient_ok());
}

void Mta::receive(const ClientInfo& client, std::string sender, std::vector<std::string> recipients,
                  std::string message, std::function<void(Reply)> done) {
  if (auto refused = refuse_received(recipients, message)) return done(*refused);

  QueueEntry q = received_entry(client, shared_text(client.describe()), new_id(), std::move(sender),
                                std::move(recipients), std::move(message), clock_.now());

  auto id = q.id;
  entries_[id] = Entry{};
  entries_[id].q = std::move(q);
  spool_.put(entries_[id].q, guarded([this, id, done = std::move(done)](bool ok) {
               Entry* en = entry(id);
               if (!en) return;
               if (!ok) {
                 entries_.erase(id);
                 return done(make_reply(451, "4.3.0", "Error: queue file write error, try again later"));
               }
               done(received_reply(id));
               // The queue manager picks it up on the next turn of the loop,
               // after the reply has gone out.
               if ((en = entry(id))) announce_received(*en);
             }));
}

SharedText Mta::shared_text(std::string text) {
  const std::size_t hash = std::hash<std::string>{}(text);
  const std::size_t set = hash % (texts_.size() / 2) * 2;
  KeptText& newer = texts_[set];
  KeptText& older = texts_[set + 1];
  if (newer.hash == hash && newer.text.str() == text) return newer.text;
  std::swap(newer, older);
  if (newer.hash != hash || newer.text.str() != text) newer = KeptText{SharedText(std::move(text)), hash};
  return newer.text;
}

QueueEntry Mta::received_entry(const ClientInfo& client, SharedText described, QueueId id, std::string sender,
                              std::vector<std::string> recipients, std::string message, TimePoint now) const {
  QueueEntry q;
  q.id = std::move(id);
  q.sender = std::move(sender);
  for (auto& r : recipients) q.recipients.push_back(pending_recipient(std::move(r)));
  q.client = std::move(described);
  q.arrival = now;
  q.next_attempt = q.arrival;
  q.state = QueueState::incoming;

  ReceivedInfo ri;
  ri.helo = client.helo;
  ri.client_name = client.name;
  ri.client_address = client.address;
  ri.by = config_.hostname;
  ri.with = client.protocol;
  ri.id = q.id;
  if (q.recipients.size() == 1) ri.for_recipient = q.recipients[0].address;
  ri.tls = client.tls;
  ri.when = q.arrival;
  q.message = received_field(ri, message);
  return q;
}

Reply Mta::received_reply(const QueueId& id) { return make_reply(250, "2.0.0", "Ok: queued as " + id); }

std::variant<QueueEntry, Reply> Mta::prepare_received(const ClientInfo& client, const std::string& sender,
                                                      const std::vector<std::string>& recipients,
                                                      std::string message, TimePoint now,
                                                      const std::function<bool(const QueueId&)>& taken) const {
  if (auto refused = refuse_received(recipients, message)) return *refused;
  // new_id() from the same counter (entries_ belongs to the MTA thread: the
  // caller's `taken` and the spool stand in for its check).
  std::string id;
  for (int tries = 0; tries <= 0xFFFF; ++tries) {
    id = next_id(now);
    if (!taken || !taken(id)) break;
  }
  return received_entry(client, client.describe(), std::move(id), sender, recipients, std::move(message), now);
}

void Mta::adopt_received(QueueEntry q) {
  // What receive() does once its put succeeded.
  auto id = q.id;
  if (entries_.count(id)) return;  // cannot happen: the spool refused a queued id
  Entry& en = entries_[id];
  en.q = std::move(q);
  announce_received(en);
}

std::optional<Reply> Mta::refuse_received(const std::vector<std::string>& recipients,
                                          const std::string& message) const {
  if (message.size() > config_.message_size_limit) return make_reply(552, "5.3.4", "Message size exceeds fixed limit");
  if (recipients.empty()) return make_reply(554, "5.5.1", "Error: no valid recipients");
  return std::nullopt;
}

void Mta::announce_received(Entry& en) {
  emit_lazy<event::Received>([&] {
    std::vector<std::string> rcpts;
    rcpts.reserve(en.q.recipients.size());
    for (const auto& r : en.q.recipients) rcpts.push_back(r.address);
    return event::Received{en.q.id, en.q.sender, std::move(rcpts), en.q.client, en.q.message.size()};
  });
  schedule_retry(en, clock_.now());
}

// Queues a message we wrote ourselves (a DSN).
void Mta::enqueue_local(QueueEntry q) {
  auto id = q.id;
  entries_[id] = Entry{};
  entries_[id].q = std::move(q);
  spool_.put(entries_[id].q, guarded([this, id](bool ok) {
               Entry* en = entry(id);
               if (!en) return;
               if (!ok) {
                 // Nothing to tell anyone: a lost DSN only costs a notice.
                 emit(event::Deferred{id, "could not write the notification to the queue"});
                 entries_.erase(id);
                 return;
               }
               std::vector<std::string> rcpts;
               for (const auto& r : en->q.recipients) rcpts.push_back(r.address);
               emit(event::Received{id, en->q.sender, rcpts, "local (" + config_.hostname + ")",
                                    en->q.message.size()});
               schedule_retry(*en, clock_.now());
             }));
}

// ---- delivery passes ------------------------------------------------------------

void Mta::flush_queue() {
  std::vector<QueueId> ids;
  for (const auto& [id, e] : entries_)
    if (!e.in_pass && e.q.state == QueueState::deferred) ids.push_back(id);
  for (const auto& id : ids)
    if (auto* e = entry(id)) schedule_retry(*e, clock_.now());
}

void Mta::activate(const QueueId& id) {
  Entry* e = entry(id);
  if (!e || e->in_pass) return;
  e->in_pass = true;
  const bool first_pass = e->q.attempts == 0;
  e->q.attempts++;
  set_state(*e, QueueState::active);
  // Not written now: every pass ends in finish_pass(), which writes the
  // entry (attempts included) or removes it. A crash before then finds the
  // entry as it was, ready at once, as recover_entry() would make an
  // active one (Postfix's queue manager, likewise, does not touch the queue
  // file when a delivery starts).

  if (first_pass) {
    int hops = count_received(e->q.message);
    if (hops > config_.max_received_headers) {
      auto why = fmt::format("too many hops: {} Received: headers (the limit is {})", hops,
                             config_.max_received_headers);
      emit(event::LoopDetected{id, why});
      auto reply = make_reply(554, "5.4.6", "Hop count exceeded - possible mail loop: " + why);
      for (std::size_t i = 0; i < e->q.recipients.size(); ++i)
        if (!e->q.recipients[i].done()) set_recipient(*e, i, RecipientState::bounced, reply, "", "");
      return finish_pass(id);
    }
  }

  // One job per recipient domain, in order of first appearance.
  std::vector<std::shared_ptr<Job>> jobs;
  for (std::size_t i = 0; i < e->q.recipients.size(); ++i) {
    const auto& r = e->q.recipients[i];
    if (r.done()) continue;
    auto domain = domain_of(r.address);
    auto it = std::find_if(jobs.begin(), jobs.end(), [&](const auto& j) { return j->domain == domain; });
    if (it == jobs.end()) {
      auto j = std::make_shared<Job>();
      j->id = id;
      j->domain = domain;
      jobs.push_back(j);
      it = jobs.end() - 1;
    }
    (*it)->rcpts.emplace_back().index = i;
  }
  // +1 holds the pass open while the jobs start (some finish at once).
  e->jobs_outstanding = static_cast<int>(jobs.size()) + 1;
  for (auto& j : jobs) start_job(j);
  job_done(id);
}

void Mta::job_done(const QueueId& id) {
  Entry* e = entry(id);
  if (!e) return;
  if (--e->jobs_outstanding > 0) return;
  finish_pass(id);
}

void Mta::finish_pass(const QueueId& id) {
  Entry* e = entry(id);
  if (!e) return;
  e->in_pass = false;
  auto& q = e->q;
  const auto now = clock_.now();

  // Past the queue lifetime, temporary failures become final (RFC 5321
  // §4.5.4.1: give up after 4-5 days).
  const Duration lifetime = q.sender.empty() ? config_.bounce_queue_lifetime : config_.maximal_queue_lifetime;
  if (!q.all_done() && now - q.arrival >= lifetime) {
    for (std::size_t i = 0; i < q.recipients.size(); ++i) {
      auto& r = q.recipients[i];
      if (r.done()) continue;
      std::string last = r.diagnostic.empty() ? std::string("no delivery attempt succeeded") : r.diagnostic.str();
      auto remote = r.remote_mta;
      r.state = RecipientState::bounced;
      r.status = "4.4.7";
      // Keep the last reply as the diagnostic: it is what the student needs
      // to see ("why did it never get through?").
      r.diagnostic = last;
      r.remote_mta = remote;
      emit(event::RecipientUpdated{q.id, r.address, r.state, r.status,
                                   "message expired in the queue; last error: " + last});
      emit(event::Bounced{q.id, r.address, r.status, "message expired in the queue; last error: " + last});
    }
  }

  // Report new permanent failures now, even when other recipients wait.
  std::vector<std::size_t> failed;
  for (std::size_t i = 0; i < q.recipients.size(); ++i)
    if (q.recipients[i].state == RecipientState::bounced && !q.recipients[i].reported) failed.push_back(i);
  if (!failed.empty()) send_dsn(*e, DsnKind::failure, failed);

  if (q.all_done()) {
    set_state(*e, q.any_bounced() ? QueueState::bounced : QueueState::delivered);
    if (e->retry_timer) clock_.cancel(*e->retry_timer);
    spool_.remove(id, [](bool) {});
    emit(event::Removed{id});
    entries_.erase(id);
    return;
  }

  // Delay warning (RFC 3464 Action: delayed), once per recipient.
  if (config_.delay_warning_time > 0 && !q.sender.empty() && now - q.arrival >= config_.delay_warning_time) {
    std::vector<std::size_t> late;
    for (std::size_t i = 0; i < q.recipients.size(); ++i)
      if (!q.recipients[i].done() && !q.recipients[i].delay_reported) late.push_back(i);
    if (!late.empty()) send_dsn(*e, DsnKind::delay, late);
  }

  set_state(*e, QueueState::deferred);
  emit_lazy<event::Deferred>([&] { return event::Deferred{id, q.last_reason}; });
  auto at = now + backoff_delay(config_, q.attempts);
  schedule_retry(*e, at);
  emit_lazy<event::RetryScheduled>([&] { return event::RetryScheduled{id, at, q.attempts + 1}; });
  save(*e);
}

void Mta::send_dsn(Entry& e, DsnKind kind, const std::vector<std::size_t>& which) {
  auto& q = e.q;
  if (q.sender.empty()) {
    // Never bounce a bounce (RFC 5321 §6.1, RFC 3464 §4): drop and log.
    std::vector<std::string> rcpts;
    for (auto i : which) {
      (kind == DsnKind::failure ? q.recipients[i].reported : q.recipients[i].delay_reported) = true;
      rcpts.push_back(q.recipients[i].address);
    }
    if (kind == DsnKind::failure) emit(event::BounceDropped{q.id, rcpts});
    return;
  }
  DsnRequest req;
  req.kind = kind;
  req.reporting_mta = config_.hostname;
  req.original_id = q.id;
  req.dsn_id = new_id();
  req.original_sender = q.sender;
  req.original_client = q.client;
  req.arrival = q.arrival;
  req.now = clock_.now();
  req.retry_until = q.arrival + config_.maximal_queue_lifetime;
  req.original_message = q.message;
  for (auto i : which) {
    req.recipients.push_back(q.recipients[i]);
    (kind == DsnKind::failure ? q.recipients[i].reported : q.recipients[i].delay_reported) = true;
  }
  save(e);

  QueueEntry dsn;
  dsn.id = req.dsn_id;
  dsn.sender = "";
  dsn.recipients.push_back(pending_recipient(q.sender));
  dsn.client = "";
  dsn.arrival = req.now;
  dsn.next_attempt = req.now;
  dsn.state = QueueState::incoming;
  dsn.message = build_dsn(req);
  emit(event::DsnGenerated{q.id, dsn.id, kind == DsnKind::failure ? "failed" : "delayed", q.sender});
  enqueue_local(std::move(dsn));
}

// ---- jobs -------------------------------------------------------------------------

void Mta::start_job(std::shared_ptr<Job> job) {
  auto domain = job->domain;
  router_.route(domain, guarded([this, job](Route route) { on_route(job, std::move(route)); }));
}

void Mta::on_route(std::shared_ptr<Job> job, Route route) {
  Entry* e = entry(job->id);
  if (!e) return;
  emit_lazy<event::RouteChosen>([&] {
    std::vector<std::string> hosts;
    for (const auto& h : route.hops) hosts.push_back(h.host);
    if (route.kind == Route::Kind::local) hosts = {"local"};
    return event::RouteChosen{job->id, job->domain, std::move(hosts), route.note};
  });

  switch (route.kind) {
    case Route::Kind::local:
      return deliver_local(job);
    case Route::Kind::bounce:
      if (route.loop) emit(event::LoopDetected{job->id, route.failure.text});
      for (const auto& r : job->rcpts) set_recipient(*e, r.index, RecipientState::bounced, route.failure, "", "");
      save_job_results(*e);
      return job_done(job->id);
    case Route::Kind::defer:
      e->q.last_reason = shared_text(route.failure.to_string());
      for (const auto& r : job->rcpts) set_recipient(*e, r.index, RecipientState::deferred, route.failure, "", "");
      save_job_results(*e);
      return job_done(job->id);
    case Route::Kind::remote:
      break;
  }
  job->route = std::move(route);
  const auto& first = job->route.hops.front();
  job->dest_key = first.smart_host ? "[" + first.host + "]" : job->domain;
  destinations_[job->dest_key].waiting.push_back(job);
  pump(job->dest_key);
}

void Mta::deliver_local(std::shared_ptr<Job> job) {
  Entry* e = entry(job->id);
  if (!e) return;
  // Each recipient is its own delivery; the job ends when all have answered.
  auto remaining = std::make_shared<std::size_t>(job->rcpts.size());
  for (const auto& job_rcpt : job->rcpts) {
    const std::size_t index = job_rcpt.index;
    auto rcpt = e->q.recipients[index].address;
    auto addr = parse_mailbox(rcpt);
    auto finished = [this, job, remaining] {
      if (--*remaining == 0) {
        if (Entry* en = entry(job->id)) save_job_results(*en);
        job_done(job->id);
      }
    };
    if (!local_ || !addr || !local_->has_mailbox(addr->local, addr->domain)) {
      auto reply = make_reply(550, "5.1.1", "<" + rcpt + ">: Recipient address rejected: User unknown in local recipient table");
      emit_lazy<event::DeliveryAttempt>([&] { return event::DeliveryAttempt{job->id, "local", "", reply.to_string()}; });
      set_recipient(*e, index, RecipientState::bounced, reply, "", "");
      finished();
      e = entry(job->id);
      if (!e) return;
      continue;
    }
    auto bytes = with_delivery_fields(e->q.message, e->q.sender, rcpt);
    local_->deliver(rcpt, bytes, guarded([this, job, index, rcpt, finished](LocalDeliveryResult r) {
                      Entry* en = entry(job->id);
                      if (!en) return;
                      Reply reply;
                      RecipientState state;
                      switch (r.kind) {
                        case LocalDeliveryResult::Kind::delivered:
                          reply = make_reply(250, "2.0.0", "delivered to mailbox");
                          state = RecipientState::delivered;
                          break;
                        case LocalDeliveryResult::Kind::temporary_failure:
                          reply = make_reply(451, "4.3.0", "mailbox unavailable: " + r.detail);
                          state = RecipientState::deferred;
                          en->q.last_reason = shared_text(reply.to_string());
                          break;
                        default:
                          reply = make_reply(550, "5.2.0", "mailbox refused the message: " + r.detail);
                          state = RecipientState::bounced;
                          break;
                      }
                      emit_lazy<event::DeliveryAttempt>(
                          [&] { return event::DeliveryAttempt{job->id, "local", "", reply.to_string()}; });
                      set_recipient(*en, index, state, reply, "", "mailbox of " + rcpt);
                      finished();
                    }));
    e = entry(job->id);
    if (!e) return;
  }
}

void Mta::pump(const std::string& dest_key) {
  auto it = destinations_.find(dest_key);
  if (it == destinations_.end()) return;
  while (it->second.active < config_.destination_concurrency_limit && !it->second.waiting.empty()) {
    auto job = it->second.waiting.front();
    it->second.waiting.pop_front();
    it->second.active++;
    try_hop(job);
    it = destinations_.find(dest_key);  // try_hop may finish jobs and erase
    if (it == destinations_.end()) return;
  }
}

OpenRequest Mta::open_request(const NextHop& hop, const std::string& address) const {
  OpenRequest req;
  req.host = hop.host;
  req.address = address;
  req.port = hop.port;
  req.helo_name = config_.hostname;
  req.tls = config_.outbound_tls;
  if (hop.smart_host && config_.relay_host) {
    req.tls = config_.relay_host->tls;
    req.auth_user = config_.relay_host->auth_user;
    req.auth_password = config_.relay_host->auth_password;
  }
  return req;
}

void Mta::try_hop(std::shared_ptr<Job> job) {
  if (!entry(job->id)) return;
  if (job->hop >= job->route.hops.size()) return finish_remote_job(job);
  // The job's route stays as it is while the job lives; the callbacks below
  // read the hop there again rather than keep a copy.
  const NextHop& hop = job->route.hops[job->hop];

  // A connection left open by an earlier message to the same host.
  auto key = host_key(hop.host, hop.port);
  for (auto idle = idle_.find(key); idle != idle_.end(); idle = idle_.find(key)) {
    auto rec = std::move(idle->second);
    idle_.erase(idle);
    clock_.cancel(rec->timer);
    if (!rec->conn->usable()) {  // the server hung up while it sat in the cache
      rec->conn->quit();
      continue;
    }
    emit_lazy<event::ConnectionReused>(
        [&] { return event::ConnectionReused{job->id, rec->host, rec->address, rec->uses + 1}; });
    return send_on(job, std::move(rec->conn), rec->address, rec->uses);
  }

  if (is_ip_literal(hop.host)) return try_address(job, {hop.host}, 0);

  resolver_.resolve_a(hop.host, guarded([this, job](AddressAnswer answer) {
                        Entry* e = entry(job->id);
                        if (!e) return;
                        const NextHop& hop = job->route.hops[job->hop];
                        if (answer.status != DnsStatus::ok || answer.addresses.empty()) {
                          bool gone = answer.status == DnsStatus::nxdomain || answer.status == DnsStatus::no_data;
                          if (hop.implicit && gone) {
                            // No MX and no address: the domain has no mail host.
                            auto reply = make_reply(550, "5.4.4",
                                                    "Host or domain name not found: " + hop.host +
                                                        " has no MX and no address record");
                            bounce_open_recipients(*e, *job, reply);
                            return finish_remote_job(job);
                          }
                          job->last_failure = make_reply(
                              451, "4.4.3",
                              "Host or domain name not found. Name service error for name=" + hop.host +
                                  (gone ? " type=A: Host not found" : " type=A: Host not found, try again"));
                          job->last_failure_host = "";
                          job->last_failure_mta = "";
                          emit_lazy<event::DeliveryAttempt>([&] {
                            return event::DeliveryAttempt{job->id, hop.host, "", job->last_failure.to_string()};
                          });
                          job->hop++;
                          return try_hop(job);
                        }
                        // An MX host whose address is ours is ourselves under
                        // another name: the rest of the list is no better.
                        for (const auto& a : answer.addresses) {
                          if (std::find(config_.own_addresses.begin(), config_.own_addresses.end(), a) !=
                              config_.own_addresses.end()) {
                            auto why = "mail for " + job->domain + " loops back to myself (" + hop.host +
                                       " [" + a + "] is this server)";
                            if (job->hop == 0) {
                              emit(event::LoopDetected{job->id, why});
                              auto reply = make_reply(554, "5.4.6", why);
                              bounce_open_recipients(*e, *job, reply);
                            }
                            job->hop = job->route.hops.size();
                            return finish_remote_job(job);
                          }
                        }
                        try_address(job, std::move(answer.addresses), 0);
                      }));
}

void Mta::try_address(std::shared_ptr<Job> job, std::vector<std::string> addresses, std::size_t index) {
  if (!entry(job->id)) return;
  if (index >= addresses.size()) {
    job->hop++;
    return try_hop(job);
  }
  const NextHop& hop = job->route.hops[job->hop];
  OpenRequest request = open_request(hop, addresses[index]);
  transport_.open(request,
                  guarded([this, job, addresses = std::move(addresses), index](OpenResult r) mutable {
                    if (!entry(job->id)) return;
                    const NextHop& hop = job->route.hops[job->hop];
                    const std::string& address = addresses[index];
                    if (!r.connection) {
                      job->last_failure = r.failure;
                      job->last_failure_host = where_remote(hop.host, address);
                      // A reply the server itself gave (greeting, EHLO, AUTH)
                      // rather than a connection failure we describe.
                      job->last_failure_mta = r.failure.code == 421 && r.failure.enhanced == "4.4.1" ? "" : hop.host;
                      emit_lazy<event::DeliveryAttempt>(
                          [&] { return event::DeliveryAttempt{job->id, hop.host, address, r.failure.to_string()}; });
                      // Refused by the server itself (5xx greeting) or not
                      // reachable: either way the next address / MX may help.
                      return try_address(job, std::move(addresses), index + 1);
                    }
                    send_on(job, std::move(r.connection), address, 0);
                  }));
}

void Mta::send_on(std::shared_ptr<Job> job, std::unique_ptr<Connection> conn, std::string address, int uses) {
  Entry* e = entry(job->id);
  if (!e) {
    conn->quit();
    return;
  }
  DeliveryJob dj;
  dj.sender = e->q.sender;
  dj.message = &e->q.message.str();
  std::vector<std::size_t> sent;  // positions in job->rcpts
  for (std::size_t k = 0; k < job->rcpts.size(); ++k) {
    if (job->rcpts[k].final) continue;
    sent.push_back(k);
    dj.recipients.push_back(e->q.recipients[job->rcpts[k].index].address);
  }
  Connection* raw = conn.get();
  busy_[raw] = std::move(conn);
  raw->send(dj, guarded([this, job, address = std::move(address), uses, sent = std::move(sent), raw](JobResult result) {
              auto owned = std::move(busy_[raw]);
              busy_.erase(raw);
              Entry* en = entry(job->id);
              if (!en) {
                if (owned) owned->quit();
                return;
              }
              const NextHop& hop = job->route.hops[job->hop];  // the job's route stays put while it lives
              const auto where = where_remote(hop.host, address);
              std::string summary;  // for the attempt's event, when it is wanted
              const bool summarise = wants_full<event::DeliveryAttempt>();
              for (std::size_t n = 0; n < sent.size(); ++n) {
                Job::Recipient& r = job->rcpts[sent[n]];
                Reply reply = n < result.per_recipient.size()
                                  ? std::move(result.per_recipient[n])
                                  : make_reply(451, "4.4.2", "lost connection with " + where);
                if (summarise) {
                  if (!summary.empty()) summary += "; ";
                  summary += "<" + en->q.recipients[r.index].address + "> " + reply.to_string();
                }
                if (reply.positive()) {
                  r.final = true;
                  set_recipient(*en, r.index, RecipientState::delivered, reply, hop.host, where);
                } else if (reply.permanent()) {
                  r.final = true;
                  set_recipient(*en, r.index, RecipientState::bounced, reply, hop.host, where);
                } else {
                  r.soft = reply;
                  r.soft_host = hop.host;
                }
              }
              emit_lazy<event::DeliveryAttempt>([&] { return event::DeliveryAttempt{job->id, hop.host, address, summary}; });
              const bool left = std::any_of(job->rcpts.begin(), job->rcpts.end(), [](const auto& r) { return !r.final; });
              // Written before the next MX is tried; when the job ends here,
              // finish_remote_job() writes it (or the removal follows).
              if (left) save(*en);
              if (owned) {
                if (result.reusable && uses + 1 < config_.connection_reuse_limit)
                  park_connection(std::move(owned), hop.host, hop.port, address, uses + 1);
                else
                  owned->quit();
              }
              if (!left) return finish_remote_job(job);
              // Temporary failures: the next MX may take them (RFC 5321 §5.1).
              job->hop++;
              try_hop(job);
            }));
}

void Mta::park_connection(std::unique_ptr<Connection> conn, const std::string& host, std::uint16_t port,
                          std::string address, int uses) {
  auto key = host_key(host, port);
  auto rec = std::make_unique<IdleConnection>();
  IdleConnection* raw = rec.get();
  rec->conn = std::move(conn);
  rec->host = host;
  rec->address = std::move(address);
  rec->uses = uses;
  rec->timer = clock_.schedule(config_.connection_cache_time, guarded([this, key, raw] {
                                 auto range = idle_.equal_range(key);
                                 for (auto it = range.first; it != range.second; ++it) {
                                   if (it->second.get() == raw) {
                                     auto gone = std::move(it->second);
                                     idle_.erase(it);
                                     gone->conn->quit();
                                     return;
                                   }
                                 }
                               }));
  idle_.emplace(key, std::move(rec));
}

void Mta::bounce_open_recipients(Entry& e, Job& job, const Reply& reply) {
  for (auto& r : job.rcpts) {
    if (r.final) continue;
    r.final = true;
    set_recipient(e, r.index, RecipientState::bounced, reply, "", "");
  }
}

void Mta::finish_remote_job(std::shared_ptr<Job> job) {
  if (Entry* e = entry(job->id)) {
    for (const auto& r : job->rcpts) {
      if (r.final) continue;
      if (r.soft.code) {
        e->q.last_reason = shared_text(r.soft.to_string());
        set_recipient(*e, r.index, RecipientState::deferred, r.soft, r.soft_host, "");
        continue;
      }
      Reply reply = job->last_failure;
      if (!reply.code) reply = make_reply(451, "4.4.1", "no mail host for " + job->domain + " could be reached");
      if (reply.permanent()) {
        // Every host refused to talk to us for good (5xx greeting, EHLO or
        // AUTH): the last one's answer is final, as in Postfix.
        set_recipient(*e, r.index, RecipientState::bounced, reply, job->last_failure_mta, job->last_failure_host);
        continue;
      }
      e->q.last_reason = shared_text(reply.to_string());
      set_recipient(*e, r.index, RecipientState::deferred, reply, job->last_failure_mta, "");
    }
    save_job_results(*e);
  }
  if (!job->dest_key.empty()) {
    auto it = destinations_.find(job->dest_key);
    if (it != destinations_.end()) {
      it->second.active--;
      if (it->second.active == 0 && it->second.waiting.empty())
        destinations_.erase(it);
      else
        pump(job->dest_key);
    }
  }
  job_done(job->id);
}

// ---- recipient verification ----------------------------------------------------

void Mta::verify_recipient(const std::string& recipient, std::function<void(Reply)> done) {
  const auto now = clock_.now();
  auto key = normalize_domain(recipient);  // lower-cases the whole address: good enough for a cache key
  auto cached = verify_cache_.find(key);
  if (cached != verify_cache_.end() && cached->second.expires > now)
    return done(cached->second.reply.positive() ? reply_recipient_ok()
                                                 : reply_unverified(recipient, cached->second.reply));

  auto domain = domain_of(recipient);
  struct Probe {
    std::string recipient;
    std::string key;
    Route route;
    std::size_t hop = 0;
    std::function<void(Reply)> done;
    Reply last;
  };
  auto probe = std::make_shared<Probe>(Probe{recipient, key, {}, 0, std::move(done), {}});

  auto answer = [this, alive = std::weak_ptr<int>(alive_), probe](Reply from_next_hop) {
    if (alive.expired()) return;
    // Only definite answers are remembered (Postfix's verify cache does the same).
    if (!from_next_hop.transient() && from_next_hop.code)
      verify_cache_[probe->key] = VerifyResult{from_next_hop, clock_.now() + config_.verify_cache_time};
    probe->done(from_next_hop.positive() ? reply_recipient_ok() : reply_unverified(probe->recipient, from_next_hop));
  };

  // Walk the hops; the first that opens answers the probe.
  auto step = std::make_shared<std::function<void()>>();
  *step = [this, probe, answer, step_weak = std::weak_ptr<std::function<void()>>(step)]() {
    auto step = step_weak.lock();
    if (probe->hop >= probe->route.hops.size()) return answer(probe->last.code ? probe->last
                                                                               : make_reply(451, "4.4.1", "no next hop reachable"));
    const NextHop hop = probe->route.hops[probe->hop++];
    auto open_at = [this, probe, answer, step, hop](std::string address) {
      transport_.open(open_request(hop, address), guarded([probe, answer, step](OpenResult r) {
                        if (!r.connection) {
                          probe->last = r.failure;
                          return (*step)();
                        }
                        auto conn = std::shared_ptr<Connection>(std::move(r.connection));
                        conn->probe(probe->recipient, [conn, answer](Reply reply) {
                          conn->quit();
                          answer(reply);
                        });
                      }));
    };
    if (is_ip_literal(hop.host)) return open_at(hop.host);
    resolver_.resolve_a(hop.host, guarded([probe, step, open_at](AddressAnswer a) {
                          if (a.status != DnsStatus::ok || a.addresses.empty()) {
                            probe->last = make_reply(451, "4.4.3", "cannot resolve next hop");
                            return (*step)();
                          }
                          open_at(a.addresses.front());
                        }));
  };
  router_.route(domain, guarded([probe, step, answer](Route route) {
                  if (route.kind != Route::Kind::remote) {
                    return answer(route.kind == Route::Kind::bounce ? route.failure
                                                                    : make_reply(451, "4.4.3", "no route to verify"));
                  }
                  probe->route = std::move(route);
                  (*step)();
                }));
}

}  // namespace mailsim::mta
