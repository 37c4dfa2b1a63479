// A demo certificate authority made at run time (RFC 5280 profile): a CA key
// and self-signed certificate, and host certificates with subjectAltName DNS
// names and IP addresses. No private key ever lives in the repository.
//
// Two uses:
//   * the simulator: DemoCa::create() in memory, one CA per run, host
//     certificates issued per simulated server;
//   * `mailsim serve`: DemoCa::load_or_create(<data>/tls) keeps ca.pem /
//     ca.key and <host>.pem / <host>.key on disk (keys mode 0600) and reuses
//     them, so `curl --cacert ca.pem`, Python's ssl and `swaks --tls-ca-path`
//     verify the servers against ca.pem.
#pragma once

#include "real/tls/tls_context.h"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

struct evp_pkey_st;
struct x509_st;

namespace mailsim::tls {

enum class KeyType {
  // Understood by every TLS client (Thunderbird, Outlook, phones). Its
  // signatures are randomised and vary in length by a byte or two.
  kEcdsaP256,
  // Deterministic, fixed-size signatures: certificates and handshakes keep the
  // same byte counts run after run, which suits the simulator's replayable
  // timing. OpenSSL-based clients (Python, curl, swaks) accept it; some GUI
  // mail clients do not.
  kEd25519,
};

struct DemoCaOptions {
  KeyType key_type = KeyType::kEcdsaP256;
  std::string organization = "mailsim demo CA";
  std::string common_name = "mailsim demo root CA";
  // Start of validity, seconds since the epoch. Unset: one day before the
  // wall clock now (tolerates clocks a little behind). Note that peers check
  // validity against their real clock, not the simulator's virtual one.
  std::optional<std::int64_t> not_before;
  int ca_days = 3650;
  int host_days = 397;  // within the 398-day limit Apple/Mozilla apply
};

// A host certificate and its key, PEM encoded.
struct IssuedCertificate {
  std::string cert_pem;  // the leaf only; the CA is the client's trust anchor
  std::string key_pem;   // PKCS#8
};

class DemoCa {
 public:
  // A fresh CA in memory. Throws TlsError.
  static DemoCa create(const DemoCaOptions& options = {});

  // `dir`/ca.pem and `dir`/ca.key: loaded when both exist (the key must match
  // the certificate), otherwise created (directory mode 0700, key 0600).
  // Throws TlsError naming the file when something present is unusable.
  static DemoCa load_or_create(const std::filesystem::path& dir,
                               const DemoCaOptions& options = {});

  DemoCa(DemoCa&&) noexcept;
  DemoCa& operator=(DemoCa&&) noexcept;
  ~DemoCa();

  // The CA certificate a client trusts.
  const std::string& ca_cert_pem() const { return ca_cert_pem_; }

  // A server certificate for `dns_names` (the first is also the subject CN)
  // and `ips` (IPv4 or IPv6 literals, e.g. "127.0.0.1"). Needs at least one
  // name or address. Throws TlsError.
  IssuedCertificate issue(const std::vector<std::string>& dns_names,
                          const std::vector<std::string>& ips = {}) const;

  // `dir`/<file_stem>.pem and .key: reused when present, signed by this CA,
  // valid for at least another 30 days and covering every requested name and
  // address; otherwise issued and written (key mode 0600).
  IssuedCertificate load_or_issue(const std::filesystem::path& dir, const std::string& file_stem,
                                  const std::vector<std::string>& dns_names,
                                  const std::vector<std::string>& ips = {}) const;

  // Convenience for hosts: a server context presenting issue(...)'s result,
  // and a client context that verifies against this CA.
  TlsContext server_context(const std::vector<std::string>& dns_names,
                            const std::vector<std::string>& ips = {}) const;
  TlsContext client_context(PeerVerification verify = PeerVerification::kRequired) const;

 private:
  struct KeyFree {
    void operator()(evp_pkey_st* k) const;
  };
  struct CertFree {
    void operator()(x509_st* c) const;
  };
  DemoCa() = default;

  DemoCaOptions options_;
  std::unique_ptr<evp_pkey_st, KeyFree> key_;
  std::unique_ptr<x509_st, CertFree> cert_;
  std::string ca_cert_pem_;
};

// Whether `cert_pem` was issued by the CA in `ca_pem`, is valid now and for
// at least `min_days_left` more days, and lists every name in `dns_names` and
// every address in `ips` in its subjectAltName. For reuse decisions and tests.
bool certificate_covers(const std::string& cert_pem, const std::string& ca_pem,
                        const std::vector<std::string>& dns_names,
                        const std::vector<std::string>& ips, int min_days_left = 0);

}  // namespace mailsim::tls
