// RFC 2047 encoded words and RFC 2045 §6 transfer encodings; see encoded_word.h.
#include "real/mime/encoded_word.h"

#include <iconv.h>

#include <optional>

#include "real/codec/base64.h"
#include "real/mime/mime.h"

namespace mailsim::mime {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::optional<std::string> base64_lenient(std::string_view text) {
  std::string compact;
  compact.reserve(text.size());
  for (char c : text)
    if (c != '\r' && c != '\n' && c != ' ' && c != '\t') compact += c;
  // Encoded words in the wild often drop the padding.
  while (compact.size() % 4 != 0) compact += '=';
  return codec::base64_decode(compact);
}

// Converts `bytes` in `charset` to UTF-8 with glibc's iconv; nullopt when the
// charset is unknown or the bytes are not valid in it.
std::optional<std::string> to_utf8(std::string_view bytes, std::string charset) {
  if (std::size_t star = charset.find('*'); star != std::string::npos) charset.resize(star);  // RFC 2231 language
  std::string cs = to_lower(charset);
  if (cs == "utf-8" || cs == "us-ascii" || cs == "utf8") return std::string(bytes);
  iconv_t cd = iconv_open("UTF-8", charset.c_str());
  if (cd == reinterpret_cast<iconv_t>(-1)) return std::nullopt;
  std::string in(bytes);
  std::string out(in.size() * 4 + 16, '\0');
  char* inp = in.data();
  std::size_t inleft = in.size();
  char* outp = out.data();
  std::size_t outleft = out.size();
  std::size_t r = iconv(cd, &inp, &inleft, &outp, &outleft);
  iconv_close(cd);
  if (r == static_cast<std::size_t>(-1)) return std::nullopt;
  out.resize(out.size() - outleft);
  return out;
}

// Decodes one "=?charset?enc?text?=" starting at `pos`; on success sets
// `end` to the first byte after it.
std::optional<std::string> decode_word(std::string_view s, std::size_t pos, std::size_t& end) {
  if (!s.substr(pos).starts_with("=?")) return std::nullopt;
  std::size_t q1 = s.find('?', pos + 2);
  if (q1 == std::string_view::npos) return std::nullopt;
  std::size_t q2 = s.find('?', q1 + 1);
  if (q2 == std::string_view::npos || q2 != q1 + 2) return std::nullopt;
  std::size_t close = s.find("?=", q2 + 1);
  if (close == std::string_view::npos) return std::nullopt;
  std::string_view charset = s.substr(pos + 2, q1 - pos - 2);
  char enc = s[q1 + 1];
  std::string_view text = s.substr(q2 + 1, close - q2 - 1);
  if (charset.empty() || text.find_first_of(" \t\r\n") != std::string_view::npos) return std::nullopt;

  std::string bytes;
  if (enc == 'B' || enc == 'b') {
    auto d = base64_lenient(text);
    if (!d) return std::nullopt;
    bytes = std::move(*d);
  } else if (enc == 'Q' || enc == 'q') {
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '_') {
        bytes += ' ';
      } else if (text[i] == '=' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
                 hex_value(text[i + 2]) >= 0) {
        bytes += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
        i += 2;
      } else {
        bytes += text[i];
      }
    }
  } else {
    return std::nullopt;
  }
  auto utf8 = to_utf8(bytes, std::string(charset));
  if (!utf8) return std::nullopt;
  end = close + 2;
  return utf8;
}

}  // namespace

std::string decode_encoded_words(std::string_view text) {
  std::string out;
  std::size_t i = 0;
  std::string pending_space;  // whitespace after an encoded word, dropped if another follows
  bool after_word = false;
  while (i < text.size()) {
    std::size_t end = 0;
    if (text[i] == '=' && text.substr(i).starts_with("=?")) {
      if (auto w = decode_word(text, i, end)) {
        if (!after_word) out += pending_space;
        pending_space.clear();
        out += *w;
        i = end;
        after_word = true;
        continue;
      }
    }
    char c = text[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      pending_space += c;
      ++i;
      continue;
    }
    out += pending_space;
    pending_space.clear();
    after_word = false;
    out += c;
    ++i;
  }
  out += pending_space;
  return out;
}

std::string decode_transfer_encoding(std::string_view body, std::string_view encoding) {
  if (iequals(encoding, "base64")) {
    auto d = base64_lenient(body);
    return d ? *d : std::string(body);
  }
  if (iequals(encoding, "quoted-printable")) {
    std::string out;
    out.reserve(body.size());
    for (std::size_t i = 0; i < body.size(); ++i) {
      if (body[i] != '=') { out += body[i]; continue; }
      if (i + 2 < body.size() && hex_value(body[i + 1]) >= 0 && hex_value(body[i + 2]) >= 0) {
        out += static_cast<char>(hex_value(body[i + 1]) * 16 + hex_value(body[i + 2]));
        i += 2;
      } else if (body.substr(i + 1).starts_with("\r\n")) {
        i += 2;  // soft line break
      } else if (body.substr(i + 1).starts_with("\n")) {
        i += 1;
      } else {
        out += '=';
      }
    }
    return out;
  }
  return std::string(body);
}

}  // namespace mailsim::mime
