// FileSpool: the queue survives the process. Write, drop the object, reopen
// the directory: every message comes back with its recipients' states; a torn
// or damaged record is recognised; puts share syncs (group commit); dead
// segments are deleted and long-lived entries copied forward (compaction).
#include "real/mta/file_spool.h"

#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "tests/unit/mta/harness.h"

using namespace mailsim::mta;
using namespace mailsim::mta::testing;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    std::random_device rd;
    path = fs::temp_directory_path() / ("mailsim-spool-test-" + std::to_string(rd()));
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

FileSpoolOptions segments_of(std::uint64_t bytes) {
  FileSpoolOptions o;
  o.segment_size = bytes;
  return o;
}

QueueEntry sample(const std::string& id) {
  QueueEntry q;
  q.id = id;
  q.sender = "alice@alpha.example";
  q.recipients = {pending_recipient("bob@beta.example"), pending_recipient("carol@beta.example")};
  q.message = kLunch;
  q.client = "alice-pc [10.0.0.2]";
  q.arrival = 1000 * kSecond;
  q.next_attempt = 1000 * kSecond;
  return q;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<fs::path> segments_in(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& de : fs::directory_iterator(dir))
    if (de.path().filename().string().starts_with("segment-")) out.push_back(de.path());
  std::sort(out.begin(), out.end());
  return out;
}

// Where the records of a segment end (the unused space is zero bytes; the
// test messages contain none).
std::size_t end_of_records(const fs::path& segment) {
  const std::string data = slurp(segment);
  const auto z = data.find('\0');
  return z == std::string::npos ? data.size() : z;
}

void write_at(const fs::path& p, std::size_t offset, const std::string& bytes) {
  std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// An event loop of the test's own: the committer thread posts completions
// here, the test runs them on its thread.
struct PostQueue {
  std::mutex m;
  std::condition_variable cv;
  std::deque<std::function<void()>> q;
  void post(std::function<void()> fn) {
    {
      std::lock_guard lock(m);
      q.push_back(std::move(fn));
    }
    cv.notify_all();
  }
  // Runs posted functions until `done()` holds (false if nothing came for a
  // long while: a hung committer, reported by the CHECK that follows).
  template <class Pred>
  bool run_until(Pred done) {
    while (!done()) {
      std::function<void()> fn;
      {
        std::unique_lock lock(m);
        if (!cv.wait_for(lock, std::chrono::seconds(60), [&] { return !q.empty(); })) return false;
        fn = std::move(q.front());
        q.pop_front();
      }
      fn();
    }
    return true;
  }
};

}  // namespace

TEST_CASE("FileSpool: entries and their recipient states come back after a restart") {
  TempDir dir;
  {
    FileSpool spool(dir.path);
    bool ok = false;
    auto q = sample("0000AAAA0001");
    spool.put(q, [&](bool r) { ok = r; });
    CHECK(ok);
    // One recipient delivered, one deferred: the update is appended.
    q.state = QueueState::deferred;
    q.attempts = 1;
    q.next_attempt = 1300 * kSecond;
    q.recipients[0].state = RecipientState::delivered;
    q.recipients[0].status = "2.0.0";
    q.recipients[1].state = RecipientState::deferred;
    q.recipients[1].status = "4.2.1";
    q.recipients[1].diagnostic = "450 4.2.1 mailbox busy";
    q.recipients[1].remote_mta = "mx.beta.example";
    ok = false;
    spool.update(q, [&](bool r) { ok = r; });
    CHECK(ok);
    // A message with a body containing record-like lines survives too.
    auto tricky = sample("0000AAAA0002");
    tricky.message = "Subject: x\r\n\r\nU 0000AAAA0001 5 00000000\nD 0000AAAA0002 0 00000000\n\nE {}\n";
    spool.put(tricky, nullptr);
  }  // the process stops

  FileSpool reopened(dir.path);
  auto all = reopened.load_all();
  REQUIRE(all.size() == 2);
  const auto& q = all[0];
  CHECK(q.id == "0000AAAA0001");
  CHECK(q.sender == "alice@alpha.example");
  CHECK(q.message == kLunch);
  CHECK(q.client == "alice-pc [10.0.0.2]");
  CHECK(q.arrival == 1000 * kSecond);
  CHECK(q.state == QueueState::deferred);
  CHECK(q.attempts == 1);
  CHECK(q.next_attempt == 1300 * kSecond);
  REQUIRE(q.recipients.size() == 2);
  CHECK(q.recipients[0].state == RecipientState::delivered);
  CHECK(q.recipients[1].state == RecipientState::deferred);
  CHECK(q.recipients[1].diagnostic == "450 4.2.1 mailbox busy");
  CHECK(q.recipients[1].remote_mta == "mx.beta.example");
  CHECK(all[1].message == "Subject: x\r\n\r\nU 0000AAAA0001 5 00000000\nD 0000AAAA0002 0 00000000\n\nE {}\n");
  CHECK(all[1].state == QueueState::incoming);
  CHECK(reopened.damaged().empty());
  // Opening copied both into one fresh segment and deleted the old one.
  CHECK(reopened.segment_files().size() == 1);
}

