// Fuzzes the MIME parser (real/mime: RFC 2045/2046 entity tree, transfer
// encodings; with real/message's RFC 5322 address lists, RFC 2047 encoded
// words and Date: days, which the IMAP server reads through it) and the IMAP
// formatting built on it (real/imap/body_structure.h: ENVELOPE and
// BODYSTRUCTURE, RFC 3501 §7.4.2) with whole messages.
//
// Header: none; the stream (chunk boundaries removed) is the raw message.
//
// Invariants checked:
//   - every entity's offsets lie inside its parent: begin <= body_begin <=
//     end, children within the parent's body, nesting bounded (kMaxNesting);
//   - find_part() returns an entity of the tree or nullptr;
//   - ENVELOPE and BODYSTRUCTURE / BODY are each exactly one well-formed
//     IMAP list (strings closed, literals complete, no raw CR/LF): header
//     text from a hostile sender cannot break the server's response.
#include <string>
#include <string_view>
#include <vector>

#include "real/imap/body_structure.h"
#include "real/message/address.h"
#include "real/message/date.h"
#include "real/message/encoded_word.h"
#include "real/mime/mime.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using namespace mailsim;
using fuzz::excerpt;

void check_entity(const mime::Entity& e, std::size_t lo, std::size_t hi, std::size_t raw_size, int depth) {
  FUZZ_CHECK(depth <= mime::kMaxNesting + 2, "MIME nesting beyond kMaxNesting");
  FUZZ_CHECK(lo <= e.begin && e.begin <= e.body_begin && e.body_begin <= e.end && e.end <= hi && hi <= raw_size,
             "entity offsets out of order: " + std::to_string(e.begin) + " " + std::to_string(e.body_begin) + " " +
                 std::to_string(e.end) + " in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  FUZZ_CHECK(e.parts.empty() || e.message.empty(), "entity with both parts and an encapsulated message");
  FUZZ_CHECK(e.message.size() <= 1, "more than one encapsulated message");
  for (const mime::Entity& p : e.parts) check_entity(p, e.body_begin, e.end, raw_size, depth + 1);
  for (const mime::Entity& m : e.message) check_entity(m, e.body_begin, e.end, raw_size, depth + 1);
}

bool in_tree(const mime::Entity& root, const mime::Entity* p) {
  if (&root == p) return true;
  for (const mime::Entity& c : root.parts)
    if (in_tree(c, p)) return true;
  for (const mime::Entity& c : root.message)
    if (in_tree(c, p)) return true;
  return false;
}

void check_leaves(const mime::Entity& e, std::string_view raw) {
  if (!e.parts.empty() || !e.message.empty()) {
    for (const mime::Entity& p : e.parts) check_leaves(p, raw);
    for (const mime::Entity& m : e.message) check_leaves(m, raw);
    return;
  }
  (void)mime::decode_transfer_encoding(e.body_text(raw), e.encoding);
}

void check_list(const std::string& what, const std::string& s) {
  const std::string problem = fuzz::imap_list_problem(s);
  FUZZ_CHECK(problem.empty(), what + " is not one well-formed IMAP list (" + problem + "): " + excerpt(s, 400));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fuzz::FuzzInput in(data, size, 0);
  const std::string raw = in.joined();

  const mime::Entity root = mime::parse_message(raw);
  FUZZ_CHECK(root.begin == 0 && root.end == raw.size(), "message entity does not span the message");
  check_entity(root, 0, raw.size(), raw.size(), 0);
  check_leaves(root, raw);

  check_list("ENVELOPE", imap::envelope(root.header));
  check_list("BODYSTRUCTURE", imap::body_structure(root, true));
  check_list("BODY", imap::body_structure(root, false));

  // Section paths from the first bytes, as FETCH BODY[1.2.3] would give them.
  std::vector<unsigned> path;
  for (std::size_t i = 0; i < raw.size() && i < 4; ++i) {
    path.push_back(static_cast<unsigned char>(raw[i]) % 5);
    const mime::Entity* p = mime::find_part(root, path);
    FUZZ_CHECK(p == nullptr || in_tree(root, p), "find_part() returned an entity outside the tree");
  }

  for (const auto& f : root.header.fields()) {
    (void)message::parse_address_list(f.value);
    (void)message::decode_words(f.value);
    (void)mime::parse_content_type(f.value);
    (void)mime::parse_disposition(f.value);
    (void)message::parse_date_day(f.value);
  }
  // The raw text as one header value, too: these parsers see single values.
  const std::string_view first_line = std::string_view(raw).substr(0, std::min<std::size_t>(raw.size(), 2000));
  for (const message::Address& a : message::parse_address_list(first_line)) {
    FUZZ_CHECK(a.host || !a.route, "group marker with a route");
    (void)a.addr_spec();
  }
  (void)message::decode_words(first_line);
  (void)message::parse_date_day(first_line);
  return 0;
}
