// A minimal JSON walker (RFC 8259 grammar) that records positions by pointer.
#include "sim/scenario/json_locations.h"

#include <set>

namespace mailsim::sim {
namespace {

class Walker {
 public:
  Walker(std::string_view text, JsonLocations& out) : text_(text), out_(out) {}

  void run() {
    skip_space();
    value("");
  }

 private:
  TextPosition here() const { return {line_, column_}; }

  void advance() {
    const auto c = static_cast<unsigned char>(text_[pos_]);
    ++pos_;
    if (c == '\n') {
      ++line_;
      column_ = 1;
    } else if ((c & 0xC0) != 0x80) {
      // Count a code point at its first byte; continuation bytes add nothing.
      if (pos_ < text_.size() && (static_cast<unsigned char>(text_[pos_]) & 0xC0) == 0x80) {
        ++column_;
        while (pos_ < text_.size() && (static_cast<unsigned char>(text_[pos_]) & 0xC0) == 0x80) ++pos_;
        return;
      }
      ++column_;
    }
  }

  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return at_end() ? '\0' : text_[pos_]; }

  void skip_space() {
    while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r')) advance();
  }

  bool value(const std::string& pointer) {
    if (at_end()) return false;
    out_.values.emplace(pointer, here());
    switch (peek()) {
      case '{': return object(pointer);
      case '[': return array(pointer);
      case '"': {
        std::string ignored;
        return string(ignored);
      }
      default:
        // number, true, false, null: up to the next delimiter
        while (!at_end() && peek() != ',' && peek() != '}' && peek() != ']' && peek() != ' ' && peek() != '\n' &&
               peek() != '\r' && peek() != '\t')
          advance();
        return true;
    }
  }

  bool object(const std::string& pointer) {
    advance();  // {
    skip_space();
    std::set<std::string> seen;
    if (peek() == '}') {
      advance();
      return true;
    }
    while (!at_end()) {
      skip_space();
      const TextPosition key_at = here();
      std::string key;
      if (peek() != '"' || !string(key)) return false;
      const std::string child = pointer + "/" + escape_pointer_token(key);
      if (!seen.insert(key).second) out_.duplicate_keys.push_back(child);
      out_.keys[child] = key_at;
      skip_space();
      if (peek() != ':') return false;
      advance();
      skip_space();
      // A duplicate's value replaces the first (as nlohmann does), so its
      // position is the one to report.
      out_.values.erase(child);
      if (!value(child)) return false;
      skip_space();
      if (peek() == ',') {
        advance();
        continue;
      }
      if (peek() == '}') {
        advance();
        return true;
      }
      return false;
    }
    return false;
  }

  bool array(const std::string& pointer) {
    advance();  // [
    skip_space();
    if (peek() == ']') {
      advance();
      return true;
    }
    for (std::size_t index = 0; !at_end(); ++index) {
      skip_space();
      if (!value(pointer + "/" + std::to_string(index))) return false;
      skip_space();
      if (peek() == ',') {
        advance();
        continue;
      }
      if (peek() == ']') {
        advance();
        return true;
      }
      return false;
    }
    return false;
  }

  // Reads a string token, decoding escapes enough to name keys.
  bool string(std::string& out) {
    advance();  // opening quote
    while (!at_end()) {
      const char c = peek();
      if (c == '"') {
        advance();
        return true;
      }
      if (c == '\\') {
        advance();
        if (at_end()) return false;
        const char e = peek();
        advance();
        switch (e) {
          case 'n': out += '\n'; break;
          case 't': out += '\t'; break;
          case 'r': out += '\r'; break;
          case 'b': out += '\b'; break;
          case 'f': out += '\f'; break;
          case 'u': {
            unsigned cp = 0;
            for (int i = 0; i < 4 && !at_end(); ++i) {
              const char h = peek();
              cp = cp * 16 + static_cast<unsigned>(h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
              advance();
            }
            // Enough for keys: BMP code points as UTF-8 (pairs stay as two).
            if (cp < 0x80) {
              out += static_cast<char>(cp);
            } else if (cp < 0x800) {
              out += static_cast<char>(0xC0 | (cp >> 6));
              out += static_cast<char>(0x80 | (cp & 0x3F));
            } else {
              out += static_cast<char>(0xE0 | (cp >> 12));
              out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
              out += static_cast<char>(0x80 | (cp & 0x3F));
            }
            break;
          }
          default: out += e;
        }
        continue;
      }
      const std::size_t start = pos_;
      advance();
      out.append(text_.substr(start, pos_ - start));
    }
    return false;
  }

  std::string_view text_;
  JsonLocations& out_;
  std::size_t pos_ = 0;
  int line_ = 1;
  int column_ = 1;
};

}  // namespace

JsonLocations map_json_locations(std::string_view text) {
  JsonLocations out;
  // Skip a UTF-8 byte order mark like nlohmann does.
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  Walker(text, out).run();
  return out;
}

TextPosition position_of_offset(std::string_view text, std::size_t offset) {
  TextPosition p{1, 1};
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      ++p.line;
      p.column = 1;
    } else if ((c & 0xC0) != 0x80) {
      ++p.column;
    }
  }
  return p;
}

std::string escape_pointer_token(std::string_view token) {
  std::string out;
  for (char c : token) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

}  // namespace mailsim::sim