TEST_CASE("FileSpool: the journal is readable text") {
  TempDir dir;
  FileSpool spool(dir.path);
  auto q = sample("0000ABAB0001");
  spool.put(q, nullptr);
  q.state = QueueState::active;
  spool.update(q, nullptr);
  spool.remove(q.id, nullptr);
  const auto segs = segments_in(dir.path);
  REQUIRE(segs.size() == 1);
  const std::string text = slurp(segs[0]).substr(0, end_of_records(segs[0]));
  CHECK(text.starts_with("mailsim-journal 1 segment 1\nP 0000ABAB0001 "));
  CHECK(text.find("\"sender\":\"alice@alpha.example\"") != std::string::npos);
  CHECK(text.find("\nU 0000ABAB0001 ") != std::string::npos);
  CHECK(text.find("\"state\":\"active\"") != std::string::npos);
  const auto d = text.rfind("\nD 0000ABAB0001 0 ");
  REQUIRE(d != std::string::npos);
  CHECK(text.size() == d + 18 + 8 + 2);  // "<crc>\n" and the empty payload's "\n"
}

TEST_CASE("FileSpool: entries come back in the order they were queued, removed ones do not") {
  TempDir dir;
  {
    FileSpool spool(dir.path, segments_of(4096));
    for (const char* id : {"0000C0000003", "0000A0000001", "0000B0000002", "0000D0000004"}) spool.put(sample(id), nullptr);
    spool.remove("0000B0000002", nullptr);
    auto q = sample("0000A0000001");
    q.state = QueueState::deferred;
    spool.update(q, nullptr);
  }
  std::vector<std::string> ids;
  {
    FileSpool reopened(dir.path, segments_of(4096));
    for (const auto& e : reopened.load_all()) ids.push_back(e.id);
  }
  CHECK(ids == std::vector<std::string>{"0000C0000003", "0000A0000001", "0000D0000004"});
  // A second restart replays the compacted copies: same order, same states.
  FileSpool again(dir.path);
  auto all = again.load_all();
  REQUIRE(all.size() == 3);
  CHECK(all[0].id == "0000C0000003");
  CHECK(all[1].id == "0000A0000001");
  CHECK(all[1].state == QueueState::deferred);
  CHECK(all[2].id == "0000D0000004");
}

