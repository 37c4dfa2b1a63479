// Fuzzes smtp::ServerSession (real/smtp/server.h, RFC 5321 and extensions)
// through its public API only, as a host would drive it: bytes from a hostile
// client in fuzzer-chosen chunks, every decision answered (accept or reject,
// at once or later), a stand-in TLS step when the session asks for one.
//
// Header bytes:
//   0: bits 0-1 TLS policy (off, optional, required, required), bit 2
//      tls_available, bits 3-4 AUTH policy (off, optional, required, required),
//      bit 5 auth_before_tls, bit 6 rejecting greeting (554), bit 7 small
//      limits (SIZE 300, 3 recipients, 6 errors, 700 octets pending input)
//   1: accept/reject pattern for decisions (bit n for the n-th decision, mod 8)
//   2: bit 0 answer decisions only at "answer" actions; bits 1-2 TLS step:
//      0/3 handshake succeeds at once, 1 fails at once, 2 waits for an action;
//      bit 3 implicit TLS (port 465); bit 4 421 greeting instead of 554
// Actions (FF c, c mod 8): 1 answer the pending decision, 2 peer closed,
// 3 finish the TLS handshake, 4 fail it.
//
// Invariants checked (each a promise server.h makes):
//   - output is well-formed reply lines (CRLF, "ddd" + ' '/'-', one code per
//     reply) and nothing is sent after the session closed;
//   - no MAIL is offered to the host before STARTTLS / AUTH when required,
//     no AUTH before TLS unless auth_before_tls;
//   - a message reaches the host only with 1..max_recipients recipients,
//     within SIZE, with CRLF line ends only and lines of at most 1000 octets
//     (SMTP smuggling cannot happen: data_reader.h);
//   - tls_requested() only right after the "220 Ready to start TLS" output,
//     and the handshake completing produces no output and runs no command.
#include <optional>
#include <string>
#include <variant>

#include "real/smtp/reply.h"
#include "real/smtp/server.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using namespace mailsim;
using namespace mailsim::smtp;
namespace ev = server_events;
using fuzz::excerpt;

class Host {
 public:
  explicit Host(const fuzz::FuzzInput& in) : in_(in), session_(make_config(in), make_peer(in)) {
    defer_ = in.bit(2, 0);
    tls_mode_ = (in.option(2) >> 1) & 3;
    pattern_ = in.option(1);
  }

  void run() {
    // The input, then the client goes away, maybe while the host still decides.
    fuzz::drive(*this, session_, in_);
    if (deferred_) {
      answer(*deferred_);  // must be a no-op now
      deferred_.reset();
      after_call();
    }
    FUZZ_CHECK(session_.wants_close(), "session open after peer_closed()");
  }

 private:
  template <class H>
  friend void fuzz::drive(H&, Session&, const fuzz::FuzzInput&);  // calls after_call() and action()

  static ServerConfig make_config(const fuzz::FuzzInput& in) {
    ServerConfig c;
    c.hostname = "mx.example.net";
    const unsigned tls = in.option(0) & 3;
    c.tls = tls == 0 ? TlsPolicy::kOff : tls == 1 ? TlsPolicy::kOptional : TlsPolicy::kRequired;
    c.tls_available = in.bit(0, 2);
    const unsigned auth = (in.option(0) >> 3) & 3;
    c.auth = auth == 0 ? AuthPolicy::kOff : auth == 1 ? AuthPolicy::kOptional : AuthPolicy::kRequired;
    c.auth_before_tls = in.bit(0, 5);
    if (in.bit(0, 6)) {
      c.reject_greeting = in.bit(2, 4) ? make_reply(421, "4.3.2", "mx.example.net Service not available")
                                       : make_reply(554, "5.7.1", "mx.example.net No SMTP service here");
    }
    if (in.bit(0, 7)) {
      c.max_message_size = 300;
      c.max_recipients = 3;
      c.max_errors = 6;
      c.max_pending_input = 700;
    }
    c.implicit_tls = in.bit(2, 3);
    if (c.implicit_tls) c.implicit_tls_info = TlsInfo{"TLSv1.3", "TLS_AES_128_GCM_SHA256", ""};
    return c;
  }
  static PeerIdentity make_peer(const fuzz::FuzzInput&) { return PeerIdentity{"192.0.2.10", "client.example.org"}; }

