// The POP3 client session, sans-io, as a mail user agent uses it to collect
// mail: RFC 1939 (USER/PASS, STAT, UIDL, RETR, DELE, QUIT), RFC 2449 (CAPA),
// RFC 2595 (STLS), RFC 5034 (AUTH PLAIN with initial response).
//
// One run, one command at a time (no pipelining, so every step is easy to
// follow in the trace):
//   greeting → CAPA → [STLS → TLS → CAPA] → USER/PASS or AUTH PLAIN → STAT
//   → UIDL → for each message whose UIDL the host has not seen: RETR n,
//   then DELE n unless leave_on_server → QUIT
// A server without UIDL gets every message retrieved (uidl "").
//
// Usage:
//   pop3::ClientSession c(config);
//   on connect: c.start();
//   on bytes:   c.receive(bytes); send(c.take_output());
//               if (c.tls_requested()) { handshake; c.tls_established(info); send(c.take_output()); }
//               while (auto ev = c.next_event()) ...;   // MessageRetrieved carries the mail
//               if (c.wants_close()) close();
//   c.result() says how it went once finished() is true.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "real/session/session.h"

namespace mailsim::pop3 {

enum class ClientTls {
  kNever,      // never STLS, even if offered (a lesson on eavesdropping)
  kIfOffered,  // STLS when CAPA lists it; plaintext otherwise
  kRequired,   // no STLS in CAPA, or it fails: QUIT before sending a password
};

enum class ClientAuth {
  kUserPass,   // USER / PASS (RFC 1939 §7)
  kSaslPlain,  // AUTH PLAIN <initial response> (RFC 5034)
};

struct ClientConfig {
  std::string user;
  std::string password;
  ClientTls tls = ClientTls::kIfOffered;
  ClientAuth auth = ClientAuth::kUserPass;
  bool implicit_tls = false;  // port 995: start() is called after the handshake
  TlsInfo implicit_tls_info;
  bool leave_on_server = false;  // RETR without DELE
  // UIDLs downloaded in earlier runs: those messages are not retrieved again.
  std::set<std::string> known_uidls;
  // Longest response line accepted (message lines included).
  std::size_t max_line = 1 << 20;
};

enum class ClientState {
  kConnected,     // before start()
  kGreeting,      // waiting for the server's +OK
  kCapa,
  kStls,
  kTlsHandshake,  // tls_requested()
  kUser,
  kPass,
  kAuth,
  kStat,
  kUidl,
  kRetr,
  kDele,
  kQuit,
  kDone,          // finished (see result())
};
std::string_view to_string(ClientState s);

namespace client_events {
struct CommandSent {
  std::string line;  // without CRLF, passwords included: the wire shows them too
};
struct ResponseReceived {
  std::string status;       // first line without CRLF
  std::size_t octets = 0;   // the whole response, multi-line body included
  bool multiline = false;
};
struct StateChanged {
  ClientState from;
  ClientState to;
};
struct TlsStarted {
  TlsInfo info;
};
struct Authenticated {
  std::string user;
};
struct MessageRetrieved {
  std::uint32_t number = 0;
  std::string uidl;   // "" if the server has no UIDL
  std::string bytes;  // the message, dot-unstuffed, CRLF line ends
};
struct MessageDeleted {
  std::uint32_t number = 0;
  std::string uidl;
};
struct Finished {
  bool ok = false;
  std::string reason;  // "" when ok
};
}  // namespace client_events

using ClientEvent = std::variant<client_events::CommandSent, client_events::ResponseReceived,
                                 client_events::StateChanged, client_events::TlsStarted,
                                 client_events::Authenticated, client_events::MessageRetrieved,
                                 client_events::MessageDeleted, client_events::Finished>;

struct ClientResult {
  bool ok = false;
  std::string error;                 // why not ok
  std::vector<std::string> retrieved;  // UIDLs retrieved in this run, in order
  std::vector<std::string> deleted;    // UIDLs marked with DELE
  std::size_t messages_on_server = 0;  // STAT's count at login
};

class ClientSession final : public Session {
 public:
  explicit ClientSession(ClientConfig config);

  // ---- mailsim::Session ----
  void start() override;
  void receive(std::string_view bytes) override;
  std::string take_output() override;
  bool tls_requested() const override { return state_ == ClientState::kTlsHandshake; }
  void tls_established(const TlsInfo& info) override;
  void tls_failed(std::string_view reason) override;
  bool wants_close() const override { return state_ == ClientState::kDone; }
  void peer_closed() override;

  std::optional<ClientEvent> next_event();

  ClientState state() const { return state_; }
  bool finished() const { return state_ == ClientState::kDone; }
  bool tls_active() const { return tls_.has_value(); }
  const ClientResult& result() const { return result_; }
  // Capabilities from the last CAPA (first word upper-cased, e.g. "STLS",
  // "SASL PLAIN" kept whole).
  const std::vector<std::string>& capabilities() const { return caps_; }

 private:
  struct Response {
    bool ok = false;
    std::string status;
    std::vector<std::string> lines;  // multi-line body, unstuffed, without CRLF
    std::string body;                // the same joined with CRLF (RETR)
  };

  void process();
  bool expects_multiline() const;
  void on_response(Response r);
  void send(std::string line, ClientState next);
  void set_state(ClientState s);
  void after_capa();
  void authenticate();
  void next_message();
  void quit(std::string error);  // QUIT; error "" for success
  void finish(bool ok, std::string reason);
  bool has_cap(std::string_view cap) const;

  ClientConfig config_;
  ClientState state_ = ClientState::kConnected;
  std::deque<ClientEvent> events_;
  std::string out_;
  std::string in_;
  // The response being read: status seen, collecting body lines.
  std::optional<Response> partial_;
  std::size_t partial_octets_ = 0;
  std::optional<TlsInfo> tls_;
  std::vector<std::string> caps_;

  struct Pending {
    std::uint32_t number;
    std::string uidl;
  };
  std::deque<Pending> to_fetch_;
  Pending current_{0, {}};
  std::uint32_t count_ = 0;
  std::string failure_;  // set before a failing QUIT
  ClientResult result_;
};

}  // namespace mailsim::pop3
