// Protocol events to trace events (see tracing.h).
#include "sim/roles/tracing.h"

#include <algorithm>
#include <cctype>
#include <type_traits>

namespace mailsim::sim::roles {
namespace {

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string first_word(std::string_view s) {
  const auto end = s.find(' ');
  return std::string(s.substr(0, end));
}

// The IMAP status of a tagged response line "A1 OK ..." ("" for untagged and continuations).
std::string imap_status(std::string_view line) {
  if (line.empty() || line[0] == '*' || line[0] == '+') return {};
  const auto sp = line.find(' ');
  if (sp == std::string_view::npos) return {};
  const std::string word = upper(first_word(line.substr(sp + 1)));
  return word == "OK" || word == "NO" || word == "BAD" || word == "BYE" ? word : std::string{};
}

}  // namespace

std::string smtp_verb(std::string_view line) {
  std::string verb = upper(first_word(line));
  // "MAIL FROM:<a>" is MAIL; "RCPT TO:<b>" is RCPT (a colon may touch the verb: "MAIL FROM:<...>").
  if (const auto colon = verb.find(':'); colon != std::string::npos) verb.resize(colon);
  return verb;
}

std::string imap_verb(std::string_view text) {
  std::string verb = upper(first_word(text));
  if (verb == "UID" && text.size() > 4) verb += " " + upper(first_word(text.substr(4)));
  return verb;
}

ConnTracer::ConnTracer(Trace& trace, std::string host, ConnId conn, std::string protocol, bool client,
                       bool record_data)
    : trace_(trace),
      host_(std::move(host)),
      conn_(conn),
      protocol_(std::move(protocol)),
      client_(client),
      record_data_(record_data) {}

std::function<void(const ChannelEvent&)> ConnTracer::observer(std::shared_ptr<ConnTracer> tracer) {
  return [tracer = std::move(tracer)](const ChannelEvent& e) { tracer->on_channel(e); };
}

void ConnTracer::on_channel(const ChannelEvent& e) {
  using K = ChannelEvent::Kind;
  switch (e.kind) {
    case K::kSessionOut:
    case K::kSessionIn:
      if (!record_data_ || e.data.empty()) break;
      if (!trace_.wants(EventKind::kData)) {
        trace_.count(EventKind::kData);
        break;
      }
      trace_.record(EventKind::kData, host_, conn_,
                    DataPayload{e.kind == K::kSessionOut ? "out" : "in", protocol_, Bytes{std::string(e.data)}, tls_});
      break;
    case K::kHandshakeFinished: {
      tls_ = true;
      TlsPayload t;
      t.side = side();
      t.ok = true;
      if (e.tls != nullptr) {
        t.version = e.tls->version;
        t.cipher = e.tls->cipher;
        t.peer_subject = e.tls->peer_subject;
      }
      trace_.record(EventKind::kTls, host_, conn_, std::move(t));
      break;
    }
    case K::kTlsError: {
      TlsPayload t;
      t.side = side();
      t.ok = false;
      t.reason = std::string(e.detail);
      trace_.record(EventKind::kTls, host_, conn_, std::move(t));
      break;
    }
    default: break;  // wire bytes are in the packets; close is in the connection events
  }
}

void ConnTracer::command(std::string verb, std::string line) {
  trace_.record(EventKind::kCommand, host_, conn_, CommandPayload{protocol_, std::move(verb), std::move(line), side()});
}

void ConnTracer::reply(int code, std::string status, std::string text) {
  trace_.record(EventKind::kReply, host_, conn_,
                ReplyPayload{protocol_, code, std::move(status), std::move(text), client_ ? "client" : "server"});
}

void ConnTracer::auth(std::string mechanism, std::string user, bool ok) {
  trace_.record(EventKind::kAuth, host_, conn_, AuthPayload{protocol_, std::move(mechanism), std::move(user), ok, tls_});
}

void ConnTracer::note(std::string text) { trace_.record(EventKind::kNote, host_, conn_, NotePayload{std::move(text), ""}); }

void ConnTracer::auth_decided(const std::string& user, bool ok) {
  auth(auth_mechanism_.empty() ? "PLAIN" : auth_mechanism_, user, ok);
}

// ---- SMTP ------------------------------------------------------------------------

// In a lean trace an event nobody reads is only counted, and its text is
// never built: each kind below is asked about where it is recorded, so the
// counts cannot drift from what a full trace records.
bool ConnTracer::only_counted(EventKind kind) {
  if (trace_.wants(kind)) return false;
  trace_.count(kind);
  return true;
}

void ConnTracer::on_smtp(const smtp::ClientEvent& event) {
  namespace ev = smtp::client_events;
  std::visit(
      [&](const auto& e) {
        using E = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<E, ev::Greeting> || std::is_same_v<E, ev::ReplyReceived>) {
          if (!only_counted(EventKind::kReply)) reply(e.reply.code, e.reply.enhanced, e.reply.text());
        } else if constexpr (std::is_same_v<E, ev::CommandSent>) {
          // The mechanism is remembered for a failed AUTH's event.
          if (!trace_.wants(EventKind::kAuth) && only_counted(EventKind::kCommand)) return;
          const std::string verb = smtp_verb(e.line);
          if (verb == "AUTH") auth_mechanism_ = upper(first_word(std::string_view(e.line).substr(5)));
          command(verb, e.line);
        } else if constexpr (std::is_same_v<E, ev::Authenticated>) {
          if (!only_counted(EventKind::kAuth)) auth(e.mechanism, e.username, true);
        } else if constexpr (std::is_same_v<E, ev::AuthFailed>) {
          if (!only_counted(EventKind::kAuth)) auth(auth_mechanism_, "", false);
        } else if constexpr (std::is_same_v<E, ev::Failed>) {
          if (!only_counted(EventKind::kNote)) note("the SMTP client gives up on this connection: " + e.reason);
        }
      },
      event);
}

