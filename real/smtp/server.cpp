// SMTP server session: RFC 5321 §4.1 (commands), §4.2 (replies), §4.3.2
// (command/reply sequences), §4.5.3.1 (limits); RFC 1870, 2920, 6152, 2034,
// 3207, 4954. See server.h for the host contract.
//
// Reply texts follow Postfix where Postfix has one, so a student can compare
// with a real server's log. Behaviour worth knowing:
//   * Line endings: only CRLF. A bare LF anywhere (command or DATA) and a bare
//     CR in DATA end the session with "521 5.5.2 <host> Error: bare <LF>
//     received" (Postfix smtpd_forbid_bare_newline = strict). This makes SMTP
//     smuggling impossible: see data_reader.h.
//   * A command line over 512 octets (12288 for AUTH lines, RFC 4954 §4) gets
//     "500 5.5.2 Error: line too long" as soon as the limit is passed; the
//     rest of that line is discarded up to its CRLF; the session continues.
//   * A DATA line over 1000 octets, or a message over SIZE: the content is
//     read to its end, then "552 5.3.4 ..." (RFC 5321 §4.5.3.1.10 lists 552
//     "Too much mail data"; §4.3.2 allows 552 after the data; 500 would
//     answer a command, and the end of data is not one). Session continues.
//   * Every 4xx/5xx answer to a command counts as an error (Postfix's
//     smtpd_hard_error_limit), except 452 "too many recipients" (Postfix lets
//     a client overshoot the recipient limit: it is the client's cue to send
//     the rest in another transaction). At max_errors: 421 4.7.0 and close.
#include "real/smtp/server.h"

#include "real/codec/base64.h"

#include <charconv>
#include <fmt/format.h>
#include <stdexcept>
#include <utility>

namespace mailsim::smtp {

namespace ev = server_events;

std::string_view to_string(ServerState s) {
  switch (s) {
    case ServerState::kConnected: return "connected";
    case ServerState::kGreeted: return "greeted";
    case ServerState::kReady: return "ready";
    case ServerState::kMail: return "mail";
    case ServerState::kRcpt: return "rcpt";
    case ServerState::kData: return "data";
    case ServerState::kAuth: return "auth";
    case ServerState::kTlsHandshake: return "tls-handshake";
    case ServerState::kRefused: return "refused";
    case ServerState::kClosed: return "closed";
  }
  return "?";
}

namespace replies {
Reply mail_ok() { return make_reply(250, "2.1.0", "Ok"); }
Reply rcpt_ok() { return make_reply(250, "2.1.5", "Ok"); }
Reply queued(std::string_view id) { return make_reply(250, "2.0.0", fmt::format("Ok: queued as {}", id)); }
Reply user_unknown() { return make_reply(550, "5.1.1", "Recipient address rejected: User unknown"); }
Reply relay_denied() { return make_reply(554, "5.7.1", "Relay access denied"); }
Reply try_later() { return make_reply(451, "4.3.0", "Error: queue file write error"); }
}  // namespace replies

namespace {

// Bytes of input room a session keeps between inputs (see process()).
constexpr std::size_t kKeptInputRoom = 256;

constexpr unsigned bit(ServerState s) { return 1u << static_cast<unsigned>(s); }
constexpr unsigned G = bit(ServerState::kGreeted);
constexpr unsigned R = bit(ServerState::kReady);
constexpr unsigned M = bit(ServerState::kMail);
constexpr unsigned T = bit(ServerState::kRcpt);
constexpr unsigned kAny = G | R | M | T;

Reply syntax(std::string_view text) { return make_reply(501, "5.5.4", text); }
Reply bad_sequence(std::string_view text) { return make_reply(503, "5.5.1", text); }

std::optional<std::uint64_t> parse_size(std::string_view v) {
  std::uint64_t n = 0;
  if (v.empty() || v.size() > 20) return std::nullopt;
  const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc{} || p != v.data() + v.size()) return std::nullopt;
  return n;
}

}  // namespace

