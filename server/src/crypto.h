// Small, dependency-light wrappers over OpenSSL used for tokens and derived secrets.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace veil::server {

// HMAC-SHA256(key, message) as 32 raw bytes.
std::string HmacSha256(std::string_view key, std::string_view message);

// Constant-time equality (length is not secret).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// `byte_count` bytes from the OS CSPRNG, lower-case hex encoded. Throws on RNG failure.
std::string RandomHex(std::size_t byte_count);

std::string HexEncode(std::string_view bytes);

// `byte_count` raw bytes from the OS CSPRNG. Throws on RNG failure.
std::string RandomBytes(std::size_t byte_count);

// SHA-256 of `data`, lower-case hex (how invites, refresh tokens and sessions are stored).
std::string Sha256Hex(std::string_view data);

// HMAC-SHA1(key, message) as raw bytes (coturn's use-auth-secret scheme needs SHA-1).
std::string HmacSha1(std::string_view key, std::string_view message);

// RFC 4648 §4 base64 with padding.
std::string Base64Encode(std::string_view bytes);

// RFC 4648 §5 base64url without padding.
std::string Base64UrlEncode(std::string_view bytes);
// Strict decoder: rejects padding, characters outside the alphabet and non-zero trailing bits.
std::optional<std::string> Base64UrlDecode(std::string_view text);

}  // namespace veil::server
