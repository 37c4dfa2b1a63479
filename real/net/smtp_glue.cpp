// SMTP decisions for `mailsim serve`: relay policy, AUTH against the user
// table, Received: header, durable hand-off to the sink.
#include "real/net/smtp_glue.h"

#include "real/codec/ascii.h"
#include "real/mta/headers.h"
#include "real/net/local_delivery.h"

#include <algorithm>
#include <chrono>
#include <type_traits>

namespace mailsim::net {

namespace {

std::string domain_of(std::string_view address) {
  const auto at = address.rfind('@');
  return at == std::string_view::npos ? std::string() : std::string(address.substr(at + 1));
}

bool is_local(const std::vector<std::string>& local_domains, std::string_view domain) {
  return std::any_of(local_domains.begin(), local_domains.end(),
                     [&](const std::string& d) { return codec::iequals(d, domain); });
}

}  // namespace

bool check_smtp_login(const smtp::server_events::AuthRequest& request, const store::Credentials* users,
                      const std::vector<std::string>& local_domains,
                      const std::function<void(const std::string&)>& log, const std::string& who) {
  if (users == nullptr) return false;
  // Acting for someone else (a PLAIN authzid) is not allowed here.
  if (!request.authzid.empty() && request.authzid != request.username) return false;
  std::string user = request.username;
  if (const std::string domain = domain_of(user); !domain.empty()) {
    if (!is_local(local_domains, domain)) return false;
    user = user.substr(0, user.rfind('@'));
  }
  const bool ok = users->check(user, request.password);
  if (log) log(who + ": AUTH " + request.mechanism + " as " + user + (ok ? " succeeded" : " failed"));
  return ok;
}

SmtpGlue::SmtpGlue(const SmtpService& service, const PeerInfo& peer)
    : service_(service), peer_(peer), session_(service.session, smtp::PeerIdentity{peer.address, ""}) {}

std::string SmtpGlue::goodbye_line(bool timed_out) const {
  const std::string& host = service_.session.hostname;
  return timed_out ? "421 4.4.2 " + host + " Error: timeout exceeded\r\n"
                   : "421 4.3.2 " + host + " Service shutting down, closing transmission channel\r\n";
}

void SmtpGlue::pump(ConnectionHandle& conn) {
  namespace ev = smtp::server_events;
  while (auto event = session_.next_event()) {
    std::visit(
        [&](auto& e) {
          using T = std::decay_t<decltype(e)>;
          if constexpr (std::is_same_v<T, ev::MailFrom>) {
            session_.accept_mail(smtp::replies::mail_ok());
          } else if constexpr (std::is_same_v<T, ev::RcptTo>) {
            session_.accept_rcpt(on_rcpt(e.forward_path));
          } else if constexpr (std::is_same_v<T, ev::AuthRequest>) {
            session_.auth_result(on_auth(e));
          } else if constexpr (std::is_same_v<T, ev::MessageReceived>) {
            on_message(conn, std::move(e));
          }
          // Trace events (commands, replies, state changes) are the
          // simulator's business; the server log keeps one line per message.
        },
        *event);
  }
}

smtp::Reply SmtpGlue::on_rcpt(const std::string& address) {
  if (is_local(service_.local_domains, domain_of(address))) return service_.sink->check_recipient(address, false);
  // Elsewhere: only for our own customers (RFC 5321 §3.6.2), unless the
  // server was made an open relay on purpose.
  const bool may_relay = !session_.authenticated_user().empty() || service_.open_relay;
  if (!may_relay) {
    if (service_.log)
      service_.log(peer_.service + " " + peer_.address + ": relay to <" + address + "> denied (not authenticated)");
    return smtp::replies::relay_denied();
  }
  return service_.sink->check_recipient(address, true);
}

bool SmtpGlue::on_auth(const smtp::server_events::AuthRequest& request) const {
  return check_smtp_login(request, service_.users, service_.local_domains, service_.log,
                          peer_.service + " " + peer_.address);
}

void SmtpGlue::on_message(ConnectionHandle& conn, smtp::server_events::MessageReceived message) {
  InboundMessage m;
  m.queue_id = new_queue_id();
  const smtp::Envelope& env = message.envelope;

  const std::string with = env.with_protocol();
  mta::ReceivedInfo info;
  info.helo = env.helo_name;
  info.client_address = peer_.address;
  info.by = service_.session.hostname;
  info.with = with;
  info.id = m.queue_id;
  if (env.recipients.size() == 1) info.for_recipient = env.recipients.front();
  if (env.tls) {
    info.tls_version = env.tls->version;
    info.tls_cipher = env.tls->cipher;
  }
  info.when = std::chrono::duration_cast<std::chrono::microseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
  m.data = mta::received_field(info, message.data);
  m.envelope = std::move(message.envelope);

  std::string summary;
  if (service_.log) {
    summary = peer_.service + " " + peer_.address + ": " + m.queue_id + " from <" + m.envelope.reverse_path +
              "> to";
    for (const auto& r : m.envelope.recipients) summary += " <" + r + ">";
    summary += ", " + std::to_string(message.data.size()) + " bytes";
  }
  // 250 only once the sink says the message is durable; the Completion
  // brings the answer back onto this connection's strand.
  service_.sink->accept(std::move(m), [this, done = conn.defer(), summary](smtp::Reply reply) {
    if (service_.log) service_.log(summary + ": " + reply.text());
    done([this, reply] { session_.message_result(reply); });
  });
}

}  // namespace mailsim::net
