// A sans-io TLS endpoint (RFC 8446, RFC 5246) over two OpenSSL memory BIOs:
// ciphertext in and out, plaintext in and out, no sockets, no clock, no thread.
// The same object encrypts a `mailsim serve` connection and a simulated one,
// so the eavesdropper in the simulator sees the real ciphertext.
//
// Driving it: feed whatever arrives from the peer to feed_ciphertext(), send
// whatever take_ciphertext() returns, hand take_plaintext() to the protocol.
// Any chunking works, down to one byte at a time.
#pragma once

#include "real/tls/tls_context.h"

#include <memory>
#include <string>
#include <string_view>

struct ssl_st;  // OpenSSL's SSL

namespace mailsim::tls {

class TlsEngine {
 public:
  // A client endpoint. `server_name` is sent as SNI (RFC 6066 §3) when it is
  // a DNS name, and, when the context verifies, the certificate must match it
  // (RFC 6125: DNS name in subjectAltName, or an IP address SAN when
  // `server_name` is an IP literal). The ClientHello is ready in
  // take_ciphertext() right after construction.
  static TlsEngine client(const TlsContext& ctx, std::string_view server_name);
  // A server endpoint; it waits for the ClientHello.
  static TlsEngine server(const TlsContext& ctx);

  TlsEngine(TlsEngine&&) noexcept;
  TlsEngine& operator=(TlsEngine&&) noexcept;
  ~TlsEngine();

  TlsRole role() const { return role_; }

  // Bytes received from the peer, any chunk size. The view is only read
  // during the call. Ignored once failed().
  void feed_ciphertext(std::string_view bytes);
  // Bytes to send to the peer (handshake, records, alerts, close_notify),
  // accumulated since the last call. The caller owns the result. Still
  // returns the alert after a failure: send it, then close.
  std::string take_ciphertext();
  // Number of bytes take_ciphertext() would return now.
  std::size_t pending_ciphertext() const;

  // Application data to encrypt. Written before the handshake finished, it
  // is kept and encrypted as soon as it does. Ignored after close() or a
  // failure.
  void write_plaintext(std::string_view bytes);
  // Decrypted application data from the peer, accumulated since the last call.
  std::string take_plaintext();

  bool handshake_done() const { return handshake_done_; }
  // Sticky: the handshake or a record failed (bad certificate, wrong host
  // name, garbage on the wire, fatal alert from the peer ...).
  bool failed() const { return failed_; }
  // Why, with OpenSSL's reason and, for certificate problems, the verifier's
  // ("certificate verify failed: hostname mismatch"). Empty unless failed().
  const std::string& error() const { return error_; }

  // After handshake_done(): "TLSv1.3", "TLS_AES_256_GCM_SHA384", and the
  // peer certificate's subject in RFC 2253 form ("CN=mx.beta.example,O=...").
  // A server does not ask for client certificates, so its peer_subject() is
  // empty.
  std::string version() const;
  std::string cipher() const;
  std::string peer_subject() const;

  // Queue our close_notify alert (RFC 8446 §6.1); send take_ciphertext()
  // afterwards. No plaintext is accepted after it.
  void close();
  bool close_sent() const { return close_sent_; }
  // The peer sent close_notify: it will send no more data.
  bool close_received() const { return close_received_; }

 private:
  TlsEngine(const TlsContext& ctx, TlsRole role, std::string_view server_name);
  void drive();           // advance the handshake, then flush writes and reads
  void set_failed(std::string reason);
  void flush_writes();
  void read_records();

  struct SslFree {
    void operator()(ssl_st* s) const;
  };
  std::unique_ptr<ssl_st, SslFree> ssl_;
  TlsRole role_;
  bool verify_ = false;
  bool handshake_done_ = false;
  bool failed_ = false;
  bool close_sent_ = false;
  bool close_received_ = false;
  std::string error_;
  std::string pending_write_;  // plaintext waiting for the handshake
  std::string plaintext_in_;   // decrypted, not yet taken
};

}  // namespace mailsim::tls
