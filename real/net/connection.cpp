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
    boost::system::error_code ignored;
    // Replies are written at once (see maybe_write); a command-reply protocol
    // gains nothing from Nagle's algorithm, only delays.
    self->socket_.non_blocking(true, ignored);
    self->socket_.set_option(tcp::no_delay(true), ignored);
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
    socket_.cancel(ignored);  // the wait for input completes with operation_aborted
  }
}

void Connection::serve_once() {
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
  // Written at once, so no on_write() will come: a session that holds its
  // output back until the last chunk is written (a paused IMAP FETCH) must
  // make the next chunk now. A full send buffer ends the loop (the rest goes
  // by async_write, whose on_write() calls service() again).
  while (!closed_ && !writing_ && outbox_.empty()) {
    glue_->pump(*this);
    std::string more = wire_->take_output();
    if (more.empty()) break;
    outbox_ = std::move(more);
    maybe_write();
  }
  if (closed_) return;
  if (!writing_ && outbox_.empty() && (wire_->wants_close() || eof_told_)) {
    close_now();
    return;
  }
  // Neither reading nor writing (a decision is pending): no deadline runs;
  // a timer still waiting finds it so and stops (on_deadline).
}

void Connection::service() {
  // What was read is answered in the same turn, then the next read is tried:
  // a pipelining client's commands take one turn, not one per command.
  for (int reads = 0; !closed_; ++reads) {
    serve_once();
    if (reads == kReadsPerTurn) {
      // Its turn is over: the rest waits for the reactor like any input.
      if (may_read()) wait_readable();
      return;
    }
    if (!read_now()) return;
  }
}

bool Connection::may_read() const {
  if (reading_ || closed_ || peer_eof_ || goodbye_.leaving() || wire_->wants_close()) return false;
  if (glue_->awaiting_decision()) return false;
  return outbox_.size() + in_flight_.size() <= kMaxUnsentOutput;
}

bool Connection::read_now() {
  if (!may_read()) return false;
  boost::system::error_code ec;
  const std::size_t n = socket_.read_some(asio::buffer(read_buffer_), ec);  // non-blocking (start())
  if (ec == asio::error::would_block || ec == asio::error::try_again) {
    wait_readable();
    return false;
  }
  if (ec) {
    // EOF or a reset: nothing more will come. service() tells the session
    // once no decision is pending, flushes what it still says, and closes.
    peer_eof_ = true;
    return true;
  }
  touch_deadline();
  wire_->receive(std::string_view(read_buffer_.data(), n));
  return true;
}

void Connection::wait_readable() {
  reading_ = true;
  touch_deadline();
  socket_.async_wait(tcp::socket::wait_read,
                     [self = shared_from_this()](const boost::system::error_code& ec) { self->on_readable(ec); });
}

void Connection::on_readable(const boost::system::error_code& ec) {
  reading_ = false;
  if (closed_) return;
  if (ec && !(ec == asio::error::operation_aborted && goodbye_.leaving())) {
    peer_eof_ = true;  // the socket failed: nothing more will come
  }
  // Readable (or cancelled to say goodbye): service() reads what is there.
  service();
}

void Connection::maybe_write() {
  if (writing_ || closed_ || outbox_.empty()) return;
  // The socket first: a reply nearly always fits in the send buffer, and
  // then no write operation, reactor registration or handler is needed.
  boost::system::error_code ec;
  const std::size_t n = socket_.write_some(asio::buffer(outbox_), ec);
  if (ec && ec != asio::error::would_block && ec != asio::error::try_again) {
    close_now();
    return;
  }
  if (!ec) outbox_.erase(0, n);
  if (outbox_.empty()) return;
  writing_ = true;
  in_flight_ = std::move(outbox_);
  outbox_.clear();
  touch_deadline();
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

void Connection::touch_deadline() {
  last_activity_ = std::chrono::steady_clock::now();
  if (!deadline_waiting_) wait_deadline(last_activity_ + idle_timeout_);
}

void Connection::wait_deadline(std::chrono::steady_clock::time_point at) {
  deadline_waiting_ = true;
  deadline_.expires_at(at);
  deadline_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    self->deadline_waiting_ = false;
    if (ec || self->closed_) return;  // cancelled by close_now()
    self->on_deadline();
  });
}

void Connection::on_deadline() {
  // Only a read or a write waits for the peer; while a decision is pending
  // (an fsync, a probe) the clock does not run. The next read or write
  // starts the timer again.
  if (!reading_ && !writing_) return;
  const auto due = last_activity_ + idle_timeout_;
  if (std::chrono::steady_clock::now() < due) {
    wait_deadline(due);  // there was activity since this wait began
    return;
  }
  on_timeout();
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
  deadline_.cancel();  // its handler holds this object alive
  // close() alone sends what is still queued and then the FIN, as a
  // shutdown() first would (most peers have closed their side already).
  boost::system::error_code ignored;
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
