// TLS configuration shared by many connections: a server context (certificate
// chain + private key) or a client context (trust anchors, verification).
// TLS 1.2 is the floor (RFC 8996 retired 1.0 and 1.1; RFC 8314 §4.1 for mail).
#pragma once

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

struct ssl_ctx_st;  // OpenSSL's SSL_CTX, kept out of every includer's way.

namespace mailsim::tls {

// Thrown when a context or certificate cannot be built (bad PEM, key that does
// not match the certificate, unreadable file). what() carries OpenSSL's reason.
class TlsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class TlsRole { kClient, kServer };

// Whether a client checks the server's certificate. Submission and mail
// retrieval clients should always verify (RFC 8314 §4.1); MTA-to-MTA STARTTLS
// is opportunistic in practice (RFC 3207 §4.1, RFC 7435), which the simulator
// may want to show with kNone.
enum class PeerVerification { kRequired, kNone };

// A cheap-to-copy handle on an SSL_CTX (shared ownership). Engines created from
// it keep the underlying SSL_CTX alive on their own, so a TlsContext may be
// destroyed while connections made from it still run.
class TlsContext {
 public:
  // Server: `cert_chain_pem` is the leaf certificate followed by any
  // intermediates; `key_pem` the leaf's private key. Throws TlsError.
  static TlsContext server(std::string_view cert_chain_pem, std::string_view key_pem);
  static TlsContext server_from_files(const std::filesystem::path& cert_chain_pem,
                                      const std::filesystem::path& key_pem);

  // Client: trusts exactly the certificates in `ca_pem` (the demo CA), never
  // the system store, so a run behaves the same on every machine. With
  // kNone, `ca_pem` may be empty. Throws TlsError.
  static TlsContext client(std::string_view ca_pem,
                           PeerVerification verify = PeerVerification::kRequired);
  static TlsContext client_from_file(const std::filesystem::path& ca_pem,
                                     PeerVerification verify = PeerVerification::kRequired);

  TlsRole role() const { return role_; }
  bool verifies_peer() const { return verify_ == PeerVerification::kRequired; }

  // The OpenSSL object, for TlsEngine and for tuning. Valid while this
  // TlsContext (or a copy) lives.
  ssl_ctx_st* native() const { return ctx_.get(); }

 private:
  TlsContext(std::shared_ptr<ssl_ctx_st> ctx, TlsRole role, PeerVerification verify)
      : ctx_(std::move(ctx)), role_(role), verify_(verify) {}

  std::shared_ptr<ssl_ctx_st> ctx_;
  TlsRole role_;
  PeerVerification verify_;
};

// The text of OpenSSL's error queue for this thread (most recent reason first,
// e.g. "certificate verify failed"), cleared afterwards. Empty if the queue is.
std::string take_openssl_errors();

// Reads a whole file into a string; throws TlsError naming the file.
std::string read_file(const std::filesystem::path& path);

}  // namespace mailsim::tls
