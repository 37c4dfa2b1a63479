// MaildirStore on disk: survives a restart, writes names and flags mutt can
// read, picks up mail other programs drop in, sees other programs' renames.
#include "real/store/maildir_store.h"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>

#include "tests/unit/store/store_fixtures.h"

using namespace mailsim::store;
using mailsim::store::test::MaildirBackend;
namespace fs = std::filesystem;

namespace {

const std::string kMsg = "From: alice@alpha.example\r\nSubject: Hi\r\n\r\nHello Bob.\r\n.\r\n";

std::vector<std::string> files_in(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void spit(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

// mutt's reading of a Maildir file name (mh.c maildir_parse_flags): the flags
// are the letters after the last ":2,"; letters must be in ASCII order.
std::string mutt_flags(const std::string& name) {
  auto p = name.rfind(":2,");
  return p == std::string::npos ? "" : name.substr(p + 3);
}

}  // namespace

TEST_CASE("Maildir: the layout mutt expects", "[store][maildir]") {
  MaildirBackend b;
  auto& s = *b.store;
  s.ensure_user("bob");
  const fs::path md = b.dir.path() / "bob" / "Maildir";
  for (const char* sub : {"cur", "new", "tmp"}) CHECK(fs::is_directory(md / sub));

  s.deliver("bob", kMsg, 1700000100);
  // Delivered mail waits in new/ without an info suffix, nothing left in tmp/.
  auto fresh = files_in(md / "new");
  REQUIRE(fresh.size() == 1);
  CHECK(files_in(md / "tmp").empty());
  const std::string name = fresh[0];
  // <time>.<unique>.<host>,S=<file size>,W=<CRLF size>
  std::smatch m;
  REQUIRE(std::regex_match(name, m, std::regex(R"((\d+)\.P\d+Q\d+R[0-9a-f]+\.test\.host,S=(\d+),W=(\d+))")));
  CHECK(m[1] == "1700000100");
  const std::string disk = slurp(md / "new" / name);
  CHECK(disk == to_lf(kMsg));  // LF line ends on disk
  CHECK(std::stoul(m[2]) == disk.size());
  CHECK(std::stoul(m[3]) == kMsg.size());
  CHECK(fs::last_write_time(md / "new" / name).time_since_epoch().count() != 0);

  // Flags move the file to cur/ with ":2," and letters in ASCII order.
  s.store_flags("bob", "INBOX", {1}, FlagOp::kAdd,
                Flags{}.set(SystemFlag::kSeen).set(SystemFlag::kFlagged).set(SystemFlag::kAnswered));
  CHECK(files_in(md / "new").empty());
  auto cur = files_in(md / "cur");
  REQUIRE(cur.size() == 1);
  CHECK(cur[0] == name + ":2,FRS");
  CHECK(mutt_flags(cur[0]) == "FRS");
  s.store_flags("bob", "INBOX", {1}, FlagOp::kReplace, Flags{}.set(SystemFlag::kDeleted).set(SystemFlag::kDraft));
  CHECK(files_in(md / "cur")[0] == name + ":2,DT");

  // Keywords get letters a, b, ... recorded in the uidlist.
  Flags kw;
  kw.keywords = {"$Work", "Later"};
  s.store_flags("bob", "INBOX", {1}, FlagOp::kAdd, kw);
  CHECK(mutt_flags(files_in(md / "cur")[0]) == "DTab");
  CHECK(s.fetch("bob", "INBOX", 1) == kMsg);

  // A subfolder is a Maildir++ ".Name" directory with maildirfolder.
  s.create_folder("bob", "Lists.mutt");
  CHECK(fs::is_directory(md / ".Lists.mutt" / "cur"));
  CHECK(fs::exists(md / ".Lists.mutt" / "maildirfolder"));
  CHECK(fs::is_directory(md / ".Lists"));
}

TEST_CASE("Maildir: UIDs, UIDVALIDITY, flags and keywords survive a restart", "[store][maildir]") {
  MaildirBackend b;
  b.store->ensure_user("bob");
  b.store->create_folder("bob", "Sent");
  b.store->deliver("bob", kMsg, 1);
  b.store->deliver("bob", "Subject: 2\r\n\r\n2\r\n", 2);
  b.store->deliver("bob", "Subject: 3\r\n\r\n3\r\n", 3);
  b.store->remove("bob", "INBOX", {2});
  Flags f;
  f.set(SystemFlag::kSeen);
  f.keywords = {"Important"};
  b.store->store_flags("bob", "INBOX", {3}, FlagOp::kAdd, f);
  b.store->append("bob", "Sent", kMsg, Flags{}.set(SystemFlag::kSeen), 1234);
  b.store->snapshot("bob", "INBOX", RecentMode::kClaim);
  b.store->subscribe("bob", "Sent");
  const auto before = b.store->snapshot("bob", "INBOX");
  const auto sent_before = b.store->snapshot("bob", "Sent");

  b.store.reset();
  b.clock += 1000;  // a restart later: a new UIDVALIDITY would differ
  b.store = b.open();
  auto& s = *b.store;
  const auto after = s.snapshot("bob", "INBOX");
  CHECK(after.status.uidvalidity == before.status.uidvalidity);
  CHECK(after.status.uidnext == 4);
  CHECK(after.messages == before.messages);  // UIDs, flags, dates, sizes, recent
  CHECK(after.messages[1].flags == f);
  CHECK(s.snapshot("bob", "Sent").messages == sent_before.messages);
  CHECK(s.snapshot("bob", "Sent").messages[0].internal_date == 1234);
  CHECK(s.list_subscribed("bob") == std::vector<std::string>{"Sent"});
  CHECK(s.fetch("bob", "INBOX", 3) == "Subject: 3\r\n\r\n3\r\n");
  // UID 2 stays retired after the restart.
  CHECK(s.deliver("bob", kMsg, 5) == 4);
}

TEST_CASE("Maildir: mail another program drops into new/ gets the next UIDs", "[store][maildir]") {
  MaildirBackend b;
  auto& s = *b.store;
  s.ensure_user("bob");
  s.deliver("bob", kMsg, 1);
  auto g = s.generation("bob", "INBOX");
  const fs::path md = b.dir.path() / "bob" / "Maildir";
  // procmail style: LF line ends, no S= or W= in the name.
  spit(md / "new" / "1700000200.M1P99.otherhost", "Subject: dropped\n\nby procmail\n");
  spit(md / "new" / "1700000201.M2P99.otherhost", "Subject: second\n\nsecond\n");
  auto snap = s.snapshot("bob", "INBOX");
  REQUIRE(snap.messages.size() == 3);
  CHECK(snap.messages[1].uid == 2);
  CHECK(snap.messages[2].uid == 3);
  CHECK(snap.messages[1].size == std::string("Subject: dropped\r\n\r\nby procmail\r\n").size());
  CHECK(snap.status.generation > g);
  CHECK(s.fetch("bob", "INBOX", 2) == "Subject: dropped\r\n\r\nby procmail\r\n");

  // mutt marks one read (rename into cur/ with S) and deletes another.
  g = s.generation("bob", "INBOX");
  fs::rename(md / "new" / "1700000200.M1P99.otherhost", md / "cur" / "1700000200.M1P99.otherhost:2,S");
  fs::remove(md / "new" / "1700000201.M2P99.otherhost");
  snap = s.snapshot("bob", "INBOX");
  CHECK(snap.status.generation > g);
  REQUIRE(snap.messages.size() == 2);
  CHECK(snap.messages[1].flags == Flags{}.set(SystemFlag::kSeen));
  // The next delivery never reuses UID 3.
  CHECK(s.deliver("bob", kMsg, 2) == 4);

  // A restart keeps the UIDs given to the dropped files.
  b.store = b.open();
  CHECK(b.store->snapshot("bob", "INBOX").messages[1].uid == 2);
}

TEST_CASE("Maildir: a Maildir made by another program starts with UIDNEXT 1", "[store][maildir]") {
  MaildirBackend b;
  const fs::path md = b.dir.path() / "carol" / "Maildir";
  for (const char* sub : {"cur", "new", "tmp"}) fs::create_directories(md / sub);
  auto st = b.store->status("carol", "INBOX");
  CHECK(st.uidnext == 1);
  CHECK(st.messages == 0);
  CHECK(st.uidvalidity == 1700000000);
  CHECK(b.store->list_users() == std::vector<std::string>{"carol"});
}

TEST_CASE("Maildir: a delivery is visible to a store opened afterwards", "[store][maildir]") {
  MaildirBackend b;
  b.store->ensure_user("bob");
  auto other = b.open();  // e.g. a second process on the same Maildir
  auto g = other->generation("bob", "INBOX");
  b.store->deliver("bob", kMsg, 77);
  auto snap = other->snapshot("bob", "INBOX");
  REQUIRE(snap.messages.size() == 1);
  CHECK(snap.messages[0].uid == 1);
  CHECK(snap.status.generation > g);
  CHECK(other->fetch("bob", "INBOX", 1) == kMsg);
}

TEST_CASE("Maildir: more than 26 keywords in a folder is refused", "[store][maildir]") {
  MaildirBackend b;
  auto& s = *b.store;
  s.ensure_user("bob");
  s.deliver("bob", kMsg, 1);
  Flags f;
  for (int i = 0; i < 26; ++i) f.keywords.insert("k" + std::to_string(i));
  s.store_flags("bob", "INBOX", {1}, FlagOp::kAdd, f);
  CHECK(s.snapshot("bob", "INBOX").messages[0].flags.keywords.size() == 26);
  Flags one_more;
  one_more.keywords = {"k26"};
  try {
    s.store_flags("bob", "INBOX", {1}, FlagOp::kAdd, one_more);
    FAIL("27th keyword accepted");
  } catch (const StoreError& e) {
    CHECK(e.code() == StoreErrc::kTooManyKeywords);
  }
}

namespace {

// Sets a directory's mtime (to put it in the past, or back where it was).
void set_mtime(const fs::path& p, std::int64_t sec, long nsec = 0) {
  struct timespec t[2] = {{static_cast<time_t>(sec), nsec}, {static_cast<time_t>(sec), nsec}};
  REQUIRE(::utimensat(AT_FDCWD, p.c_str(), t, 0) == 0);
}

std::int64_t now_sec() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

TEST_CASE("Maildir: a folder is read again only when new/ or cur/ changed", "[store][maildir]") {
  MaildirBackend b;
  auto& s = *b.store;
  s.ensure_user("bob");
  s.deliver("bob", kMsg, 1);
  const fs::path md = b.dir.path() / "bob" / "Maildir";
  // Directories last changed a minute ago: their mtimes can be trusted.
  const std::int64_t old = now_sec() - 60;
  set_mtime(md / "new", old);
  set_mtime(md / "cur", old);
  REQUIRE(s.snapshot("bob", "INBOX").messages.size() == 1);
  const auto g = s.generation("bob", "INBOX");

  // A file slipped in with the directory's mtime put back as it was: the
  // cache is trusted, so the store does not see it (this is what makes a
  // listing three stat() calls instead of a directory read)...
  spit(md / "new" / "1700000300.M3P99.otherhost", "Subject: sneaky\n\nhidden\n");
  set_mtime(md / "new", old);
  CHECK(s.snapshot("bob", "INBOX").messages.size() == 1);
  CHECK(s.generation("bob", "INBOX") == g);
  // ...and as soon as the directory's mtime moves, it does.
  set_mtime(md / "new", old + 1);
  auto snap = s.snapshot("bob", "INBOX");
  REQUIRE(snap.messages.size() == 2);
  CHECK(snap.messages[1].uid == 2);
  CHECK(snap.status.generation > g);
  CHECK(s.fetch("bob", "INBOX", 2) == "Subject: sneaky\r\n\r\nhidden\r\n");
}

TEST_CASE("Maildir: changes in the same second as the last read are not missed", "[store][maildir]") {
  MaildirBackend b;
  auto& s = *b.store;
  s.ensure_user("bob");
  const fs::path md = b.dir.path() / "bob" / "Maildir";
  // A coarse filesystem clock: every change gets the same mtime, the
  // current second, so the mtime alone cannot tell the changes apart.
  const std::int64_t now = now_sec() + 1;
  set_mtime(md / "new", now);
  set_mtime(md / "cur", now_sec() - 60);
  CHECK(s.snapshot("bob", "INBOX").messages.empty());
  for (int i = 1; i <= 3; ++i) {
    spit(md / "new" / ("17000004" + std::to_string(i) + ".M1P99.otherhost"), "Subject: " + std::to_string(i) + "\n\nx\n");
    set_mtime(md / "new", now);
    CHECK(s.snapshot("bob", "INBOX").messages.size() == static_cast<std::size_t>(i));
  }
}

TEST_CASE("Maildir: a cached file name that another program changed is found again", "[store][maildir]") {
  MaildirBackend b;
  auto& s = *b.store;
  s.ensure_user("bob");
  s.deliver("bob", kMsg, 1);
  s.deliver("bob", "Subject: 2\r\n\r\n2\r\n", 2);
  const fs::path md = b.dir.path() / "bob" / "Maildir";
  const std::int64_t old = now_sec() - 60;
  set_mtime(md / "new", old);
  set_mtime(md / "cur", old);
  s.snapshot("bob", "INBOX");
  auto names = files_in(md / "new");
  REQUIRE(names.size() == 2);
  // mutt reads message 2 (new/ → cur/ with S), and the mtimes end up as they
  // were: store_flags meets ENOENT on the cached name and looks again.
  fs::rename(md / "new" / names[1], md / "cur" / (names[1] + ":2,S"));
  set_mtime(md / "new", old);
  set_mtime(md / "cur", old);
  auto infos = s.store_flags("bob", "INBOX", {2}, FlagOp::kAdd, Flags{}.set(SystemFlag::kFlagged));
  REQUIRE(infos.size() == 1);
  CHECK(infos[0].flags == Flags{}.set(SystemFlag::kSeen).set(SystemFlag::kFlagged));
  CHECK(fs::exists(md / "cur" / (names[1] + ":2,FS")));
  // Then message 1: fetch meets ENOENT and looks again.
  set_mtime(md / "new", old);
  set_mtime(md / "cur", old);
  s.snapshot("bob", "INBOX");
  fs::rename(md / "new" / names[0], md / "cur" / (names[0] + ":2,S"));
  set_mtime(md / "new", old);
  set_mtime(md / "cur", old);
  CHECK(s.fetch("bob", "INBOX", 1) == kMsg);
  // Gone for good: kNoSuchMessage, not an I/O error.
  fs::remove(md / "cur" / (names[0] + ":2,S"));
  try {
    s.fetch("bob", "INBOX", 1);
    FAIL("fetch of a deleted file succeeded");
  } catch (const StoreError& e) {
    CHECK(e.code() == StoreErrc::kNoSuchMessage);
  }
}

TEST_CASE("Maildir: two stores on one Maildir agree on UIDs", "[store][maildir]") {
  MaildirBackend b;
  b.store->ensure_user("bob");
  b.store->deliver("bob", kMsg, 1);
  auto other = b.open();  // a second mailsim process
  REQUIRE(other->snapshot("bob", "INBOX").messages.size() == 1);
  // The first store delivers two and removes one: UID 3 is left. The other
  // store must take UID 3 from the rewritten uidlist, not number the file
  // itself (it would call it 2).
  b.store->deliver("bob", "Subject: 2\r\n\r\n2\r\n", 2);
  b.store->deliver("bob", "Subject: 3\r\n\r\n3\r\n", 3);
  b.store->remove("bob", "INBOX", {2});
  auto snap = other->snapshot("bob", "INBOX");
  REQUIRE(snap.messages.size() == 2);
  CHECK(snap.messages[1].uid == 3);
  CHECK(snap.status.uidnext == 4);
  CHECK(other->fetch("bob", "INBOX", 3) == "Subject: 3\r\n\r\n3\r\n");
  // And the other way round: the other store's delivery is UID 4 for both.
  CHECK(other->deliver("bob", kMsg, 4) == 4);
  CHECK(b.store->snapshot("bob", "INBOX").messages.back().uid == 4);
}

TEST_CASE("Maildir: fetch turns LF into CRLF and keeps CRLF and bare CR", "[store][maildir]") {
  MaildirBackend b;
  auto& s = *b.store;
  s.ensure_user("bob");
  const fs::path md = b.dir.path() / "bob" / "Maildir";
  const std::string disk = "\nSubject: odd\r\nX: bare\rcr\n\nline\n\n\nno newline at end";
  spit(md / "new" / "1700000500.M1P99.otherhost", disk);
  auto snap = s.snapshot("bob", "INBOX");
  REQUIRE(snap.messages.size() == 1);
  const std::string want = to_crlf(disk);
  CHECK(want == "\r\nSubject: odd\r\nX: bare\rcr\r\n\r\nline\r\n\r\n\r\nno newline at end");
  CHECK(s.fetch("bob", "INBOX", 1) == want);
  CHECK(snap.messages[0].size == want.size());
}

TEST_CASE("Maildir: fetch_header is fetch cut after the header, kept in memory once read", "[store][maildir]") {
  MaildirBackend b;
  auto& s = *b.store;
  s.ensure_user("bob");
  s.deliver("bob", kMsg, 1);
  s.deliver("bob", "Subject: no body", 2);
  CHECK(s.fetch_header("bob", "INBOX", 1) == "From: alice@alpha.example\r\nSubject: Hi\r\n\r\n");
  CHECK(s.fetch_header("bob", "INBOX", 2) == "Subject: no body");
  // Read once, the header is served without the file (as Dovecot serves it
  // from its index cache)...
  const fs::path md = b.dir.path() / "bob" / "Maildir";
  for (const auto& n : files_in(md / "new")) fs::remove(md / "new" / n);
  CHECK(s.fetch_header("bob", "INBOX", 1) == "From: alice@alpha.example\r\nSubject: Hi\r\n\r\n");
  // ...the whole message is not.
  CHECK_THROWS_AS(s.fetch("bob", "INBOX", 1), StoreError);

  // With no room for headers in memory, every call reads the file.
  MaildirBackend c;
  MaildirStore small(MaildirOptions{c.dir.path(), "test.host", [] { return std::int64_t{1700000000}; }, 0});
  small.ensure_user("bob");
  small.deliver("bob", kMsg, 1);
  CHECK(small.fetch_header("bob", "INBOX", 1) == "From: alice@alpha.example\r\nSubject: Hi\r\n\r\n");
  for (const auto& n : files_in(c.dir.path() / "bob" / "Maildir" / "new")) fs::remove(c.dir.path() / "bob" / "Maildir" / "new" / n);
  CHECK_THROWS_AS(small.fetch_header("bob", "INBOX", 1), StoreError);

  // MemoryStore answers the same way.
  MemoryStore m;
  m.ensure_user("bob");
  m.deliver("bob", kMsg, 1);
  CHECK(m.fetch_header("bob", "INBOX", 1) == "From: alice@alpha.example\r\nSubject: Hi\r\n\r\n");
}
