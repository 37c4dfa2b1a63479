// The POP3 server session, sans-io: RFC 1939 (POP3), RFC 2449 (CAPA and
// response codes), RFC 3206 ([AUTH], [SYS/TEMP] codes), RFC 2595 (STLS),
// RFC 5034 (AUTH PLAIN, with initial response or "+ " continuation).
//
// States (RFC 1939 §3):
//   kAuthorization ──USER/PASS or AUTH ok, maildrop locked──▶ kTransaction
//   kTransaction   ──QUIT──▶ kUpdate (marked messages removed) ──▶ kClosed
//   kAuthorization ──QUIT──▶ kClosed (nothing touched)
// and the waiting states kTlsHandshake (after "+OK Begin TLS negotiation"),
// kSaslResponse (after "+ "), kAuthDelay (a failed login's -ERR is held).
// The whole command table is in server.cpp (kCommands), one screen.
//
// The session talks to the mailbox store and the credentials synchronously;
// both belong to the host and must outlive the session. The maildrop is
// INBOX; the session takes the store's maildrop lock for the user at login
// (RFC 1939 §4, "-ERR [IN-USE]" when another session holds it) and holds it
// until the session ends. Its view of the maildrop is fixed at login: mail
// delivered meanwhile shows up at the next login (RFC 1939 §8).
//
// Policy choices, each visible to a student in the transcript:
// - Plaintext passwords (USER/PASS, AUTH PLAIN) are refused before STLS
//   unless config.allow_plaintext_auth. The reply is
//     -ERR [AUTH] Plaintext authentication is disabled without TLS; send STLS first
//   and CAPA does not list USER or SASL until TLS is up (RFC 2595 §2.1 asks
//   for exactly this kind of configuration switch).
// - Brute force: a failed login is answered slowly. The session cannot wait
//   (it has no clock), so it reports server_events::AuthFailed{delay_ms} and
//   holds its "-ERR [AUTH] Authentication failed" until the host calls
//   resume() — the host sleeps delay_ms on its own timer (the simulator on
//   its virtual clock). Delays double from auth_delay_ms up to
//   max_auth_delay_ms. After max_auth_failures failures the held -ERR says so
//   and the session closes. Input that arrives meanwhile waits unread.
// - Line limit: RFC 2449 §4 allows 255 octets per command line (with CRLF);
//   a longer line is discarded and answered "-ERR Line too long"; the session
//   continues. A SASL response line may be up to kMaxSaslLine.
// - Errors: unknown or wrong-state commands get -ERR and the session goes
//   on; after config.max_errors of them it says -ERR and closes, so a
//   confused or hostile client cannot spin forever.
// - UIDL: "%08X%08X" of UID and UIDVALIDITY (Dovecot's default format), so
//   a UIDL changes exactly when the store starts a new UID space.
// - A message retrieved with RETR gets \Seen in the store, at UPDATE (so a
//   session cut short changes nothing, as RFC 1939 §6 does for deletions).
//
// Usage, synchronous host:
//   pop3::ServerSession s(config, store, users);
//   s.start(); send(s.take_output());
//   on bytes: s.receive(bytes);
//     while (auto ev = s.next_event()) {
//       if (auto* f = std::get_if<pop3::server_events::AuthFailed>(&*ev))
//         timer.after(f->delay_ms, [&] { s.resume(); send(s.take_output()); });
//       trace(*ev);
//     }
//     send(s.take_output());
//     if (s.tls_requested()) { handshake; s.tls_established(info); }
//     if (s.wants_close()) close();
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "real/session/session.h"
#include "real/store/mailbox_store.h"
#include "real/store/users.h"

namespace mailsim::pop3 {

inline constexpr std::size_t kMaxCommandLine = 255;  // RFC 2449 §4, including CRLF
inline constexpr std::size_t kMaxSaslLine = 12288;   // AUTH continuation lines

struct ServerConfig {
  std::string hostname = "localhost";   // in the greeting
  std::string implementation = "mailsim";  // CAPA IMPLEMENTATION
  bool tls_available = false;   // the host can run TLS: STLS is offered
  bool implicit_tls = false;    // port 995: start() is called after the handshake
  TlsInfo implicit_tls_info;    // what that handshake negotiated
  bool allow_plaintext_auth = false;  // USER/PASS and AUTH PLAIN without TLS
  std::size_t max_auth_failures = 3;  // then the session closes
  std::uint32_t auth_delay_ms = 1000;      // delay after the first failure
  std::uint32_t max_auth_delay_ms = 8000;  // doubling stops here
  std::size_t max_errors = 20;             // failed commands before closing
  // Unprocessed input held while the session waits (auth delay): a client
  // that floods more than this is disconnected.
  std::size_t max_pending_input = 64 * 1024;
};

enum class ServerState {
  kConnected,      // before start()
  kAuthorization,  // RFC 1939 §4
  kSaslResponse,   // "+ " sent; waiting for the client's AUTH response line
  kAuthDelay,      // a failed login's reply is held until resume()
  kTlsHandshake,   // "+OK Begin TLS negotiation" sent; waiting for tls_established()
  kTransaction,    // RFC 1939 §5
  kUpdate,         // RFC 1939 §6, passed through on QUIT from kTransaction
  kClosed,
};
std::string_view to_string(ServerState s);

// Dovecot-style UIDL ("%08X%08X" of uid and uidvalidity), exposed so the
// simulator's UI can match the strings the wire shows.
std::string make_uidl(store::Uid uid, store::UidValidity uidvalidity);

namespace server_events {
struct CommandReceived {
  std::string line;  // without CRLF, passwords included: the wire shows them too
};
struct ResponseSent {
  std::string status;     // first line without CRLF ("+OK 2 messages", "-ERR ...", "+ ")
  std::size_t octets = 0; // the whole response on the wire, multi-line body included
  bool multiline = false;
};
struct StateChanged {
  ServerState from;
  ServerState to;
};
struct Authenticated {
  std::string user;
  std::string mechanism;  // "USER" (USER/PASS) or "PLAIN"
  std::size_t messages = 0;  // in the maildrop snapshot
};
struct AuthFailed {
  std::string user;          // as the client gave it
  std::size_t failures = 0;  // in this session, including this one
  std::uint32_t delay_ms = 0;  // call resume() after this long
  bool closing = false;      // this was the last allowed failure
};
struct MessageRetrieved {  // RETR, or TOP (top == true)
  std::uint32_t number = 0;
  store::Uid uid = 0;
  std::string uidl;
  std::uint64_t size = 0;
  bool top = false;
};
struct MessagesDeleted {  // UPDATE state removed these from the store
  std::vector<store::Uid> uids;
};
struct TlsStarted {
  TlsInfo info;
};
struct InputDiscarded {
  std::size_t octets = 0;
  std::string reason;  // "sent after STLS (CVE-2011-0411)", "line too long"
};
struct SessionClosed {
  std::string reason;  // "QUIT", "too many authentication failures", ...
};
}  // namespace server_events

using ServerEvent = std::variant<server_events::CommandReceived, server_events::ResponseSent,
                                 server_events::StateChanged, server_events::Authenticated,
                                 server_events::AuthFailed, server_events::MessageRetrieved,
                                 server_events::MessagesDeleted, server_events::TlsStarted,
                                 server_events::InputDiscarded, server_events::SessionClosed>;

class ServerSession final : public Session {
 public:
  // `store` and `users` are borrowed and must outlive the session.
  ServerSession(ServerConfig config, store::MailboxStore& store, const store::Credentials& users);
  ~ServerSession() override;
  ServerSession(const ServerSession&) = delete;
  ServerSession& operator=(const ServerSession&) = delete;

