// Fuzzes smtp::ClientSession (real/smtp/client.h): the replies of a hostile
// or broken SMTP server, in fuzzer-chosen chunks, against a client with two
// queued jobs (a message to two recipients, a recipient probe).
//
// Header bytes:
//   0: bits 0-1 STARTTLS policy (never, if offered, required, required),
//      bit 2 credentials configured, bits 3-4 mechanism (auto, PLAIN, LOGIN,
//      auto), bit 5 pipelining off, bit 6 implicit TLS, bit 7 QUIT when idle
//   1: bits 0-1 TLS step: 0/3 handshake succeeds at once, 1 fails at once,
//      2 waits for an action; bit 2 the message has a null reverse-path
// Actions (FF c, c mod 8): 1 queue another message, 2 quit(), 3 peer closed,
// 4 finish the TLS handshake, 5 fail it.
//
// Invariants checked (promises of client.h):
//   - commands and content go out as CRLF lines only (bare LF never leaves);
//   - with STARTTLS required, no MAIL/RCPT/AUTH/DATA leaves in plaintext;
//   - every job gets exactly one outcome (TransactionResult / ProbeResult, or
//     a place in Failed::unfinished), never two, and all of them once the
//     connection is gone; "accepted" only with a 2xx final reply, and a
//     recipient marked delivered only in an accepted transaction.
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <type_traits>
#include <variant>

#include "real/smtp/client.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using namespace mailsim;
using namespace mailsim::smtp;
namespace ev = client_events;
using fuzz::excerpt;

const char* const kMessage =
    "From: alice@alpha.example\r\n"
    "To: bob@beta.example\r\n"
    "Subject: fuzz\r\n"
    "\r\n"
    ".a line that starts with a dot\n"
    "..two dots\r"
    ".\r\n"
    "last line without break";

class Host {
 public:
  explicit Host(const fuzz::FuzzInput& in) : in_(in), session_(make_config(in)) { tls_mode_ = in.option(1) & 3; }

  void run() {
    Envelope env;
    env.reverse_path = in_.bit(1, 2) ? "" : "alice@alpha.example";
    env.recipients = {"bob@beta.example", "carol@gamma.example"};
    add_job(session_.send(env, kMessage));
    add_job(session_.verify_recipient("dave@beta.example", "alice@alpha.example"));
    fuzz::drive(*this, session_, in_);
    FUZZ_CHECK(session_.wants_close(), "client open after peer_closed()");
    for (const auto& [id, outcomes] : jobs_)
      FUZZ_CHECK(outcomes == 1, "job " + std::to_string(id) + " ended with " + std::to_string(outcomes) +
                                    " outcomes after the connection closed");
  }

 private:
  template <class H>
  friend void fuzz::drive(H&, Session&, const fuzz::FuzzInput&);  // calls after_call() and action()

  static ClientConfig make_config(const fuzz::FuzzInput& in) {
    ClientConfig c;
    c.helo_name = "mail.alpha.example";
    const unsigned tls = in.option(0) & 3;
    c.starttls = tls == 0 ? StartTlsPolicy::kNever : tls == 1 ? StartTlsPolicy::kIfOffered : StartTlsPolicy::kRequired;
    if (in.bit(0, 2)) c.auth = Credentials{"alice", "wonderland", ""};
    const unsigned mech = (in.option(0) >> 3) & 3;
    c.mechanism = mech == 1 ? AuthMechanism::kPlain : mech == 2 ? AuthMechanism::kLogin : AuthMechanism::kAuto;
    c.pipelining = !in.bit(0, 5);
    c.implicit_tls = in.bit(0, 6);
    if (c.implicit_tls) c.implicit_tls_info = TlsInfo{"TLSv1.3", "TLS_AES_128_GCM_SHA256", "CN=mx.beta.example"};
    return c;
  }

  void add_job(JobId id) { jobs_.emplace(id, 0); }
  void outcome(JobId id) {
    auto it = jobs_.find(id);
    FUZZ_CHECK(it != jobs_.end(), "outcome for unknown job " + std::to_string(id));
    ++it->second;
    FUZZ_CHECK(it->second == 1, "job " + std::to_string(id) + " got a second outcome");
  }

  void action(std::uint8_t a) {
    switch (a % 8) {
      case 1: {
        if (trace_) std::fprintf(stderr, "   (host queues another message)\n");
        Envelope env{"alice@alpha.example", {"erin@beta.example"}};
        add_job(session_.send(env, "Subject: more\r\n\r\nbody\r\n"));
        after_call();
        break;
      }
      case 2:
        if (trace_) std::fprintf(stderr, "   (host calls quit())\n");
        session_.quit();
        after_call();
        break;
      case 3:
        session_.peer_closed();
        after_call();
        break;
      case 4:
        if (session_.tls_requested()) handshake(true);
        break;
      case 5:
        if (session_.tls_requested()) handshake(false);
        break;
      default:
        break;
    }
  }

