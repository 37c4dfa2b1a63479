// One accepted TCP connection hosting one protocol session (Boost.Asio).
// Beast-style: the object is kept alive by shared_from_this in every pending
// handler, all its work runs on its own strand, every read and write has a
// deadline (a peer that goes silent is dropped after the idle timeout, with
// the protocol's goodbye line, RFC 5321 4.5.3.2), and reading pauses while
// the protocol glue waits for an asynchronous decision or while too much
// output is unsent (back-pressure against pipelining floods).
//
// Cheap round trips (a one-connection SMTP client waits for every reply):
// the deadline is a "last activity" stamp checked by one timer that wakes at
// most once per idle timeout, not a timer re-armed (timerfd_settime) per read
// and write; replies are written straight to the non-blocking socket and
// only what the kernel does not take goes through async_write; input is read
// straight from the socket too (the next command is often there already),
// and only when none is waiting does the connection ask the reactor to wake
// it (async_wait), so a command costs no handler hand-off of its own.
// Internal to real/net: this header includes Boost.
#pragma once

#include "real/net/protocol_glue.h"
#include "real/net/wire.h"

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>
// (fixed in 1.75); include it first so C++20 builds.
#include <utility>

#include <boost/asio.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace mailsim::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

class ConnectionRegistry;

class Connection final : public std::enable_shared_from_this<Connection>,
                         public StrandPoster,
                         public ConnectionHandle {
 public:
  using WireFactory = std::function<std::unique_ptr<Wire>(Session&)>;

  // `socket` must use a strand executor of its own (accept with
  // asio::make_strand). The registry slot was reserved by the caller and is
  // released by the destructor.
  Connection(tcp::socket socket, std::unique_ptr<ProtocolGlue> glue, const WireFactory& make_wire,
             PeerInfo peer, std::chrono::milliseconds idle_timeout, ConnectionRegistry& registry);
  ~Connection() override;

  // Starts the session (greeting) and the read loop. Call once, after
  // construction, from any thread.
  void start();
  // Graceful stop, from any thread: waits for a pending decision, then says
  // the goodbye line (e.g. "421 4.3.2 shutting down") and closes.
  void shutdown();
  // Closes now, from any thread.
  void abort();

  // StrandPoster
  void post_to_strand(std::function<void()> fn) override;
  // ConnectionHandle (strand only)
  const PeerInfo& peer() const override { return peer_; }
  bool tls_active() const override { return wire_->tls_active(); }
  Completion defer() override;
  void after(std::chrono::milliseconds delay, std::function<void()> fn) override;
  std::function<void(std::function<void()>)> weak_poster() override;

 private:
  void service();     // serve_once(), then read and serve again while input is there
  void serve_once();  // pump the glue, send output, close as needed
  // Reads what the socket has now and feeds it to the wire; true when it did
  // (or found EOF), false when there is nothing to read yet (then a wait for
  // input is pending, unless reading is paused).
  bool read_now();
  // Not paused: no wait pending, the peer still sends, no decision pending,
  // not too much output unsent.
  bool may_read() const;
  void wait_readable();  // asks the reactor to call on_readable() once input is there
  void maybe_write();
  void on_readable(const boost::system::error_code& ec);
  void on_write(const boost::system::error_code& ec);
  void on_timeout();
  // Notes activity now (a read or a write starts): the deadline is
  // idle_timeout after the latest one. Starts the timer if none waits.
  void touch_deadline();
  void wait_deadline(std::chrono::steady_clock::time_point at);
  void on_deadline();
  void close_now();
  void say_goodbye(bool timed_out);

  // Unsent output above which reading pauses.
  static constexpr std::size_t kMaxUnsentOutput = 1 << 20;
  // Reads one service() call makes before it lets the other connections of
  // its thread have a turn (a client that floods input waits in line).
  static constexpr int kReadsPerTurn = 16;

  tcp::socket socket_;
  asio::steady_timer deadline_;
  std::unique_ptr<ProtocolGlue> glue_;
  GoodbyeSession goodbye_;
  std::unique_ptr<Wire> wire_;
  PeerInfo peer_;
  std::chrono::milliseconds idle_timeout_;
  ConnectionRegistry& registry_;

  std::array<char, 16 * 1024> read_buffer_{};
  std::string outbox_;    // taken from the wire, not yet handed to async_write
  std::string in_flight_; // being written
  bool started_ = false;
  bool reading_ = false;  // an async_wait for input is pending
  bool writing_ = false;
  bool peer_eof_ = false;   // the read side is finished (EOF, reset, or we closed)
  bool eof_told_ = false;   // wire_->peer_closed() was called
  bool stopping_ = false;
  bool closed_ = false;
  std::chrono::steady_clock::time_point last_activity_{};
  bool deadline_waiting_ = false;  // an async_wait on deadline_ is pending
};

// Live connections of a server: enforces the connection cap and lets a
// graceful stop reach every connection. Thread-safe.
class ConnectionRegistry {
 public:
  explicit ConnectionRegistry(std::size_t max_connections) : max_(max_connections) {}

  // Reserves a slot; false when the cap is reached (the caller refuses the
  // connection politely and does not construct a Connection).
  bool try_reserve();
  // Binds a reserved slot to its connection (for shutdown_all / abort_all).
  void attach(Connection* c, std::weak_ptr<Connection> weak);
  // Releases the slot (called by ~Connection).
  void release(Connection* c);

  std::size_t size() const;
  void shutdown_all();
  void abort_all();
  // Runs once the registry becomes empty after stop was requested
  // (immediately if it is empty already). From the releasing thread.
  void on_empty(std::function<void()> fn);

 private:
  mutable std::mutex mutex_;
  std::size_t max_;
  std::size_t count_ = 0;
  std::unordered_map<Connection*, std::weak_ptr<Connection>> live_;
  std::function<void()> on_empty_;
};

}  // namespace mailsim::net
