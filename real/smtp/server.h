// The SMTP server session, sans-io: RFC 5321 (SMTP), RFC 1870 (SIZE),
// RFC 2920 (PIPELINING), RFC 6152 (8BITMIME), RFC 2034 / 3463 (enhanced
// status codes), RFC 3207 (STARTTLS), RFC 4954 (AUTH PLAIN, LOGIN).
//
// Bytes in, bytes and events out; never a socket, clock or thread. The host
// (real/net, sim/, a test) follows the mailsim::Session contract and, for the
// decisions only it can make (is this sender welcome? does this mailbox
// exist? is this password right? is the message safely on disk?), reads
// events from next_event() and answers with accept_mail(), accept_rcpt(),
// auth_result() and message_result(). While a decision is pending the session
// reads no further commands: pipelined input waits, bounded, in a buffer.
//
// Usage, synchronous host:
//   ServerSession s(config, PeerIdentity{"192.0.2.7", "client.example"});
//   s.start();                          // greeting into the output
//   send(s.take_output());
//   on bytes: s.receive(bytes);
//     while (auto ev = s.next_event()) {
//       if (auto* m = std::get_if<server_events::MailFrom>(&*ev)) s.accept_mail(replies::mail_ok());
//       ... RcptTo → accept_rcpt, AuthRequest → auth_result, MessageReceived → message_result
//     }
//     send(s.take_output());
//     if (s.tls_requested()) { handshake; s.tls_established(info); }
//     if (s.wants_close()) close();
// or simply: run_handler(s, handler) with a ServerHandler (below).
#pragma once

#include "real/session/session.h"
#include "real/smtp/command.h"
#include "real/smtp/data_reader.h"
#include "real/smtp/envelope.h"
#include "real/smtp/event_queue.h"
#include "real/smtp/reply.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace mailsim::smtp {

enum class TlsPolicy {
  kOff,       // STARTTLS not offered; the command gets 502
  kOptional,  // offered (if tls_available); plaintext mail is accepted too
  kRequired,  // offered; MAIL before TLS gets 530 5.7.0 (RFC 3207 §4)
};

enum class AuthPolicy {
  kOff,       // AUTH not offered; the command gets 503
  kOptional,  // offered; mail without AUTH is accepted too (an MX)
  kRequired,  // offered; MAIL before AUTH gets 530 5.7.0 (submission, RFC 6409)
};

struct ServerConfig {
  std::string hostname = "localhost";  // in the greeting, EHLO and 421 replies
  std::uint64_t max_message_size = 10'240'000;  // RFC 1870 SIZE (Postfix's default)
  std::size_t max_recipients = 100;             // RFC 5321 §4.5.3.1.8 minimum
  TlsPolicy tls = TlsPolicy::kOff;
  bool tls_available = false;  // the host has a certificate and can run TLS
  bool implicit_tls = false;   // port 465 style: start() is called after the handshake
  TlsInfo implicit_tls_info{};   // what that handshake negotiated (for Received:)
  AuthPolicy auth = AuthPolicy::kOff;
  // RFC 4954 §4 / RFC 8314: passwords only under TLS. When false, AUTH is not
  // advertised before STARTTLS and is refused with 538 5.7.11.
  bool auth_before_tls = false;
  // Postfix's smtpd_hard_error_limit: after this many failed commands the
  // server says 421 4.7.0 and hangs up, so a client cannot spin forever.
  std::size_t max_errors = 20;
  // Unprocessed input held while a host decision is pending (a pipelining
  // client may send ahead; one that floods gets 421 4.7.0).
  std::size_t max_pending_input = 256 * 1024;
  // When set, the greeting is this reply instead of 220 (RFC 5321 §3.1: 554
  // "no SMTP service here", e.g. a blocklisted client). With 554 the server
  // then answers every command but QUIT with 503; with 421 it hangs up.
  std::optional<Reply> reject_greeting{};
};

// RFC 5321 command-line limits (§4.5.3.1.4) and RFC 4954 §4 for AUTH.
inline constexpr std::size_t kMaxCommandLine = 512;    // including CRLF
inline constexpr std::size_t kMaxAuthLine = 12288;     // AUTH and SASL responses
inline constexpr std::size_t kMaxTextLine = 1000;      // DATA lines, including CRLF

