#pragma once

#include <string_view>

namespace veil::client {

// veil-patient's exit statuses (usage() and client/README.md list them).
enum ExitStatus : int {
  kExitNormal = 0,  // quit, SIGINT/SIGTERM, or the consultation ended (410 consultation_ended)
  kExitError = 1,   // start-up, media or connection failure
  kExitUsage = 2,   // bad command line
  // The server refused this device for good (401/403): removed or rejected by the clinician,
  // session revoked, refresh token replayed. Retrying cannot help.
  kExitRevoked = 3,
  // The session token expired before a refresh got through (server unreachable or failing).
  kExitSessionExpired = 4,
};

// What a veil-server reply means for the patient's session (server/README.md "Errors").
enum class ServerVerdict {
  kOk,
  kTransient,  // no reply, 5xx, 408, 409 (concurrent refresh), 429: worth another try
  kExpired,    // 401 token_expired: the session token ran out
  kEnded,      // 410 consultation_ended: the clinician's end or the automatic one (idle, 4 h)
  kRefused,    // every other 4xx (revoked, removed, reused refresh token, ...): final
};

// `status` 0 means no HTTP reply at all; `error_code` is the body's "error" field, or empty.
ServerVerdict classifyReply(int status, std::string_view error_code);

// When to refresh a session token valid for `expires_in_seconds`: a minute before it expires,
// or half-way for the short TTLs of test runs. At least 1 s.
int refreshDelaySeconds(int expires_in_seconds);

// Delay before the next attempt after `failures` transient failures in a row (1, 2, 4 ... 30 s),
// never later than the session token's expiry `seconds_left` from now. At least 1 s.
int retryDelaySeconds(int failures, int seconds_left);

}  // namespace veil::client
