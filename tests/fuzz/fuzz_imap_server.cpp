// Fuzzes imap::ServerSession (real/imap/server.h, RFC 3501 with IDLE,
// LITERAL+, UIDPLUS, STARTTLS, SASL-IR) over a MemoryStore, through its
// public API only: client bytes in fuzzer-chosen chunks (commands with
// literals, APPEND, IDLE ... DONE), the auth-delay resume, a stand-in TLS
// step, and changes made behind the session's back (new mail, another
// client's expunge) announced with mailbox_changed().
//
// Header bytes:
//   0: bit 0 allow_plaintext_login, bit 1 tls_available, bit 2 implicit TLS,
//      bit 3 small reader limits (line 300, literal 2000, command 4000),
//      bit 4 max_bad_commands 5, bit 5 resume only at actions,
//      bits 6-7 TLS step: 0/3 succeeds at once, 1 fails at once, 2 at actions
// Actions (FF c, c mod 8): 1 resume(), 2 peer closed, 3 finish TLS, 4 fail
// TLS, 5 deliver a message to bob's INBOX, 6 another client sets \Deleted
// on bob's first INBOX message and expunges it, 7 nothing; 5 and 6 are
// followed by mailbox_changed().
//
// Invariants checked:
//   - take_output() hands out whole responses (CRLF lines, literals complete),
//     as many as the session reported with ResponseSent;
//   - every response is untagged "* ", a continuation "+", or tagged;
//   - message sequence numbers stay consistent (RFC 3501 §7.4.1, §7.3.1):
//     EXISTS never shrinks the count, EXPUNGE and FETCH name an existing
//     message number;
//   - no login without TLS unless allow_plaintext_login;
//   - nothing is sent after the session logged out.
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "real/imap/server.h"
#include "real/store/memory_store.h"
#include "real/store/users.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using namespace mailsim;
using namespace mailsim::imap;
namespace ev = server_events;
using fuzz::excerpt;

const char* const kPlain =
    "From: Alice <alice@alpha.example>\r\n"
    "To: bob@beta.example\r\n"
    "Subject: =?UTF-8?B?5LuK5pel44Gv?=\r\n"
    "Date: Tue, 14 Nov 2023 23:00:00 +0100\r\n"
    "Message-ID: <1@alpha.example>\r\n"
    "\r\n"
    "Hello Bob.\r\n";
const char* const kMultipart =
    "From: carol@gamma.example\r\n"
    "To: bob@beta.example, \"Dave D.\" <dave@beta.example>\r\n"
    "Subject: report\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"xyz\"\r\n"
    "\r\n"
    "preamble\r\n"
    "--xyz\r\n"
    "Content-Type: text/plain; charset=us-ascii\r\n"
    "\r\n"
    "part one\r\n"
    "--xyz\r\n"
    "Content-Type: message/rfc822\r\n"
    "\r\n"
    "From: eve@delta.example\r\n"
    "Subject: inner\r\n"
    "\r\n"
    "inner body\r\n"
    "--xyz\r\n"
    "Content-Type: application/octet-stream; name=\"a.bin\"\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "Content-Disposition: attachment; filename=\"a.bin\"\r\n"
    "\r\n"
    "AAECAwQ=\r\n"
    "--xyz--\r\n";
const char* const kOdd = "Subject: no body, no blank line";

ServerConfig make_config(const fuzz::FuzzInput& in) {
  ServerConfig c;
  c.hostname = "imap.beta.example";
  c.allow_plaintext_login = in.bit(0, 0);
  c.tls_available = in.bit(0, 1);
  c.implicit_tls = in.bit(0, 2);
  if (c.implicit_tls) c.implicit_tls_info = TlsInfo{"TLSv1.3", "TLS_AES_128_GCM_SHA256", ""};
  if (in.bit(0, 3)) c.limits = ReaderLimits{300, 2000, 4000};
  if (in.bit(0, 4)) c.max_bad_commands = 5;
  c.max_pending_input = 4096;
  c.now = [] { return std::int64_t{1700000000}; };
  return c;
}

struct Bench {
  store::MemoryStore store{1700000000};
  store::UserTable users{{"bob", "secret"}, {"alice", "wonderland"}};
  Bench() {
    store.ensure_user("bob");
    store.ensure_user("alice");
    store.deliver("bob", kPlain, 1700000000);
    store.deliver("bob", kMultipart, 1700000100);
    store.deliver("bob", kOdd, 1700000200);
    store.create_folder("bob", "Sent");
    store.create_folder("bob", "Archive.2024");
    store.append("bob", "Sent", kPlain, store::Flags{}.set(store::SystemFlag::kSeen), 1700000300);
    store.subscribe("bob", "Sent");
    store.deliver("alice", kPlain, 1700000000);
  }
};

// Splits output into responses: lines ending in CRLF, where a line ending
// in "{n}\r\n" continues after n literal octets. nullopt when the output
// stops inside a response.
std::optional<std::vector<std::string_view>> split_responses(std::string_view out) {
  std::vector<std::string_view> list;
  std::size_t start = 0, pos = 0;
  while (pos < out.size()) {
    const std::size_t eol = out.find("\r\n", pos);
    if (eol == std::string_view::npos) return std::nullopt;
    const std::string_view line = out.substr(pos, eol - pos);
    if (line.ends_with('}')) {
      const std::size_t open = line.rfind('{');
      std::size_t n = 0;
      bool number = open != std::string_view::npos && open + 1 < line.size() - 1;
      for (std::size_t k = open + 1; number && k + 1 < line.size(); ++k) {
        if (line[k] < '0' || line[k] > '9')
          number = false;
        else
          n = n * 10 + static_cast<std::size_t>(line[k] - '0');
        if (n > out.size()) return std::nullopt;
      }
      if (number) {
        pos = eol + 2 + n;
        if (pos > out.size()) return std::nullopt;
        continue;
      }
    }
    list.push_back(out.substr(start, eol - start));
    start = pos = eol + 2;
  }
  return list;
}

