// A TCP server for any number of protocol services (SMTP, submission, POP3,
// IMAP, ...): N io threads, each running its own io_context, one listener
// per service, one Connection per client on its own strand of one of them
// (all its work stays on that thread), a cap on concurrent connections
// (over it: the service's refusal line, e.g. "421 4.7.0 too busy", then
// close), and a graceful stop on SIGINT/SIGTERM or stop(): listeners close,
// sessions finish their pending decision and say goodbye ("421 4.3.2"),
// stragglers are closed after the grace period, run() returns.
// Boost-free header (pimpl); the implementation is Boost.Asio.
#pragma once

#include "real/net/protocol_glue.h"
#include "real/net/wire.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace mailsim::net {

// Thrown by add_service when a port cannot be bound (in use, no permission).
class BindError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ServiceSpec {
  std::string name;                  // "smtp"; shown in logs and PeerInfo::service
  std::string address = "127.0.0.1";
  std::uint16_t port = 0;            // 0 = any free port
  // A fresh glue (with its session) for each accepted connection. Called on
  // the connection's strand; must be thread-safe.
  std::function<std::unique_ptr<ProtocolGlue>(const PeerInfo&)> make_glue;
  // How the session meets the bytes: plaintext (+STARTTLS) or implicit TLS.
  // Default: PlainWire.
  std::function<std::unique_ptr<Wire>(Session&)> make_wire;
  // Sent in plaintext when the connection cap is reached; empty = just close
  // (implicit-TLS ports cannot say anything before a handshake).
  std::string refusal_line;
  // Overrides NetServerOptions::idle_timeout for this service (IMAP allows
  // 30 minutes, RFC 3501 §5.4, so IDLE clients are not cut off).
  std::optional<std::chrono::milliseconds> idle_timeout;
};

struct NetServerOptions {
  unsigned threads = 0;  // 0 = std::thread::hardware_concurrency()
  std::chrono::milliseconds idle_timeout{300'000};
  std::size_t max_connections = 200;
  std::chrono::milliseconds shutdown_grace{5'000};
  bool handle_signals = true;  // stop on SIGINT / SIGTERM
};

class NetServer {
 public:
  explicit NetServer(NetServerOptions options);
  ~NetServer();  // stops and joins if still running
  NetServer(const NetServer&) = delete;
  NetServer& operator=(const NetServer&) = delete;

  // Binds and starts listening (before or during run). Returns the bound
  // port. Throws BindError.
  std::uint16_t add_service(ServiceSpec spec);

  // Runs the io threads until stop() (or a signal) and every connection has
  // ended. Blocks; call from one thread.
  void run();
  // Starts the io threads and returns; join() waits like run(). For tests.
  void start();
  void join();

  // Graceful stop; thread-safe and idempotent.
  void stop();
  bool stopping() const;

  // Runs `fn` once the server has stopped because of a signal (from an io
  // thread, before run() returns). Optional; for the log line.
  void on_signal(std::function<void(int signal_number)> fn);

  std::size_t live_connections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mailsim::net
