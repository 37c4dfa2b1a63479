// SMTP client session: RFC 5321 §3.3 and §4.3.2 (transactions and their
// replies), RFC 2920 §3.1 (which commands go in one pipelined group and what
// to do with their replies), RFC 3207 §4.2, RFC 4954 §4. See client.h.
//
// Every command sent is remembered in `inflight_`; every reply answers the
// oldest one (RFC 2920 keeps them in order), so pipelined and lock-step
// transactions share the same reply handlers. What differs is only when the
// next command is written: in a pipelined group all of MAIL, RCPT... and DATA
// go at once; in lock-step each waits for the previous reply.
#include "real/smtp/client.h"

#include "real/codec/base64.h"
#include "real/smtp/command.h"
#include "real/smtp/data.h"

#include <algorithm>
#include <charconv>
#include <fmt/format.h>
#include <stdexcept>
#include <utility>

namespace mailsim::smtp {

namespace ev = client_events;

std::string_view to_string(ClientState s) {
  switch (s) {
    case ClientState::kConnecting: return "connecting";
    case ClientState::kGreeting: return "greeting";
    case ClientState::kEhlo: return "ehlo";
    case ClientState::kHelo: return "helo";
    case ClientState::kStartTls: return "starttls";
    case ClientState::kTlsHandshake: return "tls-handshake";
    case ClientState::kAuth: return "auth";
    case ClientState::kIdle: return "idle";
    case ClientState::kTransaction: return "transaction";
    case ClientState::kReset: return "reset";
    case ClientState::kQuit: return "quit";
    case ClientState::kClosed: return "closed";
  }
  return "?";
}

ServerCapabilities ServerCapabilities::from_ehlo(const Reply& reply) {
  ServerCapabilities c;
  c.esmtp = true;
  c.keywords.reserve(reply.lines.joined().size());
  bool greeting_line = true;  // the first line is the server's name, not a keyword
  for (const std::string_view line : reply.lines) {
    if (std::exchange(greeting_line, false)) continue;
    c.keywords.push_back(line);
    // "KEYWORD [argument]", read in place (keywords are case-insensitive).
    auto [word, arg] = split_command_view(line);
    // Some old servers write "AUTH=PLAIN LOGIN"; read it like "AUTH PLAIN LOGIN".
    if (istarts_with(word, "AUTH=")) {
      word = word.substr(0, 4);
      arg = line.substr(5);
    }
    if (iequals(word, "PIPELINING")) c.pipelining = true;
    else if (iequals(word, "STARTTLS")) c.starttls = true;
    else if (iequals(word, "8BITMIME")) c.eightbitmime = true;
    else if (iequals(word, "ENHANCEDSTATUSCODES")) c.enhanced_status_codes = true;
    else if (iequals(word, "SIZE")) {
      std::uint64_t n = 0;
      const auto [p, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), n);
      c.size = (ec == std::errc{} && p == arg.data() + arg.size()) ? n : 0;
    } else if (iequals(word, "AUTH")) {
      while (!arg.empty()) {
        const auto sp = arg.find(' ');
        if (sp != 0) c.auth.push_back(to_upper(arg.substr(0, sp)));
        if (sp == std::string_view::npos) break;
        arg.remove_prefix(sp + 1);
      }
    }
  }
  return c;
}

ClientSession::ClientSession(ClientConfig config) : config_(std::move(config)) {}

// ---- jobs -------------------------------------------------------------------

JobId ClientSession::send(const Envelope& envelope, std::string_view data) {
  if (envelope.recipients.empty())
    throw std::invalid_argument("smtp::ClientSession::send: a message needs at least one recipient");
  Job job{Job::Kind::kSend, next_id_++, envelope.reverse_path, envelope.recipients,
          canonicalize_line_endings(data), {}, {}, {}, {}, 0, false};
  return enqueue(std::move(job));
}

JobId ClientSession::verify_recipient(std::string_view address, std::string_view reverse_path) {
  Job job{Job::Kind::kProbe, next_id_++, std::string(reverse_path), {std::string(address)}, {},
          {}, {}, {}, {}, 0, false};
  return enqueue(std::move(job));
}

