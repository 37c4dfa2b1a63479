// The IMAP4rev1 server session, sans-io: RFC 3501, with RFC 2177 IDLE,
// RFC 2595 / 3501 §6.2.1 STARTTLS, RFC 4315 UIDPLUS, RFC 7888 LITERAL+,
// RFC 4959 SASL-IR, RFC 4616 AUTHENTICATE PLAIN, RFC 2971 ID, RFC 2342
// NAMESPACE, RFC 3691 UNSELECT, RFC 5530 response codes.
//
// Bytes in, bytes and events out; never a socket, clock or thread. Mailboxes
// come from a store::MailboxStore, logins are checked against a
// store::Credentials; both must outlive the session and are called
// synchronously from receive() (the store is thread-safe).
//
// The host's duties beyond the mailsim::Session contract:
//   - drain next_event() after every call (trace + decisions);
//   - on server_events::AuthFailed: wait `delay_ms` (its own timer; the
//     simulator's virtual clock, a steady_timer in real/net, nothing in a
//     unit test) and call resume(). Until then the session holds the NO reply
//     and reads no further command, which is what slows a password guesser;
//   - when the store's change listener reports a change for this session's
//     user, call mailbox_changed() (on the session's strand / thread). In IDLE
//     the session then sends EXISTS / EXPUNGE / FETCH at once; otherwise it
//     reports changes at the next command that allows it (RFC 3501 §7.4.1);
//   - with config.output_chunk set: while output_paused(), send what
//     take_output() gave, then call continue_output() (real/net's ImapGlue
//     does this; the simulator leaves output_chunk at 0 and never pauses).
//
// Usage sketch:
//   store::MemoryStore store; store::UserTable users{{"bob", "secret"}};
//   imap::ServerSession s(imap::ServerConfig{.hostname = "mx.beta.example"}, store, users);
//   s.start(); send(s.take_output());
//   on bytes: s.receive(bytes);
//     while (auto ev = s.next_event()) {
//       if (auto* f = std::get_if<imap::server_events::AuthFailed>(&*ev)) timer(f->delay_ms, [&]{ s.resume(); });
//     }
//     send(s.take_output()); if (s.tls_requested()) ...; if (s.wants_close()) close();
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "real/imap/command.h"
#include "real/imap/command_reader.h"
#include "real/session/session.h"
#include "real/store/mailbox_store.h"
#include "real/store/users.h"

