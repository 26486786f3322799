// TLS material for veil-server: real certificate/key files by configuration, or for the demo a
// self-signed certificate generated on first run (OpenSSL API) and reused afterwards.
#pragma once

#include <string>
#include <vector>

namespace veil::server {

struct TlsFiles {
  std::string certificate_path;
  std::string private_key_path;
};

// Returns `dir`/server.crt and `dir`/server.key, creating both (ECDSA P-256, SHA-256, 90 days,
// subjectAltName = `hosts`: IP addresses or DNS names) if either is missing. The key file is
// written with mode 0600. Throws std::runtime_error on failure.
TlsFiles EnsureSelfSignedCertificate(const std::string& dir, const std::vector<std::string>& hosts);

}  // namespace veil::server
