// Message content both ways: the client's dot-stuffing and line-end repair,
// the server's DataReader (end of data, unstuffing, limits, bare CR/LF).
#include "real/smtp/data.h"
#include "real/smtp/data_reader.h"
#include "tests/unit/smtp/smtp_test_util.h"

#include <catch2/catch.hpp>

using namespace mailsim::smtp;
using mailsim::smtp::test::chunkings;

namespace {
// Feeds chunks; returns the bytes consumed in total.
std::size_t feed_all(DataReader& r, const std::vector<std::string>& chunks) {
  std::size_t used = 0;
  for (const auto& c : chunks) {
    if (r.status() != DataReader::Status::kReading) break;
    used += r.feed(c);
  }
  return used;
}
}  // namespace

TEST_CASE("dot_stuff_into appends after what is already there and counts only its own octets") {
  std::string out = "DATA pending\r\n";
  CHECK(dot_stuff_into(out, ".a\r\nb") == 11);
  CHECK(out == "DATA pending\r\n..a\r\nb\r\n.\r\n");
  std::string empty_after = "x";  // an empty message adds only the end mark, whatever came before
  CHECK(dot_stuff_into(empty_after, "") == 3);
  CHECK(empty_after == "x.\r\n");
}

TEST_CASE("dot_stuff doubles leading dots and ends with CRLF.CRLF") {
  CHECK(dot_stuff("a\r\n.b\r\n.\r\n") == "a\r\n..b\r\n..\r\n.\r\n");
  CHECK(dot_stuff("") == ".\r\n");
  CHECK(dot_stuff("no final newline") == "no final newline\r\n.\r\n");
  CHECK(dot_stuff(".") == "..\r\n.\r\n");
}

TEST_CASE("canonicalize_line_endings turns bare CR and LF into CRLF") {
  CHECK(canonicalize_line_endings("a\nb\rc\r\nd") == "a\r\nb\r\nc\r\nd\r\n");
  CHECK(canonicalize_line_endings("\n.\n") == "\r\n.\r\n");
  CHECK(canonicalize_line_endings("") == "");
  // Already CRLF throughout: the same text (copied in one go). One stray
  // end anywhere, the last line's included, and it is mended.
  const std::string canonical = "Subject: hi\r\n\r\nline one, long enough to span words\r\n.\r\n";
  CHECK(canonicalize_line_endings(canonical) == canonical);
  CHECK(canonicalize_line_endings("a\r\nb\r") == "a\r\nb\r\n");
  CHECK(canonicalize_line_endings("a\r\nb") == "a\r\nb\r\n");
  CHECK(canonicalize_line_endings("a\r\n\nb\r\n") == "a\r\n\r\nb\r\n");
  CHECK(canonicalize_line_endings("a\r\r\nb\r\n") == "a\r\n\r\nb\r\n");
  CHECK(has_8bit("caf\xC3\xA9"));
  CHECK_FALSE(has_8bit("cafe"));
}

TEST_CASE("next_line_end and has_8bit find their byte at every position of a longer text") {
  // Both look at eight bytes at a time: the byte may sit anywhere in a word,
  // in the tail after the last whole word, or be missing.
  for (std::size_t len = 0; len <= 40; ++len) {
    const std::string plain(len, 'x');
    CHECK(next_line_end(plain, 0) == len);
    CHECK_FALSE(has_8bit(plain));
    for (std::size_t at = 0; at < len; ++at) {
      for (char c : {'\r', '\n'}) {
        std::string t = plain;
        t[at] = c;
        for (std::size_t from = 0; from <= at; ++from) CHECK(next_line_end(t, from) == at);
        CHECK(next_line_end(t, at + 1) == len);
      }
      std::string high = plain;
      high[at] = '\xE9';
      CHECK(has_8bit(high));
      // Bytes next to CR and LF in value are not line ends.
      std::string near = plain;
      near[at] = at % 2 ? '\x0c' : '\x0b';
      CHECK(next_line_end(near, 0) == len);
    }
  }
}

TEST_CASE("DataReader finds the end of data and unstuffs, in any chunking") {
  const std::string wire = "Subject: x\r\n\r\n..one\r\n...\r\n.x\r\nend\r\n.\r\nNEXT COMMAND\r\n";
  auto chunks = GENERATE_COPY(from_range(chunkings(wire)));
  DataReader r(1000);
  const std::size_t used = feed_all(r, chunks);
  REQUIRE(r.status() == DataReader::Status::kDone);
  CHECK(used == wire.find("NEXT"));  // the rest belongs to the next command
  CHECK(r.take_message() == "Subject: x\r\n\r\n.one\r\n..\r\nx\r\nend\r\n");
  CHECK_FALSE(r.too_big());
  CHECK_FALSE(r.line_too_long());
}

TEST_CASE("DataReader: an empty message") {
  DataReader r(1000);
  CHECK(r.feed(".\r\n") == 3);
  CHECK(r.status() == DataReader::Status::kDone);
  CHECK(r.take_message().empty());
}

TEST_CASE("DataReader stops at a bare LF or CR, in any chunking") {
  struct Case {
    std::string wire;
    DataReader::Status status;
    std::size_t stop;  // bytes consumed, including the offending one
  };
  auto c = GENERATE(Case{"ab\nc\r\n.\r\n", DataReader::Status::kBareLf, 3},
                    Case{"ab\r\n.\n", DataReader::Status::kBareLf, 6},
                    Case{"ab\rc\r\n.\r\n", DataReader::Status::kBareCr, 4},
                    Case{"ab\r\r\n.\r\n", DataReader::Status::kBareCr, 4},
                    Case{"\n.\r\n", DataReader::Status::kBareLf, 1});
  auto chunks = GENERATE_COPY(from_range(chunkings(c.wire)));
  DataReader r(1000);
  CHECK(feed_all(r, chunks) == c.stop);
  CHECK(r.status() == c.status);
  CHECK(r.feed("more\r\n.\r\n") == 0);  // sticky
}

TEST_CASE("DataReader counts the size and line lengths") {
  DataReader small(5);
  small.feed("123456\r\n.\r\n");
  CHECK(small.status() == DataReader::Status::kDone);
  CHECK(small.too_big());
  CHECK(small.size() == 8);

  DataReader lines(1000, 10);
  lines.feed("12345678\r\n.\r\n");  // 10 with CRLF: fine
  CHECK_FALSE(lines.line_too_long());
  DataReader longer(1000, 10);
  longer.feed(".123456789\r\n.\r\n");  // 11 on the wire (stuffed)
  CHECK(longer.line_too_long());
}
