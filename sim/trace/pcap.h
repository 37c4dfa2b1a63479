// pcap export: every `packet` event of a trace becomes an Ethernet frame with a
// synthesised IPv4 (RFC 791) and TCP (RFC 9293) header, correct checksums,
// timestamps at the moment the segment left its host. Wireshark and tshark
// decode SMTP (25, 587), POP3 (110), IMAP (143) and TLS after STARTTLS.
// File format: libpcap classic, microsecond timestamps, LINKTYPE_ETHERNET.
#pragma once

#include "sim/trace/trace.h"

#include <cstdint>
#include <iosfwd>
#include <string>

namespace mailsim::sim {

struct PcapOptions {
  // Unix time (seconds) of virtual time 0, so packet dates look like the
  // scenario's. Default: 2024-04-01T00:00:00Z.
  std::int64_t epoch_seconds = 1711929600;
};

// Writes the pcap; returns the number of frames written.
std::size_t write_pcap(const Trace& trace, std::ostream& out, const PcapOptions& options = {});

// The frame for one packet (Ethernet + IPv4 + TCP + payload), exposed for
// tests. `ip_id` is the IPv4 identification field.
std::string pcap_frame(const PacketPayload& packet, std::uint16_t ip_id);

}  // namespace mailsim::sim
