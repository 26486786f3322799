// Per-session TURN credentials for coturn's `use-auth-secret` mode (security-design §9): username
// "<expiry>:<sub>", password base64(HMAC-SHA1(static-auth-secret, username)).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "crypto.h"

namespace veil::server {

inline constexpr std::int64_t kTurnCredentialTtlSeconds = 15 * 60;

struct TurnCredentials {
  std::string username;
  std::string credential;
  std::int64_t ttl_seconds = 0;
};

inline TurnCredentials MakeTurnCredentials(std::string_view static_auth_secret,
                                           std::string_view subject, std::int64_t now,
                                           std::int64_t ttl = kTurnCredentialTtlSeconds) {
  const std::string username = std::to_string(now + ttl) + ":" + std::string(subject);
  return TurnCredentials{username, Base64Encode(HmacSha1(static_auth_secret, username)), ttl};
}

}  // namespace veil::server
