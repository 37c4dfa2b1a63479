// Tests for sim/roles/compact_spool.h: the simulator's queue spool keeps the
// Spool contract (put after the fsync latency, update, remove, load_all gives
// back what was stored) while sharing text buffers.
#include "sim/roles/compact_spool.h"

#include "tests/unit/mta/fakes.h"

#include <catch2/catch.hpp>

using namespace mailsim;
using mailsim::sim::roles::CompactSpool;
using mailsim::sim::roles::TextPool;

namespace {

mta::QueueEntry letter(const std::string& id, const mta::SharedText& client, const mta::SharedText& refusal) {
  mta::QueueEntry e;
  e.id = id;
  e.sender = "alice@alpha.example";
  e.client = client;
  e.message = std::string("Subject: " + id + "\r\n\r\nHello\r\n");
  e.arrival = 1000;
  e.next_attempt = 301000;
  e.attempts = 1;
  e.state = mta::QueueState::deferred;
  e.last_reason = refusal;
  auto r = mta::pending_recipient("bob@beta.example");
  r.state = mta::RecipientState::deferred;
  r.status = "4.4.1";
  r.diagnostic = refusal;
  r.remote_mta = "mx.beta.example";
  e.recipients.push_back(r);
  e.recipients.push_back(mta::pending_recipient("carol@beta.example"));
  return e;
}

void check_same(const mta::QueueEntry& got, const mta::QueueEntry& want) {
  CHECK(got.id == want.id);
  CHECK(got.sender == want.sender);
  CHECK(got.client == want.client);
  CHECK(got.message == want.message);
  CHECK(got.arrival == want.arrival);
  CHECK(got.next_attempt == want.next_attempt);
  CHECK(got.attempts == want.attempts);
  CHECK(got.state == want.state);
  CHECK(got.last_reason == want.last_reason);
  REQUIRE(got.recipients.size() == want.recipients.size());
  for (std::size_t i = 0; i < want.recipients.size(); ++i) {
    CHECK(got.recipients[i].address == want.recipients[i].address);
    CHECK(got.recipients[i].state == want.recipients[i].state);
    CHECK(got.recipients[i].status == want.recipients[i].status);
    CHECK(got.recipients[i].diagnostic == want.recipients[i].diagnostic);
    CHECK(got.recipients[i].remote_mta == want.recipients[i].remote_mta);
    CHECK(got.recipients[i].reported == want.recipients[i].reported);
    CHECK(got.recipients[i].delay_reported == want.recipients[i].delay_reported);
  }
}

}  // namespace

TEST_CASE("the compact spool gives back what it was given, and shares the texts letters repeat", "[spool]") {
  mta::testing::FakeClock clock;
  TextPool pool;
  CompactSpool spool(pool, clock, 5 * mta::kMillisecond);
  const mta::SharedText client("alice-pc [10.0.0.2]");
  const mta::SharedText refusal("421 4.4.2 mx.beta.example: connection refused");

  std::vector<mta::QueueEntry> letters;
  for (int i = 0; i < 3; ++i) letters.push_back(letter("Q" + std::to_string(i), client, refusal));
  int stored = 0;
  for (const auto& e : letters) spool.put(e, [&](bool ok) { stored += ok ? 1 : 0; });
  CHECK(stored == 0);  // durable only after the fsync latency
  clock.run_until(5 * mta::kMillisecond);
  CHECK(stored == 3);
  CHECK(spool.size() == 3);

  // An update: the second recipient delivered, a new reason.
  letters[1].recipients[1].state = mta::RecipientState::delivered;
  letters[1].recipients[1].status = "2.0.0";
  letters[1].recipients[1].diagnostic = mta::SharedText("250 2.0.0 Ok: queued as 7E1");
  letters[1].attempts = 2;
  letters[1].recipients[0].delay_reported = true;
  letters[1].last_reason = mta::SharedText("451 4.3.0 try again later");
  bool updated = false;
  spool.update(letters[1], [&](bool ok) { updated = ok; });
  CHECK(updated);
  bool removed = false;
  spool.remove("Q0", [&](bool ok) { removed = ok; });
  CHECK(removed);
  bool unknown_update = true;
  spool.update(letter("Q9", client, refusal), [&](bool ok) { unknown_update = ok; });
  CHECK_FALSE(unknown_update);

  const auto back = spool.load_all();
  REQUIRE(back.size() == 2);
  check_same(back[0], letters[1]);
  check_same(back[1], letters[2]);
  // The buffers the entries came with, not copies of them.
  CHECK(back[1].client.shares_buffer_with(client));
  CHECK(back[1].recipients[0].diagnostic.shares_buffer_with(refusal));
  CHECK(back[1].message.shares_buffer_with(letters[2].message));
  // Sender, addresses, status and remote MTA: one pooled copy of each text.
  CHECK(pool.size() == 6);  // alice@, bob@, carol@, 4.4.1, 2.0.0, mx.beta.example

  spool.remove("Q1", {});
  spool.remove("Q2", {});
  CHECK(spool.load_all().empty());
  CHECK(pool.size() == 0);  // a text leaves the pool with its last holder
}