// ---------------------------------------------------------------------------
// The protocol on one screen. States: G greeted (no EHLO yet), R ready
// (EHLO/HELO done, no transaction), M after MAIL, T after at least one RCPT.
// A command outside its states gets sequence_error() (503, or 554 for DATA
// when every RCPT was refused). Lines during DATA and during an AUTH exchange
// are not commands and never reach this table.
//
//   verb       states    on success
struct ServerSession::CommandSpec {
  std::string_view verb;
  Handler handler;
  unsigned states;
};
const ServerSession::CommandSpec ServerSession::kCommands[] = {
    {"EHLO", &ServerSession::cmd_ehlo, kAny},          // → R, transaction reset (§4.1.4)
    {"HELO", &ServerSession::cmd_helo, kAny},          // → R
    {"STARTTLS", &ServerSession::cmd_starttls, R},     // 220 → TLS handshake → G (RFC 3207 §4.2)
    {"AUTH", &ServerSession::cmd_auth, R},             // 334... → host decides → R, authenticated
    {"MAIL", &ServerSession::cmd_mail, R},             // host decides → M
    {"RCPT", &ServerSession::cmd_rcpt, M | T},         // host decides → T
    {"DATA", &ServerSession::cmd_data, T},             // 354 → content → host decides → R
    {"RSET", &ServerSession::cmd_rset, kAny},          // → R (G stays G)
    {"NOOP", &ServerSession::cmd_noop, kAny},          // 250
    {"HELP", &ServerSession::cmd_help, kAny},          // 214
    {"VRFY", &ServerSession::cmd_vrfy, kAny},          // 252
    {"QUIT", &ServerSession::cmd_quit, kAny},          // 221 → closed
    {"EXPN", &ServerSession::cmd_not_implemented, kAny},  // 502 (RFC 5321 §7.3)
    {"ETRN", &ServerSession::cmd_not_implemented, kAny},
    {"TURN", &ServerSession::cmd_not_implemented, kAny},
    {"BDAT", &ServerSession::cmd_not_implemented, kAny},  // CHUNKING not offered
    {"SEND", &ServerSession::cmd_not_implemented, kAny},
    {"SOML", &ServerSession::cmd_not_implemented, kAny},
    {"SAML", &ServerSession::cmd_not_implemented, kAny},
};

void ServerSession::sequence_error(std::string_view verb) {
  const bool greeted = state_ == ServerState::kGreeted;
  const bool in_mail = state_ == ServerState::kMail || state_ == ServerState::kRcpt;
  if (verb == "MAIL") {
    send_error(bad_sequence(greeted ? "Error: send HELO/EHLO first" : "Error: nested MAIL command"));
  } else if (verb == "RCPT") {
    send_error(bad_sequence("Error: need MAIL command"));
  } else if (verb == "DATA") {
    if (state_ == ServerState::kMail && rcpt_attempts_ > 0)
      send_error(make_reply(554, "5.5.1", "Error: no valid recipients"));  // RFC 2920 §3.1
    else
      send_error(bad_sequence(state_ == ServerState::kMail ? "Error: need RCPT command"
                                                           : "Error: need MAIL command"));
  } else if (in_mail) {
    send_error(bad_sequence("Error: MAIL transaction in progress"));
  } else {
    send_error(bad_sequence("Error: send EHLO first"));
  }
}
// ---------------------------------------------------------------------------

ServerSession::ServerSession(ServerConfig config, PeerIdentity peer) : config_(std::move(config)) {
  envelope_.peer = std::move(peer);
}

void ServerSession::start() {
  if (state_ != ServerState::kConnected) return;
  if (config_.implicit_tls) envelope_.tls = config_.implicit_tls_info;
  if (config_.reject_greeting) {
    send(*config_.reject_greeting);
    if (config_.reject_greeting->code == 421) close("greeting: service not available");
    else set_state(ServerState::kRefused);
    return;
  }
  send(make_reply(220, "", fmt::format("{} ESMTP mailsim", config_.hostname)));
  set_state(ServerState::kGreeted);
}

void ServerSession::receive(std::string_view bytes) {
  if (state_ == ServerState::kClosed || bytes.empty()) return;
  if (state_ == ServerState::kTlsHandshake) {
    // Plaintext after our 220 and before the handshake: never commands.
    events_.push_back(ev::InputDiscarded{bytes.size(), "sent after STARTTLS (CVE-2011-0411)"});
    return;
  }
  if (state_ == ServerState::kData && pending_ == Decision::kNone && pos_ == in_.size()) {
    // Message content with nothing unread before it: read where it lies.
    // Only what follows the end of the data goes into in_ (a letter's
    // content is its largest part, and was copied there first).
    in_.clear();
    pos_ = 0;
    bytes.remove_prefix(feed_data(bytes));
    if (state_ == ServerState::kClosed) return;
  }
  in_.append(bytes);
  process();
}

