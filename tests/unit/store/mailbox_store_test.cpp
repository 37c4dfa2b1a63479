// MailboxStore contract, run against both backends (MemoryStore, MaildirStore).
#include "real/store/mailbox_store.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <thread>

#include "tests/unit/store/store_fixtures.h"

using namespace mailsim::store;
using mailsim::store::test::MaildirBackend;
using mailsim::store::test::MemoryBackend;

namespace {

const std::string kMsg1 = "From: alice@alpha.example\r\nTo: bob@beta.example\r\nSubject: Lunch?\r\n\r\nNoon?\r\n";
const std::string kMsg2 = "Subject: two\r\n\r\n.leading dot\r\nbody\r\n";
const std::string kMsg3 = "Subject: three\r\n\r\nthird\r\n";

std::vector<Uid> uids_of(const FolderSnapshot& s) {
  std::vector<Uid> out;
  for (const auto& m : s.messages) out.push_back(m.uid);
  return out;
}

Flags flags_of(std::initializer_list<SystemFlag> sys, std::initializer_list<const char*> kw = {}) {
  Flags f;
  for (auto s : sys) f.set(s);
  for (auto k : kw) f.keywords.insert(k);
  return f;
}

std::vector<std::string> names_of(const std::vector<FolderInfo>& v) {
  std::vector<std::string> out;
  for (const auto& f : v) out.push_back(f.name);
  return out;
}

}  // namespace

#define BACKENDS MemoryBackend, MaildirBackend

TEMPLATE_TEST_CASE("a new user has an empty INBOX with UIDNEXT 1", "[store]", BACKENDS) {
  TestType b;
  auto& s = *b.store;
  CHECK_FALSE(s.user_exists("bob"));
  s.ensure_user("bob");
  s.ensure_user("bob");  // idempotent
  CHECK(s.user_exists("bob"));
  CHECK(s.list_users() == std::vector<std::string>{"bob"});
  auto st = s.status("bob", "INBOX");
  CHECK(st.uidnext == 1);
  CHECK(st.messages == 0);
  CHECK(st.uidvalidity != 0);
  CHECK(s.folder_exists("bob", "inbox"));  // INBOX is case-insensitive
  CHECK(names_of(s.list_folders("bob")) == std::vector<std::string>{"INBOX"});
}

TEMPLATE_TEST_CASE("UIDs ascend, are never reused, and UIDVALIDITY stays", "[store]", BACKENDS) {
  TestType b;
  auto& s = *b.store;
  s.ensure_user("bob");
  const auto validity = s.status("bob", "INBOX").uidvalidity;
  CHECK(s.deliver("bob", kMsg1, 1000) == 1);
  CHECK(s.deliver("bob", kMsg2, 1001) == 2);
  auto r = s.append("bob", "INBOX", kMsg3, flags_of({SystemFlag::kSeen}), 1002);
  CHECK(r.uid == 3);
  CHECK(r.uidvalidity == validity);
  // Removing the newest message must not give its UID to the next one.
  CHECK(s.remove("bob", "INBOX", {3, 99}) == std::vector<Uid>{3});
  CHECK(s.deliver("bob", kMsg3, 1003) == 4);
  auto snap = s.snapshot("bob", "INBOX");
  CHECK(uids_of(snap) == std::vector<Uid>{1, 2, 4});
  CHECK(snap.status.uidnext == 5);
  CHECK(snap.status.uidvalidity == validity);
  CHECK(snap.messages[0].internal_date == 1000);
  CHECK(snap.messages[0].size == kMsg1.size());
  CHECK(s.fetch("bob", "INBOX", 1) == kMsg1);
  CHECK(s.fetch("bob", "INBOX", 2) == kMsg2);
  CHECK_THROWS_MATCHES(s.fetch("bob", "INBOX", 3), StoreError,
                       Catch::Predicate<StoreError>([](const StoreError& e) { return e.code() == StoreErrc::kNoSuchMessage; }));
}

