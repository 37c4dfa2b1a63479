// Frame time of the classroom view for a large generated run: 200 hosts and
// 2,000 letters in flight at once, rendered offscreen (run it under Xvfb:
// xvfb-run -a -s "-screen 0 1280x800x24" build/tests/ui/ui_frame_bench).
// Prints the median and 99th percentile of the frame time (build the scene,
// lay out and draw every panel, render, glFinish). Target: p99 < 16 ms.
// Beside them: CPU time per frame of all threads (the figure to compare on a
// shared machine) and the five slowest frames with what happened in them.
// Not part of ctest: timings depend on the machine.
#include "ui/view/app.h"

#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <sys/resource.h>
#include <string>

using namespace mailsim::ui;
using namespace mailsim::sim;

namespace {

// The world: 40 senders, 20 outgoing offices, 20 sorting offices, 110
// recipient offices, 8 recipient computers, a DNS directory, an eavesdropper.
World big_world() {
  World w;
  auto add = [&](std::string name, Place place) {
    WorldHost h;
    h.name = std::move(name);
    h.place = place;
    w.hosts.push_back(h);
    return w.hosts.size() - 1;
  };
  std::vector<std::size_t> senders, outgoing, relays, offices, computers;
  for (int i = 0; i < 40; ++i) senders.push_back(add("pc" + std::to_string(i), Place::kSenderComputer));
  for (int i = 0; i < 20; ++i) outgoing.push_back(add("out" + std::to_string(i) + ".example", Place::kOutgoingOffice));
  for (int i = 0; i < 20; ++i) relays.push_back(add("relay" + std::to_string(i) + ".example", Place::kSortingOffice));
  for (int i = 0; i < 110; ++i) offices.push_back(add("mx" + std::to_string(i) + ".example", Place::kRecipientOffice));
  for (int i = 0; i < 8; ++i) computers.push_back(add("phone" + std::to_string(i), Place::kRecipientComputer));
  add("dns", Place::kDnsDirectory);
  const std::size_t eve = add("eve", Place::kEavesdropper);
  for (std::size_t i = 0; i < senders.size(); ++i) w.ensure_link(senders[i], outgoing[i % outgoing.size()], 5 * kMillisecond);
  for (std::size_t i = 0; i < outgoing.size(); ++i) w.ensure_link(outgoing[i], relays[i], 20 * kMillisecond);
  for (std::size_t i = 0; i < offices.size(); ++i) w.ensure_link(relays[i % relays.size()], offices[i], 40 * kMillisecond);
  for (std::size_t i = 0; i < computers.size(); ++i) w.ensure_link(offices[i], computers[i], 5 * kMillisecond);
  w.links[static_cast<std::size_t>(45)].tapped_by = eve;
  layout_world(w);
  return w;
}

void event(std::vector<TraceEvent>& out, Time t, EventKind kind, std::string host, ConnId conn, Payload p) {
  TraceEvent e;
  e.seq = out.size();
  e.time = t;
  e.kind = kind;
  e.host = std::move(host);
  e.conn = conn;
  e.payload = std::move(p);
  out.push_back(std::move(e));
}

// 2,000 relay connections from sorting offices to recipient offices, each
// with a short dialogue and a letter that is on the road between 1 s and 3 s.
std::vector<TraceEvent> big_trace(const World& w) {
  std::vector<TraceEvent> out;
  const std::string content = "From: a@x\r\nSubject: news\r\nMessage-ID: <m@x>\r\n\r\nHello\r\n.\r\n";
  for (ConnId c = 1; c <= 2000; ++c) {
    const std::size_t relay = 60 + (c % 20);
    const std::size_t office = 80 + (c % 110);
    const std::string& from = w.hosts[relay].name;
    const std::string& to = w.hosts[office].name;
    const Time t0 = kSecond + static_cast<Time>(c) * 500;  // all start within one second
    event(out, t0, EventKind::kConnect, from, c, ConnPayload{to, "", 40000, "", 25, ""});
    event(out, t0, EventKind::kAccept, to, c, ConnPayload{from, "", 25, "", 40000, ""});
    event(out, t0, EventKind::kCommand, from, c, CommandPayload{"smtp", "MAIL", "MAIL FROM:<a@x>", "client"});
    event(out, t0, EventKind::kData, from, c, DataPayload{"out", "smtp", {"DATA\r\n" + content}, c % 2 == 0});
    PacketPayload p;
    p.from = from;
    p.to = to;
    p.path = {from, to};
    p.data.value = c % 2 == 0 ? std::string("\x17\x03\x03\x00\x40", 5) + std::string(64, 'x') : content;
    p.arrive = t0 + 2 * kSecond;
    event(out, t0, EventKind::kPacket, from, c, p);
    event(out, t0, EventKind::kQueue, from, 0,
          QueuePayload{"Q" + std::to_string(c), c % 5 == 0 ? "deferred" : "active", "a@x", {"b@y"}, "", 1,
                       c % 5 == 0 ? t0 + 10 * kMinute : 0});
  }
  std::stable_sort(out.begin(), out.end(), [](const TraceEvent& a, const TraceEvent& b) { return a.time < b.time; });
  return out;
}

// What the software rasteriser has to shade: the area of every triangle
// (clipped to its command's clip rectangle by its bounding box, an upper
// bound), per window, in megapixels. llvmpipe's cost is mostly this.
void print_shaded_area() {
  const ImDrawData* d = ImGui::GetDrawData();
  double total = 0;
  for (int n = 0; n < d->CmdListsCount; ++n) {
    const ImDrawList* dl = d->CmdLists[n];
    double area = 0;
    for (const ImDrawCmd& cmd : dl->CmdBuffer) {
      if (cmd.UserCallback != nullptr) continue;
      const ImVec4 r = cmd.ClipRect;
      for (unsigned k = 0; k + 2 < cmd.ElemCount; k += 3) {
        const ImDrawVert* v[3];
        for (int j = 0; j < 3; ++j) v[j] = &dl->VtxBuffer[static_cast<int>(cmd.VtxOffset + dl->IdxBuffer[static_cast<int>(cmd.IdxOffset + k) + j])];
        const double a = std::abs((v[1]->pos.x - v[0]->pos.x) * (v[2]->pos.y - v[0]->pos.y) -
                                  (v[2]->pos.x - v[0]->pos.x) * (v[1]->pos.y - v[0]->pos.y)) / 2;
        const float x0 = std::max(r.x, std::min({v[0]->pos.x, v[1]->pos.x, v[2]->pos.x}));
        const float x1 = std::min(r.z, std::max({v[0]->pos.x, v[1]->pos.x, v[2]->pos.x}));
        const float y0 = std::max(r.y, std::min({v[0]->pos.y, v[1]->pos.y, v[2]->pos.y}));
        const float y1 = std::min(r.w, std::max({v[0]->pos.y, v[1]->pos.y, v[2]->pos.y}));
        if (x1 > x0 && y1 > y0) area += std::min(a, static_cast<double>((x1 - x0) * (y1 - y0)));
      }
    }
    total += area;
    std::printf("  shaded by %-28s %6.3f Mpx in %d draw calls, %d vertices\n", dl->_OwnerName ? dl->_OwnerName : "?",
                area / 1e6, dl->CmdBuffer.Size, dl->VtxBuffer.Size);
  }
  std::printf("shaded area per frame: %.3f Mpx (the frame is %.3f Mpx)\n", total / 1e6,
              static_cast<double>(d->DisplaySize.x * d->DisplaySize.y) / 1e6);
}

}  // namespace

