// Test doubles for the MTA's services: a clock whose time moves only when the
// test says so, a DNS table, scripted SMTP servers behind a fake Transport,
// and in-memory mailboxes. Small and predictable, so a test can say "the
// first retry happens at exactly 300 s".
#pragma once

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "real/mta/events.h"
#include "real/mta/services.h"
#include "real/mta/transport.h"

namespace mailsim::mta::testing {

// ---- clock ------------------------------------------------------------------

class FakeClock final : public Clock {
 public:
  TimePoint now() const override { return now_; }
  TimerId schedule(Duration delay, std::function<void()> cb) override {
    auto id = ++next_id_;
    timers_.push_back(Timer{now_ + std::max<Duration>(delay, 0), id, std::move(cb)});
    return id;
  }
  void cancel(TimerId id) override {
    timers_.erase(std::remove_if(timers_.begin(), timers_.end(), [id](const Timer& t) { return t.id == id; }),
                  timers_.end());
  }

  // Runs the earliest timer (ties in scheduling order), moving time to it.
  bool step() {
    if (timers_.empty()) return false;
    auto it = std::min_element(timers_.begin(), timers_.end(), [](const Timer& a, const Timer& b) {
      return a.at != b.at ? a.at < b.at : a.id < b.id;
    });
    Timer t = std::move(*it);
    timers_.erase(it);
    now_ = std::max(now_, t.at);
    t.fn();
    return true;
  }
  // Runs every timer due at or before `t`, then sets the time to `t`.
  void run_until(TimePoint t) {
    while (!timers_.empty()) {
      auto next = std::min_element(timers_.begin(), timers_.end(),
                                   [](const Timer& a, const Timer& b) { return a.at < b.at; });
      if (next->at > t) break;
      step();
    }
    now_ = std::max(now_, t);
  }
  // Runs timers that are due now (delay 0 work), without moving time.
  void settle() { run_until(now_); }
  // Runs everything, but stops at `limit` (retries go on for days).
  void run_all(TimePoint limit) { run_until(limit); }
  std::size_t pending() const { return timers_.size(); }
  // The time of the earliest timer, or -1.
  TimePoint next_at() const {
    if (timers_.empty()) return -1;
    return std::min_element(timers_.begin(), timers_.end(),
                            [](const Timer& a, const Timer& b) { return a.at < b.at; })
        ->at;
  }

 private:
  struct Timer {
    TimePoint at;
    TimerId id;
    std::function<void()> fn;
  };
  TimePoint now_ = 0;
  TimerId next_id_ = 0;
  std::vector<Timer> timers_;
};

// ---- DNS --------------------------------------------------------------------

class FakeResolver final : public Resolver {
 public:
  // With a clock, answers arrive on a later turn (like real DNS); without,
  // inside the call.
  explicit FakeResolver(Clock* clock = nullptr) : clock_(clock) {}

  void mx(const std::string& domain, std::vector<MxRecord> records) {
    mx_[domain] = MxAnswer{DnsStatus::ok, std::move(records)};
  }
  void mx_status(const std::string& domain, DnsStatus status) { mx_[domain] = MxAnswer{status, {}}; }
  void a(const std::string& host, std::vector<std::string> addresses) {
    a_[host] = AddressAnswer{DnsStatus::ok, std::move(addresses)};
    // A name with an address exists: an MX query for it says "no data".
    if (!mx_.count(host)) mx_[host] = MxAnswer{DnsStatus::no_data, {}};
  }

  void resolve_mx(const std::string& domain, std::function<void(MxAnswer)> done) override {
    mx_queries.push_back(domain);
    auto it = mx_.find(domain);
    MxAnswer ans = it == mx_.end() ? MxAnswer{DnsStatus::nxdomain, {}} : it->second;
    answer([done = std::move(done), ans] { done(ans); });
  }
  void resolve_a(const std::string& host, std::function<void(AddressAnswer)> done) override {
    a_queries.push_back(host);
    auto it = a_.find(host);
    AddressAnswer ans = it == a_.end() ? AddressAnswer{DnsStatus::nxdomain, {}} : it->second;
    answer([done = std::move(done), ans] { done(ans); });
  }

  std::vector<std::string> mx_queries, a_queries;

 private:
  void answer(std::function<void()> fn) {
    if (clock_)
      clock_->schedule(0, std::move(fn));
    else
      fn();
  }
  Clock* clock_;
  std::map<std::string, MxAnswer> mx_;
  std::map<std::string, AddressAnswer> a_;
};

// ---- SMTP servers behind a fake transport ----------------------------------------

struct ReceivedMail {
  std::string sender;
  std::vector<std::string> recipients;
  std::string message;
};

// A scripted SMTP server at one address.
struct FakeServer {
  bool up = true;                                  // false: connection refused
  Reply greeting = make_reply(220, "", "ready");   // non-2xx: refused at greeting
  Reply mail_reply = make_reply(250, "2.1.0", "Ok");
  // RCPT reply by recipient; default 250 2.1.5.
  std::map<std::string, Reply> rcpt_replies;
  Reply data_reply = make_reply(250, "2.0.0", "Ok: queued");
  bool drop_after_rcpt = false;                    // connection breaks during DATA