TEMPLATE_TEST_CASE("flags: replace, add, remove, keywords", "[store]", BACKENDS) {
  TestType b;
  auto& s = *b.store;
  s.ensure_user("bob");
  s.deliver("bob", kMsg1, 1);
  s.deliver("bob", kMsg2, 2);
  auto r = s.store_flags("bob", "INBOX", {1, 2, 7}, FlagOp::kAdd, flags_of({SystemFlag::kSeen}, {"$Work"}));
  REQUIRE(r.size() == 2);  // UID 7 does not exist: skipped
  CHECK(r[0].flags == flags_of({SystemFlag::kSeen}, {"$Work"}));
  s.store_flags("bob", "INBOX", {2}, FlagOp::kRemove, flags_of({SystemFlag::kSeen}));
  s.store_flags("bob", "INBOX", {1}, FlagOp::kAdd, flags_of({SystemFlag::kFlagged, SystemFlag::kAnswered}));
  auto snap = s.snapshot("bob", "INBOX");
  CHECK(snap.messages[0].flags == flags_of({SystemFlag::kSeen, SystemFlag::kFlagged, SystemFlag::kAnswered}, {"$Work"}));
  CHECK(snap.messages[1].flags == flags_of({}, {"$Work"}));
  CHECK(format_flags(snap.messages[0].flags) == "\\Seen \\Answered \\Flagged $Work");
  CHECK(snap.status.unseen == 1);
  CHECK(snap.status.keywords == std::vector<std::string>{"$Work"});
  s.store_flags("bob", "INBOX", {1}, FlagOp::kReplace, flags_of({SystemFlag::kDraft}));
  CHECK(s.snapshot("bob", "INBOX").messages[0].flags == flags_of({SystemFlag::kDraft}));
  CHECK(parse_system_flag("\\SEEN") == SystemFlag::kSeen);
  CHECK_FALSE(parse_system_flag("\\Recent"));
  CHECK_FALSE(parse_system_flag("Seen"));
}

TEMPLATE_TEST_CASE("copy gives new UIDs for COPYUID and keeps flags and dates", "[store]", BACKENDS) {
  TestType b;
  auto& s = *b.store;
  s.ensure_user("bob");
  s.create_folder("bob", "Archive");
  s.append("bob", "Archive", kMsg3, {}, 5);  // Archive's UID 1 is taken
  s.deliver("bob", kMsg1, 10);
  s.deliver("bob", kMsg2, 20);
  s.store_flags("bob", "INBOX", {2}, FlagOp::kAdd, flags_of({SystemFlag::kFlagged}, {"Later"}));
  auto r = s.copy("bob", "INBOX", {2, 1, 42}, "Archive");
  CHECK(r.uidvalidity == s.status("bob", "Archive").uidvalidity);
  CHECK(r.uids == std::vector<std::pair<Uid, Uid>>{{1, 2}, {2, 3}});
  auto snap = s.snapshot("bob", "Archive");
  CHECK(uids_of(snap) == std::vector<Uid>{1, 2, 3});
  CHECK(snap.messages[2].flags == flags_of({SystemFlag::kFlagged}, {"Later"}));
  CHECK(snap.messages[2].internal_date == 20);
  CHECK(s.fetch("bob", "Archive", 3) == kMsg2);
  CHECK(s.snapshot("bob", "INBOX").messages.size() == 2);  // the source is untouched
  CHECK_THROWS_AS(s.copy("bob", "INBOX", {1}, "Nowhere"), StoreError);
}

TEMPLATE_TEST_CASE("expunge removes \\Deleted messages, all or within a UID set", "[store]", BACKENDS) {
  TestType b;
  auto& s = *b.store;
  s.ensure_user("bob");
  for (int i = 0; i < 4; ++i) s.deliver("bob", kMsg1, i);
  s.store_flags("bob", "INBOX", {1, 2, 4}, FlagOp::kAdd, flags_of({SystemFlag::kDeleted}));
  CHECK(s.expunge("bob", "INBOX", std::vector<Uid>{2, 3}) == std::vector<Uid>{2});  // 3 is not \Deleted
  CHECK(s.expunge("bob", "INBOX") == std::vector<Uid>{1, 4});
  CHECK(uids_of(s.snapshot("bob", "INBOX")) == std::vector<Uid>{3});
  CHECK(s.expunge("bob", "INBOX").empty());
}

