// Who may send mail through this server: the relay matrix, recipient checks,
// trusted networks.
#include "real/mta/policy.h"

#include <catch2/catch.hpp>

#include "tests/unit/mta/harness.h"

using namespace mailsim::mta;
using namespace mailsim::mta::testing;

TEST_CASE("relay policy: all 16 combinations of auth, trusted network, local domain, open relay") {
  struct Row {
    bool auth, trusted, local, open;
    int code;
    const char* enhanced;
  };
  // Local mail is accepted from anyone; mail for elsewhere only from our own
  // users (AUTH or trusted network), or from anyone on an open relay.
  const Row rows[] = {
      {false, false, false, false, 554, "5.7.1"},  // a stranger relaying: denied
      {false, false, false, true, 250, "2.1.5"},   // ... unless the server is an open relay
      {false, false, true, false, 250, "2.1.5"},   // a stranger writing to our users: fine
      {false, false, true, true, 250, "2.1.5"},
      {false, true, false, false, 250, "2.1.5"},   // our own network may relay
      {false, true, false, true, 250, "2.1.5"},
      {false, true, true, false, 250, "2.1.5"},
      {false, true, true, true, 250, "2.1.5"},
      {true, false, false, false, 250, "2.1.5"},   // an authenticated user may relay
      {true, false, false, true, 250, "2.1.5"},
      {true, false, true, false, 250, "2.1.5"},
      {true, false, true, true, 250, "2.1.5"},
      {true, true, false, false, 250, "2.1.5"},
      {true, true, false, true, 250, "2.1.5"},
      {true, true, true, false, 250, "2.1.5"},
      {true, true, true, true, 250, "2.1.5"},
  };
  for (const auto& row : rows) {
    // Through the pure function...
    RelayQuestion q{row.auth, row.trusted, row.local, false, row.open};
    auto pure = relay_reply(relay_verdict(q), "bob@dest.example");
    INFO("auth=" << row.auth << " trusted=" << row.trusted << " local=" << row.local << " open=" << row.open);
    CHECK(pure.code == row.code);
    CHECK(pure.enhanced == row.enhanced);

    // ...and through a running MTA's RCPT decision.
    Harness h;
    h.config.open_relay = row.open;
    h.config.local_domains = {"alpha.example"};
    h.config.trusted_networks = {"10.0.0.0/8"};
    h.boxes.add("bob");
    h.make();
    ClientInfo c;
    c.address = row.trusted ? "10.1.2.3" : "203.0.113.5";
    c.auth_user = row.auth ? "alice" : "";
    Reply got;
    h.mta->check_recipient(c, row.local ? "bob@alpha.example" : "bob@dest.example", [&](Reply r) { got = r; });
    CHECK(got.code == row.code);
    CHECK(got.enhanced == row.enhanced);
    if (row.code == 554) {
      CHECK_THAT(got.text, Catch::Contains("Relay access denied"));
      CHECK(h.log.count<event::RelayDenied>() == 1);
    }
  }
}

TEST_CASE("open_relay is never on unless configured") {
  CHECK_FALSE(MtaConfig{}.open_relay);
}

TEST_CASE("recipient checks: unknown local user, postmaster, bad syntax, relay domains") {
  Harness h;
  h.config.relay_domains = {"backup-for.example"};
  h.make();
  ClientInfo stranger;
  stranger.address = "203.0.113.5";
  auto ask = [&](const std::string& rcpt) {
    Reply got;
    h.mta->check_recipient(stranger, rcpt, [&](Reply r) { got = r; });
    return got;
  };
  CHECK(ask("alice@alpha.example").code == 250);
  CHECK(ask("ALICE@Alpha.Example").code == 550);  // the domain is case-blind; the mailbox "ALICE" does not exist
  auto unknown = ask("mallory@alpha.example");
  CHECK(unknown.code == 550);
  CHECK(unknown.enhanced == "5.1.1");
  CHECK_THAT(unknown.text, Catch::Contains("User unknown in local recipient table"));
  CHECK(h.log.count<event::RecipientRejected>() == 2);  // ALICE and mallory
  CHECK(ask("PostMaster@alpha.example").code == 250);  // RFC 5321 4.5.1
  auto bad = ask("no-at-sign");
  CHECK(bad.code == 501);
  CHECK(bad.enhanced == "5.1.3");
  // A domain we are backup MX for is accepted from anyone.
  CHECK(ask("anyone@backup-for.example").code == 250);
  CHECK(ask("anyone@elsewhere.example").code == 554);
}

TEST_CASE("MAIL FROM accepts a mailbox or the null sender") {
  Harness h;
  h.make();
  CHECK(h.mta->check_sender(h.client, "alice@alpha.example").code == 250);
  CHECK(h.mta->check_sender(h.client, "").code == 250);
  auto bad = h.mta->check_sender(h.client, "alice");
  CHECK(bad.code == 501);
  CHECK(bad.enhanced == "5.1.7");
}