  std::vector<ReceivedMail> received;
  int connections = 0;
  int transactions = 0;
  int probes = 0;
};

class FakeTransport;

class FakeConnection final : public Connection {
 public:
  FakeConnection(FakeTransport& t, std::string address) : t_(t), address_(std::move(address)) {}
  ~FakeConnection() override;
  void send(const DeliveryJob& job, std::function<void(JobResult)> done) override;
  void probe(const std::string& recipient, std::function<void(Reply)> done) override;
  void quit() override { quit_ = true; }

 private:
  FakeTransport& t_;
  std::string address_;
  bool quit_ = false;
};

class FakeTransport final : public Transport {
 public:
  // With a clock, every reply takes `latency` (so several connections can be
  // open at once); without, replies come inside the call.
  explicit FakeTransport(Clock* clock = nullptr, Duration latency = 0) : clock_(clock), latency_(latency) {}

  FakeServer& server(const std::string& address) { return servers[address]; }

  void open(const OpenRequest& req, std::function<void(OpenResult)> done) override {
    log.push_back("open " + req.host + " " + req.address);
    later([this, req, done = std::move(done)] {
      auto it = servers.find(req.address);
      OpenResult r;
      if (it == servers.end() || !it->second.up) {
        r.failure = connect_failure_reply(req.host, req.address, req.port, ConnectError::refused, "");
        return done(std::move(r));
      }
      it->second.connections++;
      if (!it->second.greeting.positive()) {
        r.failure = it->second.greeting;
        return done(std::move(r));
      }
      ++open_now;
      max_open = std::max(max_open, open_now);
      r.connection = std::make_unique<FakeConnection>(*this, req.address);
      done(std::move(r));
    });
  }

  void later(std::function<void()> fn) {
    if (clock_)
      clock_->schedule(latency_, std::move(fn));
    else
      fn();
  }

  std::map<std::string, FakeServer> servers;
  std::vector<std::string> log;
  int open_now = 0;
  int max_open = 0;

 private:
  Clock* clock_;
  Duration latency_;
};

inline FakeConnection::~FakeConnection() { --t_.open_now; }

inline void FakeConnection::send(const DeliveryJob& job, std::function<void(JobResult)> done) {
  std::string message = job.message ? *job.message : std::string{};
  t_.later([this, job, message, done = std::move(done)] {
    auto& s = t_.servers[address_];
    s.transactions++;
    JobResult r;
    r.reusable = true;
    if (!s.mail_reply.positive()) {
      r.per_recipient.assign(job.recipients.size(), s.mail_reply);
      return done(std::move(r));
    }
    std::vector<std::string> accepted;
    for (const auto& rcpt : job.recipients) {
      auto it = s.rcpt_replies.find(rcpt);
      Reply rr = it == s.rcpt_replies.end() ? make_reply(250, "2.1.5", "Ok") : it->second;
      r.per_recipient.push_back(rr);
      if (rr.positive()) accepted.push_back(rcpt);
    }
    if (!accepted.empty()) {
      if (s.drop_after_rcpt) {
        for (auto& rr : r.per_recipient)
          if (rr.positive()) rr = make_reply(421, "4.4.2", "lost connection while sending message body");
        r.reusable = false;
        return done(std::move(r));
      }
      for (auto& rr : r.per_recipient)
        if (rr.positive()) rr = s.data_reply;
      if (s.data_reply.positive()) s.received.push_back(ReceivedMail{job.sender, accepted, message});
    }
    done(std::move(r));
  });
}

inline void FakeConnection::probe(const std::string& recipient, std::function<void(Reply)> done) {
  t_.later([this, recipient, done = std::move(done)] {
    auto& s = t_.servers[address_];
    s.probes++;
    auto it = s.rcpt_replies.find(recipient);
    done(it == s.rcpt_replies.end() ? make_reply(250, "2.1.5", "Ok") : it->second);
  });
}

// ---- mailboxes and events -----------------------------------------------------------

class FakeMailboxes final : public LocalDelivery {
 public:
  void add(const std::string& user) { boxes[user]; }
  bool has_mailbox(std::string_view local, std::string_view) const override {
    return boxes.count(std::string(local)) > 0;
  }
  void deliver(const std::string& recipient, const std::string& message,
               std::function<void(LocalDeliveryResult)> done) override {
    auto local = recipient.substr(0, recipient.rfind('@'));
    if (full) return done(LocalDeliveryResult{LocalDeliveryResult::Kind::temporary_failure, "mailbox full"});
    boxes[local].push_back(message);
    done(LocalDeliveryResult{});
  }
  std::map<std::string, std::vector<std::string>> boxes;
  bool full = false;
};

struct EventLog {
  std::vector<MtaEvent> events;
  EventSink sink() {
    return [this](const MtaEvent& e) { events.push_back(e); };
  }
  template <class T>
  std::vector<std::pair<TimePoint, T>> all() const {
    std::vector<std::pair<TimePoint, T>> out;
    for (const auto& e : events)
      if (auto* p = std::get_if<T>(&e.what)) out.emplace_back(e.at, *p);
    return out;
  }
  template <class T>
  std::size_t count() const {
    return all<T>().size();
  }
};

}  // namespace mailsim::mta::testing