  // ---- mailsim::Session ----
  void start() override;
  void receive(std::string_view bytes) override;
  std::string take_output() override;
  bool tls_requested() const override { return state_ == ServerState::kTlsHandshake; }
  void tls_established(const TlsInfo& info) override;
  void tls_failed(std::string_view reason) override;
  bool wants_close() const override { return state_ == ServerState::kClosed; }
  // Ends the session without UPDATE: nothing marked is deleted (RFC 1939 §6).
  void peer_closed() override;

  // Events in order of occurrence; nullopt when none are queued.
  std::optional<ServerEvent> next_event();

  // The host's auth delay has passed: sends the held -ERR (and closes after
  // the last allowed failure), then reads input that waited. Does nothing
  // when no reply is held.
  void resume();

  // ---- inspection ----
  ServerState state() const { return state_; }
  bool tls_active() const { return tls_.has_value(); }
  const std::string& user() const { return user_; }  // once authenticated
  const std::string& close_reason() const { return close_reason_; }
  // The CAPA lines this session would send now (without "+OK" and ".").
  std::vector<std::string> capabilities() const;

 private:
  struct Command;
  static const Command kCommands[];
  struct Message {
    store::MessageInfo info;
    bool deleted = false;
    bool retrieved = false;
  };

  void process();
  bool take_line(std::string& line);
  void dispatch(std::string_view line);
  void sasl_response(std::string_view line);

  void cmd_user(std::string_view arg);
  void cmd_pass(std::string_view arg);
  void cmd_auth(std::string_view arg);
  void cmd_stls(std::string_view arg);
  void cmd_capa(std::string_view arg);
  void cmd_quit(std::string_view arg);
  void cmd_stat(std::string_view arg);
  void cmd_list(std::string_view arg);
  void cmd_retr(std::string_view arg);
  void cmd_top(std::string_view arg);
  void cmd_dele(std::string_view arg);
  void cmd_noop(std::string_view arg);
  void cmd_rset(std::string_view arg);
  void cmd_uidl(std::string_view arg);

  bool plaintext_allowed() const;
  void login(const std::string& user, std::string_view password, std::string_view mechanism);
  void auth_failed(const std::string& user);  // counts, reports, holds the -ERR
  void send_held();
  void finish_plain(std::string_view base64);
  // Parses a message number; sends -ERR and returns nullptr if bad or deleted.
  Message* message_arg(std::string_view arg);
  std::uint32_t number_of(const Message& m) const;
  void send_message(std::uint32_t number, Message& m, std::optional<std::size_t> top_lines);
  void update();

  void ok(std::string_view text);
  void err(std::string_view text);  // a failed command: counts toward max_errors
  void send_multiline(std::string status, const std::vector<std::string>& lines);
  void send_raw(std::string status, std::string wire, bool multiline);
  void set_state(ServerState s);
  void close(std::string reason);

  ServerConfig config_;
  store::MailboxStore& store_;
  const store::Credentials& users_;
  ServerState state_ = ServerState::kConnected;
  std::deque<ServerEvent> events_;
  std::string out_;
  std::string in_;
  bool discarding_line_ = false;  // skipping the rest of an overlong line
  std::size_t errors_ = 0;
  std::optional<TlsInfo> tls_;

  std::string pending_user_;  // USER given, waiting for PASS
  std::size_t auth_failures_ = 0;
  std::string held_reply_;    // kAuthDelay: the -ERR to send on resume()
  bool close_after_held_ = false;

  std::string user_;
  std::optional<store::MaildropLocks::Lease> lease_;
  store::UidValidity uidvalidity_ = 0;
  std::vector<Message> messages_;  // index = message number - 1

  std::string close_reason_;
};

}  // namespace mailsim::pop3
