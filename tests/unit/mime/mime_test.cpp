// MIME tree, checked through the exact IMAP shapes it feeds (RFC 3501 §7.4.2
// ENVELOPE and BODYSTRUCTURE). The RFC 5322 pieces underneath (header fields,
// addresses, dates, encoded-words) are tested in tests/unit/message.
#include "real/mime/mime.h"

#include <catch2/catch.hpp>

#include "real/codec/line_ends.h"
#include "real/imap/body_structure.h"
#include "real/message/encoded_word.h"

using namespace mailsim;

namespace {

std::string crlf(std::string_view lf_text) { return codec::to_crlf(lf_text); }

const std::string kPlain = crlf(
    "Date: Tue, 14 Nov 2023 23:10:00 +0100\n"
    "From: Alice Liddell <alice@alpha.example>\n"
    "To: bob@beta.example, \"Smith, Carol\" <carol@gamma.example>\n"
    "Subject: Lunch?\n"
    "Message-ID: <1@alpha.example>\n"
    "\n"
    "Friday at noon?\n"
    "Alice\n");

const std::string kAlternative = crlf(
    "From: alice@alpha.example\n"
    "Subject: =?UTF-8?Q?Caf=C3=A9_au_lait?= =?UTF-8?B?IOKYlQ==?=\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/alternative; boundary=\"b1\"\n"
    "\n"
    "This is a multi-part message in MIME format.\n"
    "--b1\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "Content-Transfer-Encoding: quoted-printable\n"
    "\n"
    "Caf=C3=A9\n"
    "--b1\n"
    "Content-Type: text/html; charset=utf-8\n"
    "\n"
    "<p>Caf&eacute;</p>\n"
    "--b1--\n"
    "epilogue\n");

const std::string kMixed = crlf(
    "From: alice@alpha.example\n"
    "To: team: bob@beta.example, carol@gamma.example;\n"
    "Subject: report\n"
    "Content-Type: multipart/mixed; boundary=outer\n"
    "\n"
    "--outer\n"
    "Content-Type: text/plain\n"
    "\n"
    "See attached.\n"
    "--outer\n"
    "Content-Type: application/pdf; name=\"report.pdf\"\n"
    "Content-Transfer-Encoding: base64\n"
    "Content-Disposition: attachment; filename=\"report.pdf\"\n"
    "\n"
    "JVBERi0xLjQK\n"
    "--outer--\n");

const std::string kForward = crlf(
    "From: bob@beta.example\n"
    "Subject: Fwd: Lunch?\n"
    "Content-Type: multipart/mixed; boundary=\"fw\"\n"
    "\n"
    "--fw\n"
    "Content-Type: text/plain\n"
    "\n"
    "Forwarding.\n"
    "--fw\n"
    "Content-Type: message/rfc822\n"
    "\n"
    "From: Alice <alice@alpha.example>\n"
    "Subject: Lunch?\n"
    "\n"
    "Friday?\n"
    "--fw--\n");

}  // namespace

TEST_CASE("plain text message: ENVELOPE and BODYSTRUCTURE") {
  mime::Entity e = mime::parse_message(kPlain);
  CHECK(imap::envelope(e.header) ==
        "(\"Tue, 14 Nov 2023 23:10:00 +0100\" \"Lunch?\" ((\"Alice Liddell\" NIL \"alice\" \"alpha.example\")) "
        "((\"Alice Liddell\" NIL \"alice\" \"alpha.example\")) ((\"Alice Liddell\" NIL \"alice\" \"alpha.example\")) "
        "((NIL NIL \"bob\" \"beta.example\")(\"Smith, Carol\" NIL \"carol\" \"gamma.example\")) NIL NIL NIL "
        "\"<1@alpha.example>\")");
  // No Content-Type: text/plain; charset=us-ascii (RFC 2045 §5.2). 24 octets, 2 lines.
  CHECK(imap::body_structure(e, true) == "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 24 2 NIL NIL NIL NIL)");
  CHECK(imap::body_structure(e, false) == "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 24 2)");
}

// In a multipart, the CRLF before each delimiter belongs to the delimiter
// (RFC 2046 §5.1.1), so "Caf=C3=A9" is 9 octets in 1 line.
TEST_CASE("multipart/alternative with an RFC 2047 subject") {
  mime::Entity e = mime::parse_message(kAlternative);
  REQUIRE(e.parts.size() == 2);
  CHECK(imap::body_structure(e, true) ==
        "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL \"QUOTED-PRINTABLE\" 9 1 NIL NIL NIL NIL)"
        "(\"TEXT\" \"HTML\" (\"CHARSET\" \"utf-8\") NIL NIL \"7BIT\" 18 1 NIL NIL NIL NIL) "
        "\"ALTERNATIVE\" (\"BOUNDARY\" \"b1\") NIL NIL NIL)");
  // ENVELOPE keeps the subject encoded, as RFC 3501 says; decoding is the client's job.
  CHECK(imap::envelope(e.header).find("\"=?UTF-8?Q?Caf=C3=A9_au_lait?= =?UTF-8?B?IOKYlQ==?=\"") != std::string::npos);
  // What SEARCH SUBJECT compares: the value decoded (RFC 2047 §6.2 drops the
  // space between the words, the one inside the second word stays).
  CHECK(message::decode_words(*e.header.value("Subject")) == "Caf\xC3\xA9 au lait \xE2\x98\x95");
  CHECK(mime::decode_transfer_encoding(e.parts[0].body_text(kAlternative), "quoted-printable") == "Caf\xC3\xA9");
}

