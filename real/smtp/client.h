// The SMTP client session, sans-io: RFC 5321 (§3.3 mail transactions, §4.2
// replies, §4.5.2 dot-stuffing), RFC 2920 PIPELINING, RFC 1870 SIZE, RFC 6152
// 8BITMIME, RFC 3207 STARTTLS, RFC 4954 AUTH (PLAIN, LOGIN).
//
// One session is one connection to one server. The host queues jobs — send a
// message, or probe whether a recipient would be accepted — and the session
// runs them one after another on the same connection (no RSET between
// successful transactions), reporting every command, reply and outcome as an
// event. It never touches a socket: the host follows mailsim::Session.
//
// Usage sketch (an MTA delivering to the next hop):
//   ClientSession c(ClientConfig{.helo_name = "mail.alpha.example"});
//   JobId id = c.send(Envelope{.reverse_path = "alice@alpha.example",
//                              .recipients = {"bob@beta.example"}}, message);
//   c.start();                           // connected; waits for the greeting
//   loop: c.receive(bytes from server); send c.take_output() to server;
//         if (c.tls_requested()) { handshake; c.tls_established(info); }
//         while (auto e = c.next_event()) {
//           TransactionResult → per recipient: delivered / defer (4xx) / bounce (5xx)
//           Failed            → unfinished jobs go back to the queue (try next MX)
//           Idle              → c.send(...) more, or c.quit()
//         }
//         if (c.wants_close()) close the stream;
#pragma once

#include "real/session/session.h"
#include "real/smtp/envelope.h"
#include "real/smtp/event_queue.h"
#include "real/smtp/reply.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace mailsim::smtp {

enum class StartTlsPolicy {
  kNever,      // stay in plaintext (a postcard on the wire)
  kIfOffered,  // opportunistic (RFC 3207, what MTAs do between each other)
  kRequired,   // fail the connection unless STARTTLS succeeds
};

enum class AuthMechanism { kAuto, kPlain, kLogin };  // kAuto: PLAIN if offered, else LOGIN

struct Credentials {
  std::string username{};
  std::string password{};
  std::string authzid;  // PLAIN only; usually empty
};

struct ClientConfig {
  std::string helo_name = "localhost";
  StartTlsPolicy starttls = StartTlsPolicy::kIfOffered;
  // When set, the session authenticates after EHLO (and after TLS) and fails
  // the connection if the server offers neither PLAIN nor LOGIN.
  std::optional<Credentials> auth{};
  AuthMechanism mechanism = AuthMechanism::kAuto;
  bool implicit_tls = false;   // port 465: start() is called after the handshake
  TlsInfo implicit_tls_info{};
  bool pipelining = true;      // use PIPELINING when the server offers it
};

// What EHLO told us (RFC 5321 §4.1.1.1; keywords are case-insensitive).
struct ServerCapabilities {
  bool esmtp = false;  // EHLO worked (false after a HELO fallback)
  bool pipelining = false;
  bool starttls = false;
  bool eightbitmime = false;
  bool enhanced_status_codes = false;
  std::optional<std::uint64_t> size;  // SIZE; 0 means "no fixed limit"
  std::vector<std::string> auth;      // mechanisms, upper-cased
  ReplyLines keywords;                // every line after the first, as sent
  static ServerCapabilities from_ehlo(const Reply& reply);
};

using JobId = std::uint64_t;

enum class ClientState {
  kConnecting,    // before start()
  kGreeting,      // waiting for 220
  kEhlo,          // EHLO sent
  kHelo,          // HELO sent (EHLO was refused)
  kStartTls,      // STARTTLS sent
  kTlsHandshake,  // 220 received; waiting for tls_established()
  kAuth,          // AUTH exchange
  kIdle,          // nothing to do: add jobs or quit()
  kTransaction,   // a job is running
  kReset,         // RSET sent after a failed transaction
  kQuit,          // QUIT sent
  kClosed,
};
std::string_view to_string(ClientState s);

namespace client_events {
struct Greeting {  // the server's first reply (not also a ReplyReceived)
  Reply reply;
};
struct CommandSent {
  std::string line;  // without CRLF; AUTH lines as sent (base64 is not encryption)
};
struct DataSent {
  std::size_t octets;  // message content as sent, dot-stuffed, with ".\r\n"
};
struct ReplyReceived {
  std::string command;  // the line it answers ("<end of data>" after the content)
  Reply reply;
};
struct TlsStarted {
  TlsInfo info;
};
struct Authenticated {
  std::string mechanism;
  std::string username{};
};
struct AuthFailed {
  Reply reply;
};
struct RecipientResult {  // as soon as the RCPT reply arrives
  JobId job;
  std::string address;
  Reply reply;
};
struct RecipientOutcome {
  std::string address;
  Reply reply;       // what decided this recipient: RCPT refusal, or the DATA/final reply
  bool delivered;    // the server took responsibility for this recipient
};
struct TransactionResult {
  JobId job;
  Reply mail_reply;
  std::vector<Reply> rcpt_replies;     // one per recipient, in order (empty if MAIL failed)
  std::optional<Reply> data_reply;     // reply to DATA, when DATA was sent
  std::optional<Reply> final_reply;    // reply after the content, when it was sent
  bool accepted = false;               // final reply 2xx: delivered to the recipients marked so
  std::vector<RecipientOutcome> recipients;
};
struct ProbeResult {
  JobId job;
  std::string address;
  Reply reply;  // RCPT reply, or the MAIL reply if MAIL was refused
};
struct Failed {  // the connection is unusable: try again later or another MX
  // Comes once per connection, plus once per job queued after that.
  std::string reason;
  std::optional<Reply> reply;
  std::vector<JobId> unfinished;  // jobs without a result (all of them: none ran to the end)
};
struct Idle {};
struct Closed {};
struct StateChanged {
  ClientState from;
  ClientState to;
};
}  // namespace client_events

