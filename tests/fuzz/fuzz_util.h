// What every mailsim fuzz target shares: how one libFuzzer input becomes
// options, chunks (receive() calls) and host actions, and the checks that
// turn a silent protocol mistake into a crash libFuzzer can report.
//
// Input layout (all targets):
//   [header: `header_size` option bytes] [stream]
// In the stream, 0xFF is an escape, so chunk boundaries and host actions are
// mutated like any other byte:
//   FF FF   one literal 0xFF byte of peer data
//   FF c    (c != FF) ends the current chunk; the host then performs action c
//           (each target says what its actions mean; unknown ones do nothing)
//   FF      as the last byte: ends the chunk
// A missing option byte reads as 0. The seeds under tests/fuzz/corpus/ are
// written by tests/fuzz/make_seeds.py in this format.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "real/session/session.h"

namespace mailsim::fuzz {

// An invariant of the code under test. Failing one is a bug: print it and
// abort, so libFuzzer saves the input as a crash.
[[noreturn]] inline void check_failed(const char* expr, const char* file, int line, std::string_view what) {
  std::fprintf(stderr, "\n*** mailsim fuzz invariant failed: %s\n    at %s:%d\n    %.*s\n", expr, file, line,
               static_cast<int>(what.size()), what.data());
  std::abort();
}
#define FUZZ_CHECK(cond, what)                                                     \
  do {                                                                             \
    if (!(cond)) ::mailsim::fuzz::check_failed(#cond, __FILE__, __LINE__, (what)); \
  } while (0)

// Open bugs this fuzzing found in code it may not change (another engineer
// owns it; see tests/fuzz/README.md "Found"). Each has an id, a reproducer
// under tests/fuzz/crashes/<target>/, and a check that would abort on it.
// While MAILSIM_FUZZ_TOLERATE_KNOWN is set — scripts/fuzz.sh sets it when
// fuzzing, not when replaying — those checks let the known case pass, so the
// fuzzer keeps looking for new bugs instead of finding the same one again.
inline bool tolerate_known(const char* /*bug_id*/) {
  static const bool on = std::getenv("MAILSIM_FUZZ_TOLERATE_KNOWN") != nullptr;
  return on;
}

constexpr std::uint8_t kEscape = 0xFF;

struct Chunk {
  std::string bytes;        // peer data for one receive() call (may be empty)
  bool has_action = false;  // the chunk ended with FF c
  std::uint8_t action = 0;  // c
};

class FuzzInput {
 public:
  FuzzInput(const std::uint8_t* data, std::size_t size, std::size_t header_size) {
    const std::size_t h = size < header_size ? size : header_size;
    header_.assign(data, data + h);
    Chunk cur;
    for (std::size_t i = h; i < size; ++i) {
      if (data[i] != kEscape) {
        cur.bytes += static_cast<char>(data[i]);
        continue;
      }
      if (i + 1 < size && data[i + 1] == kEscape) {
        cur.bytes += static_cast<char>(kEscape);
        ++i;
        continue;
      }
      if (i + 1 < size) {
        cur.has_action = true;
        cur.action = data[++i];
      }
      chunks_.push_back(std::move(cur));
      cur = Chunk{};
    }
    if (!cur.bytes.empty()) chunks_.push_back(std::move(cur));
  }

  std::uint8_t option(std::size_t i) const { return i < header_.size() ? header_[i] : 0; }
  bool bit(std::size_t byte, unsigned bit) const { return (option(byte) >> bit) & 1u; }
  const std::vector<Chunk>& chunks() const { return chunks_; }
  // Every chunk's bytes, in order: the same stream without its boundaries.
  std::string joined() const {
    std::string all;
    for (const Chunk& c : chunks_) all += c.bytes;
    return all;
  }

 private:
  std::vector<std::uint8_t> header_;
  std::vector<Chunk> chunks_;
};

// The loop every session target runs, in the order a network host calls a
// sans-io session: start(), then for each chunk receive() and the chunk's
// host action, then the peer goes away. `host.after_call()` looks at events
// and output after every call into the session; `host.action(c)` performs
// the target's action c.
template <class Host>
void drive(Host& host, Session& session, const FuzzInput& in) {
  session.start();
  host.after_call();
  for (const Chunk& c : in.chunks()) {
    session.receive(c.bytes);
    host.after_call();
    if (c.has_action) host.action(c.action);
  }
  session.peer_closed();
  host.after_call();
}

// The stand-in for a TLS handshake: the host tells the session it finished
// (as TLS 1.3, with `peer_subject` as the verified peer) or failed.
inline void finish_tls(Session& session, bool ok, const std::string& peer_subject = "") {
  if (ok)
    session.tls_established(TlsInfo{"TLSv1.3", "TLS_AES_256_GCM_SHA384", peer_subject});
  else
    session.tls_failed("handshake failure (fuzz)");
}

// The text for an invariant message, printable and short.
inline std::string excerpt(std::string_view s, std::size_t max = 200) {
  std::string out;
  for (char ch : s.substr(0, max)) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\r')
      out += "\\r";
    else if (c == '\n')
      out += "\\n";
    else if (c < 0x20 || c >= 0x7f) {
      static const char* hex = "0123456789ABCDEF";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += ch;
    }
  }
  if (s.size() > max) out += "...";
  return out;
}

// True when every CR is followed by LF and every LF preceded by CR, and the
// text (if any) ends in CRLF: what every line-based protocol sends.
inline bool crlf_lines(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r' && (i + 1 >= s.size() || s[i + 1] != '\n')) return false;
    if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) return false;
  }
  return s.empty() || s.ends_with("\r\n");
}

