// The trace: typed events, one for each thing that happened in a run. The
// classroom view, the expect checker, the JSON Lines and pcap exports all read
// these and nothing else, so a headless run and the view tell the same story.
//
// Every event has a sequence number (its index in the trace), a virtual time,
// the host it happened on, the connection it belongs to (0 if none), a kind,
// and a payload whose type is fixed by the kind (see payload_type_of()).
#pragma once

#include "sim/engine/time.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace mailsim::sim {

using ConnId = std::uint64_t;  // 0 = not about a connection

// Raw bytes (protocol text or TLS ciphertext). In JSON: a string when the
// bytes are valid UTF-8, else {"base64": "..."}; reading accepts both.
struct Bytes {
  std::string value;
  friend bool operator==(const Bytes&, const Bytes&) = default;
};

// TCP header flags (RFC 9293 §3.1). In JSON: a list like ["SYN","ACK"].
struct TcpFlags {
  static constexpr std::uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10;
  std::uint8_t bits = 0;
  bool has(std::uint8_t f) const { return (bits & f) != 0; }
  std::string str() const;  // "SYN,ACK"
  friend bool operator==(TcpFlags, TcpFlags) = default;
};

// ---- payloads ---------------------------------------------------------------

// connect, connected, accept, refused, connect_timeout, close, reset.
// From the point of view of `host`: local is this host's end.
struct ConnPayload {
  std::string peer;  // the other host's name ("" if nobody answered)
  std::string local_addr;
  std::uint16_t local_port = 0;
  std::string remote_addr;
  std::uint16_t remote_port = 0;
  std::string reason;  // refused/timeout/reset/close: why, in words
  friend bool operator==(const ConnPayload&, const ConnPayload&) = default;
};

// packet: one TCP segment put on the wire by `host`. Everything a pcap needs.
struct PacketPayload {
  std::string from, to;  // host names of the two ends
  std::string src_addr;
  std::uint16_t src_port = 0;
  std::string dst_addr;
  std::uint16_t dst_port = 0;
  std::uint32_t tcp_seq = 0, tcp_ack = 0;  // TCP sequence and acknowledgment numbers
  TcpFlags flags;
  std::uint16_t window = 65535;
  Bytes data;                     // payload bytes as they crossed the links
  std::vector<std::string> path;  // hosts traversed, from `from` to `to`
  Time arrive = 0;                // when it reaches `to` (if not lost)
  bool lost = false;              // the path broke before it arrived
  friend bool operator==(const PacketPayload&, const PacketPayload&) = default;
};

// data: plaintext a protocol session sent ("out") or received ("in"), before
// TLS encryption / after decryption. `tls` says whether it travelled encrypted.
struct DataPayload {
  std::string direction;  // "out" | "in"
  std::string protocol;   // "smtp" | "pop3" | "imap" | ...
  Bytes data;
  bool tls = false;
  friend bool operator==(const DataPayload&, const DataPayload&) = default;
};

// command: a client's protocol command as the server parsed it (or as the
// client sent it); reply: a server's reply or response.
struct CommandPayload {
  std::string protocol;  // "smtp" | "pop3" | "imap"
  std::string verb;      // "EHLO", "MAIL", "STLS", "LOGIN"...
  std::string line;      // the whole line, without CRLF
  std::string side;      // "client" (sent) | "server" (received)
  friend bool operator==(const CommandPayload&, const CommandPayload&) = default;
};
struct ReplyPayload {
  std::string protocol;
  int code = 0;          // SMTP 3-digit code; POP3 +OK=1 / -ERR=0; IMAP 0
  std::string status;    // enhanced status ("5.1.1"), or IMAP "OK"/"NO"/"BAD"
  std::string text;      // the reply text, lines joined with "\n"
  std::string side;      // "server" (sent) | "client" (received)
  friend bool operator==(const ReplyPayload&, const ReplyPayload&) = default;
};

// tls: a handshake finished (ok) or failed.
struct TlsPayload {
  std::string side;  // "client" | "server"
  bool ok = false;
  std::string version, cipher, peer_subject;
  std::string reason;  // why it failed
  friend bool operator==(const TlsPayload&, const TlsPayload&) = default;
};

// auth: an SMTP AUTH / POP3 / IMAP login attempt and its outcome.
struct AuthPayload {
  std::string protocol;
  std::string mechanism;  // "PLAIN", "LOGIN", "USER/PASS", ...
  std::string user;
  bool ok = false;
  bool over_tls = false;
  friend bool operator==(const AuthPayload&, const AuthPayload&) = default;
};

// One DNS resource record in an answer (RFC 1035 §3.2).
struct DnsRecordData {
  std::string name;
  std::string type;    // "A" | "MX" | "TXT" | "PTR"
  std::uint32_t ttl = 0;  // seconds
  int preference = 0;  // MX only
  std::string value;   // address, exchange, text, or pointer name
  friend bool operator==(const DnsRecordData&, const DnsRecordData&) = default;
};

// dns_query / dns_answer, on the resolving host.
struct DnsPayload {
  std::string name;
  std::string type;
  std::string server;  // DNS server host ("" when the scenario has none)
  bool cached = false; // answered from this host's cache
  std::string rcode;   // answers: "NOERROR" | "NXDOMAIN" | "SERVFAIL"
  std::vector<DnsRecordData> records;
  std::uint64_t query_id = 0;  // pairs a query with its answer
  friend bool operator==(const DnsPayload&, const DnsPayload&) = default;
};

