// real/mta's services over Boost.Asio, a static resolver, Maildir local
// delivery and the cross-thread SMTP glue for `mailsim serve`.
#include "real/net/mta_host.h"

#include "real/codec/ascii.h"
#include "real/mta/smtp_transport.h"
#include "real/net/smtp_glue.h"

#include <nlohmann/json.hpp>
#include <pthread.h>
#include <openssl/evp.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <future>
#include <sstream>
#include <type_traits>

namespace mailsim::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

std::string lower(std::string_view s) { return codec::to_lower(s); }

bool is_address_literal(const std::string& s) {
  boost::system::error_code ec;
  asio::ip::make_address(s, ec);
  return !ec;
}

}  // namespace

// ---- Clock -------------------------------------------------------------------

AsioClock::~AsioClock() {
  for (auto& [id, timer] : timers_)
    if (timer) timer->cancel();
}

mta::TimePoint AsioClock::now() const {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

mta::TimerId AsioClock::schedule(mta::Duration delay, std::function<void()> callback) {
  const mta::TimerId id = ++next_;
  if (delay <= 0) {
    // Posted: like a timer that has expired, it runs on a later turn of the loop.
    timers_[id] = nullptr;
    asio::post(io_, [this, id, alive = std::weak_ptr<int>(alive_), cb = std::move(callback)] {
      if (alive.expired() || timers_.erase(id) == 0) return;  // the clock is gone, or cancelled
      cb();
    });
    return id;
  }
  auto timer = std::make_shared<asio::steady_timer>(io_, std::chrono::microseconds(delay));
  timers_[id] = timer;
  // The handler always runs on a later turn of the loop, never inside schedule().
  timer->async_wait([this, id, cb = std::move(callback)](const boost::system::error_code& ec) {
    if (ec) return;  // cancelled (or the clock is going away)
    if (timers_.erase(id) == 0) return;
    cb();
  });
  return id;
}

void AsioClock::cancel(mta::TimerId id) {
  if (auto it = timers_.find(id); it != timers_.end()) {
    if (it->second) it->second->cancel();
    timers_.erase(it);
  }
}

// ---- TCP -----------------------------------------------------------------------

std::pair<std::string, std::uint16_t> split_host_port(const std::string& host, std::uint16_t fallback) {
  auto port_of = [](const std::string& p) -> std::optional<std::uint16_t> {
    if (p.empty() || p.size() > 5 || !std::all_of(p.begin(), p.end(), ::isdigit)) return std::nullopt;
    const int v = std::stoi(p);
    if (v < 1 || v > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(v);
  };
  if (!host.empty() && host.front() == '[') {  // [v6]:port
    const auto close = host.find(']');
    if (close != std::string::npos) {
      const std::string addr = host.substr(1, close - 1);
      if (close + 1 < host.size() && host[close + 1] == ':')
        if (auto p = port_of(host.substr(close + 2))) return {addr, *p};
      return {addr, fallback};
    }
  }
  const auto colon = host.rfind(':');
  if (colon != std::string::npos && host.find(':') == colon)  // one colon: IPv4 or name with port
    if (auto p = port_of(host.substr(colon + 1))) return {host.substr(0, colon), *p};
  return {host, fallback};
}

namespace {

// One outbound TCP connection, used from the io_context's single thread.
// The state is shared with pending handlers, which check `owner_gone` so
// nothing calls back once the MTA dropped the stream.
class AsioStream final : public mta::ByteStream {
 public:
  struct State {
    explicit State(tcp::socket s) : socket(std::move(s)) {}
    tcp::socket socket;
    std::function<void(std::string_view)> on_data;
    std::function<void()> on_close;
    std::string outbox, in_flight;
    std::array<char, 16 * 1024> buffer{};
    bool reading = false, writing = false, closing = false, closed = false, owner_gone = false;
    std::string peer;
  };

  explicit AsioStream(tcp::socket socket) : s_(std::make_shared<State>(std::move(socket))) {
    boost::system::error_code ec;
    auto ep = s_->socket.remote_endpoint(ec);
    if (!ec) s_->peer = ep.address().to_string();
  }
  ~AsioStream() override {
    s_->owner_gone = true;
    // Whatever was written still goes out (a QUIT), then the socket closes.
    if (!s_->writing) shut(s_);
  }

  void write(std::string bytes) override {
    if (s_->closed || s_->closing) return;
    if (s_->outbox.empty()) s_->outbox = std::move(bytes);
    else s_->outbox.append(bytes);
    pump_write(s_);
  }
  void on_data(std::function<void(std::string_view)> callback) override {
    s_->on_data = std::move(callback);
    pump_read(s_);
  }
  void on_close(std::function<void()> callback) override { s_->on_close = std::move(callback); }
  void close() override {
    s_->closing = true;
    if (!s_->writing && s_->outbox.empty()) shut(s_);
  }
  std::string peer_address() const override { return s_->peer; }

 private:
  static void shut(const std::shared_ptr<State>& s) {
    if (s->closed) return;
    s->closed = true;
    boost::system::error_code ignored;
    s->socket.shutdown(tcp::socket::shutdown_both, ignored);
    s->socket.close(ignored);
  }
  static void broke(const std::shared_ptr<State>& s) {
    const bool tell = !s->closed && !s->closing && !s->owner_gone;
    shut(s);
    if (tell && s->on_close) {
      auto cb = std::move(s->on_close);
      s->on_close = nullptr;
      cb();
    }
  }
  static void pump_write(const std::shared_ptr<State>& s) {
    if (s->writing || s->closed || s->outbox.empty()) return;
    s->writing = true;
    s->in_flight = std::move(s->outbox);
    s->outbox.clear();
    asio::async_write(s->socket, asio::buffer(s->in_flight), [s](const boost::system::error_code& ec, std::size_t) {
      s->writing = false;
      s->in_flight.clear();
      if (ec) {
        broke(s);
        return;
      }
      if (!s->outbox.empty()) {
        pump_write(s);
      } else if (s->closing || s->owner_gone) {
        shut(s);
      }
    });
  }
  static void pump_read(const std::shared_ptr<State>& s) {
    if (s->reading || s->closed || !s->on_data) return;
    s->reading = true;
    s->socket.async_read_some(asio::buffer(s->buffer), [s](const boost::system::error_code& ec, std::size_t n) {
      s->reading = false;
      if (s->closed || s->owner_gone) return;
      if (ec) {
        broke(s);
        return;
      }
      // The callback may destroy the stream (owner_gone) or close it.
      auto keep = s;
      if (s->on_data) s->on_data(std::string_view(s->buffer.data(), n));
      if (!keep->owner_gone && !keep->closing) pump_read(keep);
    });
  }

  std::shared_ptr<State> s_;
};

}  // namespace

void AsioConnector::connect(const std::string& host, std::uint16_t port,
                            std::function<void(mta::ConnectResult)> done) {
  const auto [address_text, real_port] = split_host_port(host, port);
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(address_text, ec);
  if (ec) {
    // Answered on a later turn, like every other result.
    asio::post(io_, [done = std::move(done), address_text] {
      mta::ConnectResult r;
      r.error = mta::ConnectError::unreachable;
      r.detail = "not an address: " + address_text;
      done(std::move(r));
    });
    return;
  }
  struct Attempt {
    explicit Attempt(asio::io_context& io) : socket(io), timer(io) {}
    tcp::socket socket;
    asio::steady_timer timer;
    bool finished = false;
    bool timed_out = false;
  };
  auto a = std::make_shared<Attempt>(io_);
  auto finish = std::make_shared<std::function<void(const boost::system::error_code&)>>();
  *finish = [a, done = std::move(done)](const boost::system::error_code& e) {
    if (a->finished) return;
    a->finished = true;
    a->timer.cancel();
    mta::ConnectResult r;
    if (!e) {
      r.stream = std::make_unique<AsioStream>(std::move(a->socket));
    } else {
      r.error = a->timed_out                                   ? mta::ConnectError::timeout
                : e == asio::error::connection_refused ? mta::ConnectError::refused
                                                               : mta::ConnectError::unreachable;
      r.detail = a->timed_out ? "connection timed out" : e.message();
    }
    done(std::move(r));
  };
  a->timer.expires_after(timeout_);
  a->timer.async_wait([a, finish](const boost::system::error_code& e) {
    if (e || a->finished) return;
    a->timed_out = true;
    boost::system::error_code ignored;
    a->socket.close(ignored);  // the connect completes with operation_aborted
    (*finish)(asio::error::timed_out);
  });
  a->socket.async_connect(tcp::endpoint(address, real_port),
                          [finish](const boost::system::error_code& e) { (*finish)(e); });
}

// ---- Resolver --------------------------------------------------------------------

StaticResolver StaticResolver::load(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error(file.string() + ": cannot open the resolver file");
  std::ostringstream text;
  text << in.rdbuf();
  return parse(text.str(), file.string());
}

StaticResolver StaticResolver::parse(const std::string& json_text, const std::string& file_name) {
  using nlohmann::json;
  auto fail = [&](const std::string& where, const std::string& what) {
    throw std::runtime_error(file_name + ": " + where + ": " + what);
  };
  json doc;
  try {
    doc = json::parse(json_text, nullptr, true, /*ignore_comments=*/true);
  } catch (const json::parse_error& e) {
    fail("", std::string("not valid JSON: ") + e.what());
  }
  if (!doc.is_object()) fail("", "must be an object {\"mx\": {...}, \"hosts\": {...}}");
  StaticResolver r;
  for (const auto& [key, value] : doc.items()) {
    if (key != "mx" && key != "hosts" && key != "$comment") fail("/" + key, "unknown key (known: mx, hosts)");
  }
  if (doc.contains("mx")) {
    if (!doc["mx"].is_object()) fail("/mx", "must be an object {domain: [[preference, host], ...]}");
    for (const auto& [domain, list] : doc["mx"].items()) {
      const std::string ptr = "/mx/" + domain;
      if (!list.is_array()) fail(ptr, "must be a list of [preference, host]");
      auto& records = r.mx_[lower(domain)];
      for (const auto& item : list) {
        if (!item.is_array() || item.size() != 2 || !item[0].is_number_unsigned() || !item[1].is_string() ||
            item[0].get<std::uint64_t>() > 65535)
          fail(ptr, "each MX must be [preference 0-65535, \"host\"]");
        records.push_back(mta::MxRecord{static_cast<std::uint16_t>(item[0].get<std::uint64_t>()),
                                        lower(item[1].get<std::string>())});
      }
    }
  }
  if (doc.contains("hosts")) {
    if (!doc["hosts"].is_object()) fail("/hosts", "must be an object {host: {\"address\": ..., \"port\": ...}}");
    for (const auto& [host, entry] : doc["hosts"].items()) {
      const std::string ptr = "/hosts/" + host;
      std::vector<std::string> addresses;
      std::uint16_t port = 0;
      if (entry.is_string()) {
        addresses.push_back(entry.get<std::string>());
      } else if (entry.is_object()) {
        for (const auto& [k, v] : entry.items())
          if (k != "address" && k != "port") fail(ptr + "/" + k, "unknown key (known: address, port)");
        const json& a = entry.value("address", json());
        if (a.is_string()) addresses.push_back(a.get<std::string>());
        else if (a.is_array())
          for (const auto& x : a)
            if (x.is_string()) addresses.push_back(x.get<std::string>());
        if (entry.contains("port")) {
          if (!entry["port"].is_number_unsigned() || entry["port"].get<std::uint64_t>() < 1 ||
              entry["port"].get<std::uint64_t>() > 65535)
            fail(ptr + "/port", "must be a port number 1-65535");
          port = static_cast<std::uint16_t>(entry["port"].get<std::uint64_t>());
        }
      }
      if (addresses.empty()) fail(ptr, "needs \"address\": an IP address or a list of them");
      auto& out = r.hosts_[lower(host)];
      for (const auto& addr : addresses) {
        if (!is_address_literal(addr)) fail(ptr + "/address", "\"" + addr + "\" is not an IP address");
        if (port == 0) out.push_back(addr);
        else out.push_back((addr.find(':') != std::string::npos ? "[" + addr + "]" : addr) + ":" + std::to_string(port));
      }
    }
  }
  return r;
}

void StaticResolver::resolve_mx(const std::string& domain, std::function<void(mta::MxAnswer)> done) {
  const std::string d = lower(domain);
  if (auto it = mx_.find(d); it != mx_.end()) {
    done(mta::MxAnswer{mta::DnsStatus::ok, it->second});
  } else if (hosts_.count(d) != 0) {
    done(mta::MxAnswer{mta::DnsStatus::no_data, {}});  // implicit MX: the domain's own address
  } else {
    done(mta::MxAnswer{mta::DnsStatus::nxdomain, {}});
  }
}

void StaticResolver::resolve_a(const std::string& host, std::function<void(mta::AddressAnswer)> done) {
  if (is_address_literal(host)) {
    done(mta::AddressAnswer{mta::DnsStatus::ok, {host}});
    return;
  }
  const std::string h = lower(host);
  if (auto it = hosts_.find(h); it != hosts_.end()) {
    done(mta::AddressAnswer{mta::DnsStatus::ok, it->second});
  } else if (mx_.count(h) != 0) {
    done(mta::AddressAnswer{mta::DnsStatus::no_data, {}});
  } else {
    done(mta::AddressAnswer{mta::DnsStatus::nxdomain, {}});
  }
}

// ---- Local delivery ----------------------------------------------------------------

namespace {

// 24 hex digits of SHA-256: the same message for the same recipient always
// gets the same tag, and two different ones practically never share it.
std::string delivery_tag(const std::string& recipient, const std::string& message) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  EVP_DigestUpdate(ctx, recipient.data(), recipient.size());
  EVP_DigestUpdate(ctx, "\n", 1);
  EVP_DigestUpdate(ctx, message.data(), message.size());
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_MD_CTX_free(ctx);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < 12 && i < len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

// The tag in a MaildirDrop file name "<sec>.M<usec>P<pid>Q<n>K<tag>.<host>...".
std::string tag_in_name(const std::string& name) {
  const auto first = name.find('.');
  if (first == std::string::npos) return "";
  const auto second = name.find('.', first + 1);
  const std::string unique = name.substr(first + 1, second == std::string::npos ? std::string::npos : second - first - 1);
  const auto k = unique.find('K');
  return k == std::string::npos ? "" : unique.substr(k + 1);
}

}  // namespace

MaildirMailboxes::MaildirMailboxes(MaildirMailboxesOptions options)
    : options_(std::move(options)), drop_(options_.hostname, options_.fsync_threads, 256, options_.linger) {
  for (const auto& u : options_.users) users_[lower(u)] = u;
}

std::string MaildirMailboxes::mailbox_for(std::string_view local_part) const {
  const std::string l = lower(local_part);
  if (auto it = users_.find(l); it != users_.end()) return it->second;
  // RFC 5321 §4.5.1: every domain that receives mail has a postmaster.
  if (l == "postmaster" && !options_.users.empty()) return options_.users.front();
  return "";
}

bool MaildirMailboxes::has_mailbox(std::string_view local_part, std::string_view) const {
  return !mailbox_for(local_part).empty();
}

std::set<std::string>& MaildirMailboxes::tags_of(const std::string& mailbox) {
  auto [it, inserted] = tags_.try_emplace(mailbox);
  if (inserted) {
    const auto maildir = options_.maildir_root / mailbox / "Maildir";
    for (const char* sub : {"new", "cur"}) {
      std::error_code ec;
      for (const auto& e : std::filesystem::directory_iterator(maildir / sub, ec)) {
        const std::string tag = tag_in_name(e.path().filename().string());
        if (!tag.empty()) it->second.insert(tag);
      }
    }
  }
  return it->second;
}

void MaildirMailboxes::deliver(const std::string& recipient, const std::string& message,
                               std::function<void(mta::LocalDeliveryResult)> done) {
  using Kind = mta::LocalDeliveryResult::Kind;
  const auto at = recipient.rfind('@');
  const std::string mailbox = mailbox_for(std::string_view(recipient).substr(0, at == std::string::npos ? 0 : at));
  if (mailbox.empty()) {
    done(mta::LocalDeliveryResult{Kind::permanent_failure, "no such mailbox"});
    return;
  }
  std::string tag = delivery_tag(recipient, message);
  if (tags_of(mailbox).count(tag) != 0) {
    // Stored before a crash that came before the queue noted it: once is enough.
    done(mta::LocalDeliveryResult{Kind::delivered, "already in the mailbox (repeated delivery)"});
    return;
  }
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  std::vector<MaildirCopy> copies{MaildirCopy{options_.maildir_root / mailbox / "Maildir", message, tag}};
  drop_.deliver(std::move(copies), now,
                [this, done = std::move(done), mailbox, tag](std::optional<std::string> error) mutable {
                  if (!error && options_.on_delivered) options_.on_delivered(mailbox);
                  options_.post([this, done = std::move(done), mailbox, tag, error] {
                    if (error) {
                      done(mta::LocalDeliveryResult{Kind::temporary_failure, *error});
                    } else {
                      tags_of(mailbox).insert(tag);
                      done(mta::LocalDeliveryResult{Kind::delivered, ""});
                    }
                  });
                });
}

// ---- SMTP glue ------------------------------------------------------------------------

MtaSmtpGlue::MtaSmtpGlue(const MtaSmtpService& service, const PeerInfo& peer)
    : service_(service), peer_(peer), session_(service.session, smtp::PeerIdentity{peer.address, ""}) {
  if (service_.sessions) service_.sessions->fetch_add(1);
}

MtaSmtpGlue::~MtaSmtpGlue() {
  if (service_.sessions) service_.sessions->fetch_sub(1);
}

std::string MtaSmtpGlue::goodbye_line(bool timed_out) const {
  const std::string& host = service_.session.hostname;
  return timed_out ? "421 4.4.2 " + host + " Error: timeout exceeded\r\n"
                   : "421 4.3.2 " + host + " Service shutting down, closing transmission channel\r\n";
}

mta::ClientInfo MtaSmtpGlue::client() const {
  const auto& env = session_.envelope();
  mta::ClientInfo c;
  c.address = peer_.address;
  c.helo = env.helo_name;
  c.auth_user = env.authenticated_user;
  c.protocol = env.with_protocol();
  if (env.tls) c.tls = "using " + env.tls->version + " with cipher " + env.tls->cipher;
  return c;
}

bool MtaSmtpGlue::on_auth(const smtp::server_events::AuthRequest& request) const {
  return check_smtp_login(request, service_.users, service_.local_domains, service_.log,
                          peer_.service + " " + peer_.address);
}

void MtaSmtpGlue::pump(ConnectionHandle& conn) {
  namespace ev = smtp::server_events;
  mta::Mta* mta = service_.mta;
  while (auto event = session_.next_event()) {
    std::visit(
        [&](auto& e) {
          using T = std::decay_t<decltype(e)>;
          // Each decision: the question goes to the MTA thread with a copy of
          // what it needs; the answer comes back to this strand (Completion).
          if constexpr (std::is_same_v<T, ev::MailFrom>) {
            if (service_.policy) {
              session_.accept_mail(mta::to_smtp(mta::InboundPolicy::check_sender(e.reverse_path)));
              return;
            }
            service_.post_to_mta([mta, c = client(), path = e.reverse_path, done = conn.defer(), this] {
              const mta::Reply r = mta->check_sender(c, path);
              done([this, r] { session_.accept_mail(mta::to_smtp(r)); });
            });
          } else if constexpr (std::is_same_v<T, ev::RcptTo>) {
            if (service_.policy) {
              const bool authenticated = !session_.envelope().authenticated_user.empty();
              if (auto r = service_.policy->quick_recipient(authenticated, peer_.address, e.forward_path)) {
                session_.accept_rcpt(mta::to_smtp(*r));
                return;
              }
            }
            service_.post_to_mta([mta, c = client(), rcpt = e.forward_path, done = conn.defer(), this] {
              mta->check_recipient(c, rcpt, [this, done](mta::Reply r) {
                done([this, r] { session_.accept_rcpt(mta::to_smtp(r)); });
              });
            });
          } else if constexpr (std::is_same_v<T, ev::AuthRequest>) {
            session_.auth_result(on_auth(e));
          } else if constexpr (std::is_same_v<T, ev::MessageReceived>) {
            if (service_.spool) {
              store_here(conn, e);
              return;
            }
            auto data = std::make_shared<std::string>(std::move(e.data));
            service_.post_to_mta([mta, c = client(), env = e.envelope, data, done = conn.defer(), this]() mutable {
              mta->receive(c, env.reverse_path, env.recipients, std::move(*data), [this, done](mta::Reply r) {
                done([this, r] { session_.message_result(mta::to_smtp(r)); });
              });
            });
          }
        },
        *event);
  }
}

namespace {
// Mta::receive()'s answer when the spool cannot take a message.
smtp::Reply queue_write_error() {
  return mta::to_smtp(mta::make_reply(451, "4.3.0", "Error: queue file write error, try again later"));
}
}  // namespace

void MtaSmtpGlue::store_here(ConnectionHandle& conn, smtp::server_events::MessageReceived& message) {
  const mta::Mta* mta = service_.mta;
  const mta::ClientInfo c = client();
  const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  // An id the queue still holds from before a restart (in the same second)
  // is skipped; put_concurrent() checks again.
  mta::FileSpool* spool = service_.spool;
  auto prepared = mta->prepare_received(c, message.envelope.reverse_path, message.envelope.recipients,
                                        std::move(message.data), now,
                                        [spool](const mta::QueueId& id) { return spool->contains(id); });
  if (auto* refused = std::get_if<mta::Reply>(&prepared)) {
    session_.message_result(mta::to_smtp(*refused));
    return;
  }
  auto entry = std::make_shared<mta::QueueEntry>(std::move(std::get<mta::QueueEntry>(prepared)));
  // Durable -> 250 on this strand, straight from the committer thread; then
  // the MTA thread takes the entry over for delivery.
  auto done = conn.defer();
  // The MTA takes the message over after its 250: nobody waits for that.
  auto post_to_mta = service_.post_to_mta_batched ? service_.post_to_mta_batched : service_.post_to_mta;
  mta::Mta* owner = service_.mta;
  // A lone connection syncs on its own thread, inside put_concurrent(): then
  // the outcome is kept here and answered in this same turn of the strand
  // (the 250 leaves with this pump's output) instead of being posted to it.
  struct InCall {
    std::thread::id thread = std::this_thread::get_id();
    bool running = true;
    std::optional<bool> ok;
  };
  auto in_call = std::make_shared<InCall>();
  auto answer = [this, id = entry->id](bool ok) {
    session_.message_result(ok ? mta::to_smtp(mta::Mta::received_reply(id)) : queue_write_error());
  };
  const bool stored = service_.spool->put_concurrent(*entry, [done, in_call, answer, entry, post_to_mta, owner](bool ok) {
    if (ok) post_to_mta([owner, entry] { owner->adopt_received(std::move(*entry)); });
    // (`running` is only read on the caller's own thread.)
    if (std::this_thread::get_id() == in_call->thread && in_call->running) {
      in_call->ok = ok;
      return;
    }
    done([answer, ok] { answer(ok); });
  }, service_.sessions != nullptr && service_.sessions->load() == 1);
  in_call->running = false;
  if (!stored) answer(false);  // the id was taken meanwhile
  else if (in_call->ok) answer(*in_call->ok);
}

// ---- MTA thread ------------------------------------------------------------------------

MtaThread::MtaThread()
    : work_(asio::make_work_guard(io_)), thread_([this] {
        ::pthread_setname_np(::pthread_self(), "mailsim-mta");
        io_.run();
      }) {}

MtaThread::~MtaThread() {
  stop();
  if (thread_.joinable()) thread_.join();
}

void MtaThread::run_sync(std::function<void()> fn) {
  std::promise<void> finished;
  auto future = finished.get_future();
  asio::post(io_, [&] {
    try {
      fn();
      finished.set_value();
    } catch (...) {
      finished.set_exception(std::current_exception());
    }
  });
  future.get();
}

void MtaThread::post_batched(std::function<void()> fn) {
  bool first;
  {
    std::lock_guard lock(batch_mutex_);
    first = batch_.empty();
    batch_.push_back(std::move(fn));
  }
  if (!first) return;  // the batch's timer is set (or about to be)
  asio::post(io_, [this] {
    batch_timer_.expires_after(batch_linger);
    batch_timer_.async_wait([this](const boost::system::error_code&) { run_batch(); });
  });
}

void MtaThread::run_batched_now() {
  run_sync([this] { run_batch(); });
}

void MtaThread::run_batch() {
  std::vector<std::function<void()>> batch;
  {
    std::lock_guard lock(batch_mutex_);
    batch.swap(batch_);
  }
  for (auto& fn : batch) fn();
}

void MtaThread::stop() {
  work_.reset();
  io_.stop();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

}  // namespace mailsim::net
