// Tests for sim/trace/pcap.h: the pcap of a simulated conversation decodes in
// tshark as SMTP (25), POP3 (110), IMAP (143), TLS after STARTTLS, with good
// IPv4 and TCP checksums.
#include "sim/net/network.h"
#include "sim/trace/pcap.h"

#include <catch2/catch.hpp>
#include <openssl/ssl.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <unistd.h>

using namespace mailsim::sim;

namespace {

// A scripted line dialogue: the server answers each client line by its first
// word; the client sends its next line after each complete reply.
struct Dialogue {
  std::string greeting;
  std::vector<std::pair<std::string, std::string>> replies;  // client line prefix -> server reply
  std::vector<std::string> client_lines;
  std::string after_last;  // raw bytes the client sends after the last reply (a TLS ClientHello)
};

void play(Network& net, HostId client, HostId server, std::uint16_t port, const Dialogue& d) {
  net.listen(server, port, [&d](Socket sock) {
    sock.send(d.greeting);
    auto buffer = std::make_shared<std::string>();
    sock.on_data([sock, buffer, &d](std::string_view bytes) mutable {
      *buffer += bytes;
      std::size_t eol;
      while ((eol = buffer->find("\r\n")) != std::string::npos) {
        const std::string line = buffer->substr(0, eol);
        buffer->erase(0, eol + 2);
        for (const auto& [prefix, reply] : d.replies)
          if (line.starts_with(prefix)) {
            sock.send(reply);
            break;
          }
      }
    });
    sock.on_peer_closed([sock]() mutable { sock.close(); });
  });
  net.connect(client, server, port, [&d](const ConnectResult& r) {
    REQUIRE(r.ok());
    auto next = std::make_shared<std::size_t>(0);
    Socket sock = r.socket;
    sock.on_data([sock, next, &d](std::string_view bytes) mutable {
      // One reply per chunk here (the server sends each in one piece).
      if (*next < d.client_lines.size()) {
        sock.send(d.client_lines[(*next)++]);
      } else if (*next == d.client_lines.size()) {
        ++*next;
        if (!d.after_last.empty()) sock.send(d.after_last);
        sock.close();
      }
      (void)bytes;
    });
  });
}

// A real TLS ClientHello from OpenSSL, as a client would send after STARTTLS.
std::string client_hello() {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = SSL_new(ctx);
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl, in, out);
  SSL_set_tlsext_host_name(ssl, "mx.beta.example");
  SSL_connect(ssl);  // wants to read: the hello is in `out`
  char* data = nullptr;
  const long n = BIO_get_mem_data(out, &data);
  std::string hello(data, static_cast<std::size_t>(n));
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  return hello;
}

std::string run_command(const std::string& command) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  const int status = pclose(pipe);
  CHECK(status == 0);
  return out;
}

int count_lines(const std::string& text, const std::string& needle) {
  int n = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto end = text.find('\n', start);
    const std::string line = text.substr(start, end - start);
    if (line.find(needle) != std::string::npos) ++n;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return n;
}

}  // namespace

