// The IMAP server session over the real MemoryStore: chunk boundaries,
// concurrent sessions, FETCH sections, SEARCH, \Seen, events, limits.
#include "real/imap/server.h"

#include <catch2/catch.hpp>

#include "real/mime/mime.h"
#include "server_harness.h"

using namespace mailsim;
using namespace mailsim::imap;
using test::ServerHarness;

namespace {

const std::string kMessage =
    "From: Alice <alice@alpha.example>\r\n"
    "To: bob@beta.example\r\n"
    "Subject: =?UTF-8?Q?Caf=C3=A9?= tomorrow\r\n"
    "Date: Tue, 14 Nov 2023 23:10:00 +0100\r\n"
    "Content-Type: multipart/mixed; boundary=b\r\n"
    "\r\n"
    "--b\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "Meet at the caf=C3=A9 at noon.\r\n"
    "--b\r\n"
    "Content-Type: message/rfc822\r\n"
    "\r\n"
    "Subject: inner\r\n"
    "\r\n"
    "inner body\r\n"
    "--b--\r\n";

std::string login_select(ServerHarness& h) {
  h.start();
  h.send("l LOGIN bob secret\r\n");
  return h.send("s SELECT INBOX\r\n");
}

}  // namespace

TEST_CASE("a whole session gives the same bytes however the input is split") {
  const std::string input =
      "a1 CAPABILITY\r\n"
      "a2 AUTHENTICATE PLAIN\r\nAGJvYgBzZWNyZXQ=\r\n"
      "a3 SELECT {5}\r\nINBOX\r\n"
      "a4 APPEND INBOX (\\Flagged) {20+}\r\nSubject: x\r\n\r\nbody\r\n\r\n"
      "a5 FETCH 1:* (FLAGS BODY[HEADER.FIELDS (SUBJECT)] BODY[TEXT]<0.3>)\r\n"
      "a6 IDLE\r\nDONE\r\n"
      "a7 UID SEARCH SUBJECT x\r\n"
      "a8 LOGOUT\r\n";
  auto run = [&](std::size_t split, bool bytewise) {
    ServerHarness h;
    std::string out = h.start();
    if (bytewise) {
      for (char c : input) out += h.send(std::string(1, c));
    } else {
      out += h.send(input.substr(0, split));
      out += h.send(input.substr(split));
    }
    return out;
  };
  const std::string whole = run(input.size(), false);
  CHECK(whole.find("a5 OK FETCH completed") != std::string::npos);
  CHECK(whole.find("* 1 FETCH (FLAGS (\\Seen \\Flagged \\Recent) BODY[HEADER.FIELDS (SUBJECT)] {14}\r\n"
                   "Subject: x\r\n\r\n BODY[TEXT]<0> {3}\r\nbod)") != std::string::npos);
  CHECK(whole.find("* SEARCH 1\r\n") != std::string::npos);
  CHECK(whole.ends_with("a8 OK LOGOUT completed\r\n"));
  bool bytewise = GENERATE(false, true);
  std::size_t split = bytewise ? 0 : GENERATE_COPY(range<std::size_t>(0, input.size() + 1));
  CHECK(run(split, bytewise) == whole);
}

TEST_CASE("another session's expunge is held back during FETCH and announced at NOOP") {
  ServerHarness a;
  a.deliver("Subject: 1\r\n\r\none\r\n");
  a.deliver("Subject: 2\r\n\r\ntwo\r\n");
  login_select(a);
  // Session B shares the store: it deletes message 1 and new mail arrives.
  ServerSession b(test::plain_config(), a.store, a.users);
  b.start();
  b.receive("b1 LOGIN bob secret\r\nb2 SELECT INBOX\r\nb3 STORE 1 +FLAGS (\\Deleted)\r\nb4 EXPUNGE\r\n");
  CHECK(b.take_output().find("b4 OK") != std::string::npos);
  a.deliver("Subject: 3\r\n\r\nthree\r\n");

  // FETCH may announce EXISTS but not EXPUNGE (RFC 3501 §7.4.1): sequence
  // numbers must not shift under the client in the middle of it. All three
  // messages are \Recent for this session (it was the first to see them).
  std::string fetch = a.send("f FETCH 2 (UID)\r\n");
  CHECK(fetch == "* 2 FETCH (UID 2)\r\n* 3 EXISTS\r\n* 3 RECENT\r\nf OK FETCH completed\r\n");
  // The expunged message 1 is still number 1 for this client: fetching it says so.
  std::string gone = a.send("g FETCH 1 (UID)\r\n");
  CHECK(gone == "g NO [EXPUNGEISSUED] Some of the requested messages no longer exist\r\n");
  CHECK(a.send("n NOOP\r\n") == "* 1 EXPUNGE\r\nn OK NOOP completed\r\n");
  CHECK(a.send("u FETCH 1:* (UID)\r\n") == "* 1 FETCH (UID 2)\r\n* 2 FETCH (UID 3)\r\nu OK FETCH completed\r\n");
}

