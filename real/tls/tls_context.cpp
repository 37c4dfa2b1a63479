// TLS contexts over OpenSSL 3: certificates and keys from PEM in memory.
#include "real/tls/tls_context.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <fstream>
#include <sstream>

namespace mailsim::tls {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

BioPtr memory_bio(std::string_view pem) {
  // BIO_new_mem_buf does not copy: the BIO must not outlive `pem`.
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

[[noreturn]] void fail(const std::string& what) {
  const std::string reason = take_openssl_errors();
  throw TlsError(reason.empty() ? what : what + ": " + reason);
}

std::shared_ptr<SSL_CTX> new_context(const SSL_METHOD* method) {
  SSL_CTX* raw = SSL_CTX_new(method);
  if (raw == nullptr) fail("cannot create SSL_CTX");
  std::shared_ptr<SSL_CTX> ctx(raw, SSL_CTX_free);
  if (SSL_CTX_set_min_proto_version(raw, TLS1_2_VERSION) != 1) fail("cannot set minimum TLS version");
  // No session resumption in mailsim: skipping TLS 1.3 tickets keeps the
  // wire (and the eavesdropper's view) to the handshake a student can follow.
  SSL_CTX_set_num_tickets(raw, 0);
  SSL_CTX_set_session_cache_mode(raw, SSL_SESS_CACHE_OFF);
  // Memory BIOs never block, but a write may still be split; let SSL_write
  // report partial progress instead of insisting on the same buffer.
  SSL_CTX_set_mode(raw, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  return ctx;
}

}  // namespace

std::string take_openssl_errors() {
  std::string out;
  unsigned long e = 0;
  while ((e = ERR_get_error()) != 0) {
    const char* reason = ERR_reason_error_string(e);
    std::string text;
    if (reason != nullptr) {
      text = reason;
    } else {
      char buf[256];
      ERR_error_string_n(e, buf, sizeof buf);
      text = buf;
    }
    // Most specific (last pushed) first: prepend.
    out = out.empty() ? text : text + "; " + out;
  }
  return out;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw TlsError("cannot read " + path.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TlsContext TlsContext::server(std::string_view cert_chain_pem, std::string_view key_pem) {
  ERR_clear_error();
  auto ctx = new_context(TLS_server_method());

  BioPtr certs = memory_bio(cert_chain_pem);
  X509* leaf = PEM_read_bio_X509(certs.get(), nullptr, nullptr, nullptr);
  if (leaf == nullptr) fail("server certificate PEM is not readable");
  const int used = SSL_CTX_use_certificate(ctx.get(), leaf);
  X509_free(leaf);
  if (used != 1) fail("server certificate refused");
  // Any further certificates are the chain sent after the leaf.
  while (X509* extra = PEM_read_bio_X509(certs.get(), nullptr, nullptr, nullptr)) {
    if (SSL_CTX_add0_chain_cert(ctx.get(), extra) != 1) {  // takes ownership on success
      X509_free(extra);
      fail("chain certificate refused");
    }
  }
  ERR_clear_error();  // the loop ends on a "no start line" error: that is the end of the file

  BioPtr key_bio = memory_bio(key_pem);
  EVP_PKEY* key = PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr);
  if (key == nullptr) fail("server private key PEM is not readable");
  const int key_used = SSL_CTX_use_PrivateKey(ctx.get(), key);
  EVP_PKEY_free(key);
  if (key_used != 1) fail("server private key refused");
  if (SSL_CTX_check_private_key(ctx.get()) != 1) fail("private key does not match the certificate");
  return TlsContext(std::move(ctx), TlsRole::kServer, PeerVerification::kNone);
}

TlsContext TlsContext::server_from_files(const std::filesystem::path& cert_chain_pem,
                                         const std::filesystem::path& key_pem) {
  return server(read_file(cert_chain_pem), read_file(key_pem));
}

TlsContext TlsContext::client(std::string_view ca_pem, PeerVerification verify) {
  ERR_clear_error();
  auto ctx = new_context(TLS_client_method());
  if (!ca_pem.empty()) {
    X509_STORE* store = SSL_CTX_get_cert_store(ctx.get());
    BioPtr bio = memory_bio(ca_pem);
    int added = 0;
    while (X509* ca = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
      const int ok = X509_STORE_add_cert(store, ca);  // the store takes its own reference
      X509_free(ca);
      if (ok != 1) fail("CA certificate refused");
      ++added;
    }
    ERR_clear_error();
    if (added == 0) throw TlsError("no certificate found in the CA PEM");
  } else if (verify == PeerVerification::kRequired) {
    throw TlsError("a verifying client context needs at least one CA certificate");
  }
  SSL_CTX_set_verify(ctx.get(),
                     verify == PeerVerification::kRequired ? SSL_VERIFY_PEER : SSL_VERIFY_NONE,
                     nullptr);
  return TlsContext(std::move(ctx), TlsRole::kClient, verify);
}

TlsContext TlsContext::client_from_file(const std::filesystem::path& ca_pem, PeerVerification verify) {
  return client(read_file(ca_pem), verify);
}

}  // namespace mailsim::tls
