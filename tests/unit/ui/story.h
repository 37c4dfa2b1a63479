// A trace written the way the simulator writes one, for testing the view
// model without running the simulator: a letter from Alice to Bob while
// Bob's post office is closed, retried, delivered in the clear past an
// eavesdropper, and collected by POP3. Every line crosses its road as a
// packet with the route's latency, as sim/net does.
#pragma once

#include "sim/trace/event.h"
#include "ui/model/world.h"

#include <string>
#include <vector>

namespace mailsim::ui::testing {

using sim::EventKind;
using sim::Time;
using sim::kMillisecond;
using sim::kMinute;
using sim::kSecond;

class StoryBuilder {
 public:
  explicit StoryBuilder(World world) : world_(std::move(world)) {}

  std::vector<sim::TraceEvent> events;
  Time now = 0;

  void add(EventKind kind, std::string host, sim::ConnId conn, sim::Payload payload) {
    sim::TraceEvent e;
    e.seq = events.size();
    e.time = now;
    e.kind = kind;
    e.host = std::move(host);
    e.conn = conn;
    e.payload = std::move(payload);
    events.push_back(std::move(e));
  }

  Time latency(const std::string& a, const std::string& b) const {
    auto ia = world_.find(a), ib = world_.find(b);
    if (!ia || !ib) return kMillisecond;
    auto l = world_.link_between(*ia, *ib);
    return l ? world_.links[*l].latency : kMillisecond;
  }

  struct Conn {
    sim::ConnId id;
    std::string client, server;
    std::uint16_t port;
    std::string protocol;
    bool tls = false;
  };

  // A packet from `from` to `to`; advances `now` to its arrival.
  void packet(const Conn& c, const std::string& from, const std::string& to, std::string data, std::uint8_t flags) {
    sim::PacketPayload p;
    p.from = from;
    p.to = to;
    p.src_port = from == c.client ? 40000 : c.port;
    p.dst_port = from == c.client ? c.port : 40000;
    p.flags.bits = flags;
    p.data.value = std::move(data);
    p.path = {from, to};
    p.arrive = now + latency(from, to);
    const Time arrive = p.arrive;
    const std::string bytes = p.data.value;
    add(EventKind::kPacket, from, c.id, p);
    for (const auto& tap : taps_)
      if ((tap.a == from && tap.b == to) || (tap.a == to && tap.b == from)) {
        sim::CapturePayload cap;
        cap.link_a = tap.a;
        cap.link_b = tap.b;
        cap.from = from;
        cap.to = to;
        cap.data.value = bytes;
        cap.encrypted = c.tls;
        cap.packet_seq = events.size() - 1;
        add(EventKind::kCapture, tap.eavesdropper, 0, cap);
      }
    now = arrive;
  }

  Conn connect(const std::string& client, const std::string& server, std::uint16_t port, std::string protocol) {
    Conn c{next_conn_++, client, server, port, std::move(protocol)};
    add(EventKind::kConnect, client, c.id, sim::ConnPayload{server, "10.0.0.1", 40000, "10.0.0.2", port, ""});
    packet(c, client, server, "", sim::TcpFlags::kSyn);
    packet(c, server, client, "", sim::TcpFlags::kSyn | sim::TcpFlags::kAck);
    add(EventKind::kConnected, client, c.id, sim::ConnPayload{server, "10.0.0.1", 40000, "10.0.0.2", port, ""});
    add(EventKind::kAccept, server, c.id, sim::ConnPayload{client, "10.0.0.2", port, "10.0.0.1", 40000, ""});
    return c;
  }

  void refused(const std::string& client, const std::string& server, std::uint16_t port) {
    Conn c{next_conn_++, client, server, port, "smtp"};
    add(EventKind::kConnect, client, c.id, sim::ConnPayload{server, "10.0.0.1", 40000, "10.0.0.2", port, ""});
    packet(c, client, server, "", sim::TcpFlags::kSyn);
    packet(c, server, client, "", sim::TcpFlags::kRst | sim::TcpFlags::kAck);
    add(EventKind::kRefused, client, c.id,
        sim::ConnPayload{server, "10.0.0.1", 40000, "10.0.0.2", port, "connection refused"});
  }