TEST_CASE("FileSpool: a message that was active at the crash comes back deferred and ready") {
  TempDir dir;
  {
    FileSpool spool(dir.path);
    auto q = sample("0000BBBB0001");
    spool.put(q, nullptr);
    q.state = QueueState::active;  // delivery was under way
    q.attempts = 1;
    spool.update(q, nullptr);
  }
  FileSpool reopened(dir.path);
  auto all = reopened.load_all();
  REQUIRE(all.size() == 1);
  CHECK(all[0].state == QueueState::active);  // as on disk
  recover_entry(all[0], 5000 * kSecond);
  CHECK(all[0].state == QueueState::deferred);
  CHECK(all[0].next_attempt == 5000 * kSecond);

  // And through an Mta: recovered and delivered on the next turn. (load_all
  // again: the Mta gets the replay a second time, as a check of the files.)
  Harness h;
  h.clock.run_until(5000 * kSecond);
  Mta mta(h.config, MtaServices{h.clock, h.dns, reopened, h.net, &h.boxes, h.log.sink()});
  mta.start();
  REQUIRE(mta.find("0000BBBB0001"));
  CHECK(mta.find("0000BBBB0001")->state == QueueState::deferred);
  h.clock.settle();
  CHECK(h.net.server("192.0.2.10").received.size() == 1);
  CHECK(mta.queue().empty());
  CHECK(FileSpool(dir.path).load_all().empty());  // removed from disk once done
}

TEST_CASE("FileSpool: a torn record at the end (a crash inside write()) is ignored") {
  TempDir dir;
  {
    FileSpool spool(dir.path);
    auto q = sample("0000CCCC0001");
    spool.put(q, nullptr);
    q.state = QueueState::deferred;
    q.recipients[0].state = RecipientState::delivered;
    spool.update(q, nullptr);
  }
  auto segs = segments_in(dir.path);
  REQUIRE(segs.size() == 1);
  const auto end = end_of_records(segs[0]);
  SECTION("a status update cut short") {
    write_at(segs[0], end, "U 0000CCCC0001 120 1a2b3c4d\n{\"state\":\"bounced\",\"recipi");
  }
  SECTION("a put cut short: nobody was told it was queued") {
    write_at(segs[0], end, "P 0000DDDD0001 900 1a2b3c4d\n{\"id\":\"0000DDDD0001\",\"sender\"");
  }
  SECTION("only the header line made it") { write_at(segs[0], end, "P 0000DDDD0001 900 1a2b"); }
  // And a temp file of the old format's put that never completed.
  {
    std::ofstream f(dir.path / ".0000EEEE0001.tmp", std::ios::binary);
    f << "mailsim-spool 1\nE {\"id\":";
  }
  FileSpool reopened(dir.path);
  auto all = reopened.load_all();
  REQUIRE(all.size() == 1);
  CHECK(all[0].id == "0000CCCC0001");
  CHECK(all[0].state == QueueState::deferred);  // the last complete record
  CHECK(all[0].recipients[0].state == RecipientState::delivered);
  REQUIRE(reopened.damaged().size() == 1);
  CHECK(reopened.damaged()[0].find(segs[0].filename().string() + ": damaged record at offset " +
                                   std::to_string(end)) == 0);
  CHECK_FALSE(fs::exists(dir.path / ".0000EEEE0001.tmp"));
  // The torn tail went with its segment; the next start is clean.
  CHECK_FALSE(fs::exists(segs[0]));
  FileSpool third(dir.path);
  CHECK(third.load_all().size() == 1);
  CHECK(third.damaged().empty());
}

TEST_CASE("FileSpool: a record whose checksum does not match ends the replay of its segment") {
  TempDir dir;
  {
    FileSpool spool(dir.path);
    auto q = sample("0000CDCD0001");
    spool.put(q, nullptr);
    q.state = QueueState::deferred;
    q.attempts = 1;
    spool.update(q, nullptr);
    q.attempts = 2;
    spool.update(q, nullptr);
  }
  auto segs = segments_in(dir.path);
  REQUIRE(segs.size() == 1);
  std::string data = slurp(segs[0]);
  // Flip one byte in the first update's payload ("attempts":1 -> 7).
  const auto first_update = data.find("\nU 0000CDCD0001 ");
  REQUIRE(first_update != std::string::npos);
  const auto digit = data.find("\"attempts\":1", first_update);
  REQUIRE(digit != std::string::npos);
  write_at(segs[0], digit + 11, "7");
  FileSpool reopened(dir.path);
  auto all = reopened.load_all();
  REQUIRE(all.size() == 1);
  // Neither the damaged update nor the one after it (framing is not trusted
  // past damage): the entry is as put.
  CHECK(all[0].attempts == 0);
  CHECK(all[0].state == QueueState::incoming);
  REQUIRE(reopened.damaged().size() == 1);
  CHECK(reopened.damaged()[0].find("checksum mismatch") != std::string::npos);
}

