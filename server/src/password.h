// Clinician password hashes: scrypt through OpenSSL 3's EVP_KDF (docs/security-design.md §3.1),
// stored as "$scrypt$ln=17,r=8,p=1$<b64 salt>$<b64 hash>" so parameters can be raised later.
#pragma once

#include <string>
#include <string_view>

namespace veil::server {

struct ScryptParams {
  int log2_n = 17;  // N = 2^17: 128 MiB with r = 8
  int r = 8;
  int p = 1;
};

// Throws std::runtime_error if OpenSSL cannot compute scrypt.
std::string HashPassword(std::string_view password, const ScryptParams& params = {});

// Constant-time comparison; false for a malformed stored hash.
bool VerifyPassword(std::string_view password, std::string_view stored);

// Whether `stored` uses weaker parameters than `params` (rehash at the next successful login).
bool NeedsRehash(std::string_view stored, const ScryptParams& params = {});

// ≥ 12 characters, ≤ 256, not equal to the user name; no composition rules.
bool IsAcceptablePassword(std::string_view password, std::string_view username);

}  // namespace veil::server
