// IMAP command framing (RFC 3501 §4.3, RFC 7888); see command_reader.h.
#include "real/imap/command_reader.h"

#include <algorithm>

#include "real/imap/wire.h"

namespace mailsim::imap {

void CommandReader::feed(std::string_view bytes) {
  // Compact once the consumed prefix dominates, so a long session does not
  // keep every byte it ever read.
  if (pos_ > 0 && pos_ >= in_.size() / 2) {
    in_.erase(0, pos_);
    pos_ = 0;
  }
  in_.append(bytes);
}

void CommandReader::discard_input() {
  in_.clear();
  pos_ = 0;
  frame_.clear();
  literal_left_ = 0;
  skipping_literal_ = false;
  discarding_ = false;
  discard_tail_.clear();
}

CommandReader::Marker CommandReader::literal_marker(std::string_view line) {
  Marker m;
  if (line.empty() || line.back() != '}') return m;
  std::size_t open = line.rfind('{');
  if (open == std::string_view::npos) return m;
  std::string_view inner = line.substr(open + 1, line.size() - open - 2);
  m.present = true;
  if (!inner.empty() && inner.back() == '+') {
    m.synchronizing = false;
    inner.remove_suffix(1);
  }
  if (inner.empty() || inner.size() > 19 ||
      !std::all_of(inner.begin(), inner.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    // "{abc}" at the end of a line is not a literal; the parser will say BAD.
    m.present = false;
    return m;
  }
  std::uint64_t n = 0;
  for (char c : inner) {
    std::uint64_t next = n * 10 + static_cast<std::uint64_t>(c - '0');
    if (next / 10 != n) { m.valid = false; break; }  // overflow: certainly too big
    n = next;
  }
  m.size = m.valid ? n : UINT64_MAX;
  return m;
}

std::string CommandReader::tag_of(std::string_view text) {
  std::size_t end = 0;
  while (end < text.size() && is_atom_char(text[end]) && text[end] != '+') ++end;
  if (end == 0 || (end < text.size() && text[end] != ' ')) return "*";
  return std::string(text.substr(0, end));
}

void CommandReader::end_discarded_line(const Marker& m) {
  discard_tail_.clear();
  if (m.present && !m.synchronizing) {
    // The client sends a non-synchronizing literal whatever we say: skip it
    // by counting, never by storing.
    literal_left_ = m.size;
    skipping_literal_ = true;
    return;  // still discarding the command after it
  }
  // No literal (the command ended) or a synchronizing one (the client waits
  // for a "+" that will not come, having seen the refusal).
  discarding_ = false;
}

CommandReader::Item CommandReader::next() {
  for (;;) {
    if (literal_left_ > 0) {
      std::size_t avail = in_.size() - pos_;
      std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(literal_left_, avail));
      if (!skipping_literal_) frame_.append(in_, pos_, take);
      pos_ += take;
      literal_left_ -= take;
      if (literal_left_ > 0) return {};
      skipping_literal_ = false;
      continue;
    }

    std::size_t lf = in_.find('\n', pos_);
    if (lf == std::string::npos) {
      std::size_t avail = in_.size() - pos_;
      if (discarding_) {
        // Keep only a short tail: enough to recognise "{4294967295+}\r".
        discard_tail_.append(in_, pos_, avail);
        if (discard_tail_.size() > 32) discard_tail_.erase(0, discard_tail_.size() - 32);
        pos_ = in_.size();
        return {};
      }
      // The current line is what follows the last literal (or the whole frame).
      std::size_t line_so_far = avail;
      if (line_so_far > limits_.max_line) {
        Item item{Kind::kLineTooLong, {}, tag_of(frame_.empty() ? std::string_view(in_).substr(pos_) : frame_)};
        discard_tail_.assign(in_, in_.size() - std::min<std::size_t>(32, avail), std::string::npos);
        pos_ = in_.size();
        frame_.clear();
        discarding_ = true;
        return item;
      }
      return {};
    }

    std::string_view line(in_.data() + pos_, lf + 1 - pos_);
    std::string_view content = line.substr(0, line.size() - 1);
    if (!content.empty() && content.back() == '\r') content.remove_suffix(1);

    if (discarding_) {
      std::string tail = discard_tail_ + std::string(content);
      if (!tail.empty() && tail.back() == '\r') tail.pop_back();  // CR and LF in different reads
      pos_ = lf + 1;
      end_discarded_line(literal_marker(tail));
      continue;
    }

    if (line.size() > limits_.max_line) {
      Item item{Kind::kLineTooLong, {}, tag_of(frame_.empty() ? content : std::string_view(frame_))};
      pos_ = lf + 1;
      frame_.clear();
      discarding_ = true;
      discard_tail_.clear();
      end_discarded_line(literal_marker(content));
      return item;
    }

    Marker m = literal_marker(content);
    frame_.append(line);
    pos_ = lf + 1;

    if (frame_.size() > limits_.max_command ||
        (m.present && (m.size > limits_.max_literal || m.size > limits_.max_command - frame_.size()))) {
      Item item{Kind::kLiteralTooBig, {}, tag_of(frame_), m.synchronizing, m.size};
      if (!m.present) item.kind = Kind::kLineTooLong;
      frame_.clear();
      discarding_ = true;
      end_discarded_line(m);
      return item;
    }

    if (m.present) {
      literal_left_ = m.size;
      if (m.synchronizing) {
        Item item{Kind::kContinue, {}, {}, true, m.size};
        return item;
      }
      continue;
    }

    Item item{Kind::kCommand, std::move(frame_), {}};
    frame_.clear();
    return item;
  }
}

}  // namespace mailsim::imap
