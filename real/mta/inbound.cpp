// SMTP server decisions answered by the Mta (RFC 5321 §3.3, §4.2.5: the
// 250 after DATA means the message is ours to deliver — so only after fsync).
#include "real/mta/inbound.h"

#include <type_traits>

#include "real/mta/channel_stream.h"
#include "real/mta/deadline_timer.h"
#include "real/mta/smtp_transport.h"

namespace mailsim::mta {

namespace ev = smtp::server_events;

SmtpInbound::SmtpInbound(Mta& mta, smtp::ServerSession& session, std::function<void()> on_answer,
                         Authenticator authenticator)
    : mta_(mta), session_(session), on_answer_(std::move(on_answer)), authenticator_(std::move(authenticator)) {}

SmtpInbound::~SmtpInbound() { alive_.reset(); }

ClientInfo SmtpInbound::client() const {
  const auto& env = session_.envelope();
  ClientInfo c;
  c.address = env.peer.address;
  c.name = env.peer.hostname;
  c.helo = env.helo_name;
  c.auth_user = env.authenticated_user;
  c.protocol = env.with_protocol();
  if (env.tls) c.tls = "using " + env.tls->version + " with cipher " + env.tls->cipher;
  return c;
}

void SmtpInbound::pump() {
  if (pumping_) return;  // an answer given inside pump() is picked up by the loop
  pumping_ = true;
  std::weak_ptr<int> alive = alive_;
  while (!waiting_) {
    auto event = session_.next_event();
    if (!event) break;
    if (observer_) observer_(*event);
    std::visit(
        [&](auto& e) {
          using T = std::decay_t<decltype(e)>;
          if constexpr (std::is_same_v<T, ev::MailFrom>) {
            transaction_client_ = client();
            session_.accept_mail(to_smtp(mta_.check_sender(transaction_client_, e.reverse_path)));
          } else if constexpr (std::is_same_v<T, ev::RcptTo>) {
            waiting_ = true;
            asking_ = true;
            mta_.check_recipient(transaction_client_, e.forward_path, [this, alive](Reply r) {
              if (alive.expired()) return;
              waiting_ = false;
              session_.accept_rcpt(to_smtp(r));
              if (!asking_) answered();
            });
            if (!alive.expired()) asking_ = false;
          } else if constexpr (std::is_same_v<T, ev::AuthRequest>) {
            // Acting for someone else (a PLAIN authzid) is not offered.
            bool ok = authenticator_ && (e.authzid.empty() || e.authzid == e.username) &&
                      authenticator_(e.username, e.password);
            session_.auth_result(ok);
          } else if constexpr (std::is_same_v<T, ev::MessageReceived>) {
            waiting_ = true;
            asking_ = true;
            mta_.receive(transaction_client_, std::move(e.envelope.reverse_path), std::move(e.envelope.recipients),
                         std::move(e.data), [this, alive](Reply r) {
                           if (alive.expired()) return;
                           waiting_ = false;
                           session_.message_result(to_smtp(r));
                           if (!asking_) answered();
                         });
            if (!alive.expired()) asking_ = false;
          }
        },
        *event);
    if (alive.expired()) return;
  }
  pumping_ = false;
}

// A late answer: read what the session did with it, then let the host send.
void SmtpInbound::answered() {
  std::weak_ptr<int> alive = alive_;
  pump();
  if (!alive.expired() && on_answer_) on_answer_();
}

// ---- InboundServer ----------------------------------------------------------

class InboundServer::Conn {
 public:
  Conn(InboundServer& server, std::unique_ptr<ByteStream> stream, smtp::PeerIdentity peer, ConnectionOptions own)
      : server_(server),
        peer_(std::move(peer)),
        session_(own.reject_greeting ? rejecting(server.options_.server, std::move(own.reject_greeting))
                                     : server.options_.server,
                 peer_),
        session_observer_(std::move(own.session_observer)),
        auth_observer_(std::move(own.auth_observer)) {
    const auto& o = server.options_;
    // The server's check, told to this connection's observer when it has one.
    Authenticator authenticator;
    if (auth_observer_) {
      authenticator = [this](const std::string& user, const std::string& password) {
        const auto& check = server_.options_.authenticator;
        const bool ok = check && check(user, password);
        auth_observer_(user, ok);
        return ok;
      };
    } else {
      authenticator = o.authenticator;
    }
    inbound_ =
        std::make_unique<SmtpInbound>(server.mta_, session_, [this] { after_answer(); }, std::move(authenticator));
    if (o.session_observer || session_observer_) {
      inbound_->set_observer([this](const smtp::ServerEvent& e) {
        if (server_.options_.session_observer) server_.options_.session_observer(peer_, e);
        if (session_observer_) session_observer_(e);
      });
    }
    ChannelOptions co;
    co.role = tls::TlsRole::kServer;
    co.tls = o.tls;
    co.implicit_tls = o.server.implicit_tls;  // port 465: TLS from the first byte
    if (o.channel_observer) co.observer = o.channel_observer(peer_);
    if (own.channel_observer && co.observer)
      co.observer = [first = std::move(co.observer), then = std::move(own.channel_observer)](const ChannelEvent& e) {
        first(e);
        then(e);
      };
    else if (own.channel_observer)
      co.observer = std::move(own.channel_observer);
    io_ = std::make_unique<ChannelStream>(
        session_, std::move(co), std::move(stream), [this] { after_input(); }, [this] { closed(); });
  }

