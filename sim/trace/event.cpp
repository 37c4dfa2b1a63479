// Trace event kinds and their JSON form (see event.h). Field names here are a
// published format: the classroom view and saved .jsonl files depend on them.
#include "sim/trace/event.h"

#include "real/codec/base64.h"

#include <array>
#include <stdexcept>

namespace mailsim::sim {

// ---- Bytes and TcpFlags -------------------------------------------------------

bool is_valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    int extra = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= s.size()) return false;  // truncated sequence
    for (int k = 1; k <= extra; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Reject overlong forms, surrogates and values past U+10FFFF.
    if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
      return false;
    i += extra + 1;
  }
  return true;
}

void to_json(nlohmann::json& j, const Bytes& b) {
  if (is_valid_utf8(b.value))
    j = b.value;
  else
    j = nlohmann::json{{"base64", codec::base64_encode(b.value)}};
}

void from_json(const nlohmann::json& j, Bytes& b) {
  if (j.is_string()) {
    b.value = j.get<std::string>();
  } else if (j.is_object() && j.contains("base64")) {
    auto decoded = codec::base64_decode(j.at("base64").get<std::string>());
    if (!decoded) throw std::invalid_argument("bytes: invalid base64");
    b.value = std::move(*decoded);
  } else {
    throw std::invalid_argument("bytes: expected a string or {\"base64\": ...}");
  }
}

namespace {
constexpr std::array<std::pair<std::uint8_t, std::string_view>, 5> kFlagNames{{{TcpFlags::kSyn, "SYN"},
                                                                               {TcpFlags::kFin, "FIN"},
                                                                               {TcpFlags::kRst, "RST"},
                                                                               {TcpFlags::kPsh, "PSH"},
                                                                               {TcpFlags::kAck, "ACK"}}};
}

std::string TcpFlags::str() const {
  std::string out;
  for (const auto& [bit, name] : kFlagNames) {
    if (!has(bit)) continue;
    if (!out.empty()) out += ',';
    out += name;
  }
  return out;
}

void to_json(nlohmann::json& j, const TcpFlags& f) {
  j = nlohmann::json::array();
  for (const auto& [bit, name] : kFlagNames)
    if (f.has(bit)) j.push_back(name);
}

void from_json(const nlohmann::json& j, TcpFlags& f) {
  f.bits = 0;
  for (const auto& item : j) {
    const auto name = item.get<std::string>();
    bool known = false;
    for (const auto& [bit, n] : kFlagNames)
      if (n == name) f.bits |= bit, known = true;
    if (!known) throw std::invalid_argument("unknown TCP flag " + name);
  }
}

// ---- payloads -----------------------------------------------------------------

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ConnPayload, peer, local_addr, local_port, remote_addr, remote_port,
                                                reason)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(PacketPayload, from, to, src_addr, src_port, dst_addr, dst_port,
                                                tcp_seq, tcp_ack, flags, window, data, path, arrive, lost)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(DataPayload, direction, protocol, data, tls)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(CommandPayload, protocol, verb, line, side)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ReplyPayload, protocol, code, status, text, side)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(TlsPayload, side, ok, version, cipher, peer_subject, reason)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(AuthPayload, protocol, mechanism, user, ok, over_tls)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(DnsRecordData, name, type, ttl, preference, value)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(DnsPayload, name, type, server, cached, rcode, records, query_id)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(QueuePayload, queue_id, state, sender, recipients, reason, attempt,
                                                retry_at)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(MessagePayload, queue_id, message_id, sender, recipient, subject,
                                                received_headers, status, diagnostic)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(MailboxPayload, user, action, message_id, device, count)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(CapturePayload, link_a, link_b, from, to, src_port, dst_port, data,
                                                encrypted, packet_seq)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(OutagePayload, target, silent, reason)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(NotePayload, text, text_ja)

// ---- kinds ----------------------------------------------------------------------

