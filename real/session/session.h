// The contract between a sans-io protocol session (SMTP, POP3, IMAP; server or
// client) and whatever hosts it: Boost.Asio sockets in real/net, in-process
// sockets in sim/, a fuzzer, or a unit test feeding bytes.
//
// A session never touches a socket, a clock or a thread. Its host:
//   1. calls start() once the stream is connected (a server writes its greeting);
//   2. feeds every plaintext byte received from the peer to receive();
//   3. after each call, drains take_output() to the peer, then looks at
//      tls_requested() and wants_close();
//   4. on tls_requested(): flushes the output taken so far in plaintext, then
//      runs the TLS handshake (real/tls), and calls tls_established() once it
//      completes (or tls_failed()); from then on it feeds decrypted bytes;
//   5. calls peer_closed() when the peer closes the stream.
// Protocol-specific events (a message to store, credentials to check, ...)
// are offered by each session type's own next_event(); decisions the host
// makes asynchronously are handed back through the session's own methods.
#pragma once

#include <string>
#include <string_view>

namespace mailsim {

// What the TLS layer reports to the session once the handshake is done.
struct TlsInfo {
  std::string version;      // e.g. "TLSv1.3"
  std::string cipher;       // e.g. "TLS_AES_256_GCM_SHA384"
  std::string peer_subject; // verified peer certificate subject (client side), may be empty
};

class Session {
 public:
  virtual ~Session() = default;

  // The stream is connected. A server queues its greeting here.
  virtual void start() = 0;

  // Plaintext bytes from the peer, in order. The view is only valid during
  // the call; the session copies what it keeps.
  virtual void receive(std::string_view bytes) = 0;

  // Bytes the session wants sent, accumulated since the last call. The caller
  // owns the returned string.
  virtual std::string take_output() = 0;

  // True once the session has asked for TLS (after the output that accepts
  // STARTTLS / STLS is taken) and until tls_established() or tls_failed().
  virtual bool tls_requested() const = 0;
  // The handshake finished. Bytes that arrived in plaintext after the STARTTLS
  // command were already discarded by the session (CVE-2011-0411).
  virtual void tls_established(const TlsInfo& info) = 0;
  virtual void tls_failed(std::string_view reason) = 0;

  // True when the session has nothing more to say: the host closes the
  // stream after flushing take_output().
  virtual bool wants_close() const = 0;

  // The peer closed (or the host timed the peer out).
  virtual void peer_closed() = 0;
};

}  // namespace mailsim