TEST_CASE("flag changes by another session arrive as untagged FETCH") {
  ServerHarness a;
  a.deliver("Subject: 1\r\n\r\none\r\n");
  login_select(a);
  a.store.store_flags("bob", "INBOX", {1}, store::FlagOp::kAdd, store::Flags{}.set(store::SystemFlag::kFlagged));
  CHECK(a.send("c CHECK\r\n") == "* 1 FETCH (FLAGS (\\Flagged \\Recent))\r\nc OK CHECK completed\r\n");
}

TEST_CASE("body fetches set \\Seen, PEEK does not, EXAMINE never does") {
  ServerHarness h;
  h.deliver(kMessage);
  login_select(h);
  CHECK(h.send("p FETCH 1 (BODY.PEEK[1])\r\n") ==
        "* 1 FETCH (BODY[1] {30}\r\nMeet at the caf=C3=A9 at noon.)\r\np OK FETCH completed\r\n");
  CHECK(h.events_of<server_events::FlagsChanged>().empty());
  std::string out = h.send("f FETCH 1 (BODY[2.TEXT])\r\n");
  CHECK(out == "* 1 FETCH (BODY[2.TEXT] {10}\r\ninner body FLAGS (\\Seen \\Recent))\r\nf OK FETCH completed\r\n");
  auto changed = h.events_of<server_events::FlagsChanged>();
  REQUIRE(changed.size() == 1);
  CHECK(changed[0].flags == "\\Seen");
  auto fetched = h.events_of<server_events::MessageFetched>();
  REQUIRE(fetched.size() == 2);
  CHECK(fetched[1].uid == 1);
  CHECK(fetched[1].octets == 10);

  ServerHarness ro;
  ro.deliver(kMessage);
  ro.start();
  ro.send("l LOGIN bob secret\r\n");
  ro.send("e EXAMINE INBOX\r\n");
  CHECK(ro.send("f FETCH 1 (RFC822.TEXT)\r\n").find("FLAGS") == std::string::npos);
  CHECK(ro.store.snapshot("bob", "INBOX").messages[0].flags.empty());
}

TEST_CASE("FETCH sections: parts, MIME headers, HEADER.FIELDS.NOT, partials, missing parts") {
  ServerHarness h;
  h.deliver(kMessage);
  login_select(h);
  CHECK(h.send("a FETCH 1 (BODY.PEEK[1.MIME])\r\n") ==
        "* 1 FETCH (BODY[1.MIME] {88}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n)\r\na OK FETCH completed\r\n");
  CHECK(h.send("b FETCH 1 (BODY.PEEK[HEADER.FIELDS.NOT (Content-Type Date To)])\r\n") ==
        "* 1 FETCH (BODY[HEADER.FIELDS.NOT (Content-Type Date To)] {78}\r\n"
        "From: Alice <alice@alpha.example>\r\nSubject: =?UTF-8?Q?Caf=C3=A9?= tomorrow\r\n\r\n)\r\n"
        "b OK FETCH completed\r\n");
  CHECK(h.send("c FETCH 1 (BODY.PEEK[]<6.5> BODY.PEEK[9] BODY.PEEK[]<9999.5>)\r\n") ==
        "* 1 FETCH (BODY[]<6> {5}\r\nAlice BODY[9] NIL BODY[]<9999> {0}\r\n)\r\nc OK FETCH completed\r\n");
  std::string bs = h.send("d FETCH 1 (BODYSTRUCTURE RFC822.SIZE INTERNALDATE)\r\n");
  CHECK(bs.find("\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 28 (NIL \"inner\" NIL NIL NIL NIL NIL NIL NIL NIL)") !=
        std::string::npos);
  CHECK(bs.find("RFC822.SIZE " + std::to_string(kMessage.size())) != std::string::npos);
  CHECK(bs.find("INTERNALDATE \"14-Nov-2023 22:13:20 +0000\"") != std::string::npos);
}

