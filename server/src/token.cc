#include "token.h"

#include <chrono>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "crypto.h"

namespace veil::server {
namespace {

using nlohmann::json;

// The only header we issue or accept. Comparing the decoded JSON (not the encoded text) keeps
// us indifferent to key order while still refusing "alg":"none" or any other algorithm.
const json& ExpectedHeader() {
  static const json header = {{"alg", "HS256"}, {"typ", "JWT"}};
  return header;
}

constexpr std::size_t kMaxTokenLength = 2048;

std::optional<json> ParseSegment(std::string_view segment) {
  const std::optional<std::string> decoded = Base64UrlDecode(segment);
  if (!decoded) return std::nullopt;
  json parsed = json::parse(*decoded, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) return std::nullopt;
  return parsed;
}

bool IsHex(std::string_view text) {
  for (const char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::optional<TokenClaims> ClaimsFrom(const json& payload) {
  const auto string_claim = [&](const char* name) -> const json* {
    const auto it = payload.find(name);
    return it != payload.end() && it->is_string() ? &*it : nullptr;
  };
  const auto integer_claim = [&](const char* name) -> const json* {
    const auto it = payload.find(name);
    return it != payload.end() && it->is_number_integer() ? &*it : nullptr;
  };
  const json* audience = string_claim("aud");
  const json* cid = string_claim("cid");
  const json* role_name = string_claim("role");
  const json* jti = string_claim("jti");
  const json* iat = integer_claim("iat");
  const json* exp = integer_claim("exp");
  if (!audience || !cid || !role_name || !jti || !iat || !exp) return std::nullopt;
  if (audience->get<std::string>() != kTokenAudience) return std::nullopt;
  const std::optional<Role> role = ParseRole(role_name->get<std::string>());
  const auto consultation = cid->get<std::string>();
  const auto token_id = jti->get<std::string>();
  if (!role || !IsValidConsultationId(consultation)) return std::nullopt;
  if (token_id.size() != 32 || !IsHex(token_id)) return std::nullopt;
  TokenClaims claims{consultation, *role, token_id, iat->get<std::int64_t>(),
                     exp->get<std::int64_t>()};
  const std::int64_t lifetime = claims.expires_at - claims.issued_at;
  if (lifetime <= 0 || lifetime > kMaxTokenTtlSeconds) return std::nullopt;
  return claims;
}

}  // namespace

std::string_view RoleName(Role role) {
  return role == Role::kPatient ? "patient" : "viewer";
}

std::optional<Role> ParseRole(std::string_view name) {
  if (name == "patient") return Role::kPatient;
  if (name == "viewer") return Role::kViewer;
  return std::nullopt;
}

bool IsValidConsultationId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (const char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::string_view TokenErrorCode(TokenError error) {
  switch (error) {
    case TokenError::kExpired:
      return "token_expired";
    case TokenError::kNotYetValid:
    case TokenError::kMalformed:
    case TokenError::kBadSignature:
      break;
  }
  return "invalid_token";
}

TokenSigner::TokenSigner(std::string signing_key) : signing_key_(std::move(signing_key)) {
  if (signing_key_.size() < 32) throw std::invalid_argument("token signing key too short");
}

std::string TokenSigner::Sign(std::string_view signing_input) const {
  return Base64UrlEncode(HmacSha256(signing_key_, signing_input));
}

std::string TokenSigner::Mint(std::string_view consultation_id, Role role, std::int64_t ttl_seconds,
                              std::int64_t now_seconds) const {
  if (!IsValidConsultationId(consultation_id)) {
    throw std::invalid_argument("consultation id must be 1-64 chars of [A-Za-z0-9_-]");
  }
  if (ttl_seconds < 1 || ttl_seconds > kMaxTokenTtlSeconds) {
    throw std::invalid_argument("token TTL must be 1.." + std::to_string(kMaxTokenTtlSeconds) +
                                " seconds");
  }
  const json payload = {
      {"aud", kTokenAudience}, {"cid", consultation_id}, {"role", RoleName(role)},
      {"jti", RandomHex(16)},  {"iat", now_seconds},     {"exp", now_seconds + ttl_seconds},
  };
  const std::string signing_input =
      Base64UrlEncode(ExpectedHeader().dump()) + "." + Base64UrlEncode(payload.dump());
  return signing_input + "." + Sign(signing_input);
}

TokenCheck TokenSigner::Verify(std::string_view token, std::int64_t now_seconds) const {
  TokenCheck check;
  if (token.size() > kMaxTokenLength) return check;
  const std::size_t first_dot = token.find('.');
  if (first_dot == std::string_view::npos) return check;
  const std::size_t second_dot = token.find('.', first_dot + 1);
  if (second_dot == std::string_view::npos || token.find('.', second_dot + 1) != token.npos) {
    return check;
  }
  const std::string_view signing_input = token.substr(0, second_dot);
  const std::string_view signature = token.substr(second_dot + 1);

  // Check the signature before trusting (or even parsing) anything the token claims.
  if (!ConstantTimeEquals(Sign(signing_input), signature)) {
    check.error = TokenError::kBadSignature;
    return check;
  }
  const std::optional<json> header = ParseSegment(token.substr(0, first_dot));
  const std::optional<json> payload =
      ParseSegment(token.substr(first_dot + 1, second_dot - first_dot - 1));
  if (!header || *header != ExpectedHeader() || !payload) return check;
  std::optional<TokenClaims> claims = ClaimsFrom(*payload);
  if (!claims) return check;
  if (claims->issued_at > now_seconds + kClockSkewSeconds) {
    check.error = TokenError::kNotYetValid;
    return check;
  }
  if (claims->expires_at <= now_seconds) {
    check.error = TokenError::kExpired;
    return check;
  }
  check.claims = std::move(claims);
  return check;
}

std::int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace veil::server