TEST_CASE("multipart/mixed with an attachment and a group address") {
  mime::Entity e = mime::parse_message(kMixed);
  CHECK(imap::body_structure(e, true) ==
        "((\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 13 1 NIL NIL NIL NIL)"
        "(\"APPLICATION\" \"PDF\" (\"NAME\" \"report.pdf\") NIL NIL \"BASE64\" 12 NIL "
        "(\"ATTACHMENT\" (\"FILENAME\" \"report.pdf\")) NIL NIL) \"MIXED\" (\"BOUNDARY\" \"outer\") NIL NIL NIL)");
  CHECK(imap::envelope(e.header).find("((NIL NIL \"team\" NIL)(NIL NIL \"bob\" \"beta.example\")"
                                      "(NIL NIL \"carol\" \"gamma.example\")(NIL NIL NIL NIL))") != std::string::npos);
  CHECK(mime::decode_transfer_encoding(e.parts[1].body_text(kMixed), "base64") == "%PDF-1.4\n");
}

TEST_CASE("message/rfc822 part: envelope and structure of the inner message, and section paths") {
  mime::Entity e = mime::parse_message(kForward);
  CHECK(imap::body_structure(e, false) ==
        "((\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 11 1)"
        "(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 61 "
        "(NIL \"Lunch?\" ((\"Alice\" NIL \"alice\" \"alpha.example\")) ((\"Alice\" NIL \"alice\" \"alpha.example\")) "
        "((\"Alice\" NIL \"alice\" \"alpha.example\")) NIL NIL NIL NIL NIL) "
        "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 7 1) 4) \"MIXED\")");
  const mime::Entity* inner = mime::find_part(e, {2});
  REQUIRE(inner);
  CHECK(inner->body_text(kForward) == "From: Alice <alice@alpha.example>\r\nSubject: Lunch?\r\n\r\nFriday?");
  const mime::Entity* inner_text = mime::find_part(e, {2, 1});
  REQUIRE(inner_text);
  CHECK(inner_text->body_text(kForward) == "Friday?");  // the CRLF before "--fw--" belongs to the delimiter
  CHECK(mime::find_part(e, {3}) == nullptr);
  CHECK(mime::find_part(e, {1, 1}) == nullptr);
  // A single-part message: part 1 is its body.
  mime::Entity plain = mime::parse_message(kPlain);
  REQUIRE(mime::find_part(plain, {1}));
  CHECK(mime::find_part(plain, {1})->body_text(kPlain) == "Friday at noon?\r\nAlice\r\n");
}

TEST_CASE("entity headers unfold, keep the raw lines, and skip lines that are not fields") {
  mime::Header h = mime::Header::parse("Subject: a\r\n long\r\n\tsubject\r\nX-A: 1\r\n\r\n");
  CHECK(*h.value("subject") == "a long\tsubject");
  CHECK(h.find("Subject")->raw == "Subject: a\r\n long\r\n\tsubject\r\n");
  // A stored message with a stray line in its header: IMAP still sees the
  // fields after it, and the body still starts after the blank line.
  const std::string raw = crlf("From: alice@alpha.example\nthis is not a field\nSubject: still here\n\nbody\n");
  mime::Entity e = mime::parse_message(raw);
  CHECK(e.header.fields().size() == 2);
  REQUIRE(e.header.value("Subject"));
  CHECK(*e.header.value("Subject") == "still here");
  CHECK(e.header.problems().size() == 1);
  CHECK(e.body_text(raw) == "body\r\n");
  CHECK(e.header.find("Subject")->offset == raw.find("Subject"));
}

TEST_CASE("hostile MIME: no boundary, no closing delimiter, deep nesting") {
  mime::Entity nob = mime::parse_message("Content-Type: multipart/mixed\r\n\r\nbody\r\n");
  CHECK(imap::body_structure(nob, false) == "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 6 1)");
  mime::Entity open = mime::parse_message("Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n\r\nunfinished\r\n");
  REQUIRE(open.parts.size() == 1);
  CHECK(open.parts[0].body_text("Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n\r\nunfinished\r\n") ==
        "unfinished\r\n");
  std::string deep;
  for (int i = 0; i < 200; ++i) deep += "Content-Type: message/rfc822\r\n\r\n";
  deep += "hi\r\n";
  mime::Entity d = mime::parse_message(deep);  // must not overflow the stack
  CHECK(imap::body_structure(d, true).size() > 0);
}
