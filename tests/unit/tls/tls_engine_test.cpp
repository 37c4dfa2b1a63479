// Tests for real/tls/tls_engine.h: two sans-io endpoints talking through memory.
#include "real/tls/tls_engine.h"

#include "tests/unit/tls/tls_test_util.h"

#include <openssl/ssl.h>

#include <catch2/catch.hpp>

using namespace mailsim::tls;
using mailsim::tls::testing::shared_ca;
using mailsim::tls::testing::shuttle;

namespace {

TlsContext mx_server() {
  static const TlsContext ctx = shared_ca().server_context({"mx.beta.example"}, {"127.0.0.1"});
  return ctx;
}

}  // namespace

TEST_CASE("a verifying client and a server complete a TLS 1.3 handshake in any chunking") {
  const std::size_t chunk = GENERATE(std::size_t{1}, std::size_t{7}, std::size_t{100}, std::size_t{1} << 20);
  auto client = TlsEngine::client(shared_ca().client_context(), "mx.beta.example");
  auto server = TlsEngine::server(mx_server());
  CHECK_FALSE(client.handshake_done());
  CHECK(client.pending_ciphertext() > 0);  // the ClientHello is ready at once

  shuttle(client, server, chunk);
  REQUIRE(client.handshake_done());
  REQUIRE(server.handshake_done());
  CHECK_FALSE(client.failed());
  CHECK(client.version() == "TLSv1.3");
  CHECK(server.version() == "TLSv1.3");
  CHECK(client.cipher() == server.cipher());
  CHECK(client.cipher().rfind("TLS_", 0) == 0);
  CHECK(client.peer_subject().find("CN=mx.beta.example") != std::string::npos);
  CHECK(server.peer_subject().empty());

  client.write_plaintext("EHLO alpha.example\r\n");
  server.write_plaintext("250 mx.beta.example\r\n");
  shuttle(client, server, chunk);
  CHECK(server.take_plaintext() == "EHLO alpha.example\r\n");
  CHECK(client.take_plaintext() == "250 mx.beta.example\r\n");
  CHECK(server.take_plaintext().empty());
}

TEST_CASE("the eavesdropper sees ciphertext only") {
  auto client = TlsEngine::client(shared_ca().client_context(), "mx.beta.example");
  auto server = TlsEngine::server(mx_server());
  // Written before the handshake: kept and sent once it is done.
  const std::string secret = "AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n";
  client.write_plaintext(secret);
  const auto wire = shuttle(client, server);
  CHECK(server.take_plaintext() == secret);
  CHECK(wire.client_to_server.find("AGFsaWNl") == std::string::npos);
  CHECK(wire.client_to_server.find("AUTH") == std::string::npos);
  // SNI travels in the clear in the ClientHello: the eavesdropper does learn
  // which server the client asked for.
  CHECK(wire.client_to_server.find("mx.beta.example") != std::string::npos);
}

TEST_CASE("a wrong host name fails verification on the client and the server hears the alert") {
  auto client = TlsEngine::client(shared_ca().client_context(), "mail.gamma.example");
  auto server = TlsEngine::server(mx_server());
  shuttle(client, server);
  REQUIRE(client.failed());
  CHECK_FALSE(client.handshake_done());
  CHECK(client.error().find("certificate verify failed") != std::string::npos);
  CHECK(client.error().find("hostname mismatch") != std::string::npos);
  CHECK(server.failed());
  CHECK(server.error().find("alert") != std::string::npos);
  // Nothing written after the failure leaves the engine.
  client.write_plaintext("MAIL FROM:<a@b>\r\n");
  CHECK(client.take_ciphertext().empty());
}

TEST_CASE("a client that does not trust the CA refuses the server") {
  const DemoCa other = DemoCa::create();
  auto client = TlsEngine::client(other.client_context(), "mx.beta.example");
  auto server = TlsEngine::server(mx_server());
  shuttle(client, server);
  REQUIRE(client.failed());
  CHECK(client.error().find("unable to get local issuer certificate") != std::string::npos);
  CHECK(server.error().find("unknown ca") != std::string::npos);
}

TEST_CASE("opportunistic TLS without verification still encrypts") {
  const DemoCa other = DemoCa::create();
  auto client = TlsEngine::client(other.client_context(PeerVerification::kNone), "whatever.example");
  auto server = TlsEngine::server(mx_server());
  shuttle(client, server);
  CHECK(client.handshake_done());
  CHECK(server.handshake_done());
}

