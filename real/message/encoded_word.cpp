// RFC 2047 §2 (syntax), §4 (B and Q encodings), §5 (where words may occur),
// §6 (decoding). Base64 and Q from real/codec; charsets through iconv.
#include "real/message/encoded_word.h"

#include <iconv.h>

#include <algorithm>
#include <cerrno>
#include <optional>

#include "real/codec/ascii.h"
#include "real/codec/base64.h"
#include "real/codec/quoted_printable.h"

namespace mailsim::message {
namespace {

constexpr std::size_t kMaxWord = 75;  // §2
constexpr std::size_t kMaxLine = 76;  // §2, lines holding encoded-words
constexpr std::string_view kPrefix = "=?UTF-8?B?";
constexpr std::string_view kSuffix = "?=";

// Length of the UTF-8 sequence that starts with byte `lead` (1 for stray
// continuation bytes, so broken input still advances).
std::size_t utf8_length(unsigned char lead) {
  if (lead >= 0xF0) return 4;
  if (lead >= 0xE0) return 3;
  if (lead >= 0xC0) return 2;
  return 1;
}

// Converts `bytes` from `charset` to UTF-8; nullopt if iconv cannot.
std::optional<std::string> to_utf8(const std::string& bytes, const std::string& charset) {
  if (codec::iequals(charset, "UTF-8") || codec::iequals(charset, "US-ASCII") || codec::iequals(charset, "UTF8"))
    return bytes;
  iconv_t cd = iconv_open("UTF-8", charset.c_str());
  if (cd == reinterpret_cast<iconv_t>(-1)) return std::nullopt;
  std::string out;
  std::string in = bytes;
  char* inp = in.data();
  std::size_t inleft = in.size();
  char buf[256];
  bool ok = true;
  while (inleft > 0) {
    char* outp = buf;
    std::size_t outleft = sizeof buf;
    const std::size_t r = iconv(cd, &inp, &inleft, &outp, &outleft);
    out.append(buf, static_cast<std::size_t>(outp - buf));
    if (r == static_cast<std::size_t>(-1) && errno != E2BIG) {
      ok = false;
      break;
    }
  }
  // Flush any shift state (ISO-2022-JP returning to ASCII).
  char* outp = buf;
  std::size_t outleft = sizeof buf;
  iconv(cd, nullptr, nullptr, &outp, &outleft);
  out.append(buf, static_cast<std::size_t>(outp - buf));
  iconv_close(cd);
  if (!ok) return std::nullopt;
  return out;
}

struct Word {
  std::size_t begin = 0;  // in the value
  std::size_t end = 0;
  std::string charset;
  std::string bytes;      // decoded, still in `charset`
};

// Parses the encoded-word starting at `pos` ("=?"), or nullopt.
std::optional<Word> parse_word(std::string_view v, std::size_t pos) {
  const std::size_t q1 = v.find('?', pos + 2);
  if (q1 == std::string_view::npos) return std::nullopt;
  const std::size_t q2 = v.find('?', q1 + 1);
  if (q2 == std::string_view::npos || q2 != q1 + 2) return std::nullopt;
  const std::size_t end = v.find("?=", q2 + 1);
  if (end == std::string_view::npos) return std::nullopt;
  const std::string_view text = v.substr(q2 + 1, end - q2 - 1);
  if (text.find_first_of(" \t\r\n") != std::string_view::npos) return std::nullopt;
  std::string charset(v.substr(pos + 2, q1 - pos - 2));
  if (charset.empty()) return std::nullopt;
  if (const auto star = charset.find('*'); star != std::string::npos) charset.resize(star);  // RFC 2231 language
  const char enc = v[q1 + 1];
  std::optional<std::string> bytes;
  // B: padding is often missing in the wild; Q: a bad "=XX" spoils the word.
  if (enc == 'B' || enc == 'b') bytes = codec::base64_decode_lenient(text);
  else if (enc == 'Q' || enc == 'q') bytes = codec::q_decode(text);
  if (!bytes) return std::nullopt;
  return Word{pos, end + 2, charset, std::move(*bytes)};
}

bool is_wsp(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool is_wsp_only(std::string_view s) { return std::all_of(s.begin(), s.end(), is_wsp); }

// A run of encoded-words that starts at an "=?" and continues over white
// space with further words in the same charset.
struct Run {
  std::string text;      // UTF-8, or the run as written when it would not convert
  std::size_t end = 0;   // first byte after the run
  bool decoded = false;
};

// Joins the words' bytes before converting, so a character split across two
// words (seen in the wild) decodes whole. nullopt when no word starts at `pos`.
std::optional<Run> decode_run(std::string_view value, std::size_t pos) {
  std::optional<Word> w = parse_word(value, pos);
  if (!w) return std::nullopt;
  std::string bytes = std::move(w->bytes);
  std::size_t end = w->end;
  for (;;) {
    std::size_t next = end;
    while (next < value.size() && is_wsp(value[next])) ++next;
    if (value.substr(next, 2) != "=?") break;
    std::optional<Word> more = parse_word(value, next);
    if (!more || !codec::iequals(more->charset, w->charset)) break;
    bytes += more->bytes;
    end = more->end;
  }
  if (auto text = to_utf8(bytes, w->charset)) return Run{std::move(*text), end, true};
  return Run{std::string(value.substr(pos, end - pos)), end, false};  // cannot convert: show as written
}

}  // namespace

bool needs_encoding(std::string_view text) {
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x80 || (u < 0x20 && c != '\t')) return true;
  }
  return text.find("=?") != std::string_view::npos;
}