std::string ServerSession::take_output() { return std::exchange(out_, {}); }

bool ServerSession::tls_requested() const { return tls_pending_ && out_.empty(); }

void ServerSession::tls_established(const TlsInfo& info) {
  if (state_ != ServerState::kTlsHandshake) return;
  tls_pending_ = false;
  // RFC 3207 §4.2: forget everything learnt in plaintext (HELO, AUTH, the
  // envelope); the client starts again with EHLO.
  PeerIdentity peer = std::move(envelope_.peer);
  envelope_ = Envelope{};
  envelope_.peer = std::move(peer);
  envelope_.tls = info;
  have_helo_ = false;
  reset_transaction();
  in_.clear();
  pos_ = 0;
  events_.push_back(ev::TlsStarted{info});
  set_state(ServerState::kGreeted);
}

void ServerSession::tls_failed(std::string_view reason) {
  if (state_ == ServerState::kClosed) return;
  tls_pending_ = false;
  close(fmt::format("TLS handshake failed: {}", reason));
}

void ServerSession::peer_closed() {
  if (state_ != ServerState::kClosed) close("connection closed by client");
}

std::optional<ServerEvent> ServerSession::next_event() {
  if (events_.empty()) return std::nullopt;
  return events_.take_front();
}

ReplyLines ServerSession::ehlo_keywords() const {
  ReplyLines k;
  add_ehlo_keywords(k);
  return k;
}

void ServerSession::add_ehlo_keywords(ReplyLines& k) const {
  k.push_back("PIPELINING");
  char size[32];
  const auto end = fmt::format_to_n(size, sizeof size, "SIZE {}", config_.max_message_size).out;
  k.push_back(std::string_view(size, static_cast<std::size_t>(end - size)));
  if (config_.tls != TlsPolicy::kOff && config_.tls_available && !tls_active()) k.push_back("STARTTLS");
  if (config_.auth != AuthPolicy::kOff && (tls_active() || config_.auth_before_tls))
    k.push_back("AUTH PLAIN LOGIN");
  k.push_back("ENHANCEDSTATUSCODES");
  k.push_back("8BITMIME");
  k.push_back("HELP");
}

// ---- input ----------------------------------------------------------------

void ServerSession::process() {
  std::string line;  // one string for every command line of this read, its room reused
  while (state_ != ServerState::kClosed && state_ != ServerState::kTlsHandshake &&
         pending_ == Decision::kNone && pos_ < in_.size()) {
    if (state_ == ServerState::kData) {
      read_data();
      continue;
    }
    const LineResult r = take_line(line);
    if (r == LineResult::kNeedMore) break;
    if (r == LineResult::kConsumed) continue;
    events_.push_back(ev::CommandReceived{line});
    if (state_ == ServerState::kAuth) sasl_response(line);
    else dispatch(line);
  }
  if (state_ == ServerState::kClosed) return;
  in_.erase(0, pos_);
  pos_ = 0;
  // A letter's content passes through in_. Once everything is read, room
  // beyond a few pipelined commands is given back, not kept for the rest of
  // the connection (a sender keeps it open for more mail, and a busy MX
  // holds hundreds of them).
  if (in_.empty() && in_.capacity() > kKeptInputRoom) std::string().swap(in_);
  if (pending_ != Decision::kNone && in_.size() > config_.max_pending_input) {
    fatal(make_reply(421, "4.7.0", fmt::format("{} Error: too much pipelined input", config_.hostname)),
          "too much input while a decision was pending");
  }
}

void ServerSession::discard_input(std::string reason) {
  if (pos_ < in_.size()) events_.push_back(ev::InputDiscarded{in_.size() - pos_, std::move(reason)});
  in_.clear();
  pos_ = 0;
}

