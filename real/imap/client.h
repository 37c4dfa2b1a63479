// The IMAP4rev1 client session the simulated mail user agent runs, sans-io:
// the subset of RFC 3501 a mail reader needs to collect new mail —
// greeting, CAPABILITY, STARTTLS (RFC 3501 §6.2.1), LOGIN or AUTHENTICATE
// PLAIN (RFC 4616, with SASL-IR RFC 4959 when offered), SELECT, UID SEARCH
// for messages not seen yet, UID FETCH (UID FLAGS BODY.PEEK[]), UID STORE
// +FLAGS.SILENT (\Seen), optional IDLE (RFC 2177), LOGOUT.
//
// Bytes in, bytes and events out; the host follows the mailsim::Session
// contract. The session runs the whole script by itself; the host only
// reads events and may call stop() to end an IDLE and log out.
//
// Usage sketch:
//   imap::ClientConfig c{.user = "bob", .password = "secret", .last_seen_uid = 3};
//   imap::ClientSession client(c);
//   client.start();
//   on bytes: client.receive(bytes); send(client.take_output());
//     while (auto ev = client.next_event())
//       if (auto* m = std::get_if<imap::client_events::MessageFetched>(&*ev)) show(m->uid, m->message);
//   if (client.tls_requested()) ...; if (client.wants_close()) close();
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "real/imap/command_reader.h"
#include "real/session/session.h"

namespace mailsim::imap {

enum class ClientTls {
  kNever,      // never STARTTLS (a lesson about eavesdroppers)
  kIfOffered,  // STARTTLS when the server offers it, plaintext otherwise
  kRequired,   // STARTTLS or give up before sending the password
};

enum class ClientAuth {
  kAuto,   // AUTHENTICATE PLAIN when AUTH=PLAIN is offered, LOGIN otherwise
  kLogin,  // LOGIN user password
  kPlain,  // AUTHENTICATE PLAIN
};

struct ClientConfig {
  std::string user;
  std::string password;
  ClientTls tls = ClientTls::kIfOffered;
  ClientAuth auth = ClientAuth::kAuto;
  bool implicit_tls = false;         // port 993: start() is called after the handshake
  std::string folder = "INBOX";
  // What the reader has already: messages with a UID above last_seen_uid and
  // not in known_uids are fetched. Both are ignored when known_uidvalidity is
  // set and the server's UIDVALIDITY differs (the UIDs mean other messages).
  std::uint32_t last_seen_uid = 0;
  std::set<std::uint32_t> known_uids;
  std::optional<std::uint32_t> known_uidvalidity;
  bool mark_seen = true;             // UID STORE +FLAGS.SILENT (\Seen) after fetching
  bool idle = false;                 // then IDLE (if offered) until stop(), fetching new mail as it comes
  std::string tag_prefix = "A";      // tags are A1, A2, ...
  std::size_t max_message_size = 64u << 20;  // larger literals from the server end the session
};

// What the client is doing now.
enum class ClientStep {
  kConnecting, kGreeting, kCapability, kStartTls, kTlsHandshake, kLogin, kAuthenticate,
  kSelect, kSearch, kFetch, kStore, kIdle, kIdleDone, kLogout, kClosed,
};
std::string_view to_string(ClientStep s);

namespace client_events {
struct CommandSent {
  std::string tag;
  std::string text;  // without CRLF; a SASL response or DONE has an empty tag
};
struct ResponseReceived {
  std::string text;  // without CRLF, literals shown as "{n} <n octets>"
};
struct StepChanged {
  ClientStep from;
  ClientStep to;
};
struct TlsStarted {
  TlsInfo info;
};
struct Authenticated {
  std::string user;
  std::string mechanism;  // "LOGIN" or "PLAIN"
};
struct Selected {
  std::string folder;
  std::uint32_t exists = 0;
  std::uint32_t uidvalidity = 0;
  bool uidvalidity_changed = false;  // known_uidvalidity differed: everything is refetched
};
struct MessageFetched {
  std::uint32_t uid = 0;
  std::uint64_t octets = 0;
  std::string flags;    // as the server listed them before \Seen was set: "\Recent"
  std::string message;  // the full message (BODY[]), CRLF line ends
};
struct MarkedSeen {
  std::vector<std::uint32_t> uids;
};
struct NewMail {  // an untagged EXISTS while idling
  std::uint32_t exists = 0;
};
struct IdleStarted {};
struct IdleEnded {};
struct Failed {  // the session gives up (then logs out if it can)
  ClientStep step;
  std::string reason;  // the server's reply or what was missing
};
struct Finished {
  bool ok = false;  // logged out cleanly after doing everything asked
  std::uint32_t highest_uid = 0;  // the highest UID seen: the next run's last_seen_uid
  std::uint32_t uidvalidity = 0;
};
}  // namespace client_events

using ClientEvent =
    std::variant<client_events::CommandSent, client_events::ResponseReceived, client_events::StepChanged,
                 client_events::TlsStarted, client_events::Authenticated, client_events::Selected,
                 client_events::MessageFetched, client_events::MarkedSeen, client_events::NewMail,
                 client_events::IdleStarted, client_events::IdleEnded, client_events::Failed,
                 client_events::Finished>;

class ClientSession : public Session {
 public:
  explicit ClientSession(ClientConfig config);

  // mailsim::Session
  void start() override;
  void receive(std::string_view bytes) override;
  std::string take_output() override;
  bool tls_requested() const override { return step_ == ClientStep::kTlsHandshake && !tls_; }
  void tls_established(const TlsInfo& info) override;
  void tls_failed(std::string_view reason) override;
  bool wants_close() const override { return step_ == ClientStep::kClosed; }
  void peer_closed() override;

  std::optional<ClientEvent> next_event();

  // End IDLE (DONE) or the current round, then LOGOUT.
  void stop();

  ClientStep step() const { return step_; }
  bool idling() const { return step_ == ClientStep::kIdle && idle_confirmed_; }
  const std::set<std::string>& capabilities() const { return caps_; }

 private:
  void handle(const std::string& frame);
  void handle_untagged(std::string_view text, const std::string& frame);
  void handle_tagged(std::string_view status, std::string_view text);
  void parse_fetch(const std::string& frame, std::size_t items_at);
  void set_step(ClientStep s);
  void send_command(std::string text, ClientStep step);  // tags it
  void send_line(std::string text);                      // untagged (SASL, DONE)
  void after_capabilities();
  void login();
  void search();
  void after_fetch();
  void logout();
  void fail(std::string reason);
  void read_capabilities(std::string_view list);

  ClientConfig config_;
  CommandReader reader_;
  std::string out_;
  std::deque<ClientEvent> events_;
  ClientStep step_ = ClientStep::kConnecting;
  bool tls_ = false;
  bool failed_ = false;
  bool stop_requested_ = false;
  bool idle_confirmed_ = false;
  bool authenticated_ = false;
  unsigned next_tag_ = 1;
  std::string tag_;                     // of the command in progress
  std::set<std::string> caps_;          // upper-case
  std::uint32_t exists_ = 0;
  std::uint32_t uidvalidity_ = 0;
  std::uint32_t highest_uid_ = 0;       // highest UID known to be read
  std::vector<std::uint32_t> to_fetch_;
  std::vector<std::uint32_t> fetched_;
};

}  // namespace mailsim::imap
