#include "auth_service.h"

#include <algorithm>
#include <stdexcept>

#include "api_error.h"
#include "crypto.h"
#include "password.h"
#include "token.h"

namespace veil::server {
namespace {

std::string AccountActor(std::int64_t id) {
  return "acct-" + std::to_string(id);
}

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

bool IsProxyUser(std::string_view user) {
  if (user.empty() || user.size() > 128) return false;
  for (const char c : user) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.' || c == '@';
    if (!ok) return false;
  }
  return true;
}

bool HasGroup(std::string_view groups, std::string_view wanted) {
  std::size_t position = 0;
  while (position <= groups.size()) {
    std::size_t end = groups.find(',', position);
    if (end == std::string_view::npos) end = groups.size();
    std::string_view group = groups.substr(position, end - position);
    while (!group.empty() && group.front() == ' ') group.remove_prefix(1);
    while (!group.empty() && group.back() == ' ') group.remove_suffix(1);
    if (group == wanted) return true;
    position = end + 1;
  }
  return false;
}

}  // namespace

AuthService::AuthService(Store& store, const ServerConfig& config, Metrics& metrics)
    : store_(store), config_(config), metrics_(metrics) {}

const std::string& AuthService::DummyHash() {
  std::call_once(dummy_once_, [this] { dummy_hash_ = HashPassword(RandomHex(16)); });
  return dummy_hash_;
}

std::int64_t AuthService::AddAccount(Store& store, const std::string& username,
                                     const std::string& password, bool admin) {
  if (username.empty() || username.size() > 128 || username.starts_with("proxy:")) {
    throw std::invalid_argument("bad user name");
  }
  if (!IsAcceptablePassword(password, username)) {
    throw std::invalid_argument("password must be 12-256 characters and not the user name");
  }
  const std::int64_t id =
      store.AddAccount(Lower(username), HashPassword(password), admin, UnixNow());
  store.Audit(
      {"account.create", "system", admin ? "admin" : "clinician", "", "ok", "", AccountActor(id)},
      UnixNow());
  return id;
}

SignIn AuthService::NewSession(const Account& account) {
  const std::string cookie = Base64UrlEncode(RandomBytes(32));
  store_.AddWebSession(Sha256Hex(cookie), account.id, UnixNow());
  return SignIn{cookie, account};
}

SignIn AuthService::Login(const LoginRequest& request, const std::string& client_key) {
  const auto now = RateLimiter::Clock::now();
  const std::string account_key = Lower(request.username);
  const auto throttled = [&](const std::string& actor, const char* reason) {
    metrics_.Increment("veil_logins_total", "outcome", "throttled");
    store_.Audit({"auth.throttled", actor, "clinician", "", "denied", reason, ""}, UnixNow());
    return ApiError(429, "too_many_attempts", "too many sign-in attempts; try again later");
  };
  const std::optional<Account> account = store_.FindAccount(account_key);
  const std::string actor = account ? AccountActor(account->id) : "unknown";
  if (per_client_.Exceeded(client_key, now)) throw throttled(actor, "client");
  per_client_.Record(client_key, now);
  // After 5 failures in 15 min: one attempt per minute for that account (no lockout).
  if (account_failures_.Exceeded(account_key, now)) {
    if (account_attempts_.Exceeded(account_key, now)) throw throttled(actor, "account");
    account_attempts_.Record(account_key, now);
  }
  if (!hash_slots_.try_acquire_for(std::chrono::seconds(3))) {
    throw ApiError(429, "busy", "the server is busy; try again");
  }
  bool ok = false;
  try {
    // Unknown user names cost the same as known ones.
    ok = VerifyPassword(request.password, account ? account->password_hash : DummyHash()) &&
         account && !account->disabled;
    if (ok && NeedsRehash(account->password_hash)) {
      store_.SetPasswordHash(account->id, HashPassword(request.password));
    }
  } catch (...) {
    hash_slots_.release();
    throw;
  }
  hash_slots_.release();
  if (!ok) {
    account_failures_.Record(account_key, now);
    metrics_.Increment("veil_logins_total", "outcome", "denied");
    store_.Audit({"auth.login", actor, "clinician", "", "denied", "bad_credentials", ""},
                 UnixNow());
    throw ApiError(401, "invalid_credentials", "wrong user name or password");
  }
  account_failures_.Clear(account_key);
  metrics_.Increment("veil_logins_total", "outcome", "ok");
  store_.Audit({"auth.login", actor, account->admin ? "admin" : "clinician", "", "ok", "local", ""},
               UnixNow());
  return NewSession(*account);
}

SignIn AuthService::ProxySignIn(const std::string& user, const std::string& groups) {
  if (!IsProxyUser(user) || groups.size() > 1024) {
    throw ApiError(400, "bad_request", "malformed identity headers");
  }
  const bool admin = HasGroup(groups, config_.proxy_admin_group);
  const bool clinician = HasGroup(groups, config_.proxy_clinician_group);
  const std::string username = "proxy:" + user;
  std::optional<Account> account = store_.FindAccount(Lower(username));
  if (!clinician && !admin) {
    store_.Audit({"auth.login", account ? AccountActor(account->id) : "unknown", "clinician", "",
                  "denied", "no_group", ""},
                 UnixNow());
    throw ApiError(403, "forbidden", "not a member of a Veil group");
  }
  if (!account) {
    // "!" never parses as a password hash: proxy accounts cannot sign in with a password.
    const std::int64_t id = store_.AddAccount(Lower(username), "!", admin, UnixNow());
    store_.Audit({"account.create", "system", admin ? "admin" : "clinician", "", "ok", "proxy",
                  AccountActor(id)},
                 UnixNow());
    account = store_.AccountById(id);
  }
  if (account->disabled) throw ApiError(403, "forbidden", "account disabled");
  store_.Audit({"auth.login", AccountActor(account->id), admin ? "admin" : "clinician", "", "ok",
                "proxy", ""},
               UnixNow());
  return NewSession(*account);
}

WebSession AuthService::Resolve(const std::optional<std::string>& cookie) {
  if (!cookie) throw ApiError(401, "not_signed_in", "sign in first");
  const std::string hash = Sha256Hex(*cookie);
  const std::optional<std::int64_t> account_id = store_.TouchWebSession(
      hash, UnixNow(), config_.session_idle_seconds, config_.session_absolute_seconds);
  if (!account_id) throw ApiError(401, "not_signed_in", "the session has expired; sign in again");
  const std::optional<Account> account = store_.AccountById(*account_id);
  if (!account) throw ApiError(401, "not_signed_in", "sign in again");
  return WebSession{hash, *account};
}

void AuthService::Logout(const WebSession& session) {
  store_.DeleteWebSession(session.cookie_hash);
  store_.RevokeTokensOfWebSession(session.cookie_hash, UnixNow());
  store_.Audit({"auth.logout", AccountActor(session.account.id), "clinician", "", "ok", "", ""},
               UnixNow());
}

}  // namespace veil::server
