// RFC 5322 §2.2 header fields, §3.6.8 field names, §2.2.3 folding.
#include "real/message/headers.h"

#include <utility>

namespace mailsim::message {
namespace {

bool is_wsp(char c) { return c == ' ' || c == '\t'; }

// ftext (RFC 5322 §3.6.8): printable US-ASCII except colon.
bool is_ftext(char c) { return c >= 33 && c <= 126 && c != ':'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (is_wsp(s.front()) || s.front() == '\r' || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (is_wsp(s.back()) || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string unfold(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\r' && i + 2 < raw.size() && raw[i + 1] == '\n' && is_wsp(raw[i + 2])) {
      ++i;  // skip CR and LF
      continue;
    }
    if (raw[i] == '\n' && i + 1 < raw.size() && is_wsp(raw[i + 1])) continue;
    out += raw[i];
  }
  return out;
}

std::string fold_field(std::string_view field, std::size_t width) {
  std::string out;
  std::size_t line_start = 0;  // in `out`
  std::size_t last_wsp = std::string::npos;  // a break candidate in the current line
  for (char c : field) {
    if (c == '\n') {  // an existing fold (or line break): start counting anew
      out += c;
      line_start = out.size();
      last_wsp = std::string::npos;
      continue;
    }
    // Break before white space, but never leave a line holding only
    // white space (the first character of a continuation line is WSP).
    if ((c == ' ' || c == '\t') && out.size() > line_start + 1) last_wsp = out.size();
    out += c;
    if (out.size() - line_start > width && last_wsp != std::string::npos) {
      out.insert(last_wsp, "\r\n");
      line_start = last_wsp + 2;
      last_wsp = std::string::npos;
      // White space further on in the now-current line may still serve.
      for (std::size_t k = line_start + 1; k < out.size(); ++k)
        if (out[k] == ' ' || out[k] == '\t') last_wsp = k;
    }
  }
  return out + "\r\n";
}

const HeaderField* MessageHeaders::find(std::string_view name) const {
  for (const auto& f : fields)
    if (iequals(f.name, name)) return &f;
  return nullptr;
}

std::optional<std::string_view> MessageHeaders::get(std::string_view name) const {
  const HeaderField* f = find(name);
  if (f == nullptr) return std::nullopt;
  return std::string_view(f->value);
}

std::vector<const HeaderField*> MessageHeaders::all(std::string_view name) const {
  std::vector<const HeaderField*> out;
  for (const auto& f : fields)
    if (iequals(f.name, name)) out.push_back(&f);
  return out;
}

std::size_t MessageHeaders::count(std::string_view name) const {
  std::size_t n = 0;
  for (const auto& f : fields) n += iequals(f.name, name) ? 1 : 0;
  return n;
}

std::size_t HeaderParser::feed(std::string_view bytes) {
  std::size_t used = 0;
  while (!done_ && used < bytes.size()) {
    const std::size_t lf = bytes.find('\n', used);
    if (lf == std::string_view::npos) {
      line_.append(bytes.substr(used));
      used = bytes.size();
      break;
    }
    line_.append(bytes.substr(used, lf - used));
    used = lf + 1;
    const std::string line = std::exchange(line_, {});
    const bool crlf = !line.empty() && line.back() == '\r';
    line_complete(std::string_view(line).substr(0, line.size() - (crlf ? 1 : 0)), crlf ? "\r\n" : "\n");
  }
  return used;
}

void HeaderParser::finish() {
  if (done_) return;
  if (!line_.empty()) {
    const std::string last = std::exchange(line_, {});
    line_complete(last, "");  // a stray final CR stays in the value
  }
  if (!done_) end_headers(offset_, false);
}

void HeaderParser::line_complete(std::string_view line, std::string_view line_break) {
  const std::size_t start = offset_;
  offset_ += line.size() + line_break.size();
  ++line_no_;
  if (line.empty()) {
    end_headers(offset_, true);
    return;
  }
  if (is_wsp(line.front())) {
    if (in_field_) {
      // The previous line's break belongs to raw_value only now that this
      // line continues the field; kept as written (CRLF or bare LF).
      field_raw_ += field_break_;
      field_raw_ += line;
      field_break_ = std::string(line_break);
    } else {
      result_.problems.push_back({line_no_, start, "continuation line with no field before it; ignored"});
    }
    return;
  }
  flush_field();
  if (line_no_ == 1 && line.substr(0, 5) == "From ") {
    result_.problems.push_back({line_no_, start, "mbox \"From \" separator line; ignored"});
    return;
  }
  const std::size_t colon = line.find(':');
  std::string_view name = colon == std::string_view::npos ? std::string_view{} : line.substr(0, colon);
  while (!name.empty() && is_wsp(name.back())) name.remove_suffix(1);  // obs-optional: WSP before ':'
  bool valid = !name.empty();
  for (char c : name) valid = valid && is_ftext(c);
  if (!valid) {
    const std::string what =
        colon == std::string_view::npos ? "line without a colon in the header section" : "invalid field name";
    if (invalid_ == InvalidLine::kSkipped) {
      result_.problems.push_back({line_no_, start, what + "; skipped"});
      return;
    }
    result_.problems.push_back({line_no_, start, what + "; taken as the start of the body (missing empty line?)"});
    end_headers(start, false);
    return;
  }
  in_field_ = true;
  field_offset_ = start;
  field_raw_.assign(line);
  field_break_ = std::string(line_break);
}

void HeaderParser::flush_field() {
  if (!in_field_) return;
  in_field_ = false;
  HeaderField f;
  const std::size_t colon = field_raw_.find(':');
  std::string_view name = std::string_view(field_raw_).substr(0, colon);
  while (!name.empty() && is_wsp(name.back())) name.remove_suffix(1);
  f.name = std::string(name);
  f.raw_value = field_raw_.substr(colon + 1);
  f.value = std::string(trim(unfold(f.raw_value)));
  f.raw = field_raw_ + field_break_;
  f.offset = field_offset_;
  result_.fields.push_back(std::move(f));
  field_raw_.clear();
}

void HeaderParser::end_headers(std::size_t body_offset, bool separator) {
  flush_field();
  result_.body_offset = body_offset;
  result_.has_separator = separator;
  done_ = true;
}

MessageHeaders parse_headers(std::string_view message, InvalidLine invalid) {
  HeaderParser p(invalid);
  p.feed(message);
  p.finish();
  return p.take();
}

// The line rules of HeaderParser::feed, finish and line_complete, reading
// only where fields start: no field is built, nothing is copied.
std::size_t count_fields(std::string_view message, std::string_view name) {
  std::size_t n = 0;
  std::size_t pos = 0;
  std::size_t line_no = 0;
  while (pos < message.size()) {
    const std::size_t lf = message.find('\n', pos);
    std::string_view line;
    if (lf == std::string_view::npos) {  // a final line without break keeps a stray CR
      line = message.substr(pos);
      pos = message.size();
    } else {
      line = message.substr(pos, lf - pos);
      pos = lf + 1;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    }
    ++line_no;
    if (line.empty()) break;              // the empty line: the body follows
    if (is_wsp(line.front())) continue;   // a continuation starts no field
    if (line_no == 1 && line.substr(0, 5) == "From ") continue;  // mbox separator, ignored
    const std::size_t colon = line.find(':');
    std::string_view field = colon == std::string_view::npos ? std::string_view{} : line.substr(0, colon);
    while (!field.empty() && is_wsp(field.back())) field.remove_suffix(1);
    bool valid = !field.empty();
    for (char c : field) valid = valid && is_ftext(c);
    if (!valid) break;  // InvalidLine::kStartsBody: the body starts here
    if (iequals(field, name)) ++n;
  }
  return n;
}

}  // namespace mailsim::message
