// POP3 server session: RFC 1939 states and commands, RFC 2449 CAPA and
// response codes, RFC 2595 STLS, RFC 5034 AUTH PLAIN. See server.h for the
// policy choices; every command and the states it is allowed in are in
// kCommands below.
#include "real/pop3/server.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "real/codec/ascii.h"
#include "real/codec/base64.h"

namespace mailsim::pop3 {

namespace {

constexpr std::string_view kInbox = store::MailboxStore::kInbox;

constexpr unsigned kInAuthorization = 1;
constexpr unsigned kInTransaction = 2;

// A POP3 message number or line count: decimal digits only (RFC 1939 §3).
std::optional<std::uint32_t> parse_number(std::string_view s) {
  if (s.empty() || s.size() > 9) return std::nullopt;
  std::uint32_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// "+ " SASL continuation or a one-line reply, as on the wire.
std::string line(std::string_view text) { return std::string(text) + "\r\n"; }

// "1 message", "2 messages"
std::string messages(std::size_t n) { return fmt::format("{} message{}", n, n == 1 ? "" : "s"); }

// Byte-stuffs one message (RFC 1939 §3): lines that start with "." get
// another "."; the result ends with CRLF so the terminating ".\r\n" stands
// on its own line.
// One pass, a line at a time (memchr finds the line ends).
void append_stuffed(std::string& out, std::string_view text) {
  out.reserve(out.size() + text.size() + text.size() / 64 + 2);
  std::size_t pos = 0;
  while (pos < text.size()) {
    if (text[pos] == '.') out += '.';
    const void* nl = std::memchr(text.data() + pos, '\n', text.size() - pos);
    const std::size_t next = nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - text.data()) + 1 : text.size();
    out.append(text.data() + pos, next - pos);
    pos = next;
  }
  if (!text.empty() && text.back() != '\n') out += "\r\n";
}

// Headers, the blank line, and the first `n` body lines (RFC 1939 §7 TOP).
std::string top_of(std::string_view msg, std::size_t n) {
  std::size_t body;
  if (msg.substr(0, 2) == "\r\n") body = 2;
  else if (auto p = msg.find("\r\n\r\n"); p != std::string_view::npos) body = p + 4;
  else return std::string(msg);  // no body at all
  std::size_t end = body;
  for (std::size_t i = 0; i < n && end < msg.size(); ++i) {
    auto nl = msg.find('\n', end);
    end = nl == std::string_view::npos ? msg.size() : nl + 1;
  }
  return std::string(msg.substr(0, end));
}

}  // namespace

std::string_view to_string(ServerState s) {
  switch (s) {
    case ServerState::kConnected: return "CONNECTED";
    case ServerState::kAuthorization: return "AUTHORIZATION";
    case ServerState::kSaslResponse: return "AUTHORIZATION (SASL)";
    case ServerState::kAuthDelay: return "AUTHORIZATION (delay)";
    case ServerState::kTlsHandshake: return "TLS-HANDSHAKE";
    case ServerState::kTransaction: return "TRANSACTION";
    case ServerState::kUpdate: return "UPDATE";
    case ServerState::kClosed: return "CLOSED";
  }
  return "?";
}

std::string make_uidl(store::Uid uid, store::UidValidity uidvalidity) {
  return fmt::format("{:08X}{:08X}", uid, uidvalidity);
}

// ---- the command table -----------------------------------------------------

struct ServerSession::Command {
  std::string_view verb;
  unsigned states;  // kInAuthorization | kInTransaction
  void (ServerSession::*handler)(std::string_view arg);
};

const ServerSession::Command ServerSession::kCommands[] = {
    // verb    allowed in                           handler           RFC
    {"USER", kInAuthorization, &ServerSession::cmd_user},             // 1939 §7
    {"PASS", kInAuthorization, &ServerSession::cmd_pass},             // 1939 §7
    {"AUTH", kInAuthorization, &ServerSession::cmd_auth},             // 5034
    {"STLS", kInAuthorization, &ServerSession::cmd_stls},             // 2595 §4
    {"CAPA", kInAuthorization | kInTransaction, &ServerSession::cmd_capa},  // 2449 §5
    {"QUIT", kInAuthorization | kInTransaction, &ServerSession::cmd_quit},  // 1939 §4, §6
    {"STAT", kInTransaction, &ServerSession::cmd_stat},               // 1939 §5
    {"LIST", kInTransaction, &ServerSession::cmd_list},
    {"RETR", kInTransaction, &ServerSession::cmd_retr},
    {"DELE", kInTransaction, &ServerSession::cmd_dele},
    {"NOOP", kInTransaction, &ServerSession::cmd_noop},
    {"RSET", kInTransaction, &ServerSession::cmd_rset},
    {"TOP", kInTransaction, &ServerSession::cmd_top},                 // 1939 §7
    {"UIDL", kInTransaction, &ServerSession::cmd_uidl},               // 1939 §7
};

// ---- session plumbing ------------------------------------------------------

ServerSession::ServerSession(ServerConfig config, store::MailboxStore& store, const store::Credentials& users)
    : config_(std::move(config)), store_(store), users_(users) {}

ServerSession::~ServerSession() = default;

void ServerSession::start() {
  if (state_ != ServerState::kConnected) return;
  if (config_.implicit_tls) {
    tls_ = config_.implicit_tls_info;
    events_.emplace_back(server_events::TlsStarted{*tls_});
  }
  set_state(ServerState::kAuthorization);
  ok(fmt::format("{} POP3 server ready", config_.hostname));
}

void ServerSession::receive(std::string_view bytes) {
  if (state_ == ServerState::kClosed || state_ == ServerState::kConnected) return;
  if (state_ == ServerState::kTlsHandshake) {
    // Plaintext after STLS, before the handshake: an attacker's injection
    // (CVE-2011-0411 for SMTP). Never read it as commands.
    events_.emplace_back(server_events::InputDiscarded{bytes.size(), "sent after STLS (CVE-2011-0411)"});
    return;
  }
  in_.append(bytes);
  if (state_ == ServerState::kAuthDelay && in_.size() > config_.max_pending_input) {
    close("too much input while a reply was held");
    return;
  }
  process();
}

std::string ServerSession::take_output() { return std::exchange(out_, {}); }

std::optional<ServerEvent> ServerSession::next_event() {
  if (events_.empty()) return std::nullopt;
  ServerEvent e = std::move(events_.front());
  events_.pop_front();
  return e;
}

void ServerSession::tls_established(const TlsInfo& info) {
  if (state_ != ServerState::kTlsHandshake) return;
  tls_ = info;
  events_.emplace_back(server_events::TlsStarted{info});
  // RFC 2595 §4: the client starts over; nothing from before TLS counts.
  pending_user_.clear();
  set_state(ServerState::kAuthorization);
  process();
}

void ServerSession::tls_failed(std::string_view reason) {
  if (state_ != ServerState::kTlsHandshake) return;
  close(fmt::format("TLS handshake failed: {}", reason));
}

void ServerSession::peer_closed() { close("peer closed the connection"); }

void ServerSession::resume() {
  if (state_ != ServerState::kAuthDelay) return;
  set_state(ServerState::kAuthorization);
  send_held();
  process();
}

void ServerSession::send_held() {
  std::string status = std::exchange(held_reply_, {});
  std::string wire = line(status);
  send_raw(std::move(status), std::move(wire), false);
  if (close_after_held_) close("too many authentication failures");
}

void ServerSession::process() {
  std::string l;
  while ((state_ == ServerState::kAuthorization || state_ == ServerState::kTransaction ||
          state_ == ServerState::kSaslResponse) &&
         take_line(l)) {
    if (state_ == ServerState::kSaslResponse) {
      events_.emplace_back(server_events::CommandReceived{l});
      sasl_response(l);
    } else {
      dispatch(l);
    }
  }
}

// Takes the next complete line from in_ (without CRLF; a bare LF also ends
// a line). Overlong lines are discarded and answered here.
bool ServerSession::take_line(std::string& out) {
  const std::size_t limit = state_ == ServerState::kSaslResponse ? kMaxSaslLine : kMaxCommandLine;
  while (true) {
    auto nl = in_.find('\n');
    if (discarding_line_) {
      if (nl == std::string::npos) {
        events_.emplace_back(server_events::InputDiscarded{in_.size(), "line too long"});
        in_.clear();
        return false;
      }
      events_.emplace_back(server_events::InputDiscarded{nl + 1, "line too long"});
      in_.erase(0, nl + 1);
      discarding_line_ = false;
      continue;
    }
    const bool too_long = nl == std::string::npos ? in_.size() >= limit : nl + 1 > limit;
    if (too_long) {
      discarding_line_ = true;
      if (state_ == ServerState::kSaslResponse) set_state(ServerState::kAuthorization);
      err(fmt::format("Line too long (the limit is {} octets)", limit));
      if (state_ == ServerState::kClosed) return false;
      continue;
    }
    if (nl == std::string::npos) return false;
    out.assign(in_, 0, nl);
    in_.erase(0, nl + 1);
    if (!out.empty() && out.back() == '\r') out.pop_back();
    return true;
  }
}

void ServerSession::dispatch(std::string_view l) {
  events_.emplace_back(server_events::CommandReceived{std::string(l)});
  const auto space = l.find(' ');
  const std::string_view verb = l.substr(0, space);
  const std::string_view arg = space == std::string_view::npos ? std::string_view{} : l.substr(space + 1);
  const unsigned now = state_ == ServerState::kTransaction ? kInTransaction : kInAuthorization;
  for (const auto& c : kCommands) {
    if (!codec::iequals(verb, c.verb)) continue;
    if ((c.states & now) == 0) {
      err(fmt::format("{} is not valid in the {} state", c.verb, to_string(state_)));
      return;
    }
    (this->*c.handler)(arg);
    return;
  }
  // Echo only printable ASCII: a CR, NUL or 8-bit byte copied into the reply
  // would let a client forge a response line (found by fuzzing).
  std::string shown = codec::to_upper(verb.substr(0, 16));
  for (char& ch : shown)
    if (ch < 0x21 || ch > 0x7e) ch = '?';
  err(fmt::format("Unknown command: {}", shown));
}

// ---- responses -------------------------------------------------------------

void ServerSession::ok(std::string_view text) {
  std::string status = text.empty() ? "+OK" : fmt::format("+OK {}", text);
  std::string wire = line(status);
  send_raw(std::move(status), std::move(wire), false);
}

void ServerSession::err(std::string_view text) {
  std::string status = fmt::format("-ERR {}", text);
  std::string wire = line(status);
  send_raw(std::move(status), std::move(wire), false);
  if (++errors_ >= config_.max_errors) close("too many errors");
}

void ServerSession::send_multiline(std::string status, const std::vector<std::string>& lines) {
  std::string wire = line(status);
  for (const auto& l : lines) append_stuffed(wire, line(l));
  wire += ".\r\n";
  send_raw(std::move(status), std::move(wire), true);
}

void ServerSession::send_raw(std::string status, std::string wire, bool multiline) {
  events_.emplace_back(server_events::ResponseSent{std::move(status), wire.size(), multiline});
  if (out_.empty()) out_ = std::move(wire);  // the usual case: one reply per command
  else out_ += wire;
}

void ServerSession::set_state(ServerState s) {
  if (s == state_) return;
  events_.emplace_back(server_events::StateChanged{state_, s});
  state_ = s;
}

void ServerSession::close(std::string reason) {
  if (state_ == ServerState::kClosed) return;
  lease_.reset();  // the maildrop lock goes with the session
  set_state(ServerState::kClosed);
  close_reason_ = reason;
  events_.emplace_back(server_events::SessionClosed{std::move(reason)});
  in_.clear();
}

// ---- AUTHORIZATION ---------------------------------------------------------

bool ServerSession::plaintext_allowed() const { return tls_.has_value() || config_.allow_plaintext_auth; }

std::vector<std::string> ServerSession::capabilities() const {
  std::vector<std::string> caps{"TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING"};
  if (state_ != ServerState::kTransaction) {
    if (plaintext_allowed()) {
      caps.push_back("USER");
      caps.push_back("SASL PLAIN");
    }
    if (config_.tls_available && !tls_) caps.push_back("STLS");
  }
  caps.push_back("IMPLEMENTATION " + config_.implementation);
  return caps;
}

void ServerSession::cmd_capa(std::string_view) { send_multiline("+OK Capability list follows", capabilities()); }

void ServerSession::cmd_user(std::string_view arg) {
  if (!plaintext_allowed()) {
    err("[AUTH] Plaintext authentication is disabled without TLS; send STLS first");
    return;
  }
  if (arg.empty()) {
    err("USER needs a name");
    return;
  }
  pending_user_ = std::string(arg);
  // The same answer for every name: the reply must not tell an attacker
  // which users exist.
  ok("Send PASS");
}

void ServerSession::cmd_pass(std::string_view arg) {
  if (!plaintext_allowed()) {
    err("[AUTH] Plaintext authentication is disabled without TLS; send STLS first");
    return;
  }
  if (pending_user_.empty()) {
    err("Send USER first");
    return;
  }
  // RFC 1939 §7: PASS has one argument, spaces included.
  login(std::exchange(pending_user_, {}), arg, "USER");
}

void ServerSession::cmd_auth(std::string_view arg) {
  const auto space = arg.find(' ');
  const std::string_view mech = arg.substr(0, space);
  if (mech.empty()) {
    // Without a mechanism: the list of mechanisms (a widely used extension
    // that RFC 5034 left out; Outlook and Dovecot use it).
    send_multiline("+OK", plaintext_allowed() ? std::vector<std::string>{"PLAIN"} : std::vector<std::string>{});
    return;
  }
  if (!codec::iequals(mech, "PLAIN")) {
    err("Unsupported authentication mechanism");
    return;
  }
  if (!plaintext_allowed()) {
    err("[AUTH] Plaintext authentication is disabled without TLS; send STLS first");
    return;
  }
  if (space != std::string_view::npos) {
    const std::string_view initial = arg.substr(space + 1);
    finish_plain(initial == "=" ? std::string_view{} : initial);  // RFC 5034 §4: "=" is empty
    return;
  }
  set_state(ServerState::kSaslResponse);
  send_raw("+ ", "+ \r\n", false);
}

void ServerSession::sasl_response(std::string_view l) {
  set_state(ServerState::kAuthorization);
  if (l == "*") {
    err("AUTH cancelled");  // RFC 5034 §4
    return;
  }
  finish_plain(l);
}

void ServerSession::finish_plain(std::string_view b64) {
  const auto decoded = codec::base64_decode(b64);
  if (!decoded) {
    err("Invalid base64 in AUTH response");
    return;
  }
  // RFC 4616: [authzid] NUL authcid NUL passwd
  const std::string& d = *decoded;
  const auto a = d.find('\0');
  const auto b = a == std::string::npos ? std::string::npos : d.find('\0', a + 1);
  if (b == std::string::npos || d.find('\0', b + 1) != std::string::npos) {
    err("Malformed PLAIN response");
    return;
  }
  const std::string authzid = d.substr(0, a), authcid = d.substr(a + 1, b - a - 1);
  const std::string_view password = std::string_view(d).substr(b + 1);
  // Acting as another user (authzid) is not offered: only oneself.
  if (!authzid.empty() && authzid != authcid) {
    auth_failed(authcid);  // answered like a wrong password
    return;
  }
  login(authcid, password, "PLAIN");
}

void ServerSession::auth_failed(const std::string& user) {
  ++auth_failures_;
  const bool closing = auth_failures_ >= config_.max_auth_failures;
  std::uint64_t delay = config_.auth_delay_ms;
  for (std::size_t i = 1; i < auth_failures_ && delay < config_.max_auth_delay_ms; ++i) delay *= 2;
  delay = std::min<std::uint64_t>(delay, config_.max_auth_delay_ms);
  events_.emplace_back(server_events::AuthFailed{user, auth_failures_, static_cast<std::uint32_t>(delay), closing});
  held_reply_ = closing ? "-ERR [AUTH] Authentication failed; too many failures, closing"
                        : "-ERR [AUTH] Authentication failed";
  close_after_held_ = closing;
  if (delay == 0) {
    send_held();
    return;
  }
  set_state(ServerState::kAuthDelay);  // process() stops reading until resume()
}

void ServerSession::login(const std::string& user, std::string_view password, std::string_view mechanism) {
  if (!users_.check(user, password)) {
    auth_failed(user);
    return;
  }
  try {
    if (!store_.user_exists(user)) store_.ensure_user(user);  // a first login gets an empty maildrop
    auto lease = store_.maildrop_locks().try_lock(user);
    if (!lease) {
      err("[IN-USE] Maildrop is locked by another POP3 session");
      return;
    }
    auto snap = store_.snapshot(user, std::string(kInbox), store::RecentMode::kPeek);
    lease_ = std::move(lease);
    user_ = user;
    uidvalidity_ = snap.status.uidvalidity;
    messages_.clear();
    std::uint64_t octets = 0;
    for (auto& m : snap.messages) {
      octets += m.size;
      messages_.push_back({std::move(m)});
    }
    events_.emplace_back(server_events::Authenticated{user, std::string(mechanism), messages_.size()});
    set_state(ServerState::kTransaction);
    ok(fmt::format("{}'s maildrop has {} ({} octets)", user, messages(messages_.size()), octets));
  } catch (const store::StoreError& e) {
    lease_.reset();
    err(fmt::format("[SYS/TEMP] Cannot open the maildrop: {}", e.what()));
  }
}

void ServerSession::cmd_stls(std::string_view) {
  if (tls_) {
    err("Already using TLS");
    return;
  }
  if (!config_.tls_available) {
    err("STLS not available");
    return;
  }
  ok("Begin TLS negotiation");
  if (!in_.empty()) {
    events_.emplace_back(server_events::InputDiscarded{in_.size(), "sent after STLS (CVE-2011-0411)"});
    in_.clear();
  }
  set_state(ServerState::kTlsHandshake);
}

void ServerSession::cmd_quit(std::string_view) {
  if (state_ == ServerState::kTransaction) {
    update();
    return;
  }
  ok(fmt::format("{} POP3 server signing off", config_.hostname));
  close("QUIT");
}

// ---- TRANSACTION -----------------------------------------------------------

ServerSession::Message* ServerSession::message_arg(std::string_view arg) {
  const auto n = parse_number(arg);
  if (!n) {
    err("Invalid message number");
    return nullptr;
  }
  if (*n == 0 || *n > messages_.size()) {
    err(fmt::format("No such message: {}", *n));
    return nullptr;
  }
  Message& m = messages_[*n - 1];
  if (m.deleted) {
    err(fmt::format("Message {} already deleted", *n));
    return nullptr;
  }
  return &m;
}

std::uint32_t ServerSession::number_of(const Message& m) const {
  return static_cast<std::uint32_t>(&m - messages_.data() + 1);
}

void ServerSession::cmd_stat(std::string_view) {
  std::size_t count = 0;
  std::uint64_t octets = 0;
  for (const auto& m : messages_)
    if (!m.deleted) {
      ++count;
      octets += m.info.size;
    }
  ok(fmt::format("{} {}", count, octets));
}

void ServerSession::cmd_list(std::string_view arg) {
  if (!arg.empty()) {
    if (Message* m = message_arg(arg)) ok(fmt::format("{} {}", number_of(*m), m->info.size));
    return;
  }
  std::vector<std::string> lines;
  std::uint64_t octets = 0;
  for (std::size_t i = 0; i < messages_.size(); ++i)
    if (!messages_[i].deleted) {
      lines.push_back(fmt::format("{} {}", i + 1, messages_[i].info.size));
      octets += messages_[i].info.size;
    }
  send_multiline(fmt::format("+OK {} ({} octets)", messages(lines.size()), octets), lines);
}

void ServerSession::cmd_uidl(std::string_view arg) {
  if (!arg.empty()) {
    if (Message* m = message_arg(arg)) ok(fmt::format("{} {}", number_of(*m), make_uidl(m->info.uid, uidvalidity_)));
    return;
  }
  std::vector<std::string> lines;
  for (std::size_t i = 0; i < messages_.size(); ++i)
    if (!messages_[i].deleted) lines.push_back(fmt::format("{} {}", i + 1, make_uidl(messages_[i].info.uid, uidvalidity_)));
  send_multiline("+OK Unique-ID listing follows", lines);
}

void ServerSession::cmd_retr(std::string_view arg) {
  if (Message* m = message_arg(arg)) send_message(number_of(*m), *m, std::nullopt);
}

void ServerSession::cmd_top(std::string_view arg) {
  const auto space = arg.find(' ');
  const auto count = space == std::string_view::npos ? std::nullopt : parse_number(arg.substr(space + 1));
  if (!count) {
    err("Usage: TOP message-number line-count");
    return;
  }
  if (Message* m = message_arg(arg.substr(0, space)))
    send_message(number_of(*m), *m, *count);
}

void ServerSession::send_message(std::uint32_t number, Message& m, std::optional<std::size_t> top_lines) {
  std::string bytes;
  try {
    bytes = store_.fetch(user_, std::string(kInbox), m.info.uid);
  } catch (const store::StoreError& e) {
    if (e.code() == store::StoreErrc::kNoSuchMessage)
      err(fmt::format("Message {} was removed by another session", number));
    else
      err(fmt::format("[SYS/TEMP] Cannot read message {}: {}", number, e.what()));
    return;
  }
  if (top_lines) bytes = top_of(bytes, *top_lines);
  std::string status = top_lines ? std::string("+OK Top of message follows")
                                 : fmt::format("+OK {} octets", m.info.size);
  std::string wire;
  wire.reserve(status.size() + bytes.size() + bytes.size() / 64 + 8);
  wire += status;
  wire += "\r\n";
  append_stuffed(wire, bytes);
  wire += ".\r\n";
  send_raw(std::move(status), std::move(wire), true);
  if (!top_lines) m.retrieved = true;
  events_.emplace_back(server_events::MessageRetrieved{number, m.info.uid, make_uidl(m.info.uid, uidvalidity_),
                                                       m.info.size, top_lines.has_value()});
}

void ServerSession::cmd_dele(std::string_view arg) {
  if (Message* m = message_arg(arg)) {
    m->deleted = true;  // only marked: UPDATE removes it (RFC 1939 §5)
    ok(fmt::format("Message {} deleted", number_of(*m)));
  }
}

void ServerSession::cmd_noop(std::string_view) { ok(""); }

void ServerSession::cmd_rset(std::string_view) {
  std::uint64_t octets = 0;
  for (auto& m : messages_) {
    m.deleted = false;
    octets += m.info.size;
  }
  ok(fmt::format("Maildrop has {} ({} octets)", messages(messages_.size()), octets));
}

// ---- UPDATE ----------------------------------------------------------------

void ServerSession::update() {
  set_state(ServerState::kUpdate);
  std::vector<store::Uid> doomed, seen;
  for (const auto& m : messages_) {
    if (m.deleted) doomed.push_back(m.info.uid);
    else if (m.retrieved && !m.info.flags.has(store::SystemFlag::kSeen)) seen.push_back(m.info.uid);
  }
  const std::size_t left = messages_.size() - doomed.size();
  try {
    if (!seen.empty())
      store_.store_flags(user_, std::string(kInbox), seen, store::FlagOp::kAdd,
                         store::Flags{}.set(store::SystemFlag::kSeen));
    if (!doomed.empty()) {
      auto removed = store_.remove(user_, std::string(kInbox), doomed);
      events_.emplace_back(server_events::MessagesDeleted{std::move(removed)});
    }
    if (left == 0) ok(fmt::format("{} POP3 server signing off (maildrop empty)", config_.hostname));
    else ok(fmt::format("{} POP3 server signing off ({} left)", config_.hostname, messages(left)));
  } catch (const store::StoreError& e) {
    // RFC 1939 §6: -ERR when some deletions failed.
    std::string status = fmt::format("-ERR [SYS/TEMP] Some deleted messages were not removed: {}", e.what());
    send_raw(status, line(status), false);
  }
  close("QUIT");
}

}  // namespace mailsim::pop3
