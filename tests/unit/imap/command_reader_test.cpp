#include "real/imap/command_reader.h"

#include <catch2/catch.hpp>

using mailsim::imap::CommandReader;
using mailsim::imap::ReaderLimits;
using Kind = CommandReader::Kind;

namespace {

// Feeds `input` split at `split` (and, when `bytewise`, one byte at a time),
// collecting every framing result in order.
std::vector<CommandReader::Item> frame(const std::string& input, std::size_t split, bool bytewise,
                                       ReaderLimits limits = {}) {
  CommandReader r(limits);
  std::vector<CommandReader::Item> out;
  auto drain = [&] {
    for (auto it = r.next(); it.kind != Kind::kNone; it = r.next()) out.push_back(it);
  };
  if (bytewise) {
    for (char c : input) {
      r.feed(std::string_view(&c, 1));
      drain();
    }
  } else {
    r.feed(std::string_view(input).substr(0, split));
    drain();
    r.feed(std::string_view(input).substr(split));
    drain();
  }
  return out;
}

}  // namespace

TEST_CASE("reader frames lines and literals however the bytes are split") {
  const std::string input =
      "a1 NOOP\r\n"
      "a2 LOGIN {3}\r\nbob {6+}\r\nsecret\r\n"
      "a3 APPEND INBOX {5}\r\nhello\r\n";
  bool bytewise = GENERATE(false, true);
  std::size_t split = bytewise ? 0 : GENERATE_COPY(range<std::size_t>(0, input.size() + 1));
  auto items = frame(input, split, bytewise);
  REQUIRE(items.size() == 5);
  CHECK(items[0].kind == Kind::kCommand);
  CHECK(items[0].text == "a1 NOOP\r\n");
  CHECK(items[1].kind == Kind::kContinue);  // {3}: synchronizing, "+" needed
  CHECK(items[1].literal_size == 3);
  CHECK(items[2].text == "a2 LOGIN {3}\r\nbob {6+}\r\nsecret\r\n");  // {6+}: no "+"
  CHECK(items[3].kind == Kind::kContinue);
  CHECK(items[4].text == "a3 APPEND INBOX {5}\r\nhello\r\n");
}

TEST_CASE("reader refuses a huge synchronizing literal without allocating it, then goes on") {
  const std::string input = "a1 APPEND INBOX {999999999}\r\na2 NOOP\r\n";
  bool bytewise = GENERATE(false, true);
  std::size_t split = bytewise ? 0 : GENERATE_COPY(range<std::size_t>(0, input.size() + 1));
  ReaderLimits limits;
  limits.max_literal = 1000;
  limits.max_command = 2000;
  auto items = frame(input, split, bytewise, limits);
  REQUIRE(items.size() == 2);
  CHECK(items[0].kind == Kind::kLiteralTooBig);
  CHECK(items[0].tag == "a1");
  CHECK(items[0].synchronizing);
  CHECK(items[0].literal_size == 999999999);
  CHECK(items[1].kind == Kind::kCommand);
  CHECK(items[1].text == "a2 NOOP\r\n");
}

TEST_CASE("reader skips a too-big non-synchronizing literal by counting, then goes on") {
  const std::string input = "a1 APPEND INBOX {20+}\r\n01234567890123456789\r\na2 NOOP\r\n";
  bool bytewise = GENERATE(false, true);
  std::size_t split = bytewise ? 0 : GENERATE_COPY(range<std::size_t>(0, input.size() + 1));
  ReaderLimits limits;
  limits.max_literal = 10;
  auto items = frame(input, split, bytewise, limits);
  REQUIRE(items.size() == 2);
  CHECK(items[0].kind == Kind::kLiteralTooBig);
  CHECK_FALSE(items[0].synchronizing);
  CHECK(items[1].text == "a2 NOOP\r\n");
}

TEST_CASE("reader refuses an over-long line and resynchronises at the next line") {
  const std::string input = "a1 NOOP " + std::string(100, 'x') + "\r\na2 NOOP\r\n";
  bool bytewise = GENERATE(false, true);
  std::size_t split = bytewise ? 0 : GENERATE_COPY(range<std::size_t>(0, input.size() + 1));
  ReaderLimits limits;
  limits.max_line = 64;
  auto items = frame(input, split, bytewise, limits);
  REQUIRE(items.size() == 2);
  CHECK(items[0].kind == Kind::kLineTooLong);
  CHECK(items[0].tag == "a1");
  CHECK(items[1].text == "a2 NOOP\r\n");
}

TEST_CASE("reader drops everything buffered when told to (STARTTLS injection)") {
  CommandReader r;
  r.feed("a1 STARTTLS\r\na2 LOGIN bob secret\r\n");
  auto first = r.next();
  CHECK(first.text == "a1 STARTTLS\r\n");
  CHECK(r.buffered() > 0);
  r.discard_input();
  CHECK(r.buffered() == 0);
  CHECK(r.next().kind == Kind::kNone);
}