  const ServerConfig& config() const { return session_.config(); }

  void action(std::uint8_t a) {
    switch (a % 8) {
      case 1:
        if (deferred_) {
          ServerEvent d = std::move(*deferred_);
          deferred_.reset();
          answer(d);
          after_call();
        }
        break;
      case 2:
        session_.peer_closed();
        after_call();
        break;
      case 3:
        if (session_.tls_requested()) handshake(true);
        break;
      case 4:
        if (session_.tls_requested()) handshake(false);
        break;
      default:
        break;
    }
  }

  void handshake(bool ok) {
    if (ok) {
      session_.tls_established(TlsInfo{"TLSv1.3", "TLS_AES_256_GCM_SHA384", ""});
      // The handshake itself says nothing and must not run buffered
      // plaintext as commands (CVE-2011-0411).
      FUZZ_CHECK(session_.take_output().empty(), "output right after tls_established()");
      while (auto e = session_.next_event()) {
        FUZZ_CHECK(!std::holds_alternative<ev::CommandReceived>(*e), "a command ran at tls_established()");
        FUZZ_CHECK(!std::holds_alternative<ev::MailFrom>(*e), "a decision at tls_established()");
        on_event(*e);
      }
      FUZZ_CHECK(session_.tls_active(), "TLS not active after tls_established()");
    } else {
      session_.tls_failed("handshake failure (fuzz)");
      after_call();
      FUZZ_CHECK(session_.wants_close(), "session open after tls_failed()");
    }
  }

  // After every call into the session: events, then output, then TLS.
  void after_call() {
    while (auto e = session_.next_event()) on_event(*e);
    take_output();
    if (session_.tls_requested() && tls_mode_ != 2) handshake(tls_mode_ != 1);
  }

  void take_output() {
    const std::string out = session_.take_output();
    if (out.empty()) return;
    FUZZ_CHECK(!closed_and_drained_, "output after the session closed: " + excerpt(out));
    FUZZ_CHECK(fuzz::crlf_lines(out), "reply text not CRLF lines: " + excerpt(out));
    std::size_t start = 0;
    while (start < out.size()) {
      const std::size_t end = out.find("\r\n", start);
      const std::string_view line = std::string_view(out).substr(start, end - start);
      FUZZ_CHECK(line.size() >= 4 && line[0] >= '2' && line[0] <= '5' && line[1] >= '0' && line[1] <= '9' &&
                     line[2] >= '0' && line[2] <= '9' && (line[3] == ' ' || line[3] == '-'),
                 "malformed reply line: " + excerpt(line));
      // RFC 5321 §4.5.3.1.5: a reply line is at most 512 octets with CRLF.
      FUZZ_CHECK(line.size() + 2 <= 512, "reply line over 512 octets: " + excerpt(line));
      start = end + 2;
    }
    replies_.feed(out);
    FUZZ_CHECK(!replies_.failed(), "server output is not valid SMTP replies: " + replies_.error());
    last_output_ = out;
    if (session_.wants_close()) closed_and_drained_ = true;
    if (session_.tls_requested()) {
      FUZZ_CHECK(last_output_.ends_with("220 2.0.0 Ready to start TLS\r\n"),
                 "tls_requested() without a 220 to STARTTLS: " + excerpt(last_output_));
    }
  }

