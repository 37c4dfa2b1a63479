// Outbound SMTP for the MTA: ClientSession + Channel over a Connector stream
// (RFC 5321 §3.3 transactions, §4.5.3.2 timeouts; RFC 3207 STARTTLS).
#include "real/mta/smtp_transport.h"

#include <algorithm>
#include <type_traits>

#include "real/mta/channel_stream.h"
#include "real/mta/deadline_timer.h"

namespace mailsim::mta {

Reply from_smtp(const smtp::Reply& r) {
  // The lines, each after a space: one line is its own text.
  std::string text = r.lines.joined();
  std::replace(text.begin(), text.end(), '\n', ' ');
  return Reply{r.code, r.enhanced, std::move(text)};
}

smtp::Reply to_smtp(const Reply& r) { return smtp::make_reply(r.code, r.enhanced, r.text); }

namespace {

smtp::StartTlsPolicy starttls_policy(TlsPolicy p, bool have_context) {
  switch (p) {
    case TlsPolicy::none: return smtp::StartTlsPolicy::kNever;
    case TlsPolicy::opportunistic:
      return have_context ? smtp::StartTlsPolicy::kIfOffered : smtp::StartTlsPolicy::kNever;
    case TlsPolicy::required: return smtp::StartTlsPolicy::kRequired;
  }
  return smtp::StartTlsPolicy::kNever;
}

smtp::ClientConfig client_config(const OpenRequest& req, bool have_tls) {
  smtp::ClientConfig c;
  c.helo_name = req.helo_name;
  c.starttls = starttls_policy(req.tls, have_tls);
  if (!req.auth_user.empty()) c.auth = smtp::Credentials{req.auth_user, req.auth_password, ""};
  return c;
}

}  // namespace

// ---- Link: one connection ------------------------------------------------------

class SmtpTransport::Link : public std::enable_shared_from_this<Link> {
 public:
  Link(SmtpTransport& t, OpenRequest req, std::function<void(OpenResult)> on_open)
      : t_(t),
        req_(std::move(req)),
        session_(client_config(req_, t.options_.tls.has_value())),
        on_open_(std::move(on_open)) {}

  void start(std::unique_ptr<ByteStream> stream) {
    ChannelOptions co;
    co.role = tls::TlsRole::kClient;
    co.tls = t_.options_.tls;
    co.server_name = req_.host;
    if (t_.options_.channel_observer) co.observer = t_.options_.channel_observer(req_);
    std::weak_ptr<Link> weak = weak_from_this();
    io_ = std::make_unique<ChannelStream>(
        session_, std::move(co), std::move(stream),
        [weak] {
          if (auto self = weak.lock()) {
            self->arm_timer();  // input arrived: the wait starts again
            self->drive();
          }
        },
        [weak] {
          if (auto self = weak.lock()) self->on_stream_closed();
        });
    arm_timer();
    io_->start();
    drive();
  }

  void send(const DeliveryJob& job, std::function<void(JobResult)> done) {
    on_job_ = std::move(done);
    job_rcpts_ = job.recipients.size();
    if (phase_ != Phase::ready) return fail_job("the connection to " + where() + " is closed");
    phase_ = Phase::busy;
    smtp::Envelope env;
    env.reverse_path = job.sender;
    env.recipients = job.recipients;
    session_.send(env, job.message ? std::string_view(*job.message) : std::string_view{});
    arm_timer();
    drive();
  }

  void probe(const std::string& recipient, std::function<void(Reply)> done) {
    on_probe_ = std::move(done);
    if (phase_ != Phase::ready) {
      auto cb = std::move(on_probe_);
      return cb(make_reply(451, "4.4.2", "the connection to " + where() + " is closed"));
    }
    phase_ = Phase::busy;
    session_.verify_recipient(recipient, "");
    arm_timer();
    drive();
  }

  // The MTA dropped its handle: say goodbye and go.
  void release() {
    released_ = true;
    on_job_ = nullptr;
    on_probe_ = nullptr;
    on_open_ = nullptr;
    if (!io_ || io_->closed()) {
      timer_.stop();
      return t_.forget(this);
    }
    session_.quit();
    arm_timer();
    drive();
  }

  bool usable() const { return phase_ == Phase::ready && io_ && !io_->closed(); }
  std::string tls_version() const { return session_.tls_active() && io_ ? io_->channel().tls_info()->version : ""; }

 private:
  enum class Phase { opening, ready, busy, done };

  std::string where() const { return req_.host + "[" + req_.address + "]"; }

  // The reply timeout (a DeadlineTimer: the wait restarts on every input
  // and every command, 8 times for a letter on its own connection, without
  // a clock operation each time).
  void arm_timer() {
    if (t_.options_.reply_timeout <= 0 || !io_ || io_->closed()) return timer_.stop();
    if (phase_ == Phase::ready && !released_) return timer_.disarm();  // idle in the MTA's cache: the MTA times it
    timer_.arm(t_.options_.reply_timeout);
  }

  void on_timeout() {
    timed_out_ = true;
    session_.peer_closed();  // the session fails its work...
    drive();
    if (io_) io_->close();   // ...and the connection goes
  }

  // Reads every event the session has; safe against re-entry from callbacks.
  void drive() {
    if (driving_) {
      again_ = true;
      return;
    }
    auto self = shared_from_this();  // a callback may drop the last handle
    driving_ = true;
    do {
      again_ = false;
      while (auto ev = session_.next_event()) {
        if (t_.options_.client_observer) t_.options_.client_observer(req_, *ev);
        handle(*ev);
      }
      if (io_) io_->flush();
    } while (again_);
    driving_ = false;
  }