using ClientEvent =
    std::variant<client_events::Greeting, client_events::CommandSent, client_events::DataSent,
                 client_events::ReplyReceived, client_events::TlsStarted,
                 client_events::Authenticated, client_events::AuthFailed,
                 client_events::RecipientResult, client_events::TransactionResult,
                 client_events::ProbeResult, client_events::Failed, client_events::Idle,
                 client_events::Closed, client_events::StateChanged>;

class ClientSession final : public Session {
 public:
  explicit ClientSession(ClientConfig config);

  // ---- jobs (may be queued before start() and while idle) ----
  // Jobs queued after the connection failed or closed, or once QUIT was sent,
  // are answered at once with a Failed event listing just them.
  //
  // Queues a message. Only envelope.reverse_path and .recipients are used
  // (at least one recipient, else std::invalid_argument). `data` is the
  // message (RFC 5322); line ends are made CRLF and it is dot-stuffed here.
  JobId send(const Envelope& envelope, std::string_view data);
  // Queues a probe: MAIL FROM:<reverse_path>, RCPT TO:<address>, RSET — asks
  // the server whether it would accept the recipient, sends no message.
  JobId verify_recipient(std::string_view address, std::string_view reverse_path = "");
  // QUIT once the queued jobs are done (at once when idle).
  void quit();

  // ---- mailsim::Session ----
  void start() override;
  void receive(std::string_view bytes) override;
  std::string take_output() override;
  bool tls_requested() const override;
  void tls_established(const TlsInfo& info) override;
  void tls_failed(std::string_view reason) override;
  bool wants_close() const override { return state_ == ClientState::kClosed; }
  void peer_closed() override;

  std::optional<ClientEvent> next_event();

  // ---- inspection ----
  ClientState state() const { return state_; }
  const ServerCapabilities& capabilities() const { return caps_; }
  bool tls_active() const { return tls_.has_value(); }
  bool authenticated() const { return authenticated_; }
  std::size_t queued_jobs() const { return jobs_.size(); }

 private:
  struct Job {
    enum class Kind { kSend, kProbe } kind;
    JobId id;
    std::string reverse_path;
    std::vector<std::string> recipients;
    std::string data;  // canonical CRLF, not yet stuffed
    // progress
    std::optional<Reply> mail_reply;
    std::vector<Reply> rcpt_replies;
    std::optional<Reply> data_reply;
    std::optional<Reply> final_reply;
    std::size_t next_rcpt = 0;  // lock-step: next RCPT to send
    bool pipelined = false;
  };
  enum class Cmd { kEhlo, kHelo, kStartTls, kAuth, kMail, kRcpt, kData, kContent, kRset, kQuit };
  struct Sent {
    Cmd cmd;
    std::string line;  // for ReplyReceived
  };

  JobId enqueue(Job job);
  void on_reply(Reply reply);
  void on_greeting(const Reply& r);
  void on_ehlo(const Reply& r, bool helo);
  void after_hello();
  void on_starttls(const Reply& r);
  void start_auth();
  void on_auth(const Reply& r);
  void on_mail(Reply r);
  void on_rcpt(Reply r);
  void on_data(Reply r);
  void on_content(Reply r);
  void on_rset(const Reply& r);

  void start_next();
  void start_job();
  void send_rcpt(std::size_t i);
  void finish_job(bool rset_needed);
  void send_line(Cmd cmd, std::string line);
  void fail(std::string reason, std::optional<Reply> reply, bool send_quit);
  void close();
  void set_state(ClientState s);
  std::string mail_command(const Job& job) const;

  ClientConfig config_;
  ClientState state_ = ClientState::kConnecting;
  ReplyParser parser_;
  EventQueue<Sent> inflight_;
  EventQueue<ClientEvent> events_;
  std::string out_;
  ServerCapabilities caps_;
  std::optional<TlsInfo> tls_;
  bool tls_pending_ = false;
  bool tls_tried_ = false;
  bool authenticated_ = false;
  std::string auth_mechanism_;
  int auth_step_ = 0;  // LOGIN: 0 sent AUTH, 1 sent user, 2 sent password
  EventQueue<Job, 1> jobs_;  // front() is the running job while kTransaction/kReset
  bool job_running_ = false;
  JobId next_id_ = 1;
  bool quit_requested_ = false;
  bool failed_ = false;
};

}  // namespace mailsim::smtp
