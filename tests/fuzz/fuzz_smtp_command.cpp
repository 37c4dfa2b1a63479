// Fuzzes the SMTP command-line and message-content syntax of real/smtp:
// split_command, MAIL FROM / RCPT TO argument parsing (RFC 5321 §4.1.2),
// is_valid_mailbox, xtext (RFC 3461 §4), and the DATA reader (§4.5.2,
// smuggling-proof end of data) against the client's canonicalize + dot_stuff.
//
// Header: none. The whole stream (chunk boundaries removed) is one command
// line for the parsers; for DataReader the chunks are fed as they come.
//
// Invariants checked:
//   - a path accepted by the parsers is a valid mailbox ("" only for MAIL,
//     "Postmaster" only for RCPT), parameters have upper-case keywords;
//   - xtext_decode(xtext_encode(s)) == s, and encode(decode(x)) decodes to
//     the same text;
//   - DataReader gives the same status, message and consumed count whatever
//     the chunking; a finished message never holds a bare CR or LF and the
//     consumed input ends in CRLF.CRLF (or is just ".CRLF");
//   - what the client sends (dot_stuff(canonicalize(m))) is read back by the
//     server's reader as exactly canonicalize(m).
#include <string>
#include <vector>

#include "real/smtp/command.h"
#include "real/smtp/data.h"
#include "real/smtp/data_reader.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using namespace mailsim;
using namespace mailsim::smtp;
using fuzz::excerpt;

void check_path(const PathArgument& p, bool mail) {
  if (p.status != PathStatus::kOk) {
    FUZZ_CHECK(p.params.empty() || p.status == PathStatus::kBadParameter || p.status == PathStatus::kBadPath,
               "failed parse kept parameters");
    return;
  }
  if (mail) {
    FUZZ_CHECK(p.path.empty() || is_valid_mailbox(p.path), "MAIL accepted a bad mailbox: " + excerpt(p.path));
  } else {
    FUZZ_CHECK(!p.path.empty(), "RCPT accepted the null path");
    FUZZ_CHECK(is_valid_mailbox(p.path) || iequals(p.path, "postmaster"),
               "RCPT accepted a bad mailbox: " + excerpt(p.path));
  }
  FUZZ_CHECK(p.path.size() <= 256, "accepted path longer than 256 octets");
  for (const EsmtpParam& e : p.params) {
    FUZZ_CHECK(!e.keyword.empty() && to_upper(e.keyword) == e.keyword, "parameter keyword not upper-case");
    if (e.value) FUZZ_CHECK(!e.value->empty(), "empty parameter value accepted");
  }
}

void check_data_reader(const fuzz::FuzzInput& in) {
  const std::string all = in.joined();
  DataReader whole(400);
  const std::size_t used_whole = whole.feed(all);

  DataReader chunked(400);
  std::size_t used_chunked = 0;
  for (const fuzz::Chunk& c : in.chunks()) {
    if (chunked.status() != DataReader::Status::kReading) break;
    used_chunked += chunked.feed(c.bytes);
  }
  FUZZ_CHECK(whole.status() == chunked.status(), "chunking changed the DATA reader's status");
  FUZZ_CHECK(used_whole == used_chunked, "chunking changed how much DATA was consumed");
  FUZZ_CHECK(whole.size() == chunked.size() && whole.too_big() == chunked.too_big() &&
                 whole.line_too_long() == chunked.line_too_long(),
             "chunking changed the DATA size or limits");
  FUZZ_CHECK(used_whole <= all.size(), "consumed more than given");
  if (whole.status() == DataReader::Status::kDone) {
    const std::string_view used = std::string_view(all).substr(0, used_whole);
    FUZZ_CHECK(used == ".\r\n" || used.ends_with("\r\n.\r\n"), "end of data without CRLF.CRLF: " + excerpt(used));
    const std::string a = whole.take_message();
    const std::string b = chunked.take_message();
    FUZZ_CHECK(a == b, "chunking changed the message");
    // The stored copy stops at max_size (possibly between CR and LF).
    if (!whole.too_big()) FUZZ_CHECK(a.empty() || fuzz::crlf_lines(a), "message with bare CR/LF: " + excerpt(a));
    if (!whole.too_big()) FUZZ_CHECK(a.size() == whole.size(), "size() disagrees with the message");
  }
}

void check_client_to_server(std::string_view message) {
  const std::string canonical = canonicalize_line_endings(message);
  FUZZ_CHECK(canonical.empty() || fuzz::crlf_lines(canonical), "canonicalize left a bare CR/LF");
  const std::string wire = dot_stuff(canonical);
  DataReader r(1u << 20, 1u << 20);
  const std::size_t used = r.feed(wire);
  FUZZ_CHECK(r.status() == DataReader::Status::kDone, "server did not find the end of the client's data");
  FUZZ_CHECK(used == wire.size(), "end of data found early: the message was cut (smuggling risk)");
  FUZZ_CHECK(r.take_message() == canonical, "the server read another message than the client sent");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fuzz::FuzzInput in(data, size, 0);
  const std::string line = in.joined();

  const CommandLine c = split_command(line);
  FUZZ_CHECK(to_upper(c.verb) == c.verb, "verb not upper-cased");
  FUZZ_CHECK(c.argument.empty() || (c.argument.front() != ' ' && c.argument.back() != ' '),
             "argument keeps outer spaces");
  check_path(parse_mail_argument(c.argument), true);
  check_path(parse_rcpt_argument(c.argument), false);
  check_path(parse_mail_argument(line), true);
  check_path(parse_rcpt_argument(line), false);
  (void)is_valid_mailbox(line);

  const std::string enc = xtext_encode(line);
  const auto dec = xtext_decode(enc);
  FUZZ_CHECK(dec && *dec == line, "xtext round trip failed for " + excerpt(line));
  if (const auto d = xtext_decode(line)) {
    const auto again = xtext_decode(xtext_encode(*d));
    FUZZ_CHECK(again && *again == *d, "xtext decode/encode/decode changed the text");
  }

  check_data_reader(in);
  check_client_to_server(line);
  return 0;
}