  void handle(smtp::ClientEvent& ev) {
    namespace ce = smtp::client_events;
    if (std::holds_alternative<ce::Idle>(ev)) {
      if (phase_ == Phase::opening) {
        phase_ = Phase::ready;
        timer_.disarm();
        if (auto cb = std::move(on_open_)) {
          OpenResult r;
          r.connection = std::make_unique<Handle>(shared_from_this());
          cb(std::move(r));
        }
      } else if (phase_ == Phase::busy) {
        phase_ = Phase::ready;
        timer_.disarm();
      }
    } else if (auto* t = std::get_if<ce::TransactionResult>(&ev)) {
      JobResult r;
      for (const auto& o : t->recipients) r.per_recipient.push_back(from_smtp(o.reply));
      r.reusable = true;
      phase_ = Phase::ready;  // the session goes on (RSET after a failure) and queues the next job
      timer_.disarm();
      if (auto cb = std::move(on_job_)) cb(std::move(r));
    } else if (auto* p = std::get_if<ce::ProbeResult>(&ev)) {
      phase_ = Phase::ready;
      timer_.disarm();
      if (auto cb = std::move(on_probe_)) cb(from_smtp(p->reply));
    } else if (auto* f = std::get_if<ce::Failed>(&ev)) {
      on_failed(*f);
    } else if (std::holds_alternative<ce::Closed>(ev)) {
      phase_ = Phase::done;
      timer_.stop();
    }
  }

  void on_failed(const smtp::client_events::Failed& f) {
    const auto before = phase_;
    phase_ = Phase::done;
    std::string reason = timed_out_ ? "timed out waiting for a reply" : f.reason;
    if (before == Phase::opening) {
      OpenResult r;
      // The server's own refusal (554 greeting, 5xx to EHLO, 535 to AUTH) is
      // kept as it is; anything else is "try again later".
      r.failure = f.reply && !timed_out_ && f.reply->code != 421
                      ? from_smtp(*f.reply)
                      : make_reply(421, "4.4.2", where() + ": " + reason);
      if (auto cb = std::move(on_open_)) cb(std::move(r));
    } else if (before == Phase::busy) {
      if (on_job_) fail_job(reason);
      if (auto cb = std::move(on_probe_)) cb(make_reply(451, "4.4.2", "lost connection with " + where() + ": " + reason));
    }
  }

  void fail_job(const std::string& reason) {
    JobResult r;
    r.per_recipient.assign(job_rcpts_, make_reply(421, "4.4.2", "lost connection with " + where() + ": " + reason));
    r.reusable = false;
    if (auto cb = std::move(on_job_)) cb(std::move(r));
  }

  void on_stream_closed() {
    timer_.stop();
    if (phase_ != Phase::done) {
      session_.peer_closed();
      drive();
    }
    phase_ = Phase::done;
    t_.forget(this);
  }

  // What the MTA holds.
  class Handle final : public Connection {
   public:
    explicit Handle(std::shared_ptr<Link> link) : link_(std::move(link)) {}
    ~Handle() override {
      if (link_) link_->release();
    }
    void send(const DeliveryJob& job, std::function<void(JobResult)> done) override {
      link_->send(job, std::move(done));
    }
    void probe(const std::string& recipient, std::function<void(Reply)> done) override {
      link_->probe(recipient, std::move(done));
    }
    void quit() override {
      if (auto l = std::move(link_)) l->release();
    }
    bool usable() const override { return link_ && link_->usable(); }
    std::string tls_version() const override { return link_ ? link_->tls_version() : std::string{}; }

   private:
    std::shared_ptr<Link> link_;
  };

  SmtpTransport& t_;
  OpenRequest req_;
  smtp::ClientSession session_;
  std::unique_ptr<ChannelStream> io_;
  Phase phase_ = Phase::opening;
  std::function<void(OpenResult)> on_open_;
  std::function<void(JobResult)> on_job_;
  std::function<void(Reply)> on_probe_;
  std::size_t job_rcpts_ = 0;
  DeadlineTimer timer_{t_.clock_, [this] {
    auto self = shared_from_this();  // on_timeout() may let the transport forget this link
    on_timeout();
  }};
  bool timed_out_ = false;
  bool released_ = false;
  bool driving_ = false;
  bool again_ = false;
};

// ---- SmtpTransport ------------------------------------------------------------

SmtpTransport::SmtpTransport(Connector& connector, Clock& clock, SmtpTransportOptions options)
    : connector_(connector), clock_(clock), options_(std::move(options)) {}

SmtpTransport::~SmtpTransport() { alive_.reset(); }

void SmtpTransport::open(const OpenRequest& request, std::function<void(OpenResult)> done) {
  std::weak_ptr<int> alive = alive_;
  connector_.connect(request.address, request.port,
                     // request = request: a copy that is not const, so it can move on into the link.
                     [this, alive, request = request, done = std::move(done)](ConnectResult cr) mutable {
                       if (alive.expired()) return;
                       if (!cr.stream) {
                         OpenResult r;
                         r.failure = connect_failure_reply(request.host, request.address, request.port, cr.error,
                                                           cr.detail);
                         done(std::move(r));
                         if (!alive.expired() && options_.on_link_freed) options_.on_link_freed();
                         return;
                       }
                       auto link = std::make_shared<Link>(*this, std::move(request), std::move(done));
                       links_[link.get()] = link;
                       link->start(std::move(cr.stream));
                     });
}

void SmtpTransport::forget(Link* link) {
  std::weak_ptr<int> alive = alive_;
  clock_.schedule(0, [this, alive, link] {
    if (alive.expired()) return;
    links_.erase(link);
    if (options_.on_link_freed) options_.on_link_freed();
  });
}

}  // namespace mailsim::mta
