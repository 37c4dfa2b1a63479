// Plays the golden transcripts in tests/golden/smtp/*.txt into a
// ServerSession and compares what the server says (and what its host is
// asked) with the file. The format is described in tests/golden/smtp/README.md.
//
// Each transcript runs twice: packet by packet as written (a C: line and the
// C+ lines after it form one packet), and byte by byte. Both must give exactly the file's S:/H: lines.
//
// To rewrite the expected lines after a deliberate change, run the test with
// MAILSIM_REGEN_GOLDEN=1 and review the diff like code.
#include "real/smtp/server.h"
#include "tests/unit/smtp/smtp_test_util.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <map>
#include <sstream>

using namespace mailsim::smtp;
namespace ev = mailsim::smtp::server_events;
using mailsim::smtp::test::escape;
using mailsim::smtp::test::unescape;

namespace {

bool is_expected_line(const std::string& l) {
  return l.starts_with("S: ") || l.starts_with("H: ") || l.starts_with("H| ") || l.starts_with("closed:");
}
bool is_client_line(const std::string& l) {
  return l.starts_with("C: ") || l.starts_with("C~ ") || l.starts_with("C+ ");
}

Reply parse_reply_spec(std::string_view spec) {
  // "550 5.1.1 text..." or "550 text..."
  const int code = std::stoi(std::string(spec.substr(0, 3)));
  std::string_view rest = spec.size() > 4 ? spec.substr(4) : std::string_view{};
  const auto sp = rest.find(' ');
  const std::string_view first = rest.substr(0, sp);
  if (is_enhanced_code(first)) {
    return make_reply(code, first, sp == std::string_view::npos ? std::string_view{} : rest.substr(sp + 1));
  }
  return make_reply(code, "", rest);
}

ServerConfig apply_config(ServerConfig c, const std::string& key, const std::string& value) {
  const auto policy_tls = [&] {
    if (value == "off") return TlsPolicy::kOff;
    if (value == "optional") return TlsPolicy::kOptional;
    if (value == "required") return TlsPolicy::kRequired;
    throw std::runtime_error("bad tls value " + value);
  };
  const auto policy_auth = [&] {
    if (value == "off") return AuthPolicy::kOff;
    if (value == "optional") return AuthPolicy::kOptional;
    if (value == "required") return AuthPolicy::kRequired;
    throw std::runtime_error("bad auth value " + value);
  };
  if (key == "hostname") c.hostname = value;
  else if (key == "max_message_size") c.max_message_size = std::stoull(value);
  else if (key == "max_recipients") c.max_recipients = std::stoul(value);
  else if (key == "max_errors") c.max_errors = std::stoul(value);
  else if (key == "tls") c.tls = policy_tls();
  else if (key == "tls_available") c.tls_available = value == "yes";
  else if (key == "implicit_tls") c.implicit_tls = value == "yes";
  else if (key == "auth") c.auth = policy_auth();
  else if (key == "auth_before_tls") c.auth_before_tls = value == "yes";
  else if (key == "reject_greeting") c.reject_greeting = parse_reply_spec(value);
  else throw std::runtime_error("unknown config key " + key);
  return c;
}

struct Run {
  std::vector<std::string> expected;
  std::vector<std::string> actual;
  std::vector<std::string> regenerated;  // the file with fresh expected lines
};

std::string path_list(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& a : v) s += (s.empty() ? "" : ",") + fmt::format("<{}>", a);
  return s;
}