  void handshake(bool ok) {
    fuzz::finish_tls(session_, ok, "CN=mx.beta.example");
    after_call();
  }

  void after_call() {
    while (auto e = session_.next_event()) on_event(*e);
    take_output();
    if (session_.tls_requested() && tls_mode_ != 2) handshake(tls_mode_ != 1);
  }

  void take_output() {
    const std::string out = session_.take_output();
    if (out.empty()) return;
    FUZZ_CHECK(!closed_and_drained_, "output after the client closed: " + excerpt(out));
    FUZZ_CHECK(fuzz::crlf_lines(out), "client output not CRLF lines: " + excerpt(out));
    // Nothing may be written before the server's greeting arrived.
    FUZZ_CHECK(session_.state() != ClientState::kGreeting, "client wrote before the greeting: " + excerpt(out));
    if (session_.wants_close()) closed_and_drained_ = true;
  }

  // Plaintext exposure: checked on every command the client reports.
  void on_command(const std::string& line) {
    if (in_.option(0) % 4 >= 2 && !session_.tls_active()) {
      const bool sensitive =
          line.starts_with("MAIL ") || line.starts_with("RCPT ") || line.starts_with("AUTH ") || line == "DATA";
      FUZZ_CHECK(!sensitive, "sent in plaintext although STARTTLS is required: " + excerpt(line));
    }
  }

  void on_event(const ClientEvent& e) {
    if (trace_) trace(e);
    if (auto* c = std::get_if<ev::CommandSent>(&e)) {
      on_command(c->line);
    } else if (auto* t = std::get_if<ev::TransactionResult>(&e)) {
      outcome(t->job);
      if (t->accepted)
        FUZZ_CHECK(t->final_reply && t->final_reply->positive_completion(), "accepted without a 2xx final reply");
      for (const auto& r : t->recipients)
        FUZZ_CHECK(!r.delivered || t->accepted, "recipient delivered in a transaction not accepted");
    } else if (auto* p = std::get_if<ev::ProbeResult>(&e)) {
      outcome(p->job);
    } else if (auto* f = std::get_if<ev::Failed>(&e)) {
      for (JobId id : f->unfinished) outcome(id);
    } else if (std::holds_alternative<ev::Idle>(e)) {
      if (in_.bit(0, 7)) session_.quit();
    }
  }

  // MAILSIM_FUZZ_TRACE=1 prints the conversation (to study a reproducer).
  static void trace(const ClientEvent& e) {
    std::visit(
        [](const auto& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, ev::CommandSent>)
            std::fprintf(stderr, "C: %s\n", excerpt(x.line).c_str());
          else if constexpr (std::is_same_v<T, ev::ReplyReceived>)
            std::fprintf(stderr, "S: %d %s  (to %s)\n", x.reply.code, excerpt(x.reply.text()).c_str(),
                         excerpt(x.command).c_str());
          else if constexpr (std::is_same_v<T, ev::Greeting>)
            std::fprintf(stderr, "S: %d greeting\n", x.reply.code);
          else if constexpr (std::is_same_v<T, ev::StateChanged>)
            std::fprintf(stderr, "   state %s -> %s\n", std::string(to_string(x.from)).c_str(),
                         std::string(to_string(x.to)).c_str());
          else if constexpr (std::is_same_v<T, ev::TransactionResult>)
            std::fprintf(stderr, "   result job %llu\n", (unsigned long long)x.job);
          else if constexpr (std::is_same_v<T, ev::ProbeResult>)
            std::fprintf(stderr, "   probe job %llu\n", (unsigned long long)x.job);
          else if constexpr (std::is_same_v<T, ev::Failed>) {
            std::fprintf(stderr, "   failed: %s; unfinished:", x.reason.c_str());
            for (auto id : x.unfinished) std::fprintf(stderr, " %llu", (unsigned long long)id);
            std::fprintf(stderr, "\n");
          } else if constexpr (std::is_same_v<T, ev::Idle>)
            std::fprintf(stderr, "   idle\n");
          else if constexpr (std::is_same_v<T, ev::Closed>)
            std::fprintf(stderr, "   closed\n");
        },
        e);
  }

  const fuzz::FuzzInput& in_;
  const bool trace_ = std::getenv("MAILSIM_FUZZ_TRACE") != nullptr;
  ClientSession session_;
  unsigned tls_mode_ = 0;
  std::map<JobId, int> jobs_;
  bool closed_and_drained_ = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const mailsim::fuzz::FuzzInput in(data, size, 2);
  Host host(in);
  host.run();
  return 0;
}
