// MaildirDrop and LocalDelivery: durable, group-committed Maildir delivery
// that MaildirStore (and so POP3/IMAP) reads back byte for byte.
#include "real/net/local_delivery.h"
#include "real/net/maildir_drop.h"
#include "real/store/maildir_store.h"

#include <catch2/catch.hpp>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>

namespace fs = std::filesystem;
using namespace mailsim;
using namespace mailsim::net;

namespace {

struct TempDir {
  TempDir() {
    std::random_device rd;
    path = fs::temp_directory_path() / ("mailsim-net-test-" + std::to_string(rd()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path path;
};

// Counts callbacks; waits (bounded) for a number of them.
struct Results {
  void add(std::optional<std::string> e) {
    std::lock_guard lock(mutex);
    errors.push_back(std::move(e));
    cv.notify_all();
  }
  void wait_for(std::size_t n) {
    std::unique_lock lock(mutex);
    REQUIRE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return errors.size() >= n; }));
  }
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<std::optional<std::string>> errors;
};

std::vector<fs::path> files_in(const fs::path& dir) {
  std::vector<fs::path> out;
  if (fs::exists(dir))
    for (auto& e : fs::directory_iterator(dir)) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

// A Maildir store (its clock stopped) with user bob; `inbox` is his INBOX.
struct BobInbox {
  TempDir tmp;
  store::MaildirStore store{store::MaildirOptions{tmp.path, "test.host", [] { return std::int64_t{1700000000}; }}};
  fs::path inbox = (store.ensure_user("bob"), store.folder_path("bob", "INBOX"));
};

// Queues a one-line letter with this subject; its outcome goes to `results`.
void drop_letter(MaildirDrop& drop, const fs::path& inbox, const std::string& subject, Results& results) {
  drop.deliver({MaildirCopy{inbox, "Subject: " + subject + "\r\n\r\nx\r\n", {}}}, 1700000000,
               [&results](std::optional<std::string> e) { results.add(std::move(e)); });
}

}  // namespace

TEST_CASE("messages dropped from many threads are all durable in new/ and MaildirStore reads them back") {
  BobInbox bob;
  store::MaildirStore& store = bob.store;
  const fs::path& inbox = bob.inbox;

  MaildirDrop drop("test.host", 4);
  Results results;
  constexpr int kThreads = 8, kPerThread = 25;
  std::vector<std::thread> senders;
  for (int t = 0; t < kThreads; ++t) {
    senders.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string body = "Subject: " + std::to_string(t) + "-" + std::to_string(i) + "\r\n\r\nline\r\n.dot\r\n";
        drop.deliver({MaildirCopy{inbox, body, {}}}, 1700000000 + i,
                     [&](std::optional<std::string> e) { results.add(std::move(e)); });
      }
    });
  }
  for (auto& s : senders) s.join();
  results.wait_for(kThreads * kPerThread);
  for (const auto& e : results.errors) CHECK_FALSE(e.has_value());

  CHECK(files_in(inbox / "tmp").empty());
  CHECK(files_in(inbox / "new").size() == kThreads * kPerThread);
  const auto stats = drop.stats();
  CHECK(stats.jobs == kThreads * kPerThread);
  CHECK(stats.files == kThreads * kPerThread);
  CHECK(stats.batches <= stats.jobs);

  const auto snap = store.snapshot("bob", "INBOX");
  REQUIRE(snap.messages.size() == kThreads * kPerThread);
  const std::string first = store.fetch("bob", "INBOX", snap.messages.front().uid);
  CHECK(first.find("\r\n\r\nline\r\n.dot\r\n") != std::string::npos);  // CRLF again, dot kept
  CHECK(snap.messages.front().size == first.size());
}

