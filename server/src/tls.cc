#include "tls.h"

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>

#include "crypto.h"

namespace veil::server {
namespace {

struct PkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct X509Deleter {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct ExtensionDeleter {
  void operator()(X509_EXTENSION* ext) const { X509_EXTENSION_free(ext); }
};
struct BnDeleter {
  void operator()(BIGNUM* bn) const { BN_free(bn); }
};
struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};

void Require(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("self-signed certificate: ") + what + " failed");
}

std::string SubjectAltName(const std::vector<std::string>& hosts) {
  std::string san;
  for (const std::string& host : hosts) {
    unsigned char buffer[16];
    const bool is_ip = inet_pton(AF_INET, host.c_str(), buffer) == 1 ||
                       inet_pton(AF_INET6, host.c_str(), buffer) == 1;
    if (!san.empty()) san += ",";
    san += (is_ip ? "IP:" : "DNS:") + host;
  }
  return san;
}

void WritePem(const std::string& path, mode_t mode, bool key, EVP_PKEY* pkey, X509* cert) {
  const std::string temp = path + ".tmp";
  {
    const std::unique_ptr<std::FILE, FileCloser> file(std::fopen(temp.c_str(), "wx"));
    Require(file != nullptr, "creating the PEM file");
    Require(chmod(temp.c_str(), mode) == 0, "chmod");
    Require(key ? PEM_write_PrivateKey(file.get(), pkey, nullptr, nullptr, 0, nullptr, nullptr) == 1
                : PEM_write_X509(file.get(), cert) == 1,
            "PEM write");
  }
  std::filesystem::rename(temp, path);
}

}  // namespace

TlsFiles EnsureSelfSignedCertificate(const std::string& dir,
                                     const std::vector<std::string>& hosts) {
  std::filesystem::create_directories(dir);
  const TlsFiles files{dir + "/server.crt", dir + "/server.key"};
  if (std::filesystem::exists(files.certificate_path) &&
      std::filesystem::exists(files.private_key_path)) {
    return files;
  }
  std::filesystem::remove(files.certificate_path);
  std::filesystem::remove(files.private_key_path);
  std::filesystem::remove(files.certificate_path + ".tmp");
  std::filesystem::remove(files.private_key_path + ".tmp");

  const std::unique_ptr<EVP_PKEY, PkeyDeleter> key(EVP_EC_gen("P-256"));
  Require(key != nullptr, "EC key generation");
  const std::unique_ptr<X509, X509Deleter> cert(X509_new());
  Require(cert != nullptr, "X509_new");
  Require(X509_set_version(cert.get(), 2) == 1, "set version");
  const std::string serial_bytes = RandomBytes(16);
  const std::unique_ptr<BIGNUM, BnDeleter> serial(
      BN_bin2bn(reinterpret_cast<const unsigned char*>(serial_bytes.data()), 15, nullptr));
  Require(serial && BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())), "serial");
  Require(X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60) != nullptr, "notBefore");
  Require(X509_gmtime_adj(X509_getm_notAfter(cert.get()), 90L * 24 * 3600) != nullptr, "notAfter");
  Require(X509_set_pubkey(cert.get(), key.get()) == 1, "set public key");
  X509_NAME* name = X509_get_subject_name(cert.get());
  Require(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                     reinterpret_cast<const unsigned char*>("veil-server demo"), -1,
                                     -1, 0) == 1,
          "subject");
  Require(X509_set_issuer_name(cert.get(), name) == 1, "issuer");

  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  const std::string san = SubjectAltName(hosts);
  for (const auto& [nid, value] : {std::pair<int, std::string>{NID_subject_alt_name, san},
                                   {NID_basic_constraints, "critical,CA:FALSE"},
                                   {NID_key_usage, "critical,digitalSignature"},
                                   {NID_ext_key_usage, "serverAuth"}}) {
    if (value.empty()) continue;
    const std::unique_ptr<X509_EXTENSION, ExtensionDeleter> ext(
        X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
    Require(ext && X509_add_ext(cert.get(), ext.get(), -1) == 1, "extension");
  }
  Require(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0, "signing");

  WritePem(files.private_key_path, 0600, true, key.get(), nullptr);
  WritePem(files.certificate_path, 0644, false, nullptr, cert.get());
  return files;
}

}  // namespace veil::server