ServerSession::LineResult ServerSession::take_line(std::string& line) {
  const std::string_view rest = std::string_view(in_).substr(pos_);
  const auto nl = rest.find('\n');
  if (discarding_line_) {  // the tail of an overlong line
    if (nl == std::string_view::npos) {
      discard_prev_cr_ = rest.back() == '\r';
      pos_ = in_.size();
      return LineResult::kNeedMore;
    }
    const bool crlf = nl > 0 ? rest[nl - 1] == '\r' : discard_prev_cr_;
    pos_ += nl + 1;
    discarding_line_ = false;
    if (!crlf) {
      fatal(make_reply(521, "5.5.2", fmt::format("{} Error: bare <LF> received", config_.hostname)),
            "bare <LF> received");
    }
    return LineResult::kConsumed;
  }
  const bool auth_line = state_ == ServerState::kAuth || istarts_with(rest, "AUTH ");
  const std::size_t limit = auth_line ? kMaxAuthLine : kMaxCommandLine;
  if (nl == std::string_view::npos) {
    if (rest.size() < limit) return LineResult::kNeedMore;
    // Over the limit with no end in sight: answer now, skip to the CRLF.
    events_.push_back(ev::CommandReceived{std::string(rest.substr(0, 80)) + "..."});
    events_.push_back(ev::InputDiscarded{rest.size(), "line too long"});
    discarding_line_ = true;
    discard_prev_cr_ = rest.back() == '\r';
    pos_ = in_.size();
    if (state_ == ServerState::kAuth) {
      sasl_step_ = SaslStep::kNone;
      set_state(ServerState::kReady);
    }
    send_error(make_reply(500, "5.5.2", "Error: line too long"));
    return LineResult::kConsumed;
  }
  if (nl == 0 || rest[nl - 1] != '\r') {
    fatal(make_reply(521, "5.5.2", fmt::format("{} Error: bare <LF> received", config_.hostname)),
          "bare <LF> received");
    return LineResult::kConsumed;
  }
  if (nl + 1 > limit) {
    events_.push_back(ev::CommandReceived{std::string(rest.substr(0, 80)) + "..."});
    pos_ += nl + 1;
    if (state_ == ServerState::kAuth) {
      sasl_step_ = SaslStep::kNone;
      set_state(ServerState::kReady);
    }
    send_error(make_reply(500, "5.5.2", "Error: line too long"));
    return LineResult::kConsumed;
  }
  line.assign(rest.substr(0, nl - 1));
  pos_ += nl + 1;
  return LineResult::kLine;
}

void ServerSession::dispatch(std::string_view line) {
  for (char c : line) {
    const auto u = static_cast<unsigned char>(c);
    // NUL, other controls (a bare CR too) and 8-bit bytes: SMTPUTF8 is not
    // offered, so no command may carry them (RFC 5321 §2.4).
    if ((u < 0x20 && u != '\t') || u >= 0x7f) {
      send_error(make_reply(500, "5.5.2", "Error: bad syntax (control or 8-bit characters)"));
      return;
    }
  }
  if (line.empty()) {
    send_error(make_reply(500, "5.5.2", "Error: bad syntax"));
    return;
  }
  // Views into `line`, which the caller keeps while the command runs. The
  // verb is upper-cased once into a small buffer (every verb is shorter; a
  // longer word is no command).
  const CommandView cmd = split_command_view(line);
  char upper[16];
  std::string_view verb;
  if (cmd.verb.size() <= sizeof upper) {
    for (std::size_t i = 0; i < cmd.verb.size(); ++i) {
      const char c = cmd.verb[i];
      upper[i] = c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
    }
    verb = std::string_view(upper, cmd.verb.size());
  }
  if (state_ == ServerState::kRefused) {
    // RFC 5321 §3.1: after a 554 greeting, wait for QUIT; 503 to the rest.
    if (verb == "QUIT") cmd_quit(cmd.argument);
    else send_error(bad_sequence("Error: no SMTP service here, please QUIT"));
    return;
  }
  for (const CommandSpec& spec : kCommands) {
    if (spec.verb != verb) continue;
    if ((spec.states & bit(state_)) == 0) sequence_error(spec.verb);
    else (this->*spec.handler)(cmd.argument);
    return;
  }
  send_error(make_reply(500, "5.5.2", "Error: command not recognized"));
}

void ServerSession::read_data() { pos_ += feed_data(std::string_view(in_).substr(pos_)); }

