// Deployment settings veil-server's services share (filled from the command line by main.cc).
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace veil::server {

enum class AuthMode { kLocal, kProxy };

struct ServerConfig {
  // Scheme://host[:port] the browsers use; the token issuer and the only accepted `Origin`.
  std::string public_origin;
  AuthMode auth_mode = AuthMode::kLocal;
  std::string proxy_clinician_group = "veil-clinician";
  std::string proxy_admin_group = "veil-admin";
  // Demo only: consultations that accept `mint-token` tokens (no invite, no waiting room).
  std::set<std::string> demo_consultations;
  std::string default_min_mode = "background";
  std::int64_t invite_ttl_seconds = 24 * 3600;
  std::int64_t max_consultation_seconds = 4 * 3600;
  // Security-design §4: an open consultation ends this long after the last participant left.
  std::int64_t idle_end_seconds = 30 * 60;
  std::int64_t retention_days = 90;  // ended consultations and audit rows
  std::int64_t session_idle_seconds = 30 * 60;
  std::int64_t session_absolute_seconds = 12 * 3600;
  std::int64_t token_ttl_seconds = 10 * 60;  // at most 15 min (security-design §5.2)
  // Refresh-token reuse within this window is treated as a retry after a lost response.
  std::int64_t refresh_retry_grace_seconds = 30;
  // TURN (coturn use-auth-secret); empty secret: no TURN credentials are issued.
  std::string turn_secret;
  std::vector<std::string> turn_urls;

  // How often the sweep ends idle and over-long consultations: every 15 s, more often when a test
  // shortens the idle or maximum time, so neither ends much later than configured.
  std::int64_t SweepIntervalSeconds() const {
    const std::int64_t shortest = std::min(idle_end_seconds, max_consultation_seconds);
    return std::clamp<std::int64_t>(shortest / 5, 1, 15);
  }
  // A participant's request counts as presence for this long (status polls come every 2 s, the
  // clinician app's consultation view too).
  std::int64_t ActivityWindowSeconds() const {
    return std::min<std::int64_t>(30, idle_end_seconds);
  }
};

}  // namespace veil::server
