// Channel: a Session on a byte stream, with STARTTLS (RFC 3207 §4, RFC 2595
// §3.1) and implicit TLS (RFC 8314 §3.3) through a sans-io TlsEngine.
#include "real/session/channel.h"

#include <stdexcept>
#include <utility>

namespace mailsim {

std::string_view to_string(ChannelEvent::Kind kind) {
  switch (kind) {
    case ChannelEvent::Kind::kSessionOut: return "session-out";
    case ChannelEvent::Kind::kSessionIn: return "session-in";
    case ChannelEvent::Kind::kWireOut: return "wire-out";
    case ChannelEvent::Kind::kWireIn: return "wire-in";
    case ChannelEvent::Kind::kHandshakeStarted: return "handshake-started";
    case ChannelEvent::Kind::kHandshakeFinished: return "handshake-finished";
    case ChannelEvent::Kind::kTlsError: return "tls-error";
    case ChannelEvent::Kind::kCloseNotifySent: return "close-notify-sent";
    case ChannelEvent::Kind::kCloseNotifyReceived: return "close-notify-received";
    case ChannelEvent::Kind::kClosed: return "closed";
  }
  return "unknown";
}

Channel::Channel(Session& session, ChannelOptions options)
    : session_(session), options_(std::move(options)) {
  if (options_.tls && options_.tls->role() != options_.role)
    throw std::invalid_argument("channel: the TLS context's role differs from the channel's");
  if (options_.implicit_tls && !options_.tls)
    throw std::invalid_argument("channel: implicit TLS needs a TLS context");
}

void Channel::start() {
  if (started_) return;
  started_ = true;
  if (options_.implicit_tls) {
    begin_tls();
  } else {
    session_started_ = true;
    session_.start();
  }
  pump();
}

void Channel::wire_in(std::string_view bytes) {
  if (!started_) throw std::logic_error("channel: wire_in() before start()");
  if (tls_failed_ || stream_closed_ || bytes.empty()) return;
  if (engine_) {
    emit(ChannelEvent::Kind::kWireIn, bytes, true);
    engine_->feed_ciphertext(bytes);
  } else {
    emit(ChannelEvent::Kind::kWireIn, bytes, false);
    emit(ChannelEvent::Kind::kSessionIn, bytes);
    session_.receive(bytes);
  }
  pump();
}

std::string Channel::take_wire_out() { return std::exchange(wire_out_, {}); }

void Channel::peer_closed() {
  if (stream_closed_) return;
  stream_closed_ = true;
  const bool truncated = tls_active() && !engine_->close_received();
  // Without close_notify a TLS peer's last words may have been cut off by an
  // attacker (RFC 8446 §6.1); mail protocols detect it at their own level
  // (the final "." or a tagged OK), so it is reported, not fatal.
  emit(ChannelEvent::Kind::kClosed, {}, false,
       truncated ? "stream closed without TLS close_notify" : "stream closed");
  tell_session_closed();
}

bool Channel::wants_close() const {
  if (!wire_out_.empty()) return false;
  if (tls_failed_ || stream_closed_) return true;
  if (!session_started_ || !session_.wants_close()) return false;
  // Under TLS our close_notify goes out first (pump() queues it).
  return !tls_active() || engine_->close_sent();
}

void Channel::pump() {
  if (!started_) return;
  bool moved = true;
  while (moved) {
    moved = false;

    if (engine_ && !tls_failed_) {
      to_wire(engine_->take_ciphertext(), true);
      if (engine_->failed()) {
        fail_tls(engine_->error());
        moved = true;
        continue;
      }
      if (engine_->handshake_done() && !tls_info_) {
        tls_info_ = TlsInfo{engine_->version(), engine_->cipher(), engine_->peer_subject()};
        emit(ChannelEvent::Kind::kHandshakeFinished, {}, false, {}, &*tls_info_);
        if (session_started_) {
          session_.tls_established(*tls_info_);
        } else {  // implicit TLS: the protocol starts only now
          session_started_ = true;
          session_.start();
        }
        moved = true;
      }
      if (tls_info_) {
        const std::string plain = engine_->take_plaintext();
        if (!plain.empty()) {
          emit(ChannelEvent::Kind::kSessionIn, plain);
          session_.receive(plain);
          moved = true;
        }
        if (engine_->close_received() && !close_notify_seen_) {
          close_notify_seen_ = true;
          emit(ChannelEvent::Kind::kCloseNotifyReceived);
          tell_session_closed();  // the peer promised to send nothing more
          moved = true;
        }
      }
    }

    if (session_started_ && tls_failed_) {
      // Nothing the session says can reach the peer over a broken stream.
      (void)session_.take_output();
      return;
    }
    if (session_started_) {
      std::string out = session_.take_output();
      if (!out.empty()) {
        emit(ChannelEvent::Kind::kSessionOut, out);
        send_plain_or_tls(std::move(out));
        moved = true;
      }
      // The output that accepted STARTTLS has just been flushed in plaintext
      // above; only now does the handshake begin.
      if (session_.tls_requested()) {
        if (!engine_) {
          begin_tls();
          moved = true;
        } else if (tls_info_) {
          session_.tls_failed("TLS is already active on this connection");
          moved = true;
        }
      }
      if (tls_active() && session_.wants_close() && !engine_->close_sent()) {
        engine_->close();
        emit(ChannelEvent::Kind::kCloseNotifySent);
        moved = true;
      }
    }
  }
}

void Channel::begin_tls() {
  if (!options_.tls) {
    const std::string reason = "TLS is not configured on this connection";
    emit(ChannelEvent::Kind::kTlsError, {}, false, reason);
    session_.tls_failed(reason);
    return;
  }
  const bool client = options_.role == tls::TlsRole::kClient;
  emit(ChannelEvent::Kind::kHandshakeStarted, {}, false, client ? "client" : "server");
  try {
    engine_.emplace(client ? tls::TlsEngine::client(*options_.tls, options_.server_name)
                           : tls::TlsEngine::server(*options_.tls));
  } catch (const tls::TlsError& e) {
    fail_tls(e.what());
  }
}

void Channel::send_plain_or_tls(std::string plaintext) {
  if (engine_) {
    engine_->write_plaintext(plaintext);
    to_wire(engine_->take_ciphertext(), true);
  } else {
    to_wire(std::move(plaintext), false);
  }
}

void Channel::to_wire(std::string bytes, bool encrypted) {
  if (bytes.empty()) return;
  emit(ChannelEvent::Kind::kWireOut, bytes, encrypted);
  // Most of the time nothing waits: the bytes become the output as they are.
  if (wire_out_.empty()) wire_out_ = std::move(bytes);
  else wire_out_ += bytes;
}

void Channel::fail_tls(std::string reason) {
  if (tls_failed_) return;
  tls_failed_ = true;
  error_ = std::move(reason);
  emit(ChannelEvent::Kind::kTlsError, {}, false, error_);
  // The alert that tells the peer why goes out before the stream closes.
  if (engine_) to_wire(engine_->take_ciphertext(), true);
  if (session_started_ && session_.tls_requested()) {
    session_.tls_failed(error_);
  } else if (session_started_) {
    tell_session_closed();  // the encrypted stream broke mid-conversation
  }
}

void Channel::tell_session_closed() {
  if (session_told_closed_ || !session_started_) return;
  session_told_closed_ = true;
  session_.peer_closed();
}

void Channel::emit(ChannelEvent::Kind kind, std::string_view data, bool encrypted,
                   std::string_view detail, const TlsInfo* tls) {
  if (!options_.observer) return;
  ChannelEvent e{kind, data, encrypted, detail, tls};
  options_.observer(e);
}

}  // namespace mailsim
