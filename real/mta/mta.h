// The mail transfer agent: the post office of one mail server. It accepts
// messages from SMTP sessions (after the relay policy says yes), keeps them
// in a durable queue, finds each recipient's next hop by MX, delivers over
// SMTP (reusing connections, at most N at a time per destination) or into
// local mailboxes, retries temporary failures with exponential backoff, and
// returns what cannot be delivered to the sender as a DSN.
//
//   receive() ──> spool.put (durable) ──> "250 2.0.0 Ok: queued as ID"
//        │
//        └─> active: one job per recipient domain
//               ├─ local domain ─> LocalDelivery (Return-Path:, Delivered-To:)
//               └─ Router (MX / relay host) ─> destination queue (concurrency
//                  limit) ─> Transport: MX 1, MX 2, ... (next on failure)
//        per recipient: 2xx delivered · 5xx bounced · 4xx deferred
//        end of pass: DSN for new failures; all done ─> removed;
//                     else deferred, retry at now + backoff (300 s, 600 s, ...)
//                     or, past the queue lifetime, bounced (4.4.7)
//
// Single-threaded and non-blocking: every call and callback must come from
// the host's one event thread. The Mta may be destroyed at any time; pending
// callbacks from the services then do nothing.
#pragma once

#include <array>
#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "real/mta/config.h"
#include "real/mta/dsn.h"
#include "real/mta/events.h"
#include "real/mta/policy.h"
#include "real/mta/queue_entry.h"
#include "real/mta/reply.h"
#include "real/mta/routing.h"
#include "real/mta/services.h"
#include "real/mta/spool.h"
#include "real/mta/transport.h"

namespace mailsim::mta {

// The services an Mta uses; all must outlive it.
struct MtaServices {
  Clock& clock;
  Resolver& resolver;
  Spool& spool;
  Transport& transport;             // usually an SmtpTransport over a Connector
  LocalDelivery* local = nullptr;   // needed when config.local_domains is not empty
  EventSink events;                 // may be empty
  EventInterest interest = {};      // which kinds `events` wants in full; empty: all
};

// What the SMTP server knows about the client of a session.
struct ClientInfo {
  std::string address;        // "192.0.2.7" (for trusted_networks and Received:)
  std::string name;           // reverse DNS name, "" if unknown
  std::string helo;           // EHLO/HELO argument
  std::string auth_user;      // "" unless SMTP AUTH succeeded
  std::string protocol = "ESMTP";  // RFC 3848 "with": SMTP, ESMTP, ESMTPS, ESMTPA, ESMTPSA
  std::string tls;            // "TLSv1.3 with cipher ...", "" without TLS

  bool authenticated() const { return !auth_user.empty(); }
  // "alice-pc [10.0.0.2]" for logs.
  std::string describe() const;
};

// Backoff before attempt `failed_passes` + 1: minimal_backoff_time doubled
// for every failed pass after the first, capped at maximal_backoff_time
// (300, 600, 1200, 2400, 4000, 4000, ... with the defaults).
Duration backoff_delay(const MtaConfig& config, int failed_passes);

class Mta {
 public:
  Mta(MtaConfig config, MtaServices services);
  ~Mta();
  Mta(const Mta&) = delete;
  Mta& operator=(const Mta&) = delete;

  // Loads the spool and schedules what it holds: messages that were being
  // received or delivered when the process stopped are retried at once,
  // deferred ones at their time. Call once, before anything else.
  void start();

  // ---- decisions for the SMTP server (see inbound.h for the glue) ---------

  // MAIL FROM: "250 2.1.0 Ok" for a well-formed path or <>.
  Reply check_sender(const ClientInfo& client, const std::string& sender) const;
  // RCPT TO: relay policy, then the local mailbox, then (optionally) a probe
  // of the next hop for relayed domains. `done` may run inside the call.
  void check_recipient(const ClientInfo& client, const std::string& recipient,
                       std::function<void(Reply)> done);
  // End of DATA: adds our Received: header, writes the message durably to the
  // spool, then answers "250 2.0.0 Ok: queued as <id>" (or 451 4.3.0 when the
  // spool failed, 552 5.3.4 when it is too big). Delivery starts right after.
  void receive(const ClientInfo& client, std::string sender, std::vector<std::string> recipients,
               std::string message, std::function<void(Reply)> done);

  // ---- receive() in three steps, for a host whose SMTP connections run on
  // other threads and write the spool themselves (real/net: no round trip
  // through this thread before the 250) -----------------------------------
  //   1. prepare_received()   any thread: receive()'s checks and its queue
  //                           entry (fresh id, our Received: header), or the
  //                           error reply;
  //   2. the host stores the entry durably in this Mta's spool (FileSpool::
  //      put_concurrent, which refuses an id that is queued already: then
  //      prepare again) and answers received_reply(id);
  //   3. adopt_received()     this thread: queues the stored entry as
  //                           receive() does once its put succeeded.
  // Thread-safe: reads only the configuration and an atomic id counter.
  // `taken` (may be empty) says an id is in use already (the spool's
  // contains()): another is taken then.
  std::variant<QueueEntry, Reply> prepare_received(const ClientInfo& client, const std::string& sender,
                                                   const std::vector<std::string>& recipients,
                                                   std::string message, TimePoint now,
                                                   const std::function<bool(const QueueId&)>& taken = {}) const;
  // "250 2.0.0 Ok: queued as <id>".
  static Reply received_reply(const QueueId& id);
  void adopt_received(QueueEntry entry);

  // ---- operator actions and inspection ------------------------------------

