// Tests for real/message/compose.h: what the simulated mail user agent sends.
#include "real/message/compose.h"

#include "real/message/encoded_word.h"
#include "real/message/headers.h"

#include <catch2/catch.hpp>

using namespace mailsim::message;

namespace {

TextMessage lunch() {
  TextMessage m;
  m.from = {"Alice", "alice@alpha.example"};
  m.to = {{"", "bob@beta.example"}};
  m.subject = "Lunch?";
  m.body = "Shall we meet at noon?\nAlice";
  m.date = 1795393800;  // 2026-11-23T00:30:00Z
  m.utc_offset_minutes = 540;
  m.message_id = make_message_id(m.date, 1, "alpha.example");
  return m;
}

}  // namespace

TEST_CASE("a simple text message, exactly") {
  CHECK(compose_text_message(lunch()) ==
        "From: Alice <alice@alpha.example>\r\n"
        "To: bob@beta.example\r\n"
        "Subject: Lunch?\r\n"
        "Date: Mon, 23 Nov 2026 09:30:00 +0900\r\n"
        "Message-ID: <20261123003000.1@alpha.example>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=UTF-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n"
        "\r\n"
        "Shall we meet at noon?\r\n"
        "Alice\r\n");
}

TEST_CASE("Message-IDs come from the caller's time and number") {
  CHECK(make_message_id("abc.123", "mail.alpha.example") == "<abc.123@mail.alpha.example>");
  CHECK(make_message_id(1795393800, 0xbeef, "h") == "<20261123003000.beef@h>");
  CHECK(make_message_id(1795393800, 1, "h") != make_message_id(1795393800, 2, "h"));
}

TEST_CASE("a Japanese subject and display name are encoded, and decode for display") {
  TextMessage m = lunch();
  m.subject = "\xE6\x98\x8E\xE6\x97\xA5\xE3\x81\xAE\xE6\x98\xBC\xE9\xA3\x9F\xE3\x81\xAB\xE3\x81\xA4\xE3\x81"
              "\x84\xE3\x81\xA6\xE3\x81\xAE\xE3\x81\x94\xE7\x9B\xB8\xE8\xAB\x87";  // 明日の昼食についてのご相談
  m.from.display_name = "\xE5\xB1\xB1\xE7\x94\xB0\xE8\x8A\xB1\xE5\xAD\x90";  // 山田花子
  m.body = "\xE3\x81\x93\xE3\x82\x93\xE3\x81\xAB\xE3\x81\xA1\xE3\x81\xAF\n";
  const std::string text = compose_text_message(m);
  // Headers are 7-bit; only the 8bit body carries UTF-8 bytes.
  const auto h = parse_headers(text);
  for (char c : text.substr(0, h.body_offset)) CHECK(static_cast<unsigned char>(c) < 0x80);
  CHECK(decode_words(std::string(*h.get("Subject"))) == m.subject);
  CHECK(decode_words(std::string(*h.get("From"))) == m.from.display_name + " <alice@alpha.example>");
  CHECK(text.substr(h.body_offset) == "\xE3\x81\x93\xE3\x82\x93\xE3\x81\xAB\xE3\x81\xA1\xE3\x81\xAF\r\n");
}

TEST_CASE("display names are quoted when they need it, many recipients fold") {
  CHECK(format_mailbox({"Liddell, Alice", "alice@alpha.example"}) == "\"Liddell, Alice\" <alice@alpha.example>");
  CHECK(format_mailbox({"Say \"hi\"", "a@b"}) == "\"Say \\\"hi\\\"\" <a@b>");
  CHECK(format_mailbox({"", "a@b"}) == "a@b");
  TextMessage m = lunch();
  m.to.clear();
  for (int i = 0; i < 8; ++i) m.to.push_back({"Recipient Number " + std::to_string(i), "r" + std::to_string(i) + "@beta.example"});
  m.cc = {{"", "carol@gamma.example"}};
  const std::string text = compose_text_message(m);
  std::size_t start = 0;
  for (std::size_t eol; (eol = text.find("\r\n", start)) != std::string::npos; start = eol + 2)
    CHECK(eol - start <= 78);
  const auto h = parse_headers(text);
  CHECK(h.get("To")->find("Recipient Number 7 <r7@beta.example>") != std::string_view::npos);
  CHECK(h.get("Cc") == std::string_view("carol@gamma.example"));
}

TEST_CASE("bodies get CRLF line ends, extra fields are added, nonsense is refused") {
  TextMessage m = lunch();
  m.body = "one\r\ntwo\nthree\rfour";
  m.extra_fields = {{"In-Reply-To", "<x@y>"}};
  const std::string text = compose_text_message(m);
  const auto h = parse_headers(text);
  CHECK(text.substr(h.body_offset) == "one\r\ntwo\r\nthree\r\nfour\r\n");
  CHECK(h.get("In-Reply-To") == std::string_view("<x@y>"));
  m.body.clear();
  CHECK(compose_text_message(m).ends_with("\r\n\r\n\r\n"));  // empty body is one empty line
  m.to.clear();
  CHECK_THROWS_AS(compose_text_message(m), std::invalid_argument);
}