TEST_CASE("BODY[HEADER], BODY[TEXT] and RFC822.HEADER split where the MIME parser does") {
  // These items are answered without a MIME parse; the header must still
  // end exactly where mime::parse_message says it does.
  const std::string message = GENERATE(as<std::string>{},
      kMessage,
      "Subject: no body\r\n",                          // no empty line at all
      "Subject: no end of line",                         // not even a line end
      "\r\nbody only\r\n",                             // empty header
      "Subject: x\r\n\tfolded\r\n\r\n\r\nbody after an empty line\r\n",
      "Subject: bare\nX: lf\n\nbody\n",                // LF line ends
      "Subject: cr\r\r\nnot: yet\r\n\r\nbody\r\n",   // CR CR LF is not an empty line
      "no colon here\r\nSubject: y\r\n\r\nz");        // an invalid line is skipped, not the end
  ServerHarness h;
  h.deliver(message);
  login_select(h);
  const mime::Entity tree = mime::parse_message(message);
  const std::string header(tree.header_text(message)), text(tree.body_text(message));
  auto literal = [](const std::string& x) { return "{" + std::to_string(x.size()) + "}\r\n" + x; };
  CHECK(h.send("a FETCH 1 (BODY.PEEK[HEADER] BODY.PEEK[TEXT] RFC822.HEADER)\r\n") ==
        "* 1 FETCH (BODY[HEADER] " + literal(header) + " BODY[TEXT] " + literal(text) + " RFC822.HEADER " +
            literal(header) + ")\r\na OK FETCH completed\r\n");
  CHECK(h.send("b FETCH 1 (BODY.PEEK[])\r\n") == "* 1 FETCH (BODY[] " + literal(message) + ")\r\nb OK FETCH completed\r\n");
  // Header items alone are answered from store::fetch_header().
  CHECK(h.send("c FETCH 1 (RFC822.HEADER BODY.PEEK[HEADER])\r\n") ==
        "* 1 FETCH (RFC822.HEADER " + literal(header) + " BODY[HEADER] " + literal(header) +
            ")\r\nc OK FETCH completed\r\n");
}

TEST_CASE("SEARCH keys over real messages") {
  ServerHarness h;
  h.deliver(kMessage, 1700000000);                                             // 1: 14-Nov-2023
  h.deliver("From: carol@gamma.example\r\nSubject: report\r\n\r\nquarterly numbers\r\n", 1600000000);  // 2: 2020
  h.deliver("From: alice@alpha.example\r\nX-Spam: yes\r\n\r\nbuy now\r\n", 1700100000);  // 3
  login_select(h);
  h.send("s STORE 2 +FLAGS (\\Flagged \\Seen)\r\n");
  struct Case { const char* query; const char* result; };
  const Case cases[] = {
      {"ALL", "* SEARCH 1 2 3"},
      {"FLAGGED", "* SEARCH 2"},
      {"UNSEEN", "* SEARCH 1 3"},
      {"NEW", "* SEARCH 1 3"},
      {"FROM alice", "* SEARCH 1 3"},
      {"SUBJECT \"caf\xC3\xA9\"", "* SEARCH 1"},  // matched after RFC 2047 decoding
      {"CHARSET UTF-8 BODY {5}\r\ncaf\xC3\xA9", "* SEARCH 1"},  // after quoted-printable decoding
      {"TEXT numbers", "* SEARCH 2"},
      {"HEADER X-Spam yes", "* SEARCH 3"},
      {"OR FLAGGED HEADER X-Spam \"\"", "* SEARCH 2 3"},
      {"NOT (FROM alice)", "* SEARCH 2"},
      {"BEFORE 1-Jan-2021", "* SEARCH 2"},
      {"SINCE 15-Nov-2023", "* SEARCH 3"},
      {"ON 14-Nov-2023", "* SEARCH 1"},
      {"SENTON 14-Nov-2023", "* SEARCH 1"},
      {"LARGER 100 SMALLER 1000", "* SEARCH 1"},
      {"2:*", "* SEARCH 2 3"},
      {"UID 3", "* SEARCH 3"},
      {"SUBJECT nothing-like-this", "* SEARCH"},
  };
  for (const Case& c : cases) {
    INFO(c.query);
    std::string out = h.send(std::string("q SEARCH ") + c.query + "\r\n");
    if (out.starts_with("+ Ready for literal data\r\n")) out.erase(0, 26);
    CHECK(out.substr(0, out.find("\r\n")) == c.result);
  }
}

