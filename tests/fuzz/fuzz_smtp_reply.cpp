// Fuzzes smtp::ReplyParser (real/smtp/reply.h, RFC 5321 §4.2): the same
// bytes fed in fuzzer-chosen chunks and all at once must give the same
// replies and the same verdict, and every reply must survive its own wire
// form (to_wire() parsed again gives it back).
//
// Header: none. Actions: none (FF c only marks a chunk boundary).
#include <string>
#include <vector>

#include "real/smtp/reply.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using namespace mailsim;
using namespace mailsim::smtp;
using fuzz::excerpt;

std::string describe(const Reply& r) { return std::to_string(r.code) + " [" + r.enhanced + "] " + excerpt(r.text()); }

void check_reply(const Reply& r) {
  FUZZ_CHECK(r.code >= 200 && r.code <= 599, "reply code out of range: " + describe(r));
  FUZZ_CHECK(!r.lines.empty(), "reply without lines");
  FUZZ_CHECK(r.enhanced.empty() || (is_enhanced_code(r.enhanced) && r.enhanced[0] - '0' == r.klass()),
             "enhanced code does not match the class: " + describe(r));
  for (const std::string_view l : r.lines) FUZZ_CHECK(l.find('\n') == std::string::npos, "LF inside a reply line");

  // Round trip through the wire form.
  ReplyParser again;
  again.feed(r.to_wire());
  if (again.failed()) {
    // Only the length limit may refuse a reply we parsed: to_wire() repeats
    // the enhanced code on lines that did not carry it.
    FUZZ_CHECK(again.error().find("longer than") != std::string::npos,
               "to_wire() of a parsed reply does not parse: " + again.error());
    return;
  }
  auto back = again.next();
  FUZZ_CHECK(back.has_value(), "to_wire() of a parsed reply gives no reply");
  FUZZ_CHECK(*back == r, "round trip changed the reply: " + describe(r) + " -> " + describe(*back));
  FUZZ_CHECK(!again.next().has_value() && !again.partial(), "round trip gave more than one reply");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fuzz::FuzzInput in(data, size, 0);

  ReplyParser chunked;
  std::vector<Reply> a;
  for (const fuzz::Chunk& c : in.chunks()) {
    chunked.feed(c.bytes);
    while (auto r = chunked.next()) a.push_back(std::move(*r));
  }
  ReplyParser whole;
  whole.feed(in.joined());
  std::vector<Reply> b;
  while (auto r = whole.next()) b.push_back(std::move(*r));

  FUZZ_CHECK(chunked.failed() == whole.failed(),
             "chunking changed the verdict: " + chunked.error() + " / " + whole.error());
  FUZZ_CHECK(chunked.error() == whole.error(), "chunking changed the error text");
  FUZZ_CHECK(a == b, "chunking changed the replies");
  FUZZ_CHECK(chunked.partial() == whole.partial(), "chunking changed partial()");
  for (const Reply& r : a) check_reply(r);
  return 0;
}
