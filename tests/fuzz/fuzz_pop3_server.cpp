// Fuzzes pop3::ServerSession (real/pop3/server.h, RFC 1939, 2449, 2595,
// 5034) over a MemoryStore holding a few messages for two users, driven
// through its public API only: client bytes in fuzzer-chosen chunks, the
// auth-delay resume, a stand-in TLS step, mail delivered meanwhile, and a
// second session that tries the same maildrop.
//
// Header bytes:
//   0: bit 0 allow_plaintext_auth, bit 1 tls_available, bit 2 implicit TLS,
//      bits 3-4 max_auth_failures - 1, bit 5 resume only at actions,
//      bits 6-7 TLS step: 0/3 succeeds at once, 1 fails at once, 2 at actions
//   1: bit 0 small limits (4 errors, 300 octets pending input)
// Actions (FF c, c mod 8): 1 resume(), 2 peer closed, 3 finish TLS, 4 fail
// TLS, 5 deliver a message to mrose, 6 a second session logs in as mrose and
// quits.
//
// Invariants checked:
//   - the output is exactly the responses the session reports (ResponseSent
//     octets add up); each single-line response is one CRLF line starting
//     "+OK", "-ERR" or "+ "; each multi-line one is CRLF lines ending in the
//     lone "." line, byte-stuffed so that no earlier line is ".";
//   - no login without TLS unless allow_plaintext_auth;
//   - two sessions never hold the same maildrop in TRANSACTION;
//   - messages leave the store only through UPDATE (QUIT in TRANSACTION);
//   - nothing is sent after the session closed.
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "real/pop3/server.h"
#include "real/store/memory_store.h"
#include "real/store/users.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using namespace mailsim;
using namespace mailsim::pop3;
namespace ev = server_events;
using fuzz::excerpt;

const char* const kMessages[] = {
    "From: Marshall Rose <mrose@dbc.mtview.ca.us>\r\n"
    "To: mrose@dbc.mtview.ca.us\r\n"
    "Subject: RFC 1939, section 10\r\n"
    "\r\n"
    "Hello 1996!\r\n",
    "From: Einar Stefferud <stef@nma.com>\r\n"
    "Subject: lines that start with a dot\r\n"
    "\r\n"
    ".\r\n"
    ".signature starts with a dot\r\n"
    "..and this line with two.\r\n",
    "Subject: no final line break\r\n\r\nlast",
    "",  // an empty message
};

struct Bench {
  store::MemoryStore store{1000};
  store::UserTable users{{"mrose", "tanstaaf"}, {"alice", "wonderland"}};
  Bench() {
    store.ensure_user("mrose");
    store.ensure_user("alice");
    std::int64_t date = 828000000;
    for (const char* m : kMessages) store.deliver("mrose", m, date += 60);
    store.deliver("alice", kMessages[0], date += 60);
  }
};

ServerConfig make_config(const fuzz::FuzzInput& in) {
  ServerConfig c;
  c.hostname = "dbc.mtview.ca.us";
  c.allow_plaintext_auth = in.bit(0, 0);
  c.tls_available = in.bit(0, 1);
  c.implicit_tls = in.bit(0, 2);
  if (c.implicit_tls) c.implicit_tls_info = TlsInfo{"TLSv1.3", "TLS_AES_128_GCM_SHA256", ""};
  c.max_auth_failures = 1 + ((in.option(0) >> 3) & 3);
  if (in.bit(1, 0)) {
    c.max_errors = 4;
    c.max_pending_input = 300;
  }
  return c;
}

// Checks one session's output against the responses it reported.
class Checker {
 public:
  explicit Checker(ServerSession& s) : s_(s) {}

  void drain(std::vector<ev::AuthFailed>* failed = nullptr) {
    std::vector<ev::ResponseSent> sent;
    while (auto e = s_.next_event()) {
      if (auto* r = std::get_if<ev::ResponseSent>(&*e)) sent.push_back(*r);
      if (auto* f = std::get_if<ev::AuthFailed>(&*e)) {
        if (failed) failed->push_back(*f);
      }
      if (auto* a = std::get_if<ev::Authenticated>(&*e)) {
        FUZZ_CHECK(s_.tls_active() || allow_plaintext_, "login without TLS although plaintext auth is off");
        (void)a;
      }
      if (auto* d = std::get_if<ev::MessagesDeleted>(&*e))
        (s_.user() == "mrose" ? deleted_ : other_deleted_) += d->uids.size();
    }
    const std::string out = s_.take_output();
    if (!out.empty()) FUZZ_CHECK(!closed_and_drained_, "output after the session closed: " + excerpt(out));
    std::size_t total = 0;
    for (const auto& r : sent) total += r.octets;
    FUZZ_CHECK(total == out.size(), "output is " + std::to_string(out.size()) + " octets but responses say " +
                                        std::to_string(total) + ": " + excerpt(out));
    std::size_t pos = 0;
    for (const auto& r : sent) {
      check_response(r, std::string_view(out).substr(pos, r.octets));
      pos += r.octets;
    }
    if (s_.wants_close()) closed_and_drained_ = true;
  }