std::size_t ServerSession::feed_data(std::string_view available) {
  const std::size_t used = data_->feed(available);
  switch (data_->status()) {
    case DataReader::Status::kReading:
      return used;
    case DataReader::Status::kBareLf:
      fatal(make_reply(521, "5.5.2", fmt::format("{} Error: bare <LF> received", config_.hostname)),
            "bare <LF> received in message content");
      return used;
    case DataReader::Status::kBareCr:
      fatal(make_reply(521, "5.5.2", fmt::format("{} Error: bare <CR> received", config_.hostname)),
            "bare <CR> received in message content");
      return used;
    case DataReader::Status::kDone:
      break;
  }
  if (data_->too_big() || data_->line_too_long()) {
    const Reply r = data_->too_big()
                        ? make_reply(552, "5.3.4", "Error: message file too big")
                        : make_reply(552, "5.3.4", "Error: message line too long (over 1000 octets)");
    reset_transaction();
    set_state(ServerState::kReady);
    send_error(r);
    return used;
  }
  pending_ = Decision::kMessage;
  // The transaction is over: its paths move into the event (message_result()
  // resets them anyway); the session's part (HELO, peer, TLS, AUTH) is copied.
  std::string reverse_path = std::exchange(envelope_.reverse_path, {});
  std::vector<std::string> recipients = std::exchange(envelope_.recipients, {});
  Envelope done = envelope_;
  done.reverse_path = std::move(reverse_path);
  done.recipients = std::move(recipients);
  events_.push_back(ev::MessageReceived{std::move(done), data_->take_message()});
  return used;
}

// ---- commands ---------------------------------------------------------------

void ServerSession::greet_client(std::string_view arg, bool esmtp) {
  const std::string_view verb = esmtp ? "EHLO" : "HELO";
  if (arg.empty() || arg.find(' ') != std::string_view::npos || arg.find('\t') != std::string_view::npos) {
    send_error(syntax(fmt::format("Syntax: {} hostname", verb)));
    return;
  }
  reset_transaction();
  have_helo_ = true;
  envelope_.helo_name = std::string(arg);
  envelope_.esmtp = esmtp;
  set_state(ServerState::kReady);
  if (!esmtp) {
    send(make_reply(250, "", config_.hostname));
    return;
  }
  Reply r{250, "", {}};
  r.lines.reserve(config_.hostname.size() + 96);  // the keywords below fit
  r.lines.push_back(config_.hostname);
  add_ehlo_keywords(r.lines);
  send(std::move(r));
}

void ServerSession::cmd_ehlo(std::string_view arg) { greet_client(arg, true); }
void ServerSession::cmd_helo(std::string_view arg) { greet_client(arg, false); }

void ServerSession::cmd_mail(std::string_view arg) {
  if (config_.tls == TlsPolicy::kRequired && !tls_active()) {
    send_error(make_reply(530, "5.7.0", "Must issue a STARTTLS command first"));
    return;
  }
  if (config_.auth == AuthPolicy::kRequired && envelope_.authenticated_user.empty()) {
    send_error(make_reply(530, "5.7.0", "Authentication required"));
    return;
  }
  const PathArgument p = parse_mail_argument(arg);
  switch (p.status) {
    case PathStatus::kOk: break;
    case PathStatus::kMissingKeyword: send_error(syntax("Syntax: MAIL FROM:<address>")); return;
    case PathStatus::kBadPath:
      send_error(make_reply(501, "5.1.7", fmt::format("Bad sender address syntax: {}", p.detail)));
      return;
    case PathStatus::kPathTooLong:
      send_error(make_reply(501, "5.1.7", fmt::format("Sender address too long: {}", p.detail)));
      return;
    case PathStatus::kBadParameter: send_error(syntax(fmt::format("Bad parameter syntax: {}", p.detail))); return;
  }
  ev::MailFrom m{p.path, std::nullopt, BodyType::kUnspecified, std::nullopt, p.params};
  for (std::size_t i = 0; i < p.params.size(); ++i) {
    const EsmtpParam& e = p.params[i];
    for (std::size_t j = 0; j < i; ++j) {
      if (p.params[j].keyword == e.keyword) {
        send_error(syntax(fmt::format("Duplicate parameter {}", reply_quote(e.keyword))));
        return;
      }
    }
    if (e.keyword == "SIZE") {  // RFC 1870 §6
      m.size = e.value ? parse_size(*e.value) : std::nullopt;
      if (!m.size) {
        send_error(syntax("Bad SIZE parameter syntax"));
        return;
      }
      if (*m.size > config_.max_message_size) {
        send_error(make_reply(552, "5.3.4", "Message size exceeds fixed limit"));
        return;
      }
    } else if (e.keyword == "BODY") {  // RFC 6152 §3
      if (e.value && iequals(*e.value, "8BITMIME")) m.body = BodyType::k8BitMime;
      else if (e.value && iequals(*e.value, "7BIT")) m.body = BodyType::k7Bit;
      else {
        send_error(make_reply(555, "5.5.4", "Unsupported BODY type (7BIT or 8BITMIME)"));
        return;
      }
    } else if (e.keyword == "AUTH") {  // RFC 4954 §5
      m.auth = e.value ? xtext_decode(*e.value) : std::nullopt;
      if (!m.auth) {
        send_error(syntax("Bad AUTH parameter syntax"));
        return;
      }
    } else {
      send_error(make_reply(555, "5.5.4", fmt::format("Unsupported option: {}", reply_quote(e.keyword))));
      return;
    }
  }
  envelope_.reverse_path = m.reverse_path;
  envelope_.declared_size = m.size;
  envelope_.body = m.body;
  // RFC 4954 §5: the AUTH= identity is trusted only from an authenticated client.
  envelope_.auth_param = envelope_.authenticated_user.empty() ? std::string{} : m.auth.value_or("");
  pending_ = Decision::kMail;
  events_.push_back(std::move(m));
}

