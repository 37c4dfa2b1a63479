// MIME entity tree (RFC 2045, RFC 2046 §5) over raw message bytes; see mime.h.
#include "real/mime/mime.h"

#include <algorithm>

#include "real/codec/base64.h"
#include "real/codec/quoted_printable.h"
#include "real/message/lexical.h"

namespace mailsim::mime {

namespace {

bool is_wsp(char c) { return c == ' ' || c == '\t'; }

// RFC 2045 §5.1 tspecials, the characters a token may not contain.
bool is_tspecial(char c) {
  return std::string_view("()<>@,;:\\\"/[]?=").find(c) != std::string_view::npos;
}

// A cursor over a structured header value (Content-Type, Content-Disposition)
// that skips comments and folding white space (RFC 5322 CFWS, real/message).
class ValueCursor {
 public:
  explicit ValueCursor(std::string_view s) : s_(s) {}

  void skip_cfws() { pos_ = message::skip_cfws(s_, pos_); }
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
    if (pos_ < s_.size() && s_[pos_] == '"') return message::read_quoted_string(s_, pos_);
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
  // The header runs to the first empty line (or the end of the entity).
  message::MessageHeaders header =
      message::parse_headers(raw.substr(begin, end - begin), message::InvalidLine::kSkipped);
  e.body_begin = begin + header.body_offset;
  e.header = Header(std::move(header));

  e.content_type = default_type(in_digest);
  if (const std::string* v = e.header.value("Content-Type")) {
    if (auto ct = parse_content_type(*v)) {
      e.content_type = std::move(*ct);
      e.content_type_given = true;
    }
  }
  if (const std::string* v = e.header.value("Content-Transfer-Encoding")) {
    std::string enc = to_lower(*v);  // already trimmed
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

Header Header::parse(std::string_view block) {
  return Header(message::parse_headers(block, message::InvalidLine::kSkipped));
}

const HeaderField* Header::find(std::string_view name) const { return parsed_.find(name); }

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

std::string decode_transfer_encoding(std::string_view body, std::string_view encoding) {
  if (iequals(encoding, "base64")) {
    auto d = codec::base64_decode_lenient(body);
    return d ? *d : std::string(body);
  }
  if (iequals(encoding, "quoted-printable")) return codec::quoted_printable_decode(body);
  return std::string(body);
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
