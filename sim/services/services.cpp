// Simulator implementations of real/mta/services.h (see services.h).
#include "sim/services/services.h"

namespace mailsim::sim {

mta::TimerId SimClock::schedule(mta::Duration delay, std::function<void()> callback) {
  return engine_.schedule_in(delay > 0 ? delay : 0, std::move(callback), "mta timer").value;
}

namespace {
mta::DnsStatus status_of(const DnsAnswer& a) {
  switch (a.rcode) {
    case Rcode::kNxDomain: return mta::DnsStatus::nxdomain;
    case Rcode::kServFail: return mta::DnsStatus::temp_fail;
    case Rcode::kNoError: break;
  }
  return a.records.empty() ? mta::DnsStatus::no_data : mta::DnsStatus::ok;
}
}  // namespace

void SimResolver::resolve_mx(const std::string& domain, std::function<void(mta::MxAnswer)> done) {
  resolver_.query(domain, DnsType::kMx, [done = std::move(done)](const DnsAnswer& a) {
    mta::MxAnswer answer;
    answer.status = status_of(a);
    for (const auto& r : a.records)
      answer.records.push_back(mta::MxRecord{static_cast<std::uint16_t>(r.preference), r.value});
    done(std::move(answer));
  });
}

void SimResolver::resolve_a(const std::string& host, std::function<void(mta::AddressAnswer)> done) {
  // A name that is already an address needs no lookup.
  if (Ipv4::parse(host)) {
    done(mta::AddressAnswer{mta::DnsStatus::ok, {host}});
    return;
  }
  resolver_.query(host, DnsType::kA, [done = std::move(done)](const DnsAnswer& a) {
    mta::AddressAnswer answer;
    answer.status = status_of(a);
    for (const auto& r : a.records) answer.addresses.push_back(r.value);
    done(std::move(answer));
  });
}

void SimResolver::resolve_txt(const std::string& name, std::function<void(mta::TxtAnswer)> done) {
  resolver_.query(name, DnsType::kTxt, [done = std::move(done)](const DnsAnswer& a) {
    mta::TxtAnswer answer;
    answer.status = status_of(a);
    for (const auto& r : a.records) answer.texts.push_back(r.value);
    done(std::move(answer));
  });
}

SocketStream::SocketStream(Socket socket) : socket_(socket), state_(std::make_shared<State>()) {
  std::weak_ptr<State> weak = state_;
  socket_.on_peer_closed([weak] {
    if (auto s = weak.lock(); s && !s->closed_by_owner && !s->reported && s->on_close) {
      s->reported = true;
      auto cb = s->on_close;
      cb();
    }
  });
  socket_.on_reset([weak](std::string_view) {
    if (auto s = weak.lock(); s && !s->closed_by_owner && !s->reported && s->on_close) {
      s->reported = true;
      auto cb = s->on_close;
      cb();
    }
  });
}

SocketStream::~SocketStream() {
  state_->closed_by_owner = true;
  socket_.on_data(nullptr);
  socket_.on_peer_closed(nullptr);
  socket_.on_reset(nullptr);
  if (socket_.can_send()) socket_.close();
}

void SocketStream::on_data(std::function<void(std::string_view)> callback) { socket_.on_data(std::move(callback)); }

void SocketStream::on_close(std::function<void()> callback) { state_->on_close = std::move(callback); }

void SocketStream::close() {
  state_->closed_by_owner = true;
  socket_.close();
}

void SimConnector::connect(const std::string& host, std::uint16_t port, std::function<void(mta::ConnectResult)> done) {
  const auto address = Ipv4::parse(host);
  if (!address) {
    // Answer later, never inside the call (services.h allows both; later is kinder).
    network_.engine().schedule_in(0, [done = std::move(done), host] {
      mta::ConnectResult r;
      r.error = mta::ConnectError::unreachable;
      r.detail = "\"" + host + "\" is not an IPv4 address";
      done(std::move(r));
    });
    return;
  }
  network_.connect(from_, *address, port, [done = std::move(done)](const ConnectResult& result) {
    mta::ConnectResult r;
    r.detail = result.reason;
    switch (result.status) {
      case ConnectStatus::kConnected: r.stream = std::make_unique<SocketStream>(result.socket); break;
      case ConnectStatus::kRefused: r.error = mta::ConnectError::refused; break;
      case ConnectStatus::kTimedOut: r.error = mta::ConnectError::timeout; break;
      case ConnectStatus::kAborted: r.error = mta::ConnectError::unreachable; break;
    }
    done(std::move(r));
  });
}

}  // namespace mailsim::sim
