// Test helpers for real/tls: one demo CA per test binary (key generation is
// the slow part) and a loop that shuttles bytes between two engines.
#pragma once

#include "real/tls/demo_ca.h"
#include "real/tls/tls_engine.h"

#include <algorithm>
#include <string>

namespace mailsim::tls::testing {

inline const DemoCa& shared_ca() {
  static const DemoCa ca = DemoCa::create();
  return ca;
}

// What crossed the wire in each direction, for the eavesdropper's checks.
struct Wire {
  std::string client_to_server;
  std::string server_to_client;
};

// Moves ciphertext between the engines in pieces of at most `chunk` bytes
// until neither has anything left to say.
inline Wire shuttle(TlsEngine& client, TlsEngine& server, std::size_t chunk = 1 << 20,
                    Wire wire = {}) {
  for (int round = 0; round < 100000; ++round) {
    const std::string c = client.take_ciphertext();
    const std::string s = server.take_ciphertext();
    if (c.empty() && s.empty()) break;
    wire.client_to_server += c;
    wire.server_to_client += s;
    for (std::size_t i = 0; i < c.size(); i += chunk)
      server.feed_ciphertext(std::string_view(c).substr(i, chunk));
    for (std::size_t i = 0; i < s.size(); i += chunk)
      client.feed_ciphertext(std::string_view(s).substr(i, chunk));
  }
  return wire;
}

}  // namespace mailsim::tls::testing
