// Tests for real/message/encoded_word.h: RFC 2047 for Japanese subjects.
#include "real/message/encoded_word.h"

#include "real/message/headers.h"

#include <catch2/catch.hpp>

using namespace mailsim::message;

TEST_CASE("ASCII needs no encoding and is left alone") {
  CHECK_FALSE(needs_encoding("Lunch tomorrow?"));
  CHECK(encode_words("Lunch tomorrow?", 9) == "Lunch tomorrow?");
  CHECK(needs_encoding("caf\xC3\xA9"));
  CHECK(needs_encoding("looks like =?an?encoded?= word"));
}

TEST_CASE("a Japanese subject round-trips through encoded-words") {
  const std::string subject = "\xE6\x98\x8E\xE6\x97\xA5\xE3\x81\xAE\xE6\x98\xBC\xE9\xA3\x9F";  // 明日の昼食
  const std::string encoded = encode_words(subject, 9);
  CHECK(encoded == "=?UTF-8?B?5piO5pel44Gu5pi86aOf?=");
  CHECK(decode_words(encoded) == subject);
}

TEST_CASE("a long Japanese subject splits between characters with lines of at most 76") {
  std::string subject;
  for (int i = 0; i < 40; ++i) subject += "\xE3\x81\x82";  // あ x 40
  subject += " and some ASCII";
  const std::string encoded = encode_words(subject, 9);
  const std::string field = "Subject: " + encoded;
  std::size_t start = 0;
  int lines = 0;
  for (;;) {
    const std::size_t eol = field.find("\r\n", start);
    const std::string_view line = std::string_view(field).substr(start, eol == std::string::npos ? std::string::npos : eol - start);
    CHECK(line.size() <= 76);
    ++lines;
    if (eol == std::string::npos) break;
    start = eol + 2;
  }
  CHECK(lines >= 3);
  // Each word decodes on its own to whole characters (RFC 2047 §5).
  std::size_t pos = 0;
  while ((pos = encoded.find("=?", pos)) != std::string::npos) {
    const std::size_t end = encoded.find("?=", pos + 10) + 2;
    const std::string one = decode_words(encoded.substr(pos, end - pos));
    CHECK(one.find("=?") == std::string::npos);
    CHECK((one.size() % 3 == 0 || one.find(' ') != std::string::npos));
    pos = end;
  }
  // The folded field unfolds and decodes back to the subject.
  CHECK(decode_words(unfold(encoded)) == subject);
}

TEST_CASE("decoding: B and Q, other charsets, adjacent words, mixed text") {
  CHECK(decode_words("=?UTF-8?Q?caf=C3=A9_au_lait?=") == "caf\xC3\xA9 au lait");
  CHECK(decode_words("=?utf-8?q?caf=c3=a9?=") == "caf\xC3\xA9");
  CHECK(decode_words("Re: =?UTF-8?B?5piO5pel?= lunch") == "Re: \xE6\x98\x8E\xE6\x97\xA5 lunch");
  // White space between adjacent encoded-words disappears (§6.2).
  CHECK(decode_words("=?UTF-8?B?5piO?= =?UTF-8?B?5pel?=") == "\xE6\x98\x8E\xE6\x97\xA5");
  CHECK(decode_words("=?UTF-8?B?5piO?=\r\n =?UTF-8?B?5pel?=") == "\xE6\x98\x8E\xE6\x97\xA5");
  // A character split across two words (seen in the wild) is joined.
  CHECK(decode_words("=?UTF-8?B?5pg=?= =?UTF-8?B?jg==?=") == "\xE6\x98\x8E");
  // ISO-2022-JP, the traditional Japanese mail charset: "こんにちは".
  CHECK(decode_words("=?ISO-2022-JP?B?GyRCJDMkcyRLJEEkTxsoQg==?=") ==
        "\xE3\x81\x93\xE3\x82\x93\xE3\x81\xAB\xE3\x81\xA1\xE3\x81\xAF");
  CHECK(decode_words("=?ISO-8859-1?Q?Andr=E9?=") == "Andr\xC3\xA9");
  // Malformed or unknown: left as written.
  CHECK(decode_words("=?UTF-8?B?not base64?=") == "=?UTF-8?B?not base64?=");
  CHECK(decode_words("=?X-UNKNOWN-CHARSET?B?YQ==?=") == "=?X-UNKNOWN-CHARSET?B?YQ==?=");
  CHECK(decode_words("=?UTF-8?Q?bad=ZZ?=") == "=?UTF-8?Q?bad=ZZ?=");
  CHECK(decode_words("a =? b") == "a =? b");
  CHECK(decode_words("") == "");
}

TEST_CASE("decoding: what IMAP SEARCH meets in the wild") {
  // A space inside an encoded word stays; the one between words goes (§6.2).
  CHECK(decode_words("=?UTF-8?Q?Caf=C3=A9_au_lait?= =?UTF-8?B?IOKYlQ==?=") == "Caf\xC3\xA9 au lait \xE2\x98\x95");
  // B words without their "=" padding.
  CHECK(decode_words("=?UTF-8?B?YQ?=") == "a");
  CHECK(decode_words("=?UTF-8?B?YWI?=") == "ab");
  // The RFC 2231 language suffix of a charset.
  CHECK(decode_words("=?UTF-8*en?Q?hi?=") == "hi");
  CHECK(decode_words("=?UTF-8?Q?" "?=") == "");  // empty text (split: "??=" is a trigraph)
  // Text around words keeps its spaces; only space between two words goes.
  CHECK(decode_words("a =?UTF-8?Q?b?= c =?UTF-8?Q?d?=\t=?UTF-8?Q?e?=") == "a b c de");
  // Next to a word that stays as written, the white space stays too.
  CHECK(decode_words("=?UTF-8?Q?a?= =?X-UNKNOWN?Q?b?=") == "a =?X-UNKNOWN?Q?b?=");
  CHECK(decode_words("=?UTF-8?Q?bad=ZZ?= =?UTF-8?Q?ok?=") == "=?UTF-8?Q?bad=ZZ?= ok");
  // Words in different charsets are decoded apart; the space between still goes.
  CHECK(decode_words("=?ISO-8859-1?Q?Andr=E9?= =?UTF-8?Q?_Ok?=") == "Andr\xC3\xA9 Ok");
  // Not an encoded word at all.
  CHECK(decode_words("=?") == "=?");
  CHECK(decode_words("x=?y") == "x=?y");
  CHECK(decode_words("=?UTF-8?Q?no end") == "=?UTF-8?Q?no end");
}