  // Retries every deferred message now (Postfix "postqueue -f").
  void flush_queue();
  // The queue as it is now, ordered by id.
  std::vector<QueueEntry> queue() const;
  const QueueEntry* find(const QueueId& id) const;
  // Messages in the queue now (received, not yet removed).
  std::size_t queued() const { return entries_.size(); }
  std::size_t open_connections() const { return idle_.size() + busy_.size(); }

  const MtaConfig& config() const { return config_; }
  const Router& router() const { return router_; }

 private:
  struct Entry;
  struct Job;
  struct Destination;
  struct IdleConnection;

  // queue
  // The next id for `now` from id_counter_ (any thread); new_id() also skips
  // ids in the queue (this thread).
  QueueId next_id(TimePoint now) const;
  QueueId new_id();
  // receive()'s refusals before anything is stored (size, no recipients).
  std::optional<Reply> refuse_received(const std::vector<std::string>& recipients, const std::string& message) const;
  // A received entry is now stored: tell the observers, queue it at once.
  void announce_received(Entry& en);
  // `text` in a buffer shared with the equal text seen last, while that is
  // still one of the two kept in its set of texts_ (the same refusal for
  // every letter to a closed office costs one buffer); this thread only.
  SharedText shared_text(std::string text);
  // The queue entry receive() makes (state incoming, our Received: on top);
  // `described` is client.describe(), as the caller shares it.
  QueueEntry received_entry(const ClientInfo& client, SharedText described, QueueId id, std::string sender,
                            std::vector<std::string> recipients, std::string message, TimePoint now) const;
  Entry* entry(const QueueId& id);
  void emit(EventPayload payload);
  // emit(build()) when the sink wants events of kind E in full, else emit(E{}).
  template <class E, class Build>
  void emit_lazy(Build&& build) {
    if (!events_) return;
    if (wants_full<E>()) emit(EventPayload(build()));
    else emit(EventPayload(E{}));
  }
  template <class E>
  bool wants_full() const {
    return events_ && (!interest_ || interest_(event_kind_v<E>));
  }
  void set_state(Entry& e, QueueState to);
  void set_recipient(Entry& e, std::size_t index, RecipientState state, const Reply& reply,
                     const std::string& remote, const std::string& where);
  void save(const Entry& e);
  // save(), unless finish_pass() is about to remove the entry anyway.
  void save_job_results(const Entry& e);
  void schedule_retry(Entry& e, TimePoint at);
  void activate(const QueueId& id);
  void job_done(const QueueId& id);
  void finish_pass(const QueueId& id);
  void send_dsn(Entry& e, DsnKind kind, const std::vector<std::size_t>& which);
  void enqueue_local(QueueEntry q);

  // delivery
  void start_job(std::shared_ptr<Job> job);
  void on_route(std::shared_ptr<Job> job, Route route);
  void deliver_local(std::shared_ptr<Job> job);
  void pump(const std::string& dest_key);
  void try_hop(std::shared_ptr<Job> job);
  void try_address(std::shared_ptr<Job> job, std::vector<std::string> addresses, std::size_t index);
  void send_on(std::shared_ptr<Job> job, std::unique_ptr<Connection> conn, std::string address, int uses);
  void finish_remote_job(std::shared_ptr<Job> job);
  // Bounces, with `reply`, every recipient of `job` not yet delivered or bounced.
  void bounce_open_recipients(Entry& e, Job& job, const Reply& reply);
  void park_connection(std::unique_ptr<Connection> conn, const std::string& host, std::uint16_t port,
                       std::string address, int uses);
  OpenRequest open_request(const NextHop& hop, const std::string& address) const;

  // recipient verification (probe)
  void verify_recipient(const std::string& recipient, std::function<void(Reply)> done);

  // Wraps a callback so it does nothing once this Mta is gone.
  template <class F>
  auto guarded(F f);

  MtaConfig config_;
  Clock& clock_;
  Resolver& resolver_;
  Spool& spool_;
  Transport& transport_;
  LocalDelivery* local_;
  EventSink events_;
  EventInterest interest_;
  Router router_;
  InboundPolicy policy_;  // RCPT rules, shared with real/net's io threads
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);

  std::map<QueueId, Entry> entries_;  // in the map node: one allocation per letter, stable address
  // shared_text(): the two texts last seen in each set, by hash, the newer
  // first. One block of a kilobyte and a half, not a hash table's nodes all over the
  // heap: one of a thousand MTAs finds a text in a cache line or two, and equal
  // texts of held letters (the client, the reason of a refusal) still share
  // a buffer when another text falls into the same set.
  // Each text keeps its hash beside it: a text that is not there is told
  // without reading the buffers (another MTA's letters left them cold).
  struct KeptText {
    SharedText text;
    std::size_t hash = 0;
  };
  std::array<KeptText, 64> texts_;
  std::map<std::string, Destination> destinations_;
  // Declared after entries_ so they go first: a connection may point at a
  // queued message while it sends it.
  std::multimap<std::string, std::unique_ptr<IdleConnection>> idle_;  // key: host:port
  std::map<Connection*, std::unique_ptr<Connection>> busy_;          // sending a job
  // Atomic: prepare_received() takes ids on other threads. new_id() and it
  // never share a value, so their ids differ within a second.
  mutable std::atomic<std::uint64_t> id_counter_{0};

  struct VerifyResult {
    Reply reply;
    TimePoint expires = 0;
  };
  std::map<std::string, VerifyResult> verify_cache_;
};

}  // namespace mailsim::mta
