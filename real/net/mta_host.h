// real/mta hosted on Boost.Asio for `mailsim serve`: the MTA's Clock (steady
// timers), Connector/ByteStream (TCP with a connect timeout) and a static
// Resolver (a JSON file instead of DNS, RFC 5321 §5.1 MX lookup on a table),
// local delivery into the Maildirs (through the group-committing MaildirDrop),
// and the SMTP glue whose decisions the Mta answers.
//
// Threads: the Mta and every object here except MtaSmtpGlue live on ONE
// thread, the MTA thread (MtaHost runs its own io_context on it: a strand by
// construction). SMTP connections run on the NetServer's threads; their glue
// answers MAIL and the plain RCPT cases itself from a snapshot of the policy
// (mta::InboundPolicy: no thread hop per command) and posts the rest (RCPT
// refusals the Mta records, verification probes) to the MTA thread; the
// answer comes back to the connection's strand through its Completion. At
// the end of DATA it writes the message into the journal itself
// (FileSpool::put_concurrent); the committer thread's fdatasync completion
// brings the 250 straight to the strand, and only then is the stored entry
// handed to the MTA thread for delivery (Mta::adopt_received).
// Internal to real/net: includes Boost.
#pragma once

#include "real/mta/file_spool.h"
#include "real/mta/mta.h"
#include "real/mta/policy.h"
#include "real/mta/services.h"
#include "real/net/maildir_drop.h"
#include "real/net/protocol_glue.h"
#include "real/smtp/server.h"
#include "real/store/users.h"

#include <utility>  // before asio (Boost 1.74, see connection.h)

#include <boost/asio.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace mailsim::net {

// Timers on an io_context. now() is the wall clock in microseconds since
// the epoch (queue entries store absolute retry times, which must survive a
// restart); the delays run on the steady clock.
class AsioClock final : public mta::Clock {
 public:
  explicit AsioClock(boost::asio::io_context& io) : io_(io) {}
  ~AsioClock() override;
  mta::TimePoint now() const override;
  mta::TimerId schedule(mta::Duration delay, std::function<void()> callback) override;
  void cancel(mta::TimerId id) override;

 private:
  boost::asio::io_context& io_;
  mta::TimerId next_ = 0;
  // Pending timers; nullptr for a delay of 0, which is posted instead (no
  // timer, no timerfd_settime: the queue schedules each new letter that way).
  std::map<mta::TimerId, std::shared_ptr<boost::asio::steady_timer>> timers_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // posted handlers hold it weakly
};

// TCP connections from the io_context's thread. `host` may carry a port
// ("127.0.0.1:2526", "[::1]:2526"): the static resolver hands such addresses
// out so two servers on one machine can be told apart; then that port wins
// over the one the MTA asks for.
class AsioConnector final : public mta::Connector {
 public:
  AsioConnector(boost::asio::io_context& io, std::chrono::milliseconds timeout) : io_(io), timeout_(timeout) {}
  void connect(const std::string& host, std::uint16_t port, std::function<void(mta::ConnectResult)> done) override;

 private:
  boost::asio::io_context& io_;
  std::chrono::milliseconds timeout_;
};

// "127.0.0.1:2526" -> ("127.0.0.1", 2526); no port -> (host, fallback).
std::pair<std::string, std::uint16_t> split_host_port(const std::string& host, std::uint16_t fallback);

// DNS from a JSON file, read once at start:
//   {"mx":    {"beta.test": [[10, "mx.beta.test"]]},
//    "hosts": {"mx.beta.test": {"address": "127.0.0.1", "port": 2526}}}
// "address" may also be a list. A domain with no "mx" entry but a "hosts"
// entry answers no_data (the MTA then uses the implicit MX, RFC 5321 §5.1);
// a name in neither is nxdomain. An address literal resolves to itself.
class StaticResolver final : public mta::Resolver {
 public:
  StaticResolver() = default;
  // Throws std::runtime_error naming the file and the problem.
  static StaticResolver load(const std::filesystem::path& file);
  static StaticResolver parse(const std::string& json_text, const std::string& file_name);

  void resolve_mx(const std::string& domain, std::function<void(mta::MxAnswer)> done) override;
  void resolve_a(const std::string& host, std::function<void(mta::AddressAnswer)> done) override;

 private:
  std::map<std::string, std::vector<mta::MxRecord>> mx_;    // lower-case domain
  std::map<std::string, std::vector<std::string>> hosts_;   // lower-case host -> "addr[:port]"
};

// mta::LocalDelivery into <root>/<user>/Maildir via MaildirDrop. The Maildir
// file is named after a hash of (recipient, message), so a delivery repeated
// after a crash (between the Maildir fsync and the queue update) finds its
// earlier copy and is not stored twice. Results are posted back to `post`
// (the MTA thread).
struct MaildirMailboxesOptions {
  std::filesystem::path maildir_root;
  std::vector<std::string> users;  // mailbox names; postmaster goes to the first
  std::string hostname;
  unsigned fsync_threads = 8;
  // Deliveries happen after 250 (the queue has the message): gather them
  // into batches at most this often, leaving the disk to the journal's syncs.
  // A letter to an idle server is stored at once; under load a batch holds up
  // to 200 ms of letters, or 256 (a full batch goes at once, so deliveries
  // keep up with any load the disk can take); a letter waits at most 0.2 s
  // for its batch to start. (200 ms was once measured at 8-17% more
  // messages/s than 20 ms for one smtp-source connection, but then a full
  // batch still waited, and up to half of a run's deliveries were left for
  // after it.)
  std::chrono::microseconds linger = std::chrono::milliseconds(200);
  std::function<void(std::function<void()>)> post;             // onto the MTA thread
  std::function<void(const std::string& mailbox)> on_delivered;  // any thread; may be empty
};

