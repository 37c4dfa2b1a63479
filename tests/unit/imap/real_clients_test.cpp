// Real IMAP clients (Python's imaplib, curl) against the server session,
// hosted here on a plain blocking socket on 127.0.0.1 (a free port), one
// connection at a time. real/net hosts it for `mailsim serve`; this test
// only checks that real clients understand the protocol core.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdio>
#include <thread>

#include "server_harness.h"

using namespace mailsim;
using namespace mailsim::imap;

namespace {

class LoopbackHost {
 public:
  explicit LoopbackHost(test::ServerHarness& h) : h_(h) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;  // a free port
    REQUIRE(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(listen_fd_, 4) == 0);
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~LoopbackHost() { ::close(listen_fd_); }
  int port() const { return port_; }

  // Serves one connection with a fresh session until either side closes.
  void serve_one() {
    // Not a timing assumption: only a guard so a client that never comes
    // (not installed) fails the test instead of hanging it.
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 120000) != 1) return;
    int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) return;
    ServerSession s(test::plain_config(), h_.store, h_.users);
    s.start();
    auto flush = [&] {
      while (auto e = s.next_event())
        if (std::holds_alternative<server_events::AuthFailed>(*e)) s.resume();
      std::string out = s.take_output();
      for (std::size_t off = 0; off < out.size();) {
        ssize_t n = ::send(fd, out.data() + off, out.size() - off, MSG_NOSIGNAL);
        if (n <= 0) return;
        off += static_cast<std::size_t>(n);
      }
    };
    flush();
    char buf[65536];
    while (!s.wants_close()) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) {
        s.peer_closed();
        break;
      }
      s.receive(std::string_view(buf, static_cast<std::size_t>(n)));
      flush();
    }
    ::close(fd);
  }

 private:
  test::ServerHarness& h_;
  int listen_fd_ = -1;
  int port_ = 0;
};

// Runs a shell command, returning its exit status and standard output.
std::pair<int, std::string> run(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p);
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  int status = ::pclose(p);
  return {WEXITSTATUS(status), out};
}

}  // namespace

TEST_CASE("Python imaplib reads, flags, appends and searches") {
  test::ServerHarness h;
  h.deliver("From: Alice <alice@alpha.example>\r\nSubject: Lunch?\r\n\r\nFriday at noon?\r\n");
  LoopbackHost host(h);
  std::thread server([&] { host.serve_one(); });
  const std::string script = R"PY(
import imaplib, sys
m = imaplib.IMAP4('127.0.0.1', PORT)
assert 'IDLE' in m.capabilities, m.capabilities
m.login('bob', 'secret')
typ, data = m.select('INBOX')
assert typ == 'OK' and data == [b'1'], data
typ, data = m.uid('SEARCH', None, 'UNSEEN')
assert data == [b'1'], data
typ, data = m.uid('FETCH', '1', '(RFC822 FLAGS)')
assert b'Friday at noon?' in data[0][1], data
typ, data = m.fetch('1', '(FLAGS)')
assert b'\\Seen' in data[0], data
typ, data = m.append('INBOX', '(\\Flagged)', None, b'Subject: from imaplib\r\n\r\nhi\r\n')
assert typ == 'OK' and b'APPENDUID' in data[0], data
typ, data = m.search(None, 'FLAGGED')
assert data == [b'2'], data
typ, data = m.fetch('2', '(BODY.PEEK[HEADER.FIELDS (SUBJECT)])')
assert data[0][1] == b'Subject: from imaplib\r\n\r\n', data
m.create('Archive')
typ, data = m.list()
assert any(b'"Archive"' in d for d in data), data
m.logout()
print('imaplib ok')
)PY";
  std::string cmd = "/usr/bin/python3 -c \"$(cat <<'EOF'\n" + script + "\nEOF\n)\" 2>&1";
  cmd.replace(cmd.find("PORT"), 4, std::to_string(host.port()));
  auto [status, out] = run(cmd);
  server.join();
  INFO(out);
  CHECK(status == 0);
  CHECK(out.find("imaplib ok") != std::string::npos);
  CHECK(h.store.status("bob", "INBOX").messages == 2);
}

TEST_CASE("curl fetches a message by UID") {
  test::ServerHarness h;
  h.deliver("Subject: for curl\r\n\r\nhello from the IMAP server\r\n");
  LoopbackHost host(h);
  std::thread server([&] { host.serve_one(); });
  auto [status, out] =
      run("curl -s --max-time 60 -u bob:secret 'imap://127.0.0.1:" + std::to_string(host.port()) +
          "/INBOX;UID=1' 2>&1");
  server.join();
  INFO(out);
  CHECK(status == 0);
  CHECK(out.find("hello from the IMAP server") != std::string::npos);
}