TEST_CASE("FileSpool: a segment never appended to after a crash; the next start begins a new one") {
  TempDir dir;
  { FileSpool(dir.path).put(sample("0000ACAC0001"), nullptr); }
  const auto before = segments_in(dir.path);
  REQUIRE(before.size() == 1);
  FileSpool reopened(dir.path);
  reopened.put(sample("0000ACAC0002"), nullptr);
  const auto after = segments_in(dir.path);
  REQUIRE(after.size() == 1);
  CHECK(after[0] != before[0]);
  CHECK(after[0].filename().string() == "segment-000000000002.log");
}

TEST_CASE("FileSpool: puts of the same moment share one sync (group commit, clock)") {
  TempDir dir;
  FakeClock clock;
  FileSpool spool(dir.path, &clock, 2 * kMillisecond);
  spool.load_all();
  const auto syncs = spool.syncs();
  int done = 0;
  for (int i = 0; i < 5; ++i) spool.put(sample("0000FFFF000" + std::to_string(i)), [&](bool ok) { done += ok; });
  // Written, but not acknowledged before the sync.
  CHECK(done == 0);
  CHECK(spool.syncs() == syncs);
  clock.run_until(2 * kMillisecond);
  CHECK(done == 5);
  CHECK(spool.syncs() == syncs + 1);
  // flush() commits at once.
  spool.put(sample("0000FFFF0009"), [&](bool ok) { done += ok; });
  spool.flush();
  CHECK(done == 6);
  CHECK(spool.syncs() == syncs + 2);
  spool.remove("0000FFFF0009", nullptr);
  CHECK(spool.load_all().size() == 5);
}

TEST_CASE("FileSpool: with a committer thread, puts that arrive during a sync share the next one") {
  TempDir dir;
  PostQueue loop;
  FileSpoolOptions options;
  options.post = [&loop](std::function<void()> fn) { loop.post(std::move(fn)); };
  FileSpool spool(dir.path, options);
  spool.load_all();
  const auto syncs = spool.syncs();
  // Hold the committer as if it were busy with a slow fdatasync.
  spool.hold_commits(true);
  int done = 0;
  for (int i = 0; i < 10; ++i) spool.put(sample("0000EEEE00" + std::to_string(10 + i)), [&](bool ok) { done += ok; });
  CHECK(done == 0);  // not before the sync
  spool.hold_commits(false);
  REQUIRE(loop.run_until([&] { return done == 10; }));
  CHECK(spool.syncs() == syncs + 1);  // ten puts, one fdatasync

  // A status update is acknowledged at once and synced within the delay.
  auto q = sample("0000EEEE0010");
  q.state = QueueState::deferred;
  bool updated = false;
  spool.update(q, [&](bool ok) { updated = ok; });
  CHECK(updated);
  // It is on disk in the sense of the page cache already: a fresh replay sees it.
  auto all = spool.load_all();
  REQUIRE(all.size() == 10);
  CHECK(all[0].state == QueueState::deferred);
}

TEST_CASE("FileSpool: a status update is in the file when done() runs, before any sync") {
  // The child process writes, hears done, and dies without a sync or a
  // destructor (as under SIGKILL): the record is in the page cache.
  TempDir dir;
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    FakeClock clock;  // never advanced: the commit window never ends
    auto* spool = new FileSpool(dir.path, &clock, kSecond);
    auto q = sample("0000F0F00001");
    bool acked = false;
    spool->put(q, [&](bool ok) { acked = ok; });
    spool->flush();
    q.recipients[0].state = RecipientState::delivered;
    bool updated = false;
    spool->update(q, [&](bool ok) { updated = ok; });
    ::_exit(acked && updated ? 0 : 1);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  FileSpool reopened(dir.path);
  auto all = reopened.load_all();
  REQUIRE(all.size() == 1);
  CHECK(all[0].recipients[0].state == RecipientState::delivered);
}