TEMPLATE_TEST_CASE("folders: create with parents, list, rename with children, delete", "[store]", BACKENDS) {
  TestType b;
  auto& s = *b.store;
  s.ensure_user("bob");
  s.create_folder("bob", "Archive.2024");  // creates Archive too
  s.create_folder("bob", "Sent");
  auto list = s.list_folders("bob");
  CHECK(list == std::vector<FolderInfo>{{"INBOX", false}, {"Archive", true}, {"Archive.2024", false}, {"Sent", false}});
  CHECK_THROWS_AS(s.create_folder("bob", "Sent"), StoreError);
  CHECK_THROWS_AS(s.create_folder("bob", "inbox"), StoreError);
  CHECK_THROWS_AS(s.create_folder("bob", "bad/name"), StoreError);
  CHECK_THROWS_AS(s.create_folder("bob", ".hidden"), StoreError);
  CHECK_THROWS_AS(s.create_folder("bob", "a..b"), StoreError);

  auto r = s.append("bob", "Archive.2024", kMsg1, flags_of({SystemFlag::kSeen}), 7);
  const auto validity = s.status("bob", "Archive.2024").uidvalidity;
  s.rename_folder("bob", "Archive", "Old");
  CHECK(names_of(s.list_folders("bob")) == std::vector<std::string>{"INBOX", "Old", "Old.2024", "Sent"});
  // A renamed folder keeps its messages, UIDs and UIDVALIDITY.
  CHECK(s.status("bob", "Old.2024").uidvalidity == validity);
  CHECK(s.fetch("bob", "Old.2024", r.uid) == kMsg1);
  CHECK_THROWS_AS(s.rename_folder("bob", "Old", "Sent"), StoreError);
  CHECK_THROWS_AS(s.rename_folder("bob", "Nope", "X"), StoreError);
  CHECK_THROWS_AS(s.rename_folder("bob", "Old", "Old.inner"), StoreError);

  try {
    s.delete_folder("bob", "Old");
    FAIL("deleted a folder with children");
  } catch (const StoreError& e) {
    CHECK(e.code() == StoreErrc::kHasChildren);
  }
  try {
    s.delete_folder("bob", "INBOX");
    FAIL("deleted INBOX");
  } catch (const StoreError& e) {
    CHECK(e.code() == StoreErrc::kInboxNotAllowed);
  }
  s.delete_folder("bob", "Old.2024");
  s.delete_folder("bob", "Old");
  CHECK(names_of(s.list_folders("bob")) == std::vector<std::string>{"INBOX", "Sent"});
  // A folder created again under an old name gets a new UIDVALIDITY.
  s.create_folder("bob", "Old");
  CHECK(s.status("bob", "Old").uidvalidity != validity);
  CHECK(s.status("bob", "Old").uidnext == 1);
}

TEMPLATE_TEST_CASE("renaming INBOX moves its messages and leaves it empty", "[store]", BACKENDS) {
  TestType b;
  auto& s = *b.store;
  s.ensure_user("bob");
  s.deliver("bob", kMsg1, 1);
  s.deliver("bob", kMsg2, 2);
  s.rename_folder("bob", "INBOX", "Saved");
  CHECK(s.status("bob", "INBOX").messages == 0);
  CHECK(s.status("bob", "INBOX").uidnext == 3);  // UIDs 1 and 2 are not reused
  auto snap = s.snapshot("bob", "Saved");
  REQUIRE(snap.messages.size() == 2);
  CHECK(s.fetch("bob", "Saved", snap.messages[1].uid) == kMsg2);
}

TEMPLATE_TEST_CASE("subscriptions are kept sorted and may name missing folders", "[store]", BACKENDS) {
  TestType b;
  auto& s = *b.store;
  s.ensure_user("bob");
  s.subscribe("bob", "Sent");
  s.subscribe("bob", "Drafts");
  s.subscribe("bob", "Sent");
  CHECK(s.list_subscribed("bob") == std::vector<std::string>{"Drafts", "Sent"});
  s.unsubscribe("bob", "Drafts");
  s.unsubscribe("bob", "Never");
  CHECK(s.list_subscribed("bob") == std::vector<std::string>{"Sent"});
}

TEMPLATE_TEST_CASE("\\Recent belongs to the first session that claims it", "[store]", BACKENDS) {
  TestType b;
  auto& s = *b.store;
  s.ensure_user("bob");
  s.deliver("bob", kMsg1, 1);
  s.deliver("bob", kMsg2, 2);
  CHECK(s.status("bob", "INBOX").recent == 2);  // peeking changes nothing
  CHECK(s.status("bob", "INBOX").recent == 2);
  auto first = s.snapshot("bob", "INBOX", RecentMode::kClaim);  // SELECT
  CHECK(first.status.recent == 2);
  CHECK(first.messages[0].recent);
  auto second = s.snapshot("bob", "INBOX", RecentMode::kClaim);  // another SELECT
  CHECK(second.status.recent == 0);
  CHECK_FALSE(second.messages[0].recent);
  s.deliver("bob", kMsg3, 3);
  auto poll = s.snapshot("bob", "INBOX", RecentMode::kClaim);
  CHECK(poll.status.recent == 1);
  CHECK(poll.messages.back().recent);
}