TEST_CASE("a job that cannot be written everywhere leaves no copy anywhere") {
  TempDir tmp;
  const fs::path good = tmp.path / "good";
  for (const char* sub : {"tmp", "new", "cur"}) fs::create_directories(good / sub);
  const fs::path missing = tmp.path / "missing";  // no tmp/ folder: the write fails

  MaildirDrop drop("test.host", 2);
  Results results;
  drop.deliver({MaildirCopy{good, "Subject: a\r\n\r\na\r\n", {}}, MaildirCopy{missing, "Subject: a\r\n\r\na\r\n", {}}}, 0,
               [&](std::optional<std::string> e) { results.add(std::move(e)); });
  drop.deliver({MaildirCopy{good, "Subject: b\r\n\r\nb\r\n", {}}}, 0,
               [&](std::optional<std::string> e) { results.add(std::move(e)); });
  results.wait_for(2);
  REQUIRE(results.errors[0].has_value());
  CHECK(results.errors[0]->find("missing") != std::string::npos);
  CHECK_FALSE(results.errors[1].has_value());
  // Only message b: the half of message a that could be written was removed.
  const auto files = files_in(good / "new");
  REQUIRE(files.size() == 1);
  std::ifstream in(files[0], std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(text == "Subject: b\n\nb\n");  // Maildir files use LF line ends
  CHECK(files_in(good / "tmp").empty());
}

TEST_CASE("destroying a MaildirDrop finishes the jobs already queued") {
  TempDir tmp;
  for (const char* sub : {"tmp", "new", "cur"}) fs::create_directories(tmp.path / sub);
  Results results;
  {
    MaildirDrop drop("test.host", 2);
    for (int i = 0; i < 20; ++i)
      drop.deliver({MaildirCopy{tmp.path, "Subject: x\r\n\r\nx\r\n", {}}}, 0,
                   [&](std::optional<std::string> e) { results.add(std::move(e)); });
  }
  CHECK(results.errors.size() == 20);
  CHECK(files_in(tmp.path / "new").size() == 20);
}

TEST_CASE("local delivery: recipient checks and one copy per recipient with Return-Path and Delivered-To") {
  TempDir tmp;
  store::MaildirStore store(store::MaildirOptions{tmp.path, "test.host", {}});
  for (const char* u : {"alice", "bob"}) store.ensure_user(u);
  LocalDeliveryOptions options{tmp.path, {"mailsim.test"}, {"alice", "bob"}, "test.host", 2, {}};
  std::vector<std::string> woken;
  options.on_delivered = [&](const std::string& mailbox) { woken.push_back(mailbox); };
  LocalDelivery local(options);

  CHECK(local.check_recipient("bob@mailsim.test", false).code == 250);
  CHECK(local.check_recipient("Bob@MAILSIM.test", false).code == 250);
  CHECK(local.check_recipient("postmaster@mailsim.test", false).code == 250);
  CHECK(local.mailbox_for("postmaster@mailsim.test") == "alice");
  const auto unknown = local.check_recipient("zed@mailsim.test", false);
  CHECK(unknown.code == 550);
  CHECK(unknown.enhanced == "5.1.1");
  CHECK(local.check_recipient("x@example.org", true).code == 550);  // no outbound relay here

  InboundMessage m;
  m.envelope.reverse_path = "carol@example.org";
  m.envelope.recipients = {"alice@mailsim.test", "BOB@mailsim.test"};
  m.data = "Received: from x\r\n\tby y; date\r\nSubject: hi\r\n\r\nbody\r\n";
  m.queue_id = "ABC";
  std::mutex mutex;
  std::condition_variable cv;
  std::optional<smtp::Reply> reply;
  local.accept(m, [&](smtp::Reply r) {
    std::lock_guard lock(mutex);
    reply = r;
    cv.notify_all();
  });
  {
    std::unique_lock lock(mutex);
    REQUIRE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return reply.has_value(); }));
  }
  CHECK(reply->code == 250);
  CHECK(reply->text().find("queued as ABC") != std::string::npos);
  const auto uid = store.snapshot("bob", "INBOX").messages.at(0).uid;
  CHECK(store.fetch("bob", "INBOX", uid) ==
        "Return-Path: <carol@example.org>\r\nDelivered-To: BOB@mailsim.test\r\n" + m.data);
  CHECK(store.snapshot("alice", "INBOX").messages.size() == 1);
  CHECK(woken == std::vector<std::string>{"alice", "bob"});  // IDLE sessions are told
}

