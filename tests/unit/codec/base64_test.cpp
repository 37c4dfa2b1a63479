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

TEST_CASE("lenient base64 reads mail bodies and unpadded encoded-words") {
  using mailsim::codec::base64_decode_lenient;
  CHECK(base64_decode_lenient("JVBERi0x\r\nLjQK\r\n") == "%PDF-1.4\n");  // a body split into lines
  CHECK(base64_decode_lenient(" YW Jj\t") == "abc");
  CHECK(base64_decode_lenient("YQ") == "a");    // padding left off
  CHECK(base64_decode_lenient("YWI") == "ab");
  CHECK(base64_decode_lenient("") == std::string{});
  CHECK_FALSE(base64_decode_lenient("Y"));       // one character cannot be a byte
  CHECK_FALSE(base64_decode_lenient("YW*j"));    // still not in the alphabet
  CHECK_FALSE(base64_decode_lenient("Y=Q="));    // still no padding inside
}
