#include "refresh_policy.h"

#include <algorithm>

namespace veil::client {
namespace {

constexpr int kRefreshMarginSeconds = 60;
constexpr int kMaxRetrySeconds = 30;

}  // namespace

ServerVerdict classifyReply(int status, std::string_view error_code) {
  if (status >= 200 && status < 300) return ServerVerdict::kOk;
  // 409: the refresh token was used concurrently; 408/429: the server asks us to come back.
  if (status == 0 || status >= 500 || status == 408 || status == 409 || status == 429) {
    return ServerVerdict::kTransient;
  }
  if (status == 401 && error_code == "token_expired") return ServerVerdict::kExpired;
  if (status == 410 && error_code == "consultation_ended") return ServerVerdict::kEnded;
  if (status >= 400 && status < 500) return ServerVerdict::kRefused;
  return ServerVerdict::kTransient;  // 1xx/3xx: not an answer veil-server gives; try again
}

int refreshDelaySeconds(int expires_in_seconds) {
  if (expires_in_seconds >= 2 * kRefreshMarginSeconds) {
    return expires_in_seconds - kRefreshMarginSeconds;
  }
  return std::max(1, expires_in_seconds / 2);
}

int retryDelaySeconds(int failures, int seconds_left) {
  const int doubling = 1 << std::clamp(failures - 1, 0, 5);
  return std::max(1, std::min({doubling, kMaxRetrySeconds, seconds_left}));
}

}  // namespace veil::client