Run play(const std::vector<std::string>& lines, bool bytewise) {
  Run run;
  ServerConfig config;
  config.hostname = "mx.example.net";
  std::optional<ServerSession> session;
  std::map<std::string, std::deque<std::string>> host;  // kind → queued answers
  int queue_id = 0;
  std::string packet;

  const auto answer = [&](const std::string& kind) -> std::optional<std::string> {
    auto& q = host[kind];
    if (q.empty()) return std::nullopt;
    std::string a = q.front();
    q.pop_front();
    return a;
  };
  // Drains events into transcript lines, answering decisions like a host.
  std::string wire_expected;
  const auto drain = [&](std::vector<std::string>& out) {
    while (auto e = session->next_event()) {
      if (auto* r = std::get_if<ev::ReplySent>(&*e)) {
        const std::string wire = r->reply.to_wire();
        wire_expected += wire;
        std::size_t start = 0;
        while (start < wire.size()) {
          const auto end = wire.find("\r\n", start);
          out.push_back("S: " + escape(wire.substr(start, end - start)));
          start = end + 2;
        }
      } else if (auto* m = std::get_if<ev::MailFrom>(&*e)) {
        std::string l = fmt::format("H: mail from=<{}>", m->reverse_path);
        if (m->size) l += fmt::format(" size={}", *m->size);
        if (m->body == BodyType::k8BitMime) l += " body=8BITMIME";
        if (m->body == BodyType::k7Bit) l += " body=7BIT";
        if (m->auth) l += fmt::format(" auth={}", *m->auth);
        out.push_back(l);
        const auto a = answer("mail");
        session->accept_mail(a ? parse_reply_spec(*a) : replies::mail_ok());
      } else if (auto* rc = std::get_if<ev::RcptTo>(&*e)) {
        out.push_back(fmt::format("H: rcpt to=<{}>", rc->forward_path));
        const auto a = answer("rcpt");
        session->accept_rcpt(a ? parse_reply_spec(*a) : replies::rcpt_ok());
      } else if (auto* au = std::get_if<ev::AuthRequest>(&*e)) {
        std::string l = fmt::format("H: auth {} user={} password={}", au->mechanism, escape(au->username),
                                    escape(au->password));
        if (!au->authzid.empty()) l += " authzid=" + escape(au->authzid);
        out.push_back(l);
        const auto a = answer("auth");
        session->auth_result(!a || *a == "ok");
      } else if (auto* msg = std::get_if<ev::MessageReceived>(&*e)) {
        const Envelope& env = msg->envelope;
        out.push_back(fmt::format("H: message from=<{}> to={} helo={} protocol={} octets={}", env.reverse_path,
                                  path_list(env.recipients), env.helo_name, env.with_protocol(),
                                  msg->data.size()));
        std::size_t start = 0;
        while (start < msg->data.size()) {
          const auto end = msg->data.find("\r\n", start);
          out.push_back("H| " + escape(msg->data.substr(start, end - start)));
          start = end + 2;
        }
        const auto a = answer("message");
        session->message_result(a ? parse_reply_spec(*a) : replies::queued(fmt::format("Q{}", ++queue_id)));
      } else if (auto* c = std::get_if<ev::SessionClosed>(&*e)) {
        out.push_back("closed: " + c->reason);
      }
    }
    const std::string wire = session->take_output();
    if (wire != wire_expected) out.push_back("!! the output bytes differ from the ReplySent events");
    wire_expected.clear();
  };
  const auto ensure_started = [&] {
    if (session) return;
    session.emplace(config, PeerIdentity{"192.0.2.10", "client.example.org"});
    session->start();
    drain(run.actual);
    for (const auto& l : run.actual) run.regenerated.push_back(l);
  };
  const auto flush = [&] {
    if (packet.empty()) return;
    std::vector<std::string> produced;
    if (bytewise) {
      for (char c : packet) {
        session->receive(std::string_view(&c, 1));
        drain(produced);
      }
    } else {
      session->receive(packet);
      drain(produced);
    }
    packet.clear();
    for (const auto& l : produced) {
      run.actual.push_back(l);
      run.regenerated.push_back(l);
    }
  };

  for (const std::string& line : lines) {
    if (!line.starts_with("C+ ")) flush();  // "C+" continues the packet of the line before
    if (line.empty() || line.starts_with("#")) {
      run.regenerated.push_back(line);
      continue;
    }
    if (line.starts_with("config: ")) {
      if (session) throw std::runtime_error("config: after the session started");
      const auto eq = line.find('=');
      config = apply_config(config, line.substr(8, eq - 8), line.substr(eq + 1));
      run.regenerated.push_back(line);
      continue;
    }
    if (line.starts_with("host: ")) {
      const auto sp = line.find(' ', 6);
      host[line.substr(6, sp - 6)].push_back(sp == std::string::npos ? "" : line.substr(sp + 1));
      run.regenerated.push_back(line);
      continue;
    }
    ensure_started();
    if (is_expected_line(line)) {
      run.expected.push_back(line);
      continue;
    }
    if (is_client_line(line)) {
      packet += unescape(line.substr(3));
      if (!line.starts_with("C~ ")) packet += "\r\n";
      run.expected.push_back(line);
      run.actual.push_back(line);
      run.regenerated.push_back(line);
      continue;
    }
    if (line == "tls: handshake") {
      run.expected.push_back(line);
      run.actual.push_back(session->tls_requested() ? line : "!! tls: handshake, but the server did not ask for TLS");
      run.regenerated.push_back(line);
      session->tls_established(mailsim::smtp::test::fake_tls());
      std::vector<std::string> produced;
      drain(produced);
      for (const auto& l : produced) {
        run.actual.push_back(l);
        run.regenerated.push_back(l);
      }
      continue;
    }
    throw std::runtime_error("unrecognised golden line: " + line);
  }
  ensure_started();
  flush();
  for (const auto& [kind, q] : host)
    for (const auto& a : q) run.actual.push_back(fmt::format("!! unused host answer: {} {}", kind, a));
  return run;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& l : v) s += l + "\n";
  return s;
}

}  // namespace

TEST_CASE("golden SMTP server transcripts") {
  const std::filesystem::path dir = std::filesystem::path(MAILSIM_SOURCE_DIR) / "tests/golden/smtp";
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".txt") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() >= 14);
  const bool regen = std::getenv("MAILSIM_REGEN_GOLDEN") != nullptr;

  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    DYNAMIC_SECTION(file.filename().string()) {
      const Run packets = play(lines, false);
      if (regen) {
        std::ofstream out(file, std::ios::binary | std::ios::trunc);
        for (const auto& l : packets.regenerated) out << l << "\n";
      }
      INFO("packet by packet");
      CHECK(join(packets.actual) == join(packets.expected));
      const Run bytes = play(lines, true);
      INFO("byte by byte");
      CHECK(join(bytes.actual) == join(bytes.expected));
    }
  }
}
