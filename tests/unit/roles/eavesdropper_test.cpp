// What an eavesdropper makes of plaintext it overhears (sim/roles/eavesdropper.h):
// passwords of SMTP AUTH PLAIN/LOGIN (base64 is not encryption), POP3 PASS,
// IMAP LOGIN, and the subject of a letter. Fed whole, byte by byte and split
// at every position: packet boundaries fall anywhere.
#include "sim/roles/eavesdropper.h"

#include <catch2/catch.hpp>

using mailsim::sim::roles::overhear;
using mailsim::sim::roles::OverheardStream;
using mailsim::sim::roles::starts_like_tls;

namespace {

std::vector<std::string> feed_split(std::string_view text, std::size_t split) {
  OverheardStream s;
  auto a = overhear(s, text.substr(0, split));
  auto b = overhear(s, text.substr(split));
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::vector<std::string> feed_bytes(std::string_view text) {
  OverheardStream s;
  std::vector<std::string> all;
  for (char c : text) {
    auto got = overhear(s, std::string_view(&c, 1));
    all.insert(all.end(), got.begin(), got.end());
  }
  return all;
}

void check_everywhere(std::string_view text, const std::vector<std::string>& expected) {
  CHECK(feed_bytes(text) == expected);
  // Several texts per test case, so a plain loop rather than GENERATE.
  for (std::size_t split = 0; split <= text.size(); ++split) {
    INFO("split at " << split);
    CHECK(feed_split(text, split) == expected);
  }
}

}  // namespace

TEST_CASE("AUTH PLAIN with an initial response gives the password away") {
  check_everywhere("EHLO alice-pc\r\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\r\nMAIL FROM:<alice@alpha.example>\r\n",
                   {"reads a password on the road (AUTH PLAIN, base64 decoded): user \"alice\", password \"secret\""});
}

TEST_CASE("AUTH PLAIN answered after the 334 challenge") {
  check_everywhere("AUTH PLAIN\r\nAGFsaWNlAHNlY3JldA==\r\n",
                   {"reads a password on the road (AUTH PLAIN, base64 decoded): user \"alice\", password \"secret\""});
}

TEST_CASE("AUTH LOGIN: user and password on their own lines") {
  // "alice" = YWxpY2U=, "secret" = c2VjcmV0
  check_everywhere("AUTH LOGIN\r\nYWxpY2U=\r\nc2VjcmV0\r\n",
                   {"reads a password on the road (AUTH LOGIN, base64 decoded): user \"alice\", password \"secret\""});
  check_everywhere("AUTH LOGIN YWxpY2U=\r\nc2VjcmV0\r\n",
                   {"reads a password on the road (AUTH LOGIN, base64 decoded): user \"alice\", password \"secret\""});
}

TEST_CASE("POP3 USER/PASS and IMAP LOGIN") {
  check_everywhere("CAPA\r\nUSER bob\r\nPASS open sesame\r\n",
                   {"reads a password on the road (POP3 PASS): user \"bob\", password \"open sesame\""});
  check_everywhere("A1 LOGIN bob secret\r\n", {"reads a password on the road (IMAP LOGIN): user \"bob\", password \"secret\""});
  check_everywhere("A3 AUTHENTICATE PLAIN AGJvYgBzZWNyZXQ=\r\n",
                   {"reads a password on the road (AUTH PLAIN, base64 decoded): user \"bob\", password \"secret\""});
}

TEST_CASE("the subject of a letter sent in the clear is told once") {
  check_everywhere("DATA\r\nSubject: Lunch?\r\nSubject: again\r\n\r\nbody\r\n",
                   {"reads the letter as it passes, like a postcard: \"Subject: Lunch?\""});
}

TEST_CASE("ordinary commands and garbage give nothing away") {
  check_everywhere("EHLO x\r\nMAIL FROM:<a@b>\r\nAUTH PLAIN !!notbase64!!\r\nAUTH\r\n", {});
}

TEST_CASE("TLS records are recognised by their header") {
  CHECK(starts_like_tls(std::string("\x16\x03\x01\x00\x10", 5)));   // handshake (ClientHello)
  CHECK(starts_like_tls(std::string("\x17\x03\x03\x00\x20", 5)));   // application data
  CHECK_FALSE(starts_like_tls("220 mx.beta.example ESMTP\r\n"));
  CHECK_FALSE(starts_like_tls(std::string("\x16\x02\x00", 3)));
}