JobId ClientSession::enqueue(Job job) {
  const JobId id = job.id;
  if (failed_ || state_ == ClientState::kClosed || state_ == ClientState::kQuit) {
    // The connection is gone, or going: QUIT is on the wire and nothing more
    // will be sent on it. Say so at once rather than hold the job forever
    // (found by tests/fuzz/fuzz_smtp_client: a job queued between QUIT and
    // the 221 was never answered).
    events_.push_back(ev::Failed{state_ == ClientState::kQuit && !failed_
                                     ? "the connection is closing (QUIT sent)"
                                     : "the connection has already failed or closed",
                                 std::nullopt, {id}});
    return id;
  }
  jobs_.push_back(std::move(job));
  if (state_ == ClientState::kIdle) start_next();
  return id;
}

void ClientSession::quit() {
  quit_requested_ = true;
  if (state_ == ClientState::kIdle) start_next();
}

// ---- mailsim::Session -------------------------------------------------------

void ClientSession::start() {
  if (state_ != ClientState::kConnecting) return;
  if (config_.implicit_tls) tls_ = config_.implicit_tls_info;
  inflight_.push_back(Sent{Cmd::kEhlo, ""});  // placeholder answered by the greeting
  set_state(ClientState::kGreeting);
}

void ClientSession::receive(std::string_view bytes) {
  if (state_ == ClientState::kClosed || state_ == ClientState::kTlsHandshake) {
    // Bytes after "220 Ready to start TLS" but before the handshake could be
    // a man in the middle's injected replies (the client side of
    // CVE-2011-0411): never read them.
    return;
  }
  parser_.feed(bytes);
  while (auto r = parser_.next()) {
    on_reply(std::move(*r));
    if (state_ == ClientState::kClosed || state_ == ClientState::kTlsHandshake) return;
  }
  if (parser_.failed()) fail(fmt::format("malformed reply from server: {}", parser_.error()), std::nullopt, false);
}

std::string ClientSession::take_output() { return std::exchange(out_, {}); }

bool ClientSession::tls_requested() const { return tls_pending_ && out_.empty(); }

void ClientSession::tls_established(const TlsInfo& info) {
  if (state_ != ClientState::kTlsHandshake) return;
  tls_pending_ = false;
  tls_ = info;
  parser_ = ReplyParser{};
  caps_ = ServerCapabilities{};  // RFC 3207 §4.2: forget what was learnt in plaintext
  events_.push_back(ev::TlsStarted{info});
  set_state(ClientState::kEhlo);
  send_line(Cmd::kEhlo, fmt::format("EHLO {}", config_.helo_name));
}

void ClientSession::tls_failed(std::string_view reason) {
  if (state_ == ClientState::kClosed) return;
  tls_pending_ = false;
  fail(fmt::format("TLS handshake failed: {}", reason), std::nullopt, false);
}

void ClientSession::peer_closed() {
  if (state_ == ClientState::kClosed) return;
  if (state_ == ClientState::kQuit) close();
  else fail("connection closed by the server", std::nullopt, false);
}

std::optional<ClientEvent> ClientSession::next_event() {
  if (events_.empty()) return std::nullopt;
  return events_.take_front();
}

// ---- replies ------------------------------------------------------------------

void ClientSession::on_reply(Reply reply) {
  if (inflight_.empty()) {
    fail("reply without a command", reply, false);
    return;
  }
  Sent sent = std::move(inflight_.front());
  inflight_.pop_front();
  if (state_ == ClientState::kGreeting) {
    on_greeting(reply);
    return;
  }
  // The event gets the command's line and a copy of the reply; the handler
  // below keeps the reply itself when the transaction needs it.
  events_.push_back(ev::ReplyReceived{std::move(sent.line), reply});
  if (failed_) {  // replies still due for commands sent before the failure
    if (sent.cmd == Cmd::kQuit) close();
    return;
  }
  // RFC 5321 §3.8: 421 may answer any command; the server is going away.
  if (reply.code == 421 && sent.cmd != Cmd::kQuit) {
    fail(fmt::format("server closing the connection: {}", reply.text()), reply, false);
    return;
  }
  switch (sent.cmd) {
    case Cmd::kEhlo: on_ehlo(reply, false); return;
    case Cmd::kHelo: on_ehlo(reply, true); return;
    case Cmd::kStartTls: on_starttls(reply); return;
    case Cmd::kAuth: on_auth(reply); return;
    case Cmd::kMail: on_mail(std::move(reply)); return;
    case Cmd::kRcpt: on_rcpt(std::move(reply)); return;
    case Cmd::kData: on_data(std::move(reply)); return;
    case Cmd::kContent: on_content(std::move(reply)); return;
    case Cmd::kRset: on_rset(reply); return;
    case Cmd::kQuit: close(); return;
  }
}

