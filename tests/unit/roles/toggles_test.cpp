// Flipping one setting, as each lesson's "Try it" suggests, changes the
// outcome the way the lesson says.
#include "tests/unit/roles/helpers.h"

#include "real/store/mailbox_store.h"
#include "sim/roles/mail_server.h"

#include <catch2/catch.hpp>

using namespace mailsim::sim;
using namespace mailsim::sim::test;

namespace {

int deliveries_to(const Trace& trace, const std::string& to, const std::string& subject = {}) {
  int n = 0;
  for (const auto* m : payloads<MessagePayload>(trace, EventKind::kDelivery))
    if (m->recipient == to && (subject.empty() || m->subject == subject)) ++n;
  return n;
}

bool replied(const Trace& trace, const std::string& host, int code) {
  for (const auto* r : payloads<ReplyPayload>(trace, EventKind::kReply, host))
    if (r->side == "server" && r->code == code) return true;
  return false;
}

const TraceEvent* first_delivery(const Trace& trace, const std::string& to) {
  for (const auto* e : trace.of_kind(EventKind::kDelivery))
    if (e->as<MessagePayload>()->recipient == to) return e;
  return nullptr;
}

}  // namespace

SCENARIO("lesson 9: STARTTLS seals the letter against the eavesdropper") {
  GIVEN("the servers talk in plain text") {
    const RunOutput out = run("09-starttls-eavesdropper.json");
    const std::string seen = plaintext_captured(out.trace(), "eve");
    THEN("eve reads envelope, headers and body") {
      CHECK(seen.find("MAIL FROM:<alice@alpha.example>") != std::string::npos);
      CHECK(seen.find("The new door code for the office is 4711.") != std::string::npos);
      CHECK(any_note_contains(out.trace(), "eve", "Subject: The new door code"));
    }
  }
  WHEN("TLS is switched on for the road between the servers") {
    const RunOutput out = run("09-starttls-eavesdropper.json", {"hosts.mail.alpha.example.relay.outbound_tls=optional"});
    const std::string seen = plaintext_captured(out.trace(), "eve");
    THEN("eve sees the opening up to STARTTLS, then only ciphertext") {
      CHECK(seen.find("STARTTLS") != std::string::npos);
      CHECK(seen.find("4711") == std::string::npos);
      CHECK(seen.find("RCPT TO") == std::string::npos);
      int encrypted = 0;
      for (const auto* c : payloads<CapturePayload>(out.trace(), EventKind::kCapture, "eve")) encrypted += c->encrypted;
      CHECK(encrypted > 0);
      CHECK(deliveries_to(out.trace(), "bob@beta.example") == 1);
    }
    THEN("Bob's server writes ESMTPS into its postmark") {
      auto* bob = out.roles->server("mx.beta.example");
      REQUIRE(bob != nullptr);
      const auto snap = bob->store().snapshot("bob", "INBOX");
      REQUIRE(snap.messages.size() == 1);
      const std::string letter = bob->store().fetch("bob", "INBOX", snap.messages[0].uid);
      CHECK(letter.find("by mx.beta.example") != std::string::npos);
      CHECK(letter.find("with ESMTPS") != std::string::npos);
    }
  }
  WHEN("TLS is required but Bob's server offers none") {
    const RunOutput out = run("09-starttls-eavesdropper.json", {"hosts.mail.alpha.example.relay.outbound_tls=required",
                                                                "hosts.mx.beta.example.mx.tls=off"});
    THEN("the letter is deferred instead of sent as a postcard") {
      CHECK(deliveries_to(out.trace(), "bob@beta.example") == 0);
      CHECK_FALSE(payloads<QueuePayload>(out.trace(), EventKind::kQueue, "mail.alpha.example").empty());
      CHECK(plaintext_captured(out.trace(), "eve").find("4711") == std::string::npos);
    }
  }
}