enum class ServerState {
  kConnected,     // before start()
  kGreeted,       // greeting sent; waiting for EHLO/HELO
  kReady,         // after EHLO/HELO; no mail transaction
  kMail,          // MAIL accepted; waiting for RCPT
  kRcpt,          // at least one RCPT accepted
  kData,          // 354 sent; reading message content
  kAuth,          // AUTH exchange in progress (334 challenges)
  kTlsHandshake,  // 220 to STARTTLS sent; waiting for tls_established()
  kRefused,       // rejecting greeting sent; only QUIT is useful
  kClosed,        // QUIT, fatal error or peer gone: nothing more happens
};
std::string_view to_string(ServerState s);

// Which host decision the session is waiting for.
enum class Decision { kNone, kMail, kRcpt, kAuth, kMessage };

namespace server_events {
// ---- decisions: the session waits until the host answers ----
struct MailFrom {  // answer with accept_mail()
  std::string reverse_path;  // "" for <>
  std::optional<std::uint64_t> size;  // SIZE=
  BodyType body = BodyType::kUnspecified;
  std::optional<std::string> auth;  // AUTH= (xtext-decoded; "<>" kept as is)
  std::vector<EsmtpParam> params;   // all parameters as sent
};
struct RcptTo {  // answer with accept_rcpt(); envelope() has the transaction so far
  std::string forward_path;
};
struct AuthRequest {  // answer with auth_result()
  std::string mechanism;  // "PLAIN" or "LOGIN"
  std::string authzid;    // PLAIN only; "" when absent
  std::string username;
  std::string password;
};
struct MessageReceived {  // answer with message_result()
  Envelope envelope;
  std::string data;  // unstuffed, CRLF line ends, without the final "."
};
// ---- trace only ----
struct CommandReceived {
  std::string line;  // without CRLF (also SASL responses: the wire shows them)
};
struct ReplySent {
  Reply reply;
};
struct StateChanged {
  ServerState from;
  ServerState to;
};
struct TlsStarted {
  TlsInfo info;
};
struct SessionClosed {
  std::string reason;  // "QUIT", "too many errors", "bare <LF> received", ...
};
struct InputDiscarded {  // bytes thrown away unread, and why
  std::size_t octets;
  std::string reason;  // "sent after STARTTLS (CVE-2011-0411)", "line too long"
};
}  // namespace server_events

using ServerEvent =
    std::variant<server_events::MailFrom, server_events::RcptTo, server_events::AuthRequest,
                 server_events::MessageReceived, server_events::CommandReceived,
                 server_events::ReplySent, server_events::StateChanged,
                 server_events::TlsStarted, server_events::SessionClosed,
                 server_events::InputDiscarded>;

// Replies a host typically answers decisions with.
namespace replies {
Reply mail_ok();                        // 250 2.1.0 Ok
Reply rcpt_ok();                        // 250 2.1.5 Ok
Reply queued(std::string_view id);      // 250 2.0.0 Ok: queued as <id>
Reply user_unknown();                   // 550 5.1.1 <...>: Recipient address rejected: User unknown
Reply relay_denied();                   // 554 5.7.1 Relay access denied
Reply try_later();                      // 451 4.3.0 Error: queue file write error
}  // namespace replies

class ServerSession final : public Session {
 public:
  explicit ServerSession(ServerConfig config, PeerIdentity peer = {});

  // ---- mailsim::Session ----
  void start() override;
  void receive(std::string_view bytes) override;
  std::string take_output() override;
  bool tls_requested() const override;
  void tls_established(const TlsInfo& info) override;
  void tls_failed(std::string_view reason) override;
  bool wants_close() const override { return state_ == ServerState::kClosed; }
  void peer_closed() override;

  // Events in order of occurrence; nullopt when none are queued.
  std::optional<ServerEvent> next_event();

  // ---- decisions ----
  // Each answers the matching pending event and resumes reading buffered
  // input (so a pipelined group is answered within the same host turn).
  // A 2xx reply accepts; anything else rejects (sent as given). Calling one
  // when a different decision is pending throws std::logic_error; after the
  // session closed (peer gone while the host was deciding) it does nothing.
  void accept_mail(Reply reply);
  void accept_rcpt(Reply reply);
  void auth_result(bool ok);  // 235 2.7.0 / 535 5.7.8
  void message_result(Reply reply);

  Decision pending_decision() const { return pending_; }
  bool awaiting_decision() const { return pending_ != Decision::kNone; }

  // ---- inspection ----
  ServerState state() const { return state_; }
  // The current transaction's envelope (also HELO name, peer, TLS, AUTH).
  // Once a MessageReceived is out, the transaction's reverse-path and
  // recipients are in that event, not here.
  const Envelope& envelope() const { return envelope_; }
  bool tls_active() const { return envelope_.tls.has_value(); }
  const std::string& authenticated_user() const { return envelope_.authenticated_user; }
  const ServerConfig& config() const { return config_; }
  void set_peer(PeerIdentity peer) { envelope_.peer = std::move(peer); }
  // Why the session closed ("" while open).
  const std::string& close_reason() const { return close_reason_; }
  // The EHLO keywords this session would advertise now (for tests and UIs).
  ReplyLines ehlo_keywords() const;

