// Strict parsers for everything veil-server reads from a request body or header. Each returns
// either the typed value or a short, client-safe error. They never throw and never echo input.
// These are the libFuzzer targets' entry points (server/fuzz/).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace veil::server {

template <typename T>
struct Parsed {
  std::optional<T> value;
  std::string error;  // set when !value
};

struct LoginRequest {
  std::string username;
  std::string password;
};
struct RedeemRequest {
  std::string invite;        // 43 base64url characters (256 bits)
  std::string display_name;  // optional, ≤ 64 characters, no control characters
};
struct RefreshRequest {
  std::string refresh_token;  // 43 base64url characters
};
struct CreateConsultationRequest {
  std::string min_mode;
  std::int64_t invite_ttl_seconds = 0;  // 0: the default (24 h)
};
struct ModeChangeRequest {
  std::string mode;
};
// What a patient device reports for the audit log (security-design §8). All fields are codes.
struct DeviceEvent {
  std::string type;  // mode.reported | keep_visible.start | keep_visible.end | redaction.fallback
  std::string from;
  std::string to;
  std::string trigger;  // patient | request | minimum
  std::int64_t duration_seconds = 0;
};

inline constexpr std::size_t kMaxDisplayNameChars = 64;

Parsed<LoginRequest> ParseLoginRequest(std::string_view body);
Parsed<RedeemRequest> ParseRedeemRequest(std::string_view body);
Parsed<RefreshRequest> ParseRefreshRequest(std::string_view body);
Parsed<CreateConsultationRequest> ParseCreateConsultationRequest(std::string_view body);
Parsed<ModeChangeRequest> ParseModeChangeRequest(std::string_view body);
Parsed<DeviceEvent> ParseDeviceEvent(std::string_view body);

// The value of the `__Host-veil_session` cookie in a Cookie header (43 base64url chars).
std::optional<std::string> SessionCookie(std::string_view cookie_header);

// A complete SDP: starts with its version line, has a media section, no NUL.
bool LooksLikeSdp(std::string_view body);

// Redaction modes the device knows (engine/include/veil/mode.h names).
bool IsKnownMode(std::string_view mode);

// 256-bit secrets as 43 base64url characters (invites, refresh tokens, session cookies).
bool IsSecretToken(std::string_view text);

}  // namespace veil::server
