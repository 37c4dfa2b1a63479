#include "real/codec/quoted_printable.h"

#include <catch2/catch.hpp>

using mailsim::codec::q_decode;
using mailsim::codec::quoted_printable_decode;

TEST_CASE("quoted-printable bodies: escapes, soft line breaks, lenient on junk") {
  CHECK(quoted_printable_decode("Caf=C3=A9") == "Caf\xC3\xA9");
  CHECK(quoted_printable_decode("caf=c3=a9") == "caf\xC3\xA9");  // lower-case hex, as some writers send
  CHECK(quoted_printable_decode("long=\r\nline") == "longline");  // soft line break
  CHECK(quoted_printable_decode("long=\nline") == "longline");
  CHECK(quoted_printable_decode("a=3D=\r\n") == "a=");
  CHECK(quoted_printable_decode("hard\r\nbreak") == "hard\r\nbreak");
  // Malformed "=" sequences stay as written (RFC 2045 §6.7 note 1).
  CHECK(quoted_printable_decode("100=ZZ") == "100=ZZ");
  CHECK(quoted_printable_decode("end=") == "end=");
  CHECK(quoted_printable_decode("end=4") == "end=4");
  CHECK(quoted_printable_decode("") == "");
}

TEST_CASE("Q encoded-word text: underscore is a space, bad escapes spoil the word") {
  CHECK(q_decode("Caf=C3=A9_au_lait") == "Caf\xC3\xA9 au lait");
  CHECK(q_decode("a=5Fb") == "a_b");  // an encoded underscore is an underscore
  CHECK(q_decode("") == std::string{});
  CHECK_FALSE(q_decode("bad=ZZ"));
  CHECK_FALSE(q_decode("end="));
  CHECK_FALSE(q_decode("end=4"));
}