std::string encode_words(std::string_view text, std::size_t line_used) {
  if (!needs_encoding(text)) return std::string(text);
  constexpr std::size_t kOverhead = kPrefix.size() + kSuffix.size();
  // Room for the first word after the field name; when a long name leaves
  // too little, the first word starts on a continuation line.
  std::size_t room = std::min(kMaxWord, kMaxLine - std::min(line_used, kMaxLine));
  std::string out;
  if (room < kOverhead + 4) {
    out = "\r\n ";
    room = kMaxWord;
  }
  bool first = true;
  std::size_t i = 0;
  while (i < text.size()) {
    // base64 turns 3 bytes into 4 characters; a UTF-8 character is at most 4
    // bytes, so max_bytes >= 6 always fits at least one.
    const std::size_t max_bytes = (room - kOverhead) / 4 * 3;
    std::size_t take = 0;
    while (i + take < text.size()) {
      const std::size_t len = std::min(utf8_length(static_cast<unsigned char>(text[i + take])),
                                       text.size() - i - take);
      if (take + len > max_bytes) break;
      take += len;
    }
    if (!first) out += "\r\n ";
    out += kPrefix;
    out += codec::base64_encode(text.substr(i, take));
    out += kSuffix;
    i += take;
    first = false;
    room = std::min(kMaxWord, kMaxLine - 1);  // after the folding space
  }
  return out;
}

std::string decode_words(std::string_view value) {
  std::string out;
  bool after_word = false;  // the last thing written out was a decoded word
  std::size_t i = 0;
  while (i < value.size()) {
    const std::size_t start = value.find("=?", i);
    if (start == std::string_view::npos) {
      out.append(value.substr(i));
      break;
    }
    const std::string_view gap = value.substr(i, start - i);
    const std::optional<Run> run = decode_run(value, start);
    if (!run) {  // not an encoded-word: the "=?" is plain text
      out.append(value.substr(i, start + 2 - i));
      i = start + 2;
      after_word = false;
      continue;
    }
    // §6.2: white space between two adjacent decoded words is not shown.
    if (!(after_word && run->decoded && is_wsp_only(gap))) out.append(gap);
    out += run->text;
    after_word = run->decoded;
    i = run->end;
  }
  return out;
}

}  // namespace mailsim::message