TEST_CASE("AUTHENTICATE PLAIN: continuation, SASL-IR, cancel, bad base64, foreign authzid") {
  ServerHarness h;
  h.start();
  CHECK(h.send("a AUTHENTICATE PLAIN\r\n") == "+ \r\n");
  CHECK(h.send("*\r\n") == "a BAD Authentication cancelled\r\n");
  CHECK(h.send("b AUTHENTICATE PLAIN !!!\r\n") == "b BAD Invalid base64 in the SASL response\r\n");
  CHECK(h.send("c AUTHENTICATE CRAM-MD5\r\n") == "c NO [CANNOT] Unsupported authentication mechanism CRAM-MD5\r\n");
  // "alice\0bob\0secret": bob's password, but asking to act as alice.
  CHECK(h.send("d AUTHENTICATE PLAIN YWxpY2UAYm9iAHNlY3JldA==\r\n") ==
        "d NO [AUTHENTICATIONFAILED] Authentication failed\r\n");
  CHECK(h.send("e AUTHENTICATE PLAIN AGJvYgBzZWNyZXQ=\r\n").starts_with("e OK [CAPABILITY"));
  auto auth = h.events_of<server_events::Authenticated>();
  REQUIRE(auth.size() == 1);
  CHECK(auth[0].user == "bob");
  CHECK(auth[0].mechanism == "PLAIN");
}

TEST_CASE("brute force: growing delays, reply held until resume, BYE at the limit") {
  ServerHarness h;
  h.auto_resume = false;
  h.start();
  CHECK(h.send("a LOGIN bob x\r\n").empty());
  CHECK(h.session->waiting_for_resume());
  CHECK(h.send("b NOOP\r\n").empty());  // queued behind the held reply
  h.session->resume();
  h.drain();
  CHECK(h.session->take_output() == "a NO [AUTHENTICATIONFAILED] Authentication failed\r\nb OK NOOP completed\r\n");
  h.send("c LOGIN bob y\r\n");
  h.session->resume();
  h.send("d LOGIN bob z\r\n");
  auto failed = h.events_of<server_events::AuthFailed>();
  REQUIRE(failed.size() == 3);
  CHECK(failed[0].delay_ms == 1000);
  CHECK(failed[1].delay_ms == 2000);
  CHECK(failed[2].delay_ms == 4000);
  CHECK(failed[2].disconnecting);
  CHECK_FALSE(h.session->wants_close());
  h.session->resume();
  h.drain();
  CHECK(h.session->take_output().ends_with("* BYE Too many authentication failures\r\n"));
  CHECK(h.session->wants_close());
}

TEST_CASE("an oversized non-synchronizing literal is skipped by counting, then the session goes on") {
  ServerConfig cfg = test::plain_config();
  cfg.limits.max_literal = 1000;
  ServerHarness h(cfg);
  h.start();
  h.send("l LOGIN bob secret\r\n");
  CHECK(h.send("a APPEND INBOX {100000+}\r\n") == "a BAD [TOOBIG] Literal too large (100000 octets)\r\n");
  const std::string chunk(10000, 'x');
  for (int i = 0; i < 10; ++i) CHECK(h.send(chunk).empty());
  CHECK(h.send("\r\nb NOOP\r\n") == "b OK NOOP completed\r\n");
  CHECK(h.store.status("bob", "INBOX").messages == 0);
}

