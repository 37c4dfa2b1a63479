// `mailsim serve`: reads the config, prepares the data folder (Maildirs, the
// demo CA and the server certificate), starts one listener per service and
// runs until SIGINT/SIGTERM.
#include "real/net/serve.h"

#include "real/net/channel_wire.h"
#include "real/net/local_delivery.h"
#include "real/net/mailbox_glue.h"
#include "real/net/mta_host.h"
#include "real/mta/file_spool.h"
#include "real/mta/smtp_transport.h"
#include "real/net/net_server.h"
#include "real/net/smtp_glue.h"
#include "real/store/maildir_store.h"
#include "real/store/users.h"
#include "real/tls/demo_ca.h"

#include <nlohmann/json.hpp>

#include <atomic>
#include <csignal>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <unistd.h>

namespace mailsim::net {

namespace fs = std::filesystem;

namespace {

// One line at a time, whole, from any thread.
class Log {
 public:
  explicit Log(std::ostream& out) : out_(out) {}
  void line(const std::string& text) {
    std::lock_guard lock(mutex_);
    out_ << text << std::endl;  // flushed: logs are read while the server runs
  }

 private:
  std::mutex mutex_;
  std::ostream& out_;
};

void write_file_atomic(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << text;
    if (!f) throw std::runtime_error("cannot write " + tmp.string());
  }
  fs::rename(tmp, path);
}

smtp::ServerConfig smtp_session_config(const ServeConfig& c, bool submission) {
  smtp::ServerConfig s;
  s.hostname = c.hostname;
  s.max_message_size = c.limits.message_size;
  s.max_recipients = c.limits.recipients;
  s.tls = c.tls.starttls ? smtp::TlsPolicy::kOptional : smtp::TlsPolicy::kOff;
  s.tls_available = c.tls.starttls;
  // Port 25 style: AUTH offered (an authenticated user may relay), not
  // required. Submission (RFC 6409): MAIL before AUTH gets 530.
  s.auth = submission ? smtp::AuthPolicy::kRequired : smtp::AuthPolicy::kOptional;
  s.auth_before_tls = c.allow_plaintext_auth;
  return s;
}

mta::MtaConfig mta_config(const ServeConfig& c) {
  auto us = [](std::chrono::milliseconds ms) { return static_cast<mta::Duration>(ms.count()) * mta::kMillisecond; };
  mta::MtaConfig m;
  m.hostname = c.hostname;
  m.local_domains = c.local_domains;
  m.trusted_networks = c.mta.trusted_networks;
  m.open_relay = c.mta.open_relay;
  if (!c.mta.relay_host.empty()) m.relay_host = mta::RelayHost{c.mta.relay_host, c.mta.relay_port, "", "", {}};
  m.minimal_backoff_time = us(c.mta.minimal_backoff);
  m.maximal_backoff_time = us(c.mta.maximal_backoff);
  m.maximal_queue_lifetime = us(c.mta.queue_lifetime);
  m.bounce_queue_lifetime = us(c.mta.bounce_lifetime);
  m.message_size_limit = c.limits.message_size;
  // Several servers may share 127.0.0.1 (told apart by port), so the
  // listen address does not mean "us"; loops are caught by hostname and by
  // counting Received: headers.
  m.seed = std::random_device{}();
  return m;
}

}  // namespace