void ClientSession::on_greeting(const Reply& r) {
  events_.push_back(ev::Greeting{r});
  if (r.code != 220) {
    // RFC 5321 §3.1: 554 = no service here (send QUIT); 421 = closing now.
    fail(fmt::format("server refused the connection: {} {}", r.code, r.text()), r, r.code != 421);
    return;
  }
  set_state(ClientState::kEhlo);
  send_line(Cmd::kEhlo, fmt::format("EHLO {}", config_.helo_name));
}

void ClientSession::on_ehlo(const Reply& r, bool helo) {
  if (r.positive_completion()) {
    caps_ = helo ? ServerCapabilities{} : ServerCapabilities::from_ehlo(r);
    after_hello();
  } else if (!helo && r.permanent()) {
    // RFC 5321 §3.2: an old server that does not know EHLO; try HELO.
    set_state(ClientState::kHelo);
    send_line(Cmd::kHelo, fmt::format("HELO {}", config_.helo_name));
  } else {
    fail(fmt::format("{} refused: {} {}", helo ? "HELO" : "EHLO", r.code, r.text()), r, true);
  }
}

// After EHLO/HELO: STARTTLS first, then AUTH, then the jobs.
void ClientSession::after_hello() {
  if (!tls_active() && !tls_tried_ && config_.starttls != StartTlsPolicy::kNever) {
    if (caps_.starttls) {
      set_state(ClientState::kStartTls);
      send_line(Cmd::kStartTls, "STARTTLS");
      return;
    }
    if (config_.starttls == StartTlsPolicy::kRequired) {
      fail("TLS is required but the server does not offer STARTTLS", std::nullopt, true);
      return;
    }
  }
  if (config_.auth && !authenticated_) {
    start_auth();
    return;
  }
  start_next();
}

void ClientSession::on_starttls(const Reply& r) {
  tls_tried_ = true;
  if (r.code == 220) {
    tls_pending_ = true;
    // Whatever else is buffered arrived in plaintext after the 220: drop it.
    parser_ = ReplyParser{};
    set_state(ClientState::kTlsHandshake);
    return;
  }
  if (config_.starttls == StartTlsPolicy::kRequired) {
    fail(fmt::format("TLS is required but STARTTLS was refused: {} {}", r.code, r.text()), r, true);
    return;
  }
  after_hello();  // opportunistic: carry on in plaintext
}

void ClientSession::start_auth() {
  const auto offered = [&](std::string_view m) {
    return std::find(caps_.auth.begin(), caps_.auth.end(), m) != caps_.auth.end();
  };
  std::string mech;
  switch (config_.mechanism) {
    case AuthMechanism::kPlain: mech = offered("PLAIN") ? "PLAIN" : ""; break;
    case AuthMechanism::kLogin: mech = offered("LOGIN") ? "LOGIN" : ""; break;
    case AuthMechanism::kAuto: mech = offered("PLAIN") ? "PLAIN" : offered("LOGIN") ? "LOGIN" : ""; break;
  }
  if (mech.empty()) {
    fail(caps_.auth.empty() ? fmt::format("the server does not offer AUTH{}", tls_active() ? "" : " (without TLS)")
                            : "the server offers no AUTH mechanism we can use (PLAIN, LOGIN)",
         std::nullopt, true);
    return;
  }
  auth_mechanism_ = mech;
  auth_step_ = 0;
  set_state(ClientState::kAuth);
  const Credentials& c = *config_.auth;
  if (mech == "PLAIN") {
    // RFC 4616 with an initial response (RFC 4954 §4): one round trip.
    const std::string msg = c.authzid + '\0' + c.username + '\0' + c.password;
    send_line(Cmd::kAuth, "AUTH PLAIN " + codec::base64_encode(msg));
  } else {
    send_line(Cmd::kAuth, "AUTH LOGIN");
  }
}

