// Test helpers for the SMTP sessions (see smtp_test_util.h).
#include "tests/unit/smtp/smtp_test_util.h"

#include <fmt/format.h>
#include <stdexcept>

namespace mailsim::smtp::test {

std::string escape(std::string_view bytes) {
  std::string out;
  for (char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '\r': out += "\\r"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\0': out += "\\0"; break;
      case '\\': out += "\\\\"; break;
      default:
        if (c < 0x20 || c >= 0x7f) out += fmt::format("\\x{:02X}", c);
        else out += ch;
    }
  }
  return out;
}

std::string unescape(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\' || i + 1 == text.size()) {
      out += text[i];
      continue;
    }
    const char n = text[++i];
    switch (n) {
      case 'r': out += '\r'; break;
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case '0': out += '\0'; break;
      case '\\': out += '\\'; break;
      case 'x': {
        if (i + 2 >= text.size()) throw std::runtime_error("bad \\x escape");
        out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
        i += 2;
        break;
      }
      default: throw std::runtime_error(fmt::format("unknown escape \\{}", n));
    }
  }
  return out;
}

std::vector<std::vector<std::string>> chunkings(std::string_view input) {
  std::vector<std::vector<std::string>> all;
  all.push_back({std::string(input)});
  std::vector<std::string> bytes;
  for (char c : input) bytes.emplace_back(1, c);
  all.push_back(bytes);
  for (std::size_t i = 1; i < input.size(); ++i)
    all.push_back({std::string(input.substr(0, i)), std::string(input.substr(i))});
  return all;
}

TlsInfo fake_tls() { return TlsInfo{"TLSv1.3", "TLS_AES_256_GCM_SHA384", ""}; }

// ---- ServerHarness ----

ServerHarness::ServerHarness(ServerConfig config, ServerHandler* h)
    : session(std::move(config)), handler(h ? h : &accept_all) {
  session.start();
  greeting = session.take_output();
  while (auto e = session.next_event()) events.push_back(*e);
}

namespace {
// Records every event and forwards it to the real handler.
struct Recorder : ServerHandler {
  Recorder(ServerHandler& inner, std::vector<ServerEvent>& log) : inner(inner), log(log) {}
  Reply on_mail(const server_events::MailFrom& m, const Envelope& e) override { return inner.on_mail(m, e); }
  Reply on_rcpt(const server_events::RcptTo& r, const Envelope& e) override { return inner.on_rcpt(r, e); }
  bool on_auth(const server_events::AuthRequest& a) override { return inner.on_auth(a); }
  Reply on_message(const server_events::MessageReceived& m) override { return inner.on_message(m); }
  void on_event(const ServerEvent& e) override {
    log.push_back(e);
    inner.on_event(e);
  }
  ServerHandler& inner;
  std::vector<ServerEvent>& log;
};
}  // namespace

std::string ServerHarness::send(std::string_view bytes) {
  session.receive(bytes);
  Recorder rec(*handler, events);
  run_handler(session, rec);
  return session.take_output();
}

std::vector<Reply> ServerHarness::replies() const {
  std::vector<Reply> r;
  for (const auto& e : events)
    if (auto* s = std::get_if<server_events::ReplySent>(&e)) r.push_back(s->reply);
  return r;
}

// ---- Wire ----

Wire::Wire(ClientConfig cc, ServerConfig sc, ServerHandler* h)
    : client(std::move(cc)), server(std::move(sc)), handler(h ? h : &accept_all) {}

void Wire::run() {
  Recorder rec(*handler, server_events);
  if (server.state() == ServerState::kConnected) {
    server.start();
    client.start();
  }
  const auto drain_client = [&] {
    while (auto e = client.next_event()) client_events.push_back(*e);
  };
  const auto to_client = [&](std::string bytes) {
    if (bytes.empty()) return false;
    if (!client_closed) client.receive(bytes);
    return true;
  };
  const auto to_server = [&](std::string bytes) {
    if (bytes.empty()) return false;
    client_to_server += bytes;
    if (!server_closed) server.receive(bytes);
    return true;
  };
  for (int round = 0; round < 10000; ++round) {
    bool progress = false;
    run_handler(server, rec);
    progress |= to_client(server.take_output());
    drain_client();
    progress |= to_server(client.take_output());
    drain_client();
    run_handler(server, rec);
    // The fake TLS step: once both sides flushed their plaintext.
    if (server.tls_requested() && client.tls_requested()) {
      server.tls_established(fake_tls());
      client.tls_established(fake_tls());
      progress = true;
    }
    if (server.wants_close() && !server_closed) {
      to_client(server.take_output());
      server_closed = true;
      if (!client_closed) client.peer_closed();
      progress = true;
    }
    drain_client();
    if (client.wants_close() && !client_closed) {
      to_server(client.take_output());
      client_closed = true;
      if (!server_closed) server.peer_closed();
      progress = true;
    }
    drain_client();
    run_handler(server, rec);
    if (!progress) return;
  }
  throw std::runtime_error("Wire::run: no quiescence after 10000 rounds");
}

}  // namespace mailsim::smtp::test
