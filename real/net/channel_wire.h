// The Wire of a `mailsim serve` connection: the session hosted by a
// real/session Channel, so STARTTLS (RFC 3207, RFC 2595) and implicit TLS
// (RFC 8314) work the same as in the simulator. Boost-free.
#pragma once

#include "real/net/wire.h"
#include "real/session/channel.h"

#include <memory>
#include <optional>

namespace mailsim::net {

class ChannelWire final : public Wire {
 public:
  // `tls` = the server certificate context (nullopt: STARTTLS is refused).
  ChannelWire(Session& session, std::optional<tls::TlsContext> tls, bool implicit_tls)
      : channel_(session, options(std::move(tls), implicit_tls)) {}

  void start() override { channel_.start(); }
  void receive(std::string_view bytes) override { channel_.wire_in(bytes); }
  std::string take_output() override {
    // The glue may have answered a decision directly on the session.
    channel_.pump();
    return channel_.take_wire_out();
  }
  bool wants_close() const override { return channel_.wants_close(); }
  void peer_closed() override { channel_.peer_closed(); }
  bool tls_active() const override { return channel_.tls_active(); }
  bool handshaking() const override { return handshaking_; }

  const Channel& channel() const { return channel_; }

 private:
  ChannelOptions options(std::optional<tls::TlsContext> tls, bool implicit_tls) {
    ChannelOptions o;
    o.role = tls::TlsRole::kServer;
    o.tls = std::move(tls);
    o.implicit_tls = implicit_tls;
    o.observer = [this](const ChannelEvent& e) {
      if (e.kind == ChannelEvent::Kind::kHandshakeStarted) handshaking_ = true;
      if (e.kind == ChannelEvent::Kind::kHandshakeFinished || e.kind == ChannelEvent::Kind::kTlsError)
        handshaking_ = false;
    };
    return o;
  }

  bool handshaking_ = false;  // declared before channel_: the observer may fire during construction
  Channel channel_;
};

}  // namespace mailsim::net
