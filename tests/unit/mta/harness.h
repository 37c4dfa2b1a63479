// One MTA with fake services, and a few helpers the scheduler and routing
// tests share.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "real/mime/mime.h"
#include "real/mta/headers.h"
#include "real/mta/mta.h"
#include "tests/unit/mta/fakes.h"

namespace mailsim::mta::testing {

inline const std::string kLunch =
    "From: Alice <alice@alpha.example>\r\n"
    "To: Bob <bob@beta.example>\r\n"
    "Subject: Lunch?\r\n"
    "Message-ID: <lunch-1@alpha.example>\r\n"
    "\r\n"
    "Shall we have lunch on Friday?\r\n";

// The Received: fields of a message, top first, unfolded and with runs of
// white space as one space: what a reader sees, whatever the folding.
inline std::vector<std::string> postmarks(std::string_view message) {
  std::vector<std::string> out;
  auto header = mime::Header::parse(header_section(message));
  for (const auto& f : header.fields()) {
    if (!mime::iequals(f.name, "Received")) continue;
    std::string v;
    for (char c : f.value) {
      bool space = c == ' ' || c == '\t';
      if (space && (v.empty() || v.back() == ' ')) continue;
      v += space ? ' ' : c;
    }
    out.push_back(v);
  }
  return out;
}

struct Harness {
  FakeClock clock;
  FakeResolver dns;
  FakeTransport net;
  MemorySpool spool;
  FakeMailboxes boxes;
  EventLog log;
  MtaConfig config;
  std::unique_ptr<Mta> mta;
  ClientInfo client{"10.0.0.2", "alice-pc", "alice-pc", "alice", "ESMTPA", ""};

  explicit Harness(Duration net_latency = 0) : net(net_latency ? &clock : nullptr, net_latency) {
    config.hostname = "mail.alpha.example";
    config.local_domains = {"alpha.example"};
    config.trusted_networks = {"10.0.0.0/8"};
    boxes.add("alice");
    // beta.example: one MX at 192.0.2.10, which accepts everything.
    dns.mx("beta.example", {{10, "mx.beta.example"}});
    dns.a("mx.beta.example", {"192.0.2.10"});
    net.server("192.0.2.10");
  }

  Mta& make() {
    mta = std::make_unique<Mta>(config, MtaServices{clock, dns, spool, net, &boxes, log.sink()});
    mta->start();
    return *mta;
  }

  // Hands a message to the MTA as the SMTP server would after DATA, and lets
  // the moment's work (spooling, the first delivery pass) happen.
  Reply submit(const std::string& sender, std::vector<std::string> rcpts,
               const std::string& message = kLunch) {
    if (!mta) make();
    Reply reply;
    mta->receive(client, sender, std::move(rcpts), message, [&](Reply r) { reply = r; });
    clock.settle();
    return reply;
  }

  // Times (in whole seconds since the start) of the events of type T.
  template <class T>
  std::vector<TimePoint> seconds_of() const {
    std::vector<TimePoint> out;
    for (const auto& [at, e] : log.all<T>()) out.push_back(at / kSecond);
    return out;
  }
};

}  // namespace mailsim::mta::testing
