// Channel: hosts one sans-io mailsim::Session (server or client side) on a
// byte stream, adding TLS when asked — STARTTLS / STLS (RFC 3207, RFC 2595)
// or implicit TLS from the first byte (RFC 8314 §3: ports 465, 993, 995).
//
// The channel knows neither sockets nor the simulator: real/net and sim/ feed
// it the bytes they receive and send the bytes it hands out. It reports what
// happens (plaintext the session said and heard, bytes on the wire, handshake,
// errors, close) to an observer, which is what the simulator's trace and its
// eavesdropper are built from.
//
// Host loop:
//   Channel ch(session, options);            // session must outlive ch
//   ch.start();                              // once connected
//   send(ch.take_wire_out());
//   on bytes:  ch.wire_in(bytes);  send(ch.take_wire_out());
//   on EOF:    ch.peer_closed();
//   after each step: if (ch.wants_close()) close the stream;
//   pause reading while ch.should_pause_reading() (the peer is not draining).
#pragma once

#include "real/session/session.h"
#include "real/tls/tls_context.h"
#include "real/tls/tls_engine.h"

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace mailsim {

// One observation. Views are valid only during the observer call.
struct ChannelEvent {
  enum class Kind {
    kSessionOut,         // plaintext the session produced (data)
    kSessionIn,          // plaintext delivered to the session (data)
    kWireOut,            // bytes handed to the host to send (data, encrypted)
    kWireIn,             // bytes the host fed in (data, encrypted)
    kHandshakeStarted,   // TLS begins; detail = "client" or "server"
    kHandshakeFinished,  // tls = version, cipher, peer subject
    kTlsError,           // detail = reason (OpenSSL's, with the verifier's)
    kCloseNotifySent,    // our TLS close_notify is in the wire output
    kCloseNotifyReceived,
    kClosed,             // the peer closed the stream (detail says if TLS was cut short)
  };
  Kind kind;
  std::string_view data;    // kSessionOut/In, kWireOut/In
  bool encrypted = false;   // kWireOut/In: TLS records, not plaintext
  std::string_view detail;  // kHandshakeStarted, kTlsError, kClosed
  const TlsInfo* tls = nullptr;  // kHandshakeFinished
};

// Human-readable name of a kind ("wire-out", "handshake-finished", ...).
std::string_view to_string(ChannelEvent::Kind kind);

struct ChannelOptions {
  tls::TlsRole role = tls::TlsRole::kServer;
  // Server: the certificate to present. Client: the trust anchors and
  // whether to verify. Without it, a session's STARTTLS request gets
  // tls_failed("TLS is not configured on this connection") and implicit TLS
  // is impossible.
  std::optional<tls::TlsContext> tls;
  // Client only: the name to send as SNI and to verify the certificate
  // against (a host name, or an IP literal checked against IP SANs).
  std::string server_name;
  // TLS from the first byte; session.start() is called after the handshake.
  // If that handshake fails the session is never started nor told: the host
  // reads tls_failed() / error() (e.g. to defer a message) and closes.
  bool implicit_tls = false;
  // Back-pressure threshold for should_pause_reading().
  std::size_t wire_out_high_water = std::size_t{1} << 20;
  std::function<void(const ChannelEvent&)> observer;
};

class Channel {
 public:
  // `session` is borrowed and must outlive the channel. Throws
  // std::invalid_argument when implicit TLS is asked for without a context or
  // the context's role differs from `options.role`.
  Channel(Session& session, ChannelOptions options);
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  // The stream is connected: starts the session, or the TLS handshake for
  // implicit TLS (a client's ClientHello is then in take_wire_out()).
  void start();

  // Bytes from the peer, any chunking. The view is read during the call only.
  // Ignored after a TLS failure or after the peer closed.
  void wire_in(std::string_view bytes);

  // Bytes to send to the peer, accumulated since the last call.
  std::string take_wire_out();
  std::size_t wire_out_size() const { return wire_out_.size(); }
  // True while more than wire_out_high_water bytes wait to be sent: the host
  // should stop reading from the peer until it has written them.
  bool should_pause_reading() const { return wire_out_.size() > options_.wire_out_high_water; }

  // Call after talking to the session directly (handing it an asynchronous
  // decision, asking a client session to send the next command): takes its
  // output into take_wire_out(), starts TLS if it now asks for it, sends
  // close_notify if it now wants to close. wire_in() and start() do this
  // themselves.
  void pump();

  // The peer closed the stream (EOF, reset, or the host's timeout). Tells
  // the session once.
  void peer_closed();

  // True when the host should close the stream now: the session wants to
  // close (or TLS failed, or the peer closed) and everything — including our close_notify under
  // TLS — has been taken with take_wire_out().
  bool wants_close() const;

  // TLS state, for hosts and traces.
  bool tls_active() const { return engine_.has_value() && engine_->handshake_done() && !tls_failed_; }
  bool tls_failed() const { return tls_failed_; }
  // The TLS failure reason; empty otherwise.
  const std::string& error() const { return error_; }
  // Set once the handshake has finished.
  const std::optional<TlsInfo>& tls_info() const { return tls_info_; }

 private:
  void begin_tls();                  // create the engine in our role
  void send_plain_or_tls(std::string plaintext);
  void to_wire(std::string bytes, bool encrypted);
  void fail_tls(std::string reason);
  void tell_session_closed();        // session.peer_closed(), once
  void emit(ChannelEvent::Kind kind, std::string_view data = {}, bool encrypted = false,
            std::string_view detail = {}, const TlsInfo* tls = nullptr);

  Session& session_;
  ChannelOptions options_;
  std::optional<tls::TlsEngine> engine_;
  std::optional<TlsInfo> tls_info_;
  std::string wire_out_;
  std::string error_;
  bool started_ = false;
  bool session_started_ = false;     // start() called on the session
  bool tls_failed_ = false;
  bool stream_closed_ = false;       // the host reported EOF
  bool close_notify_seen_ = false;
  bool session_told_closed_ = false;
};

}  // namespace mailsim