TEST_CASE("FileSpool: dead segments are deleted, a long-lived entry is copied forward") {
  TempDir dir;
  const FileSpoolOptions small = segments_of(8192);
  QueueEntry deferred = sample("0000DEF00001");
  {
    FileSpool spool(dir.path, small);
    spool.put(deferred, nullptr);
    deferred.state = QueueState::deferred;
    deferred.attempts = 3;
    deferred.last_reason = "451 try later";
    spool.update(deferred, nullptr);
    // Many messages come and go while it waits.
    std::size_t most_segments = 0;
    for (int i = 0; i < 200; ++i) {
      char id[16];
      std::snprintf(id, sizeof id, "0000%08X", 0x10000 + i);
      auto q = sample(id);
      spool.put(q, nullptr);
      q.state = QueueState::active;
      spool.update(q, nullptr);
      spool.remove(id, nullptr);
      most_segments = std::max(most_segments, spool.segment_files().size());
    }
    const auto s = spool.stats();
    CHECK(s.segments_created > 20);  // the traffic filled many segments...
    CHECK(most_segments <= 3);       // ...but only a few were ever on disk at once
    CHECK(s.segments_deleted + spool.segment_files().size() == s.segments_created);
    CHECK(s.entries_compacted >= 1);  // the deferred entry moved forward
    const auto replayed = spool.load_all();
    for (const auto& d : spool.damaged()) INFO(d);
    CHECK(spool.damaged().empty());
    CHECK(replayed.size() == 1);
  }
  FileSpool reopened(dir.path, small);
  auto all = reopened.load_all();
  REQUIRE(all.size() == 1);
  CHECK(all[0].id == "0000DEF00001");
  CHECK(all[0].message == kLunch);
  CHECK(all[0].state == QueueState::deferred);
  CHECK(all[0].attempts == 3);
  CHECK(all[0].last_reason == "451 try later");
  CHECK(reopened.damaged().empty());
}

TEST_CASE("FileSpool: a message bigger than a segment gets a segment of its own") {
  TempDir dir;
  auto big = sample("0000B1600001");
  big.message = "Subject: big\r\n\r\n" + std::string(20000, 'x') + "\r\n";
  {
    FileSpool spool(dir.path, segments_of(4096));
    bool ok = false;
    spool.put(big, [&](bool r) { ok = r; });
    CHECK(ok);
    spool.put(sample("0000B1600002"), nullptr);
  }
  FileSpool reopened(dir.path, segments_of(4096));
  auto all = reopened.load_all();
  REQUIRE(all.size() == 2);
  CHECK(all[0].message == big.message);
}

TEST_CASE("FileSpool: queue files of the old format are imported") {
  TempDir dir;
  {
    std::ofstream f(dir.path / "0000OLD00001.q", std::ios::binary);
    auto q = sample("0000OLD00001");
    f << "mailsim-spool 1\nE " << envelope_to_json(q) << "\nM " << q.message.size() << "\n"
      << q.message << "\nS " << status_to_json(q) << "\n";
    q.state = QueueState::deferred;
    f << "S " << status_to_json(q) << "\n";
  }
  {
    std::ofstream f(dir.path / "0000OLD00002.q", std::ios::binary);
    f << "garbage";
  }
  FileSpool spool(dir.path);
  auto all = spool.load_all();
  REQUIRE(all.size() == 1);
  CHECK(all[0].id == "0000OLD00001");
  CHECK(all[0].state == QueueState::deferred);
  CHECK(all[0].message == kLunch);
  CHECK_FALSE(fs::exists(dir.path / "0000OLD00001.q"));  // now in the journal
  CHECK(fs::exists(dir.path / "0000OLD00002.q"));         // unreadable: left for a person
  CHECK(spool.damaged().size() == 1);
  CHECK(FileSpool(dir.path).load_all().size() == 1);
}

