// The simulator's implementations of the MTA's world interfaces
// (real/mta/services.h): a Clock on the engine's virtual time, a Resolver on
// the simulated DNS, a Connector and ByteStream on the simulated sockets. An
// MTA built with these runs unchanged inside the simulation.
#pragma once

#include "real/mta/services.h"
#include "sim/dns/dns.h"
#include "sim/engine/engine.h"
#include "sim/net/network.h"

#include <memory>

namespace mailsim::sim {

// Virtual time since the start of the run, in microseconds (same unit as
// mta::TimePoint). Timers are engine events: they never run inside schedule().
class SimClock final : public mta::Clock {
 public:
  explicit SimClock(Engine& engine) : engine_(engine) {}
  mta::TimePoint now() const override { return engine_.now(); }
  mta::TimerId schedule(mta::Duration delay, std::function<void()> callback) override;
  void cancel(mta::TimerId id) override { engine_.cancel(EventId{id}); }

 private:
  Engine& engine_;
};

// Answers through a host's DnsResolver (so queries are traced, cached, and
// take the time a trip to the DNS server takes). NXDOMAIN -> nxdomain,
// SERVFAIL -> temp_fail, NOERROR without records -> no_data. A null MX is an
// MX record with host ".".
class SimResolver final : public mta::Resolver {
 public:
  explicit SimResolver(DnsResolver& resolver) : resolver_(resolver) {}
  void resolve_mx(const std::string& domain, std::function<void(mta::MxAnswer)> done) override;
  void resolve_a(const std::string& host, std::function<void(mta::AddressAnswer)> done) override;
  void resolve_txt(const std::string& name, std::function<void(mta::TxtAnswer)> done) override;

 private:
  DnsResolver& resolver_;
};

// A simulated socket as the MTA's ByteStream. Destroying it drops its
// handlers (no call back afterwards) and closes the connection if still open.
class SocketStream final : public mta::ByteStream {
 public:
  explicit SocketStream(Socket socket);
  ~SocketStream() override;
  void write(std::string bytes) override { socket_.send(std::move(bytes)); }
  void on_data(std::function<void(std::string_view)> callback) override;
  void on_close(std::function<void()> callback) override;
  void close() override;
  std::string peer_address() const override { return socket_.remote().address.str(); }
  const Socket& socket() const { return socket_; }

 private:
  struct State {
    std::function<void()> on_close;
    bool closed_by_owner = false;
    bool reported = false;
  };
  void report_close();
  Socket socket_;
  std::shared_ptr<State> state_;
};

// Connects from one host of the network. `host` is a dotted IPv4 address
// (anything else: unreachable). Refused -> refused, no answer -> timeout,
// the local host down -> unreachable.
class SimConnector final : public mta::Connector {
 public:
  SimConnector(Network& network, HostId from) : network_(network), from_(from) {}
  void connect(const std::string& host, std::uint16_t port, std::function<void(mta::ConnectResult)> done) override;

 private:
  Network& network_;
  HostId from_;
};

}  // namespace mailsim::sim