TEST_CASE("a client that only sends garbage is disconnected") {
  ServerHarness h;
  h.start();
  std::string out;
  for (int i = 0; i < 25 && !h.session->wants_close(); ++i) out += h.send("GET / HTTP/1.1\r\n");
  CHECK(h.session->wants_close());
  CHECK(out.ends_with("* BYE Too many invalid commands\r\n"));
}

TEST_CASE("trace events tell the story of a session") {
  ServerHarness h;
  h.deliver("Subject: x\r\n\r\nx\r\n");
  login_select(h);
  h.send("i IDLE\r\nDONE\r\nz LOGOUT\r\n");
  std::vector<std::string> states;
  for (const auto& e : h.events_of<server_events::StateChanged>())
    states.push_back(std::string(to_string(e.from)) + ">" + std::string(to_string(e.to)));
  CHECK(states == std::vector<std::string>{"connected>not-authenticated", "not-authenticated>authenticated",
                                           "authenticated>selected", "selected>logout"});
  auto selected = h.events_of<server_events::Selected>();
  REQUIRE(selected.size() == 1);
  CHECK(selected[0].exists == 1);
  CHECK(selected[0].recent == 1);
  CHECK(h.events_of<server_events::IdleStarted>().size() == 1);
  CHECK(h.events_of<server_events::IdleEnded>().size() == 1);
  auto commands = h.events_of<server_events::CommandReceived>();
  REQUIRE(commands.size() == 5);
  CHECK(commands[0].text == "l LOGIN bob secret");
  CHECK(commands[3].name == "DONE");
  CHECK(h.events_of<server_events::SessionClosed>().at(0).reason == "LOGOUT");
}

TEST_CASE("a FETCH paused at output_chunk goes on at continue_output, then reads the next command") {
  // The same session with and without streaming must say the same bytes.
  auto run = [](std::size_t chunk, std::vector<std::string>* pieces) {
    ServerConfig c = test::plain_config();
    c.output_chunk = chunk;
    ServerHarness h(c);
    for (int i = 1; i <= 5; ++i) h.deliver("Subject: " + std::to_string(i) + "\r\n\r\n" + std::string(40, 'a' + i) + "\r\n");
    login_select(h);
    // FETCH and a pipelined NOOP in one read.
    std::string out = h.send("f FETCH 1:* (BODY.PEEK[] FLAGS)\r\nn NOOP\r\n");
    if (pieces) pieces->push_back(out);
    while (h.session->output_paused()) {
      CHECK(out.find("n OK") == std::string::npos);  // NOOP waits for the FETCH
      CHECK_FALSE(h.session->has_output());
      h.session->continue_output();
      h.drain();
      std::string more = h.session->take_output();
      if (pieces) pieces->push_back(more);
      out += more;
    }
    return out;
  };
  std::vector<std::string> pieces;
  const std::string whole = run(0, nullptr);
  const std::string streamed = run(60, &pieces);
  CHECK(streamed == whole);
  // Each message's reply is ~70 octets: one per piece, the FETCH's tagged
  // reply and the NOOP's reply with the last one.
  REQUIRE(pieces.size() == 5);
  CHECK(pieces[0].rfind("* 1 FETCH", 0) == 0);
  CHECK(pieces[0].find("* 2 FETCH") == std::string::npos);
  CHECK(pieces[4].find("f OK FETCH completed\r\nn OK NOOP completed\r\n") != std::string::npos);
  CHECK(whole.find("n OK NOOP completed") > whole.find("f OK FETCH completed"));
}

TEST_CASE("a paused FETCH is dropped when the peer goes away") {
  ServerConfig c = test::plain_config();
  c.output_chunk = 10;
  ServerHarness h(c);
  h.deliver("Subject: 1\r\n\r\none\r\n");
  h.deliver("Subject: 2\r\n\r\ntwo\r\n");
  login_select(h);
  CHECK(h.send("f FETCH 1:* (BODY.PEEK[])\r\n").rfind("* 1 FETCH", 0) == 0);
  REQUIRE(h.session->output_paused());
  h.session->peer_closed();
  CHECK_FALSE(h.session->output_paused());
  h.session->continue_output();  // a late call from the host changes nothing
  CHECK(h.session->take_output().empty());
  CHECK(h.session->wants_close());
}
