// MIME entity tree (RFC 2045, RFC 2046 §5) over raw message bytes; see mime.h.
#include "real/mime/mime.h"

#include <algorithm>

namespace mailsim::mime {

namespace {

bool is_wsp(char c) { return c == ' ' || c == '\t'; }
char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
char upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (is_wsp(s.front()) || s.front() == '\r' || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (is_wsp(s.back()) || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

// RFC 2045 §5.1 tspecials, the characters a token may not contain.
bool is_tspecial(char c) {
  return std::string_view("()<>@,;:\\\"/[]?=").find(c) != std::string_view::npos;
}

// A cursor over a structured header value (Content-Type, Content-Disposition)
// that skips comments (nested, RFC 5322 §3.2.2) and folding whitespace.
class ValueCursor {
 public:
  explicit ValueCursor(std::string_view s) : s_(s) {}

  void skip_cfws() {
    for (;;) {
      while (pos_ < s_.size() && (is_wsp(s_[pos_]) || s_[pos_] == '\r' || s_[pos_] == '\n')) ++pos_;
      if (pos_ < s_.size() && s_[pos_] == '(') {
        int depth = 0;
        while (pos_ < s_.size()) {
          char c = s_[pos_++];
          if (c == '\\') { if (pos_ < s_.size()) ++pos_; continue; }
          if (c == '(') ++depth;
          if (c == ')' && --depth == 0) break;
        }
        continue;
      }
      return;
    }
  }
  bool at_end() { skip_cfws(); return pos_ >= s_.size(); }
  bool eat(char c) {
    skip_cfws();
    if (pos_ < s_.size() && s_[pos_] == c) { ++pos_; return true; }
    return false;
  }
  // RFC 2045 token; empty when none.
  std::string token() {
    skip_cfws();
    std::size_t start = pos_;
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (static_cast<unsigned char>(c) <= 32 || c == 127 || is_tspecial(c)) break;
      ++pos_;
    }
    return std::string(s_.substr(start, pos_ - start));
  }
  // token or quoted-string (quotes and backslash escapes removed).
  std::optional<std::string> value() {
    skip_cfws();
    if (pos_ < s_.size() && s_[pos_] == '"') {
      ++pos_;
      std::string out;
      while (pos_ < s_.size() && s_[pos_] != '"') {
        if (s_[pos_] == '\\' && pos_ + 1 < s_.size()) ++pos_;
        // Folding inside a quoted string: the CRLF goes, the WSP stays.
        if (s_[pos_] != '\r' && s_[pos_] != '\n') out += s_[pos_];
        ++pos_;
      }
      if (pos_ < s_.size()) ++pos_;  // closing quote; a missing one ends at the end
      return out;
    }
    std::string t = token();
    if (t.empty()) return std::nullopt;
    return t;
  }
  // Skips to just after the next ';' (used to resynchronise after garbage).
  void skip_past_semicolon() {
    while (pos_ < s_.size() && s_[pos_] != ';') ++pos_;
  }

 private:
  std::string_view s_;
  std::size_t pos_ = 0;
};

// "; name=value" pairs after the main value. A parameter without a usable
// value is dropped, the rest are kept.
std::vector<Param> parse_params(ValueCursor& cur) {
  std::vector<Param> params;
  while (!cur.at_end()) {
    if (!cur.eat(';')) { cur.skip_past_semicolon(); if (!cur.eat(';')) break; }
    std::string name = cur.token();
    if (name.empty()) continue;
    if (!cur.eat('=')) continue;
    auto v = cur.value();
    if (!v) continue;
    params.push_back({to_lower(name), std::move(*v)});
  }
  return params;
}

// Number of lines in a body as IMAP reports it (body-fld-lines).
std::size_t count_lines(std::string_view body) {
  std::size_t n = static_cast<std::size_t>(std::count(body.begin(), body.end(), '\n'));
  if (!body.empty() && body.back() != '\n') ++n;
  return n;
}

ContentType default_type(bool in_digest) {
  ContentType ct;
  if (in_digest) {
    ct.type = "message";
    ct.subtype = "rfc822";
  } else {
    ct.params.push_back({"charset", "us-ascii"});
  }
  return ct;
}

// Where the header block of the entity starting at `begin` ends: the first
// byte after the empty line, or `end` when there is no empty line.
std::size_t find_body_begin(std::string_view raw, std::size_t begin, std::size_t end) {
  std::string_view s = raw.substr(begin, end - begin);
  if (s.starts_with("\r\n")) return begin + 2;
  if (s.starts_with("\n")) return begin + 1;
  std::size_t pos = 0;
  while ((pos = s.find('\n', pos)) != std::string_view::npos) {
    ++pos;
    if (s.substr(pos).starts_with("\r\n")) return begin + pos + 2;
    if (s.substr(pos).starts_with("\n")) return begin + pos + 1;
  }
  return end;
}

// A delimiter line starts the body or follows a newline, and reads
// "--boundary" then optionally "--", then transport padding (RFC 2046 §5.1.1).
struct Delimiter {
  std::size_t line_begin;   // where "--boundary" starts
  std::size_t before;       // where the preceding CRLF starts (belongs to the delimiter)
  std::size_t after;        // first byte after the delimiter line's newline
  bool closing;
};

std::vector<Delimiter> find_delimiters(std::string_view raw, std::size_t begin, std::size_t end,
                                       std::string_view boundary) {
  std::vector<Delimiter> out;
  std::string dash = "--";
  dash += boundary;
  std::size_t line = begin;
  while (line < end) {
    std::size_t nl = raw.find('\n', line);
    std::size_t line_end = (nl == std::string_view::npos || nl >= end) ? end : nl;
    std::string_view text = raw.substr(line, line_end - line);
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    if (text.starts_with(dash)) {
      std::string_view rest = text.substr(dash.size());
      bool closing = rest.starts_with("--");
      if (closing) rest.remove_prefix(2);
      if (std::all_of(rest.begin(), rest.end(), is_wsp)) {
        std::size_t before = line;
        if (before > begin && raw[before - 1] == '\n') {
          --before;
          if (before > begin && raw[before - 1] == '\r') --before;
        }
        std::size_t after = line_end < end ? line_end + 1 : end;
        out.push_back({line, before, after, closing});
        if (closing) break;
      }
    }
    if (line_end >= end) break;
    line = line_end + 1;
  }
  return out;
}

Entity parse_entity(std::string_view raw, std::size_t begin, std::size_t end, bool in_digest,
                    int depth) {
  Entity e;
  e.begin = begin;
  e.end = end;
  e.body_begin = find_body_begin(raw, begin, end);
  e.header = Header::parse(raw.substr(begin, e.body_begin - begin));

  e.content_type = default_type(in_digest);
  if (const std::string* v = e.header.value("Content-Type")) {
    if (auto ct = parse_content_type(*v)) {
      e.content_type = std::move(*ct);
      e.content_type_given = true;
    }
  }
  if (const std::string* v = e.header.value("Content-Transfer-Encoding")) {
    std::string enc = to_lower(trim(*v));
    if (!enc.empty()) e.encoding = enc;
  }
  if (const std::string* v = e.header.value("Content-Disposition")) e.disposition = parse_disposition(*v);
  e.body_lines = count_lines(e.body_text(raw));

  if (depth >= kMaxNesting) return e;

  if (e.is_multipart()) {
    const std::string* boundary = e.content_type.param("boundary");
    std::vector<Delimiter> delims;
    if (boundary && !boundary->empty()) delims = find_delimiters(raw, e.body_begin, end, *boundary);
    bool digest = e.content_type.subtype == "digest";
    for (std::size_t i = 0; i < delims.size() && !delims[i].closing; ++i) {
      std::size_t part_begin = delims[i].after;
      std::size_t part_end = (i + 1 < delims.size()) ? delims[i + 1].before : end;
      if (part_end < part_begin) part_end = part_begin;  // "--b\r\n--b": an empty part
      e.parts.push_back(parse_entity(raw, part_begin, part_end, digest, depth + 1));
    }
    if (e.parts.empty()) {
      // RFC 3501's body-type-mpart needs at least one part; a multipart we
      // cannot split is shown as the plain text it effectively is.
      e.content_type = default_type(false);
    }
  } else if (e.content_type.type == "message" && e.content_type.subtype == "rfc822" &&
             (e.encoding == "7bit" || e.encoding == "8bit" || e.encoding == "binary")) {
    e.message.push_back(parse_entity(raw, e.body_begin, end, false, depth + 1));
  }
  return e;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

std::string to_upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = upper(c);
  return out;
}

bool icontains(std::string_view haystack, std::string_view needle) {
  if (needle.empty()) return true;
  auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                        [](char a, char b) { return lower(a) == lower(b); });
  return it != haystack.end();
}

Header Header::parse(std::string_view block) {
  Header h;
  std::size_t pos = 0;
  while (pos < block.size()) {
    std::size_t nl = block.find('\n', pos);
    std::size_t next = nl == std::string_view::npos ? block.size() : nl + 1;
    std::string_view line = block.substr(pos, next - pos);
    std::string_view content = line;
    while (!content.empty() && (content.back() == '\n' || content.back() == '\r')) content.remove_suffix(1);

    if (content.empty()) break;  // the blank line that ends the header
    if (is_wsp(content.front())) {
      // Continuation: unfolding removes only the line break (RFC 5322 §2.2.3).
      if (!h.fields_.empty()) {
        h.fields_.back().value += content;
        h.fields_.back().raw += line;
      }
    } else if (std::size_t colon = content.find(':'); colon != std::string_view::npos && colon > 0) {
      std::string_view name = content.substr(0, colon);
      while (!name.empty() && is_wsp(name.back())) name.remove_suffix(1);
      if (!name.empty() && name.find(' ') == std::string_view::npos) {
        h.fields_.push_back({std::string(name), std::string(content.substr(colon + 1)), std::string(line)});
      }
    }
    pos = next;
  }
  for (HeaderField& f : h.fields_) f.value = std::string(trim(f.value));
  return h;
}

const HeaderField* Header::find(std::string_view name) const {
  for (const HeaderField& f : fields_)
    if (iequals(f.name, name)) return &f;
  return nullptr;
}

const std::string* Header::value(std::string_view name) const {
  const HeaderField* f = find(name);
  return f ? &f->value : nullptr;
}

const std::string* ContentType::param(std::string_view name) const {
  for (const Param& p : params)
    if (iequals(p.name, name)) return &p.value;
  return nullptr;
}

std::optional<ContentType> parse_content_type(std::string_view value) {
  ValueCursor cur(value);
  ContentType ct;
  ct.type = to_lower(cur.token());
  if (ct.type.empty() || !cur.eat('/')) return std::nullopt;
  ct.subtype = to_lower(cur.token());
  if (ct.subtype.empty()) return std::nullopt;
  ct.params = parse_params(cur);
  return ct;
}

std::optional<Disposition> parse_disposition(std::string_view value) {
  ValueCursor cur(value);
  Disposition d;
  d.type = to_lower(cur.token());
  if (d.type.empty()) return std::nullopt;
  d.params = parse_params(cur);
  return d;
}

Entity parse_message(std::string_view raw) { return parse_entity(raw, 0, raw.size(), false, 0); }

const Entity* find_part(const Entity& message, const std::vector<unsigned>& path) {
  // `container` is what the next number indexes into: a message (whose part
  // 1 is its body when it is not multipart) or a multipart.
  const Entity* container = &message;
  const Entity* part = &message;
  for (std::size_t i = 0; i < path.size(); ++i) {
    unsigned n = path[i];
    if (n == 0 || !container) return nullptr;
    if (container->is_multipart()) {
      if (n > container->parts.size()) return nullptr;
      part = &container->parts[n - 1];
    } else {
      if (n != 1) return nullptr;
      part = container;
    }
    // What the following number (if any) will index into.
    if (part->is_message_rfc822()) {
      container = &part->message.front();
    } else if (part->is_multipart()) {
      container = part;
    } else {
      container = nullptr;
    }
  }
  return part;
}

}  // namespace mailsim::mime
