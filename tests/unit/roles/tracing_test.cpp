// How protocol lines are filed in the trace (sim/roles/tracing.h): the verb a
// server saw decides which command an `expect: rejected` matches.
#include "sim/roles/tracing.h"

#include <catch2/catch.hpp>

using namespace mailsim::sim;
using namespace mailsim::sim::roles;

TEST_CASE("SMTP verbs are the first word, without the colon part") {
  CHECK(smtp_verb("MAIL FROM:<alice@alpha.example> SIZE=300") == "MAIL");
  CHECK(smtp_verb("rcpt to:<bob@beta.example>") == "RCPT");
  CHECK(smtp_verb("MAIL FROM:<>") == "MAIL");
  CHECK(smtp_verb("EHLO alice-pc") == "EHLO");
  CHECK(smtp_verb("QUIT") == "QUIT");
  CHECK(smtp_verb("") == "");
}

TEST_CASE("IMAP verbs keep UID commands whole") {
  CHECK(imap_verb("UID FETCH 1:* (FLAGS)") == "UID FETCH");
  CHECK(imap_verb("select INBOX") == "SELECT");
  CHECK(imap_verb("LOGOUT") == "LOGOUT");
}

TEST_CASE("an SMTP server's dialogue becomes command, reply and auth events") {
  Trace trace;
  ConnTracer t(trace, "mx.beta.example", 7, "smtp", false);
  namespace ev = mailsim::smtp::server_events;
  t.on_smtp(mailsim::smtp::ServerEvent{ev::CommandReceived{"AUTH PLAIN"}});
  t.on_smtp(mailsim::smtp::ServerEvent{ev::StateChanged{mailsim::smtp::ServerState::kReady, mailsim::smtp::ServerState::kAuth}});
  t.on_smtp(mailsim::smtp::ServerEvent{ev::CommandReceived{"AGFsaWNlAHNlY3JldA=="}});
  t.auth_decided("alice", false);
  t.on_smtp(mailsim::smtp::ServerEvent{ev::ReplySent{mailsim::smtp::make_reply(535, "5.7.8", "Authentication credentials invalid")}});
  REQUIRE(trace.size() == 4);
  const auto* c = trace[1].as<CommandPayload>();
  REQUIRE(c != nullptr);
  CHECK(c->verb == "AUTH");  // the SASL answer belongs to the AUTH command
  CHECK(c->side == "server");
  CHECK(trace[1].conn == 7);
  const auto* a = trace[2].as<AuthPayload>();
  REQUIRE(a != nullptr);
  CHECK(a->mechanism == "PLAIN");
  CHECK(a->user == "alice");
  CHECK_FALSE(a->ok);
  CHECK_FALSE(a->over_tls);
  const auto* r = trace[3].as<ReplyPayload>();
  REQUIRE(r != nullptr);
  CHECK(r->code == 535);
  CHECK(r->status == "5.7.8");
  CHECK(r->side == "server");
}
