#include "real/codec/base64.h"

#include <catch2/catch.hpp>

using mailsim::codec::base64_decode;
using mailsim::codec::base64_encode;

TEST_CASE("base64 round-trips SASL PLAIN credentials") {
  const std::string plain = std::string("\0alice\0secret", 13);
  CHECK(base64_encode(plain) == "AGFsaWNlAHNlY3JldA==");
  CHECK(base64_decode("AGFsaWNlAHNlY3JldA==") == plain);
  CHECK(base64_encode("") == "");
  CHECK(base64_decode("") == std::string{});
  CHECK(base64_decode("YQ==") == "a");
  CHECK(base64_decode("YWI=") == "ab");
  CHECK(base64_decode("YWJj") == "abc");
}

TEST_CASE("base64 refuses malformed input instead of guessing") {
  CHECK_FALSE(base64_decode("YQ"));      // missing padding
  CHECK_FALSE(base64_decode("Y=Q="));    // padding inside
  CHECK_FALSE(base64_decode("YW*j"));    // not in the alphabet
  CHECK_FALSE(base64_decode("YWJj\r\n")); // line break inside
}