TEST_CASE("an IP literal is checked against the certificate's IP addresses") {
  SECTION("127.0.0.1 is in the certificate") {
    auto client = TlsEngine::client(shared_ca().client_context(), "127.0.0.1");
    auto server = TlsEngine::server(mx_server());
    const auto wire = shuttle(client, server);
    CHECK(client.handshake_done());
    CHECK(wire.client_to_server.find("127.0.0.1") == std::string::npos);  // no SNI for IPs
  }
  SECTION("127.0.0.2 is not") {
    auto client = TlsEngine::client(shared_ca().client_context(), "127.0.0.2");
    auto server = TlsEngine::server(mx_server());
    shuttle(client, server);
    CHECK(client.failed());
    CHECK(client.error().find("IP address mismatch") != std::string::npos);
  }
}

TEST_CASE("TLS 1.2 is accepted, older versions are not") {
  SECTION("a TLS 1.2-only client") {
    TlsContext ctx = shared_ca().client_context();
    auto client_ctx = shared_ca().client_context();
    SSL_CTX_set_max_proto_version(client_ctx.native(), TLS1_2_VERSION);
    auto client = TlsEngine::client(client_ctx, "mx.beta.example");
    auto server = TlsEngine::server(mx_server());
    shuttle(client, server, 3);
    REQUIRE(client.handshake_done());
    CHECK(server.version() == "TLSv1.2");
    client.write_plaintext("hello over 1.2");
    shuttle(client, server, 3);
    CHECK(server.take_plaintext() == "hello over 1.2");
  }
  SECTION("a TLS 1.1-only client is refused") {
    auto client_ctx = shared_ca().client_context();
    SSL_CTX_set_min_proto_version(client_ctx.native(), 0);
    SSL_CTX_set_max_proto_version(client_ctx.native(), TLS1_1_VERSION);
    auto client = TlsEngine::client(client_ctx, "mx.beta.example");
    auto server = TlsEngine::server(mx_server());
    shuttle(client, server);
    CHECK(client.failed());
    CHECK(server.failed());
    CHECK_FALSE(server.handshake_done());
  }
}

TEST_CASE("plaintext SMTP sent to a TLS server fails the handshake with OpenSSL's reason") {
  auto server = TlsEngine::server(mx_server());
  server.feed_ciphertext("EHLO alpha.example\r\n");
  CHECK(server.failed());
  CHECK_FALSE(server.error().empty());
  const std::string first_error = server.error();
  server.feed_ciphertext("more bytes");  // sticky: nothing changes
  CHECK(server.error() == first_error);
}

TEST_CASE("close_notify is sent and recognised") {
  auto client = TlsEngine::client(shared_ca().client_context(), "mx.beta.example");
  auto server = TlsEngine::server(mx_server());
  shuttle(client, server);
  server.write_plaintext("221 Bye\r\n");
  server.close();
  CHECK(server.close_sent());
  server.write_plaintext("ignored after close");
  shuttle(client, server, 1);
  CHECK(client.take_plaintext() == "221 Bye\r\n");
  CHECK(client.close_received());
  CHECK_FALSE(client.failed());
  client.close();
  shuttle(client, server);
  CHECK(server.close_received());
}

TEST_CASE("Ed25519 certificates work for the simulator's fixed-size handshakes") {
  DemoCaOptions o;
  o.key_type = KeyType::kEd25519;
  const DemoCa ca = DemoCa::create(o);
  const TlsContext server_ctx = ca.server_context({"imap.beta.example"});
  std::size_t first_size = 0;
  for (int run = 0; run < 3; ++run) {
    auto client = TlsEngine::client(ca.client_context(), "imap.beta.example");
    auto server = TlsEngine::server(server_ctx);
    const auto wire = shuttle(client, server);
    REQUIRE(client.handshake_done());
    const std::size_t size = wire.client_to_server.size() + wire.server_to_client.size();
    if (run == 0) first_size = size;
    CHECK(size == first_size);
  }
}

TEST_CASE("engines refuse a context of the wrong role") {
  CHECK_THROWS_AS(TlsEngine::server(shared_ca().client_context()), TlsError);
  CHECK_THROWS_AS(TlsEngine::client(mx_server(), "mx.beta.example"), TlsError);
}
