// An in-memory network for end-to-end tests: byte streams whose bytes arrive
// through the fake clock (one-way latency), listeners keyed by address:port,
// and a Connector per host. Real SMTP sessions talk over it.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "real/mta/services.h"

namespace mailsim::mta::testing {

struct Pipe {
  Clock& clock;
  Duration latency;
  std::function<void(std::string_view)> on_data[2];
  std::function<void()> on_close[2];
  bool closed[2] = {false, false};
  std::string address[2];
  std::string wire[2];  // everything side i wrote, for assertions
};

class PipeEnd final : public ByteStream {
 public:
  PipeEnd(std::shared_ptr<Pipe> p, int side) : p_(std::move(p)), me_(side) {}
  ~PipeEnd() override {
    p_->on_data[me_] = nullptr;
    p_->on_close[me_] = nullptr;
    close();
  }
  void write(std::string bytes) override {
    if (p_->closed[me_]) return;
    p_->wire[me_] += bytes;
    int other = 1 - me_;
    p_->clock.schedule(p_->latency, [p = p_, other, data = std::move(bytes)] {
      if (p->closed[other] || !p->on_data[other]) return;
      auto cb = p->on_data[other];
      cb(data);
    });
  }
  void on_data(std::function<void(std::string_view)> cb) override { p_->on_data[me_] = std::move(cb); }
  void on_close(std::function<void()> cb) override { p_->on_close[me_] = std::move(cb); }
  void close() override {
    if (p_->closed[me_]) return;
    p_->closed[me_] = true;
    int other = 1 - me_;
    p_->clock.schedule(p_->latency, [p = p_, other] {
      if (p->closed[other] || !p->on_close[other]) return;
      auto cb = std::move(p->on_close[other]);
      p->on_close[other] = nullptr;
      cb();
    });
  }
  std::string peer_address() const override { return p_->address[1 - me_]; }

 private:
  std::shared_ptr<Pipe> p_;
  int me_;
};

class LoopbackNet {
 public:
  using Accept = std::function<void(std::unique_ptr<ByteStream>, std::string client_address)>;
  LoopbackNet(Clock& clock, Duration latency) : clock_(clock), latency_(latency) {}

  void listen(const std::string& address, std::uint16_t port, Accept accept) {
    listeners_[address + ":" + std::to_string(port)] = std::move(accept);
  }
  void unlisten(const std::string& address, std::uint16_t port) {
    listeners_.erase(address + ":" + std::to_string(port));
  }

  void connect(const std::string& from, const std::string& host, std::uint16_t port,
               std::function<void(ConnectResult)> done) {
    clock_.schedule(latency_, [this, from, host, port, done = std::move(done)] {
      auto it = listeners_.find(host + ":" + std::to_string(port));
      if (it == listeners_.end()) {
        ConnectResult r;
        r.error = ConnectError::refused;
        return done(std::move(r));
      }
      auto pipe = std::make_shared<Pipe>(Pipe{clock_, latency_, {}, {}, {false, false}, {from, host}, {}});
      pipes.push_back(pipe);
      it->second(std::make_unique<PipeEnd>(pipe, 1), from);
      ConnectResult r;
      r.stream = std::make_unique<PipeEnd>(pipe, 0);
      done(std::move(r));
    });
  }

  std::vector<std::shared_ptr<Pipe>> pipes;

 private:
  Clock& clock_;
  Duration latency_;
  std::map<std::string, Accept> listeners_;
};

class LoopbackConnector final : public Connector {
 public:
  LoopbackConnector(LoopbackNet& net, std::string my_address) : net_(net), me_(std::move(my_address)) {}
  void connect(const std::string& host, std::uint16_t port, std::function<void(ConnectResult)> done) override {
    net_.connect(me_, host, port, std::move(done));
  }

 private:
  LoopbackNet& net_;
  std::string me_;
};

}  // namespace mailsim::mta::testing
