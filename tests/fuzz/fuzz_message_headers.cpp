// Fuzzes the RFC 5322 header parser of real/message (headers.h: §2.2 fields,
// §2.2.3 folding, incremental HeaderParser) and its neighbours: RFC 2047
// encoded words (encoded_word.h) and §3.3 dates (date.h).
//
// Header: none. The stream is a message; its chunks are what the
// incremental parser is fed (as an SMTP DATA stream would arrive).
//
// Invariants checked:
//   - HeaderParser fed in chunks gives exactly what parse_headers() gives for
//     the whole message (fields, values, offsets, problems, body offset);
//   - feed() never claims more bytes than given, and nothing once done();
//   - field offsets ascend, lie before the body, and point at the field name;
//   - unfold(fold_field(f)) == f + CRLF for a field without line breaks;
//   - decode_words(encode_words(s)) == s for UTF-8 text s;
//   - parse_date(format_date(t)) == t for every date parse_date accepts.
#include <string>
#include <string_view>

#include "real/message/date.h"
#include "real/message/encoded_word.h"
#include "real/message/headers.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using namespace mailsim;
using namespace mailsim::message;
using fuzz::excerpt;

bool same(const MessageHeaders& a, const MessageHeaders& b) {
  if (a.fields.size() != b.fields.size() || a.problems.size() != b.problems.size()) return false;
  if (a.body_offset != b.body_offset || a.has_separator != b.has_separator) return false;
  for (std::size_t i = 0; i < a.fields.size(); ++i) {
    const auto &x = a.fields[i], &y = b.fields[i];
    if (x.name != y.name || x.raw_value != y.raw_value || x.value != y.value || x.offset != y.offset) return false;
  }
  for (std::size_t i = 0; i < a.problems.size(); ++i) {
    const auto &x = a.problems[i], &y = b.problems[i];
    if (x.line != y.line || x.offset != y.offset || x.reason != y.reason) return false;
  }
  return true;
}

bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : 9;
    if (n == 9 || i + n >= s.size()) return false;
    std::uint32_t cp = n == 0 ? c : n == 1 ? (c & 0x1F) : n == 2 ? (c & 0x0F) : (c & 0x07);
    for (std::size_t k = 1; k <= n; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d >> 6) != 2) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += n + 1;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fuzz::FuzzInput in(data, size, 0);
  const std::string msg = in.joined();

  HeaderParser p;
  std::size_t consumed = 0;
  for (const fuzz::Chunk& c : in.chunks()) {
    const bool was_done = p.done();
    const std::size_t used = p.feed(c.bytes);
    FUZZ_CHECK(used <= c.bytes.size(), "feed() used more bytes than given");
    if (was_done) FUZZ_CHECK(used == 0, "feed() used bytes after done()");
    consumed += used;
  }
  p.finish();
  FUZZ_CHECK(p.done(), "not done after finish()");
  const MessageHeaders chunked = p.take();
  const MessageHeaders whole = parse_headers(msg);
  FUZZ_CHECK(same(chunked, whole), "chunking changed the parsed header section");
  FUZZ_CHECK(whole.body_offset <= msg.size(), "body offset past the end");
  FUZZ_CHECK(whole.body_offset <= consumed || consumed == msg.size(), "body starts after the consumed bytes");

  std::size_t prev = 0;
  for (const HeaderField& f : whole.fields) {
    FUZZ_CHECK(f.offset >= prev && f.offset < msg.size(), "field offsets out of order");
    FUZZ_CHECK(f.offset < whole.body_offset, "field at or after the start of the body");
    FUZZ_CHECK(std::string_view(msg).substr(f.offset).starts_with(f.name),
               "field offset does not point at its name: " + excerpt(f.name));
    FUZZ_CHECK(whole.find(f.name) != nullptr && whole.count(f.name) >= 1, "field not found by its own name");
    prev = f.offset;
    (void)decode_words(f.value);
    (void)parse_date(f.value);
  }

  // Folding round trip on the first line of the input as a field.
  const std::string_view line = std::string_view(msg).substr(0, msg.find_first_of("\r\n"));
  FUZZ_CHECK(unfold(fold_field(line)) == std::string(line) + "\r\n", "fold/unfold round trip failed: " + excerpt(line));
  const std::string folded = fold_field(line, 20);
  FUZZ_CHECK(unfold(folded) == std::string(line) + "\r\n", "fold(20)/unfold round trip failed: " + excerpt(line));

  if (valid_utf8(line)) {
    const std::string enc = encode_words(line, 9);
    FUZZ_CHECK(decode_words(enc) == line, "encoded-word round trip failed: " + excerpt(line) + " -> " + excerpt(enc));
  }
  (void)needs_encoding(msg);
  (void)decode_words(msg);

  if (const auto t = parse_date(line)) {
    if (*t >= 0 && *t <= 253402300799) {
      const std::string s = format_date(*t, 0);
      const auto back = parse_date(s);
      FUZZ_CHECK(back && *back == *t, "date round trip failed: " + excerpt(line) + " -> " + s);
    }
  }
  return 0;
}
