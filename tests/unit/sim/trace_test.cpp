// Tests for sim/trace: typed events, JSON Lines round trip, stable names.
#include "sim/trace/jsonl.h"

#include <catch2/catch.hpp>

#include <sstream>

using namespace mailsim::sim;

TEST_CASE("every event kind survives a JSON Lines round trip", "[trace]") {
  Engine engine;
  Trace trace(&engine);
  PacketPayload packet;
  packet.from = "a";
  packet.to = "b";
  packet.src_addr = "10.0.0.1";
  packet.src_port = 49152;
  packet.dst_addr = "10.0.0.2";
  packet.dst_port = 25;
  packet.tcp_seq = 4000000000u;
  packet.tcp_ack = 7;
  packet.flags = TcpFlags{TcpFlags::kPsh | TcpFlags::kAck};
  packet.data = Bytes{std::string("\x16\x03\x01\x00\xff\x80 binary", 12)};  // not UTF-8: base64
  packet.path = {"a", "r", "b"};
  packet.arrive = 1234;
  trace.record(EventKind::kPacket, "a", 3, packet);
  engine.schedule_in(5 * kSecond, [&] {
    trace.record(EventKind::kCommand, "mx", 3, CommandPayload{"smtp", "EHLO", "EHLO alpha.example", "server"});
  });
  engine.run();
  trace.record(EventKind::kReply, "mx", 3, ReplyPayload{"smtp", 250, "2.0.0", "mx.beta.example\nPIPELINING", "server"});
  trace.record(EventKind::kData, "a", 3, DataPayload{"out", "smtp", Bytes{"Subject: 昼ごはん?\r\n"}, true});
  trace.record(EventKind::kDnsAnswer, "a", 0,
               DnsPayload{"beta.example", "MX", "ns", false, "NOERROR", {{"beta.example", "MX", 300, 10, "mx"}}, 77});
  trace.record(EventKind::kRetry, "a", 0, QueuePayload{"Q1", "deferred", "alice@a", {"bob@b"}, "421 busy", 2, 600 * kSecond});
  trace.record(EventKind::kBounce, "a", 0, MessagePayload{"Q1", "<m@a>", "alice@a", "x@b", "Hi", 1, "5.1.1", "550 no such user"});
  trace.record(EventKind::kHostDown, "b", 0, OutagePayload{"b", true, "timeline"});
  trace.record(EventKind::kNote, "", 0, NotePayload{"Bob's office closes.", "ボブの郵便局が閉まる。"});
  for (int k = 0; k < kEventKindCount; ++k) {
    const auto kind = static_cast<EventKind>(k);
    CHECK(kind_from_name(kind_name(kind)) == kind);
  }

  std::stringstream out;
  write_jsonl(trace, out);
  const std::string text = out.str();
  CHECK(std::count(text.begin(), text.end(), '\n') == static_cast<long>(trace.size()));
  // Stable field names: the view and scripts read these.
  const auto first = nlohmann::json::parse(text.substr(0, text.find('\n')));
  CHECK(first["kind"] == "packet");
  CHECK(first["t"] == 0);
  CHECK(first["conn"] == 3);
  CHECK(first["flags"] == nlohmann::json::array({"PSH", "ACK"}));
  CHECK(first["data"].contains("base64"));
  CHECK(first["seq"] == 0);  // the event's position in the trace
  CHECK(first["tcp_seq"] == 4000000000u);
  const auto second = nlohmann::json::parse(text.substr(text.find('\n') + 1, text.find('\n', text.find('\n') + 1) - text.find('\n') - 1));
  CHECK(second["t"] == 5 * kSecond);
  CHECK(second["verb"] == "EHLO");

  const auto events = read_jsonl(out);
  REQUIRE(events.size() == trace.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    CAPTURE(i);
    CHECK(events[i] == trace[i]);
  }
}

TEST_CASE("a payload that does not fit its kind is refused", "[trace]") {
  Trace trace;
  CHECK_THROWS_AS(trace.append(TraceEvent{0, 0, EventKind::kPacket, "a", 0, NotePayload{"x", ""}}), std::invalid_argument);
  std::stringstream bad("{\"seq\":0,\"t\":0,\"kind\":\"teleport\"}\n");
  CHECK_THROWS_WITH(read_jsonl(bad), Catch::Contains("line 1") && Catch::Contains("teleport"));
}

TEST_CASE("listeners see each event as it is appended", "[trace]") {
  Trace trace;
  std::vector<std::string> seen;
  trace.subscribe([&](const TraceEvent& e) { seen.push_back(std::string(kind_name(e.kind))); });
  trace.record(EventKind::kHostUp, "b", 0, OutagePayload{"b", false, ""});
  trace.record(EventKind::kLinkDown, "", 0, OutagePayload{"a<->b", false, ""});
  CHECK(seen == std::vector<std::string>{"host_up", "link_down"});
  CHECK(trace.of_kind(EventKind::kLinkDown).size() == 1);
}
