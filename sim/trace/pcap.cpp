// pcap writer (see pcap.h). Header layouts: pcap(5) "classic" format; IPv4
// RFC 791 §3.1; TCP RFC 9293 §3.1 with the pseudo-header checksum of §3.1.
#include "sim/trace/pcap.h"

#include <array>
#include <map>
#include <ostream>
#include <stdexcept>

namespace mailsim::sim {
namespace {

void put16(std::string& out, std::uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xFF));
}
void put32(std::string& out, std::uint32_t v) {
  put16(out, static_cast<std::uint16_t>(v >> 16));
  put16(out, static_cast<std::uint16_t>(v & 0xFFFF));
}
// pcap file and record headers are in the writer's byte order; we always
// write little-endian (magic d4 c3 b2 a1).
void put32le(std::ostream& out, std::uint32_t v) {
  const char b[4] = {static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 24)};
  out.write(b, 4);
}
void put16le(std::ostream& out, std::uint16_t v) {
  const char b[2] = {static_cast<char>(v), static_cast<char>(v >> 8)};
  out.write(b, 2);
}

std::uint32_t parse_ipv4(const std::string& text) {
  std::uint32_t value = 0;
  int parts = 0;
  std::size_t i = 0;
  while (parts < 4) {
    if (i >= text.size() || text[i] < '0' || text[i] > '9')
      throw std::invalid_argument("pcap: bad IPv4 address \"" + text + "\"");
    unsigned part = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') part = part * 10 + (text[i++] - '0');
    if (part > 255) throw std::invalid_argument("pcap: bad IPv4 address \"" + text + "\"");
    value = (value << 8) | part;
    ++parts;
    if (parts < 4) {
      if (i >= text.size() || text[i] != '.') throw std::invalid_argument("pcap: bad IPv4 address \"" + text + "\"");
      ++i;
    }
  }
  if (i != text.size()) throw std::invalid_argument("pcap: bad IPv4 address \"" + text + "\"");
  return value;
}

// Internet checksum (RFC 1071) over `data`, starting from a partial sum.
std::uint16_t checksum(std::string_view data, std::uint32_t sum = 0) {
  for (std::size_t i = 0; i + 1 < data.size(); i += 2)
    sum += (static_cast<std::uint8_t>(data[i]) << 8) | static_cast<std::uint8_t>(data[i + 1]);
  if (data.size() % 2 == 1) sum += static_cast<std::uint8_t>(data.back()) << 8;
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

// A locally administered MAC derived from the IPv4 address: 02:00:a:b:c:d.
void put_mac(std::string& out, std::uint32_t ip) {
  out.push_back('\x02');
  out.push_back('\x00');
  put32(out, ip);
}

}  // namespace

std::string pcap_frame(const PacketPayload& p, std::uint16_t ip_id) {
  const std::uint32_t src = parse_ipv4(p.src_addr);
  const std::uint32_t dst = parse_ipv4(p.dst_addr);
  const bool syn = p.flags.has(TcpFlags::kSyn);

  // TCP header; a SYN carries the MSS option (kind 2, length 4, 1460).
  std::string tcp;
  put16(tcp, p.src_port);
  put16(tcp, p.dst_port);
  put32(tcp, p.tcp_seq);
  put32(tcp, p.flags.has(TcpFlags::kAck) ? p.tcp_ack : 0);
  const std::uint8_t header_words = syn ? 6 : 5;
  tcp.push_back(static_cast<char>(header_words << 4));
  tcp.push_back(static_cast<char>(p.flags.bits));
  put16(tcp, p.window);
  put16(tcp, 0);  // checksum, filled below
  put16(tcp, 0);  // urgent pointer
  if (syn) {
    tcp.push_back('\x02');
    tcp.push_back('\x04');
    put16(tcp, 1460);
  }
  tcp += p.data.value;

  // Pseudo-header: src, dst, zero, protocol 6, TCP length.
  std::uint32_t sum = (src >> 16) + (src & 0xFFFF) + (dst >> 16) + (dst & 0xFFFF) + 6 +
                      static_cast<std::uint32_t>(tcp.size());
  const std::uint16_t tcp_sum = checksum(tcp, sum);
  tcp[16] = static_cast<char>(tcp_sum >> 8);
  tcp[17] = static_cast<char>(tcp_sum & 0xFF);

  std::string ip;
  ip.push_back('\x45');  // version 4, IHL 5 words
  ip.push_back('\x00');  // DSCP/ECN
  put16(ip, static_cast<std::uint16_t>(20 + tcp.size()));
  put16(ip, ip_id);
  put16(ip, 0x4000);  // don't fragment
  ip.push_back(static_cast<char>(64));  // TTL
  ip.push_back(static_cast<char>(6));   // TCP
  put16(ip, 0);
  put32(ip, src);
  put32(ip, dst);
  const std::uint16_t ip_sum = checksum(ip);
  ip[10] = static_cast<char>(ip_sum >> 8);
  ip[11] = static_cast<char>(ip_sum & 0xFF);

  std::string frame;
  put_mac(frame, dst);
  put_mac(frame, src);
  put16(frame, 0x0800);
  return frame + ip + tcp;
}

std::size_t write_pcap(const Trace& trace, std::ostream& out, const PcapOptions& options) {
  put32le(out, 0xa1b2c3d4);  // microsecond timestamps
  put16le(out, 2);
  put16le(out, 4);
  put32le(out, 0);       // thiszone
  put32le(out, 0);       // sigfigs
  put32le(out, 262144);  // snaplen
  put32le(out, 1);       // LINKTYPE_ETHERNET

  std::map<std::string, std::uint16_t> ip_ids;  // per source address, like a host's IP stack
  std::size_t frames = 0;
  for (const auto& e : trace.events()) {
    const auto* p = e.as<PacketPayload>();
    if (p == nullptr) continue;
    const std::string frame = pcap_frame(*p, ip_ids[p->src_addr]++);
    const std::int64_t seconds = options.epoch_seconds + e.time / kSecond;
    put32le(out, static_cast<std::uint32_t>(seconds));
    put32le(out, static_cast<std::uint32_t>(e.time % kSecond));
    put32le(out, static_cast<std::uint32_t>(frame.size()));
    put32le(out, static_cast<std::uint32_t>(frame.size()));
    out.write(frame.data(), static_cast<std::streamsize>(frame.size()));
    ++frames;
  }
  return frames;
}

}  // namespace mailsim::sim
