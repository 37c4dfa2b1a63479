// DemoCa: key generation and X.509 building with OpenSSL 3 (EVP_PKEY, X509v3
// extensions per RFC 5280 §4.2), plus the on-disk layout `mailsim serve` uses.
#include "real/tls/demo_ca.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <ctime>

namespace mailsim::tls {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
struct X509Free {
  void operator()(X509* c) const { X509_free(c); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

[[noreturn]] void fail(const std::string& what) {
  const std::string reason = take_openssl_errors();
  throw TlsError(reason.empty() ? what : what + ": " + reason);
}

PkeyPtr generate_key(KeyType type) {
  EVP_PKEY* key = type == KeyType::kEd25519 ? EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")
                                            : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  if (key == nullptr) fail("key generation failed");
  return PkeyPtr(key);
}

// Ed25519 signs the message itself (no separate digest); ECDSA uses SHA-256.
const EVP_MD* digest_for(EVP_PKEY* signer) {
  return EVP_PKEY_get_id(signer) == EVP_PKEY_ED25519 ? nullptr : EVP_sha256();
}

std::string cert_to_pem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_X509(bio.get(), cert) != 1) fail("cannot encode certificate");
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

std::string key_to_pem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
    fail("cannot encode private key");
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

X509Ptr cert_from_pem(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

PkeyPtr key_from_pem(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return PkeyPtr(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

void add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX v3;
  X509V3_set_ctx(&v3, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value.c_str());
  if (ext == nullptr) fail("bad certificate extension '" + value + "'");
  const int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  if (ok != 1) fail("cannot add certificate extension");
}

// A positive 127-bit random serial (RFC 5280 §4.1.2.2: unique per issuer, at
// most 20 octets). The top bits are fixed so the encoding length never varies.
void set_random_serial(X509* cert) {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) fail("no randomness");
  bytes[0] = static_cast<unsigned char>((bytes[0] & 0x3f) | 0x40);
  BIGNUM* bn = BN_bin2bn(bytes.data(), static_cast<int>(bytes.size()), nullptr);
  if (bn == nullptr || BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) == nullptr) {
    BN_free(bn);
    fail("cannot set serial number");
  }
  BN_free(bn);
}

void set_name(X509_NAME* name, const std::string& organization, const std::string& common_name) {
  auto add = [&](const char* field, const std::string& value) {
    if (X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1,
                                   0) != 1)
      fail(std::string("cannot set ") + field);
  };
  if (!organization.empty()) add("O", organization);
  add("CN", common_name);
}

std::int64_t start_time(const DemoCaOptions& o) {
  return o.not_before ? *o.not_before : static_cast<std::int64_t>(std::time(nullptr)) - 86400;
}

void set_validity(X509* cert, std::int64_t not_before, int days) {
  const auto t = static_cast<time_t>(not_before);
  if (ASN1_TIME_set(X509_getm_notBefore(cert), t) == nullptr ||
      ASN1_TIME_adj(X509_getm_notAfter(cert), t, days, 0) == nullptr)
    fail("cannot set validity");
}

bool file_exists(const std::filesystem::path& p) {
  std::error_code ec;
  return std::filesystem::exists(p, ec);
}

// Writes `data` to `path` through a temporary file and rename(2), so a crash
// never leaves half a key behind; `mode` is applied from the start.
void write_file(const std::filesystem::path& path, const std::string& data, mode_t mode) {
  const std::string tmp = path.string() + ".tmp";
  ::unlink(tmp.c_str());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) throw TlsError("cannot create " + tmp + ": " + std::strerror(errno));
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      throw TlsError("cannot write " + tmp + ": " + std::strerror(err));
    }
    done += static_cast<std::size_t>(n);
  }
  ::fchmod(fd, mode);  // in case the umask trimmed it at creation
  ::fsync(fd);
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    throw TlsError("cannot rename " + tmp + ": " + std::strerror(errno));
}

void make_private_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  if (std::filesystem::create_directories(dir, ec)) {
    ::chmod(dir.c_str(), 0700);
  } else if (ec) {
    throw TlsError("cannot create " + dir.string() + ": " + ec.message());
  }
}

}  // namespace