void ServerSession::cmd_rcpt(std::string_view arg) {
  const PathArgument p = parse_rcpt_argument(arg);
  switch (p.status) {
    case PathStatus::kOk: break;
    case PathStatus::kMissingKeyword: send_error(syntax("Syntax: RCPT TO:<address>")); return;
    case PathStatus::kBadPath:
      send_error(make_reply(501, "5.1.3", fmt::format("Bad recipient address syntax: {}", p.detail)));
      return;
    case PathStatus::kPathTooLong:
      send_error(make_reply(501, "5.1.3", fmt::format("Recipient address too long: {}", p.detail)));
      return;
    case PathStatus::kBadParameter: send_error(syntax(fmt::format("Bad parameter syntax: {}", p.detail))); return;
  }
  if (!p.params.empty()) {  // no RCPT extensions (NOTIFY/ORCPT need DSN, not offered)
    send_error(make_reply(555, "5.5.4", fmt::format("Unsupported option: {}", reply_quote(p.params.front().keyword))));
    return;
  }
  if (envelope_.recipients.size() >= config_.max_recipients) {
    send(make_reply(452, "4.5.3", "Error: too many recipients"));  // not counted: see top
    return;
  }
  ++rcpt_attempts_;
  pending_rcpt_ = p.path;
  pending_ = Decision::kRcpt;
  events_.push_back(ev::RcptTo{p.path});
}

void ServerSession::cmd_data(std::string_view arg) {
  if (!arg.empty()) {
    send_error(syntax("Syntax: DATA"));
    return;
  }
  // Room for the message the client announced, or for a short one.
  data_.emplace(config_.max_message_size, kMaxTextLine, envelope_.declared_size.value_or(2048));
  set_state(ServerState::kData);
  send(make_reply(354, "", "End data with <CR><LF>.<CR><LF>"));
}

void ServerSession::cmd_rset(std::string_view arg) {
  if (!arg.empty()) {
    send_error(syntax("Syntax: RSET"));
    return;
  }
  reset_transaction();
  if (state_ != ServerState::kGreeted) set_state(ServerState::kReady);
  send(make_reply(250, "2.0.0", "Ok"));
}

void ServerSession::cmd_noop(std::string_view) { send(make_reply(250, "2.0.0", "Ok")); }

void ServerSession::cmd_help(std::string_view) {
  send(make_reply(214, "2.0.0",
                  "Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP STARTTLS AUTH\n"
                  "See RFC 5321 (SMTP), RFC 3207 (STARTTLS), RFC 4954 (AUTH)"));
}

void ServerSession::cmd_vrfy(std::string_view arg) {
  if (arg.empty()) {
    send_error(syntax("Syntax: VRFY address"));
    return;
  }
  // RFC 5321 §3.5.3: 252 when the server will not say whether a user exists
  // (saying so would help address harvesters).
  send(make_reply(252, "2.5.2", "Cannot VRFY user, but will accept message and attempt delivery"));
}

void ServerSession::cmd_quit(std::string_view arg) {
  if (!arg.empty()) {
    send_error(syntax("Syntax: QUIT"));
    return;
  }
  send(make_reply(221, "2.0.0", "Bye"));
  close("QUIT");
}

void ServerSession::cmd_not_implemented(std::string_view) {
  send_error(make_reply(502, "5.5.1", "Error: command not implemented"));
}

