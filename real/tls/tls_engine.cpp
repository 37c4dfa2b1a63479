// TlsEngine: OpenSSL SSL object between a read BIO and a write BIO in memory.
#include "real/tls/tls_engine.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <utility>

namespace mailsim::tls {
namespace {

bool is_ip_literal(std::string_view name) {
  const std::string s(name);
  ASN1_OCTET_STRING* ip = a2i_IPADDRESS(s.c_str());
  if (ip == nullptr) {
    ERR_clear_error();
    return false;
  }
  ASN1_OCTET_STRING_free(ip);
  return true;
}

std::string bio_to_string(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string{};
}

}  // namespace

void TlsEngine::SslFree::operator()(ssl_st* s) const { SSL_free(s); }

TlsEngine TlsEngine::client(const TlsContext& ctx, std::string_view server_name) {
  if (ctx.role() != TlsRole::kClient) throw TlsError("a client engine needs a client context");
  return TlsEngine(ctx, TlsRole::kClient, server_name);
}

TlsEngine TlsEngine::server(const TlsContext& ctx) {
  if (ctx.role() != TlsRole::kServer) throw TlsError("a server engine needs a server context");
  return TlsEngine(ctx, TlsRole::kServer, {});
}

TlsEngine::TlsEngine(const TlsContext& ctx, TlsRole role, std::string_view server_name)
    : role_(role), verify_(ctx.verifies_peer()) {
  ERR_clear_error();
  // SSL_new takes its own reference on the SSL_CTX.
  ssl_.reset(SSL_new(ctx.native()));
  if (!ssl_) throw TlsError("cannot create SSL: " + take_openssl_errors());
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  if (in == nullptr || out == nullptr) {
    BIO_free(in);
    BIO_free(out);
    throw TlsError("cannot create memory BIOs");
  }
  // An empty read BIO means "no data yet" (retry), not end of file.
  BIO_set_mem_eof_return(in, -1);
  BIO_set_mem_eof_return(out, -1);
  SSL_set_bio(ssl_.get(), in, out);  // the SSL owns both BIOs now

  if (role == TlsRole::kServer) {
    SSL_set_accept_state(ssl_.get());
    return;
  }
  SSL_set_connect_state(ssl_.get());
  if (!server_name.empty()) {
    const std::string name(server_name);
    if (is_ip_literal(name)) {
      // RFC 6066 §3: SNI carries host names only. Verify against an IP SAN.
      if (verify_ && X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_.get()), name.c_str()) != 1)
        throw TlsError("cannot set the IP address to verify: " + take_openssl_errors());
    } else {
      if (SSL_set_tlsext_host_name(ssl_.get(), name.c_str()) != 1)
        throw TlsError("cannot set SNI: " + take_openssl_errors());
      if (verify_) {
        SSL_set_hostflags(ssl_.get(), X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        if (SSL_set1_host(ssl_.get(), name.c_str()) != 1)
          throw TlsError("cannot set the host name to verify: " + take_openssl_errors());
      }
    }
  }
  drive();  // writes the ClientHello
}

TlsEngine::TlsEngine(TlsEngine&&) noexcept = default;
TlsEngine& TlsEngine::operator=(TlsEngine&&) noexcept = default;
TlsEngine::~TlsEngine() = default;

void TlsEngine::feed_ciphertext(std::string_view bytes) {
  if (failed_ || bytes.empty()) return;
  BIO* in = SSL_get_rbio(ssl_.get());
  // A memory BIO grows as needed; the write cannot be short.
  BIO_write(in, bytes.data(), static_cast<int>(bytes.size()));
  drive();
}

std::string TlsEngine::take_ciphertext() {
  BIO* out = SSL_get_wbio(ssl_.get());
  std::string bytes = bio_to_string(out);
  (void)BIO_reset(out);
  return bytes;
}

std::size_t TlsEngine::pending_ciphertext() const {
  return BIO_ctrl_pending(SSL_get_wbio(ssl_.get()));
}