int main(int argc, char** argv) {
  const int frames = argc > 1 ? std::atoi(argv[1]) : 300;
  AppOptions options;
  App app(options);
  std::string error;
  if (!app.init(false, error)) {
    std::fprintf(stderr, "ui_frame_bench: %s (run under xvfb-run)\n", error.c_str());
    return 2;
  }
  World world = big_world();
  std::vector<TraceEvent> events = big_trace(world);
  LoadedRun run;
  run.world = std::move(world);
  run.events = std::move(events);
  app.set_run(std::move(run));
  // The busiest moment: every letter on the road.
  seek(app.index(), app.pace(), app.state(), cursor_at_time(app.index(), 2 * kSecond));
  app.state().playing = true;
  app.state().speed = 0.25;  // stay inside the busy second while measuring
  for (int i = 0; i < 20; ++i) app.render(1.0 / 60);
  const std::size_t in_flight = build_scene(app.index(), app.state().cursor).letters.size();
  {
    // The model alone: the scene at one moment.
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 20; ++i) (void)build_scene(app.index(), app.state().cursor);
    const double scene_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() / 20;
    std::printf("scene build: %.2f ms\n", scene_ms);
  }
  // Each frame: wall time, CPU time of all threads (llvmpipe rasterises on
  // its own threads: on a busy shared machine wall time overstates what an
  // idle one would need; CPU time does not), involuntary context switches
  // (a wall spike with none and no extra CPU is the machine, not the view),
  // and what changed in it, so the slow frames can be explained.
  struct FrameRecord {
    int frame = 0;
    double wall_ms = 0, cpu_ms = 0, ui_ms = 0;
    long preempted = 0, faults = 0;
    std::size_t applied = 0, letters = 0;
    int vertices = 0;
  };
  auto cpu_now = [] {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
  };
  auto usage = [] {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u;
  };
  std::vector<FrameRecord> rec;
  rec.reserve(static_cast<std::size_t>(frames));
  const double cpu_start = cpu_now();
  for (int i = 0; i < frames; ++i) {
    FrameRecord r;
    r.frame = i;
    const double c0 = cpu_now();
    const rusage u0 = usage();
    r.wall_ms = app.render(1.0 / 60) * 1000.0;
    r.cpu_ms = cpu_now() - c0;
    const rusage u1 = usage();
    r.preempted = u1.ru_nivcsw - u0.ru_nivcsw;
    r.faults = u1.ru_minflt - u0.ru_minflt;
    r.ui_ms = app.ui_seconds() * 1000.0;
    r.applied = app.state().cursor.applied;
    r.letters = app.report().letters.size();
    r.vertices = ImGui::GetDrawData()->TotalVtxCount;
    rec.push_back(r);
  }
  const double cpu_ms = (cpu_now() - cpu_start) / frames;
  auto percentile = [&](auto field, double q) {
    std::vector<double> v;
    for (const auto& r : rec) v.push_back(field(r));
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<std::size_t>(static_cast<double>(v.size()) * q))];
  };
  auto wall = [](const FrameRecord& r) { return r.wall_ms; };
  auto cpu = [](const FrameRecord& r) { return r.cpu_ms; };
  auto ui = [](const FrameRecord& r) { return r.ui_ms; };
  std::printf("of which scene + panels (CPU): median %.2f ms\n", percentile(ui, 0.5));
  std::printf("hosts %zu, letters in flight %zu, frames %d at %dx%d\n", app.index().world().hosts.size(), in_flight, frames,
              app.width(), app.height());
  std::printf("vertices per frame: %d, indices %d\n", ImGui::GetDrawData()->TotalVtxCount, ImGui::GetDrawData()->TotalIdxCount);
  print_shaded_area();
  // The slowest frames and what happened in them.
  std::vector<FrameRecord> slow = rec;
  std::sort(slow.begin(), slow.end(), [](const FrameRecord& a, const FrameRecord& b) { return a.wall_ms > b.wall_ms; });
  std::printf("slowest frames (wall, CPU all threads, view code, preemptions, page faults, events applied, letters, vertices):\n");
  for (std::size_t k = 0; k < std::min<std::size_t>(5, slow.size()); ++k) {
    const auto& r = slow[k];
    const std::size_t before = r.frame > 0 ? rec[static_cast<std::size_t>(r.frame - 1)].applied : r.applied;
    std::printf("  frame %3d: %6.2f ms wall, %6.2f ms CPU, %5.2f ms view, %ld preempted, %ld page faults, +%zu events, %zu letters, %d vertices\n",
                r.frame, r.wall_ms, r.cpu_ms, r.ui_ms, r.preempted, r.faults, r.applied - before, r.letters, r.vertices);
  }
  const double median = percentile(wall, 0.5), p99 = percentile(wall, 0.99);
  std::printf("frame time (wall): median %.2f ms, p99 %.2f ms, max %.2f ms (target p99 < 16 ms)\n", median, p99,
              slow.front().wall_ms);
  std::printf("CPU time per frame, all threads: mean %.2f ms, median %.2f ms, p99 %.2f ms\n", cpu_ms, percentile(cpu, 0.5),
              percentile(cpu, 0.99));
  if (FILE* f = std::fopen("/proc/loadavg", "r")) {
    char load[64] = {};
    if (std::fgets(load, sizeof load, f) != nullptr) std::printf("load average: %s", load);
    std::fclose(f);
  }
  if (argc > 2) {
    std::string error;
    app.write_png(argv[2], error);
  }
  return p99 < 16.0 ? 0 : 1;
}
