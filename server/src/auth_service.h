// Clinician authentication (security-design §3): local accounts with scrypt passwords, or a
// trusted reverse proxy's identity headers; either way a veil-server cookie session
// (`__Host-veil_session`, stored hashed, idle 30 min / absolute 12 h). Login throttling is in
// memory only.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <semaphore>
#include <string>

#include "metrics.h"
#include "rate_limiter.h"
#include "request_parsing.h"
#include "server_config.h"
#include "store.h"

namespace veil::server {

struct WebSession {
  std::string cookie_hash;
  Account account;
};

struct SignIn {
  std::string cookie;  // the new session cookie value (43 base64url chars)
  Account account;
};

class AuthService {
 public:
  AuthService(Store& store, const ServerConfig& config, Metrics& metrics);

  // Throws ApiError: 401 invalid_credentials, 429 too_many_attempts / busy.
  SignIn Login(const LoginRequest& request, const std::string& client_key);
  // Trusted-proxy mode: `user` is the IdP subject, `groups` the comma-separated group list.
  // Throws ApiError 400 bad_request (malformed) / 403 forbidden (no Veil group).
  SignIn ProxySignIn(const std::string& user, const std::string& groups);
  // Resolves a cookie to its session; throws ApiError 401 not_signed_in.
  WebSession Resolve(const std::optional<std::string>& cookie);
  void Logout(const WebSession& session);

  // Used by `veil-server add-clinician`. Throws std::invalid_argument on a weak password.
  static std::int64_t AddAccount(Store& store, const std::string& username,
                                 const std::string& password, bool admin);

 private:
  SignIn NewSession(const Account& account);
  const std::string& DummyHash();

  Store& store_;
  const ServerConfig& config_;
  Metrics& metrics_;
  RateLimiter per_client_{20, std::chrono::minutes(15)};
  RateLimiter account_failures_{5, std::chrono::minutes(15)};
  RateLimiter account_attempts_{1, std::chrono::minutes(1)};
  // scrypt takes 128 MiB: at most two at once (§3.1).
  std::counting_semaphore<2> hash_slots_{2};
  std::once_flag dummy_once_;
  std::string dummy_hash_;
};

}  // namespace veil::server