  // The client says a line (a command) or raw content.
  void say(Conn& c, const std::string& line, bool command = true) {
    const std::string wire = line + "\r\n";
    add(EventKind::kData, c.client, c.id, sim::DataPayload{"out", c.protocol, {wire}, c.tls});
    if (command) {
      const std::string verb = line.substr(0, line.find_first_of(" :"));
      add(EventKind::kCommand, c.client, c.id, sim::CommandPayload{c.protocol, verb, line, "client"});
    }
    packet(c, c.client, c.server, c.tls ? tls_record(wire) : wire, sim::TcpFlags::kPsh | sim::TcpFlags::kAck);
    add(EventKind::kData, c.server, c.id, sim::DataPayload{"in", c.protocol, {wire}, c.tls});
    if (command) {
      const std::string verb = line.substr(0, line.find_first_of(" :"));
      add(EventKind::kCommand, c.server, c.id, sim::CommandPayload{c.protocol, verb, line, "server"});
    }
  }

  void reply(Conn& c, int code, const std::string& text, const std::string& wire_text = {}) {
    const std::string wire = wire_text.empty() ? std::to_string(code) + " " + text + "\r\n" : wire_text;
    add(EventKind::kData, c.server, c.id, sim::DataPayload{"out", c.protocol, {wire}, c.tls});
    add(EventKind::kReply, c.server, c.id, sim::ReplyPayload{c.protocol, code, "", text, "server"});
    packet(c, c.server, c.client, c.tls ? tls_record(wire) : wire, sim::TcpFlags::kPsh | sim::TcpFlags::kAck);
    add(EventKind::kData, c.client, c.id, sim::DataPayload{"in", c.protocol, {wire}, c.tls});
    add(EventKind::kReply, c.client, c.id, sim::ReplyPayload{c.protocol, code, "", text, "client"});
  }

  void close(Conn& c) {
    add(EventKind::kClose, c.client, c.id, sim::ConnPayload{c.server, "", 0, "", c.port, "done"});
    add(EventKind::kClose, c.server, c.id, sim::ConnPayload{c.client, "", c.port, "", 0, "done"});
  }

  static std::string tls_record(const std::string& plain) {
    std::string r = std::string("\x17\x03\x03", 3);
    r.push_back(static_cast<char>((plain.size() + 22) >> 8));
    r.push_back(static_cast<char>((plain.size() + 22) & 0xff));
    for (std::size_t i = 0; i < plain.size() + 22; ++i) r.push_back(static_cast<char>((i * 73 + 11) & 0xff));
    return r;
  }

  void tap(std::string eavesdropper, std::string a, std::string b) { taps_.push_back({eavesdropper, a, b}); }

  // One SMTP letter over a connection: MAIL, RCPT, DATA, content.
  void smtp_letter(Conn& c, const std::string& from, const std::string& to, const std::string& content) {
    say(c, "MAIL FROM:<" + from + ">");
    reply(c, 250, "2.1.0 Ok");
    say(c, "RCPT TO:<" + to + ">");
    reply(c, 250, "2.1.5 Ok");
    say(c, "DATA");
    reply(c, 354, "End data with <CR><LF>.<CR><LF>");
    // The content goes out as one piece, then the final dot.
    std::string body = content;
    const std::string wire = body + ".\r\n";
    add(EventKind::kData, c.client, c.id, sim::DataPayload{"out", c.protocol, {wire}, c.tls});
    packet(c, c.client, c.server, c.tls ? tls_record(wire) : wire, sim::TcpFlags::kPsh | sim::TcpFlags::kAck);
    add(EventKind::kData, c.server, c.id, sim::DataPayload{"in", c.protocol, {wire}, c.tls});
    add(EventKind::kCommand, c.server, c.id, sim::CommandPayload{c.protocol, ".", ".", "server"});
  }

