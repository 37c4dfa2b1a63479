// DATA content reader (RFC 5321 §4.1.1.4, §4.5.2, §4.5.3.1.6); see the header
// for why bare CR and LF are fatal.
#include "real/smtp/data_reader.h"

#include "real/smtp/data.h"

#include <algorithm>

namespace mailsim::smtp {

DataReader::DataReader(std::uint64_t max_size, std::size_t max_line, std::uint64_t expected_size)
    : max_size_(max_size), max_line_(max_line) {
  constexpr std::uint64_t kMaxRoom = 64 * 1024;
  message_.reserve(static_cast<std::size_t>(std::min({expected_size, max_size, kMaxRoom})));
}

void DataReader::append(std::string_view bytes) {
  // Bytes past max_size are counted, not kept.
  if (size_ < max_size_)
    message_.append(bytes.substr(0, static_cast<std::size_t>(std::min<std::uint64_t>(bytes.size(), max_size_ - size_))));
  size_ += bytes.size();
}

std::size_t DataReader::feed(std::string_view in) {
  std::size_t i = 0;
  while (i < in.size() && status_ == Status::kReading) {
    const char c = in[i++];
    if (cr_pending_) {
      cr_pending_ = false;
      if (c != '\n') {
        status_ = Status::kBareCr;
        break;
      }
      if (dot_only_) {  // CRLF "." CRLF: the end of data
        status_ = Status::kDone;
        break;
      }
      if (line_len_ + 2 > max_line_) line_too_long_ = true;
      append("\r\n");
      line_len_ = 0;
      continue;
    }
    if (c == '\r') {
      cr_pending_ = true;
      continue;
    }
    if (c == '\n') {
      status_ = Status::kBareLf;
      break;
    }
    ++line_len_;
    if (line_len_ == 1 && c == '.') {
      // Transparency: a leading dot is removed (§4.5.2). If the line turns
      // out to be just ".", it was the end of data instead.
      dot_only_ = true;
      continue;
    }
    // An ordinary byte, and every one after it up to the next CR or LF:
    // taken as one run.
    const std::size_t start = i - 1;
    i = next_line_end(in, i);
    line_len_ += i - start - 1;
    dot_only_ = false;
    if (line_len_ + 2 > max_line_) line_too_long_ = true;
    append(in.substr(start, i - start));
  }
  return i;
}

}  // namespace mailsim::smtp
