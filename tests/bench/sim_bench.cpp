// Simulator benchmark (issue 6): a generated network of 1,000 mail hosts —
// 900 sending MTAs and 100 receiving domains' MX servers, plus a DNS server,
// behind 10 regional routers and one core router — delivers messages, each
// over a full SMTP dialogue between real/mta instances (real/smtp client and
// server sessions, the MTA queue, DNS MX and A lookups over the network,
// TCP-like segments), while 10% of the MX servers are down for a while and
// their senders defer and retry with backoff. Not part of ctest; run
// tests/bench/sim_bench.sh to see it beside smtp-source -> smtp-sink.
//
//   sim_bench [--senders N] [--receivers N] [--messages M] [--held N] [--held-only] [--body BYTES]
//             [--down-fraction F] [--burst SECONDS] [--tls] [--full-trace] [--seed S]
//
// The letters arrive at random times within the first --burst seconds:
// by default a simulated day (86,400 s), so each sender's letters mostly go
// one at a time, each over a connection of its own, like the one loopback
// session it is compared with. `--burst 2` posts them all within two
// seconds instead: tens of thousands sit in queues at once and thousands of
// dialogues run side by side (a stress run; tests/bench/sim_bench.sh shows
// both). The letters of the held phase below always come within 2 s.
//
// Memory per queued message is measured in a phase of its own, before the
// delivery run, in a world of its own: the same network, the same 10% of MX
// servers down (and staying down), and --held N letters (default: as many as
// --messages: the scale of the delivery run) addressed only to them, posted
// in two halves. Once every letter of a half has had its first attempt
// refused and waits deferred in its sender's queue (the retry is 5 minutes
// away) and nothing else is happening, the heap in use (tcmalloc's
// generic.current_allocated_bytes: every live allocation at its size class)
// is read. (after - before) / N is what a held letter costs on average — its
// queue entry, the spool's record, the retry timer, the message bytes,
// whatever connection records are left, and what the first letters to a
// destination leave in each host (cached DNS answers); the second half's
// delta / its count is what one more held letter costs. Nothing delivered,
// no mailbox and no in-flight dialogue is charged to them. RSS is printed
// too.
//
// The delivery run also prints its old upper bound, (RSS at the queue peak -
// RSS before the first message) / peak queued, which charges delivered
// letters, mailboxes and in-flight connections to whatever is queued.
//
// The trace is lean (events are counted, not stored: Trace::keep_only) unless
// --full-trace; the library scenarios and the view always keep the full one.
//
// Instructions of the run phase alone (deterministic, unlike the wall time on
// a shared machine):
//   valgrind --tool=callgrind
//     --toggle-collect='mailsim::sim::Engine::run(mailsim::sim::RunLimits)'
//     sim_bench --held 0 --messages 4000
#include "sim/roles/mail_server.h"
#include "sim/roles/roles.h"
#include "sim/world/world.h"

#include <gperftools/malloc_extension.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <unistd.h>

using namespace mailsim;
using namespace mailsim::sim;

