// The one-connection ceiling of tests/bench/smtp_bench.sh, measured: the
// least an SMTP server can do and still keep the promise of its 250 (RFC 5321
// §6.1: once it says 250 it must not lose the message). One connection at a
// time, blocking recv/send, no checks of any kind; each message's bytes go
// into a preallocated file with one pwrite() and one fdatasync() before the
// 250, as mailsim's journal does (real/mta/file_spool.h). Nothing is parsed,
// queued, delivered or logged.
//
// smtp_bench.sh runs it beside smtp-sink (which stores nothing) and mailsim
// serve: smtp-sink -> this is what the disk flush costs on this machine;
// this -> mailsim is what mailsim's own work costs. Not part of ctest, not a
// server to use: it accepts anything.
//
// With MAILDIR it also hands each message, after its 250, to mailsim's own
// MaildirDrop with serve's settings (batches of up to 256, a 200 ms linger),
// which stores it into MAILDIR/new as serve's MTA does: the ceiling for a
// server that must also deliver into a Maildir on the same disk.
//
//   durable_responder PORT DIR [MAILDIR]
//       listens on 127.0.0.1:PORT (0: any free port, printed), writes
//       DIR/responder-spool (and MAILDIR/tmp, new)
#include "real/net/maildir_drop.h"
#include "real/net/mta_host.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace {

constexpr off_t kSpoolSize = off_t{64} << 20;  // written round and round

bool send_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool starts_with_nocase(std::string_view line, std::string_view verb) {
  if (line.size() < verb.size()) return false;
  for (std::size_t i = 0; i < verb.size(); ++i)
    if ((line[i] | 0x20) != (verb[i] | 0x20)) return false;
  return true;
}

// One connection: returns when the client quits or goes away.
void serve(int conn, int spool, off_t& offset, mailsim::net::MaildirDrop* drop,
           const std::filesystem::path& maildir) {
  if (!send_all(conn, "220 durable-responder ESMTP\r\n")) return;
  std::string in;           // bytes received and not yet answered
  std::size_t scanned = 0;  // lines before this offset of `in` are handled
  bool in_data = false;
  std::size_t data_start = 0;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::recv(conn, buf, sizeof buf, 0);
    if (n <= 0) return;
    in.append(buf, static_cast<std::size_t>(n));
    std::string out;
    bool quit = false;
    for (;;) {
      const std::size_t eol = in.find("\r\n", scanned);
      if (eol == std::string::npos) break;
      const std::string_view line(in.data() + scanned, eol - scanned);
      const std::size_t next = eol + 2;
      if (in_data) {
        if (line == ".") {
          const std::string_view message(in.data() + data_start, scanned - data_start);
          if (offset + static_cast<off_t>(message.size()) > kSpoolSize) offset = 0;
          if (::pwrite(spool, message.data(), message.size(), offset) != static_cast<ssize_t>(message.size()) ||
              ::fdatasync(spool) != 0) {
            out += "451 4.3.0 write error\r\n";
          } else {
            out += "250 2.0.0 Ok: queued\r\n";
            if (drop)
              drop->deliver({mailsim::net::MaildirCopy{maildir, std::string(message), {}}},
                            static_cast<std::int64_t>(std::time(nullptr)), {});
          }
          offset += static_cast<off_t>(message.size());
          in_data = false;
        }
      } else if (starts_with_nocase(line, "EHLO")) {
        out += "250-durable-responder\r\n250-PIPELINING\r\n250 8BITMIME\r\n";
      } else if (starts_with_nocase(line, "DATA")) {
        out += "354 End data with <CR><LF>.<CR><LF>\r\n";
        in_data = true;
        data_start = next;
      } else if (starts_with_nocase(line, "QUIT")) {
        out += "221 2.0.0 Bye\r\n";
        quit = true;
      } else {
        out += "250 2.0.0 Ok\r\n";
      }
      scanned = next;
      if (quit) break;
    }
    // Keep only what is still needed: the message being received, or the
    // start of an unfinished line.
    const std::size_t keep_from = in_data ? data_start : scanned;
    in.erase(0, keep_from);
    scanned -= keep_from;
    if (in_data) data_start = 0;
    if (!out.empty() && !send_all(conn, out)) return;
    if (quit) return;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    std::fprintf(stderr, "usage: %s PORT DIR [MAILDIR]\n", argv[0]);
    return 2;
  }
  std::filesystem::path maildir;
  std::unique_ptr<mailsim::net::MaildirDrop> drop;
  if (argc == 4) {
    maildir = argv[3];
    for (const char* sub : {"tmp", "new", "cur"}) std::filesystem::create_directories(maildir / sub);
    const mailsim::net::MaildirMailboxesOptions serve_settings;  // what serve's MTA delivers with
    drop = std::make_unique<mailsim::net::MaildirDrop>("durable-responder", serve_settings.fsync_threads, 256,
                                                       serve_settings.linger);
  }
  const std::string path = std::string(argv[2]) + "/responder-spool";
  const int spool = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (spool < 0) {
    std::perror(path.c_str());
    return 1;
  }
  // Zero-filled and flushed first, as mailsim's journal segments are: a later
  // fdatasync has no block allocation to commit.
  const std::string zeros(1 << 20, '\0');
  for (off_t at = 0; at < kSpoolSize; at += static_cast<off_t>(zeros.size()))
    if (::pwrite(spool, zeros.data(), zeros.size(), at) != static_cast<ssize_t>(zeros.size())) {
      std::perror(path.c_str());
      return 1;
    }
  ::fsync(spool);

  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(std::atoi(argv[1])));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(listener, 64) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    std::perror("127.0.0.1");
    return 1;
  }
  std::printf("listening on 127.0.0.1:%u\n", ntohs(address.sin_port));
  std::fflush(stdout);
  off_t offset = 0;
  for (;;) {
    const int conn = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) continue;
    ::setsockopt(conn, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    serve(conn, spool, offset, drop.get(), maildir);
    ::close(conn);
  }
}