SCENARIO("lesson 10: AUTH decides who may post as Alice") {
  const std::string fake = "Invoice: please pay to our new account";
  GIVEN("AUTH is required (the scenario as written)") {
    const RunOutput out = run("10-auth-impersonation.json");
    CHECK(deliveries_to(out.trace(), "bob@beta.example", fake) == 0);
    CHECK(replied(out.trace(), "mail.alpha.example", 530));
  }
  WHEN("AUTH is switched off") {
    const RunOutput out = run("10-auth-impersonation.json", {"hosts.mail.alpha.example.submission.auth=off"});
    THEN("Mallory's letter signed Alice reaches Bob") {
      CHECK(deliveries_to(out.trace(), "bob@beta.example", fake) == 1);
      CHECK_FALSE(replied(out.trace(), "mail.alpha.example", 530));
    }
  }
  WHEN("TLS is switched off while AUTH stays on") {
    const RunOutput out = run("10-auth-impersonation.json", {"hosts.mail.alpha.example.submission.tls=off"});
    THEN("eve reads Alice's AUTH line and decodes her password") {
      CHECK(plaintext_captured(out.trace(), "eve").find("AUTH PLAIN AGFsaWNlAHNlY3JldA==") != std::string::npos);
      CHECK(any_note_contains(out.trace(), "eve", "user \"alice\", password \"secret\""));
      CHECK(deliveries_to(out.trace(), "bob@beta.example", fake) == 0);
    }
  }
}

SCENARIO("lesson 11: an open relay carries the spam, a closed one refuses it") {
  GIVEN("relay.gamma.example is an open relay") {
    const RunOutput out = run("11-open-relay-spam.json");
    CHECK(deliveries_to(out.trace(), "someone@beta.example") == 1);
    CHECK(deliveries_to(out.trace(), "dora@delta.example") == 1);
  }
  WHEN("the open relay is closed") {
    const RunOutput out = run("11-open-relay-spam.json", {"hosts.relay.gamma.example.relay.open_relay=false"});
    THEN("every foreign RCPT TO gets 554 5.7.1 and nothing leaves") {
      bool relay_denied = false;
      for (const auto* r : payloads<ReplyPayload>(out.trace(), EventKind::kReply, "relay.gamma.example"))
        if (r->side == "server" && r->code == 554 && r->status == "5.7.1") relay_denied = true;
      CHECK(relay_denied);
      CHECK(deliveries_to(out.trace(), "someone@beta.example") == 0);
      CHECK(deliveries_to(out.trace(), "another@delta.example") == 0);
      CHECK(payloads<QueuePayload>(out.trace(), EventKind::kQueue, "relay.gamma.example").empty());
    }
  }
  WHEN("the spammer is taken off the blocklist") {
    const RunOutput out = run("11-open-relay-spam.json", {"dns.blocklists.0.listed=[]"});
    THEN("the filtering relay lets it in") { CHECK(deliveries_to(out.trace(), "staff@corp.example") == 1); }
  }
}

SCENARIO("lesson 2: IMAP shares one mailbox, POP3 takes the letter away") {
  GIVEN("the scenario as written") {
    const RunOutput out = run("02-imap-two-devices.json");
    auto* mx = out.roles->server("mx.beta.example");
    REQUIRE(mx != nullptr);
    const auto bob = mx->store().snapshot("bob", "INBOX");
    REQUIRE(bob.messages.size() == 1);
    CHECK(bob.messages[0].flags.has(mailsim::store::SystemFlag::kSeen));  // set by the phone, seen by the laptop
    CHECK(any_note_contains(out.trace(), "bob-phone", "bob-laptop shows letter 1 as already read"));
    int carol_laptop_fetches = 0;
    for (const auto* m : payloads<MailboxPayload>(out.trace(), EventKind::kMailbox, "mx.beta.example"))
      if (m->device == "carol-laptop" && m->action == "fetched") ++carol_laptop_fetches;
    CHECK(carol_laptop_fetches == 0);
  }
  WHEN("Carol's program leaves a copy on the server") {
    const RunOutput out = run("02-imap-two-devices.json", {"hosts.carol-phone.fetch.leave_on_server=true"});
    int carol_laptop_fetches = 0;
    for (const auto* m : payloads<MailboxPayload>(out.trace(), EventKind::kMailbox, "mx.beta.example"))
      if (m->device == "carol-laptop" && m->action == "fetched") ++carol_laptop_fetches;
    CHECK(carol_laptop_fetches == 1);
    CHECK(out.roles->server("mx.beta.example")->mailbox_count("carol") == 1);
  }
}