void ClientSession::on_auth(const Reply& r) {
  const Credentials& c = *config_.auth;
  if (r.code == 235) {
    authenticated_ = true;
    events_.push_back(ev::Authenticated{auth_mechanism_, c.username});
    start_next();
    return;
  }
  if (r.code == 334) {
    if (auth_mechanism_ == "PLAIN" && auth_step_ == 0) {  // server ignored the initial response
      auth_step_ = 2;
      send_line(Cmd::kAuth, codec::base64_encode(c.authzid + '\0' + c.username + '\0' + c.password));
      return;
    }
    if (auth_mechanism_ == "LOGIN" && auth_step_ < 2) {  // 334 Username: / 334 Password:
      send_line(Cmd::kAuth, codec::base64_encode(auth_step_ == 0 ? c.username : c.password));
      ++auth_step_;
      return;
    }
    send_line(Cmd::kAuth, "*");  // more challenges than the mechanism has: cancel
    return;
  }
  events_.push_back(ev::AuthFailed{r});
  fail(fmt::format("authentication failed: {} {}", r.code, r.text()), r, true);
}

// ---- transactions ---------------------------------------------------------------

void ClientSession::start_next() {
  if (failed_ || state_ == ClientState::kClosed) return;
  if (!jobs_.empty()) {
    start_job();
  } else if (quit_requested_) {
    set_state(ClientState::kQuit);
    send_line(Cmd::kQuit, "QUIT");
  } else {
    set_state(ClientState::kIdle);
    events_.push_back(ev::Idle{});
  }
}

std::string ClientSession::mail_command(const Job& job) const {
  std::string line = fmt::format("MAIL FROM:<{}>", job.reverse_path);
  if (job.kind == Job::Kind::kSend && caps_.size) line += fmt::format(" SIZE={}", job.data.size());
  if (job.kind == Job::Kind::kSend && caps_.eightbitmime && has_8bit(job.data)) line += " BODY=8BITMIME";
  return line;
}

void ClientSession::start_job() {
  Job& job = jobs_.front();
  job_running_ = true;
  job.pipelined = caps_.pipelining && config_.pipelining;
  set_state(ClientState::kTransaction);
  send_line(Cmd::kMail, mail_command(job));
  if (!job.pipelined) return;
  // RFC 2920 §3.1: MAIL, every RCPT and DATA (or, for a probe, RSET) in one group.
  for (std::size_t i = 0; i < job.recipients.size(); ++i) send_rcpt(i);
  if (job.kind == Job::Kind::kSend) send_line(Cmd::kData, "DATA");
  else send_line(Cmd::kRset, "RSET");
}

void ClientSession::send_rcpt(std::size_t i) {
  Job& job = jobs_.front();
  job.next_rcpt = i + 1;
  send_line(Cmd::kRcpt, fmt::format("RCPT TO:<{}>", job.recipients[i]));
}

void ClientSession::on_mail(Reply r) {
  Job& job = jobs_.front();
  const bool ok = r.positive_completion();
  job.mail_reply = std::move(r);
  if (job.pipelined) return;  // the rest of the group is on its way; its replies follow
  if (!ok) finish_job(false);
  else send_rcpt(0);
}

void ClientSession::on_rcpt(Reply r) {
  Job& job = jobs_.front();
  const std::size_t i = job.rcpt_replies.size();
  const bool mail_ok = job.mail_reply && job.mail_reply->positive_completion();
  if (mail_ok && job.kind == Job::Kind::kSend)
    events_.push_back(ev::RecipientResult{job.id, job.recipients[i], r});
  job.rcpt_replies.push_back(std::move(r));
  if (job.pipelined || !mail_ok) return;
  if (job.next_rcpt < job.recipients.size()) {
    send_rcpt(job.next_rcpt);
  } else if (job.kind == Job::Kind::kProbe) {
    send_line(Cmd::kRset, "RSET");
  } else if (std::any_of(job.rcpt_replies.begin(), job.rcpt_replies.end(),
                         [](const Reply& x) { return x.positive_completion(); })) {
    send_line(Cmd::kData, "DATA");
  } else {
    finish_job(true);  // every recipient refused: no DATA; RSET the open transaction
  }
}

