// Veil access tokens: HS256 JWTs bound to one consultation, one participant (`sub`) and one role,
// valid ≤ 15 minutes. Claims as docs/security-design.md §5.2; signing keys are named by `kid` so
// they can be rotated without downtime (§12).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace veil::server {

enum class Role { kPatient, kClinician };

std::string_view RoleName(Role role);
// Token claim values: "patient" or "clinician" only.
std::optional<Role> ParseRole(std::string_view name);

// 1-64 characters of [A-Za-z0-9_-]: safe in URLs, logs and Janus requests. Also used for `sub`.
bool IsValidConsultationId(std::string_view id);

inline constexpr std::int64_t kMaxTokenTtlSeconds = 15 * 60;
inline constexpr std::int64_t kDefaultTokenTtlSeconds = 10 * 60;
// Tolerated clock difference for `iat` in the future.
inline constexpr std::int64_t kClockSkewSeconds = 60;
inline constexpr std::string_view kTokenAudience = "veil";
// Issuer of tokens printed by `veil-server mint-token` / `--demo-consultation`: accepted only for
// the demo consultation, which bypasses invites and the waiting room.
inline constexpr std::string_view kDemoIssuer = "veil-demo";

struct TokenClaims {
  std::string issuer;
  std::string consultation_id;
  std::string subject;  // participant id (patient) or "acct-<id>" (clinician)
  Role role = Role::kPatient;
  std::string token_id;
  std::int64_t issued_at = 0;
  std::int64_t expires_at = 0;
};

enum class TokenError {
  kMalformed,     // not a JWT we issue: structure, header, JSON, claim types, audience, TTL
  kBadSignature,  // well-formed but not signed with one of our keys (or unknown kid)
  kExpired,
  kNotYetValid,  // issued in the future beyond the allowed skew
};
std::string_view TokenErrorCode(TokenError error);    // stable code for API errors
std::string_view TokenErrorReason(TokenError error);  // audit reason code

struct TokenCheck {
  std::optional<TokenClaims> claims;
  TokenError error = TokenError::kMalformed;  // meaningful only when !claims
};

struct MintRequest {
  std::string issuer;
  std::string consultation_id;
  std::string subject;
  Role role = Role::kPatient;
  std::int64_t ttl_seconds = kDefaultTokenTtlSeconds;
};

class TokenSigner {
 public:
  // `keys`: kid → HMAC key (≥ 32 bytes each); `signing_kid` must be one of them. Every key
  // verifies; only the signing one signs (rotation: add the new key, sign with it, drop the old
  // one after max TTL + skew).
  TokenSigner(std::map<std::string, std::string> keys, std::string signing_kid);

  // Throws std::invalid_argument on a bad consultation id / subject or a TTL outside 1..900 s.
  std::string Mint(const MintRequest& request, std::int64_t now_seconds) const;

  TokenCheck Verify(std::string_view token, std::int64_t now_seconds) const;

 private:
  const std::map<std::string, std::string> keys_;
  const std::string signing_kid_;
};

std::int64_t UnixNow();

}  // namespace veil::server
