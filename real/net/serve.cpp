// `mailsim serve`: reads the config, prepares the data folder (Maildirs, the
// demo CA and the server certificate), starts one listener per service and
// runs until SIGINT/SIGTERM.
#include "real/net/serve.h"

#include "real/net/channel_wire.h"
#include "real/net/local_delivery.h"
#include "real/net/mailbox_glue.h"
#include "real/net/net_server.h"
#include "real/net/smtp_glue.h"
#include "real/store/maildir_store.h"
#include "real/store/users.h"
#include "real/tls/demo_ca.h"

#include <nlohmann/json.hpp>

#include <csignal>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
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
  LocalDelivery local(ldo);

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

  SmtpService smtp_service{smtp_session_config(config, false), config.local_domains, config.open_relay, &users,
                           &local, options.quiet ? nullptr : std::function<void(const std::string&)>(log_line)};
  SmtpService submission_service = smtp_service;
  submission_service.session = smtp_session_config(config, true);

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
      s.make_glue = [&](const PeerInfo& p) { return std::make_unique<SmtpGlue>(smtp_service, p); };
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
      s.make_glue = [&](const PeerInfo& p) { return std::make_unique<SmtpGlue>(submission_service, p); };
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
  out << "mailsim serve — real mail servers for " << config.hostname << " (pid " << ::getpid() << ")\n";
  for (const auto& name : order) {
    const char* what = name == "smtp"         ? "SMTP, MX-style: mail for the local domains, no open relay"
                       : name == "submission" ? "submission: AUTH required, STARTTLS offered"
                       : name == "pop3"       ? "POP3, STLS offered"
                       : name == "imap"       ? "IMAP, STARTTLS offered"
                       : name == "pop3s"      ? "POP3 over implicit TLS"
                       : name == "imaps"      ? "IMAP over implicit TLS"
                                              : "";
    out << "  " << name << std::string(12 - std::min<std::size_t>(name.size(), 11), ' ') << config.listen_address
        << ":" << bound[name] << "  " << what << "\n";
  }
  out << "  local domains: ";
  for (std::size_t i = 0; i < config.local_domains.size(); ++i) out << (i ? ", " : "") << config.local_domains[i];
  out << "\n  users (user / password):";
  for (const auto& u : config.users) out << "  " << u.name << " / " << u.password;
  out << "\n  Maildir: " << config.maildir_root().string() << "/<user>/Maildir  (mutt -f <that folder>)\n";
  out << "  demo CA:  " << ca_file.string() << "  (trust it for STARTTLS)\n";
  if (config.open_relay) out << "  WARNING: open_relay is on: anyone may send mail anywhere through this server\n";
  const std::string domain = config.local_domains.front();
  const std::string to = (config.users.empty() ? "postmaster" : config.users.back().name) + "@" + domain;
  if (bound.count("smtp")) {
    out << "Send a message:  swaks --server " << config.listen_address << ":" << bound["smtp"] << " --to " << to
        << "\n";
    out << "     or:  python3 -c \"import smtplib; smtplib.SMTP('" << config.listen_address << "', "
        << bound["smtp"] << ").sendmail('me@example.org', ['" << to
        << "'], 'Subject: hi\\r\\n\\r\\nhello\\r\\n')\"\n";
  }
  if (bound.count("imaps") && !config.users.empty()) {
    const auto& u = config.users.back();
    out << "Read it:  curl --cacert " << ca_file.string() << " -u " << u.name << ":" << u.password << " 'imaps://"
        << config.listen_address << ":" << bound["imaps"] << "/INBOX;UID=1'\n";
  }
  out << "Stop with Ctrl-C (SIGINT) or SIGTERM." << std::endl;

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
  const auto stats = local.stats();
  log.line("mailsim serve: stopped; " + std::to_string(stats.jobs) + " messages delivered in " +
           std::to_string(stats.batches) + " disk commits");
  return 0;
}

}  // namespace mailsim::net
