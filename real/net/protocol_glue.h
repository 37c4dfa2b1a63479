// The hook between a TCP connection (real/net/connection.h) and one protocol:
// the connection moves bytes, the glue handles the protocol's events
// (MessageReceived, AuthRequest, ...) and answers them, possibly later from
// another thread. Boost-free: glue code and its tests never see Asio.
#pragma once

#include "real/session/session.h"

#include <chrono>
#include <functional>
#include <mutex>
#include <memory>
#include <string>

namespace mailsim::net {

// Who is on the other end of a connection.
struct PeerInfo {
  std::string address;  // "127.0.0.1"
  unsigned short port = 0;
  unsigned short local_port = 0;
  std::string service;  // "smtp", "submission", "pop3", ... (the listener's name)
};

// Something that can run a function on a connection's strand. Implemented by
// the connection; glue code sees it only through Completion.
class StrandPoster {
 public:
  virtual ~StrandPoster() = default;
  virtual void post_to_strand(std::function<void()> fn) = 0;
};

// A pending asynchronous decision. While a Completion exists the connection
// object and the io_context stay alive, so the answer always has somewhere to
// go. Call it exactly once, from any thread; `on_strand` then runs on the
// connection's strand (where touching the session is safe), after which the
// connection pumps the glue again and sends the session's output.
// Copyable (so it fits in std::function); only the first call has an effect.
class Completion {
 public:
  Completion() = default;
  Completion(std::shared_ptr<StrandPoster> poster, std::shared_ptr<void> keep_running)
      : state_(std::make_shared<State>()) {
    state_->poster = std::move(poster);
    state_->keep_running = std::move(keep_running);
  }

  void operator()(std::function<void()> on_strand) const {
    if (!state_) return;
    std::shared_ptr<StrandPoster> poster;
    std::shared_ptr<void> keep;
    {
      std::lock_guard lock(state_->mutex);
      poster = std::move(state_->poster);
      keep = std::move(state_->keep_running);
    }
    if (!poster) return;  // already completed
    poster->post_to_strand([fn = std::move(on_strand), keep]() mutable {
      fn();
      keep.reset();  // release the io_context only after the strand ran fn
    });
  }

 private:
  struct State {
    std::shared_ptr<StrandPoster> poster;
    std::shared_ptr<void> keep_running;
    std::mutex mutex;
  };
  std::shared_ptr<State> state_;
};

// What a glue may ask of its connection; valid only during pump() (it lives
// on the connection's strand).
class ConnectionHandle {
 public:
  virtual ~ConnectionHandle() = default;
  virtual const PeerInfo& peer() const = 0;
  // True once TLS is established (STARTTLS done, or an implicit-TLS port).
  virtual bool tls_active() const = 0;
  // Starts an asynchronous decision (see Completion).
  virtual Completion defer() = 0;
  // Runs `fn` on the strand after `delay` (a POP3/IMAP failed-login brake),
  // then pumps again. The connection stays alive until then; if it closed
  // meanwhile, `fn` still runs (the session ignores a late resume()).
  virtual void after(std::chrono::milliseconds delay, std::function<void()> fn) = 0;
  // A poster onto this connection's strand that does NOT keep the
  // connection alive: once it is gone, posting does nothing. For
  // notifications from elsewhere (new mail for an IMAP IDLE session).
  // Callable from any thread.
  virtual std::function<void(std::function<void()>)> weak_poster() = 0;
};

// One per connection, owned by the connection, used only on its strand.
class ProtocolGlue {
 public:
  virtual ~ProtocolGlue() = default;

  // The sans-io session this connection hosts. Lives as long as the glue.
  virtual Session& session() = 0;

  // Called after start(), after every chunk of input, after every TLS step
  // and after every Completion ran: take the session's events and act on
  // them (synchronously, or by conn.defer() for work done elsewhere).
  virtual void pump(ConnectionHandle& conn) = 0;

  // While true the connection stops reading from the socket, so a client
  // that pipelines cannot make the server buffer without bound while, say,
  // an fsync is in flight; and a graceful stop waits for it.
  virtual bool awaiting_decision() const = 0;

  // A line the server says before it hangs up on its own: idle timeout
  // (RFC 5321 4.5.3.2: "421 4.4.2 ... timeout"), shutdown ("421 4.3.2"),
  // POP3 "-ERR", IMAP "* BYE". Includes CRLF. Empty = just close.
  virtual std::string goodbye_line(bool timed_out) const = 0;
};

}  // namespace mailsim::net
