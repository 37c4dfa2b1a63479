// Fuzzes IMAP command framing and parsing (real/imap/command_reader.h,
// real/imap/command.h; RFC 3501 §4.3 literals, §9 syntax; RFC 7888 LITERAL+)
// and the wire helpers the server answers with (real/imap/wire.h).
//
// Header byte 0: bit 0 small limits (line 64, literal 256, command 512),
// bit 1 discard_input() at every action (what STARTTLS does).
// Actions: FF c marks a chunk boundary (and the discard above).
//
// Invariants checked:
//   - CommandReader gives the same items (kinds, texts, sizes) whatever the
//     chunking (when no discard happens);
//   - a framed command ends in LF and stays within max_command; a literal
//     that does not fit is refused before it is read, never buffered;
//   - parse_command never throws, tags what it can;
//   - imap_string / imap_astring of any bytes is one well-formed string;
//   - parse_date_time(format_internal_date(t)) == t for every parsed t.
#include <string>
#include <vector>

#include "real/imap/command.h"
#include "real/imap/command_reader.h"
#include "real/imap/wire.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using namespace mailsim;
using namespace mailsim::imap;
using fuzz::excerpt;

struct Seen {
  CommandReader::Kind kind;
  std::string text;
  bool synchronizing;
  std::uint64_t literal_size;
  bool operator==(const Seen&) const = default;
};

ReaderLimits limits_for(const fuzz::FuzzInput& in) {
  return in.bit(0, 0) ? ReaderLimits{64, 256, 512} : ReaderLimits{};
}

void check_item(const CommandReader::Item& item, const ReaderLimits& limits) {
  using K = CommandReader::Kind;
  if (item.kind == K::kCommand) {
    FUZZ_CHECK(!item.text.empty() && item.text.back() == '\n', "framed command without final LF");
    FUZZ_CHECK(item.text.size() <= limits.max_command,
               "framed command over max_command: " + std::to_string(item.text.size()));
    const ParseResult p = parse_command(item.text);
    FUZZ_CHECK(p.command.has_value() != !p.error.empty(), "parse result both or neither command and error");
    if (p.command) FUZZ_CHECK(!p.command->tag.empty() && !p.command->name.empty(), "command without tag or name");
  }
  if (item.kind == K::kContinue) {
    FUZZ_CHECK(item.literal_size <= limits.max_literal, "continuation for a literal over the limit");
  }
  if (item.kind == K::kLiteralTooBig || item.kind == K::kLineTooLong)
    FUZZ_CHECK(!item.tag.empty(), "refusal without tag");
}

std::vector<Seen> frame(const fuzz::FuzzInput& in, bool chunked) {
  const ReaderLimits limits = limits_for(in);
  CommandReader reader(limits);
  std::vector<Seen> seen;
  auto drain = [&] {
    for (;;) {
      CommandReader::Item item = reader.next();
      if (item.kind == CommandReader::Kind::kNone) break;
      check_item(item, limits);
      // The reader never holds more than a line and the command so far.
      seen.push_back(Seen{item.kind, item.text, item.synchronizing, item.literal_size});
    }
  };
  if (chunked) {
    for (const fuzz::Chunk& c : in.chunks()) {
      reader.feed(c.bytes);
      drain();
      if (c.has_action && in.bit(0, 1)) reader.discard_input();
    }
  } else {
    reader.feed(in.joined());
    drain();
  }
  return seen;
}

void check_wire(std::string_view s) {
  const std::string str = "(" + imap_string(s) + ")";
  FUZZ_CHECK(fuzz::imap_list_problem(str).empty(), "imap_string output malformed: " + fuzz::imap_list_problem(str));
  const std::string astr = "(" + imap_astring(s) + ")";
  FUZZ_CHECK(fuzz::imap_list_problem(astr).empty(), "imap_astring output malformed: " + excerpt(astr));
  if (const auto t = parse_date_time(s)) {
    const auto back = parse_date_time(format_internal_date(*t));
    FUZZ_CHECK(back && *back == *t, "INTERNALDATE round trip failed for " + excerpt(s));
  }
  (void)parse_date(s);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fuzz::FuzzInput in(data, size, 1);
  const auto a = frame(in, true);
  if (!in.bit(0, 1)) {
    const auto b = frame(in, false);
    FUZZ_CHECK(a.size() == b.size(), "chunking changed the number of framed items: " + std::to_string(a.size()) +
                                         " vs " + std::to_string(b.size()));
    for (std::size_t i = 0; i < a.size(); ++i)
      FUZZ_CHECK(a[i] == b[i], "chunking changed framed item " + std::to_string(i) + ": " + excerpt(a[i].text) +
                                   " vs " + excerpt(b[i].text));
  }
  const std::string all = in.joined();
  (void)parse_command(all);
  check_wire(all);
  return 0;
}
