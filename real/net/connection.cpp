// One TCP connection on its own strand: read, feed the session, pump the
// glue, write, with a deadline on every read and write.
#include "real/net/connection.h"

namespace mailsim::net {

Connection::Connection(tcp::socket socket, std::unique_ptr<ProtocolGlue> glue, const WireFactory& make_wire,
                       PeerInfo peer, std::chrono::milliseconds idle_timeout, ConnectionRegistry& registry)
    : socket_(std::move(socket)),
      deadline_(socket_.get_executor()),
      glue_(std::move(glue)),
      goodbye_(glue_->session()),
      wire_(make_wire(goodbye_)),
      peer_(std::move(peer)),
      idle_timeout_(idle_timeout),
      registry_(registry) {}

Connection::~Connection() { registry_.release(this); }

void Connection::start() {
  asio::dispatch(socket_.get_executor(), [self = shared_from_this()] {
    if (self->started_ || self->closed_) return;
    self->started_ = true;
    self->wire_->start();
    self->service();
  });
}

void Connection::shutdown() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    if (self->closed_ || self->stopping_) return;
    self->stopping_ = true;
    // A decision in flight (an fsync, say) finishes first: service() says
    // goodbye once the glue stops waiting.
    self->service();
  });
}

void Connection::abort() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->close_now(); });
}

void Connection::post_to_strand(std::function<void()> fn) {
  asio::post(socket_.get_executor(), [self = shared_from_this(), fn = std::move(fn)] {
    fn();
    self->service();
  });
}

Completion Connection::defer() {
  // An executor that counts as outstanding work keeps io_context::run() from
  // returning before the decision came back.
  auto tracked = std::make_shared<asio::any_io_executor>(
      asio::prefer(socket_.get_executor(), asio::execution::outstanding_work.tracked));
  return Completion(shared_from_this(), std::move(tracked));
}

void Connection::after(std::chrono::milliseconds delay, std::function<void()> fn) {
  auto timer = std::make_shared<asio::steady_timer>(socket_.get_executor(), delay);
  timer->async_wait([self = shared_from_this(), timer, fn = std::move(fn)](const boost::system::error_code&) {
    fn();
    self->service();
  });
}

std::function<void(std::function<void()>)> Connection::weak_poster() {
  return [weak = weak_from_this()](std::function<void()> fn) {
    if (auto self = weak.lock()) self->post_to_strand(std::move(fn));
  };
}

void Connection::say_goodbye(bool timed_out) {
  if (goodbye_.leaving()) return;
  if (wire_->handshaking()) {
    // Nothing sensible can be said in the middle of a TLS handshake.
    close_now();
    return;
  }
  goodbye_.say_goodbye(glue_->goodbye_line(timed_out));
  if (reading_) {
    boost::system::error_code ignored;
    socket_.cancel(ignored);  // the read completes with operation_aborted
  }
}

void Connection::service() {
  if (closed_) return;
  glue_->pump(*this);
  if (peer_eof_ && !eof_told_ && !glue_->awaiting_decision()) {
    // Told only now, not at EOF: a client that pipelines and half-closes
    // (printf ... | nc) still gets every command it sent answered.
    eof_told_ = true;
    wire_->peer_closed();
    glue_->pump(*this);
  }
  if (stopping_ && !glue_->awaiting_decision()) say_goodbye(false);
  if (closed_) return;
  outbox_ += wire_->take_output();
  maybe_write();
  if (!writing_ && outbox_.empty() && (wire_->wants_close() || eof_told_)) {
    close_now();
    return;
  }
  maybe_read();
  if (!reading_ && !writing_) disarm_deadline();
}

void Connection::maybe_read() {
  if (reading_ || closed_ || peer_eof_ || goodbye_.leaving() || wire_->wants_close()) return;
  if (glue_->awaiting_decision()) return;
  if (outbox_.size() + in_flight_.size() > kMaxUnsentOutput) return;
  reading_ = true;
  arm_deadline();
  socket_.async_read_some(asio::buffer(read_buffer_),
                          [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
                            self->on_read(ec, n);
                          });
}