void ServerSession::cmd_starttls(std::string_view arg) {
  if (config_.tls == TlsPolicy::kOff) {
    send_error(make_reply(502, "5.5.1", "Error: command not implemented"));
  } else if (!arg.empty()) {
    send_error(syntax("Syntax: STARTTLS"));
  } else if (tls_active()) {
    send_error(bad_sequence("Error: TLS already active"));
  } else if (!config_.tls_available) {
    send_error(make_reply(454, "4.7.0", "TLS not available due to temporary reason"));
  } else {
    send(make_reply(220, "2.0.0", "Ready to start TLS"));
    // CVE-2011-0411: bytes the client pipelined after STARTTLS arrived in
    // plaintext, so a man in the middle could have put them there. They must
    // not be read as commands of the encrypted session.
    discard_input("sent after STARTTLS (CVE-2011-0411)");
    tls_pending_ = true;
    set_state(ServerState::kTlsHandshake);
  }
}

void ServerSession::cmd_auth(std::string_view arg) {
  if (config_.auth == AuthPolicy::kOff) {
    send_error(bad_sequence("Error: authentication not enabled"));
    return;
  }
  if (!tls_active() && !config_.auth_before_tls) {
    send_error(make_reply(538, "5.7.11", "Encryption required for requested authentication mechanism"));
    return;
  }
  if (!envelope_.authenticated_user.empty()) {
    send_error(bad_sequence("Error: already authenticated"));
    return;
  }
  const CommandLine a = split_command(arg);  // mechanism [initial-response]
  if (a.verb.empty() || a.argument.find(' ') != std::string::npos) {
    send_error(syntax("Syntax: AUTH mechanism [initial-response]"));
    return;
  }
  if (a.verb != "PLAIN" && a.verb != "LOGIN") {
    send_error(make_reply(504, "5.5.4", "Unrecognized authentication type"));
    return;
  }
  set_state(ServerState::kAuth);
  const bool plain = a.verb == "PLAIN";
  if (a.argument.empty()) {  // no initial response: ask for it
    sasl_step_ = plain ? SaslStep::kPlain : SaslStep::kLoginUser;
    send(make_reply(334, "", plain ? "" : "VXNlcm5hbWU6"));  // "Username:"
    return;
  }
  // RFC 4954 §4: "=" is an initial response of zero length.
  const auto decoded = a.argument == "=" ? std::optional<std::string>("") : codec::base64_decode(a.argument);
  if (!decoded) {
    set_state(ServerState::kReady);
    send_error(make_reply(501, "5.5.2", "Cannot decode response"));
    return;
  }
  if (plain) {
    finish_plain(*decoded);
  } else {
    sasl_user_ = *decoded;
    sasl_step_ = SaslStep::kLoginPass;
    send(make_reply(334, "", "UGFzc3dvcmQ6"));  // "Password:"
  }
}

void ServerSession::sasl_response(std::string_view line) {
  const SaslStep step = std::exchange(sasl_step_, SaslStep::kNone);
  if (line == "*") {  // RFC 4954 §4: the client cancels; MUST be 501
    set_state(ServerState::kReady);
    send_error(make_reply(501, "5.7.0", "Authentication aborted"));
    return;
  }
  const auto decoded = codec::base64_decode(line);
  if (!decoded) {
    set_state(ServerState::kReady);
    send_error(make_reply(501, "5.5.2", "Cannot decode response"));
    return;
  }
  switch (step) {
    case SaslStep::kPlain:
      finish_plain(*decoded);
      return;
    case SaslStep::kLoginUser:
      sasl_user_ = *decoded;
      sasl_step_ = SaslStep::kLoginPass;
      send(make_reply(334, "", "UGFzc3dvcmQ6"));
      return;
    case SaslStep::kLoginPass:
      request_auth("LOGIN", "", std::exchange(sasl_user_, {}), *decoded);
      return;
    case SaslStep::kNone:
      break;
  }
  set_state(ServerState::kReady);  // unreachable: kAuth always has a step
}

void ServerSession::finish_plain(std::string_view decoded) {
  // RFC 4616: [authzid] NUL authcid NUL passwd
  const auto a = decoded.find('\0');
  const auto b = a == std::string_view::npos ? a : decoded.find('\0', a + 1);
  if (b == std::string_view::npos || decoded.find('\0', b + 1) != std::string_view::npos || b == a + 1) {
    set_state(ServerState::kReady);
    send_error(make_reply(501, "5.5.2", "Malformed PLAIN response (authzid NUL user NUL password)"));
    return;
  }
  request_auth("PLAIN", std::string(decoded.substr(0, a)), std::string(decoded.substr(a + 1, b - a - 1)),
               std::string(decoded.substr(b + 1)));
}

