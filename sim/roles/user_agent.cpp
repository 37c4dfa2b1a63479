// The mail user agent role (see user_agent.h).
#include "sim/roles/user_agent.h"

#include "real/message/compose.h"
#include "real/mta/address.h"
#include "real/mta/headers.h"
#include "sim/roles/mail_server.h"

namespace mailsim::sim::roles {
namespace {

smtp::StartTlsPolicy starttls(Toggle t) {
  switch (t) {
    case Toggle::kOff: return smtp::StartTlsPolicy::kNever;
    case Toggle::kOptional: return smtp::StartTlsPolicy::kIfOffered;
    case Toggle::kRequired: return smtp::StartTlsPolicy::kRequired;
  }
  return smtp::StartTlsPolicy::kIfOffered;
}

template <class Tls>
Tls fetch_tls(Toggle t) {
  switch (t) {
    case Toggle::kOff: return Tls::kNever;
    case Toggle::kOptional: return Tls::kIfOffered;
    case Toggle::kRequired: return Tls::kRequired;
  }
  return Tls::kIfOffered;
}

std::vector<message::Mailbox> mailboxes(const std::vector<std::string>& addresses) {
  std::vector<message::Mailbox> out;
  for (const auto& a : addresses) out.push_back({display_name_of(a), a});
  return out;
}

// The mail program's end of a connection: a TLS client that trusts the run's
// CA and checks the server's name, with every byte traced.
ChannelOptions client_channel(const RunContext& ctx, const std::string& server_name,
                              const std::shared_ptr<ConnTracer>& tracer) {
  ChannelOptions co;
  co.role = tls::TlsRole::kClient;
  co.tls = ctx.client_tls;
  co.server_name = server_name;
  co.observer = ConnTracer::observer(tracer);
  return co;
}

}  // namespace

UserAgent::UserAgent(RunContext& ctx, HostId id, const HostSpec& spec) : ctx_(ctx), id_(id), spec_(spec) {}

MailServer* UserAgent::outgoing_server() const {
  if (!spec_.outgoing.server.empty()) return ctx_.server_named(spec_.outgoing.server);
  return ctx_.server_for_domain(mta::domain_of(spec_.user));
}

MailServer* UserAgent::incoming_server() const {
  if (spec_.fetch && !spec_.fetch->server.empty()) return ctx_.server_named(spec_.fetch->server);
  return ctx_.server_for_domain(mta::domain_of(spec_.user));
}

std::string UserAgent::compose(const SendAction& action, const std::string& from) const {
  message::TextMessage m;
  m.from = {display_name_of(from), from};
  m.to = mailboxes(action.to);
  m.cc = mailboxes(action.cc);
  m.subject = action.subject;
  m.body = action.body.empty() ? "Hello " + (action.to.empty() ? std::string() : display_name_of(action.to.front())) +
                                     ",\n\n" + action.subject + "\n\n-- \n" + display_name_of(from) + "\n"
                               : action.body;
  m.date = ctx_.clock.unix_seconds();
  m.message_id = message::make_message_id(m.date, ctx_.next_message_number(), mta::domain_of(from));
  m.extra_fields = action.headers;
  m.extra_fields.emplace_back("User-Agent", "mailsim user agent on " + spec_.name);
  std::string text = message::compose_text_message(m);
  if (action.size > text.size()) {
    // Pad the body with lines of text to about the size asked for (an
    // attachment's worth of bytes, without the MIME).
    std::string pad;
    const std::string line(76, 'x');
    while (text.size() + pad.size() + 78 <= action.size) pad += line + "\n";
    m.body += "\n" + pad;
    text = message::compose_text_message(m);
  }
  return text;
}

void UserAgent::send(const SendAction& action) {
  const std::string from = action.from.empty() ? spec_.user : action.from;
  std::vector<std::string> recipients = action.to;
  recipients.insert(recipients.end(), action.cc.begin(), action.cc.end());
  submit(from, std::move(recipients), compose(action, from), action.subject);
}

void UserAgent::submit(const std::string& from, std::vector<std::string> recipients, std::string message,
                       std::string subject) {
  MailServer* server = outgoing_server();
  if (server == nullptr) {
    ctx_.note(spec_.name, "the mail program has no outgoing server for " + from + ": the letter stays in the outbox");
    return;
  }
  const std::uint16_t port = spec_.outgoing.port;
  const auto policy = server->smtp_port(port);
  // The mail program is set up to match its server: it logs in where the
  // server asks for (or offers) AUTH and the user has an account to give.
  const bool login = spec_.outgoing.auth && policy && policy->auth != smtp::AuthPolicy::kOff;
  ctx_.note(spec_.name, "posts \"" + subject + "\" from " + from + " via " + server->name() + " port " +
                            std::to_string(port) + (login ? ", logging in as " + server->login_name(spec_.user) : ""));
  smtp::ClientConfig config;
  config.helo_name = spec_.name;
  config.starttls = starttls(spec_.outgoing.tls);
  if (login) config.auth = smtp::Credentials{server->login_name(spec_.user), spec_.password, ""};
  const std::string server_name = server->name();
  ctx_.connect_by_name(
      id_, server_name, port,
      [this, config, from, recipients = std::move(recipients), message = std::move(message), server_name,
       subject](const ConnectResult& r) {
        if (!r.ok()) {
          ctx_.note(spec_.name, "cannot hand \"" + subject + "\" to " + server_name + ": " + r.reason +
                                    "; the letter stays in the outbox");
          return;
        }
        auto session = std::make_unique<smtp::ClientSession>(config);
        smtp::ClientSession* s = session.get();
        smtp::Envelope envelope;
        envelope.reverse_path = from;
        envelope.recipients = recipients;
        s->send(envelope, message);
        s->quit();
        auto tracer = std::make_shared<ConnTracer>(ctx_.trace, spec_.name, r.socket.id(), "smtp", true,
                                                   ctx_.options.record_data);
        ChannelOptions co = client_channel(ctx_, server_name, tracer);
        auto drain = [this, s, tracer, subject, server_name] {
          while (auto ev = s->next_event()) {
            tracer->on_smtp(*ev);
            if (const auto* t = std::get_if<smtp::client_events::TransactionResult>(&*ev)) {
              const smtp::Reply& last = t->final_reply   ? *t->final_reply
                                        : t->data_reply  ? *t->data_reply
                                        : !t->accepted && !t->rcpt_replies.empty() ? t->rcpt_replies.back()
                                                                                   : t->mail_reply;
              tracer->note(t->accepted ? "the mail program's letter \"" + subject + "\" was accepted by " + server_name +
                                             " (" + std::to_string(last.code) + " " + last.text() + ")"
                                       : "the mail program reports: " + server_name + " did not take \"" + subject +
                                             "\" (" + std::to_string(last.code) + " " + last.text() + ")");
            }
          }
        };
        ctx_.host_session(std::move(session), std::move(co), r.socket, std::move(drain)).start();
      });
}

void UserAgent::fetch(const FetchAction& action) {
  const std::string device = device_label(action.device);
  MailServer* server = incoming_server();
  if (!spec_.fetch || server == nullptr) {
    ctx_.note(spec_.name, device + " has no incoming mail server to collect from");
    return;
  }
  const FetchProtocol protocol = spec_.fetch->protocol;
  std::uint16_t port = spec_.fetch->port;
  if (port == 0) port = server->service_port(protocol);
  ctx_.note(spec_.name, device + " checks for mail at " + server->name() + " with " +
                            (protocol == FetchProtocol::kPop3 ? "POP3" : "IMAP") + " (port " + std::to_string(port) + ")");
  const std::string server_name = server->name();
  ctx_.connect_by_name(id_, server_name, port, [this, device, protocol, server_name](const ConnectResult& r) {
    MailServer* srv = ctx_.server_named(server_name);
    if (!r.ok() || srv == nullptr) {
      ctx_.note(spec_.name, device + " cannot reach " + server_name + ": " + r.reason);
      return;
    }
    ctx_.device_of_conn[r.socket.id()] = device;
    if (protocol == FetchProtocol::kPop3)
      fetch_pop3(r.socket, *srv, device);
    else
      fetch_imap(r.socket, *srv, device);
  });
}

void UserAgent::fetch_pop3(Socket socket, MailServer& server, const std::string& device) {
  DeviceState& state = devices_[device];
  pop3::ClientConfig c;
  c.user = server.login_name(spec_.user);
  c.password = spec_.password;
  c.tls = fetch_tls<pop3::ClientTls>(spec_.fetch->tls);
  c.leave_on_server = spec_.fetch->leave_on_server;
  c.known_uidls = state.known_uidls;
  auto session = std::make_unique<pop3::ClientSession>(c);
  pop3::ClientSession* s = session.get();
  auto tracer = std::make_shared<ConnTracer>(ctx_.trace, spec_.name, socket.id(), "pop3", true, ctx_.options.record_data);
  ChannelOptions co = client_channel(ctx_, server.name(), tracer);
  const ConnId conn = socket.id();
  const std::string login = c.user;
  MailServer* srv = &server;
  auto drain = [this, s, tracer, &state, device, srv, conn, login] {
    while (auto ev = s->next_event()) {
      tracer->on_pop3(*ev);
      if (const auto* m = std::get_if<pop3::client_events::MessageRetrieved>(&*ev)) {
        state.known_uidls.insert(m->uidl);
        srv->record_mailbox(login, "fetched", mta::header_value(m->bytes, "Message-ID"), device, conn);
      } else if (const auto* f = std::get_if<pop3::client_events::Finished>(&*ev)) {
        const auto& res = s->result();
        if (f->ok)
          tracer->note(device + " downloaded " + std::to_string(res.retrieved.size()) + " letter(s) of " +
                       std::to_string(res.messages_on_server) + " on the server" +
                       (res.deleted.empty() ? std::string(", leaving them there")
                                            : ", and asked the server to delete " + std::to_string(res.deleted.size())));
      }
    }
  };
  ctx_.host_session(std::move(session), std::move(co), socket, std::move(drain)).start();
}

void UserAgent::fetch_imap(Socket socket, MailServer& server, const std::string& device) {
  DeviceState& state = devices_[device];
  imap::ClientConfig c;
  c.user = server.login_name(spec_.user);
  c.password = spec_.password;
  c.tls = fetch_tls<imap::ClientTls>(spec_.fetch->tls);
  c.last_seen_uid = state.last_uid;
  c.known_uidvalidity = state.uidvalidity;
  auto session = std::make_unique<imap::ClientSession>(c);
  imap::ClientSession* s = session.get();
  auto tracer = std::make_shared<ConnTracer>(ctx_.trace, spec_.name, socket.id(), "imap", true, ctx_.options.record_data);
  ChannelOptions co = client_channel(ctx_, server.name(), tracer);
  const ConnId conn = socket.id();
  const std::string login = c.user;
  MailServer* srv = &server;
  auto fetched = std::make_shared<int>(0);
  auto drain = [this, s, tracer, &state, device, srv, conn, login, fetched] {
    while (auto ev = s->next_event()) {
      tracer->on_imap(*ev);
      if (const auto* m = std::get_if<imap::client_events::MessageFetched>(&*ev)) {
        ++*fetched;
        srv->record_mailbox(login, "fetched", mta::header_value(m->message, "Message-ID"), device, conn);
        if (m->flags.find("\\Seen") != std::string::npos)
          tracer->note(device + " shows letter " + std::to_string(m->uid) +
                       " as already read: the \\Seen flag is kept on the server");
      } else if (const auto* f = std::get_if<imap::client_events::Finished>(&*ev)) {
        if (f->ok) {
          state.last_uid = f->highest_uid;
          state.uidvalidity = f->uidvalidity;
          tracer->note(device + " read " + std::to_string(*fetched) +
                       " new letter(s); with IMAP they stay on the server");
        }
      }
    }
  };
  ctx_.host_session(std::move(session), std::move(co), socket, std::move(drain)).start();
}

}  // namespace mailsim::sim::roles