namespace {

struct KindInfo {
  EventKind kind;
  std::string_view name;
  std::size_t payload_index;
};

template <class P>
constexpr std::size_t index_of() {
  return Payload(P{}).index();
}

const std::array<KindInfo, kEventKindCount>& kinds() {
  static const std::array<KindInfo, kEventKindCount> table{{
      {EventKind::kConnect, "connect", index_of<ConnPayload>()},
      {EventKind::kConnected, "connected", index_of<ConnPayload>()},
      {EventKind::kAccept, "accept", index_of<ConnPayload>()},
      {EventKind::kRefused, "refused", index_of<ConnPayload>()},
      {EventKind::kConnectTimeout, "connect_timeout", index_of<ConnPayload>()},
      {EventKind::kClose, "close", index_of<ConnPayload>()},
      {EventKind::kReset, "reset", index_of<ConnPayload>()},
      {EventKind::kPacket, "packet", index_of<PacketPayload>()},
      {EventKind::kData, "data", index_of<DataPayload>()},
      {EventKind::kCommand, "command", index_of<CommandPayload>()},
      {EventKind::kReply, "reply", index_of<ReplyPayload>()},
      {EventKind::kTls, "tls", index_of<TlsPayload>()},
      {EventKind::kAuth, "auth", index_of<AuthPayload>()},
      {EventKind::kDnsQuery, "dns_query", index_of<DnsPayload>()},
      {EventKind::kDnsAnswer, "dns_answer", index_of<DnsPayload>()},
      {EventKind::kQueue, "queue", index_of<QueuePayload>()},
      {EventKind::kRetry, "retry", index_of<QueuePayload>()},
      {EventKind::kDelivery, "delivery", index_of<MessagePayload>()},
      {EventKind::kBounce, "bounce", index_of<MessagePayload>()},
      {EventKind::kMailbox, "mailbox", index_of<MailboxPayload>()},
      {EventKind::kCapture, "capture", index_of<CapturePayload>()},
      {EventKind::kHostDown, "host_down", index_of<OutagePayload>()},
      {EventKind::kHostUp, "host_up", index_of<OutagePayload>()},
      {EventKind::kLinkDown, "link_down", index_of<OutagePayload>()},
      {EventKind::kLinkUp, "link_up", index_of<OutagePayload>()},
      {EventKind::kPortDown, "port_down", index_of<OutagePayload>()},
      {EventKind::kPortUp, "port_up", index_of<OutagePayload>()},
      {EventKind::kNote, "note", index_of<NotePayload>()},
  }};
  return table;
}

// Reads payload alternative I from JSON when I is the wanted index.
template <std::size_t I = 1>
Payload payload_from_json(std::size_t index, const nlohmann::json& j) {
  if constexpr (I < std::variant_size_v<Payload>) {
    if (index == I) return Payload(std::in_place_index<I>, j.get<std::variant_alternative_t<I, Payload>>());
    return payload_from_json<I + 1>(index, j);
  } else {
    return Payload{};
  }
}

}  // namespace

std::string_view kind_name(EventKind kind) { return kinds().at(static_cast<std::size_t>(kind)).name; }

std::optional<EventKind> kind_from_name(std::string_view name) {
  for (const auto& info : kinds())
    if (info.name == name) return info.kind;
  return std::nullopt;
}

std::size_t payload_index_of(EventKind kind) { return kinds().at(static_cast<std::size_t>(kind)).payload_index; }

nlohmann::json to_json_value(const TraceEvent& event) {
  nlohmann::json j = nlohmann::json::object();
  j["seq"] = event.seq;
  j["t"] = event.time;
  j["kind"] = kind_name(event.kind);
  j["host"] = event.host;
  j["conn"] = event.conn;
  std::visit(
      [&](const auto& p) {
        if constexpr (!std::is_same_v<std::decay_t<decltype(p)>, std::monostate>) {
          nlohmann::json pj = p;
          for (auto& [key, value] : pj.items()) {
            // Payload fields sit beside the common ones: names must not clash.
            if (j.contains(key)) throw std::logic_error("trace payload field \"" + key + "\" clashes with a common field");
            j[key] = value;
          }
        }
      },
      event.payload);
  return j;
}

TraceEvent from_json_value(const nlohmann::json& j) {
  if (!j.is_object()) throw std::invalid_argument("trace event: expected a JSON object");
  TraceEvent e;
  try {
    e.seq = j.at("seq").get<std::uint64_t>();
    e.time = j.at("t").get<Time>();
    const auto name = j.at("kind").get<std::string>();
    const auto kind = kind_from_name(name);
    if (!kind) throw std::invalid_argument("trace event: unknown kind \"" + name + "\"");
    e.kind = *kind;
    e.host = j.value("host", "");
    e.conn = j.value("conn", ConnId{0});
    nlohmann::json rest = j;
    for (const char* key : {"seq", "t", "kind", "host", "conn"}) rest.erase(key);
    e.payload = payload_from_json(payload_index_of(e.kind), rest);
  } catch (const nlohmann::json::exception& ex) {
    throw std::invalid_argument(std::string("trace event: ") + ex.what());
  }
  return e;
}

}  // namespace mailsim::sim
