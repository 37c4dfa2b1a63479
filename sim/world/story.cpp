// Story lines for `mailsim run` (see story.h).
#include "sim/world/story.h"

#include "sim/engine/duration.h"

namespace mailsim::sim {
namespace {

std::string printable(std::string_view bytes, std::size_t limit = 100) {
  std::string out;
  for (char c : bytes) {
    if (out.size() >= limit) {
      out += "...";
      break;
    }
    if (c == '\r') continue;
    if (c == '\n') {
      out += "\\n";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += '.';
    } else {
      out += c;
    }
  }
  return out;
}

std::string describe(const TraceEvent& e, bool verbose) {
  struct V {
    const TraceEvent& e;
    bool verbose;
    std::string remote(const ConnPayload& c) const {
      return (c.peer.empty() ? c.remote_addr : c.peer + " (" + c.remote_addr + ")") + ":" + std::to_string(c.remote_port);
    }
    std::string operator()(std::monostate) const { return {}; }
    std::string operator()(const ConnPayload& c) const {
      switch (e.kind) {
        case EventKind::kConnect: return "connect to " + remote(c);
        case EventKind::kConnected: return "connected to " + remote(c);
        case EventKind::kAccept: return "accept from " + remote(c);
        case EventKind::kRefused: return "refused: " + c.reason;
        case EventKind::kConnectTimeout: return "connect timed out: " + c.reason;
        case EventKind::kClose: return "close the connection to " + remote(c);
        case EventKind::kReset: return "connection to " + remote(c) + " reset: " + c.reason;
        default: return {};
      }
    }
    std::string operator()(const PacketPayload& p) const {
      if (!verbose) return {};
      return "packet " + p.src_addr + ":" + std::to_string(p.src_port) + " > " + p.dst_addr + ":" +
             std::to_string(p.dst_port) + " [" + p.flags.str() + "] " + std::to_string(p.data.value.size()) + " bytes";
    }
    std::string operator()(const DataPayload& d) const {
      if (!verbose) return {};
      return std::string(d.direction == "out" ? "says " : "hears ") + printable(d.data.value);
    }
    std::string operator()(const CommandPayload& c) const {
      return c.side == "client" ? "C: " + c.line : std::string{};
    }
    // A reply reads as it went on the wire: "S: 250 2.1.5 Ok", "S: -ERR ...".
    std::string operator()(const ReplyPayload& r) const {
      if (r.side != "server") return {};
      std::string head;
      if (r.protocol == "smtp" && r.code > 0) {
        head = std::to_string(r.code) + " ";
        if (!r.status.empty()) head += r.status + " ";
      } else if (r.protocol == "pop3") {
        head = r.code == 1 ? "+OK " : "-ERR ";
      } else if (!r.status.empty()) {
        head = r.status + " ";
      }
      return "S: " + head + printable(r.text);
    }
    std::string operator()(const TlsPayload& t) const {
      return t.ok ? "TLS established (" + t.version + ", " + t.cipher + ")" : "TLS failed: " + t.reason;
    }
    std::string operator()(const AuthPayload& a) const {
      return "AUTH " + a.mechanism + " as " + a.user + (a.ok ? ": accepted" : ": refused") +
             (a.over_tls ? " (over TLS)" : " (in the clear!)");
    }
    std::string operator()(const DnsPayload& d) const {
      if (e.kind == EventKind::kDnsQuery) return "DNS? " + d.name + " " + d.type + (d.cached ? " (cache)" : "");
      std::string out = "DNS: " + d.name + " " + d.type + " " + d.rcode;
      for (const auto& r : d.records)
        out += " " + (r.type == "MX" ? std::to_string(r.preference) + " " : std::string{}) + r.value;
      return out;
    }
    std::string operator()(const QueuePayload& q) const {
      if (e.kind == EventKind::kRetry) return "queue " + q.queue_id + ": next try at " + format_clock(q.retry_at);
      return "queue " + q.queue_id + ": " + q.state + (q.reason.empty() ? "" : " (" + q.reason + ")");
    }
    std::string operator()(const MessagePayload& m) const {
      if (e.kind == EventKind::kBounce)
        return "bounce: " + m.recipient + " could not be reached (" + m.status + " " + m.diagnostic + "); returned to " + m.sender;
      return "delivered to " + m.recipient + " (" + std::to_string(m.received_headers) + " Received: headers)";
    }
    std::string operator()(const MailboxPayload& m) const {
      return "mailbox " + m.user + ": " + m.action + ", " + std::to_string(m.count) + " letters" +
             (m.device.empty() ? "" : " (device " + m.device + ")");
    }
    std::string operator()(const CapturePayload& c) const {
      return "captured " + std::string(c.encrypted ? "ciphertext" : "\"" + printable(c.data.value, 60) + "\"") + " on " +
             c.link_a + "<->" + c.link_b;
    }
    std::string operator()(const OutagePayload& o) const {
      switch (e.kind) {
        case EventKind::kHostDown: return o.target + " goes down" + (o.silent ? " (silently)" : "");
        case EventKind::kHostUp: return o.target + " is up again";
        case EventKind::kLinkDown: return "link " + o.target + " is cut";
        case EventKind::kLinkUp: return "link " + o.target + " is repaired";
        case EventKind::kPortDown: return "port " + o.target + " closes";
        case EventKind::kPortUp: return "port " + o.target + " opens";
        default: return {};
      }
    }
    std::string operator()(const NotePayload& n) const { return "-- " + n.text; }
  };
  return std::visit(V{e, verbose}, e.payload);
}

}  // namespace

std::string story_line(const TraceEvent& event, bool verbose) {
  const std::string text = describe(event, verbose);
  if (text.empty()) return {};
  std::string host = event.host;
  if (host.size() < 20) host.resize(20, ' ');
  return format_clock(event.time) + "  " + host + "  " + text;
}

}  // namespace mailsim::sim
