// SMTP reply wire form and incremental parser (RFC 5321 §4.2, RFC 2034 §4).
#include "real/smtp/reply.h"

#include <fmt/format.h>

namespace mailsim::smtp {

std::string Reply::to_wire() const {
  std::string out;
  const std::size_t n = lines.empty() ? 1 : lines.size();
  for (std::size_t i = 0; i < n; ++i) {
    const std::string_view line = lines.empty() ? std::string_view{} : std::string_view{lines[i]};
    // Every command's reply goes through here: three digits written by
    // hand cost a fraction of a fmt::format call and its string.
    if (code >= 0 && code <= 999) {
      out += static_cast<char>('0' + code / 100);
      out += static_cast<char>('0' + code / 10 % 10);
      out += static_cast<char>('0' + code % 10);
    } else {
      out += fmt::format("{:03d}", code);
    }
    out += i + 1 < n ? '-' : ' ';
    if (!enhanced.empty()) {
      out += enhanced;
      if (!line.empty()) out += ' ';
    }
    out += line;
    out += "\r\n";
  }
  return out;
}

std::string Reply::text() const {
  std::string out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i) out += '\n';
    out += lines[i];
  }
  return out;
}

Reply make_reply(int code, std::string_view enhanced, std::string_view text) {
  Reply r{code, std::string(enhanced), {}};
  std::size_t start = 0;
  while (true) {
    const auto nl = text.find('\n', start);
    r.lines.emplace_back(text.substr(start, nl == std::string_view::npos ? nl : nl - start));
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
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
  // A run of bytes up to a line end at a time; line_ keeps its room from
  // line to line.
  while (!bytes.empty() && !failed()) {
    const auto nl = bytes.find('\n');
    const std::string_view run = bytes.substr(0, nl);
    if (line_.size() + run.size() > kMaxLineLength) {
      error_ = fmt::format("reply line longer than {} octets", kMaxLineLength);
      return;
    }
    line_ += run;
    if (nl == std::string_view::npos) return;
    bytes.remove_prefix(nl + 1);
    if (!line_.empty() && line_.back() == '\r') line_.pop_back();
    on_line(line_);
    line_.clear();
  }
}

std::optional<Reply> ReplyParser::next() {
  if (ready_.empty()) return std::nullopt;
  Reply r = std::move(ready_.front());
  ready_.pop_front();
  return r;
}

void ReplyParser::on_line(std::string line) {
  // "ddd" [ ("-" / " ") text ]   (a bare "ddd" is tolerated, RFC 5321 §4.2)
  if (line.size() < 3 || !all_digits(std::string_view(line).substr(0, 3), 3, 3) || line[0] < '2' ||
      line[0] > '5') {
    error_ = fmt::format("malformed reply line: \"{}\"", line.substr(0, 80));
    return;
  }
  const int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
  const char sep = line.size() > 3 ? line[3] : ' ';
  if (sep != ' ' && sep != '-') {
    error_ = fmt::format("malformed reply line (separator): \"{}\"", line.substr(0, 80));
    return;
  }
  if (!raw_lines_.empty() && code != code_) {
    error_ = fmt::format("reply code changed inside a multi-line reply ({} then {})", code_, code);
    return;
  }
  if (raw_lines_.size() >= kMaxReplyLines) {
    error_ = fmt::format("reply has more than {} lines", kMaxReplyLines);
    return;
  }
  code_ = code;
  raw_lines_.push_back(line.size() > 4 ? line.substr(4) : std::string{});
  if (sep == ' ') finish_reply();
}

void ReplyParser::finish_reply() {
  Reply r;
  r.code = code_;
  // The enhanced code comes from the first line, and only when its class
  // matches the reply's (a 250 EHLO line "2.0.0" would otherwise be misread
  // only if a server wrote one deliberately).
  const std::string& first = raw_lines_.front();
  const auto sp = first.find(' ');
  const std::string candidate = first.substr(0, sp);
  if (is_enhanced_code(candidate) && candidate[0] - '0' == code_ / 100) r.enhanced = candidate;
  for (auto& l : raw_lines_) {
    if (!r.enhanced.empty() && l.starts_with(r.enhanced) &&
        (l.size() == r.enhanced.size() || l[r.enhanced.size()] == ' ')) {
      l.erase(0, std::min(l.size(), r.enhanced.size() + 1));
    }
    r.lines.push_back(std::move(l));
  }
  raw_lines_.clear();
  ready_.push_back(std::move(r));
}

}  // namespace mailsim::smtp
