// SmtpGlue without sockets: the relay question, AUTH against the user table,
// the Received: header, and the 250 that waits for the sink's durable answer.
#include "real/net/smtp_glue.h"

#include "real/codec/base64.h"

#include <catch2/catch.hpp>

#include <deque>

using namespace mailsim;
using namespace mailsim::net;

namespace {

std::string codec_plain(const std::string& user, const std::string& password) {
  return codec::base64_encode(std::string(1, '\0') + user + std::string(1, '\0') + password);
}

// Runs posted functions only when the test says so: "the strand".
struct ManualStrand : StrandPoster {
  void post_to_strand(std::function<void()> fn) override { queue.push_back(std::move(fn)); }
  void run_all() {
    while (!queue.empty()) {
      auto fn = std::move(queue.front());
      queue.pop_front();
      fn();
    }
  }
  std::deque<std::function<void()>> queue;
};

struct FakeConnection : ConnectionHandle {
  explicit FakeConnection(std::shared_ptr<ManualStrand> s) : strand(std::move(s)) {}
  const PeerInfo& peer() const override { return info; }
  bool tls_active() const override { return false; }
  Completion defer() override { return Completion(strand, nullptr); }
  void after(std::chrono::milliseconds, std::function<void()> fn) override { strand->post_to_strand(std::move(fn)); }
  std::function<void(std::function<void()>)> weak_poster() override {
    return [s = strand](std::function<void()> fn) { s->post_to_strand(std::move(fn)); };
  }
  PeerInfo info{"192.0.2.7", 4242, 2525, "smtp"};
  std::shared_ptr<ManualStrand> strand;
};

// Remembers what it was asked; answers later, when the test says.
struct RecordingSink : MessageSink {
  smtp::Reply check_recipient(std::string_view address, bool relay) const override {
    checks.push_back(std::string(address) + (relay ? " relay" : " local"));
    if (address.substr(0, 5) == "ghost") return smtp::make_reply(550, "5.1.1", "User unknown");
    return smtp::replies::rcpt_ok();
  }
  void accept(InboundMessage m, std::function<void(smtp::Reply)> done) override {
    messages.push_back(std::move(m));
    pending.push_back(std::move(done));
  }
  mutable std::vector<std::string> checks;
  std::vector<InboundMessage> messages;
  std::vector<std::function<void(smtp::Reply)>> pending;
};

struct Rig {
  Rig(bool open_relay = false) {
    service.session.hostname = "mx.mailsim.test";
    service.session.auth = smtp::AuthPolicy::kOptional;
    service.session.auth_before_tls = true;  // no TLS in this rig
    service.local_domains = {"mailsim.test"};
    service.open_relay = open_relay;
    service.users = &users;
    service.sink = &sink;
    glue = std::make_unique<SmtpGlue>(service, conn.info);
    glue->session().start();
    glue->session().take_output();
  }
  // Feeds a line, pumps, returns what the server said.
  std::string say(const std::string& line) {
    glue->session().receive(line + "\r\n");
    glue->pump(conn);
    return glue->session().take_output();
  }
  store::UserTable users{{"alice", "secret"}};
  RecordingSink sink;
  SmtpService service;
  std::shared_ptr<ManualStrand> strand = std::make_shared<ManualStrand>();
  FakeConnection conn{strand};
  std::unique_ptr<SmtpGlue> glue;
};

}  // namespace

TEST_CASE("mail for local domains is checked by the sink and elsewhere is denied without AUTH") {
  Rig rig;
  rig.say("EHLO client.example");
  CHECK(rig.say("MAIL FROM:<carol@example.org>").rfind("250 ", 0) == 0);
  CHECK(rig.say("RCPT TO:<bob@MailSim.Test>").rfind("250 2.1.5", 0) == 0);
  CHECK(rig.say("RCPT TO:<ghost@mailsim.test>").rfind("550 5.1.1", 0) == 0);
  CHECK(rig.say("RCPT TO:<victim@example.com>") == "554 5.7.1 Relay access denied\r\n");
  CHECK(rig.sink.checks == std::vector<std::string>{"bob@MailSim.Test local", "ghost@mailsim.test local"});
}

