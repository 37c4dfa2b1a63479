// SMTP reply wire form and incremental parser (RFC 5321 §4.2, RFC 2034 §4).
#include "real/smtp/reply.h"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace mailsim::smtp {

void ReplyLines::push_back(std::string_view line) {
  if (count_ > 0) text_ += '\n';
  text_ += line;
  count_ += 1 + static_cast<std::size_t>(std::count(line.begin(), line.end(), '\n'));
}

std::string_view ReplyLines::operator[](std::size_t i) const {
  auto it = begin();
  for (; i > 0; --i) ++it;
  return *it;
}

std::string_view ReplyLines::at(std::size_t i) const {
  if (i >= count_) throw std::out_of_range("smtp::ReplyLines::at: no such line");
  return (*this)[i];
}

std::string Reply::to_wire() const {
  std::string out;
  append_wire(out);
  return out;
}

void Reply::append_wire(std::string& out) const {
  const auto put_line = [&](std::string_view line, bool last) {
    // Every command's reply goes through here: three digits written by
    // hand cost a fraction of a fmt::format call and its string.
    if (code >= 0 && code <= 999) {
      out += static_cast<char>('0' + code / 100);
      out += static_cast<char>('0' + code / 10 % 10);
      out += static_cast<char>('0' + code % 10);
    } else {
      out += fmt::format("{:03d}", code);
    }
    out += last ? ' ' : '-';
    if (!enhanced.empty()) {
      out += enhanced;
      if (!line.empty()) out += ' ';
    }
    out += line;
    out += "\r\n";
  };
  if (lines.empty()) {
    put_line({}, true);
    return;
  }
  out.reserve(out.size() + lines.joined().size() + lines.size() * (6 + enhanced.size() + 1));
  std::size_t left = lines.size();
  for (const std::string_view line : lines) put_line(line, --left == 0);
}

std::string Reply::text() const { return lines.joined(); }

Reply make_reply(int code, std::string_view enhanced, std::string_view text) {
  Reply r{code, std::string(enhanced), {}};
  r.lines.push_back(text);
  return r;
}

namespace {

bool all_digits(std::string_view s, std::size_t min, std::size_t max) {
  if (s.size() < min || s.size() > max) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

}  // namespace

bool is_enhanced_code(std::string_view s) {
  // class "." subject "." detail (RFC 3463 §2)
  if (s.size() < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.') return false;
  const auto dot = s.find('.', 2);
  if (dot == std::string_view::npos) return false;
  return all_digits(s.substr(2, dot - 2), 1, 3) && all_digits(s.substr(dot + 1), 1, 3);
}

void ReplyParser::feed(std::string_view bytes) {
  // A run of bytes up to a line end at a time. A line that arrived whole is
  // read where it lies; only a line split across chunks is gathered in
  // line_, which keeps its room from line to line.
  while (!bytes.empty() && !failed()) {
    const auto nl = bytes.find('\n');
    const std::string_view run = bytes.substr(0, nl);
    if (line_.size() + run.size() > kMaxLineLength) {
      error_ = fmt::format("reply line longer than {} octets", kMaxLineLength);
      return;
    }
    if (nl == std::string_view::npos) {
      line_ += run;
      return;
    }
    bytes.remove_prefix(nl + 1);
    std::string_view line = run;
    if (!line_.empty()) {
      line_ += run;
      line = line_;
    }
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    on_line(line);
    line_.clear();
  }
}

std::optional<Reply> ReplyParser::next() {
  if (ready_.empty()) return std::nullopt;
  Reply r = std::move(ready_.front());
  ready_.pop_front();
  return r;
}

void ReplyParser::on_line(std::string_view line) {
  // "ddd" [ ("-" / " ") text ]   (a bare "ddd" is tolerated, RFC 5321 §4.2)
  if (line.size() < 3 || !all_digits(line.substr(0, 3), 3, 3) || line[0] < '2' || line[0] > '5') {
    error_ = fmt::format("malformed reply line: \"{}\"", line.substr(0, 80));
    return;
  }
  const int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
  const char sep = line.size() > 3 ? line[3] : ' ';
  if (sep != ' ' && sep != '-') {
    error_ = fmt::format("malformed reply line (separator): \"{}\"", line.substr(0, 80));
    return;
  }
  const bool first = building_.lines.empty();
  if (!first && code != code_) {
    error_ = fmt::format("reply code changed inside a multi-line reply ({} then {})", code_, code);
    return;
  }
  if (building_.lines.size() >= kMaxReplyLines) {
    error_ = fmt::format("reply has more than {} lines", kMaxReplyLines);
    return;
  }
  code_ = code;
  std::string_view text = line.size() > 4 ? line.substr(4) : std::string_view{};
  if (first) {
    building_.code = code;
    // The enhanced code comes from the first line, and only when its class
    // matches the reply's (a 250 EHLO line "2.0.0" would otherwise be
    // misread only if a server wrote one deliberately).
    const std::string_view candidate = text.substr(0, text.find(' '));
    if (is_enhanced_code(candidate) && candidate[0] - '0' == code / 100) building_.enhanced = candidate;
  }
  // ... and is stripped from every line that carries the same code.
  const std::string& enhanced = building_.enhanced;
  if (!enhanced.empty() && text.starts_with(enhanced) &&
      (text.size() == enhanced.size() || text[enhanced.size()] == ' ')) {
    text.remove_prefix(std::min(text.size(), enhanced.size() + 1));
  }
  // A multi-line reply (EHLO's) gets room for its lines at once.
  if (first && sep == '-') building_.lines.reserve(128);
  building_.lines.push_back(text);
  if (sep == ' ') ready_.push_back(std::exchange(building_, Reply{}));
}

}  // namespace mailsim::smtp