void TlsEngine::write_plaintext(std::string_view bytes) {
  if (failed_ || close_sent_ || bytes.empty()) return;
  pending_write_.append(bytes);
  if (handshake_done_) flush_writes();
}

std::string TlsEngine::take_plaintext() { return std::exchange(plaintext_in_, {}); }

void TlsEngine::drive() {
  if (failed_) return;
  if (!handshake_done_) {
    ERR_clear_error();
    const int r = SSL_do_handshake(ssl_.get());
    if (r != 1) {
      const int e = SSL_get_error(ssl_.get(), r);
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return;
      if (e == SSL_ERROR_ZERO_RETURN) {
        set_failed("the peer closed the connection during the handshake");
        return;
      }
      std::string reason = take_openssl_errors();
      if (reason.empty()) reason = "handshake failed (OpenSSL error " + std::to_string(e) + ")";
      const long v = SSL_get_verify_result(ssl_.get());
      if (role_ == TlsRole::kClient && verify_ && v != X509_V_OK)
        reason += std::string(": ") + X509_verify_cert_error_string(v);
      set_failed(std::move(reason));
      return;
    }
    handshake_done_ = true;
  }
  flush_writes();
  read_records();
}

void TlsEngine::flush_writes() {
  while (!failed_ && !pending_write_.empty()) {
    ERR_clear_error();
    std::size_t written = 0;
    const int r = SSL_write_ex(ssl_.get(), pending_write_.data(), pending_write_.size(), &written);
    if (r != 1) {
      set_failed("write failed: " + take_openssl_errors());
      return;
    }
    pending_write_.erase(0, written);
  }
}

void TlsEngine::read_records() {
  std::array<char, 16384> buf;
  while (!failed_ && !close_received_) {
    ERR_clear_error();
    std::size_t got = 0;
    const int r = SSL_read_ex(ssl_.get(), buf.data(), buf.size(), &got);
    if (r == 1) {
      plaintext_in_.append(buf.data(), got);
      continue;
    }
    const int e = SSL_get_error(ssl_.get(), r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return;
    if (e == SSL_ERROR_ZERO_RETURN) {
      close_received_ = true;
      return;
    }
    std::string reason = take_openssl_errors();
    set_failed(reason.empty() ? "record layer failed (OpenSSL error " + std::to_string(e) + ")"
                              : std::move(reason));
  }
}

void TlsEngine::set_failed(std::string reason) {
  failed_ = true;
  error_ = std::move(reason);
  pending_write_.clear();
}

std::string TlsEngine::version() const {
  return handshake_done_ ? SSL_get_version(ssl_.get()) : std::string{};
}

std::string TlsEngine::cipher() const {
  if (!handshake_done_) return {};
  const SSL_CIPHER* c = SSL_get_current_cipher(ssl_.get());
  return c != nullptr ? SSL_CIPHER_get_name(c) : std::string{};
}

std::string TlsEngine::peer_subject() const {
  if (!handshake_done_) return {};
  X509* cert = SSL_get0_peer_certificate(ssl_.get());
  if (cert == nullptr) return {};
  BIO* bio = BIO_new(BIO_s_mem());
  X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
  std::string subject = bio_to_string(bio);
  BIO_free(bio);
  return subject;
}

void TlsEngine::close() {
  if (failed_ || close_sent_) return;
  close_sent_ = true;
  // Before the handshake there is no secure channel to say goodbye on; the
  // host simply closes the stream.
  if (!handshake_done_) return;
  flush_writes();
  ERR_clear_error();
  // 0: our close_notify is queued, the peer's not seen yet; 1: both done.
  // With a memory BIO it cannot block, so negative means a real error.
  if (SSL_shutdown(ssl_.get()) < 0) {
    const std::string reason = take_openssl_errors();
    if (!reason.empty()) set_failed("close_notify failed: " + reason);
  }
}

}  // namespace mailsim::tls
