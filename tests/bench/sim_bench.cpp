// Simulator benchmark (issue 6): a generated network of mail servers around
// one core router delivers messages, each over a full SMTP dialogue between
// real/mta instances (real/smtp client and server sessions, the MTA queue,
// DNS MX lookups), while 10% of the servers are down for a while and their
// senders defer and retry. Prints simulated events/s, messages/s, peak
// memory and wall time per simulated day. Not part of ctest; run
// tests/bench/sim_bench.sh to see it beside smtp-source -> smtp-sink.
//
//   sim_bench [--servers N] [--messages M] [--down-fraction F] [--tls] [--seed S]
#include "sim/roles/mail_server.h"
#include "sim/roles/roles.h"
#include "sim/world/world.h"

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

using namespace mailsim;
using namespace mailsim::sim;

namespace {

long peak_rss_kb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

std::string server_name(int i) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "mx%04d.d%04d.example", i, i);
  return buf;
}
std::string domain(int i) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "d%04d.example", i);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  int servers = 100;
  int messages = 10000;
  double down_fraction = 0.10;
  bool tls = false;
  std::uint64_t seed = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--servers") servers = std::atoi(next().c_str());
    else if (a == "--messages") messages = std::atoi(next().c_str());
    else if (a == "--down-fraction") down_fraction = std::atof(next().c_str());
    else if (a == "--tls") tls = true;
    else if (a == "--seed") seed = std::strtoull(next().c_str(), nullptr, 10);
    else {
      std::fprintf(stderr, "usage: %s [--servers N] [--messages M] [--down-fraction F] [--tls] [--seed S]\n", argv[0]);
      return 2;
    }
  }

  // The network: every server on one core router, 5-40 ms away.
  Scenario s;
  s.title = "benchmark";
  s.seed = seed;
  Random rnd(seed);
  HostSpec core;
  core.name = "core";
  core.role = HostRole::kRouter;
  s.hosts.push_back(core);
  for (int i = 0; i < servers; ++i) {
    HostSpec h;
    h.name = server_name(i);
    h.role = HostRole::kMta;
    h.local_domains = {domain(i)};
    h.users = {UserAccount{"user", "secret"}};
    h.mx.tls = tls ? Toggle::kOptional : Toggle::kOff;
    h.relay.outbound_tls = tls ? Toggle::kOptional : Toggle::kOff;
    h.queue.min_backoff = 5 * kMinute;
    h.queue.max_backoff = 1 * kHour;
    h.pop3 = ServiceSettings{false, 110, Toggle::kOff};
    h.imap = ServiceSettings{false, 143, Toggle::kOff};
    s.hosts.push_back(h);
    LinkSpec l;
    l.a = "core";
    l.b = h.name;
    l.latency = rnd.between(5, 40) * kMillisecond;
    s.links.push_back(l);
    DnsNameSpec d;
    d.name = domain(i);
    d.mx = {MxSpec{10, h.name}};
    s.dns.names.push_back(d);
  }
  // 10% of the servers are down for an hour somewhere in the first six hours.
  const int down = static_cast<int>(servers * down_fraction);
  for (int k = 0; k < down; ++k) {
    const std::string name = server_name(static_cast<int>(rnd.below(static_cast<std::uint64_t>(servers))));
    const Time at = rnd.between(0, 6 * 3600) * kSecond;
    s.timeline.push_back(TimelineItem{at, HostAction{name, false, false}, "", "", ""});
    s.timeline.push_back(TimelineItem{at + kHour, HostAction{name, true, false}, "", "", ""});
  }
  std::stable_sort(s.timeline.begin(), s.timeline.end(), [](const auto& a, const auto& b) { return a.at < b.at; });

  const auto t0 = std::chrono::steady_clock::now();
  World world(s);
  roles::RoleOptions ro;
  ro.record_data = false;
  roles::Roles cast(world, ro);

  // Messages enter the queues of their senders' servers (as if just
  // submitted), spread over the first six hours.
  std::string body(900, 'x');
  for (int m = 0; m < messages; ++m) {
    const int from = static_cast<int>(rnd.below(static_cast<std::uint64_t>(servers)));
    int to = static_cast<int>(rnd.below(static_cast<std::uint64_t>(servers)));
    if (to == from) to = (to + 1) % servers;
    const Time at = rnd.between(0, 6 * 3600 * 1000) * kMillisecond;
    world.engine().schedule_at(at, [&cast, from, to, m, &body] {
      auto* srv = cast.server(server_name(from));
      mta::ClientInfo client;
      client.address = "127.0.0.1";
      client.helo = "bench";
      const std::string sender = "user@" + domain(from);
      const std::string rcpt = "user@" + domain(to);
      std::string msg = "From: " + sender + "\r\nTo: " + rcpt + "\r\nSubject: bench " + std::to_string(m) +
                        "\r\nMessage-ID: <" + std::to_string(m) + "@bench>\r\n\r\n" + body + "\r\n";
      srv->mta().receive(client, sender, {rcpt}, std::move(msg), [](mta::Reply) {});
    });
  }
  const RunResult r = world.run();
  const auto t1 = std::chrono::steady_clock::now();
  const double wall = std::chrono::duration<double>(t1 - t0).count();

  std::size_t delivered = world.trace().of_kind(EventKind::kDelivery).size();
  std::size_t deferred = 0, bounced = world.trace().of_kind(EventKind::kBounce).size();
  for (const auto* e : world.trace().of_kind(EventKind::kQueue)) deferred += e->as<QueuePayload>()->state == "deferred";
  const double sim_days = static_cast<double>(world.engine().now()) / static_cast<double>(kDay);
  std::printf("simulator: %d servers, %d messages (%s), %d servers down for an hour\n", servers, messages,
              tls ? "STARTTLS" : "plain SMTP", down);
  std::printf("  delivered %zu, deferrals %zu, bounced %zu, simulated time %.2f h, trace %zu events\n", delivered,
              deferred, bounced, static_cast<double>(world.engine().now()) / static_cast<double>(kHour),
              world.trace().size());
  std::printf("  wall %.2f s: %.0f simulated events/s, %.0f messages/s (full SMTP dialogue each)\n", wall,
              static_cast<double>(r.events) / wall, static_cast<double>(delivered) / wall);
  std::printf("  wall time per simulated day: %.2f s\n", sim_days > 0 ? wall / sim_days : 0.0);
  std::printf("  peak memory %.1f MB (%.2f KB per message, trace included)\n", peak_rss_kb() / 1024.0,
              static_cast<double>(peak_rss_kb()) / messages);
  return delivered == static_cast<std::size_t>(messages) ? 0 : 1;
}