class MaildirMailboxes final : public mta::LocalDelivery {
 public:
  explicit MaildirMailboxes(MaildirMailboxesOptions options);
  // Thread-safe (the user table is fixed at construction): the SMTP
  // connections' InboundPolicy asks it on their io threads.
  bool has_mailbox(std::string_view local_part, std::string_view domain) const override;
  void deliver(const std::string& recipient, const std::string& message,
               std::function<void(mta::LocalDeliveryResult)> done) override;
  MaildirDropStats stats() const { return drop_.stats(); }
  // Stores the deliveries handed over so far at once (no linger) and returns
  // when they are done; their outcomes are then posted to the MTA thread.
  void drain() { drop_.drain(); }

 private:
  std::string mailbox_for(std::string_view local_part) const;
  // Tags of the copies already in a mailbox (new/ and cur/), read from the
  // file names on first use; MTA thread only.
  std::set<std::string>& tags_of(const std::string& mailbox);

  MaildirMailboxesOptions options_;
  std::map<std::string, std::string> users_;  // lower-case -> configured name
  std::map<std::string, std::set<std::string>> tags_;
  MaildirDrop drop_;
};

// What every SMTP connection of one port shares. Must outlive them.
struct MtaSmtpService {
  smtp::ServerConfig session;
  std::vector<std::string> local_domains;     // for "alice@<local domain>" AUTH names
  const store::Credentials* users = nullptr;  // AUTH
  mta::Mta* mta = nullptr;                    // used on the MTA thread only
  std::function<void(std::function<void()>)> post_to_mta;
  std::function<void(const std::string&)> log;  // may be empty
  // Decides MAIL and the plain RCPT cases on the connection's thread (a
  // snapshot of the Mta's policy, see real/mta/policy.h); nullptr: every
  // decision goes to the MTA thread. Must outlive the connections.
  const mta::InboundPolicy* policy = nullptr;
  // The Mta's own spool, written from the connection's thread at the end of
  // DATA (see above); nullptr: the MTA thread receives the message.
  mta::FileSpool* spool = nullptr;
  // SMTP sessions open on all ports that share it (each MtaSmtpGlue counts
  // itself); nullptr: unknown. A lone session syncs the journal on its own
  // thread (its 250 comes two thread hand-offs sooner); with company, that
  // would hold up the other connections of its thread, so the committer does.
  std::atomic<int>* sessions = nullptr;
  // For work on the MTA thread that no client waits for (taking over a
  // message already answered with 250): may gather several into one wake
  // of the thread. Empty: post_to_mta.
  std::function<void(std::function<void()>)> post_to_mta_batched = nullptr;
};

// The SMTP glue of a connection when the MTA is on: decisions go to the Mta
// (as SmtpInbound does, but across threads).
class MtaSmtpGlue final : public ProtocolGlue {
 public:
  MtaSmtpGlue(const MtaSmtpService& service, const PeerInfo& peer);
  ~MtaSmtpGlue() override;
  MtaSmtpGlue(const MtaSmtpGlue&) = delete;
  MtaSmtpGlue& operator=(const MtaSmtpGlue&) = delete;
  Session& session() override { return session_; }
  void pump(ConnectionHandle& conn) override;
  bool awaiting_decision() const override { return session_.awaiting_decision(); }
  std::string goodbye_line(bool timed_out) const override;

 private:
  mta::ClientInfo client() const;
  // End of DATA with service_.spool: store here, 250 from the committer.
  void store_here(ConnectionHandle& conn, smtp::server_events::MessageReceived& message);
  bool on_auth(const smtp::server_events::AuthRequest& request) const;

  const MtaSmtpService& service_;
  PeerInfo peer_;
  smtp::ServerSession session_;
};

// The MTA thread: an io_context run by one thread until stop().
class MtaThread {
 public:
  MtaThread();
  ~MtaThread();  // stop() + join
  boost::asio::io_context& io() { return io_; }
  void post(std::function<void()> fn) { boost::asio::post(io_, std::move(fn)); }
  // Runs `fn` on the MTA thread at most `batch_linger` from now, together
  // with everything else posted this way meanwhile, in the order posted:
  // one wake of the thread per batch instead of one per function. For work
  // nobody waits for (a busy connection would otherwise wake this thread a
  // few times per message, and each wake takes a CPU from the connections).
  // 50 ms: one connection sending back to back gets ~10% more messages/s
  // than with 5 ms (alternating runs of smtp-source -d -s 1, 6 pairs of
  // 10,000, means 1,830/s vs 1,669/s; 200 ms gained nothing more), and a
  // letter still waits less for this than for the Maildir's 200 ms linger.
  void post_batched(std::function<void()> fn);
  static constexpr std::chrono::microseconds batch_linger{50000};
  // Runs what post_batched() gathered so far now, on the MTA thread, and
  // waits for it (at shutdown: an answered message is in the queue before
  // the queue is counted).
  void run_batched_now();
  // Runs `fn` on the MTA thread and waits for it (setup and teardown).
  void run_sync(std::function<void()> fn);
  void stop();

 private:
  void run_batch();

  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  boost::asio::steady_timer batch_timer_{io_};  // MTA thread only
  std::mutex batch_mutex_;
  std::vector<std::function<void()>> batch_;  // under batch_mutex_
  std::thread thread_;
};

}  // namespace mailsim::net
