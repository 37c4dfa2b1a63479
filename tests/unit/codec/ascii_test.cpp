#include "real/codec/ascii.h"

#include <catch2/catch.hpp>

using namespace mailsim::codec;

TEST_CASE("ASCII case-insensitive comparison, search and mapping") {
  CHECK(iequals("Received", "rECEIVED"));
  CHECK_FALSE(iequals("Received", "Receive"));
  CHECK(iequals("", ""));
  // Only ASCII letters fold: other bytes compare as themselves.
  CHECK_FALSE(iequals("\xC3\xA9", "\xC3\x89"));
  CHECK(iequals("a-1_[", "A-1_["));
  CHECK_FALSE(iequals("@", "`"));  // 0x40 and 0x60 differ by the case bit but are not letters
  CHECK(istarts_with("INBOX.Sent", "inbox"));
  CHECK_FALSE(istarts_with("INB", "inbox"));
  CHECK(icontains("Subject: Lunch Tomorrow", "lunch t"));
  CHECK(icontains("anything", ""));
  CHECK_FALSE(icontains("", "x"));
  CHECK_FALSE(icontains("Lunch", "lunches"));
  CHECK(to_upper("auth=Plain 8bitmime") == "AUTH=PLAIN 8BITMIME");
  CHECK(to_lower("Content-Type: TEXT/Plain") == "content-type: text/plain");
  CHECK(to_upper("caf\xC3\xA9") == "CAF\xC3\xA9");
}
