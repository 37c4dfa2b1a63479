// NetServer: listeners, the io threads, the connection cap and the graceful
// stop, on Boost.Asio.
//
// One io_context per io thread, and each connection stays on the context it
// was accepted onto: every read, write and handler of a connection runs on
// one thread, so a request-reply round trip never hands work to another
// thread (a futex wake-up and a cache miss each time). Connections are dealt
// out to the threads in turn.
#include "real/net/net_server.h"

#include "real/net/connection.h"

#include <pthread.h>

#include <atomic>
#include <csignal>
#include <iostream>
#include <optional>
#include <thread>
#include <vector>

namespace mailsim::net {

namespace {

// Writes the refusal line to a connection over the cap, then closes it.
void refuse(tcp::socket socket, const std::string& line) {
  auto s = std::make_shared<tcp::socket>(std::move(socket));
  if (line.empty()) {
    boost::system::error_code ignored;
    s->close(ignored);
    return;
  }
  auto text = std::make_shared<std::string>(line);
  asio::async_write(*s, asio::buffer(*text), [s, text](const boost::system::error_code&, std::size_t) {
    boost::system::error_code ignored;
    s->shutdown(tcp::socket::shutdown_both, ignored);
    s->close(ignored);
  });
}

}  // namespace

struct NetServer::Impl {
  struct Listener {
    Listener(asio::io_context& io, ServiceSpec s) : spec(std::move(s)), acceptor(asio::make_strand(io)),
                                                    retry_timer(acceptor.get_executor()) {}
    ServiceSpec spec;
    tcp::acceptor acceptor;
    asio::steady_timer retry_timer;
    std::uint16_t bound_port = 0;
    tcp::endpoint peer;  // filled in by the pending accept (one at a time per listener)
  };

  explicit Impl(NetServerOptions o)
      : options(o),
        ios(make_contexts(threads_for(o))),
        io(*ios.front()),
        control(asio::make_strand(io)),
        registry(o.max_connections),
        grace_timer(control) {
    for (auto& c : ios) work.push_back(asio::make_work_guard(*c));
    if (options.handle_signals) {
      signals.emplace(control, SIGINT, SIGTERM);
      signals->async_wait([this](const boost::system::error_code& ec, int signal_number) {
        if (ec) return;
        if (on_signal) on_signal(signal_number);
        stop();
      });
    }
  }

  static unsigned threads_for(const NetServerOptions& o) {
    if (o.threads != 0) return o.threads;
    const unsigned hw = std::thread::hardware_concurrency();
    return hw == 0 ? 2 : hw;
  }

  static std::vector<std::unique_ptr<asio::io_context>> make_contexts(unsigned n) {
    std::vector<std::unique_ptr<asio::io_context>> out;
    // Concurrency hint 1: one thread runs each context (it still takes
    // posts from other threads: completions from the MTA, a stop()).
    for (unsigned i = 0; i < n; ++i) out.push_back(std::make_unique<asio::io_context>(1));
    return out;
  }

  // The context the next connection lives on.
  asio::io_context& next_context() { return *ios[next_io.fetch_add(1) % ios.size()]; }

  void accept(const std::shared_ptr<Listener>& l) {
    // A strand of the chosen context: the connection's executor, as
    // Connection requires (cheap on a one-thread context).
    // The peer's address comes with the accept (no getpeername() per connection).
    l->acceptor.async_accept(asio::make_strand(next_context()), l->peer, [this, l](const boost::system::error_code& ec,
                                                                          tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !l->acceptor.is_open()) return;
      if (ec) {
        // EMFILE and friends: wait a moment instead of spinning.
        std::cerr << "mailsim serve: accept on " << l->spec.name << ": " << ec.message() << "\n";
        l->retry_timer.expires_after(std::chrono::milliseconds(100));
        l->retry_timer.async_wait([this, l](const boost::system::error_code& e) {
          if (!e) accept(l);
        });
        return;
      }
      on_accepted(*l, std::move(socket), l->peer);
      accept(l);
    });
  }

  void on_accepted(Listener& l, tcp::socket socket, const tcp::endpoint& remote) {
    if (stopping.load()) {
      boost::system::error_code ignored;
      socket.close(ignored);
      return;
    }
    if (!registry.try_reserve()) {
      refuse(std::move(socket), l.spec.refusal_line);
      return;
    }
    PeerInfo peer;
    peer.service = l.spec.name;
    peer.local_port = l.bound_port;
    peer.address = remote.address().to_string();
    peer.port = remote.port();
    std::shared_ptr<Connection> connection;
    try {
      auto glue = l.spec.make_glue(peer);
      Connection::WireFactory make_wire =
          l.spec.make_wire ? l.spec.make_wire : [](Session& s) -> std::unique_ptr<Wire> {
            return std::make_unique<PlainWire>(s);
          };
      connection = std::make_shared<Connection>(std::move(socket), std::move(glue), make_wire, peer,
                                                l.spec.idle_timeout.value_or(options.idle_timeout), registry);
    } catch (const std::exception& e) {
      // The slot was reserved; a Connection that was never built cannot
      // release it, so do it here.
      registry.release(nullptr);
      std::cerr << "mailsim serve: cannot start a " << l.spec.name << " session: " << e.what() << "\n";
      return;
    }
    registry.attach(connection.get(), connection);
    connection->start();
    if (stopping.load()) connection->shutdown();  // raced with stop(): see ConnectionRegistry
  }

