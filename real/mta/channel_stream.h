// Hosts one sans-io Session on one ByteStream through a mailsim::Channel
// (real/session/channel.h), so STARTTLS works the same over a TCP socket and
// over the simulator's in-process sockets. Used by the MTA's outbound SMTP
// connections (smtp_transport.h) and its inbound SMTP server (inbound.h).
#pragma once

#include <functional>
#include <memory>

#include "real/mta/services.h"
#include "real/session/channel.h"

namespace mailsim::mta {

class ChannelStream {
 public:
  // `session` is borrowed and must outlive this object. `after_input` runs
  // after every chunk the peer sent (and after the peer closed), so the owner
  // can read the session's events; `on_closed` runs once when the stream is
  // finished (peer closed it or the session asked to close). The owner must
  // not destroy this object inside either callback: defer it (Clock::schedule).
  ChannelStream(Session& session, ChannelOptions options, std::unique_ptr<ByteStream> stream,
                std::function<void()> after_input, std::function<void()> on_closed);
  ~ChannelStream();
  ChannelStream(const ChannelStream&) = delete;
  ChannelStream& operator=(const ChannelStream&) = delete;

  // The stream is connected: starts the channel (and the session).
  void start();
  // After the owner talked to the session directly (queued a job, answered a
  // decision): moves its output to the stream, starts TLS if asked, closes
  // the stream if the session is done.
  void flush();
  // Closes the stream now (e.g. after a timeout). Idempotent.
  void close();
  bool closed() const { return closed_; }

  Channel& channel() { return channel_; }
  ByteStream& stream() { return *stream_; }

 private:
  void on_data(std::string_view bytes);
  void on_peer_closed();
  void finish();

  Channel channel_;
  std::unique_ptr<ByteStream> stream_;
  std::function<void()> after_input_;
  std::function<void()> on_closed_;
  bool closed_ = false;
  bool finished_ = false;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace mailsim::mta