TEST_CASE("a pcap of SMTP, STARTTLS, POP3 and IMAP decodes in tshark", "[pcap][tshark]") {
  REQUIRE(std::system("command -v tshark >/dev/null 2>&1") == 0);
  Engine engine(3);
  Trace trace(&engine);
  Network net(engine, trace);
  const auto alice = net.add_host("alice-pc");
  const auto mx = net.add_host("mx.beta.example");
  net.add_link(alice, mx, 5 * kMillisecond, 10'000'000);

  const Dialogue smtp{"220 mx.beta.example ESMTP\r\n",
                      {{"EHLO", "250-mx.beta.example\r\n250 PIPELINING\r\n"},
                       {"MAIL", "250 2.1.0 Ok\r\n"},
                       {"RCPT", "250 2.1.5 Ok\r\n"},
                       {"DATA", "354 End data with <CR><LF>.<CR><LF>\r\n"},
                       {".", "250 2.0.0 Ok: queued\r\n"},
                       {"QUIT", "221 2.0.0 Bye\r\n"}},
                      {"EHLO alpha.example\r\n", "MAIL FROM:<alice@alpha.example>\r\n",
                       "RCPT TO:<bob@beta.example>\r\n", "DATA\r\n",
                       "Subject: Lunch?\r\n\r\nNoon at the usual place.\r\n.\r\n", "QUIT\r\n"},
                      {}};
  const Dialogue starttls{"220 mx.beta.example ESMTP\r\n",
                          {{"EHLO", "250-mx.beta.example\r\n250 STARTTLS\r\n"},
                           {"STARTTLS", "220 2.0.0 Ready to start TLS\r\n"}},
                          {"EHLO alpha.example\r\n", "STARTTLS\r\n"},
                          client_hello()};
  const Dialogue pop3{"+OK POP3 ready\r\n",
                      {{"USER", "+OK\r\n"}, {"PASS", "+OK logged in\r\n"}, {"STAT", "+OK 1 120\r\n"}, {"QUIT", "+OK bye\r\n"}},
                      {"USER bob\r\n", "PASS secret\r\n", "STAT\r\n", "QUIT\r\n"},
                      {}};
  const Dialogue imap{"* OK IMAP4rev1 ready\r\n",
                      {{"a1", "a1 OK LOGIN completed\r\n"}, {"a2", "* 1 EXISTS\r\na2 OK SELECT completed\r\n"},
                       {"a3", "* BYE\r\na3 OK LOGOUT completed\r\n"}},
                      {"a1 LOGIN bob secret\r\n", "a2 SELECT INBOX\r\n", "a3 LOGOUT\r\n"},
                      {}};
  play(net, alice, mx, 25, smtp);
  engine.run();
  play(net, alice, mx, 587, starttls);
  engine.run();
  play(net, alice, mx, 110, pop3);
  engine.run();
  play(net, alice, mx, 143, imap);
  engine.run();

  const auto path = std::filesystem::temp_directory_path() / ("mailsim-pcap-test-" + std::to_string(getpid()) + ".pcap");
  std::size_t frames = 0;
  {
    std::ofstream out(path, std::ios::binary);
    frames = write_pcap(trace, out);
  }
  REQUIRE(frames == trace.of_kind(EventKind::kPacket).size());
  const std::string tshark = "tshark -r " + path.string() +
                             " -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE"
                             " -o tcp.analyze_sequence_numbers:TRUE 2>/dev/null";

  // Every frame is there and none has a bad checksum or a TCP complaint.
  const std::string summary = run_command(tshark + " -T fields -e frame.number -e _ws.col.Protocol -e _ws.col.Info");
  CHECK(count_lines(summary, "\t") == static_cast<int>(frames));
  CHECK(run_command(tshark + " -Y 'ip.checksum.status==0 || tcp.checksum.status==0' -T fields -e frame.number").empty());
  CHECK(run_command(tshark + " -Y 'tcp.analysis.flags && !tcp.analysis.window_update' -T fields -e frame.number").empty());

  // SMTP commands as the dissector sees them.
  const std::string commands = run_command(tshark + " -Y smtp.req -T fields -e smtp.req.command");
  for (const char* verb : {"EHLO", "MAIL", "RCPT", "DATA", "QUIT"}) {
    CAPTURE(verb);
    CHECK(count_lines(commands, verb) >= 1);
  }
  // (Wireshark names only the first four letters as the command: "STAR".)
  CHECK(count_lines(run_command(tshark + " -Y smtp.req -T fields -e smtp.command_line"), "STARTTLS") == 1);
  const std::string codes = run_command(tshark + " -Y smtp.response -T fields -e smtp.response.code");
  CHECK(count_lines(codes, "354") == 1);
  CHECK(count_lines(codes, "221") == 1);
  CHECK(count_lines(run_command(tshark + " -Y imf -T fields -e imf.subject"), "Lunch?") == 1);

  // TLS after STARTTLS on 587: the ClientHello with its SNI.
  const std::string hello = run_command(tshark + " -Y 'tls.handshake.type==1' -T fields -e tcp.dstport -e tls.handshake.extensions_server_name");
  CHECK(count_lines(hello, "587\tmx.beta.example") == 1);

  // POP3 and IMAP.
  const std::string pop = run_command(tshark + " -Y pop.request -T fields -e pop.request.command");
  for (const char* verb : {"USER", "PASS", "STAT", "QUIT"}) CHECK(count_lines(pop, verb) == 1);
  const std::string imap_lines = run_command(tshark + " -Y imap.request -T fields -e imap.request.command");
  CHECK(count_lines(imap_lines, "LOGIN") == 1);
  CHECK(count_lines(imap_lines, "SELECT") == 1);
  if (!getenv("MAILSIM_KEEP_PCAP")) std::filesystem::remove(path);
}

TEST_CASE("pcap frames carry correct header fields", "[pcap]") {
  PacketPayload p;
  p.src_addr = "10.0.0.1";
  p.dst_addr = "10.0.0.2";
  p.src_port = 49152;
  p.dst_port = 25;
  p.tcp_seq = 0x01020304;
  p.tcp_ack = 0x0a0b0c0d;
  p.flags = TcpFlags{TcpFlags::kAck | TcpFlags::kPsh};
  p.data = Bytes{"QUIT\r\n"};
  const std::string f = pcap_frame(p, 7);
  REQUIRE(f.size() == 14 + 20 + 20 + 6);
  CHECK(f.substr(12, 2) == std::string("\x08\x00", 2));           // IPv4
  CHECK(static_cast<unsigned char>(f[14]) == 0x45);                 // version 4, 20-byte header
  CHECK(static_cast<unsigned char>(f[14 + 9]) == 6);                // TCP
  CHECK(f.substr(14 + 12, 4) == std::string("\x0a\x00\x00\x01", 4));
  CHECK(f.substr(34 + 4, 4) == std::string("\x01\x02\x03\x04", 4)); // sequence number
  CHECK(static_cast<unsigned char>(f[34 + 13]) == 0x18);            // PSH|ACK
  CHECK(f.substr(54) == "QUIT\r\n");
  // The IPv4 header checksums to zero when summed with its checksum field.
  std::uint32_t sum = 0;
  for (int i = 0; i < 20; i += 2) sum += (static_cast<unsigned char>(f[14 + i]) << 8) | static_cast<unsigned char>(f[14 + i + 1]);
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  CHECK(sum == 0xFFFF);
}
