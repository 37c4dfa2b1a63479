// The eavesdropper role (see eavesdropper.h).
#include "sim/roles/eavesdropper.h"

#include "real/codec/base64.h"
#include "sim/net/network.h"

#include <cctype>

namespace mailsim::sim::roles {
namespace {

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::vector<std::string> words(std::string_view line) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    const std::size_t start = i;
    while (i < line.size() && line[i] != ' ') ++i;
    if (i > start) out.emplace_back(line.substr(start, i - start));
  }
  return out;
}

std::string decode(std::string_view b64) {
  const auto bytes = codec::base64_decode(b64);
  if (!bytes) return {};
  return *bytes;
}

std::string leaked(const std::string& how, const std::string& user, const std::string& password) {
  return "reads a password on the road (" + how + "): user \"" + user + "\", password \"" + password + "\"";
}

// "\0alice\0secret" (RFC 4616) -> user, password.
std::optional<std::pair<std::string, std::string>> split_plain(const std::string& decoded) {
  const auto a = decoded.find('\0');
  if (a == std::string::npos) return std::nullopt;
  const auto b = decoded.find('\0', a + 1);
  if (b == std::string::npos) return std::nullopt;
  return std::pair{decoded.substr(a + 1, b - a - 1), decoded.substr(b + 1)};
}

}  // namespace

bool starts_like_tls(std::string_view bytes) {
  if (bytes.size() < 3) return false;
  const auto type = static_cast<unsigned char>(bytes[0]);
  return type >= 20 && type <= 23 && static_cast<unsigned char>(bytes[1]) == 3;
}

std::vector<std::string> overhear(OverheardStream& s, std::string_view bytes) {
  std::vector<std::string> told;
  s.partial_line.append(bytes);
  std::size_t start = 0;
  for (;;) {
    const auto eol = s.partial_line.find("\r\n", start);
    if (eol == std::string::npos) break;
    const std::string line = s.partial_line.substr(start, eol - start);
    start = eol + 2;
    const auto w = words(line);
    if (!s.awaiting.empty()) {
      const std::string step = std::exchange(s.awaiting, {});
      if (step == "plain") {
        if (auto up = split_plain(decode(line))) told.push_back(leaked("AUTH PLAIN, base64 decoded", up->first, up->second));
      } else if (step == "login-user") {
        s.login_user = decode(line);
        s.awaiting = "login-pass";
      } else if (step == "login-pass") {
        told.push_back(leaked("AUTH LOGIN, base64 decoded", s.login_user, decode(line)));
      }
      continue;
    }
    if (w.empty()) continue;
    const std::string verb = upper(w[0]);
    // SMTP AUTH (RFC 4954) and IMAP AUTHENTICATE (tagged: the verb is the second word).
    const bool smtp_auth = verb == "AUTH" && w.size() >= 2;
    const bool imap_auth = w.size() >= 3 && upper(w[1]) == "AUTHENTICATE";
    if (smtp_auth || imap_auth) {
      const std::string mech = upper(w[smtp_auth ? 1 : 2]);
      const std::size_t arg = smtp_auth ? 2 : 3;
      if (mech == "PLAIN") {
        if (w.size() > arg) {
          if (auto up = split_plain(decode(w[arg]))) told.push_back(leaked("AUTH PLAIN, base64 decoded", up->first, up->second));
        } else {
          s.awaiting = "plain";
        }
      } else if (mech == "LOGIN") {
        if (w.size() > arg) {
          s.login_user = decode(w[arg]);
          s.awaiting = "login-pass";
        } else {
          s.awaiting = "login-user";
        }
      }
    } else if (verb == "USER" && w.size() == 2) {  // POP3 (RFC 1939 §7)
      s.login_user = w[1];
    } else if (verb == "PASS" && w.size() >= 2) {
      told.push_back(leaked("POP3 PASS", s.login_user, line.substr(5)));
    } else if (w.size() >= 4 && upper(w[1]) == "LOGIN") {  // IMAP "a1 LOGIN user password"
      told.push_back(leaked("IMAP LOGIN", w[2], w[3]));
    } else if (!s.subject_told && line.size() > 9 && upper(line.substr(0, 9)) == "SUBJECT: ") {
      s.subject_told = true;
      told.push_back("reads the letter as it passes, like a postcard: \"" + line + "\"");
    }
  }
  s.partial_line.erase(0, start);
  // A line that never ends (binary, a literal) must not grow without bound.
  if (s.partial_line.size() > 64 * 1024) s.partial_line.clear();
  return told;
}

void Eavesdropper::on_event(const TraceEvent& event) {
  if (event.kind != EventKind::kPacket) return;
  const auto* p = event.as<PacketPayload>();
  if (p == nullptr || p->data.value.empty()) return;
  for (const auto& tap : spec_.taps) {
    if (!packet_crosses(*p, tap[0], tap[1])) continue;
    OverheardStream& s = streams_[{event.conn, p->from}];
    if (!s.encrypted && starts_like_tls(p->data.value)) s.encrypted = true;
    CapturePayload c;
    c.link_a = tap[0];
    c.link_b = tap[1];
    c.from = p->from;
    c.to = p->to;
    c.src_port = p->src_port;
    c.dst_port = p->dst_port;
    c.data = p->data;
    c.encrypted = s.encrypted;
    c.packet_seq = event.seq;
    const ConnId conn = event.conn;
    const bool encrypted = s.encrypted;
    const std::string data = p->data.value;
    ctx_.trace.record(EventKind::kCapture, spec_.name, conn, std::move(c));
    if (!encrypted)
      for (auto& sentence : overhear(streams_[{conn, p->from}], data)) ctx_.note(spec_.name, std::move(sentence), conn);
    return;  // one copy per packet, even if two taps see it
  }
}

}  // namespace mailsim::sim::roles
