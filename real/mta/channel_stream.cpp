// A Session on a ByteStream through a Channel (STARTTLS, RFC 3207).
#include "real/mta/channel_stream.h"

namespace mailsim::mta {

ChannelStream::ChannelStream(Session& session, ChannelOptions options, std::unique_ptr<ByteStream> stream,
                             std::function<void()> after_input, std::function<void()> on_closed)
    : channel_(session, std::move(options)),
      stream_(std::move(stream)),
      after_input_(std::move(after_input)),
      on_closed_(std::move(on_closed)) {
  std::weak_ptr<int> alive = alive_;
  stream_->on_data([this, alive](std::string_view bytes) {
    if (!alive.expired()) on_data(bytes);
  });
  stream_->on_close([this, alive] {
    if (!alive.expired()) on_peer_closed();
  });
}

ChannelStream::~ChannelStream() {
  alive_.reset();
  if (!closed_) stream_->close();
}

void ChannelStream::start() {
  channel_.start();
  flush();
}

void ChannelStream::flush() {
  if (closed_) return;
  channel_.pump();
  auto out = channel_.take_wire_out();
  if (!out.empty()) stream_->write(std::move(out));
  if (channel_.wants_close()) {
    closed_ = true;
    stream_->close();
    finish();
  }
}

void ChannelStream::close() {
  if (closed_) return;
  closed_ = true;
  stream_->close();
  finish();
}

void ChannelStream::on_data(std::string_view bytes) {
  if (closed_) return;
  std::weak_ptr<int> alive = alive_;
  channel_.wire_in(bytes);
  if (after_input_) after_input_();
  if (!alive.expired()) flush();
}

void ChannelStream::on_peer_closed() {
  if (closed_) return;
  std::weak_ptr<int> alive = alive_;
  channel_.peer_closed();
  if (after_input_) after_input_();
  if (alive.expired()) return;
  // Send whatever the session still had to say (it may be lost), then stop.
  auto out = channel_.take_wire_out();
  (void)out;
  closed_ = true;
  finish();
}

void ChannelStream::finish() {
  if (finished_) return;
  finished_ = true;
  if (on_closed_) on_closed_();
}

}  // namespace mailsim::mta