TEMPLATE_TEST_CASE("the generation moves on every change and the listener hears it", "[store]", BACKENDS) {
  TestType b;
  auto& s = *b.store;
  s.ensure_user("bob");
  std::vector<std::tuple<std::string, std::string, std::uint64_t>> heard;
  s.set_change_listener([&](const std::string& u, const std::string& f, std::uint64_t g) {
    heard.emplace_back(u, f, g);
    CHECK(s.generation(u, f) == g);  // the listener may call back in
  });
  // A session opens the folder...
  auto open = s.snapshot("bob", "INBOX", RecentMode::kClaim);
  auto g0 = open.status.generation;
  // ...and mail arrives while it is open.
  s.deliver("bob", kMsg1, 1);
  auto g1 = s.generation("bob", "INBOX");
  CHECK(g1 > g0);
  REQUIRE(heard.size() == 1);
  CHECK(heard[0] == std::make_tuple(std::string("bob"), std::string("INBOX"), g1));
  s.store_flags("bob", "INBOX", {1}, FlagOp::kAdd, flags_of({SystemFlag::kSeen}));
  auto g2 = s.generation("bob", "INBOX");
  CHECK(g2 > g1);
  s.store_flags("bob", "INBOX", {1}, FlagOp::kAdd, flags_of({SystemFlag::kSeen}));  // no change
  CHECK(s.generation("bob", "INBOX") == g2);
  s.store_flags("bob", "INBOX", {1}, FlagOp::kAdd, flags_of({SystemFlag::kDeleted}));
  s.expunge("bob", "INBOX");
  CHECK(s.generation("bob", "INBOX") > g2);
  CHECK(heard.size() == 4);  // deliver, Seen, Deleted, expunge; not the no-op
}

TEMPLATE_TEST_CASE("errors name what is missing", "[store]", BACKENDS) {
  TestType b;
  auto& s = *b.store;
  auto code_of = [](auto&& f) {
    try {
      f();
    } catch (const StoreError& e) {
      return e.code();
    }
    FAIL("no StoreError");
    return StoreErrc::kIo;
  };
  CHECK(code_of([&] { s.deliver("ghost", kMsg1, 1); }) == StoreErrc::kNoSuchUser);
  CHECK(code_of([&] { s.snapshot("../etc", "INBOX"); }) == StoreErrc::kNoSuchUser);
  s.ensure_user("bob");
  CHECK(code_of([&] { s.snapshot("bob", "Nope"); }) == StoreErrc::kNoSuchFolder);
  CHECK(code_of([&] { s.append("bob", "Nope", kMsg1, {}, 1); }) == StoreErrc::kNoSuchFolder);
  CHECK(code_of([&] { s.snapshot("bob", "../../x"); }) == StoreErrc::kBadName);
  CHECK(code_of([&] { s.ensure_user("../x"); }) == StoreErrc::kBadName);
}

TEMPLATE_TEST_CASE("deliveries from several threads all land with distinct UIDs", "[store]", BACKENDS) {
  TestType b;
  auto& s = *b.store;
  s.ensure_user("bob");
  auto before = s.snapshot("bob", "INBOX", RecentMode::kClaim);  // an open session
  constexpr int kThreads = 4, kEach = 10;
  std::vector<std::vector<Uid>> got(kThreads);
  {
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([&, t] {
        for (int i = 0; i < kEach; ++i) got[t].push_back(s.deliver("bob", kMsg1, t * 100 + i));
      });
    for (auto& th : threads) th.join();
  }
  std::vector<Uid> all;
  for (auto& g : got) all.insert(all.end(), g.begin(), g.end());
  std::sort(all.begin(), all.end());
  CHECK(std::adjacent_find(all.begin(), all.end()) == all.end());
  CHECK(all.size() == kThreads * kEach);
  auto after = s.snapshot("bob", "INBOX", RecentMode::kClaim);
  CHECK(after.status.generation > before.status.generation);
  CHECK(after.messages.size() == kThreads * kEach);
  CHECK(after.status.recent == kThreads * kEach);
}

TEST_CASE("line ends: CRLF network form and LF disk form", "[store]") {
  CHECK(to_lf("a\r\nb\r\n") == "a\nb\n");
  CHECK(to_lf("bare\rcr\r\n") == "bare\rcr\n");
  CHECK(to_crlf("a\nb\n") == "a\r\nb\r\n");
  CHECK(to_crlf("a\r\nb\n") == "a\r\nb\r\n");
  CHECK(crlf_size("a\nb\r\n") == to_crlf("a\nb\r\n").size());
  CHECK(to_crlf(to_lf(kMsg1)) == kMsg1);
}

TEST_CASE("the maildrop lock admits one holder per user", "[store]") {
  MemoryStore s;
  auto& locks = s.maildrop_locks();
  auto a = locks.try_lock("bob");
  REQUIRE(a);
  CHECK_FALSE(locks.try_lock("bob"));
  CHECK(locks.try_lock("alice"));  // released at once: a temporary
  CHECK_FALSE(locks.locked("alice"));
  a->release();
  CHECK_FALSE(locks.locked("bob"));
  {
    auto b = locks.try_lock("bob");
    CHECK(b);
    auto moved = std::move(*b);
    CHECK(locks.locked("bob"));
  }
  CHECK_FALSE(locks.locked("bob"));
}
