// What a TCP connection drives: bytes from the wire in, bytes for the wire
// out. One implementation hosts a Session in plaintext only; the other hosts
// it through real/session/channel.h (STARTTLS and implicit TLS). Boost-free.
#pragma once

#include "real/session/session.h"

#include <memory>
#include <string>
#include <string_view>

namespace mailsim::net {

class Wire {
 public:
  virtual ~Wire() = default;
  virtual void start() = 0;
  // Bytes as read from the socket (ciphertext once TLS is on).
  virtual void receive(std::string_view wire_bytes) = 0;
  // Bytes to write to the socket, accumulated since the last call.
  virtual std::string take_output() = 0;
  // After take_output() was flushed, the socket should be closed.
  virtual bool wants_close() const = 0;
  virtual void peer_closed() = 0;
  virtual bool tls_active() const = 0;
  // True while a TLS handshake runs: no plaintext may be injected then.
  virtual bool handshaking() const = 0;
};

// A session wrapper that lets the host say a last line and hang up (idle
// timeout, shutdown) without the protocol session knowing how: the line is
// appended to the session's output and the wrapper then wants to close. All
// other calls go to the wrapped session.
class GoodbyeSession final : public Session {
 public:
  explicit GoodbyeSession(Session& inner) : inner_(inner) {}

  // Queues `line` (CRLF included) after whatever the session says next and
  // stops feeding it input. Idempotent.
  void say_goodbye(std::string line) {
    if (leaving_) return;
    leaving_ = true;
    goodbye_ = std::move(line);
  }
  bool leaving() const { return leaving_; }

  void start() override { inner_.start(); }
  void receive(std::string_view bytes) override {
    if (!leaving_) inner_.receive(bytes);
  }
  std::string take_output() override {
    std::string out = inner_.take_output();
    if (leaving_) {
      out += goodbye_;
      goodbye_.clear();
      goodbye_taken_ = true;
    }
    return out;
  }
  bool tls_requested() const override { return !leaving_ && inner_.tls_requested(); }
  void tls_established(const TlsInfo& info) override { inner_.tls_established(info); }
  void tls_failed(std::string_view reason) override { inner_.tls_failed(reason); }
  bool wants_close() const override { return goodbye_taken_ || inner_.wants_close(); }
  void peer_closed() override { inner_.peer_closed(); }

 private:
  Session& inner_;
  bool leaving_ = false;
  bool goodbye_taken_ = false;
  std::string goodbye_;
};

// Plaintext only: STARTTLS requests are refused through tls_failed() (the
// session then answers with its "TLS not available" reply).
class PlainWire final : public Wire {
 public:
  explicit PlainWire(Session& session) : session_(session) {}
  void start() override { session_.start(); settle(); }
  void receive(std::string_view bytes) override { session_.receive(bytes); settle(); }
  std::string take_output() override {
    std::string out = std::move(pending_);
    pending_.clear();
    out += session_.take_output();
    settle();
    return out;
  }
  bool wants_close() const override { return session_.wants_close(); }
  void peer_closed() override { session_.peer_closed(); }
  bool tls_active() const override { return false; }
  bool handshaking() const override { return false; }

 private:
  void settle() {
    if (session_.tls_requested()) {
      pending_ += session_.take_output();
      session_.tls_failed("TLS is not available on this connection");
    }
  }
  Session& session_;
  std::string pending_;
};

}  // namespace mailsim::net