namespace mailsim::imap {

struct ServerConfig {
  std::string hostname = "localhost";  // in the greeting and BYE
  // RFC 3501 §6.2.3 / RFC 8314: false → LOGINDISABLED and no AUTH=PLAIN before
  // TLS; LOGIN and AUTHENTICATE then get "NO [PRIVACYREQUIRED]".
  bool allow_plaintext_login = false;
  bool tls_available = false;  // the host can run TLS: STARTTLS is offered
  bool implicit_tls = false;   // port 993: start() is called after the handshake
  TlsInfo implicit_tls_info;
  ReaderLimits limits;         // line / literal / command size limits
  // Brute-force brake: the n-th failed login (n = 1, 2, ...) is answered after
  // auth_delay_ms * 2^(n-1) ms, at most max_auth_delay_ms; the
  // max_auth_failures-th failure also ends the connection with BYE.
  unsigned max_auth_failures = 3;
  unsigned auth_delay_ms = 1000;
  unsigned max_auth_delay_ms = 16000;
  // After this many BAD replies in a row the server says BYE (a client
  // speaking another protocol, or garbage, cannot spin forever).
  unsigned max_bad_commands = 20;
  // Input held unread while a reply is held for resume(); more than this
  // ends the connection.
  std::size_t max_pending_input = 256 * 1024;
  // INTERNALDATE (seconds since the epoch) for APPEND without a date. The
  // session reads no clock: the simulator passes its virtual clock, real/net
  // the system clock. Unset: 0 (1-Jan-1970), so tests stay deterministic.
  std::function<std::int64_t()> now;
  // Streaming: once a FETCH has produced this many octets of output it
  // pauses (output_paused()) until the host has taken the output and calls
  // continue_output(); meanwhile no further command is read. So FETCH 1:* of
  // a large mailbox goes out in chunks, sent while the next is built, instead
  // of one reply the size of the mailbox. 0: never pause (the simulator and
  // unit tests, which take the output after each receive()).
  std::size_t output_chunk = 0;
};

// RFC 3501 §3 states.
enum class ServerState {
  kConnected,         // before start()
  kNotAuthenticated,
  kAuthenticated,
  kSelected,
  kLogout,            // BYE sent or peer gone: nothing more happens
};
std::string_view to_string(ServerState s);

namespace server_events {
// ---- the host must act ----
struct AuthFailed {  // call resume() after delay_ms
  std::string user;        // as the client gave it
  std::string mechanism;   // "LOGIN" or "PLAIN"
  unsigned failures = 0;   // on this connection, this one included
  unsigned delay_ms = 0;
  bool disconnecting = false;  // the held reply will be followed by BYE
};
// ---- trace only ----
struct CommandReceived {
  std::string tag;
  std::string name;  // "FETCH", "UID FETCH", "DONE" (ending IDLE), "SASL" (a SASL response)
  std::string text;  // the command without its final CRLF; a literal shows as "{n} <n octets>"
};
struct ResponseSent {
  std::string text;  // one response without CRLF, literals shown as "{n} <n octets>"
};
struct StateChanged {
  ServerState from;
  ServerState to;
};
struct Authenticated {
  std::string user;
  std::string mechanism;  // "LOGIN" or "PLAIN"
};
struct Selected {
  std::string folder;
  bool read_only = false;  // EXAMINE
  std::uint32_t exists = 0;
  std::uint32_t recent = 0;
  store::UidValidity uidvalidity = 0;
};
struct MessageFetched {  // message content (not only flags) was sent
  std::string folder;
  store::Uid uid = 0;
  std::uint64_t octets = 0;  // content octets sent for it by this FETCH
};
struct FlagsChanged {  // by this session (STORE, or \Seen set by a FETCH)
  std::string folder;
  store::Uid uid = 0;
  std::string flags;  // all flags now, "\Seen \Flagged"
};
struct MessageAppended {
  std::string folder;
  store::Uid uid = 0;
  std::uint64_t octets = 0;
};
struct MessagesExpunged {  // by this session (EXPUNGE, UID EXPUNGE, CLOSE)
  std::string folder;
  std::vector<store::Uid> uids;
};
struct TlsStarted {
  TlsInfo info;
};
struct IdleStarted {};
struct IdleEnded {};
struct InputDiscarded {
  std::size_t octets = 0;
  std::string reason;  // "sent after STARTTLS (CVE-2011-0411)", ...
};
struct SessionClosed {
  std::string reason;  // "LOGOUT", "too many authentication failures", "peer closed", ...
};
}  // namespace server_events

using ServerEvent =
    std::variant<server_events::AuthFailed, server_events::CommandReceived, server_events::ResponseSent,
                 server_events::StateChanged, server_events::Authenticated, server_events::Selected,
                 server_events::MessageFetched, server_events::FlagsChanged, server_events::MessageAppended,
                 server_events::MessagesExpunged, server_events::TlsStarted, server_events::IdleStarted,
                 server_events::IdleEnded, server_events::InputDiscarded, server_events::SessionClosed>;

class ServerSession : public Session {
 public:
  ServerSession(ServerConfig config, store::MailboxStore& store, const store::Credentials& credentials);
  ~ServerSession() override;

  // mailsim::Session
  void start() override;
  void receive(std::string_view bytes) override;
  std::string take_output() override;
  bool tls_requested() const override { return tls_requested_; }
  void tls_established(const TlsInfo& info) override;
  void tls_failed(std::string_view reason) override;
  bool wants_close() const override { return state_ == ServerState::kLogout; }
  void peer_closed() override;

  // Next trace event or decision, oldest first; nullopt when none is queued.
  std::optional<ServerEvent> next_event();

  // The delay announced by AuthFailed has passed: send the held NO (and BYE
  // after the last allowed failure), then go on reading. No-op otherwise.
  void resume();
  bool waiting_for_resume() const { return mode_ == Mode::kAuthDelay; }

