#include "token.h"

#include <chrono>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "crypto.h"

namespace veil::server {
namespace {

using nlohmann::json;

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

bool IsValidKid(std::string_view kid) {
  return IsValidConsultationId(kid);
}

// The header must be exactly {"alg":"HS256","typ":"JWT","kid":<known>}: comparing decoded JSON
// keeps us indifferent to key order while refusing "none" and every other algorithm.
// True when `object[name]` is exactly the string `expected`. json::value() would throw on a
// member of another type (found by the token fuzzer), so types are checked first.
bool HasString(const json& object, const char* name, std::string_view expected) {
  const auto it = object.find(name);
  return it != object.end() && it->is_string() && it->get_ref<const std::string&>() == expected;
}

std::optional<std::string> KidFrom(const json& header) {
  if (!header.is_object() || header.size() != 3 || !HasString(header, "alg", "HS256") ||
      !HasString(header, "typ", "JWT"))
    return std::nullopt;
  const auto kid = header.find("kid");
  if (kid == header.end() || !kid->is_string()) return std::nullopt;
  return kid->get<std::string>();
}

std::optional<TokenClaims> ClaimsFrom(const json& payload) {
  const auto string_claim = [&](const char* name) -> std::optional<std::string> {
    const auto it = payload.find(name);
    if (it == payload.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  const auto integer_claim = [&](const char* name) -> std::optional<std::int64_t> {
    const auto it = payload.find(name);
    if (it == payload.end() || !it->is_number_integer()) return std::nullopt;
    return it->get<std::int64_t>();
  };
  const auto issuer = string_claim("iss");
  const auto audience = string_claim("aud");
  const auto cid = string_claim("cid");
  const auto subject = string_claim("sub");
  const auto role_name = string_claim("role");
  const auto jti = string_claim("jti");
  const auto iat = integer_claim("iat");
  const auto exp = integer_claim("exp");
  if (!issuer || !audience || !cid || !subject || !role_name || !jti || !iat || !exp) {
    return std::nullopt;
  }
  if (*audience != kTokenAudience || issuer->empty() || issuer->size() > 256) return std::nullopt;
  const std::optional<Role> role = ParseRole(*role_name);
  if (!role || !IsValidConsultationId(*cid) || !IsValidConsultationId(*subject)) {
    return std::nullopt;
  }
  if (jti->size() != 32 || !IsHex(*jti)) return std::nullopt;
  TokenClaims claims{*issuer, *cid, *subject, *role, *jti, *iat, *exp};
  const std::int64_t lifetime = claims.expires_at - claims.issued_at;
  if (lifetime <= 0 || lifetime > kMaxTokenTtlSeconds) return std::nullopt;
  return claims;
}

}  // namespace

std::string_view RoleName(Role role) {
  return role == Role::kPatient ? "patient" : "clinician";
}

std::optional<Role> ParseRole(std::string_view name) {
  if (name == "patient") return Role::kPatient;
  if (name == "clinician") return Role::kClinician;
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
  return error == TokenError::kExpired ? "token_expired" : "invalid_token";
}

std::string_view TokenErrorReason(TokenError error) {
  switch (error) {
    case TokenError::kExpired:
      return "expired";
    case TokenError::kBadSignature:
      return "forged";
    case TokenError::kNotYetValid:
      return "not_yet_valid";
    case TokenError::kMalformed:
      break;
  }
  return "malformed";
}

TokenSigner::TokenSigner(std::map<std::string, std::string> keys, std::string signing_kid)
    : keys_(std::move(keys)), signing_kid_(std::move(signing_kid)) {
  if (!keys_.contains(signing_kid_)) throw std::invalid_argument("no key for the signing kid");
  for (const auto& [kid, key] : keys_) {
    if (!IsValidKid(kid)) throw std::invalid_argument("bad key id " + kid);
    if (key.size() < 32) throw std::invalid_argument("token signing key " + kid + " too short");
  }
}

std::string TokenSigner::Mint(const MintRequest& request, std::int64_t now_seconds) const {
  if (!IsValidConsultationId(request.consultation_id) || !IsValidConsultationId(request.subject)) {
    throw std::invalid_argument("consultation id and subject must be 1-64 chars of [A-Za-z0-9_-]");
  }
  if (request.ttl_seconds < 1 || request.ttl_seconds > kMaxTokenTtlSeconds) {
    throw std::invalid_argument("token TTL must be 1.." + std::to_string(kMaxTokenTtlSeconds) +
                                " seconds");
  }
  const json header = {{"alg", "HS256"}, {"typ", "JWT"}, {"kid", signing_kid_}};
  const json payload = {
      {"iss", request.issuer},
      {"aud", kTokenAudience},
      {"sub", request.subject},
      {"cid", request.consultation_id},
      {"role", RoleName(request.role)},
      {"jti", RandomHex(16)},
      {"iat", now_seconds},
      {"exp", now_seconds + request.ttl_seconds},
  };
  const std::string signing_input =
      Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(payload.dump());
  return signing_input + "." + Base64UrlEncode(HmacSha256(keys_.at(signing_kid_), signing_input));
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

  // The header only names the key; nothing else in the token is trusted (or parsed) before the
  // signature made with that key checks out.
  const std::optional<json> header = ParseSegment(token.substr(0, first_dot));
  if (!header) return check;
  const std::optional<std::string> kid = KidFrom(*header);
  if (!kid) return check;
  const auto key = keys_.find(*kid);
  if (key == keys_.end() ||
      !ConstantTimeEquals(Base64UrlEncode(HmacSha256(key->second, signing_input)), signature)) {
    check.error = TokenError::kBadSignature;
    return check;
  }
  const std::optional<json> payload =
      ParseSegment(token.substr(first_dot + 1, second_dot - first_dot - 1));
  if (!payload) return check;
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
