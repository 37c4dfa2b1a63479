// Tests for real/tls/tls_context.h: building contexts from PEM, and refusing
// what cannot work with a reason a person can act on.
#include "real/tls/tls_context.h"

#include "tests/unit/tls/tls_test_util.h"

#include <catch2/catch.hpp>

using namespace mailsim::tls;
using mailsim::tls::testing::shared_ca;

TEST_CASE("a server context is built from a certificate and its key") {
  const auto cert = shared_ca().issue({"smtp.alpha.example"});
  const TlsContext ctx = TlsContext::server(cert.cert_pem, cert.key_pem);
  CHECK(ctx.role() == TlsRole::kServer);
  CHECK(ctx.native() != nullptr);
  // The chain form (leaf then CA) is accepted too.
  CHECK_NOTHROW(TlsContext::server(cert.cert_pem + shared_ca().ca_cert_pem(), cert.key_pem));
}

TEST_CASE("a key that does not belong to the certificate is refused") {
  const auto a = shared_ca().issue({"a.example"});
  const auto b = shared_ca().issue({"b.example"});
  try {
    (void)TlsContext::server(a.cert_pem, b.key_pem);
    FAIL("mismatched key accepted");
  } catch (const TlsError& e) {
    INFO(e.what());
    CHECK(std::string(e.what()).find("key values mismatch") != std::string::npos);
  }
}

TEST_CASE("garbage PEM is refused with OpenSSL's reason") {
  try {
    (void)TlsContext::server("not a certificate", "not a key");
    FAIL("garbage accepted");
  } catch (const TlsError& e) {
    const std::string what = e.what();
    CHECK(what.find("server certificate PEM is not readable") != std::string::npos);
    CHECK(what.find("no start line") != std::string::npos);
  }
  CHECK_THROWS_AS(TlsContext::client("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
                  TlsError);
}

TEST_CASE("a verifying client context needs a CA, a non-verifying one does not") {
  CHECK_THROWS_AS(TlsContext::client(""), TlsError);
  const TlsContext relaxed = TlsContext::client("", PeerVerification::kNone);
  CHECK(relaxed.role() == TlsRole::kClient);
  CHECK_FALSE(relaxed.verifies_peer());
  CHECK(TlsContext::client(shared_ca().ca_cert_pem()).verifies_peer());
}

TEST_CASE("a missing file is named in the error") {
  try {
    (void)TlsContext::client_from_file("/nonexistent/mailsim/ca.pem");
    FAIL("missing file accepted");
  } catch (const TlsError& e) {
    CHECK(std::string(e.what()).find("/nonexistent/mailsim/ca.pem") != std::string::npos);
  }
}
