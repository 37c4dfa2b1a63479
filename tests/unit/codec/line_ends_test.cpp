#include "real/codec/line_ends.h"

#include <catch2/catch.hpp>

using namespace mailsim::codec;

TEST_CASE("CRLF and LF conversions, sizes without copying") {
  CHECK(to_crlf("a\nb\n") == "a\r\nb\r\n");
  CHECK(to_crlf("a\r\nb\n") == "a\r\nb\r\n");
  CHECK(to_crlf("\n") == "\r\n");
  CHECK(to_crlf("bare\rcr") == "bare\rcr");
  CHECK(to_crlf(to_crlf("x\ny\r\n")) == to_crlf("x\ny\r\n"));
  CHECK(to_lf("a\r\nb\r\n") == "a\nb\n");
  CHECK(to_lf("bare\rcr\n") == "bare\rcr\n");
  CHECK(to_lf("\r\r\n") == "\r\n");
  for (std::string_view s : {"", "a", "\n", "\r\n", "a\nb\r\nc\n", "\r\r\n\n", "x\r"})
    CHECK(crlf_size(s) == to_crlf(s).size());
  const std::string message = "From: a@b\r\nSubject: hi\r\n\r\nbody\r\n";
  CHECK(to_crlf(to_lf(message)) == message);
}