namespace {

long peak_rss_kb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// Bytes the program has allocated and not freed (tcmalloc, the allocator
// mailsim runs with, counts each allocation at its size class).
std::size_t heap_in_use() {
  std::size_t bytes = 0;
  MallocExtension::instance()->GetNumericProperty("generic.current_allocated_bytes", &bytes);
  return bytes;
}

long current_rss_kb() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

std::string sender_domain(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "s%03d.example", i);
  return buf;
}
std::string receiver_domain(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "d%03d.example", i);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  int senders = 900;
  int receivers = 100;
  int messages = 100000;
  int held = -1;  // -1: as many as --messages
  bool held_only = false;  // measure the held letters, then leave (for a heap profiler)
  int body_bytes = 512;
  double down_fraction = 0.10;
  double burst_seconds = 86400.0;  // a simulated day
  bool tls = false;
  bool full_trace = false;
  std::uint64_t seed = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--senders") senders = std::atoi(next().c_str());
    else if (a == "--receivers") receivers = std::atoi(next().c_str());
    else if (a == "--messages") messages = std::atoi(next().c_str());
    else if (a == "--held") held = std::atoi(next().c_str());
    else if (a == "--held-only") held_only = true;
    else if (a == "--body") body_bytes = std::atoi(next().c_str());
    else if (a == "--down-fraction") down_fraction = std::atof(next().c_str());
    else if (a == "--burst") burst_seconds = std::atof(next().c_str());
    else if (a == "--tls") tls = true;
    else if (a == "--full-trace") full_trace = true;
    else if (a == "--seed") seed = std::strtoull(next().c_str(), nullptr, 10);
    else {
      std::fprintf(stderr,
                   "usage: %s [--senders N] [--receivers N] [--messages M] [--held N] [--held-only] [--body BYTES]\n"
                   "          [--down-fraction F] [--burst SECONDS] [--tls] [--full-trace] [--seed S]\n",
                   argv[0]);
      return 2;
    }
  }
  if (held == -1) held = messages;
  if (senders < 1 || receivers < 1 || messages < 1 || held < 0 || body_bytes < 0 || burst_seconds < 0) {
    std::fprintf(stderr, "sim_bench: counts must be positive\n");
    return 2;
  }

  // ---- the network ----------------------------------------------------------
  // Built twice from the same seed: once for the held-letter phase (the down
  // servers never come back) and once for the delivery run.
  constexpr int kRegions = 10;
  auto make_scenario = [&](Random& rnd, bool down_for_good, std::vector<int>* down_receivers) {
    Scenario s;
    s.title = "benchmark";
    s.seed = seed;
    auto add_link = [&](const std::string& a, const std::string& b, Time latency) {
      LinkSpec l;
      l.a = a;
      l.b = b;
      l.latency = latency;
      s.links.push_back(l);
    };
    HostSpec core;
    core.name = "core";
    core.role = HostRole::kRouter;
    s.hosts.push_back(core);
    for (int r = 0; r < kRegions; ++r) {
      HostSpec router;
      router.name = "r" + std::to_string(r);
      router.role = HostRole::kRouter;
      s.hosts.push_back(router);
      add_link("core", router.name, rnd.between(2, 10) * kMillisecond);
    }
    HostSpec dns;
    dns.name = "dns";
    dns.role = HostRole::kDns;
    s.hosts.push_back(dns);
    add_link("core", "dns", 1 * kMillisecond);
    s.dns.server = "dns";

    auto mail_host = [&](const std::string& domain, int index) {
      HostSpec h;
      h.name = "mail." + domain;
      h.role = HostRole::kMta;
      h.local_domains = {domain};
      h.users = {UserAccount{"user", "secret"}};
      h.mx.tls = tls ? Toggle::kOptional : Toggle::kOff;
      h.relay.outbound_tls = tls ? Toggle::kOptional : Toggle::kOff;
      h.queue.min_backoff = 5 * kMinute;
      h.queue.max_backoff = 1 * kHour;
      h.pop3 = ServiceSettings{false, 110, Toggle::kOff};
      h.imap = ServiceSettings{false, 143, Toggle::kOff};
      s.hosts.push_back(h);
      add_link("r" + std::to_string(index % kRegions), h.name, rnd.between(1, 20) * kMillisecond);
      DnsNameSpec d;
      d.name = domain;
      d.mx = {MxSpec{10, h.name}};
      s.dns.names.push_back(d);
    };
    for (int i = 0; i < senders; ++i) mail_host(sender_domain(i), i);
    for (int i = 0; i < receivers; ++i) mail_host(receiver_domain(i), i);
    std::sort(s.dns.names.begin(), s.dns.names.end(), [](const auto& a, const auto& b) { return a.name < b.name; });

    // 10% of the MX servers are down from the start for 30 to 120 minutes:
    // their letters wait in the senders' queues and are retried with backoff.
    const int down = static_cast<int>(receivers * down_fraction);
    std::vector<int> order(static_cast<std::size_t>(receivers));
    for (int i = 0; i < receivers; ++i) order[static_cast<std::size_t>(i)] = i;
    for (int i = receivers - 1; i > 0; --i)
      std::swap(order[static_cast<std::size_t>(i)], order[rnd.below(static_cast<std::uint64_t>(i + 1))]);
    for (int k = 0; k < down; ++k) {
      const std::string name = "mail." + receiver_domain(order[static_cast<std::size_t>(k)]);
      const Time until = rnd.between(30, 120) * kMinute;
      s.timeline.push_back(TimelineItem{0, HostAction{name, false, false}, "", "", ""});
      if (!down_for_good) s.timeline.push_back(TimelineItem{until, HostAction{name, true, false}, "", "", ""});
      if (down_receivers) down_receivers->push_back(order[static_cast<std::size_t>(k)]);
    }
    std::stable_sort(s.timeline.begin(), s.timeline.end(), [](const auto& a, const auto& b) { return a.at < b.at; });
    return s;
  };
  const std::string body = [&] {
    std::string b;
    while (static_cast<int>(b.size()) < body_bytes) b += "The quick brown fox jumps over the lazy dog. 0123456789\r\n";
    b.resize(static_cast<std::size_t>(body_bytes));
    if (body_bytes >= 2) b.replace(b.size() - 2, 2, "\r\n");
    return b;
  }();
  const Time burst = static_cast<Time>(burst_seconds * 1e6);
  const Time held_burst = 2 * kSecond;  // the held phase's letters
  // Letters enter their senders' queues as if just submitted by a local user.
  auto submit = [&body](std::vector<roles::MailServer*>& sending, int from, int to, int m) {
    mta::ClientInfo client;
    client.address = "127.0.0.1";
    client.helo = "localhost";
    // Each string in one allocation: the harness's own work counts in the
    // run's time, but it is not what the run measures.
    std::string sender = "user@" + sender_domain(from);
    std::vector<std::string> rcpts(1, "user@" + receiver_domain(to));
    const std::string number = std::to_string(m);
    std::string msg;
    msg.reserve(80 + sender.size() + rcpts[0].size() + 2 * number.size() + body.size());
    msg.append("From: ").append(sender).append("\r\nTo: ").append(rcpts[0]).append("\r\nSubject: bench ");
    msg.append(number).append("\r\nMessage-ID: <").append(number).append("@bench.example>\r\n\r\n").append(body);
    sending[static_cast<std::size_t>(from)]->mta().receive(client, std::move(sender), std::move(rcpts), std::move(msg),
                                                           [](mta::Reply) {});
  };
  auto post = [&submit](World& world, std::vector<roles::MailServer*>& sending, int from, int to, int m, Time at) {
    world.engine().schedule_at(at, [&submit, &sending, from, to, m] { submit(sending, from, to, m); });
  };

  // ---- phase 1: what a held letter costs --------------------------------------
  std::size_t held_queued = 0;
  double held_heap_per = 0, held_heap_marginal = 0, held_rss_per = 0;
  const int down_count = static_cast<int>(receivers * down_fraction);
  auto print_held = [&] {
    std::printf("memory per queued (held) message: %.0f bytes of heap (%.0f B of RSS); one more held letter: %.0f B\n",
                held_heap_per, held_rss_per, held_heap_marginal);
    std::printf("  method: a separate world, same network, %d MX servers down for good; %d letters to them only,\n"
                "  posted in two halves; after each half every first attempt was refused (%zu deferred in the\n"
                "  queues at the end, retries 5 min away, nothing else happening). Heap = tcmalloc's\n"
                "  generic.current_allocated_bytes (live allocations at their size classes), RSS from /proc/self/statm.\n"
                "  per message = (heap after both halves - before) / %d, which includes what the first letters\n"
                "  to a destination leave per host (cached DNS answers); one more = second half's delta / its count\n",
                down_count, held, held_queued, held);
  };
  if (held > 0) {
    Random rnd(seed);
    std::vector<int> down_receivers;
    const Scenario hs = make_scenario(rnd, true, &down_receivers);
    World world(hs);
    world.trace().keep_only({});
    roles::RoleOptions ro;
    ro.record_data = false;
    roles::Roles cast(world, ro);
    std::vector<roles::MailServer*> sending;
    for (int i = 0; i < senders; ++i) sending.push_back(cast.server("mail." + sender_domain(i)));
    if (!down_receivers.empty()) {
      world.engine().run_until(0);  // the down servers go down
      // Two halves: the first also fills what a host keeps per destination,
      // not per letter (DNS answers cached for their TTL, the route tree);
      // the second shows what one more held letter costs.
      auto post_half = [&](int first, int count) {
        const Time start = world.engine().now();
        for (int m = first; m < first + count; ++m) {
          const int from = static_cast<int>(rnd.below(static_cast<std::uint64_t>(senders)));
          const int to = down_receivers[rnd.below(down_receivers.size())];
          const Time at = static_cast<Time>(rnd.below(static_cast<std::uint64_t>(held_burst)));
          post(world, sending, from, to, m, start + at);
        }
        // Every first attempt is refused within a second or so; the retries
        // are 5 minutes away. A minute after the burst everything is quiet.
        world.engine().run_until(start + held_burst + kMinute);
      };
      const int first_half = held / 2;
      const std::size_t heap0 = heap_in_use();
      const long rss0 = current_rss_kb();
      post_half(0, first_half);
      const std::size_t heap1 = heap_in_use();
      post_half(first_half, held - first_half);
      for (auto* srv : sending) held_queued += srv->mta().queued();
      const std::size_t heap2 = heap_in_use();
      const long rss2 = current_rss_kb();
      held_heap_per = static_cast<double>(heap2 - heap0) / static_cast<double>(held);
      held_heap_marginal = static_cast<double>(heap2 - heap1) / static_cast<double>(held - first_half);
      held_rss_per = static_cast<double>(rss2 - rss0) * 1024.0 / static_cast<double>(held);
      if (held_only) {
        // Leaves at once, the held letters still allocated, so a heap
        // profiler (heaptrack) lists them as the live memory at exit.
        // tests/bench/sim_bench.sh measures them this way, in a process of
        // their own, so the delivery runs start from a fresh heap.
        print_held();
        std::printf("RESULT held bytes_per_queued=%.0f rss_per_queued=%.0f marginal_per_queued=%.0f\n",
                    held_heap_per, held_rss_per, held_heap_marginal);
        std::fflush(stdout);
        _exit(0);
      }
    }
  }
  MallocExtension::instance()->ReleaseFreeMemory();

  // ---- phase 2: the delivery run ----------------------------------------------
  Random rnd(seed);
  const Scenario s = make_scenario(rnd, false, nullptr);
  const int down = static_cast<int>(receivers * down_fraction);
  const auto t0 = std::chrono::steady_clock::now();
  World world(s);
  if (!full_trace) world.trace().keep_only({});
  roles::RoleOptions ro;
  ro.record_data = full_trace;
  roles::Roles cast(world, ro);
  std::vector<roles::MailServer*> sending, receiving;
  for (int i = 0; i < senders; ++i) sending.push_back(cast.server("mail." + sender_domain(i)));
  for (int i = 0; i < receivers; ++i) receiving.push_back(cast.server("mail." + receiver_domain(i)));
  const long baseline_kb = current_rss_kb();
  const auto t_built = std::chrono::steady_clock::now();
  const double cpu0 = cpu_seconds();  // the run's CPU, like its wall time, leaves out building the world

  // The letters' arrivals, drawn up front and posted one after the other by
  // a chain of events (one pending at a time, like a traffic generator), so
  // the engine's queue holds what the network is doing, not 100,000 letters
  // still to come.
  struct Arrival {
    Time at;
    int from, to, m;
  };
  std::vector<Arrival> arrivals;
  arrivals.reserve(static_cast<std::size_t>(messages));
  for (int m = 0; m < messages; ++m) {
    const int from = static_cast<int>(rnd.below(static_cast<std::uint64_t>(senders)));
    const int to = static_cast<int>(rnd.below(static_cast<std::uint64_t>(receivers)));
    const Time at = burst > 0 ? static_cast<Time>(rnd.below(static_cast<std::uint64_t>(burst))) : 0;
    arrivals.push_back(Arrival{at, from, to, m});
  }
  std::stable_sort(arrivals.begin(), arrivals.end(), [](const Arrival& a, const Arrival& b) { return a.at < b.at; });
  std::size_t next_arrival = 0;
  std::function<void()> arrive = [&] {
    // Every letter due now goes in at once, then the chain waits for the next.
    const Time now = world.engine().now();
    while (next_arrival < arrivals.size() && arrivals[next_arrival].at <= now) {
      const Arrival& a = arrivals[next_arrival++];
      submit(sending, a.from, a.to, a.m);
    }
    if (next_arrival < arrivals.size()) world.engine().schedule_at(arrivals[next_arrival].at, arrive);
  };
  if (!arrivals.empty()) world.engine().schedule_at(arrivals.front().at, arrive);
  // Count the queues now and then: a sampling event in the run, which reads
  // one size() of each of the 1,000 servers, all of them out of the cache
  // (in a run of 8,000 letters sampled every minute, two fifths of the
  // simulated L1 data misses were these reads; the harness's time counts as
  // the simulator's).
  std::size_t peak_queued = 0;
  Time peak_at = 0;
  long rss_at_peak_kb = 0;
  std::function<void()> sample = [&] {
    const Time now = world.engine().now();
    std::size_t q = 0;
    for (auto* srv : sending) q += srv->mta().queued();
    for (auto* srv : receiving) q += srv->mta().queued();
    if (q > peak_queued) {
      peak_queued = q;
      peak_at = now;
      rss_at_peak_kb = current_rss_kb();
    }
    // Through a short burst and the 10 s after it every 50 ms, then every
    // 10 s. Over a simulated day every 10 minutes (144 samples): the queues
    // swell while a tenth of the MX servers are down for 30-120 minutes, and
    // ebb as slowly.
    const Time step = burst > kHour ? (now < burst ? 10 * kMinute : 10 * kSecond)
                      : now < burst + 10 * kSecond ? 50 * kMillisecond
                                                   : 10 * kSecond;
    if (q > 0 || now < burst) world.engine().schedule_in(step, sample);
  };
  world.engine().schedule_at(0, sample);

  const RunResult r = world.run();
  const auto t1 = std::chrono::steady_clock::now();
  const double wall = std::chrono::duration<double>(t1 - t_built).count();
  const double cpu = cpu_seconds() - cpu0;
  const double build_wall = std::chrono::duration<double>(t_built - t0).count();

  const Trace& trace = world.trace();
  const std::uint64_t delivered = trace.count_of(EventKind::kDelivery);
  const std::uint64_t bounced = trace.count_of(EventKind::kBounce);
  const std::uint64_t retries = trace.count_of(EventKind::kRetry);
  std::uint64_t stored = 0;
  for (auto* srv : receiving) stored += static_cast<std::uint64_t>(srv->mailbox_count("user"));
  const double sim_days = static_cast<double>(world.engine().now()) / static_cast<double>(kDay);
  const long peak_kb = peak_rss_kb();
  const double per_queued = peak_queued > 0 ? static_cast<double>(rss_at_peak_kb - baseline_kb) * 1024.0 /
                                                  static_cast<double>(peak_queued)
                                            : 0.0;

  std::printf("simulator: %d hosts (%d sending MTAs, %d MX servers, DNS, %d routers), %zu links\n",
              static_cast<int>(s.hosts.size()), senders, receivers, kRegions + 1, s.links.size());
  const std::size_t header_bytes =
      std::string("From: user@s000.example\r\nTo: user@d000.example\r\nSubject: bench 50000\r\n"
                  "Message-ID: <50000@bench.example>\r\n\r\n").size();
  std::printf("  %d messages of about %zu bytes (body %d B + %zu B headers, then a Received: line; %s)\n", messages,
              body.size() + header_bytes, body_bytes, header_bytes, tls ? "STARTTLS" : "plain SMTP");
  std::printf("  %d MX servers down from the start for 30-120 minutes\n", down);
  std::printf("  delivered %llu (in mailboxes %llu), bounced %llu, retries scheduled %llu, simulated time %.2f h\n",
              static_cast<unsigned long long>(delivered), static_cast<unsigned long long>(stored),
              static_cast<unsigned long long>(bounced), static_cast<unsigned long long>(retries),
              static_cast<double>(world.engine().now()) / static_cast<double>(kHour));
  std::printf("  trace: %s, %llu events (%llu packets, %llu SMTP commands, %llu replies)\n",
              full_trace ? "full" : "lean (counted, not stored)",
              static_cast<unsigned long long>(trace.total_count()),
              static_cast<unsigned long long>(trace.count_of(EventKind::kPacket)),
              static_cast<unsigned long long>(trace.count_of(EventKind::kCommand)),
              static_cast<unsigned long long>(trace.count_of(EventKind::kReply)));
  std::printf("  building the world: %.2f s wall\n", build_wall);
  std::printf("  run: wall %.2f s, CPU %.2f s; %llu simulated events\n", wall, cpu,
              static_cast<unsigned long long>(r.events));
  std::printf("  %.0f simulated events/s wall (%.0f per CPU second)\n", static_cast<double>(r.events) / wall,
              static_cast<double>(r.events) / cpu);
  std::printf("  %.0f messages/s wall (%.0f per CPU second), a full SMTP dialogue each\n",
              static_cast<double>(delivered) / wall, static_cast<double>(delivered) / cpu);
  std::printf("  wall time per simulated day: %.2f s\n", sim_days > 0 ? wall / sim_days : 0.0);
  std::printf("  peak RSS %.1f MB, baseline before the first message %.1f MB\n", peak_kb / 1024.0,
              baseline_kb / 1024.0);
  std::printf("  connections not finished at the end: %zu (each finished one leaves the network's table)\n",
              world.network().live_connections());
  std::printf("  peak queued %zu messages at %.2f s simulated (RSS then %.1f MB)\n", peak_queued,
              static_cast<double>(peak_at) / 1e6, rss_at_peak_kb / 1024.0);
  std::printf("  upper bound per queued message in this run: %.0f bytes  [(RSS at the queue peak - baseline) / peak\n"
              "    queued; charges delivered letters, mailboxes and in-flight dialogues to the queued ones]\n",
              per_queued);
  if (held > 0) print_held();
  // One line for the script.
  std::printf("RESULT msgs_per_s=%.1f msgs_per_cpu_s=%.1f bytes_per_queued=%.0f rss_per_queued=%.0f "
              "marginal_per_queued=%.0f upper_bound_per_queued=%.0f delivered=%llu messages=%d\n",
              static_cast<double>(delivered) / wall, static_cast<double>(delivered) / cpu, held_heap_per,
              held_rss_per, held_heap_marginal, per_queued, static_cast<unsigned long long>(delivered), messages);
  return delivered == static_cast<std::uint64_t>(messages) ? 0 : 1;
}