  void stop() {
    if (stopping.exchange(true)) return;
    asio::post(control, [this] {
      for (auto& l : listeners) {
        asio::post(l->acceptor.get_executor(), [l] {
          boost::system::error_code ignored;
          l->acceptor.close(ignored);
          l->retry_timer.cancel();
        });
      }
      if (signals) {
        boost::system::error_code ignored;
        signals->cancel(ignored);
      }
      registry.shutdown_all();
      grace_timer.expires_after(options.shutdown_grace);
      grace_timer.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) registry.abort_all();
      });
      registry.on_empty([this] { asio::post(control, [this] { grace_timer.cancel(); }); });
      for (auto& w : work) w.reset();
    });
  }

  void run_thread(asio::io_context& context) {
    for (;;) {
      try {
        context.run();
        return;
      } catch (const std::exception& e) {
        // A handler threw: report it and keep serving the other connections.
        std::cerr << "mailsim serve: internal error: " << e.what() << "\n";
      }
    }
  }

  NetServerOptions options;
  std::vector<std::unique_ptr<asio::io_context>> ios;  // one per io thread
  asio::io_context& io;  // the first: listeners, signals, the stop logic
  std::atomic<std::size_t> next_io{0};
  asio::strand<asio::io_context::executor_type> control;
  ConnectionRegistry registry;
  asio::steady_timer grace_timer;
  std::optional<asio::signal_set> signals;
  std::vector<std::optional<asio::executor_work_guard<asio::io_context::executor_type>>> work;
  std::mutex listeners_mutex;
  std::vector<std::shared_ptr<Listener>> listeners;
  std::atomic<bool> stopping{false};
  std::vector<std::thread> threads;
  std::function<void(int)> on_signal;
};

NetServer::NetServer(NetServerOptions options) : impl_(std::make_unique<Impl>(options)) {}

NetServer::~NetServer() {
  stop();
  join();
}

std::uint16_t NetServer::add_service(ServiceSpec spec) {
  auto l = std::make_shared<Impl::Listener>(impl_->io, std::move(spec));
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(l->spec.address, ec);
  if (ec) throw BindError(l->spec.name + ": bad listen address " + l->spec.address);
  const tcp::endpoint endpoint(address, l->spec.port);
  auto fail = [&](const char* what) {
    throw BindError(l->spec.name + ": cannot " + what + " " + l->spec.address + ":" +
                    std::to_string(l->spec.port) + ": " + ec.message());
  };
  if (l->acceptor.open(endpoint.protocol(), ec)) fail("open");
  // Lets a restarted server bind at once while old connections sit in
  // TIME_WAIT; does not allow two live listeners on one port on Linux.
  if (l->acceptor.set_option(tcp::acceptor::reuse_address(true), ec)) fail("configure");
  if (l->acceptor.bind(endpoint, ec)) fail("listen on");
  if (l->acceptor.listen(asio::socket_base::max_listen_connections, ec)) fail("listen on");
  l->bound_port = l->acceptor.local_endpoint(ec).port();
  {
    std::lock_guard lock(impl_->listeners_mutex);
    impl_->listeners.push_back(l);
  }
  asio::post(l->acceptor.get_executor(), [this, l] { impl_->accept(l); });
  return l->bound_port;
}

void NetServer::start() {
  for (auto& context : impl_->ios)
    impl_->threads.emplace_back([this, c = context.get()] {
      ::pthread_setname_np(::pthread_self(), "mailsim-net");  // as top -H and perf show it
      impl_->run_thread(*c);
    });
}

void NetServer::join() {
  for (auto& t : impl_->threads)
    if (t.joinable()) t.join();
  impl_->threads.clear();
}

void NetServer::run() {
  start();
  join();
}

void NetServer::stop() { impl_->stop(); }

bool NetServer::stopping() const { return impl_->stopping.load(); }

void NetServer::on_signal(std::function<void(int)> fn) { impl_->on_signal = std::move(fn); }

std::size_t NetServer::live_connections() const { return impl_->registry.size(); }

}  // namespace mailsim::net
