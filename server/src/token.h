// Veil access tokens: HS256 JWTs bound to one consultation and one role, valid ≤ 15 minutes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace veil::server {

enum class Role { kPatient, kViewer };

std::string_view RoleName(Role role);
std::optional<Role> ParseRole(std::string_view name);

// 1-64 characters of [A-Za-z0-9_-]: safe in URLs, logs and Janus requests.
bool IsValidConsultationId(std::string_view id);

inline constexpr std::int64_t kMaxTokenTtlSeconds = 15 * 60;
// Tolerated clock difference for `iat` in the future.
inline constexpr std::int64_t kClockSkewSeconds = 60;
inline constexpr std::string_view kTokenAudience = "veil";

struct TokenClaims {
  std::string consultation_id;
  Role role = Role::kViewer;
  std::string token_id;
  std::int64_t issued_at = 0;
  std::int64_t expires_at = 0;
};

enum class TokenError {
  kMalformed,     // not a JWT we issue: structure, header, JSON, claim types, audience, TTL
  kBadSignature,  // well-formed but not signed with our key
  kExpired,
  kNotYetValid,  // issued in the future beyond the allowed skew
};
std::string_view TokenErrorCode(TokenError error);  // stable code for API errors

struct TokenCheck {
  std::optional<TokenClaims> claims;
  TokenError error = TokenError::kMalformed;  // meaningful only when !claims
};

class TokenSigner {
 public:
  explicit TokenSigner(std::string signing_key);

  // Throws std::invalid_argument on a bad consultation id or a TTL outside 1..900 s.
  std::string Mint(std::string_view consultation_id, Role role, std::int64_t ttl_seconds,
                   std::int64_t now_seconds) const;

  TokenCheck Verify(std::string_view token, std::int64_t now_seconds) const;

 private:
  std::string Sign(std::string_view signing_input) const;

  const std::string signing_key_;
};

std::int64_t UnixNow();

}  // namespace veil::server