int run_serve(const ServeOptions& options, std::ostream& out, std::ostream& err) {
  // ---- config ----
  ServeConfig config;
  if (options.config_file) {
    auto loaded = load_config(*options.config_file);
    if (auto* e = std::get_if<ConfigError>(&loaded)) {
      err << "mailsim serve: bad config: " << e->to_string() << "\n";
      return 2;
    }
    config = std::get<ServeConfig>(std::move(loaded));
  }
  if (options.data_dir) config.data_dir = *options.data_dir;
  config.data_dir = fs::absolute(config.data_dir).lexically_normal();
  if (options.print_config) {
    out << config_to_json(config);
    return 0;
  }

  // Writing to a client that has gone must not kill the server.
  std::signal(SIGPIPE, SIG_IGN);

  // ---- data folder ----
  std::unique_ptr<store::MaildirStore> store;
  std::optional<tls::TlsContext> server_tls;
  fs::path ca_file;
  try {
    for (const auto& dir : {config.data_dir, config.maildir_root(), config.run_dir()}) fs::create_directories(dir);
    store::MaildirOptions mo;
    mo.root = config.maildir_root();
    mo.hostname = config.hostname;
    store = std::make_unique<store::MaildirStore>(mo);
    for (const auto& u : config.users) store->ensure_user(u.name);
    // The demo CA and this server's certificate are made on first start and
    // reused afterwards, so clients can keep trusting ca.pem.
    const auto ca = tls::DemoCa::load_or_create(config.tls_dir());
    std::vector<std::string> names{config.hostname, "localhost"};
    std::vector<std::string> ips{"127.0.0.1"};
    if (config.listen_address != "127.0.0.1") ips.push_back(config.listen_address);
    const auto cert = ca.load_or_issue(config.tls_dir(), "server", names, ips);
    server_tls = tls::TlsContext::server(cert.cert_pem, cert.key_pem);
    ca_file = config.tls_dir() / "ca.pem";
  } catch (const std::exception& e) {
    err << "mailsim serve: cannot prepare " << config.data_dir.string() << ": " << e.what() << "\n";
    return 1;
  }

  store::UserTable users;
  std::vector<std::string> user_names;
  for (const auto& u : config.users) {
    users.set(u.name, u.password);
    user_names.push_back(u.name);
  }

  Log log(out);
  auto log_line = [&log](const std::string& s) { log.line("mailsim serve: " + s); };

  LocalDeliveryOptions ldo;
  ldo.maildir_root = config.maildir_root();
  ldo.local_domains = config.local_domains;
  ldo.users = user_names;
  ldo.hostname = config.hostname;
  // New mail, from SMTP or from another IMAP session (APPEND, COPY,
  // EXPUNGE), wakes the user's IMAP sessions.
  MailboxWatchers watchers;
  ldo.on_delivered = [&watchers](const std::string& mailbox) { watchers.notify(mailbox); };
  store->set_change_listener(
      [&watchers](const std::string& user, const std::string&, std::uint64_t) { watchers.notify(user); });
  std::unique_ptr<LocalDelivery> direct;  // only when the MTA is off
  if (!config.mta.enabled) direct = std::make_unique<LocalDelivery>(ldo);

  // ---- the MTA (real/mta) on its own thread ----
  // Declared in this order so teardown runs backwards: the Mta goes first,
  // the thread (and its io_context) last.
  std::unique_ptr<MtaThread> mta_thread;
  std::unique_ptr<StaticResolver> resolver;
  std::unique_ptr<AsioClock> mta_clock;
  std::unique_ptr<AsioConnector> connector;
  std::unique_ptr<mta::FileSpool> spool;
  std::unique_ptr<mta::SmtpTransport> transport;
  std::unique_ptr<MaildirMailboxes> mailboxes;
  std::unique_ptr<mta::Mta> mta;
  std::unique_ptr<mta::InboundPolicy> inbound_policy;  // the SMTP connections' snapshot of the Mta's policy
  std::size_t queued_at_start = 0;
  if (config.mta.enabled) {
    try {
      resolver = std::make_unique<StaticResolver>(config.mta.resolver_file.empty()
                                                      ? StaticResolver()
                                                      : StaticResolver::load(config.mta.resolver_file));
    } catch (const std::exception& e) {
      err << "mailsim serve: bad config: " << e.what() << "\n";
      return 2;
    }
    mta_thread = std::make_unique<MtaThread>();
    auto& io = mta_thread->io();
    mta_clock = std::make_unique<AsioClock>(io);
    connector = std::make_unique<AsioConnector>(io, std::chrono::seconds(10));
    MaildirMailboxesOptions mo;
    mo.maildir_root = config.maildir_root();
    mo.users = user_names;
    mo.hostname = config.hostname;
    // A delivery's outcome: nobody waits for it (the sender had its 250).
    mo.post = [t = mta_thread.get()](std::function<void()> fn) { t->post_batched(std::move(fn)); };
    mo.on_delivered = ldo.on_delivered;
    mailboxes = std::make_unique<MaildirMailboxes>(mo);
    mta::MtaConfig mc = mta_config(config);
    inbound_policy = std::make_unique<mta::InboundPolicy>(mc, mailboxes.get());
    mta::SmtpTransportOptions to;
    to.reply_timeout = mc.smtp_reply_timeout;
    mta::EventSink events;
    if (!options.quiet) events = [&log](const mta::MtaEvent& e) { log.line("mailsim serve: mta: " + mta::describe(e)); };
    try {
      mta_thread->run_sync([&] {
        // The journal's committer thread syncs; completions come back here.
        mta::FileSpoolOptions spool_options;
        // (Batched: the MTA's own puts are bounces and forwarded copies, which
        // nobody waits for; a connection's put hears of its sync directly.)
        spool_options.post = [t = mta_thread.get()](std::function<void()> fn) { t->post_batched(std::move(fn)); };
        spool = std::make_unique<mta::FileSpool>(config.spool_dir(), std::move(spool_options));
        transport = std::make_unique<mta::SmtpTransport>(*connector, *mta_clock, std::move(to));
        mta = std::make_unique<mta::Mta>(mc, mta::MtaServices{*mta_clock, *resolver, *spool, *transport,
                                                              mailboxes.get(), events});
        // What the spool held when the last run stopped (or crashed) is
        // picked up again: in-flight messages at once, deferred ones later.
        mta->start();
        queued_at_start = mta->queue().size();
      });
    } catch (const std::exception& e) {
      err << "mailsim serve: cannot open the queue " << config.spool_dir().string() << ": " << e.what() << "\n";
      return 1;
    }
  }
  // Stops the MTA thread before anything it uses is destroyed.
  struct StopMta {
    std::unique_ptr<MtaThread>& t;
    ~StopMta() {
      if (t) t->stop();
    }
  } stop_mta{mta_thread};

  auto system_now = [] {
    return static_cast<std::int64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                         std::chrono::system_clock::now().time_since_epoch())
                                         .count());
  };
  auto pop3_config = [&](bool implicit) {
    pop3::ServerConfig p;
    p.hostname = config.hostname;
    p.tls_available = config.tls.starttls || implicit;
    p.implicit_tls = implicit;
    p.allow_plaintext_auth = config.allow_plaintext_auth;
    return p;
  };
  auto imap_config = [&](bool implicit) {
    imap::ServerConfig i;
    i.hostname = config.hostname;
    i.tls_available = config.tls.starttls || implicit;
    i.implicit_tls = implicit;
    i.allow_plaintext_login = config.allow_plaintext_auth;
    i.now = system_now;
    return i;
  };
  const pop3::ServerConfig pop3_plain = pop3_config(false), pop3_tls = pop3_config(true);
  const imap::ServerConfig imap_plain = imap_config(false), imap_tls = imap_config(true);
  // RFC 3501 §5.4: an IMAP server's autologout timer is at least 30 minutes
  // (IDLE clients re-issue every 29); shorter only when the config says so
  // for tests (an idle_timeout under a minute).
  const auto imap_idle = config.limits.idle_timeout < std::chrono::minutes(1)
                             ? config.limits.idle_timeout
                             : std::max<std::chrono::milliseconds>(config.limits.idle_timeout, std::chrono::minutes(30));

  const auto log_fn = options.quiet ? nullptr : std::function<void(const std::string&)>(log_line);
  SmtpService smtp_service{smtp_session_config(config, false), config.local_domains, config.open_relay, &users,
                           direct.get(), log_fn};
  SmtpService submission_service = smtp_service;
  submission_service.session = smtp_session_config(config, true);
  MtaSmtpService mta_smtp{smtp_session_config(config, false), config.local_domains, &users, mta.get(),
                          [t = mta_thread.get()](std::function<void()> fn) { t->post(std::move(fn)); }, log_fn};
  mta_smtp.post_to_mta_batched = [t = mta_thread.get()](std::function<void()> fn) { t->post_batched(std::move(fn)); };
  mta_smtp.policy = inbound_policy.get();
  mta_smtp.spool = spool.get();  // the end of DATA is stored on the connection's thread
  std::atomic<int> mta_sessions{0};
  mta_smtp.sessions = &mta_sessions;
  MtaSmtpService mta_submission = mta_smtp;
  mta_submission.session = smtp_session_config(config, true);
  auto smtp_glue = [&](const SmtpService& direct_service, const MtaSmtpService& mta_service) {
    return [&direct_service, &mta_service, on = config.mta.enabled](const PeerInfo& p) -> std::unique_ptr<ProtocolGlue> {
      if (on) return std::make_unique<MtaSmtpGlue>(mta_service, p);
      return std::make_unique<SmtpGlue>(direct_service, p);
    };
  };

  // ---- listeners ----
  NetServerOptions so;
  so.threads = config.threads;
  so.idle_timeout = config.limits.idle_timeout;
  so.max_connections = config.limits.connections;
  so.shutdown_grace = config.limits.shutdown_grace;
  NetServer server(so);

  auto plain_or_starttls = [&](bool starttls) {
    return std::function<std::unique_ptr<Wire>(Session&)>(
        [tls = starttls ? server_tls : std::nullopt](Session& s) -> std::unique_ptr<Wire> {
          return std::make_unique<ChannelWire>(s, tls, false);
        });
  };
  const std::string busy_smtp = "421 4.7.0 " + config.hostname + " Error: too many connections, try again later\r\n";

  std::map<std::string, std::uint16_t> bound;  // service -> port, in start order
  std::vector<std::string> order;
  try {
    if (config.ports.smtp) {
      ServiceSpec s;
      s.name = "smtp";
      s.address = config.listen_address;
      s.port = *config.ports.smtp;
      s.make_glue = smtp_glue(smtp_service, mta_smtp);
      s.make_wire = plain_or_starttls(config.tls.starttls);
      s.refusal_line = busy_smtp;
      bound["smtp"] = server.add_service(std::move(s));
      order.push_back("smtp");
    }
    if (config.ports.submission) {
      ServiceSpec s;
      s.name = "submission";
      s.address = config.listen_address;
      s.port = *config.ports.submission;
      s.make_glue = smtp_glue(submission_service, mta_submission);
      s.make_wire = plain_or_starttls(config.tls.starttls);
      s.refusal_line = busy_smtp;
      bound["submission"] = server.add_service(std::move(s));
      order.push_back("submission");
    }
    auto implicit_tls = [tls = server_tls](Session& s) -> std::unique_ptr<Wire> {
      return std::make_unique<ChannelWire>(s, tls, true);
    };
    auto add_mailbox_service = [&](const char* name, const std::optional<std::uint16_t>& port, bool imap,
                                   bool implicit) {
      if (!port) return;
      ServiceSpec s;
      s.name = name;
      s.address = config.listen_address;
      s.port = *port;
      if (imap) {
        const imap::ServerConfig& ic = implicit ? imap_tls : imap_plain;
        s.make_glue = [&ic, st = store.get(), &users, &watchers](const PeerInfo&) {
          return std::make_unique<ImapGlue>(ic, *st, users, watchers);
        };
        s.refusal_line = implicit ? "" : "* BYE [UNAVAILABLE] Too many connections, try again later\r\n";
        s.idle_timeout = imap_idle;
      } else {
        const pop3::ServerConfig& pc = implicit ? pop3_tls : pop3_plain;
        s.make_glue = [&pc, st = store.get(), &users](const PeerInfo&) {
          return std::make_unique<Pop3Glue>(pc, *st, users);
        };
        s.refusal_line = implicit ? "" : "-ERR [SYS/TEMP] Too many connections, try again later\r\n";
      }
      s.make_wire = implicit ? std::function<std::unique_ptr<Wire>(Session&)>(implicit_tls) : plain_or_starttls(config.tls.starttls);
      bound[name] = server.add_service(std::move(s));
      order.push_back(name);
    };
    add_mailbox_service("pop3", config.ports.pop3, false, false);
    add_mailbox_service("imap", config.ports.imap, true, false);
    add_mailbox_service("pop3s", config.ports.pop3s, false, true);
    add_mailbox_service("imaps", config.ports.imaps, true, true);
  } catch (const BindError& e) {
    err << "mailsim serve: " << e.what() << "\n"
        << "  (another server on that port? change \"ports\" in the config, or use 0 for any free port)\n";
    return 1;
  }

  // ---- banner ----
  std::ostringstream banner;
  banner << "mailsim serve — real mail servers for " << config.hostname << " (pid " << ::getpid() << ")\n";
  for (const auto& name : order) {
    const char* what = name == "smtp"         ? "SMTP, MX-style: mail for the local domains, no open relay"
                       : name == "submission" ? "submission: AUTH required, STARTTLS offered"
                       : name == "pop3"       ? "POP3, STLS offered"
                       : name == "imap"       ? "IMAP, STARTTLS offered"
                       : name == "pop3s"      ? "POP3 over implicit TLS"
                       : name == "imaps"      ? "IMAP over implicit TLS"
                                              : "";
    banner << "  " << name << std::string(12 - std::min<std::size_t>(name.size(), 11), ' ') << config.listen_address
        << ":" << bound[name] << "  " << what << "\n";
  }
  banner << "  local domains: ";
  for (std::size_t i = 0; i < config.local_domains.size(); ++i) banner << (i ? ", " : "") << config.local_domains[i];
  banner << "\n  users (user / password):";
  for (const auto& u : config.users) banner << "  " << u.name << " / " << u.password;
  banner << "\n  Maildir: " << config.maildir_root().string() << "/<user>/Maildir  (mutt -f <that folder>)\n";
  if (config.mta.enabled) {
    banner << "  queue: " << config.spool_dir().string() << "  (" << queued_at_start << " messages waiting at start)";
    if (!config.mta.resolver_file.empty()) banner << "; DNS from " << config.mta.resolver_file.string();
    banner << "\n";
  } else {
    banner << "  MTA off: local delivery only, no relaying\n";
  }
  banner << "  demo CA:  " << ca_file.string() << "  (trust it for STARTTLS)\n";
  if (config.open_relay) banner << "  WARNING: open_relay is on: anyone may send mail anywhere through this server\n";
  const std::string domain = config.local_domains.front();
  const std::string to = (config.users.empty() ? "postmaster" : config.users.back().name) + "@" + domain;
  if (bound.count("smtp")) {
    banner << "Send a message:  swaks --server " << config.listen_address << ":" << bound["smtp"] << " --to " << to
        << "\n";
    banner << "     or:  python3 -c \"import smtplib; smtplib.SMTP('" << config.listen_address << "', "
        << bound["smtp"] << ").sendmail('me@example.org', ['" << to
        << "'], 'Subject: hi\\r\\n\\r\\nhello\\r\\n')\"\n";
  }
  if (bound.count("imaps") && !config.users.empty()) {
    const auto& u = config.users.back();
    banner << "Read it:  curl --cacert " << ca_file.string() << " -u " << u.name << ":" << u.password << " 'imaps://"
        << config.listen_address << ":" << bound["imaps"] << "/INBOX;UID=1'\n";
  }
  banner << "Stop with Ctrl-C (SIGINT) or SIGTERM.";
  // In one piece through the log: the MTA thread may be logging already
  // (mail recovered from the queue), and a line of its own must not land
  // in the middle of the banner.
  log.line(banner.str());

  // ---- run ----
  try {
    nlohmann::json ports = nlohmann::json::object();
    for (const auto& [name, port] : bound) ports[name] = port;
    const nlohmann::json listening = {{"pid", ::getpid()},
                                      {"hostname", config.hostname},
                                      {"address", config.listen_address},
                                      {"ports", ports},
                                      {"ca", ca_file.string()},
                                      {"maildir", config.maildir_root().string()}};
    write_file_atomic(config.run_dir() / "listening.json", listening.dump(2) + "\n");
  } catch (const std::exception& e) {
    err << "mailsim serve: " << e.what() << "\n";
    return 1;
  }
  server.on_signal([&log](int signal_number) {
    log.line(std::string("mailsim serve: ") + (signal_number == SIGINT ? "SIGINT" : "SIGTERM") +
             ": stopping (no new connections; open sessions get 421)");
  });
  server.run();
  std::error_code ignored;
  fs::remove(config.run_dir() / "listening.json", ignored);
  if (mta_thread) {
    std::size_t waiting = 0;
    mta_thread->run_batched_now();  // messages answered in the last few ms join the queue
    // Deliveries already handed to the Maildir are finished and noted in the
    // queue (not stored again at the next start); the rest wait in the queue.
    mailboxes->drain();
    mta_thread->run_batched_now();
    mta_thread->run_sync([&] { waiting = mta->queue().size(); });
    mta_thread->stop();
    const auto stats = mailboxes->stats();
    log.line("mailsim serve: stopped; " + std::to_string(stats.jobs) + " local deliveries in " +
             std::to_string(stats.batches) + " disk commits; " + std::to_string(waiting) +
             " messages left in the queue for the next start");
  } else {
    const auto stats = direct->stats();
    log.line("mailsim serve: stopped; " + std::to_string(stats.jobs) + " messages delivered in " +
             std::to_string(stats.batches) + " disk commits");
  }
  return 0;
}

}  // namespace mailsim::net
