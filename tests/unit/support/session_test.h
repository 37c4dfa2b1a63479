// Test helpers every sans-io protocol session test needs (POP3, IMAP, and any
// other area that wants them): filter a session's events by type, feed bytes
// in chunks (chunk boundaries are where parsers break), and read a golden
// transcript's lines. Header-only; include as "tests/unit/support/session_test.h".
#pragma once

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace mailsim::test_support {

// The events of one alternative `E` of a session's event variant, in order.
template <class E, class Event>
std::vector<E> events_of(const std::vector<Event>& events) {
  std::vector<E> out;
  for (const Event& e : events)
    if (const auto* x = std::get_if<E>(&e)) out.push_back(*x);
  return out;
}

// Feeds `bytes` to `session.receive()` in pieces of `chunk` octets (0: all
// at once).
template <class Session>
void feed(Session& session, std::string_view bytes, std::size_t chunk) {
  if (chunk == 0) chunk = bytes.empty() ? 1 : bytes.size();
  for (std::size_t i = 0; i < bytes.size(); i += chunk) session.receive(bytes.substr(i, chunk));
}

// The lines of a golden transcript (tests/golden/<area>/<name>), line ends
// (LF or CRLF) removed. Fails the test when the file cannot be read.
inline std::vector<std::string> read_golden_lines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  INFO("golden file " << path);
  REQUIRE(in);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) {
    if (!l.empty() && l.back() == '\r') l.pop_back();
    lines.push_back(l);
  }
  return lines;
}

}  // namespace mailsim::test_support