void ClientSession::on_data(Reply r) {
  Job& job = jobs_.front();
  const int code = r.code;
  job.data_reply = std::move(r);
  const bool mail_ok = job.mail_reply && job.mail_reply->positive_completion();
  const bool any_rcpt = std::any_of(job.rcpt_replies.begin(), job.rcpt_replies.end(),
                                    [](const Reply& x) { return x.positive_completion(); });
  if (code == 354) {
    if (mail_ok && any_rcpt) {
      events_.push_back(ev::DataSent{dot_stuff_into(out_, job.data)});
    } else {
      // RFC 2920 §3.1: a server said 354 although no recipient was accepted;
      // end the data phase at once with an empty message and ignore its fate.
      out_ += ".\r\n";
      events_.push_back(ev::DataSent{3});
    }
    inflight_.push_back(Sent{Cmd::kContent, "<end of data>"});
    return;
  }
  finish_job(mail_ok);  // DATA refused inside an open transaction: RSET it
}

void ClientSession::on_content(Reply r) {
  jobs_.front().final_reply = std::move(r);
  finish_job(false);  // the server resets after its final reply (§4.1.1.4)
}

void ClientSession::on_rset(const Reply& r) {
  if (state_ == ClientState::kTransaction && job_running_) {  // the probe's RSET
    finish_job(false);
    return;
  }
  if (!r.positive_completion()) {
    fail(fmt::format("RSET refused: {} {}", r.code, r.text()), r, true);
    return;
  }
  start_next();
}

void ClientSession::finish_job(bool rset_needed) {
  Job job = std::move(jobs_.front());
  jobs_.pop_front();
  job_running_ = false;
  Reply mail = job.mail_reply.value_or(Reply{});
  const bool mail_ok = mail.positive_completion();
  if (job.kind == Job::Kind::kProbe) {
    const Reply& rcpt = mail_ok && !job.rcpt_replies.empty() ? job.rcpt_replies.front() : mail;
    events_.push_back(ev::ProbeResult{job.id, job.recipients.front(), rcpt});
  } else {
    ev::TransactionResult t;
    t.job = job.id;
    const bool data_ok = job.data_reply && job.data_reply->code == 354;
    bool any = false;
    t.recipients.reserve(job.recipients.size());
    for (std::size_t i = 0; i < job.recipients.size(); ++i) {
      // The reply that decided this recipient, copied once.
      const Reply* decided = &mail;
      bool delivered = false;
      if (mail_ok) {
        if (i < job.rcpt_replies.size() && !job.rcpt_replies[i].positive_completion()) {
          decided = &job.rcpt_replies[i];
        } else if (job.data_reply && !data_ok) {
          decided = &*job.data_reply;
        } else if (job.final_reply) {
          decided = &*job.final_reply;
          delivered = data_ok && i < job.rcpt_replies.size() && job.final_reply->positive_completion();
        }
      }
      any = any || delivered;
      t.recipients.push_back(ev::RecipientOutcome{std::move(job.recipients[i]), *decided, delivered});
    }
    t.mail_reply = std::move(mail);
    t.rcpt_replies = std::move(job.rcpt_replies);
    t.data_reply = std::move(job.data_reply);
    t.final_reply = std::move(job.final_reply);
    t.accepted = any;
    events_.push_back(std::move(t));
  }
  if (rset_needed) {
    set_state(ClientState::kReset);
    send_line(Cmd::kRset, "RSET");
    return;
  }
  start_next();
}

// ---- plumbing ----------------------------------------------------------------------

void ClientSession::send_line(Cmd cmd, std::string line) {
  out_ += line;
  out_ += "\r\n";
  events_.push_back(ev::CommandSent{line});
  inflight_.push_back(Sent{cmd, std::move(line)});
}

void ClientSession::fail(std::string reason, std::optional<Reply> reply, bool send_quit) {
  if (failed_ || state_ == ClientState::kClosed) return;
  failed_ = true;
  ev::Failed f{std::move(reason), std::move(reply), {}};
  for (const Job& j : jobs_) f.unfinished.push_back(j.id);
  jobs_.clear();
  job_running_ = false;
  tls_pending_ = false;
  events_.push_back(std::move(f));
  if (send_quit) {
    // Replies to commands already sent still arrive first; on_reply skips them.
    set_state(ClientState::kQuit);
    send_line(Cmd::kQuit, "QUIT");
  } else {
    close();
  }
}

void ClientSession::close() {
  if (state_ == ClientState::kClosed) return;
  set_state(ClientState::kClosed);
  events_.push_back(ev::Closed{});
}

void ClientSession::set_state(ClientState s) {
  if (s == state_) return;
  events_.push_back(ev::StateChanged{state_, s});
  state_ = s;
}

}  // namespace mailsim::smtp
