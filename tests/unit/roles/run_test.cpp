// run_scenario (sim/roles/run.h): the one entry point. A wrong expectation is
// reported as not met, with what really happened.
#include "tests/unit/roles/helpers.h"

#include "sim/roles/mail_server.h"

#include <catch2/catch.hpp>

using namespace mailsim::sim;
using namespace mailsim::sim::test;

TEST_CASE("a deliberately wrong expect block is reported as failed, with the reason") {
  const RunOutput out = run(std::string(MAILSIM_SOURCE_DIR) + "/tests/unit/roles/data/wrong-expect.json");
  REQUIRE(out.expectations.size() == 3);
  CHECK(out.expectations[0].met);
  CHECK_FALSE(out.expectations[1].met);
  CHECK(out.expectations[1].explanation == "nothing bounced");
  CHECK_FALSE(out.expectations[2].met);
  CHECK(out.expectations[2].explanation.starts_with("a letter was delivered at "));
  CHECK_FALSE(out.all_met());
  // The results point into the run's own copy of the scenario.
  CHECK(out.expectations[1].item == &out.scenario().expect[1]);
}

TEST_CASE("the trace tells the whole journey of a letter") {
  const RunOutput out = run("01-basic-send-pop3.json");
  const Trace& t = out.trace();
  // Submission on 587 with AUTH inside TLS, relay on 25, POP3 on 110.
  std::set<std::uint16_t> ports;
  for (const auto* c : payloads<ConnPayload>(t, EventKind::kConnect)) ports.insert(c->remote_port);
  CHECK(ports == std::set<std::uint16_t>{25, 110, 587});
  bool auth_over_tls = false;
  for (const auto* a : payloads<AuthPayload>(t, EventKind::kAuth, "mail.alpha.example"))
    auth_over_tls |= a->ok && a->over_tls && a->user == "alice" && a->protocol == "smtp";
  CHECK(auth_over_tls);
  // DNS: the MX question is asked by Alice's server.
  bool mx_asked = false;
  for (const auto* d : payloads<DnsPayload>(t, EventKind::kDnsQuery, "mail.alpha.example"))
    mx_asked |= d->name == "beta.example" && d->type == "MX";
  CHECK(mx_asked);
  // The queue: queued, active, sent, removed at Alice's server.
  std::vector<std::string> states;
  for (const auto* q : payloads<QueuePayload>(t, EventKind::kQueue, "mail.alpha.example")) states.push_back(q->state);
  CHECK(states == std::vector<std::string>{"queued", "active", "sent", "removed"});
  // Both ends record the dialogue: commands at the client, replies at the server.
  int client_cmds = 0, server_cmds = 0;
  for (const auto* c : payloads<CommandPayload>(t, EventKind::kCommand)) (c->side == "client" ? client_cmds : server_cmds)++;
  CHECK(client_cmds == server_cmds);
  // Plaintext of the letter's DATA is in the data events (for the view's letter inspector).
  bool letter = false;
  for (const auto* d : payloads<DataPayload>(t, EventKind::kData, "mx.beta.example"))
    letter |= d->direction == "in" && d->tls && d->data.value.find("Shall we have lunch on Friday?") != std::string::npos;
  CHECK(letter);
  // Mailbox: stored, fetched, deleted.
  std::vector<std::string> actions;
  for (const auto* m : payloads<MailboxPayload>(t, EventKind::kMailbox, "mx.beta.example")) actions.push_back(m->action);
  CHECK(actions == std::vector<std::string>{"stored", "fetched", "deleted"});
}

TEST_CASE("Date and Received: carry the scenario's calendar, not 1970") {
  const RunOutput out = run("01-basic-send-pop3.json");
  auto* bob = out.roles->server("mx.beta.example");
  REQUIRE(bob != nullptr);
  bool dated = false;
  for (const auto* d : payloads<DataPayload>(out.trace(), EventKind::kData, "alice-pc"))
    dated |= d->direction == "out" && d->data.value.find("Date: Mon, 01 Apr 2024 09:00:01 +0000") != std::string::npos;
  CHECK(dated);
  // Bob's copy: both postmarks dated by the virtual clock on the scenario's calendar.
  const auto snap = bob->store().snapshot("bob", "INBOX");
  REQUIRE(snap.messages.empty());  // POP3 took it; look at what crossed the wire instead
  bool postmarked = false;
  for (const auto* d : payloads<DataPayload>(out.trace(), EventKind::kData, "mx.beta.example"))
    postmarked |= d->data.value.find("by mail.alpha.example") != std::string::npos &&
                  d->data.value.find("; Mon, 01 Apr 2024 09:00:01 +0000") != std::string::npos;
  CHECK(postmarked);
}