class Host {
 public:
  explicit Host(const fuzz::FuzzInput& in)
      : in_(in), config_(make_config(in)), session_(config_, bench_.store, bench_.users) {
    resume_at_action_ = in.bit(0, 5);
    tls_mode_ = (in.option(0) >> 6) & 3;
  }

  void run() {
    fuzz::drive(*this, session_, in_);
    FUZZ_CHECK(session_.wants_close(), "session open after peer_closed()");
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
        bench_.store.deliver("bob", "Subject: new\r\n\r\nnew mail\r\n", 1700001000);
        session_.mailbox_changed();
        after_call();
        break;
      case 6: {
        const auto snap = bench_.store.snapshot("bob", "INBOX");
        if (!snap.messages.empty()) {
          const store::Uid uid = snap.messages.front().uid;
          bench_.store.store_flags("bob", "INBOX", {uid}, store::FlagOp::kAdd,
                                   store::Flags{}.set(store::SystemFlag::kDeleted));
          bench_.store.expunge("bob", "INBOX", std::vector<store::Uid>{uid});
        }
        session_.mailbox_changed();
        after_call();
        break;
      }
      default:
        break;
    }
  }

  void handshake(bool ok) {
    fuzz::finish_tls(session_, ok);
    after_call();
  }

  void after_call() {
    bool auth_failed = false;
    std::size_t responses = 0;
    while (auto e = session_.next_event()) {
      if (std::holds_alternative<ev::AuthFailed>(*e)) auth_failed = true;
      if (auto* c = std::get_if<ev::CommandReceived>(&*e)) on_command(*c);
      if (auto* r = std::get_if<ev::ResponseSent>(&*e)) {
        ++responses;
        on_response(r->text);
      }
      if (std::holds_alternative<ev::Authenticated>(*e))
        FUZZ_CHECK(session_.tls_active() || config_.allow_plaintext_login,
                   "login without TLS although plaintext login is off");
    }
    const std::string out = session_.take_output();
    if (!out.empty()) {
      FUZZ_CHECK(!closed_and_drained_, "output after logout: " + excerpt(out));
      const auto split = split_responses(out);
      FUZZ_CHECK(split.has_value(), "output ends inside a response: " + excerpt(out, 400));
      FUZZ_CHECK(split->size() == responses, "output holds " + std::to_string(split->size()) +
                                                 " responses, events say " + std::to_string(responses) + ": " +
                                                 excerpt(out, 400));
      for (std::string_view r : *split) {
        const bool tagged = !r.empty() && r.front() != '*' && r.front() != '+' && r.find(' ') != 0 &&
                            r.find(' ') != std::string_view::npos;
        FUZZ_CHECK(r.starts_with("* ") || r.starts_with("+") || tagged, "malformed response: " + excerpt(r));
      }
    }
    if (session_.wants_close()) closed_and_drained_ = true;
    if (auth_failed && !resume_at_action_) {
      session_.resume();
      after_call();
      return;
    }
    if (session_.tls_requested() && tls_mode_ != 2) handshake(tls_mode_ != 1);
  }

  void on_command(const ev::CommandReceived& c) {
    if (c.name == "SELECT" || c.name == "EXAMINE" || c.name == "CLOSE" || c.name == "UNSELECT" || c.name == "LOGOUT")
      exists_.reset();  // a new (or no) mailbox: its EXISTS will come
  }

  // "* <n> WORD ..." responses keep the message numbering consistent.
  void on_response(std::string_view text) {
    if (!text.starts_with("* ")) return;
    const std::string_view rest = text.substr(2);
    std::size_t k = 0;
    std::uint64_t n = 0;
    while (k < rest.size() && rest[k] >= '0' && rest[k] <= '9' && k < 12) n = n * 10 + (rest[k++] - '0');
    if (k == 0 || k >= rest.size() || rest[k] != ' ') return;
    const std::string_view word = rest.substr(k + 1, rest.find(' ', k + 1) - (k + 1));
    const std::string num = std::to_string(n);
    if (word == "EXISTS") {
      if (exists_) FUZZ_CHECK(n >= *exists_, "EXISTS shrank from " + std::to_string(*exists_) + " to " + num);
      exists_ = n;
    } else if (word == "EXPUNGE") {
      FUZZ_CHECK(exists_.has_value(), "EXPUNGE with no mailbox selected");
      FUZZ_CHECK(n >= 1 && n <= *exists_, "EXPUNGE " + num + " of " + std::to_string(*exists_) + " messages");
      --*exists_;
    } else if (word == "FETCH") {
      if (exists_)
        FUZZ_CHECK(n >= 1 && n <= *exists_, "FETCH " + num + " of " + std::to_string(*exists_) + " messages");
    } else if (word == "RECENT") {
      if (exists_) FUZZ_CHECK(n <= *exists_, "RECENT " + num + " above EXISTS " + std::to_string(*exists_));
    }
  }

  const fuzz::FuzzInput& in_;
  Bench bench_;
  ServerConfig config_;
  ServerSession session_;
  bool resume_at_action_ = false;
  unsigned tls_mode_ = 0;
  bool closed_and_drained_ = false;
  std::optional<std::uint64_t> exists_;  // message count of the selected mailbox, as told to the client
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const mailsim::fuzz::FuzzInput in(data, size, 1);
  Host host(in);
  host.run();
  return 0;
}