void ServerSession::request_auth(std::string mechanism, std::string authzid, std::string user,
                                 std::string pass) {
  pending_auth_user_ = user;
  pending_ = Decision::kAuth;
  events_.push_back(ev::AuthRequest{std::move(mechanism), std::move(authzid), std::move(user), std::move(pass)});
}

// ---- decisions ---------------------------------------------------------------

bool ServerSession::answer(Decision answered) {
  if (state_ == ServerState::kClosed) return false;  // the client left meanwhile
  if (pending_ != answered)
    throw std::logic_error("smtp::ServerSession: answer to a decision that is not pending");
  pending_ = Decision::kNone;
  return true;
}

void ServerSession::accept_mail(Reply reply) {
  if (!answer(Decision::kMail)) return;
  if (reply.positive_completion()) {
    set_state(ServerState::kMail);
    send(std::move(reply));
  } else {
    reset_transaction();
    send_error(std::move(reply));
  }
  process();
}

void ServerSession::accept_rcpt(Reply reply) {
  if (!answer(Decision::kRcpt)) return;
  if (reply.positive_completion()) {
    envelope_.recipients.push_back(std::move(pending_rcpt_));
    set_state(ServerState::kRcpt);
    send(std::move(reply));
  } else {
    send_error(std::move(reply));
  }
  pending_rcpt_.clear();
  process();
}

void ServerSession::auth_result(bool ok) {
  if (!answer(Decision::kAuth)) return;
  set_state(ServerState::kReady);
  if (ok) {
    envelope_.authenticated_user = std::move(pending_auth_user_);
    send(make_reply(235, "2.7.0", "Authentication successful"));
  } else {
    send_error(make_reply(535, "5.7.8", "Authentication credentials invalid"));
  }
  pending_auth_user_.clear();
  process();
}

void ServerSession::message_result(Reply reply) {
  if (!answer(Decision::kMessage)) return;
  reset_transaction();
  set_state(ServerState::kReady);
  if (reply.positive_completion()) send(std::move(reply));
  else send_error(std::move(reply));
  process();
}

// ---- output and bookkeeping ----------------------------------------------------

void ServerSession::send(Reply reply) {
  reply.append_wire(out_);
  events_.push_back(ev::ReplySent{std::move(reply)});
}

void ServerSession::send_error(Reply reply) {
  send(std::move(reply));
  if (++errors_ >= config_.max_errors && state_ != ServerState::kClosed) {
    fatal(make_reply(421, "4.7.0", fmt::format("{} Error: too many errors", config_.hostname)),
          "too many errors");
  }
}

void ServerSession::fatal(Reply reply, std::string reason) {
  send(std::move(reply));
  close(std::move(reason));
}

void ServerSession::close(std::string reason) {
  if (state_ == ServerState::kClosed) return;
  discard_input("session closed");
  pending_ = Decision::kNone;
  tls_pending_ = false;
  close_reason_ = reason;
  set_state(ServerState::kClosed);
  events_.push_back(ev::SessionClosed{std::move(reason)});
}

void ServerSession::set_state(ServerState s) {
  if (s == state_) return;
  events_.push_back(ev::StateChanged{state_, s});
  state_ = s;
}

void ServerSession::reset_transaction() {
  envelope_.reverse_path.clear();
  envelope_.recipients.clear();
  envelope_.auth_param.clear();
  envelope_.body = BodyType::kUnspecified;
  envelope_.declared_size.reset();
  rcpt_attempts_ = 0;
  pending_rcpt_.clear();
  data_.reset();
}

// ---- synchronous helper ------------------------------------------------------

void run_handler(ServerSession& session, ServerHandler& handler) {
  while (auto e = session.next_event()) {
    handler.on_event(*e);
    if (auto* m = std::get_if<ev::MailFrom>(&*e)) session.accept_mail(handler.on_mail(*m, session.envelope()));
    else if (auto* r = std::get_if<ev::RcptTo>(&*e)) session.accept_rcpt(handler.on_rcpt(*r, session.envelope()));
    else if (auto* a = std::get_if<ev::AuthRequest>(&*e)) session.auth_result(handler.on_auth(*a));
    else if (auto* d = std::get_if<ev::MessageReceived>(&*e)) session.message_result(handler.on_message(*d));
  }
}

}  // namespace mailsim::smtp