// Walks IMAP response data (RFC 3501 §9) far enough to prove that `s` is
// exactly one parenthesised list whose strings are well formed: quoted
// strings close, backslash escapes only '"' and '\', literals "{n}\r\n" are
// followed by n octets, no CR/LF/NUL outside literals. Returns "" when fine,
// else what is wrong. Used on ENVELOPE and BODYSTRUCTURE, which carry header
// text an attacker wrote into a server's response.
inline std::string imap_list_problem(std::string_view s) {
  std::size_t i = 0;
  int depth = 0;
  bool seen_open = false;
  while (i < s.size()) {
    const char c = s[i];
    if (seen_open && depth == 0) return "text after the closing parenthesis";
    if (c == '(') {
      ++depth;
      seen_open = true;
      ++i;
    } else if (c == ')') {
      if (--depth < 0) return "unbalanced ')'";
      ++i;
    } else if (c == '"') {
      ++i;
      bool closed = false;
      while (i < s.size()) {
        const char q = s[i];
        if (q == '\\') {
          if (i + 1 >= s.size() || (s[i + 1] != '"' && s[i + 1] != '\\')) return "bad escape in quoted string";
          i += 2;
        } else if (q == '"') {
          ++i;
          closed = true;
          break;
        } else if (q == '\r' || q == '\n' || q == '\0') {
          return "CR, LF or NUL in a quoted string";
        } else {
          ++i;
        }
      }
      if (!closed) return "unterminated quoted string";
    } else if (c == '{') {
      const auto close = s.find('}', i);
      if (close == std::string_view::npos) return "unterminated literal length";
      std::size_t n = 0;
      if (close == i + 1) return "empty literal length";
      for (std::size_t k = i + 1; k < close; ++k) {
        if (s[k] < '0' || s[k] > '9') return "literal length not a number";
        n = n * 10 + static_cast<std::size_t>(s[k] - '0');
        if (n > s.size()) return "literal longer than the response";
      }
      if (s.substr(close + 1, 2) != "\r\n") return "literal length not followed by CRLF";
      i = close + 3;
      if (i + n > s.size()) return "literal runs past the end";
      i += n;
    } else if (c == '\r' || c == '\n' || c == '\0') {
      return "CR, LF or NUL outside a literal";
    } else {
      if (!seen_open) return "does not start with '('";
      ++i;  // atoms, numbers, NIL, spaces
    }
  }
  if (!seen_open) return "empty";
  if (depth != 0) return "unbalanced '('";
  return "";
}

}  // namespace mailsim::fuzz