TEST_CASE("FileSpool: an unwritable directory makes put() fail, so SMTP says 451") {
  TempDir dir;
  FileSpool spool(dir.path / "queue");
  fs::remove_all(dir.path / "queue");  // the directory vanished under us
  bool result = true;
  spool.put(sample("0000ABCD0001"), [&](bool ok) { result = ok; });
  CHECK_FALSE(result);
  bool updated = true;
  spool.update(sample("0000ABCD0001"), [&](bool ok) { updated = ok; });
  CHECK_FALSE(updated);
  CHECK_THROWS(spool.load_all());
}

TEST_CASE("MTA on a FileSpool: accept, crash, restart, deliver") {
  TempDir dir;
  Harness h;
  h.net.server("192.0.2.10").up = false;
  QueueId id;
  {
    FileSpool spool(dir.path);
    Mta mta(h.config, MtaServices{h.clock, h.dns, spool, h.net, &h.boxes, h.log.sink()});
    mta.start();
    Reply reply;
    mta.receive(h.client, "alice@alpha.example", {"bob@beta.example"}, kLunch, [&](Reply r) { reply = r; });
    REQUIRE(reply.code == 250);
    id = reply.text.substr(14);
    h.clock.settle();  // first attempt fails: deferred until 300 s
    REQUIRE(mta.find(id));
    CHECK(mta.find(id)->state == QueueState::deferred);
  }
  h.net.server("192.0.2.10").up = true;
  FileSpool spool(dir.path);
  Mta mta(h.config, MtaServices{h.clock, h.dns, spool, h.net, &h.boxes, h.log.sink()});
  mta.start();
  REQUIRE(mta.find(id));
  CHECK(mta.find(id)->next_attempt == 300 * kSecond);
  h.clock.run_until(300 * kSecond);
  CHECK(h.net.server("192.0.2.10").received.size() == 1);
  CHECK(spool.load_all().empty());
}

TEST_CASE("FileSpool: put_concurrent from several threads, answered by the committer after the sync") {
  // real/net's SMTP connections store their messages from their own io
  // threads; the 250 must wait for the fdatasync, and must not wait for a
  // turn of the owner's thread (nothing is run here until the end).
  TempDir dir;
  PostQueue owner;
  FileSpoolOptions options;
  options.post = [&owner](std::function<void()> fn) { owner.post(std::move(fn)); };
  FileSpool spool(dir.path, options);
  spool.load_all();
  const auto syncs_before = spool.syncs();
  spool.hold_commits(true);
  std::mutex m;
  std::condition_variable cv;
  int durable = 0;
  std::set<std::thread::id> answered_on;
  std::atomic<int> refused{0};  // Catch2 assertions stay on the test's thread
  std::vector<std::thread> connections;
  for (int t = 0; t < 4; ++t) {
    connections.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        char id[16];
        std::snprintf(id, sizeof id, "0000CCCC%02d%02d", t, i);
        const bool taken = spool.put_concurrent(sample(id), [&](bool ok) {
          std::lock_guard lock(m);
          durable += ok;
          answered_on.insert(std::this_thread::get_id());
          cv.notify_all();
        });
        if (!taken) ++refused;
      }
    });
  }
  for (auto& c : connections) c.join();
  CHECK(refused == 0);
  {
    std::lock_guard lock(m);
    CHECK(durable == 0);  // held: nothing is synced, nobody hears "durable"
  }
  spool.hold_commits(false);
  {
    std::unique_lock lock(m);
    REQUIRE(cv.wait_for(lock, std::chrono::seconds(60), [&] { return durable == 100; }));
    // All on the committer thread: neither a connection's nor the owner's.
    CHECK(answered_on.size() == 1);
    CHECK(answered_on.count(std::this_thread::get_id()) == 0);
  }
  CHECK(spool.syncs() == syncs_before + 1);  // 100 puts from 4 threads, one fdatasync
  CHECK(spool.contains("0000CCCC0307"));
  // An id that is queued is never replaced; its callback is never called.
  bool called = false;
  CHECK_FALSE(spool.put_concurrent(sample("0000CCCC0307"), [&](bool) { called = true; }));
  CHECK_FALSE(called);
  // The owner's bookkeeping of those rounds still runs on its own thread.
  owner.run_until([&] { return true; });
  auto all = spool.load_all();
  CHECK(all.size() == 100);
}

