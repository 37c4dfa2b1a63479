// What every role of one run shares: the World (engine, network, DNS, trace),
// a clock for real/ code that reads wall-clock dates, the run's demo CA, and
// a home for protocol sessions hosted on simulated sockets.
#pragma once

#include "real/mta/channel_stream.h"
#include "real/mta/services.h"
#include "real/session/channel.h"
#include "real/tls/demo_ca.h"
#include "sim/roles/compact_spool.h"
#include "sim/roles/tracing.h"
#include "sim/services/services.h"
#include "sim/world/world.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace mailsim::sim::roles {

class MailServer;

// real/mta reads dates from Clock::now() (Received:, Date: of bounces) and
// takes it as microseconds since the Unix epoch. The simulator's clock counts
// from the start of the run, so this one adds the scenario's start date:
// a letter sent at virtual 0:00:01 is stamped "Mon, 1 Apr 2024 09:00:01".
class EpochClock final : public mta::Clock {
 public:
  EpochClock(Engine& engine, std::int64_t start_unix_seconds)
      : sim_(engine), offset_(start_unix_seconds * mta::kSecond) {}
  mta::TimePoint now() const override { return sim_.now() + offset_; }
  mta::TimerId schedule(mta::Duration delay, std::function<void()> callback) override {
    return sim_.schedule(delay, std::move(callback));
  }
  void cancel(mta::TimerId id) override { sim_.cancel(id); }
  // An mta::TimePoint as virtual time of the run.
  Time to_sim(mta::TimePoint t) const { return t - offset_; }
  std::int64_t unix_seconds() const { return now() / mta::kSecond; }

 private:
  SimClock sim_;
  mta::TimePoint offset_;
};

struct RoleOptions {
  // Record `data` events (every plaintext byte both ends said). The view's
  // conversation and letter panels need them; the benchmark does not.
  bool record_data = true;
};

// One protocol session (SMTP/POP3/IMAP, client or server side) on one
// simulated socket, through a Channel (STARTTLS, implicit TLS). Owned by the
// RunContext; frees itself a moment after the connection is over.
class HostedSession {
 public:
  // `drain` reads the session's events after every input (the role's logic).
  HostedSession(std::unique_ptr<Session> session, ChannelOptions options, Socket socket, std::function<void()> drain,
                std::function<void()> on_closed);
  void start();
  // After the role talked to the session directly (resume(), stop(), a job).
  void flush();
  Session& session() { return *session_; }
  bool closed() const { return io_->closed(); }

 private:
  std::unique_ptr<Session> session_;
  std::unique_ptr<mta::ChannelStream> io_;
  std::function<void()> drain_;
};

class RunContext {
 public:
  RunContext(World& world, RoleOptions options);

  World& world;
  Engine& engine;
  Network& net;
  Trace& trace;
  EpochClock clock;
  RoleOptions options;
  tls::DemoCa ca;
  tls::TlsContext client_tls;  // trusts the run's CA and verifies names
  TextPool texts;              // shared by the servers' queue spools

  // A line of the story, told at `host`.
  void note(const std::string& host, std::string text, ConnId conn = 0);

  // Starts a session on a connected socket and keeps it until it is done.
  // Returns a handle valid until the connection ends (do not keep it longer
  // than the `drain` callback you gave).
  HostedSession& host_session(std::unique_ptr<Session> session, ChannelOptions options, Socket socket,
                              std::function<void()> drain, std::function<void()> on_closed = {});
  std::size_t hosted_sessions() const { return hosted_.size(); }
  // Drops every hosted session now (the end of a run).
  void close_sessions() { hosted_.clear(); }

  // The mail servers of the run (set by Roles).
  std::map<std::string, MailServer*, std::less<>> servers;
  MailServer* server_named(std::string_view name) const;
  // The server whose local domains hold `domain` (the first one in the scenario).
  MailServer* server_for_domain(std::string_view domain) const;

  // Which device of a client opened a connection (POP3/IMAP), for mailbox events.
  std::map<ConnId, std::string> device_of_conn;

  // Opens a connection from `from` to host `name` (looked up in DNS, A
  // record, like any program that is given a server name) on `port`.
  // `done` runs once: with a connected socket, or with the reason it failed
  // (DNS, refused, timeout), never inside this call.
  void connect_by_name(HostId from, const std::string& name, std::uint16_t port, ConnectHandler done);

  // A number unique in the run, for Message-IDs.
  std::uint64_t next_message_number() { return ++message_numbers_; }

 private:
  std::map<HostedSession*, std::unique_ptr<HostedSession>> hosted_;
  std::uint64_t message_numbers_ = 0;
};

// "alice@alpha.example" -> "Alice" (a display name for a letter).
std::string display_name_of(std::string_view address);

}  // namespace mailsim::sim::roles