void DemoCa::KeyFree::operator()(evp_pkey_st* k) const { EVP_PKEY_free(k); }
void DemoCa::CertFree::operator()(x509_st* c) const { X509_free(c); }

DemoCa::DemoCa(DemoCa&&) noexcept = default;
DemoCa& DemoCa::operator=(DemoCa&&) noexcept = default;
DemoCa::~DemoCa() = default;

DemoCa DemoCa::create(const DemoCaOptions& options) {
  ERR_clear_error();
  DemoCa ca;
  ca.options_ = options;
  PkeyPtr key = generate_key(options.key_type);
  X509Ptr cert(X509_new());
  if (!cert) fail("cannot allocate certificate");
  X509* x = cert.get();
  X509_set_version(x, X509_VERSION_3);
  set_random_serial(x);
  set_name(X509_get_subject_name(x), options.organization, options.common_name);
  set_name(X509_get_issuer_name(x), options.organization, options.common_name);
  set_validity(x, start_time(options), options.ca_days);
  if (X509_set_pubkey(x, key.get()) != 1) fail("cannot set public key");
  add_extension(x, x, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
  add_extension(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
  add_extension(x, x, NID_subject_key_identifier, "hash");
  add_extension(x, x, NID_authority_key_identifier, "keyid:always");
  if (X509_sign(x, key.get(), digest_for(key.get())) <= 0) fail("cannot sign CA certificate");
  ca.ca_cert_pem_ = cert_to_pem(x);
  ca.key_.reset(key.release());
  ca.cert_.reset(cert.release());
  return ca;
}

DemoCa DemoCa::load_or_create(const std::filesystem::path& dir, const DemoCaOptions& options) {
  const auto cert_path = dir / "ca.pem";
  const auto key_path = dir / "ca.key";
  const bool have_cert = file_exists(cert_path);
  const bool have_key = file_exists(key_path);
  if (!have_cert && !have_key) {
    make_private_dir(dir);
    DemoCa ca = create(options);
    write_file(key_path, key_to_pem(ca.key_.get()), 0600);
    write_file(cert_path, ca.ca_cert_pem_, 0644);
    return ca;
  }
  if (have_cert != have_key)
    throw TlsError("found " + (have_cert ? cert_path : key_path).string() + " without " +
                   (have_cert ? key_path : cert_path).string() +
                   "; remove it to let mailsim create a new demo CA");
  ERR_clear_error();
  DemoCa ca;
  ca.options_ = options;
  ca.ca_cert_pem_ = read_file(cert_path);
  X509Ptr cert = cert_from_pem(ca.ca_cert_pem_);
  if (!cert) fail(cert_path.string() + " is not a PEM certificate");
  PkeyPtr key = key_from_pem(read_file(key_path));
  if (!key) fail(key_path.string() + " is not a PEM private key");
  if (X509_check_private_key(cert.get(), key.get()) != 1)
    fail(key_path.string() + " does not belong to " + cert_path.string());
  if (X509_cmp_current_time(X509_get0_notAfter(cert.get())) <= 0)
    throw TlsError(cert_path.string() + " has expired; remove " + dir.string() +
                   " to let mailsim create a new demo CA");
  // Leaves keep the CA's key family, so the directory stays consistent.
  ca.options_.key_type =
      EVP_PKEY_get_id(key.get()) == EVP_PKEY_ED25519 ? KeyType::kEd25519 : KeyType::kEcdsaP256;
  ca.key_.reset(key.release());
  ca.cert_.reset(cert.release());
  return ca;
}

IssuedCertificate DemoCa::issue(const std::vector<std::string>& dns_names,
                                const std::vector<std::string>& ips) const {
  if (dns_names.empty() && ips.empty()) throw TlsError("a certificate needs a name or an address");
  std::string san;
  for (const auto& n : dns_names) {
    if (n.empty() || n.find_first_of(", \t\r\n") != std::string::npos)
      throw TlsError("invalid DNS name for a certificate: '" + n + "'");
    san += (san.empty() ? "DNS:" : ",DNS:") + n;
  }
  for (const auto& ip : ips) {
    if (ip.empty() || ip.find_first_of(", \t\r\n") != std::string::npos)
      throw TlsError("invalid IP address for a certificate: '" + ip + "'");
    san += (san.empty() ? "IP:" : ",IP:") + ip;
  }

  ERR_clear_error();
  PkeyPtr key = generate_key(options_.key_type);
  X509Ptr cert(X509_new());
  if (!cert) fail("cannot allocate certificate");
  X509* x = cert.get();
  X509_set_version(x, X509_VERSION_3);
  set_random_serial(x);
  set_name(X509_get_subject_name(x), "mailsim demo", dns_names.empty() ? ips.front() : dns_names.front());
  if (X509_set_issuer_name(x, X509_get_subject_name(cert_.get())) != 1) fail("cannot set issuer");
  set_validity(x, start_time(options_), options_.host_days);
  if (X509_set_pubkey(x, key.get()) != 1) fail("cannot set public key");
  add_extension(x, cert_.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_extension(x, cert_.get(), NID_key_usage, "critical,digitalSignature");
  add_extension(x, cert_.get(), NID_ext_key_usage, "serverAuth");
  add_extension(x, cert_.get(), NID_subject_key_identifier, "hash");
  add_extension(x, cert_.get(), NID_authority_key_identifier, "keyid:always");
  add_extension(x, cert_.get(), NID_subject_alt_name, san);
  if (X509_sign(x, key_.get(), digest_for(key_.get())) <= 0) fail("cannot sign host certificate");
  return IssuedCertificate{cert_to_pem(x), key_to_pem(key.get())};
}

IssuedCertificate DemoCa::load_or_issue(const std::filesystem::path& dir, const std::string& file_stem,
                                        const std::vector<std::string>& dns_names,
                                        const std::vector<std::string>& ips) const {
  if (file_stem.empty() || file_stem.find('/') != std::string::npos || file_stem == "ca" ||
      file_stem.front() == '.')
    throw TlsError("unusable certificate file name '" + file_stem + "'");
  const auto cert_path = dir / (file_stem + ".pem");
  const auto key_path = dir / (file_stem + ".key");
  if (file_exists(cert_path) && file_exists(key_path)) {
    IssuedCertificate found{read_file(cert_path), read_file(key_path)};
    X509Ptr cert = cert_from_pem(found.cert_pem);
    PkeyPtr key = key_from_pem(found.key_pem);
    const bool pair = cert && key && X509_check_private_key(cert.get(), key.get()) == 1;
    ERR_clear_error();
    if (pair && certificate_covers(found.cert_pem, ca_cert_pem_, dns_names, ips, 30)) return found;
  }
  make_private_dir(dir);
  IssuedCertificate fresh = issue(dns_names, ips);
  write_file(key_path, fresh.key_pem, 0600);
  write_file(cert_path, fresh.cert_pem, 0644);
  return fresh;
}

TlsContext DemoCa::server_context(const std::vector<std::string>& dns_names,
                                  const std::vector<std::string>& ips) const {
  const IssuedCertificate c = issue(dns_names, ips);
  return TlsContext::server(c.cert_pem, c.key_pem);
}

TlsContext DemoCa::client_context(PeerVerification verify) const {
  return TlsContext::client(ca_cert_pem_, verify);
}

bool certificate_covers(const std::string& cert_pem, const std::string& ca_pem,
                        const std::vector<std::string>& dns_names,
                        const std::vector<std::string>& ips, int min_days_left) {
  X509Ptr cert = cert_from_pem(cert_pem);
  X509Ptr ca = cert_from_pem(ca_pem);
  bool ok = cert && ca && X509_check_issued(ca.get(), cert.get()) == X509_V_OK &&
            X509_verify(cert.get(), X509_get0_pubkey(ca.get())) == 1 &&
            X509_cmp_current_time(X509_get0_notBefore(cert.get())) < 0;
  if (ok) {
    time_t horizon = std::time(nullptr) + static_cast<time_t>(min_days_left) * 86400;
    ok = X509_cmp_time(X509_get0_notAfter(cert.get()), &horizon) > 0;
  }
  for (const auto& n : dns_names)
    ok = ok && X509_check_host(cert.get(), n.data(), n.size(), X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS,
                               nullptr) == 1;
  for (const auto& ip : ips) ok = ok && X509_check_ip_asc(cert.get(), ip.c_str(), 0) == 1;
  ERR_clear_error();
  return ok;
}

}  // namespace mailsim::tls