TEST_CASE("after AUTH (as user or user@local-domain) relaying is the sink's question") {
  for (const std::string login : {"alice", "alice@mailsim.test"}) {
    Rig rig;
    rig.say("EHLO client.example");
    CHECK(rig.say("AUTH PLAIN " + codec_plain(login, "wrong")).rfind("535 5.7.8", 0) == 0);
    CHECK(rig.say("AUTH PLAIN " + codec_plain(login, "secret")).rfind("235 ", 0) == 0);
    rig.say("MAIL FROM:<alice@mailsim.test>");
    CHECK(rig.say("RCPT TO:<friend@example.com>").rfind("250 ", 0) == 0);
    CHECK(rig.sink.checks == std::vector<std::string>{"friend@example.com relay"});
  }
  Rig other;
  other.say("EHLO client.example");
  CHECK(other.say("AUTH PLAIN " + codec_plain("alice@example.org", "secret")).rfind("535", 0) == 0);
}

TEST_CASE("an open relay accepts anyone's mail for anywhere (the lesson's bad example)") {
  Rig rig(/*open_relay=*/true);
  rig.say("EHLO spammer.example");
  rig.say("MAIL FROM:<spam@example.org>");
  CHECK(rig.say("RCPT TO:<victim@example.com>").rfind("250 ", 0) == 0);
}

TEST_CASE("the message gets this hop's Received: and 250 only after the sink's durable answer") {
  Rig rig;
  rig.say("EHLO client.example");
  rig.say("MAIL FROM:<carol@example.org>");
  rig.say("RCPT TO:<bob@mailsim.test>");
  CHECK(rig.say("DATA").rfind("354", 0) == 0);
  // The end of data and a pipelined NOOP arrive together.
  CHECK(rig.say("Subject: hi\r\n\r\nhello\r\n.\r\nNOOP").empty());
  REQUIRE(rig.sink.messages.size() == 1);
  CHECK(rig.glue->awaiting_decision());
  const InboundMessage& m = rig.sink.messages[0];
  CHECK(m.envelope.recipients == std::vector<std::string>{"bob@mailsim.test"});
  // One folded Received: field on top; unfolded it reads as a postmark.
  const std::string received = m.data.substr(0, m.data.find("\r\nSubject:") + 2);
  std::string unfolded;
  for (std::size_t i = 0; i < received.size(); ++i) {
    if (received.compare(i, 3, "\r\n\t") == 0 || received.compare(i, 3, "\r\n ") == 0) {
      unfolded += ' ';
      i += 2;
    } else {
      unfolded += received[i];
    }
  }
  CHECK(unfolded.rfind("Received: from client.example (unknown [192.0.2.7]) by mx.mailsim.test with ESMTP id " +
                           m.queue_id + " for <bob@mailsim.test>; ",
                       0) == 0);
  CHECK(unfolded.find("\r\n") == unfolded.size() - 2);
  CHECK(m.data.substr(m.data.size() - 22) == "Subject: hi\r\n\r\nhello\r\n");

  // The sink answers (from its thread); nothing happens until the strand runs.
  rig.sink.pending[0](smtp::replies::queued(m.queue_id));
  CHECK(rig.glue->session().take_output().empty());
  rig.strand->run_all();
  rig.glue->pump(rig.conn);
  CHECK_FALSE(rig.glue->awaiting_decision());
  CHECK(rig.glue->session().take_output() ==
        "250 2.0.0 Ok: queued as " + m.queue_id + "\r\n250 2.0.0 Ok\r\n");
}

TEST_CASE("goodbye lines follow RFC 5321 4.5.3.2 and Postfix's wording") {
  Rig rig;
  CHECK(rig.glue->goodbye_line(true) == "421 4.4.2 mx.mailsim.test Error: timeout exceeded\r\n");
  CHECK(rig.glue->goodbye_line(false).rfind("421 4.3.2 mx.mailsim.test ", 0) == 0);
}