void ConnTracer::on_smtp(const smtp::ServerEvent& event) {
  namespace ev = smtp::server_events;
  std::visit(
      [&](const auto& e) {
        using E = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<E, ev::CommandReceived>) {
          // The mechanism is remembered for the AUTH decision's event.
          if (!trace_.wants(EventKind::kAuth) && only_counted(EventKind::kCommand)) return;
          // Lines that answer a 334 challenge belong to the AUTH command.
          const std::string verb = in_sasl_ ? std::string("AUTH") : smtp_verb(e.line);
          if (!in_sasl_ && verb == "AUTH") {
            const std::string_view rest = e.line.size() > 5 ? std::string_view(e.line).substr(5) : std::string_view{};
            auth_mechanism_ = upper(first_word(rest));
          }
          command(verb, e.line);
        } else if constexpr (std::is_same_v<E, ev::ReplySent>) {
          if (!only_counted(EventKind::kReply)) reply(e.reply.code, e.reply.enhanced, e.reply.text());
        } else if constexpr (std::is_same_v<E, ev::StateChanged>) {
          in_sasl_ = e.to == smtp::ServerState::kAuth;
        } else if constexpr (std::is_same_v<E, ev::AuthRequest>) {
          auth_mechanism_ = e.mechanism;
        } else if constexpr (std::is_same_v<E, ev::InputDiscarded>) {
          if (!only_counted(EventKind::kNote)) note("the server ignores " + std::to_string(e.octets) + " bytes: " + e.reason);
        }
      },
      event);
}

// ---- POP3 ------------------------------------------------------------------------

void ConnTracer::on_pop3(const pop3::ClientEvent& event) {
  namespace ev = pop3::client_events;
  std::visit(
      [&](const auto& e) {
        using E = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<E, ev::CommandSent>) {
          command(upper(first_word(e.line)), e.line);
        } else if constexpr (std::is_same_v<E, ev::ResponseReceived>) {
          reply(e.status.starts_with("-ERR") ? 0 : 1, "", e.status);
        } else if constexpr (std::is_same_v<E, ev::Authenticated>) {
          auth("USER/PASS", e.user, true);
        } else if constexpr (std::is_same_v<E, ev::Finished>) {
          if (!e.ok) note("the POP3 client gives up: " + e.reason);
        }
      },
      event);
}

void ConnTracer::on_pop3(const pop3::ServerEvent& event) {
  namespace ev = pop3::server_events;
  std::visit(
      [&](const auto& e) {
        using E = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<E, ev::CommandReceived>) {
          command(upper(first_word(e.line)), e.line);
        } else if constexpr (std::is_same_v<E, ev::ResponseSent>) {
          reply(e.status.starts_with("-ERR") ? 0 : 1, "", e.status);
        } else if constexpr (std::is_same_v<E, ev::Authenticated>) {
          auth(e.mechanism == "USER" ? "USER/PASS" : e.mechanism, e.user, true);
        } else if constexpr (std::is_same_v<E, ev::AuthFailed>) {
          auth("USER/PASS", e.user, false);
        } else if constexpr (std::is_same_v<E, ev::InputDiscarded>) {
          note("the server ignores " + std::to_string(e.octets) + " bytes: " + e.reason);
        }
      },
      event);
}

// ---- IMAP ------------------------------------------------------------------------

void ConnTracer::on_imap(const imap::ClientEvent& event) {
  namespace ev = imap::client_events;
  std::visit(
      [&](const auto& e) {
        using E = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<E, ev::CommandSent>) {
          // The text carries the tag ("A3 UID FETCH ..."); SASL responses and DONE have none.
          const std::string_view text = e.text;
          const std::string_view rest = e.tag.empty() ? text : text.substr(std::min(text.size(), e.tag.size() + 1));
          command(e.tag.empty() ? (upper(e.text) == "DONE" ? std::string("DONE") : std::string("SASL")) : imap_verb(rest),
                  e.text);
        } else if constexpr (std::is_same_v<E, ev::ResponseReceived>) {
          reply(0, imap_status(e.text), e.text);
        } else if constexpr (std::is_same_v<E, ev::Authenticated>) {
          auth(e.mechanism, e.user, true);
        } else if constexpr (std::is_same_v<E, ev::Failed>) {
          note("the IMAP client gives up: " + e.reason);
        }
      },
      event);
}

void ConnTracer::on_imap(const imap::ServerEvent& event) {
  namespace ev = imap::server_events;
  std::visit(
      [&](const auto& e) {
        using E = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<E, ev::CommandReceived>) {
          std::string line = e.text;
          while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
          command(e.name.empty() ? std::string("?") : e.name, std::move(line));
        } else if constexpr (std::is_same_v<E, ev::ResponseSent>) {
          reply(0, imap_status(e.text), e.text);
        } else if constexpr (std::is_same_v<E, ev::Authenticated>) {
          auth(e.mechanism, e.user, true);
        } else if constexpr (std::is_same_v<E, ev::AuthFailed>) {
          auth(e.mechanism, e.user, false);
        } else if constexpr (std::is_same_v<E, ev::InputDiscarded>) {
          note("the server ignores " + std::to_string(e.octets) + " bytes: " + e.reason);
        }
      },
      event);
}

}  // namespace mailsim::sim::roles