TEST_CASE("trusted networks match IPv4 and IPv6 prefixes") {
  std::vector<std::string> nets{"10.0.0.0/8", "192.168.1.0/24", "127.0.0.1", "2001:db8::/32", "bogus/99"};
  CHECK(in_networks("10.200.3.4", nets));
  CHECK(in_networks("192.168.1.77", nets));
  CHECK_FALSE(in_networks("192.168.2.1", nets));
  CHECK(in_networks("127.0.0.1", nets));
  CHECK_FALSE(in_networks("127.0.0.2", nets));
  CHECK(in_networks("2001:db8:1::5", nets));
  CHECK_FALSE(in_networks("2001:db9::1", nets));
  CHECK(in_networks("::ffff:10.1.1.1", nets));  // IPv4-mapped
  CHECK(in_networks("[10.1.1.1]", nets));
  CHECK_FALSE(in_networks("", nets));
  CHECK_FALSE(in_networks("not-an-address", nets));
  CHECK(in_networks("0.0.0.1", {"0.0.0.0/0"}));
  CHECK_FALSE(in_networks("10.0.0.1", {}));
}

TEST_CASE("recipient verification for relayed domains, with a cache") {
  Harness h;
  h.config.relay_domains = {"beta.example"};
  h.config.verify_relay_recipients = true;
  h.net.server("192.0.2.10").rcpt_replies["ghost@beta.example"] = make_reply(550, "5.1.1", "no such user");
  h.make();
  ClientInfo stranger;
  stranger.address = "203.0.113.5";
  auto ask = [&](const std::string& rcpt) {
    Reply got;
    h.mta->check_recipient(stranger, rcpt, [&](Reply r) { got = r; });
    h.clock.settle();
    return got;
  };
  CHECK(ask("bob@beta.example").code == 250);
  auto ghost = ask("ghost@beta.example");
  CHECK(ghost.code == 550);
  CHECK(ghost.enhanced == "5.1.1");
  CHECK(h.net.server("192.0.2.10").probes == 2);
  CHECK(ask("ghost@beta.example").code == 550);
  CHECK(h.net.server("192.0.2.10").probes == 2);  // answered from the cache
  // Next hop unreachable: "try again later", and not cached.
  h.net.server("192.0.2.10").up = false;
  auto later = ask("carol@beta.example");
  CHECK(later.code == 450);
  CHECK(later.enhanced == "4.1.1");
}

TEST_CASE("InboundPolicy answers as the Mta does, or leaves the case to it") {
  // The SMTP connections of `mailsim serve` decide MAIL and plain RCPTs on
  // their own thread with this snapshot: a reply that differed from the
  // Mta's would be a different server depending on which thread asked.
  const bool open = GENERATE(false, true);
  const bool verify = GENERATE(false, true);
  Harness h;
  h.config.relay_domains = {"Backup-For.Example."};
  h.config.open_relay = open;
  h.config.verify_relay_recipients = verify;
  h.make();
  const InboundPolicy policy(h.config, &h.boxes);

  const char* senders[] = {"alice@alpha.example", "", "alice", "a@b@c", "<x>@y.example"};
  for (const char* s : senders) {
    INFO("sender " << s);
    const Reply mine = InboundPolicy::check_sender(s);
    const Reply theirs = h.mta->check_sender(h.client, s);
    CHECK(mine.to_string() == theirs.to_string());
  }

  const char* recipients[] = {"alice@alpha.example", "ALICE@Alpha.Example", "alice@ALPHA.EXAMPLE.",
                              "mallory@alpha.example", "PostMaster@alpha.example", "no-at-sign", "",
                              "anyone@backup-for.example", "anyone@elsewhere.example", "bob@beta.example"};
  struct Who {
    const char* address;
    const char* auth_user;
  };
  const Who clients[] = {{"203.0.113.5", ""}, {"10.1.2.3", ""}, {"203.0.113.5", "alice"}, {"::1", ""}};
  int decided_here = 0, left_to_mta = 0;
  for (const auto& who : clients) {
    for (const char* rcpt : recipients) {
      INFO("client " << who.address << " auth '" << who.auth_user << "' rcpt " << rcpt);
      ClientInfo c;
      c.address = who.address;
      c.auth_user = who.auth_user;
      const auto quick = policy.quick_recipient(c.authenticated(), c.address, rcpt);
      if (!quick) {
        ++left_to_mta;
        continue;
      }
      ++decided_here;
      std::optional<Reply> theirs;
      const auto events_before = h.log.events.size();
      h.mta->check_recipient(c, rcpt, [&](Reply r) { theirs = r; });
      REQUIRE(theirs);  // the Mta, too, answered at once (no probe)
      CHECK(quick->to_string() == theirs->to_string());
      CHECK(h.log.events.size() == events_before);  // and had nothing to record
    }
  }
  // Both kinds occur: the common cases are answered here, refusals are not.
  CHECK(decided_here > 10);
  CHECK(left_to_mta > 3);
}