void Connection::on_read(const boost::system::error_code& ec, std::size_t n) {
  reading_ = false;
  if (closed_) return;
  if (ec) {
    if (ec == asio::error::operation_aborted && goodbye_.leaving()) {
      service();  // we cancelled the read to say goodbye
      return;
    }
    // EOF or a reset: nothing more will come. service() tells the session
    // once no decision is pending, flushes what it still says, and closes.
    peer_eof_ = true;
    service();
    return;
  }
  wire_->receive(std::string_view(read_buffer_.data(), n));
  service();
}

void Connection::maybe_write() {
  if (writing_ || closed_ || outbox_.empty()) return;
  writing_ = true;
  in_flight_ = std::move(outbox_);
  outbox_.clear();
  arm_deadline();
  asio::async_write(socket_, asio::buffer(in_flight_),
                    [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                      self->on_write(ec);
                    });
}

void Connection::on_write(const boost::system::error_code& ec) {
  writing_ = false;
  in_flight_.clear();
  if (closed_) return;
  if (ec) {
    close_now();
    return;
  }
  service();
}

void Connection::arm_deadline() {
  const std::uint64_t generation = ++deadline_generation_;
  deadline_.expires_after(idle_timeout_);
  deadline_.async_wait([self = shared_from_this(), generation](const boost::system::error_code& ec) {
    // A stale timer (re-armed or disarmed since) may still fire with success
    // if it expired just as it was cancelled: the generation tells.
    if (ec || generation != self->deadline_generation_ || self->closed_) return;
    self->on_timeout();
  });
}

void Connection::disarm_deadline() {
  ++deadline_generation_;
  deadline_.cancel();
}

void Connection::on_timeout() {
  if (writing_ || goodbye_.leaving()) {
    // The peer does not even read what we send: nothing more to be polite about.
    close_now();
    return;
  }
  say_goodbye(true);
  service();
}

void Connection::close_now() {
  if (closed_) return;
  closed_ = true;
  disarm_deadline();
  boost::system::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  peer_eof_ = true;
  if (!eof_told_) {
    eof_told_ = true;
    wire_->peer_closed();  // the session releases what it holds (POP3 maildrop lock, ...)
  }
}

// ---- ConnectionRegistry ----------------------------------------------------

bool ConnectionRegistry::try_reserve() {
  std::lock_guard lock(mutex_);
  if (count_ >= max_) return false;
  ++count_;
  return true;
}

void ConnectionRegistry::attach(Connection* c, std::weak_ptr<Connection> weak) {
  std::lock_guard lock(mutex_);
  live_[c] = std::move(weak);
}

void ConnectionRegistry::release(Connection* c) {
  std::function<void()> empty_fn;
  {
    std::lock_guard lock(mutex_);
    live_.erase(c);
    if (count_ > 0) --count_;
    if (count_ == 0 && on_empty_) {
      empty_fn = std::move(on_empty_);
      on_empty_ = nullptr;
    }
  }
  if (empty_fn) empty_fn();
}

std::size_t ConnectionRegistry::size() const {
  std::lock_guard lock(mutex_);
  return count_;
}

void ConnectionRegistry::shutdown_all() {
  std::vector<std::shared_ptr<Connection>> all;
  {
    std::lock_guard lock(mutex_);
    for (auto& [ptr, weak] : live_)
      if (auto c = weak.lock()) all.push_back(std::move(c));
  }
  for (auto& c : all) c->shutdown();
}

void ConnectionRegistry::abort_all() {
  std::vector<std::shared_ptr<Connection>> all;
  {
    std::lock_guard lock(mutex_);
    for (auto& [ptr, weak] : live_)
      if (auto c = weak.lock()) all.push_back(std::move(c));
  }
  for (auto& c : all) c->abort();
}

void ConnectionRegistry::on_empty(std::function<void()> fn) {
  {
    std::lock_guard lock(mutex_);
    if (count_ != 0) {
      on_empty_ = std::move(fn);
      return;
    }
  }
  fn();
}

}  // namespace mailsim::net