  // A FETCH paused after config.output_chunk octets: take_output(), send
  // it, then call continue_output() for the next chunk (which may pause
  // again, or finish the FETCH and go on with commands received meanwhile).
  bool output_paused() const { return fetch_ != nullptr; }
  bool has_output() const { return !out_.empty(); }
  void continue_output();

  // The store reports a change for this session's user. In IDLE the session
  // re-checks its selected folder now; otherwise at the next allowed point.
  void mailbox_changed();

  ServerState state() const { return state_; }
  bool idling() const { return mode_ == Mode::kIdle; }
  bool tls_active() const { return tls_; }
  const std::string& user() const { return user_; }
  // The selected folder's name, or "" when none is selected.
  std::string selected_folder() const;
  // The CAPABILITY list as the session would send it now (no "* CAPABILITY").
  std::string capabilities() const;

 private:
  enum class Mode { kCommand, kIdle, kSaslResponse, kAuthDelay, kTlsHandshake };
  struct View;        // the selected folder as this session knows it
  struct PendingFetch;  // a FETCH that is being answered
  struct Handler;     // one row of the command table
  static const Handler* find_handler(std::string_view name);

  void pump();
  void dispatch(std::string frame);
  void execute(const Command& cmd);
  // Replies.
  void send_raw(std::string text);  // one response, CRLF included
  void untagged(std::string_view text);
  void tagged(const std::string& tag, std::string_view status, std::string_view text);
  // Reports pending mailbox changes, then the tagged reply of the current command.
  void finish(const Command& cmd, std::string_view status, std::string_view text);
  void bad(const std::string& tag, std::string_view text);
  void bye(std::string_view text, std::string reason);
  void set_state(ServerState s);
  void emit(ServerEvent e) { events_.push_back(std::move(e)); }

  // Mailbox view.
  void sync(bool allow_expunge);
  void deselect();
  // Message indices (0-based) named by a set; nullopt + BAD when a sequence
  // number does not exist.
  std::optional<std::vector<std::size_t>> resolve(const Command& cmd, const SequenceSet& set);

  // Login.
  bool plaintext_refused(const std::string& tag);
  void try_login(const std::string& tag, const std::string& user, const std::string& password,
                 const std::string& mechanism);
  void sasl_plain(const std::string& tag, std::string_view base64);

  // Commands (command table targets).
  void cmd_capability(const Command&);
  void cmd_noop(const Command&);
  void cmd_logout(const Command&);
  void cmd_id(const Command&);
  void cmd_starttls(const Command&);
  void cmd_login(const Command&);
  void cmd_authenticate(const Command&);
  void cmd_namespace(const Command&);
  void cmd_select(const Command&);
  void cmd_create(const Command&);
  void cmd_delete(const Command&);
  void cmd_rename(const Command&);
  void cmd_subscribe(const Command&);
  void cmd_list(const Command&);
  void cmd_status(const Command&);
  void cmd_append(const Command&);
  void cmd_idle(const Command&);
  void cmd_check(const Command&);
  void cmd_close(const Command&);
  void cmd_expunge(const Command&);
  void cmd_search(const Command&);
  void cmd_fetch(const Command&);
  void run_fetch();  // answers fetch_ until done or output_chunk is reached
  void cmd_store(const Command&);
  void cmd_copy(const Command&);
  // Maps a StoreError to a tagged NO with the RFC 5530 code that fits.
  void store_failed(const Command& cmd, const store::StoreError& e);

  ServerConfig config_;
  store::MailboxStore& store_;
  const store::Credentials& credentials_;
  CommandReader reader_;
  std::string out_;
  std::deque<ServerEvent> events_;

  ServerState state_ = ServerState::kConnected;
  Mode mode_ = Mode::kCommand;
  bool tls_ = false;
  bool tls_requested_ = false;
  bool in_pump_ = false;
  std::string user_;
  std::unique_ptr<View> view_;
  std::unique_ptr<PendingFetch> fetch_;  // set while a FETCH runs or is paused

  unsigned auth_failures_ = 0;
  unsigned bad_in_a_row_ = 0;
  std::string pending_tag_;      // AUTHENTICATE waiting for a SASL response; IDLE's tag
  std::string held_reply_;       // the NO held during an auth delay
  bool held_disconnect_ = false;
  const Handler* current_ = nullptr;  // the command being executed
};

}  // namespace mailsim::imap
