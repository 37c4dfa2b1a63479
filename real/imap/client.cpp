// IMAP4rev1 client session for the simulated mail user agent; see client.h.
#include "real/imap/client.h"

#include <algorithm>
#include <utility>

#include "real/codec/ascii.h"
#include "real/codec/base64.h"
#include "real/imap/command.h"
#include "real/imap/wire.h"

namespace mailsim::imap {

std::string_view to_string(ClientStep s) {
  switch (s) {
    case ClientStep::kConnecting: return "connecting";
    case ClientStep::kGreeting: return "greeting";
    case ClientStep::kCapability: return "capability";
    case ClientStep::kStartTls: return "starttls";
    case ClientStep::kTlsHandshake: return "tls-handshake";
    case ClientStep::kLogin: return "login";
    case ClientStep::kAuthenticate: return "authenticate";
    case ClientStep::kSelect: return "select";
    case ClientStep::kSearch: return "search";
    case ClientStep::kFetch: return "fetch";
    case ClientStep::kStore: return "store";
    case ClientStep::kIdle: return "idle";
    case ClientStep::kIdleDone: return "idle-done";
    case ClientStep::kLogout: return "logout";
    case ClientStep::kClosed: return "closed";
  }
  return "?";
}

namespace {

ReaderLimits response_limits(const ClientConfig& c) {
  ReaderLimits l;
  l.max_line = 64 * 1024;  // a SEARCH answer over a big mailbox is one long line
  l.max_literal = c.max_message_size;
  l.max_command = c.max_message_size + 64 * 1024;
  return l;
}

std::string strip_crlf(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  return std::string(s);
}

bool parse_u32(std::string_view s, std::uint32_t& out) {
  if (s.empty() || s.size() > 10) return false;
  std::uint64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (n > 0xffffffffULL) return false;
  out = static_cast<std::uint32_t>(n);
  return true;
}

}  // namespace

ClientSession::ClientSession(ClientConfig config)
    : config_(std::move(config)), reader_(response_limits(config_)) {}

void ClientSession::set_step(ClientStep s) {
  if (s == step_) return;
  events_.push_back(client_events::StepChanged{step_, s});
  step_ = s;
}

void ClientSession::start() {
  if (step_ != ClientStep::kConnecting) return;
  if (config_.implicit_tls) tls_ = true;
  set_step(ClientStep::kGreeting);
}

std::string ClientSession::take_output() { return std::exchange(out_, std::string()); }

std::optional<ClientEvent> ClientSession::next_event() {
  if (events_.empty()) return std::nullopt;
  ClientEvent e = std::move(events_.front());
  events_.pop_front();
  return e;
}

void ClientSession::receive(std::string_view bytes) {
  if (step_ == ClientStep::kClosed || step_ == ClientStep::kConnecting) return;
  if (step_ == ClientStep::kTlsHandshake) return;  // plaintext after "OK Begin TLS": ignore (CVE-2011-0411)
  reader_.feed(bytes);
  for (;;) {
    if (step_ == ClientStep::kClosed || step_ == ClientStep::kTlsHandshake) return;
    CommandReader::Item item = reader_.next();
    using K = CommandReader::Kind;
    if (item.kind == K::kNone) return;
    if (item.kind == K::kContinue) continue;  // servers send literals without waiting
    if (item.kind != K::kCommand) {
      fail("the server sent a response larger than the client accepts");
      set_step(ClientStep::kClosed);
      return;
    }
    handle(item.text);
  }
}

void ClientSession::send_command(std::string text, ClientStep step) {
  tag_ = config_.tag_prefix + std::to_string(next_tag_++);
  std::string line = tag_ + " " + text;
  events_.push_back(client_events::CommandSent{tag_, summarize_literals(line)});
  out_ += line + "\r\n";
  set_step(step);
}

void ClientSession::send_line(std::string text) {
  events_.push_back(client_events::CommandSent{"", text});
  out_ += text + "\r\n";
}

void ClientSession::fail(std::string reason) {
  if (!failed_) events_.push_back(client_events::Failed{step_, std::move(reason)});
  failed_ = true;
}

void ClientSession::tls_established(const TlsInfo& info) {
  if (step_ != ClientStep::kTlsHandshake) return;
  tls_ = true;
  events_.push_back(client_events::TlsStarted{info});
  // RFC 3501 §6.2.1: capabilities learned before TLS are forgotten.
  caps_.clear();
  send_command("CAPABILITY", ClientStep::kCapability);
}

void ClientSession::tls_failed(std::string_view reason) {
  if (step_ != ClientStep::kTlsHandshake) return;
  fail("TLS handshake failed: " + std::string(reason));
  set_step(ClientStep::kClosed);
  events_.push_back(client_events::Finished{false, highest_uid_, uidvalidity_});
}

void ClientSession::peer_closed() {
  if (step_ == ClientStep::kClosed) return;
  bool clean = step_ == ClientStep::kLogout && !failed_;
  if (!clean) fail("the server closed the connection");
  set_step(ClientStep::kClosed);
  events_.push_back(client_events::Finished{clean, highest_uid_, uidvalidity_});
}

void ClientSession::stop() {
  stop_requested_ = true;
  if (step_ == ClientStep::kIdle) {
    send_line("DONE");
    set_step(ClientStep::kIdleDone);
  }
}

void ClientSession::read_capabilities(std::string_view list) {
  caps_.clear();
  std::size_t i = 0;
  while (i < list.size()) {
    std::size_t sp = list.find(' ', i);
    if (sp == std::string_view::npos) sp = list.size();
    if (sp > i) caps_.insert(codec::to_upper(list.substr(i, sp - i)));
    i = sp + 1;
  }
}

// ---- responses ------------------------------------------------------------------

void ClientSession::handle(const std::string& frame) {
  std::string first_line = strip_crlf(std::string_view(frame).substr(0, frame.find("\r\n")));
  events_.push_back(client_events::ResponseReceived{summarize_literals(strip_crlf(frame))});

  if (frame.starts_with("+")) {
    if (step_ == ClientStep::kAuthenticate) {
      std::string plain = std::string("\0", 1) + config_.user + std::string("\0", 1) + config_.password;
      send_line(codec::base64_encode(plain));
    } else if (step_ == ClientStep::kIdle) {
      idle_confirmed_ = true;
      events_.push_back(client_events::IdleStarted{});
    }
    return;
  }
  if (frame.starts_with("* ")) {
    handle_untagged(std::string_view(first_line).substr(2), frame);
    return;
  }
  std::size_t sp = first_line.find(' ');
  if (sp == std::string::npos || first_line.substr(0, sp) != tag_) return;  // not ours: ignore
  std::string_view rest = std::string_view(first_line).substr(sp + 1);
  std::size_t sp2 = rest.find(' ');
  std::string status = codec::to_upper(rest.substr(0, sp2));
  handle_tagged(status, sp2 == std::string_view::npos ? std::string_view() : rest.substr(sp2 + 1));
}

void ClientSession::handle_untagged(std::string_view text, const std::string& frame) {
  // Response codes that carry what we need: [CAPABILITY ...], [UIDVALIDITY n].
  auto code = [&](std::string_view name) -> std::optional<std::string_view> {
    std::size_t open = text.find('[');
    if (open == std::string_view::npos) return std::nullopt;
    std::size_t close = text.find(']', open);
    if (close == std::string_view::npos) return std::nullopt;
    std::string_view inner = text.substr(open + 1, close - open - 1);
    if (!codec::iequals(inner.substr(0, name.size()), name)) return std::nullopt;
    inner.remove_prefix(std::min(inner.size(), name.size() + 1));
    return inner;
  };

  std::string upper = codec::to_upper(text.substr(0, std::min<std::size_t>(text.size(), 16)));
  if (upper.starts_with("OK") || upper.starts_with("PREAUTH")) {
    if (auto caps = code("CAPABILITY")) read_capabilities(*caps);
    if (auto v = code("UIDVALIDITY")) parse_u32(*v, uidvalidity_);
    if (step_ == ClientStep::kGreeting) {
      if (caps_.empty()) send_command("CAPABILITY", ClientStep::kCapability);
      else after_capabilities();
    }
    return;
  }
  if (upper.starts_with("BYE")) {
    if (step_ != ClientStep::kLogout) {
      fail("the server said " + std::string(text));
      set_step(ClientStep::kClosed);
      events_.push_back(client_events::Finished{false, highest_uid_, uidvalidity_});
    }
    return;
  }
  if (upper.starts_with("CAPABILITY ")) {
    read_capabilities(text.substr(11));
    return;
  }
  if (upper.starts_with("SEARCH")) {
    std::string_view list = text.substr(6);
    std::size_t i = 0;
    while (i < list.size()) {
      std::size_t sp = list.find(' ', i);
      if (sp == std::string_view::npos) sp = list.size();
      std::uint32_t uid = 0;
      if (parse_u32(list.substr(i, sp - i), uid) && uid > config_.last_seen_uid && !config_.known_uids.count(uid))
        to_fetch_.push_back(uid);
      i = sp + 1;
    }
    return;
  }
  // "n EXISTS", "n FETCH (...)", "n EXPUNGE", "n RECENT"
  std::size_t sp = text.find(' ');
  std::uint32_t n = 0;
  if (sp == std::string_view::npos || !parse_u32(text.substr(0, sp), n)) return;
  std::string what = codec::to_upper(text.substr(sp + 1, 6));
  if (what.starts_with("EXISTS")) {
    bool grew = n > exists_;
    exists_ = n;
    if (grew && step_ == ClientStep::kIdle) {
      events_.push_back(client_events::NewMail{n});
      send_line("DONE");
      set_step(ClientStep::kIdleDone);
    }
  } else if (what.starts_with("EXPUNG")) {
    if (exists_ > 0) --exists_;
  } else if (what.starts_with("FETCH")) {
    parse_fetch(frame, 2 + sp + 1 + 5);
  }
}

// "* n FETCH (UID 5 FLAGS (\Seen) BODY[] {342}\r\n...)": picks UID, FLAGS and
// BODY[] out of the item list.
void ClientSession::parse_fetch(const std::string& frame, std::size_t at) {
  std::size_t i = frame.find('(', at);
  if (i == std::string::npos || step_ != ClientStep::kFetch) return;
  ++i;
  std::uint32_t uid = 0;
  std::string flags;
  std::optional<std::string> body;
  while (i < frame.size()) {
    while (i < frame.size() && frame[i] == ' ') ++i;
    if (i >= frame.size() || frame[i] == ')') break;
    // Item name, with any [section] (which may hold spaces).
    std::size_t start = i;
    int depth = 0;
    while (i < frame.size() && (depth > 0 || (frame[i] != ' ' && frame[i] != ')'))) {
      if (frame[i] == '[') ++depth;
      if (frame[i] == ']') --depth;
      ++i;
    }
    std::string name = codec::to_upper(std::string_view(frame).substr(start, i - start));
    if (i < frame.size() && frame[i] == ' ') ++i;
    // Value: a list, a literal, a quoted string or an atom.
    std::string value;
    if (i < frame.size() && frame[i] == '(') {
      int d = 0;
      std::size_t vs = i;
      do {
        if (frame[i] == '(') ++d;
        if (frame[i] == ')') --d;
        ++i;
      } while (i < frame.size() && d > 0);
      value = frame.substr(vs + 1, i - vs - 2);
    } else if (i < frame.size() && frame[i] == '{') {
      std::size_t close = frame.find('}', i);
      std::uint32_t n = 0;
      if (close == std::string::npos || !parse_u32(std::string_view(frame).substr(i + 1, close - i - 1), n)) return;
      std::size_t data = close + 3;  // "}\r\n"
      if (data + n > frame.size()) return;
      value = frame.substr(data, n);
      i = data + n;
    } else if (i < frame.size() && frame[i] == '"') {
      ++i;
      while (i < frame.size() && frame[i] != '"') {
        if (frame[i] == '\\' && i + 1 < frame.size()) ++i;
        value += frame[i++];
      }
      ++i;
    } else {
      std::size_t vs = i;
      while (i < frame.size() && frame[i] != ' ' && frame[i] != ')') ++i;
      value = frame.substr(vs, i - vs);
    }
    if (name == "UID") parse_u32(value, uid);
    else if (name == "FLAGS") flags = value;
    else if (name == "BODY[]") body = std::move(value);
  }
  if (uid == 0 || !body) return;  // an unsolicited flag update, not our message
  highest_uid_ = std::max(highest_uid_, uid);
  fetched_.push_back(uid);
  events_.push_back(client_events::MessageFetched{uid, body->size(), flags, std::move(*body)});
}

void ClientSession::handle_tagged(std::string_view status, std::string_view text) {
  bool ok = status == "OK";
  if (!ok) {
    if (step_ == ClientStep::kLogout) {
      set_step(ClientStep::kClosed);
      events_.push_back(client_events::Finished{false, highest_uid_, uidvalidity_});
      return;
    }
    fail(std::string(to_string(step_)) + " refused: " + std::string(status) + " " + std::string(text));
    logout();
    return;
  }
  if (text.starts_with("[CAPABILITY ")) {
    std::size_t close = text.find(']');
    if (close != std::string_view::npos) read_capabilities(text.substr(12, close - 12));
  }
  switch (step_) {
    case ClientStep::kCapability: after_capabilities(); break;
    case ClientStep::kStartTls: set_step(ClientStep::kTlsHandshake); reader_.discard_input(); break;
    case ClientStep::kLogin:
    case ClientStep::kAuthenticate:
      authenticated_ = true;
      events_.push_back(client_events::Authenticated{config_.user, step_ == ClientStep::kLogin ? "LOGIN" : "PLAIN"});
      send_command("SELECT " + imap_astring(config_.folder), ClientStep::kSelect);
      break;
    case ClientStep::kSelect: {
      bool changed = config_.known_uidvalidity && *config_.known_uidvalidity != uidvalidity_;
      if (changed) {
        config_.last_seen_uid = 0;
        config_.known_uids.clear();
      }
      highest_uid_ = std::max(highest_uid_, config_.last_seen_uid);
      events_.push_back(client_events::Selected{config_.folder, exists_, uidvalidity_, changed});
      search();
      break;
    }
    case ClientStep::kSearch:
      if (to_fetch_.empty()) {
        after_fetch();
      } else {
        std::sort(to_fetch_.begin(), to_fetch_.end());
        fetched_.clear();
        send_command("UID FETCH " + format_number_set(to_fetch_) + " (UID FLAGS BODY.PEEK[])", ClientStep::kFetch);
      }
      break;
    case ClientStep::kFetch:
      for (std::uint32_t uid : fetched_) config_.known_uids.insert(uid);
      if (config_.mark_seen && !fetched_.empty()) {
        send_command("UID STORE " + format_number_set(fetched_) + " +FLAGS.SILENT (\\Seen)", ClientStep::kStore);
      } else {
        after_fetch();
      }
      break;
    case ClientStep::kStore:
      events_.push_back(client_events::MarkedSeen{fetched_});
      after_fetch();
      break;
    case ClientStep::kIdle:
    case ClientStep::kIdleDone:
      idle_confirmed_ = false;
      events_.push_back(client_events::IdleEnded{});
      if (stop_requested_) logout();
      else search();
      break;
    case ClientStep::kLogout:
      set_step(ClientStep::kClosed);
      events_.push_back(client_events::Finished{!failed_, highest_uid_, uidvalidity_});
      break;
    default: break;
  }
}

void ClientSession::after_capabilities() {
  if (!tls_ && config_.tls != ClientTls::kNever && caps_.count("STARTTLS")) {
    send_command("STARTTLS", ClientStep::kStartTls);
    return;
  }
  if (!tls_ && config_.tls == ClientTls::kRequired) {
    fail("the server does not offer STARTTLS; the password is not sent in plaintext");
    logout();
    return;
  }
  login();
}

void ClientSession::login() {
  bool plain_offered = caps_.count("AUTH=PLAIN") > 0;
  bool use_plain = config_.auth == ClientAuth::kPlain || (config_.auth == ClientAuth::kAuto && plain_offered);
  if (use_plain) {
    if (caps_.count("SASL-IR")) {
      std::string plain = std::string("\0", 1) + config_.user + std::string("\0", 1) + config_.password;
      send_command("AUTHENTICATE PLAIN " + codec::base64_encode(plain), ClientStep::kAuthenticate);
    } else {
      send_command("AUTHENTICATE PLAIN", ClientStep::kAuthenticate);
    }
    return;
  }
  if (caps_.count("LOGINDISABLED")) {
    fail("the server refuses plaintext login (LOGINDISABLED)");
    logout();
    return;
  }
  send_command("LOGIN " + imap_string(config_.user) + " " + imap_string(config_.password), ClientStep::kLogin);
}

void ClientSession::search() {
  to_fetch_.clear();
  // "UID n:*" always includes the highest UID, even below n: the SEARCH
  // handler filters out what is already known.
  std::uint32_t from = std::max(config_.last_seen_uid, highest_uid_) + 1;
  send_command("UID SEARCH UID " + std::to_string(from) + ":*", ClientStep::kSearch);
}

void ClientSession::after_fetch() {
  if (config_.idle && !stop_requested_ && caps_.count("IDLE")) {
    idle_confirmed_ = false;
    send_command("IDLE", ClientStep::kIdle);
    return;
  }
  logout();
}

void ClientSession::logout() { send_command("LOGOUT", ClientStep::kLogout); }

}  // namespace mailsim::imap