 private:
  void add_ehlo_keywords(ReplyLines& lines) const;
  using Handler = void (ServerSession::*)(std::string_view argument);
  struct CommandSpec;
  static const CommandSpec kCommands[];

  void process();
  enum class LineResult { kLine, kNeedMore, kConsumed };
  LineResult take_line(std::string& line);
  void discard_input(std::string reason);
  void dispatch(std::string_view line);
  void read_data();
  // Feeds message content to the data reader and acts on what it found (the
  // end of the data, a bare CR or LF); returns the octets it took.
  std::size_t feed_data(std::string_view available);
  void sasl_response(std::string_view line);

  void cmd_ehlo(std::string_view arg);
  void cmd_helo(std::string_view arg);
  void cmd_mail(std::string_view arg);
  void cmd_rcpt(std::string_view arg);
  void cmd_data(std::string_view arg);
  void cmd_rset(std::string_view arg);
  void cmd_noop(std::string_view arg);
  void cmd_quit(std::string_view arg);
  void cmd_vrfy(std::string_view arg);
  void cmd_help(std::string_view arg);
  void cmd_starttls(std::string_view arg);
  void cmd_auth(std::string_view arg);
  void cmd_not_implemented(std::string_view arg);

  void sequence_error(std::string_view verb);
  void greet_client(std::string_view arg, bool esmtp);
  void finish_plain(std::string_view decoded);
  void request_auth(std::string mechanism, std::string authzid, std::string user, std::string pass);

  void send(Reply reply);
  // A reply to a failed command: counts toward max_errors (and may add 421).
  void send_error(Reply reply);
  void fatal(Reply reply, std::string reason);
  void close(std::string reason);
  void set_state(ServerState s);
  void reset_transaction();
  bool answer(Decision answered);

  ServerConfig config_;
  ServerState state_ = ServerState::kConnected;
  Decision pending_ = Decision::kNone;
  EventQueue<ServerEvent> events_;
  std::string out_;
  std::string in_;          // input not yet processed starts at in_[pos_]
  std::size_t pos_ = 0;
  bool discarding_line_ = false;  // skipping the rest of an overlong line
  bool discard_prev_cr_ = false;
  std::size_t errors_ = 0;

  Envelope envelope_;
  bool have_helo_ = false;
  bool tls_pending_ = false;
  std::size_t rcpt_attempts_ = 0;  // RCPTs tried in this transaction
  std::string pending_rcpt_;        // the RCPT the host is deciding on
  std::string pending_auth_user_;   // the user the host is checking

  std::optional<DataReader> data_;

  // AUTH exchange
  enum class SaslStep { kNone, kPlain, kLoginUser, kLoginPass };
  SaslStep sasl_step_ = SaslStep::kNone;
  std::string sasl_user_;

  std::string close_reason_;
};

// A convenience for hosts that decide synchronously (tests, the simulator's
// simple roles): virtual callbacks instead of the event loop.
class ServerHandler {
 public:
  virtual ~ServerHandler() = default;
  virtual Reply on_mail(const server_events::MailFrom&, const Envelope&) { return replies::mail_ok(); }
  virtual Reply on_rcpt(const server_events::RcptTo&, const Envelope&) { return replies::rcpt_ok(); }
  // Safe default: nobody's password is right unless a handler says so.
  virtual bool on_auth(const server_events::AuthRequest&) { return false; }
  virtual Reply on_message(const server_events::MessageReceived&) { return replies::queued("0"); }
  // Every event, decisions included, before it is handled (for logs/traces).
  virtual void on_event(const ServerEvent&) {}
};

// Accepts every sender, recipient, password and message, keeping the
// messages; queue ids are "1", "2", ... For tests and demos.
class AcceptAllHandler : public ServerHandler {
 public:
  bool on_auth(const server_events::AuthRequest&) override { return true; }
  Reply on_message(const server_events::MessageReceived& m) override {
    messages.push_back(m);
    return replies::queued(std::to_string(messages.size()));
  }
  std::vector<server_events::MessageReceived> messages;
};

// Drains session.next_event(), answering each decision through `handler`,
// until no events remain. Call after start(), receive() and tls_established().
void run_handler(ServerSession& session, ServerHandler& handler);

}  // namespace mailsim::smtp
