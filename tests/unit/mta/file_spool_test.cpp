// FileSpool: the queue survives the process. Write, drop the object, reopen
// the directory: every message comes back with its recipients' states.
#include "real/mta/file_spool.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <random>

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

}  // namespace

TEST_CASE("FileSpool: entries and their recipient states come back after a restart") {
  TempDir dir;
  {
    FileSpool spool(dir.path);
    bool ok = false;
    auto q = sample("0000AAAA0001");
    spool.put(q, [&](bool r) { ok = r; });
    CHECK(ok);
    // One recipient delivered, one deferred: the update is appended, durably.
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
    // A message with a body containing the record separators survives too.
    auto tricky = sample("0000AAAA0002");
    tricky.message = "Subject: x\r\n\r\nS {\"state\":\"delivered\"}\nM 5\nE {}\n";
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
  CHECK(all[1].message == "Subject: x\r\n\r\nS {\"state\":\"delivered\"}\nM 5\nE {}\n");
  CHECK(all[1].state == QueueState::incoming);
  CHECK(reopened.damaged().empty());
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

  // And through an Mta: recovered and delivered on the next turn.
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

TEST_CASE("FileSpool: a torn status record and a leftover temp file are ignored") {
  TempDir dir;
  {
    FileSpool spool(dir.path);
    auto q = sample("0000CCCC0001");
    spool.put(q, nullptr);
    q.state = QueueState::deferred;
    q.recipients[0].state = RecipientState::delivered;
    spool.update(q, nullptr);
  }
  // A crash in the middle of the next append, and in the middle of a put.
  {
    std::ofstream f(dir.path / "0000CCCC0001.q", std::ios::app | std::ios::binary);
    f << "S {\"state\":\"bounced\",\"recipi";
  }
  {
    std::ofstream f(dir.path / ".0000DDDD0001.tmp", std::ios::binary);
    f << "mailsim-spool 1\nE {\"id\":";
  }
  // And something that is not a spool file at all.
  {
    std::ofstream f(dir.path / "0000EEEE0001.q", std::ios::binary);
    f << "garbage";
  }
  FileSpool reopened(dir.path);
  auto all = reopened.load_all();
  REQUIRE(all.size() == 1);
  CHECK(all[0].state == QueueState::deferred);  // the last complete record
  CHECK(all[0].recipients[0].state == RecipientState::delivered);
  CHECK_FALSE(fs::exists(dir.path / ".0000DDDD0001.tmp"));
  CHECK(reopened.damaged() == std::vector<std::string>{"0000EEEE0001.q"});
}

TEST_CASE("FileSpool: puts of the same moment share one directory fsync (group commit)") {
  TempDir dir;
  FakeClock clock;
  FileSpool spool(dir.path, &clock, 2 * kMillisecond);
  int done = 0;
  for (int i = 0; i < 5; ++i) spool.put(sample("0000FFFF000" + std::to_string(i)), [&](bool ok) { done += ok; });
  // Renamed already, but not acknowledged before the directory is synced.
  CHECK(done == 0);
  CHECK(fs::exists(dir.path / "0000FFFF0003.q"));
  clock.run_until(2 * kMillisecond);
  CHECK(done == 5);
  CHECK(spool.directory_syncs() == 1);
  // flush() commits at once.
  spool.put(sample("0000FFFF0009"), [&](bool ok) { done += ok; });
  spool.flush();
  CHECK(done == 6);
  CHECK(spool.directory_syncs() == 2);
  spool.remove("0000FFFF0009", nullptr);
  CHECK_FALSE(fs::exists(dir.path / "0000FFFF0009.q"));
  CHECK(spool.load_all().size() == 5);
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
