// Base64 via OpenSSL's EVP_EncodeBlock / EVP_DecodeBlock.
#include "real/codec/base64.h"

#include <openssl/evp.h>

namespace mailsim::codec {

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  if (text.size() % 4 != 0) return std::nullopt;
  for (char c : text) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                    (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
    if (!ok) return std::nullopt;
  }
  const auto eq = text.find('=');
  if (eq != std::string_view::npos) {
    // '=' only as the last one or two characters.
    if (text.size() - eq > 2) return std::nullopt;
    for (auto i = eq; i < text.size(); ++i)
      if (text[i] != '=') return std::nullopt;
  }
  if (text.empty()) return std::string{};
  std::string out(3 * text.size() / 4, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts padding as zero bytes; drop them.
  std::size_t len = static_cast<std::size_t>(n);
  if (text.ends_with("==")) len -= 2;
  else if (text.ends_with("=")) len -= 1;
  out.resize(len);
  return out;
}

std::optional<std::string> base64_decode_lenient(std::string_view text) {
  std::string compact;
  compact.reserve(text.size() + 3);
  for (char c : text)
    if (c != '\r' && c != '\n' && c != ' ' && c != '\t') compact += c;
  while (compact.size() % 4 != 0) compact += '=';
  return base64_decode(compact);
}

}  // namespace mailsim::codec