// queue: a message (or one recipient of it) changed state in an MTA queue;
// retry: the MTA scheduled the next attempt.
struct QueuePayload {
  std::string queue_id;
  std::string state;  // "queued" | "active" | "deferred" | "sent" | "delivered" | "bounced" | "expired" | "removed"
  std::string sender;
  std::vector<std::string> recipients;
  std::string reason;  // the reply or error that caused the change
  int attempt = 0;
  Time retry_at = 0;   // retry only: when the next attempt is due
  friend bool operator==(const QueuePayload&, const QueuePayload&) = default;
};

// delivery: a message reached a mailbox; bounce: a DSN went back to the
// envelope sender (RFC 3464).
struct MessagePayload {
  std::string queue_id;
  std::string message_id;
  std::string sender;     // envelope MAIL FROM
  std::string recipient;  // envelope RCPT TO this event is about
  std::string subject;
  int received_headers = 0;  // "postmarks" on the delivered message
  std::string status;        // bounce: enhanced status code, e.g. "5.1.1"
  std::string diagnostic;    // bounce: the remote reply or local reason
  friend bool operator==(const MessagePayload&, const MessagePayload&) = default;
};

// mailbox: a user's mailbox changed.
struct MailboxPayload {
  std::string user;
  std::string action;  // "stored" | "fetched" | "deleted" | "flagged" | "seen"
  std::string message_id;
  std::string device;  // the client device that fetched, if any
  int count = 0;       // messages in the mailbox after the change
  friend bool operator==(const MailboxPayload&, const MailboxPayload&) = default;
};

// capture: what an eavesdropper on a link could read from one packet.
struct CapturePayload {
  std::string link_a, link_b;
  std::string from, to;
  std::uint16_t src_port = 0, dst_port = 0;
  Bytes data;
  bool encrypted = false;  // the bytes were TLS records
  std::uint64_t packet_seq = 0;  // the `packet` event captured
  friend bool operator==(const CapturePayload&, const CapturePayload&) = default;
};

// host_down/host_up (target = host), link_down/link_up (target = "a<->b"),
// port_down/port_up (target = "host:port").
struct OutagePayload {
  std::string target;
  bool silent = false;  // host_down: no RST, peers time out
  std::string reason;
  friend bool operator==(const OutagePayload&, const OutagePayload&) = default;
};

// note: a line of the story (a timeline action, a role's decision, ...).
struct NotePayload {
  std::string text;
  std::string text_ja;
  friend bool operator==(const NotePayload&, const NotePayload&) = default;
};

using Payload = std::variant<std::monostate, ConnPayload, PacketPayload, DataPayload, CommandPayload, ReplyPayload,
                             TlsPayload, AuthPayload, DnsPayload, QueuePayload, MessagePayload, MailboxPayload,
                             CapturePayload, OutagePayload, NotePayload>;

// ---- kinds --------------------------------------------------------------------

// Names in JSON are the snake_case spelling given in kind_name().
enum class EventKind {
  kConnect,         // ConnPayload: a client sent SYN
  kConnected,       // ConnPayload: the client's connection is established
  kAccept,          // ConnPayload: a server accepted a connection
  kRefused,         // ConnPayload: RST in answer to SYN
  kConnectTimeout,  // ConnPayload: no answer to SYN
  kClose,           // ConnPayload: this end sent FIN
  kReset,           // ConnPayload: the connection was reset (reason says why)
  kPacket,          // PacketPayload
  kData,            // DataPayload
  kCommand,         // CommandPayload
  kReply,           // ReplyPayload
  kTls,             // TlsPayload
  kAuth,            // AuthPayload
  kDnsQuery,        // DnsPayload
  kDnsAnswer,       // DnsPayload
  kQueue,           // QueuePayload
  kRetry,           // QueuePayload
  kDelivery,        // MessagePayload
  kBounce,          // MessagePayload
  kMailbox,         // MailboxPayload
  kCapture,         // CapturePayload
  kHostDown,        // OutagePayload
  kHostUp,          // OutagePayload
  kLinkDown,        // OutagePayload
  kLinkUp,          // OutagePayload
  kPortDown,        // OutagePayload
  kPortUp,          // OutagePayload
  kNote,            // NotePayload
};
inline constexpr int kEventKindCount = static_cast<int>(EventKind::kNote) + 1;

std::string_view kind_name(EventKind kind);
std::optional<EventKind> kind_from_name(std::string_view name);
// The Payload alternative index that `kind` carries.
std::size_t payload_index_of(EventKind kind);

struct TraceEvent {
  std::uint64_t seq = 0;  // position in the trace, from 0
  Time time = 0;          // virtual microseconds
  EventKind kind = EventKind::kNote;
  std::string host;       // where it happened ("" for the world, e.g. link_down)
  ConnId conn = 0;
  Payload payload;

  // The payload as type P, or nullptr if the event carries another type.
  template <class P>
  const P* as() const {
    return std::get_if<P>(&payload);
  }
  friend bool operator==(const TraceEvent&, const TraceEvent&) = default;
};

// JSON form of one event: {"seq","t","kind","host","conn", ...payload fields}.
nlohmann::json to_json_value(const TraceEvent& event);
// Inverse of to_json_value; throws std::invalid_argument naming the problem.
TraceEvent from_json_value(const nlohmann::json& j);

// True when `bytes` is valid UTF-8 (so it can be a JSON string as is).
bool is_valid_utf8(std::string_view bytes);

}  // namespace mailsim::sim