TEST_CASE("with a linger, deliveries that arrive while the last commit is recent share the next commit") {
  // serve's MTA delivers after 250 with a linger, so its Maildir fsyncs come
  // in few, large batches and leave the disk's flushes to the queue journal.
  BobInbox bob;
  const fs::path& inbox = bob.inbox;
  const auto linger = std::chrono::seconds(2);  // far longer than the loop below takes
  MaildirDrop drop("test.host", 4, 256, linger);

  Results first;
  const auto t0 = std::chrono::steady_clock::now();
  drop.deliver({MaildirCopy{inbox, "Subject: first\r\n\r\nx\r\n", {}}}, 1700000000,
               [&](std::optional<std::string> e) { first.add(std::move(e)); });
  first.wait_for(1);  // the first commit does not wait
  CHECK_FALSE(first.errors[0].has_value());

  Results rest;
  std::chrono::steady_clock::time_point last_done;
  std::mutex m;
  constexpr int kMore = 20;
  for (int i = 0; i < kMore; ++i)
    drop.deliver({MaildirCopy{inbox, "Subject: " + std::to_string(i) + "\r\n\r\nx\r\n", {}}}, 1700000000,
                 [&](std::optional<std::string> e) {
                   {
                     std::lock_guard lock(m);
                     last_done = std::chrono::steady_clock::now();
                   }
                   rest.add(std::move(e));
                 });
  rest.wait_for(kMore);
  for (const auto& e : rest.errors) CHECK_FALSE(e.has_value());
  const auto stats = drop.stats();
  CHECK(stats.jobs == 1 + kMore);
  CHECK(stats.batches == 2);  // the twenty waited for the linger and went together
  // The first, alone: its file and new/ fsync'ed. The twenty: one syncfs
  // before their links and one after, not 21 fsyncs.
  CHECK(stats.syncs == 2 + 2);
  {
    std::lock_guard lock(m);
    CHECK(last_done - t0 >= linger);  // not sooner than the linger after the first commit began
  }
  CHECK(files_in(inbox / "new").size() == 1 + kMore);
}

TEST_CASE("stopping a lingering MaildirDrop commits the waiting jobs at once") {
  // With a linger of an hour, a stop that waited for it would hang here.
  BobInbox bob;
  const fs::path& inbox = bob.inbox;
  Results results;
  {
    MaildirDrop drop("test.host", 2, 256, std::chrono::hours(1));
    drop_letter(drop, inbox, "a", results);
    results.wait_for(1);
    drop_letter(drop, inbox, "b", results);
  }
  REQUIRE(results.errors.size() == 2);
  CHECK_FALSE(results.errors[1].has_value());
  CHECK(files_in(inbox / "new").size() == 2);
}

TEST_CASE("a full batch does not wait for the linger, so deliveries keep up with a steady load") {
  // Under a load the linger only gathers: with it as a fixed pause, serve
  // delivered at most 256 letters per 200 ms, and at 20 connections the
  // letters waiting for the Maildir grew by thousands a second. With a
  // linger of an hour, a full batch that waited for it would hang here.
  BobInbox bob;
  const fs::path& inbox = bob.inbox;
  constexpr std::size_t kBatch = 4;
  MaildirDrop drop("test.host", 2, kBatch, std::chrono::hours(1));
  Results results;
  drop_letter(drop, inbox, "first", results);
  results.wait_for(1);  // the first commit does not linger
  for (std::size_t i = 0; i < 2 * kBatch; ++i) drop_letter(drop, inbox, std::to_string(i), results);
  results.wait_for(1 + 2 * kBatch);  // two full batches, one after the other, neither waiting
  for (const auto& e : results.errors) CHECK_FALSE(e.has_value());
  CHECK(drop.stats().batches == 3);
  CHECK(files_in(inbox / "new").size() == 1 + 2 * kBatch);

  // One short of a batch lingers (until the stop below commits it).
  for (std::size_t i = 0; i + 1 < kBatch; ++i) drop_letter(drop, inbox, "late " + std::to_string(i), results);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(drop.stats().batches == 3);
  CHECK(files_in(inbox / "new").size() == 1 + 2 * kBatch);
}

TEST_CASE("drain() commits the lingering jobs at once and returns when they are done") {
  // serve drains its deliveries at shutdown: what was handed over is stored
  // and reported, not left for the next start. With a linger of an hour, a
  // drain that waited for it would hang here.
  BobInbox bob;
  const fs::path& inbox = bob.inbox;
  Results results;
  MaildirDrop drop("test.host", 2, 256, std::chrono::hours(1));
  drop.drain();  // nothing queued: returns at once
  drop_letter(drop, inbox, "a", results);
  results.wait_for(1);  // the first commit does not linger; the next ones do
  drop_letter(drop, inbox, "b", results);
  drop_letter(drop, inbox, "c", results);
  drop.drain();
  CHECK(results.errors.size() == 3);  // both callbacks ran before drain() returned
  CHECK(drop.stats().jobs == 3);
  CHECK(files_in(inbox / "new").size() == 3);
  drop.drain();  // and again, with nothing left
  CHECK(drop.stats().batches == 2);
}