TEST_CASE("FileSpool: a lone connection's put_concurrent syncs on its own thread and hears durable before it returns") {
  // The one-connection case of `mailsim serve`: no thread hand-off between
  // the end of DATA and the 250, and the record is on disk when it is sent.
  TempDir dir;
  PostQueue owner;
  FileSpoolOptions options;
  options.post = [&owner](std::function<void()> fn) { owner.post(std::move(fn)); };
  FileSpool spool(dir.path, options);
  spool.load_all();
  const auto syncs_before = spool.syncs();
  std::thread::id answered_on;
  int durable = 0;
  REQUIRE(spool.put_concurrent(sample("0000DDDD0001"), [&](bool ok) {
    durable += ok;
    answered_on = std::this_thread::get_id();
  }, true));
  CHECK(durable == 1);  // already: the caller ran the fdatasync
  CHECK(answered_on == std::this_thread::get_id());
  CHECK(spool.syncs() == syncs_before + 1);

  // While commits are held (as while another round runs) the caller does not
  // sync: it returns at once, and the committer answers later.
  spool.hold_commits(true);
  std::mutex m;
  std::condition_variable cv;
  bool second = false;
  std::thread::id second_on;
  REQUIRE(spool.put_concurrent(sample("0000DDDD0002"), [&](bool ok) {
    std::lock_guard lock(m);
    second = ok;
    second_on = std::this_thread::get_id();
    cv.notify_all();
  }, true));
  {
    std::lock_guard lock(m);
    CHECK_FALSE(second);
  }
  spool.hold_commits(false);
  {
    std::unique_lock lock(m);
    REQUIRE(cv.wait_for(lock, std::chrono::seconds(60), [&] { return second; }));
    CHECK(second_on != std::this_thread::get_id());
  }
  owner.run_until([&] { return true; });
  // Both records are in the journal (load_all replays it from the disk).
  CHECK(spool.load_all().size() == 2);
}

TEST_CASE("FileSpool: a remote reply that is not UTF-8 is kept (as U+FFFD), and the deferral is recorded") {
  // A server answering in Latin-1 ("450 Bo\xEEte pleine") must not make the
  // queue's status record unwritable: the deferral and its retry time have
  // to survive a restart.
  TempDir dir;
  {
    FileSpool spool(dir.path);
    bool ok = false;
    auto q = sample("0000EEEE0001");
    spool.put(q, [&](bool r) { ok = r; });
    REQUIRE(ok);
    q.state = QueueState::deferred;
    q.attempts = 1;
    q.next_attempt = 1600 * kSecond;
    q.recipients[0].state = RecipientState::deferred;
    q.recipients[0].status = "4.2.2";
    q.recipients[0].diagnostic = std::string("450 4.2.2 Bo\xEEte pleine");
    q.last_reason = std::string("450 4.2.2 Bo\xEEte pleine");
    ok = false;
    spool.update(q, [&](bool r) { ok = r; });
    CHECK(ok);
  }
  FileSpool again(dir.path);
  auto all = again.load_all();
  REQUIRE(all.size() == 1);
  CHECK(all[0].state == QueueState::deferred);
  CHECK(all[0].next_attempt == 1600 * kSecond);
  CHECK(all[0].recipients[0].status == "4.2.2");
  CHECK(all[0].recipients[0].diagnostic == "450 4.2.2 Bo\xEF\xBF\xBDte pleine");
}