SCENARIO("lessons 3, 5-8, 15: the other switches") {
  WHEN("lesson 3: the home user does not log in") {
    const RunOutput out = run("03-isp-smart-host.json", {"hosts.home-pc.outgoing.auth=false"});
    CHECK(replied(out.trace(), "smtp.isp.example", 530));
    CHECK(deliveries_to(out.trace(), "friend@beta.example") == 0);
  }
  WHEN("lesson 3: the home user gives a wrong password") {
    const RunOutput out = run("03-isp-smart-host.json", {"hosts.home-pc.password=wrong"});
    CHECK(replied(out.trace(), "smtp.isp.example", 535));
    CHECK(deliveries_to(out.trace(), "friend@beta.example") == 0);
  }
  WHEN("lesson 5: shorter backoff") {
    const RunOutput usual = run("05-retry-backoff.json");
    const RunOutput fast = run("05-retry-backoff.json", {"hosts.mail.alpha.example.queue.min_backoff=1m",
                                                         "hosts.mail.alpha.example.queue.max_backoff=5m"});
    const TraceEvent* a = first_delivery(usual.trace(), "bob@beta.example");
    const TraceEvent* b = first_delivery(fast.trace(), "bob@beta.example");
    REQUIRE(a != nullptr);
    REQUIRE(b != nullptr);
    CHECK(b->time < a->time);
    CHECK(b->time >= 30 * kMinute);
    CHECK(payloads<QueuePayload>(fast.trace(), EventKind::kRetry).size() >
          payloads<QueuePayload>(usual.trace(), EventKind::kRetry).size());
  }
  WHEN("lesson 6: a 2-hour queue lifetime") {
    const RunOutput out = run("06-bounce-after-lifetime.json", {"hosts.mail.alpha.example.queue.lifetime=2h"});
    const auto bounces = out.trace().of_kind(EventKind::kBounce);
    REQUIRE(bounces.size() == 1);
    CHECK(bounces[0]->time >= 2 * kHour);
    CHECK(bounces[0]->time < 3 * kHour);
  }
  WHEN("lesson 7: the typo is fixed") {
    const RunOutput out = run("07-unknown-recipient.json", {"timeline.0.send.to=[\"bob@beta.example\"]"});
    CHECK(deliveries_to(out.trace(), "bob@beta.example") == 1);
    CHECK(out.trace().of_kind(EventKind::kBounce).empty());
  }
  WHEN("lesson 8: the front office does not verify") {
    const RunOutput out = run("08-recipient-verification.json", {"hosts.relay.beta.example.mx.verify_recipients=false"});
    const auto bounces = out.trace().of_kind(EventKind::kBounce);
    REQUIRE(bounces.size() == 1);
    CHECK(bounces[0]->host == "relay.beta.example");  // the front office writes the bounce itself
  }
  WHEN("lesson 8: the address is corrected") {
    const RunOutput out = run("08-recipient-verification.json", {"timeline.0.send.to=[\"bob@beta.example\"]"});
    CHECK(deliveries_to(out.trace(), "bob@beta.example") == 1);
    // The probe was answered 250 before the real letter followed.
    bool probe_ok = false;
    for (const auto* r : payloads<ReplyPayload>(out.trace(), EventKind::kReply, "mail.beta.example"))
      if (r->side == "server" && r->code == 250 && r->status == "2.1.5") probe_ok = true;
    CHECK(probe_ok);
  }
  WHEN("lesson 15: the migration is finished") {
    const RunOutput out = run("15-mail-loop.json", {"hosts.mx-new.beta.example.local_domains=[\"beta.example\"]"});
    const TraceEvent* d = first_delivery(out.trace(), "bob@beta.example");
    REQUIRE(d != nullptr);
    CHECK(d->as<MessagePayload>()->received_headers == 3);  // Alice's server, the old, the new: one extra hop
    CHECK(out.trace().of_kind(EventKind::kBounce).empty());
  }
  WHEN("lesson 15: a lower hop limit") {
    const RunOutput out = run("15-mail-loop.json", {"hosts.mx-old.beta.example.queue.hop_limit=10",
                                                    "hosts.mx-new.beta.example.queue.hop_limit=10"});
    const auto bounces = payloads<MessagePayload>(out.trace(), EventKind::kBounce);
    REQUIRE(bounces.size() == 1);
    CHECK(bounces[0]->status == "5.4.6");
    CHECK(bounces[0]->received_headers == 11);
  }
}