  ~Conn() { timer_.stop(); }

  void start() {
    io_->start();
    inbound_->pump();
    io_->flush();
    arm_timer();
  }

 private:
  void after_input() {
    inbound_->pump();
    arm_timer();
  }
  void after_answer() {
    io_->flush();
    arm_timer();
  }

  // The idle timeout (a DeadlineTimer: every input and answer moves it
  // without a clock operation).
  void arm_timer() {
    const auto timeout = server_.options_.idle_timeout;
    // While the Mta decides, the silence is ours, not the client's.
    if (timeout <= 0 || io_->closed() || inbound_->awaiting_decision()) return timer_.disarm();
    timer_.arm(timeout);
  }
  void timed_out() {
    io_->stream().write("421 4.4.2 " + session_.config().hostname + " Error: timeout exceeded\r\n");
    io_->close();
  }

  void closed() {
    timer_.stop();
    server_.forget(this);
  }

  static smtp::ServerConfig rejecting(smtp::ServerConfig config, std::optional<smtp::Reply> reply) {
    config.reject_greeting = std::move(reply);
    return config;
  }

  InboundServer& server_;
  smtp::PeerIdentity peer_;
  smtp::ServerSession session_;
  std::function<void(const smtp::ServerEvent&)> session_observer_;
  std::function<void(const std::string&, bool)> auth_observer_;
  std::unique_ptr<SmtpInbound> inbound_;
  std::unique_ptr<ChannelStream> io_;
  DeadlineTimer timer_{server_.clock_, [this] { timed_out(); }};
};

InboundServer::InboundServer(Mta& mta, Clock& clock, InboundOptions options)
    : mta_(mta), clock_(clock), options_(std::move(options)) {
  if (options_.server.hostname == "localhost") options_.server.hostname = mta.config().hostname;
  options_.server.tls_available = options_.tls.has_value();
  if (options_.server.max_message_size == smtp::ServerConfig{}.max_message_size)
    options_.server.max_message_size = mta.config().message_size_limit;
}

InboundServer::~InboundServer() {
  alive_.reset();
  conns_.clear();
}

void InboundServer::accept(std::unique_ptr<ByteStream> stream, smtp::PeerIdentity peer, ConnectionOptions own) {
  auto conn = std::make_unique<Conn>(*this, std::move(stream), std::move(peer), std::move(own));
  Conn* raw = conn.get();
  conns_[raw] = std::move(conn);
  raw->start();
}

void InboundServer::forget(Conn* c) {
  // Not now: we are inside the connection's own callback.
  std::weak_ptr<int> alive = alive_;
  clock_.schedule(0, [this, alive, c] {
    if (!alive.expired()) conns_.erase(c);
  });
}

}  // namespace mailsim::mta
