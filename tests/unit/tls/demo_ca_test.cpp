// Tests for real/tls/demo_ca.h: certificates issued at run time, and the
// directory `mailsim serve` keeps them in.
#include "real/tls/demo_ca.h"

#include "tests/unit/tls/tls_test_util.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace mailsim::tls;
using mailsim::tls::testing::shared_ca;
namespace fs = std::filesystem;

namespace {

// A fresh directory under the system temp dir, removed afterwards.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string templ = (fs::temp_directory_path() / "mailsim-tls-XXXXXX").string();
    REQUIRE(::mkdtemp(templ.data()) != nullptr);
    path = templ;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

}  // namespace

TEST_CASE("issued certificates cover their names and addresses and nothing else") {
  const auto cert = shared_ca().issue({"mx.beta.example", "beta.example"}, {"127.0.0.1", "::1"});
  const auto& ca = shared_ca().ca_cert_pem();
  CHECK(cert.cert_pem.rfind("-----BEGIN CERTIFICATE-----", 0) == 0);
  CHECK(cert.key_pem.rfind("-----BEGIN PRIVATE KEY-----", 0) == 0);
  CHECK(certificate_covers(cert.cert_pem, ca, {"mx.beta.example", "beta.example"}, {"127.0.0.1", "::1"}, 300));
  CHECK_FALSE(certificate_covers(cert.cert_pem, ca, {"mx.gamma.example"}, {}));
  CHECK_FALSE(certificate_covers(cert.cert_pem, ca, {}, {"10.0.0.1"}));
  CHECK_FALSE(certificate_covers(cert.cert_pem, ca, {"mx.beta.example"}, {}, 400));  // 397-day life
  const DemoCa other = DemoCa::create();
  CHECK_FALSE(certificate_covers(cert.cert_pem, other.ca_cert_pem(), {"mx.beta.example"}, {}));
}

TEST_CASE("issue refuses a certificate with no names and names that would corrupt the SAN") {
  CHECK_THROWS_AS(shared_ca().issue({}, {}), TlsError);
  CHECK_THROWS_AS(shared_ca().issue({"a.example,DNS:evil.example"}), TlsError);
  CHECK_THROWS_AS(shared_ca().issue({}, {"not-an-ip"}), TlsError);
}

TEST_CASE("a fixed start of validity is honoured") {
  DemoCaOptions o;
  o.not_before = 1'700'000'000;  // 2023-11-14
  o.host_days = 1;
  const DemoCa ca = DemoCa::create(o);
  const auto cert = ca.issue({"old.example"});
  // Expired long ago on any real clock: the verifier must say so.
  CHECK_FALSE(certificate_covers(cert.cert_pem, ca.ca_cert_pem(), {"old.example"}, {}));
}

TEST_CASE("load_or_create makes the serve directory once and reuses it") {
  TempDir tmp;
  const fs::path dir = tmp.path / "tls";
  std::string first_ca;
  std::string first_host;
  {
    const DemoCa ca = DemoCa::load_or_create(dir);
    first_ca = ca.ca_cert_pem();
    first_host = ca.load_or_issue(dir, "localhost", {"localhost"}, {"127.0.0.1"}).cert_pem;
  }
  CHECK(fs::exists(dir / "ca.pem"));
  CHECK(mode_of(dir) == 0700);
  CHECK(mode_of(dir / "ca.key") == 0600);
  CHECK(mode_of(dir / "localhost.key") == 0600);
  CHECK(mode_of(dir / "localhost.pem") == 0644);
  CHECK(read_file(dir / "ca.pem") == first_ca);

  // Second start: same CA, same host certificate.
  const DemoCa again = DemoCa::load_or_create(dir);
  CHECK(again.ca_cert_pem() == first_ca);
  CHECK(again.load_or_issue(dir, "localhost", {"localhost"}, {"127.0.0.1"}).cert_pem == first_host);
  // Asking for a name the certificate lacks issues a new one.
  const auto wider = again.load_or_issue(dir, "localhost", {"localhost", "mail.localhost"}, {"127.0.0.1"});
  CHECK(wider.cert_pem != first_host);
  CHECK(read_file(dir / "localhost.pem") == wider.cert_pem);

  // The files work for a TLS connection, as `mailsim serve` would use them.
  auto client = TlsEngine::client(TlsContext::client_from_file(dir / "ca.pem"), "mail.localhost");
  auto server = TlsEngine::server(TlsContext::server_from_files(dir / "localhost.pem", dir / "localhost.key"));
  mailsim::tls::testing::shuttle(client, server);
  CHECK(client.handshake_done());

  // And the openssl command-line verifier agrees (what curl --cacert does).
  const std::string cmd = "openssl verify -CAfile '" + (dir / "ca.pem").string() + "' '" +
                          (dir / "localhost.pem").string() + "' >/dev/null 2>&1";
  CHECK(std::system(cmd.c_str()) == 0);
}

TEST_CASE("load_or_create refuses a half-present or corrupt CA instead of overwriting it") {
  TempDir tmp;
  { std::ofstream(tmp.path / "ca.pem") << shared_ca().ca_cert_pem(); }
  CHECK_THROWS_WITH(DemoCa::load_or_create(tmp.path), Catch::Contains("without"));
  { std::ofstream(tmp.path / "ca.key") << "garbage"; }
  CHECK_THROWS_WITH(DemoCa::load_or_create(tmp.path), Catch::Contains("ca.key"));
  CHECK(read_file(tmp.path / "ca.pem") == shared_ca().ca_cert_pem());
}
