// POP3 client session: one mail-collection run (RFC 1939, 2449, 2595, 5034).
// on_response() holds every transition: what each reply means in each state.
#include "real/pop3/client.h"

#include <algorithm>
#include <charconv>
#include <utility>

#include <fmt/format.h>

#include "real/codec/ascii.h"
#include "real/codec/base64.h"

namespace mailsim::pop3 {

std::string_view to_string(ClientState s) {
  switch (s) {
    case ClientState::kConnected: return "CONNECTED";
    case ClientState::kGreeting: return "GREETING";
    case ClientState::kCapa: return "CAPA";
    case ClientState::kStls: return "STLS";
    case ClientState::kTlsHandshake: return "TLS-HANDSHAKE";
    case ClientState::kUser: return "USER";
    case ClientState::kPass: return "PASS";
    case ClientState::kAuth: return "AUTH";
    case ClientState::kStat: return "STAT";
    case ClientState::kUidl: return "UIDL";
    case ClientState::kRetr: return "RETR";
    case ClientState::kDele: return "DELE";
    case ClientState::kQuit: return "QUIT";
    case ClientState::kDone: return "DONE";
  }
  return "?";
}

ClientSession::ClientSession(ClientConfig config) : config_(std::move(config)) {}

void ClientSession::start() {
  if (state_ != ClientState::kConnected) return;
  if (config_.implicit_tls) {
    tls_ = config_.implicit_tls_info;
    events_.emplace_back(client_events::TlsStarted{*tls_});
  }
  set_state(ClientState::kGreeting);
}

void ClientSession::receive(std::string_view bytes) {
  if (state_ == ClientState::kDone || state_ == ClientState::kConnected || state_ == ClientState::kTlsHandshake)
    return;  // during the handshake nothing plaintext may arrive (CVE-2011-0411 in reverse)
  in_.append(bytes);
  process();
}

std::string ClientSession::take_output() { return std::exchange(out_, {}); }

std::optional<ClientEvent> ClientSession::next_event() {
  if (events_.empty()) return std::nullopt;
  ClientEvent e = std::move(events_.front());
  events_.pop_front();
  return e;
}

void ClientSession::tls_established(const TlsInfo& info) {
  if (state_ != ClientState::kTlsHandshake) return;
  tls_ = info;
  events_.emplace_back(client_events::TlsStarted{info});
  // RFC 2595 §4: capabilities learnt before TLS are forgotten; ask again.
  caps_.clear();
  send("CAPA", ClientState::kCapa);
}

void ClientSession::tls_failed(std::string_view reason) {
  if (state_ != ClientState::kTlsHandshake) return;
  finish(false, fmt::format("TLS handshake failed: {}", reason));
}

void ClientSession::peer_closed() {
  if (state_ == ClientState::kDone) return;
  if (state_ == ClientState::kQuit) {
    finish(failure_.empty(), failure_);  // the server hung up right after QUIT
    return;
  }
  finish(false, fmt::format("server closed the connection in state {}", to_string(state_)));
}

// ---- reading responses -----------------------------------------------------

bool ClientSession::expects_multiline() const {
  return state_ == ClientState::kCapa || state_ == ClientState::kUidl || state_ == ClientState::kRetr;
}

void ClientSession::process() {
  while (state_ != ClientState::kDone && state_ != ClientState::kTlsHandshake) {
    const auto nl = in_.find('\n');
    if (nl == std::string::npos) {
      if (in_.size() > config_.max_line) finish(false, "response line too long");
      return;
    }
    if (nl + 1 > config_.max_line) {
      finish(false, "response line too long");
      return;
    }
    std::string l = in_.substr(0, nl);
    in_.erase(0, nl + 1);
    if (!l.empty() && l.back() == '\r') l.pop_back();

    if (partial_) {
      partial_octets_ += nl + 1;
      if (l == ".") {
        Response r = std::move(*partial_);
        partial_.reset();
        events_.emplace_back(client_events::ResponseReceived{r.status, partial_octets_, true});
        on_response(std::move(r));
        continue;
      }
      if (!l.empty() && l[0] == '.') l.erase(0, 1);  // byte-stuffing (RFC 1939 §3)
      partial_->body += l + "\r\n";
      partial_->lines.push_back(std::move(l));
      continue;
    }
    Response r;
    r.ok = l.rfind("+OK", 0) == 0;
    r.status = std::move(l);
    if (r.ok && expects_multiline()) {
      partial_ = std::move(r);
      partial_octets_ = nl + 1;
      continue;
    }
    events_.emplace_back(client_events::ResponseReceived{r.status, nl + 1, false});
    on_response(std::move(r));
  }
  if (state_ == ClientState::kTlsHandshake) in_.clear();  // see receive()
}

// ---- the transitions -------------------------------------------------------

void ClientSession::on_response(Response r) {
  switch (state_) {
    case ClientState::kGreeting:
      if (!r.ok) return finish(false, "server refused the connection: " + r.status);
      return send("CAPA", ClientState::kCapa);

    case ClientState::kCapa:
      caps_.clear();
      if (r.ok) {
        // Keyword upper-cased, arguments kept: "SASL PLAIN", "IMPLEMENTATION x".
        for (auto& c : r.lines) {
          auto sp = c.find(' ');
          const std::string word = codec::to_upper(std::string_view(c).substr(0, sp));
          caps_.push_back(sp == std::string::npos ? word : word + c.substr(sp));
        }
      }
      return after_capa();  // -ERR: a pre-RFC 2449 server; carry on without

    case ClientState::kStls:
      if (r.ok) return set_state(ClientState::kTlsHandshake);
      if (config_.tls == ClientTls::kRequired) return quit("the server refused STLS: " + r.status);
      return authenticate();

    case ClientState::kUser:
      if (!r.ok) return quit("USER refused: " + r.status);
      return send("PASS " + config_.password, ClientState::kPass);

    case ClientState::kPass:
    case ClientState::kAuth:
      if (!r.ok) return quit("login failed: " + r.status);
      events_.emplace_back(client_events::Authenticated{config_.user});
      return send("STAT", ClientState::kStat);

    case ClientState::kStat: {
      if (!r.ok) return quit("STAT failed: " + r.status);
      // "+OK nn mm"
      std::string_view rest = std::string_view(r.status).substr(3);
      while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
      std::uint32_t n = 0;
      auto [p, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), n);
      if (ec != std::errc()) return quit("cannot read STAT reply: " + r.status);
      count_ = n;
      result_.messages_on_server = n;
      if (n == 0) return quit("");
      return send("UIDL", ClientState::kUidl);
    }

    case ClientState::kUidl:
      to_fetch_.clear();
      if (r.ok) {
        for (const auto& l : r.lines) {
          auto sp = l.find(' ');
          std::uint32_t n = 0;
          if (sp == std::string::npos || std::from_chars(l.data(), l.data() + sp, n).ec != std::errc()) continue;
          std::string uidl = l.substr(sp + 1);
          if (config_.known_uidls.count(uidl) == 0) to_fetch_.push_back({n, std::move(uidl)});
        }
      } else {
        // No UIDL: nothing tells old mail from new; take everything.
        for (std::uint32_t n = 1; n <= count_; ++n) to_fetch_.push_back({n, ""});
      }
      return next_message();

    case ClientState::kRetr:
      if (r.ok) {
        result_.retrieved.push_back(current_.uidl);
        events_.emplace_back(client_events::MessageRetrieved{current_.number, current_.uidl, std::move(r.body)});
        if (!config_.leave_on_server)
          return send(fmt::format("DELE {}", current_.number), ClientState::kDele);
      }
      return next_message();  // a RETR that failed: skip that message

    case ClientState::kDele:
      if (r.ok) {
        result_.deleted.push_back(current_.uidl);
        events_.emplace_back(client_events::MessageDeleted{current_.number, current_.uidl});
      }
      return next_message();

    case ClientState::kQuit:
      // After QUIT a -ERR means the server could not remove marked messages.
      if (!r.ok && failure_.empty()) failure_ = "QUIT failed: " + r.status;
      return finish(failure_.empty(), failure_);

    case ClientState::kConnected:
    case ClientState::kTlsHandshake:
    case ClientState::kDone:
      return;
  }
}

