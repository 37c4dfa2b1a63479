// The counter of the post office: glue between an SMTP server session
// (real/smtp/server.h) and the Mta. The session asks, the Mta decides:
//   MAIL FROM       -> Mta::check_sender
//   RCPT TO         -> Mta::check_recipient (relay policy, mailbox, probe)
//   AUTH            -> the host's authenticator (the user table)
//   end of DATA     -> Mta::receive: Received: header, durable spool,
//                      and only then "250 2.0.0 Ok: queued as <id>"
//
// Two layers, use whichever fits the host:
//   SmtpInbound     only the decisions; the host moves the bytes (real/net's
//                   connection, or anything that already runs a ServerSession).
//   InboundServer   the whole thing on ByteStreams: accept(stream) hosts a
//                   ServerSession + Channel (STARTTLS) + SmtpInbound per
//                   connection and frees it when it closes (the simulator).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "real/mta/mta.h"
#include "real/session/channel.h"
#include "real/smtp/server.h"
#include "real/tls/tls_context.h"

namespace mailsim::mta {

// Checks an AUTH user name and password; true = 235.
using Authenticator = std::function<bool(const std::string& user, const std::string& password)>;

class SmtpInbound {
 public:
  // `mta` and `session` are borrowed and must outlive this object.
  // `on_answer` runs whenever a decision was handed to the session later
  // than the pump() that saw it (spool write done, probe answered): the host
  // then flushes the session's output (take_output / Channel::pump).
  SmtpInbound(Mta& mta, smtp::ServerSession& session, std::function<void()> on_answer = {},
              Authenticator authenticator = {});
  ~SmtpInbound();
  SmtpInbound(const SmtpInbound&) = delete;
  SmtpInbound& operator=(const SmtpInbound&) = delete;

  // Reads the session's events and answers its decisions. Call after
  // start(), after every receive() and after tls_established().
  void pump();
  // True while the Mta has not yet answered (the host should pause reading).
  bool awaiting_decision() const { return waiting_; }
  // Every event of the session, for a trace (called before it is handled).
  void set_observer(std::function<void(const smtp::ServerEvent&)> observer) { observer_ = std::move(observer); }

  // The client as the session knows it now (for Received: and the policy).
  ClientInfo client() const;

 private:
  void answered();

  Mta& mta_;
  smtp::ServerSession& session_;
  std::function<void()> on_answer_;
  Authenticator authenticator_;
  std::function<void(const smtp::ServerEvent&)> observer_;
  bool waiting_ = false;
  bool pumping_ = false;
  // True while the Mta is being asked: an answer given then came at once,
  // and the loop in pump() picks it up; one given later calls answered().
  bool asking_ = false;
  // The client as it was when the transaction began (MAIL FROM): EHLO,
  // STARTTLS and AUTH each end a transaction, so it holds for its RCPTs
  // and its message.
  ClientInfo transaction_client_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

struct InboundOptions {
  // Greeting name, limits, TLS/AUTH policy of the server sessions. The
  // hostname defaults to the Mta's, the size limit to its message_size_limit.
  smtp::ServerConfig server;
  // Server certificate for STARTTLS (server.tls_available is set from it).
  std::optional<tls::TlsContext> tls;
  Authenticator authenticator;
  // A client silent this long gets "421 4.4.2 ... timeout" and is dropped
  // (RFC 5321 §4.5.3.2.7: at least 5 minutes). 0 disables.
  Duration idle_timeout = 300 * kSecond;
  // Trace hooks, per connection: channel (wire bytes, TLS) and session events.
  std::function<std::function<void(const ChannelEvent&)>(const smtp::PeerIdentity&)> channel_observer;
  std::function<void(const smtp::PeerIdentity&, const smtp::ServerEvent&)> session_observer;
};

// What one connection adds to its server's options (accept()): hooks that
// know which connection they serve, and a greeting of its own.
struct ConnectionOptions {
  // Called after the server's own hooks (InboundOptions), for this connection only.
  std::function<void(const ChannelEvent&)> channel_observer;
  std::function<void(const smtp::ServerEvent&)> session_observer;
  // Told every AUTH decision the server's authenticator made.
  std::function<void(const std::string& user, bool accepted)> auth_observer;
  // This client is turned away at the greeting (a blocklist listed it, the
  // counter is full): see smtp::ServerConfig::reject_greeting.
  std::optional<smtp::Reply> reject_greeting;
};

// Accepts SMTP connections for one Mta (port 25 or 587 of a simulated host).
class InboundServer {
 public:
  InboundServer(Mta& mta, Clock& clock, InboundOptions options = {});
  ~InboundServer();
  InboundServer(const InboundServer&) = delete;
  InboundServer& operator=(const InboundServer&) = delete;

  // A client connected: serve it until either side closes.
  void accept(std::unique_ptr<ByteStream> stream, smtp::PeerIdentity peer, ConnectionOptions own = {});
  std::size_t connections() const { return conns_.size(); }

 private:
  class Conn;
  void forget(Conn* c);

  Mta& mta_;
  Clock& clock_;
  InboundOptions options_;
  std::map<Conn*, std::unique_ptr<Conn>> conns_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace mailsim::mta