  bool allow_plaintext_ = false;
  std::size_t deleted_ = 0;        // mrose's messages this session removed at UPDATE
  std::size_t other_deleted_ = 0;  // alice's

 private:
  static void check_response(const ev::ResponseSent& r, std::string_view wire) {
    const std::size_t first_end = wire.find("\r\n");
    // Known bug POP3-1: "-ERR Unknown command: <verb>" echoes the client's
    // verb with its control characters (a bare CR, NUL) into the response.
    const bool pop3_1 = wire.starts_with("-ERR Unknown command: ") && first_end + 2 == wire.size();
    if (!(pop3_1 && fuzz::tolerate_known("POP3-1")))
      FUZZ_CHECK(fuzz::crlf_lines(wire), "response not CRLF lines: " + excerpt(wire));
    const std::string_view status = wire.substr(0, first_end);
    FUZZ_CHECK(status == r.status, "reported status differs from the wire: " + excerpt(status));
    FUZZ_CHECK(status.starts_with("+OK") || status.starts_with("-ERR") || status.starts_with("+ "),
               "status line not +OK/-ERR/+: " + excerpt(status));
    if (!r.multiline) {
      FUZZ_CHECK(first_end + 2 == wire.size(), "single-line response with several lines: " + excerpt(wire));
      return;
    }
    FUZZ_CHECK(status.starts_with("+OK"), "multi-line response that is not +OK");
    const std::size_t terminator = wire.find("\r\n.\r\n");
    FUZZ_CHECK(terminator != std::string_view::npos && terminator + 5 == wire.size(),
               "multi-line response not ended by exactly one lone '.' line (byte-stuffing): " + excerpt(wire, 400));
  }

  ServerSession& s_;
  bool closed_and_drained_ = false;
};

class Host {
 public:
  explicit Host(const fuzz::FuzzInput& in)
      : in_(in), session_(make_config(in), bench_.store, bench_.users), check_(session_) {
    check_.allow_plaintext_ = make_config(in).allow_plaintext_auth;
    resume_at_action_ = in.bit(0, 5);
    tls_mode_ = (in.option(0) >> 6) & 3;
    initial_ = bench_.store.status("mrose", "INBOX").messages;
  }

  void run() {
    fuzz::drive(*this, session_, in_);
    FUZZ_CHECK(session_.wants_close(), "session open after peer_closed()");
    const auto now = bench_.store.status("mrose", "INBOX").messages;
    FUZZ_CHECK(bench_.store.status("alice", "INBOX").messages + check_.other_deleted_ == 1,
               "alice's messages vanished other than by UPDATE");
    FUZZ_CHECK(now + check_.deleted_ + second_deleted_ == initial_ + delivered_,
               "messages vanished (or appeared) other than by UPDATE: " + std::to_string(now) + " now, " +
                   std::to_string(initial_) + " + " + std::to_string(delivered_) + " delivered - " +
                   std::to_string(check_.deleted_ + second_deleted_) + " deleted");
    FUZZ_CHECK(!bench_.store.maildrop_locks().locked("mrose") && !bench_.store.maildrop_locks().locked("alice"),
               "maildrop still locked after the session ended");
  }

 private:
  template <class H>
  friend void fuzz::drive(H&, Session&, const fuzz::FuzzInput&);  // calls after_call() and action()

  void action(std::uint8_t a) {
    switch (a % 8) {
      case 1:
        session_.resume();
        after_call();
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
      case 5:
        bench_.store.deliver("mrose", "Subject: new\r\n\r\nnew mail\r\n", 900000000);
        ++delivered_;
        break;
      case 6:
        second_session();
        break;
      default:
        break;
    }
  }

  void second_session() {
    ServerConfig c;
    c.allow_plaintext_auth = true;
    ServerSession other(c, bench_.store, bench_.users);
    Checker check(other);
    check.allow_plaintext_ = true;
    other.start();
    check.drain();
    other.receive("USER mrose\r\nPASS tanstaaf\r\nSTAT\r\n");
    check.drain();
    if (other.state() == ServerState::kTransaction)
      FUZZ_CHECK(session_.state() != ServerState::kTransaction || session_.user() != "mrose",
                 "two sessions hold mrose's maildrop");
    other.receive("QUIT\r\n");
    check.drain();
    second_deleted_ += check.deleted_;
  }

  void handshake(bool ok) {
    fuzz::finish_tls(session_, ok);
    after_call();
  }

  void after_call() {
    std::vector<ev::AuthFailed> failed;
    check_.drain(&failed);
    if (!failed.empty() && !resume_at_action_) {
      session_.resume();
      after_call();
      return;
    }
    if (session_.tls_requested() && tls_mode_ != 2) handshake(tls_mode_ != 1);
  }

  const fuzz::FuzzInput& in_;
  Bench bench_;
  ServerSession session_;
  Checker check_;
  bool resume_at_action_ = false;
  unsigned tls_mode_ = 0;
  std::size_t initial_ = 0;
  std::size_t delivered_ = 0;
  std::size_t second_deleted_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const mailsim::fuzz::FuzzInput in(data, size, 2);
  Host host(in);
  host.run();
  return 0;
}