bool ClientSession::has_cap(std::string_view cap) const {
  return std::find(caps_.begin(), caps_.end(), cap) != caps_.end();
}

void ClientSession::after_capa() {
  if (!tls_) {
    if (config_.tls != ClientTls::kNever && has_cap("STLS")) return send("STLS", ClientState::kStls);
    // Quit before a password crosses the wire in the clear.
    if (config_.tls == ClientTls::kRequired) return quit("the server does not offer STLS");
  }
  authenticate();
}

void ClientSession::authenticate() {
  if (config_.auth == ClientAuth::kSaslPlain) {
    const std::string plain = std::string(1, '\0') + config_.user + '\0' + config_.password;
    return send("AUTH PLAIN " + codec::base64_encode(plain), ClientState::kAuth);
  }
  send("USER " + config_.user, ClientState::kUser);
}

void ClientSession::next_message() {
  if (to_fetch_.empty()) return quit("");
  current_ = std::move(to_fetch_.front());
  to_fetch_.pop_front();
  send(fmt::format("RETR {}", current_.number), ClientState::kRetr);
}

void ClientSession::quit(std::string error) {
  failure_ = std::move(error);
  send("QUIT", ClientState::kQuit);
}

void ClientSession::send(std::string line, ClientState next) {
  out_ += line + "\r\n";
  events_.emplace_back(client_events::CommandSent{std::move(line)});
  set_state(next);
}

void ClientSession::set_state(ClientState s) {
  if (s == state_) return;
  events_.emplace_back(client_events::StateChanged{state_, s});
  state_ = s;
}

void ClientSession::finish(bool ok, std::string reason) {
  if (state_ == ClientState::kDone) return;
  result_.ok = ok;
  result_.error = reason;
  set_state(ClientState::kDone);
  events_.emplace_back(client_events::Finished{ok, std::move(reason)});
}

}  // namespace mailsim::pop3