  void on_event(const ServerEvent& e) {
    if (auto* m = std::get_if<ev::MailFrom>(&e)) {
      if (config().tls == TlsPolicy::kRequired)
        FUZZ_CHECK(session_.tls_active(), "MAIL offered to the host before STARTTLS (TLS required)");
      if (config().auth == AuthPolicy::kRequired)
        FUZZ_CHECK(!session_.authenticated_user().empty(), "MAIL offered to the host before AUTH (required)");
      FUZZ_CHECK(!m->size || *m->size <= config().max_message_size, "MAIL with SIZE over the limit reached the host");
      decision(e);
    } else if (std::holds_alternative<ev::RcptTo>(e)) {
      FUZZ_CHECK(session_.envelope().recipients.size() < config().max_recipients, "RCPT offered beyond max_recipients");
      decision(e);
    } else if (std::holds_alternative<ev::AuthRequest>(e)) {
      FUZZ_CHECK(config().auth != AuthPolicy::kOff, "AUTH decision with AUTH off");
      FUZZ_CHECK(session_.tls_active() || config().auth_before_tls, "password taken before TLS");
      decision(e);
    } else if (auto* d = std::get_if<ev::MessageReceived>(&e)) {
      const auto n = d->envelope.recipients.size();
      FUZZ_CHECK(n >= 1 && n <= config().max_recipients, "message with " + std::to_string(n) + " recipients");
      FUZZ_CHECK(d->data.size() <= config().max_message_size, "message over SIZE reached the host");
      FUZZ_CHECK(d->data.empty() || fuzz::crlf_lines(d->data),
                 "message with bare CR/LF reached the host (smuggling): " + excerpt(d->data));
      for (std::size_t start = 0; start < d->data.size();) {
        const std::size_t end = d->data.find("\r\n", start);
        FUZZ_CHECK(end - start + 2 <= 1000, "message line over 1000 octets reached the host");
        start = end + 2;
      }
      if (config().tls == TlsPolicy::kRequired)
        FUZZ_CHECK(d->envelope.tls.has_value(), "message without TLS under TLS required");
      decision(e);
    }
  }

  void decision(const ServerEvent& e) {
    // A decision may be followed by the session closing in the same call
    // (e.g. 421 for too much pipelined input); the answer is then a no-op.
    FUZZ_CHECK(session_.awaiting_decision() || session_.wants_close(), "decision event but nothing pending");
    FUZZ_CHECK(!deferred_, "a second decision while one is pending");
    if (defer_)
      deferred_ = e;
    else
      answer(e);
  }

  void answer(const ServerEvent& e) {
    const unsigned n = decisions_++;
    const bool yes = (pattern_ >> (n % 8)) & 1u;
    const unsigned variant = n % 3;
    if (std::holds_alternative<ev::MailFrom>(e)) {
      session_.accept_mail(yes            ? replies::mail_ok()
                           : variant == 0 ? make_reply(451, "4.3.0", "Try later")
                           : variant == 1 ? make_reply(550, "5.7.1", "Sender rejected\nbecause")
                                          : make_reply(250, "", "Ok\nmulti-line"));
    } else if (std::holds_alternative<ev::RcptTo>(e)) {
      session_.accept_rcpt(yes            ? replies::rcpt_ok()
                           : variant == 0 ? replies::user_unknown()
                           : variant == 1 ? replies::relay_denied()
                                          : replies::try_later());
    } else if (std::holds_alternative<ev::AuthRequest>(e)) {
      session_.auth_result(yes);
    } else if (std::holds_alternative<ev::MessageReceived>(e)) {
      session_.message_result(yes            ? replies::queued(std::to_string(n))
                              : variant == 0 ? replies::try_later()
                                             : make_reply(554, "5.7.1", "Message rejected"));
    }
  }

  const fuzz::FuzzInput& in_;
  ServerSession session_;
  bool defer_ = false;
  unsigned tls_mode_ = 0;
  unsigned pattern_ = 0;
  unsigned decisions_ = 0;
  std::optional<ServerEvent> deferred_;
  ReplyParser replies_;
  std::string last_output_;
  bool closed_and_drained_ = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const mailsim::fuzz::FuzzInput in(data, size, 3);
  Host host(in);
  host.run();
  return 0;
}