 private:
  struct Tap {
    std::string eavesdropper, a, b;
  };
  World world_;
  std::vector<Tap> taps_;
  sim::ConnId next_conn_ = 1;
};

// The map of the story.
inline World story_world() {
  World w;
  auto host = [&](const char* name, Place p) {
    WorldHost h;
    h.name = name;
    h.place = p;
    w.hosts.push_back(h);
  };
  host("alice-pc", Place::kSenderComputer);
  host("mail.alpha.example", Place::kOutgoingOffice);
  host("mx.beta.example", Place::kRecipientOffice);
  host("bob-pc", Place::kRecipientComputer);
  host("dns", Place::kDnsDirectory);
  host("eve", Place::kEavesdropper);
  w.hosts[0].user = "alice@alpha.example";
  w.hosts[3].user = "bob@beta.example";
  w.hosts[3].fetch_protocol = "pop3";
  w.links.push_back({0, 1, 5 * kMillisecond, std::nullopt});
  w.links.push_back({1, 2, 40 * kMillisecond, 5});
  w.links.push_back({2, 3, 5 * kMillisecond, std::nullopt});
  layout_world(w);
  return w;
}

inline constexpr Time kDownAt = 0;
inline constexpr Time kSendAt = 1 * kSecond;
inline constexpr Time kUpAt = 20 * kMinute;
inline constexpr Time kFetchAt = 40 * kMinute;
inline constexpr const char* kMessageId = "1.alice@alpha.example";

inline std::string story_content(const std::string& postmarks) {
  return postmarks +
         "From: Alice <alice@alpha.example>\r\n"
         "To: Bob <bob@beta.example>\r\n"
         "Subject: Lunch?\r\n"
         "Message-ID: <1.alice@alpha.example>\r\n"
         "\r\n"
         "Shall we have lunch on Friday?\r\n"
         "..and a line that starts with a dot.\r\n";
}

// The whole story, with the times above.
inline std::vector<sim::TraceEvent> retry_story() {
  StoryBuilder b(story_world());
  b.tap("eve", "mail.alpha.example", "mx.beta.example");
  b.now = kDownAt;
  b.add(EventKind::kHostDown, "", 0, sim::OutagePayload{"mx.beta.example", false, "maintenance"});
  b.now = kSendAt;
  b.add(EventKind::kNote, "alice-pc", 0, sim::NotePayload{"Alice posts a letter to Bob", "アリスがボブに手紙を出します"});
  // Submission with STARTTLS and AUTH.
  auto sub = b.connect("alice-pc", "mail.alpha.example", 587, "smtp");
  b.reply(sub, 220, "mail.alpha.example ESMTP");
  b.say(sub, "EHLO alice-pc");
  b.reply(sub, 250, "mail.alpha.example\nSTARTTLS\nAUTH PLAIN", "250-mail.alpha.example\r\n250-STARTTLS\r\n250 AUTH PLAIN\r\n");
  b.say(sub, "STARTTLS");
  b.reply(sub, 220, "2.0.0 Ready to start TLS");
  b.packet(sub, "alice-pc", "mail.alpha.example", std::string("\x16\x03\x01\x00\x05hello", 10), sim::TcpFlags::kPsh);
  b.packet(sub, "mail.alpha.example", "alice-pc", std::string("\x16\x03\x03\x00\x05hello", 10), sim::TcpFlags::kPsh);
  sub.tls = true;
  b.add(EventKind::kTls, "alice-pc", sub.id, sim::TlsPayload{"client", true, "TLSv1.3", "TLS_AES_256_GCM_SHA384", "", ""});
  b.say(sub, "EHLO alice-pc");
  b.reply(sub, 250, "mail.alpha.example\nAUTH PLAIN", "250-mail.alpha.example\r\n250 AUTH PLAIN\r\n");
  b.say(sub, "AUTH PLAIN AGFsaWNlAHNlY3JldA==");
  b.reply(sub, 235, "2.7.0 Authentication successful");
  b.add(EventKind::kAuth, "mail.alpha.example", sub.id, sim::AuthPayload{"smtp", "PLAIN", "alice", true, true});
  b.smtp_letter(sub, "alice@alpha.example", "bob@beta.example", story_content(""));
  b.reply(sub, 250, "2.0.0 Ok: queued as A1");
  const Time queued_at = b.now;
  b.add(EventKind::kQueue, "mail.alpha.example", 0,
        sim::QueuePayload{"A1", "queued", "alice@alpha.example", {"bob@beta.example"}, "", 0, 0});
  b.say(sub, "QUIT");
  b.reply(sub, 221, "2.0.0 Bye");
  b.close(sub);
  // DNS: where does beta.example's mail go?
  b.now = queued_at + kMillisecond;
  b.add(EventKind::kQueue, "mail.alpha.example", 0,
        sim::QueuePayload{"A1", "active", "alice@alpha.example", {"bob@beta.example"}, "", 1, 0});
  sim::DnsPayload q{"beta.example", "MX", "dns", false, "", {}, 7};
  b.add(EventKind::kDnsQuery, "mail.alpha.example", 0, q);
  b.now += 2 * kMillisecond;
  sim::DnsPayload a = q;
  a.rcode = "NOERROR";
  a.records = {{"beta.example", "MX", 300, 10, "mx.beta.example"}};
  b.add(EventKind::kDnsAnswer, "mail.alpha.example", 0, a);
  b.refused("mail.alpha.example", "mx.beta.example", 25);
  b.add(EventKind::kQueue, "mail.alpha.example", 0,
        sim::QueuePayload{"A1", "deferred", "alice@alpha.example", {"bob@beta.example"}, "connection refused", 1, 0});
  const Time first_retry = b.now + 5 * kMinute;
  b.add(EventKind::kRetry, "mail.alpha.example", 0,
        sim::QueuePayload{"A1", "deferred", "", {}, "", 1, first_retry});
  // Retry at 5 min: still closed; next in 10 min.
  b.now = first_retry;
  b.add(EventKind::kQueue, "mail.alpha.example", 0,
        sim::QueuePayload{"A1", "active", "alice@alpha.example", {"bob@beta.example"}, "", 2, 0});
  b.refused("mail.alpha.example", "mx.beta.example", 25);
  b.add(EventKind::kQueue, "mail.alpha.example", 0,
        sim::QueuePayload{"A1", "deferred", "alice@alpha.example", {"bob@beta.example"}, "connection refused", 2, 0});
  const Time second_retry = b.now + 10 * kMinute;
  b.add(EventKind::kRetry, "mail.alpha.example", 0, sim::QueuePayload{"A1", "deferred", "", {}, "", 2, second_retry});
  b.now = second_retry;  // ~15 min: still closed; next in 20 min
  b.add(EventKind::kQueue, "mail.alpha.example", 0,
        sim::QueuePayload{"A1", "active", "alice@alpha.example", {"bob@beta.example"}, "", 3, 0});
  b.refused("mail.alpha.example", "mx.beta.example", 25);
  b.add(EventKind::kQueue, "mail.alpha.example", 0,
        sim::QueuePayload{"A1", "deferred", "alice@alpha.example", {"bob@beta.example"}, "connection refused", 3, 0});
  const Time third_retry = b.now + 20 * kMinute;  // after the office reopened at kUpAt
  b.add(EventKind::kRetry, "mail.alpha.example", 0, sim::QueuePayload{"A1", "deferred", "", {}, "", 3, third_retry});
  b.now = kUpAt;
  b.add(EventKind::kHostUp, "", 0, sim::OutagePayload{"mx.beta.example", false, ""});
  b.now = third_retry;
  b.add(EventKind::kQueue, "mail.alpha.example", 0,
        sim::QueuePayload{"A1", "active", "alice@alpha.example", {"bob@beta.example"}, "", 4, 0});
  // Relay to the MX in the clear: postcards past the eavesdropper.
  auto mx = b.connect("mail.alpha.example", "mx.beta.example", 25, "smtp");
  b.reply(mx, 220, "mx.beta.example ESMTP");
  b.say(mx, "EHLO mail.alpha.example");
  b.reply(mx, 250, "mx.beta.example");
  b.smtp_letter(mx, "alice@alpha.example", "bob@beta.example",
                story_content("Received: from alice-pc (alice-pc [10.0.0.1])\r\n"
                              "\tby mail.alpha.example with ESMTPSA id A1; Mon, 1 Apr 2024 09:00:01 +0000\r\n"));
  b.reply(mx, 250, "2.0.0 Ok: queued as B7");
  b.add(EventKind::kQueue, "mail.alpha.example", 0,
        sim::QueuePayload{"A1", "sent", "alice@alpha.example", {"bob@beta.example"}, "250 2.0.0 Ok", 4, 0});
  b.add(EventKind::kDelivery, "mx.beta.example", 0,
        sim::MessagePayload{"B7", kMessageId, "alice@alpha.example", "bob@beta.example", "Lunch?", 2, "", ""});
  b.add(EventKind::kMailbox, "mx.beta.example", 0, sim::MailboxPayload{"bob@beta.example", "stored", kMessageId, "", 1});
  b.say(mx, "QUIT");
  b.reply(mx, 221, "2.0.0 Bye");
  b.close(mx);
  // Bob collects it by POP3 (USER/PASS in the clear: the eavesdropper is not on this road).
  b.now = kFetchAt;
  auto pop = b.connect("bob-pc", "mx.beta.example", 110, "pop3");
  b.reply(pop, 1, "+OK POP3 ready", "+OK POP3 ready\r\n");
  b.say(pop, "USER bob");
  b.reply(pop, 1, "+OK", "+OK\r\n");
  b.say(pop, "PASS secret");
  b.reply(pop, 1, "+OK logged in", "+OK logged in\r\n");
  b.say(pop, "RETR 1");
  const std::string delivered = story_content(
      "Received: from mail.alpha.example (mail.alpha.example [10.0.0.2])\r\n"
      "\tby mx.beta.example with ESMTP id B7; Mon, 1 Apr 2024 09:20:01 +0000\r\n"
      "Received: from alice-pc (alice-pc [10.0.0.1])\r\n"
      "\tby mail.alpha.example with ESMTPSA id A1; Mon, 1 Apr 2024 09:00:01 +0000\r\n");
  std::string stuffed;  // dot-stuffing on the wire
  for (std::size_t pos = 0; pos < delivered.size();) {
    const auto eol = delivered.find("\r\n", pos);
    std::string line = delivered.substr(pos, eol - pos);
    if (!line.empty() && line[0] == '.') line = "." + line;
    stuffed += line + "\r\n";
    pos = eol + 2;
  }
  b.reply(pop, 1, "+OK message follows", "+OK message follows\r\n" + stuffed + ".\r\n");
  b.add(EventKind::kMailbox, "mx.beta.example", 0, sim::MailboxPayload{"bob@beta.example", "fetched", kMessageId, "bob-pc", 1});
  b.say(pop, "DELE 1");
  b.reply(pop, 1, "+OK deleted", "+OK deleted\r\n");
  b.say(pop, "QUIT");
  b.reply(pop, 1, "+OK bye", "+OK bye\r\n");
  b.add(EventKind::kMailbox, "mx.beta.example", 0, sim::MailboxPayload{"bob@beta.example", "deleted", kMessageId, "", 0});
  b.close(pop);
  return b.events;
}

}  // namespace mailsim::ui::testing
