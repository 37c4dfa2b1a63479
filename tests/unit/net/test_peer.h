// Helpers for real/net tests: a tiny line protocol session and its glue, and
// a blocking POSIX client socket with a safety timeout (tests wait for
// events, never sleep; the timeout only turns a hang into a failure).
#pragma once

#include "real/net/protocol_glue.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>

namespace mailsim::net::testing {

// "ECHO x" -> "250 x"; "SLOW x" -> an asynchronous decision the test
// answers from its own thread -> "250 slow x"; "QUIT" -> "221 bye", close.
// Lines wait in the session while a decision is pending, like a pipelining
// SMTP server.
class LineSession final : public Session {
 public:
  void start() override { out_ += "220 line service ready\r\n"; }
  void receive(std::string_view bytes) override {
    in_.append(bytes);
    process();
  }
  std::string take_output() override { return std::exchange(out_, {}); }
  bool tls_requested() const override { return false; }
  void tls_established(const TlsInfo&) override {}
  void tls_failed(std::string_view) override {}
  bool wants_close() const override { return quit_; }
  void peer_closed() override { peer_closed_ = true; }

  // The pending decision's argument, if the session waits for one.
  std::optional<std::string> pending() const { return pending_; }
  void answer(const std::string& verdict) {
    out_ += "250 " + verdict + " " + *pending_ + "\r\n";
    pending_.reset();
    process();
  }
  bool peer_closed_seen() const { return peer_closed_; }

 private:
  void process() {
    while (!pending_ && !quit_) {
      const auto eol = in_.find("\r\n");
      if (eol == std::string::npos) return;
      const std::string line = in_.substr(0, eol);
      in_.erase(0, eol + 2);
      if (line.rfind("ECHO ", 0) == 0) out_ += "250 " + line.substr(5) + "\r\n";
      else if (line.rfind("SLOW ", 0) == 0) pending_ = line.substr(5);
      else if (line == "QUIT") { out_ += "221 bye\r\n"; quit_ = true; }
      else out_ += "500 what?\r\n";
    }
  }
  std::string in_, out_;
  std::optional<std::string> pending_;
  bool quit_ = false;
  bool peer_closed_ = false;
};

// Completions handed to the test thread, in order.
class DecisionQueue {
 public:
  using Decide = std::function<void(const std::string& verdict)>;
  void push(Decide c) {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(c));
    cv_.notify_all();
  }
  // Waits (bounded) for the next decision; throws if none comes.
  Decide pop() {
    std::unique_lock lock(mutex_);
    if (!cv_.wait_for(lock, std::chrono::seconds(10), [&] { return !queue_.empty(); }))
      throw std::runtime_error("no decision was requested");
    Decide c = std::move(queue_.front());
    queue_.pop_front();
    return c;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Decide> queue_;
};

class LineGlue final : public ProtocolGlue {
 public:
  explicit LineGlue(DecisionQueue& decisions) : decisions_(decisions) {}
  Session& session() override { return session_; }
  void pump(ConnectionHandle& conn) override {
    if (session_.pending() && !waiting_) {
      waiting_ = true;
      // The test thread decides; the verdict is applied on the strand. The
      // Completion keeps the connection (and so this glue) alive until then.
      decisions_.push([this, done = conn.defer()](const std::string& verdict) {
        done([this, verdict] { decide(verdict); });
      });
    }
  }
  bool awaiting_decision() const override { return waiting_; }
  std::string goodbye_line(bool timed_out) const override {
    return timed_out ? "421 idle timeout\r\n" : "421 shutting down\r\n";
  }
  // Called by the test through the Completion: runs on the strand.
  void decide(const std::string& verdict) {
    waiting_ = false;
    session_.answer(verdict);
  }

 private:
  DecisionQueue& decisions_;
  LineSession session_;
  bool waiting_ = false;
};

// A blocking client. Every receive has a 10 s safety timeout.
class Client {
 public:
  explicit Client(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) throw std::runtime_error("socket");
    timeval tv{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("connect");
  }
  ~Client() { if (fd_ >= 0) ::close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  void send(const std::string& s) {
    std::size_t off = 0;
    while (off < s.size()) {
      const auto n = ::send(fd_, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("send");
      off += static_cast<std::size_t>(n);
    }
  }
  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }
  void close() { ::close(fd_); fd_ = -1; }

  // One CRLF-terminated line (without CRLF); "<EOF>" at end of stream.
  std::string line() {
    for (;;) {
      if (auto eol = buf_.find("\r\n"); eol != std::string::npos) {
        std::string l = buf_.substr(0, eol);
        buf_.erase(0, eol + 2);
        return l;
      }
      char tmp[4096];
      const auto n = ::recv(fd_, tmp, sizeof tmp, 0);
      if (n == 0) return "<EOF>";
      if (n < 0) return errno == EAGAIN ? "<TIMEOUT>" : "<ERROR>";
      buf_.append(tmp, static_cast<std::size_t>(n));
    }
  }

 private:
  int fd_ = -1;
  std::string buf_;
};

}  // namespace mailsim::net::testing
