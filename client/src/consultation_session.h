#pragma once

#include <optional>
#include <string>

#include "http_client.h"
#include "refresh_policy.h"
#include "turn_uri.h"

namespace veil::client {

// An invite link as the clinician app hands it out: `https://host[:port]/join#invite=<code>`.
// The code sits in the fragment, so it never reaches a server log; it is sent once, in the
// redeem body.
struct InviteLink {
  ServerUrl server;
  std::string code;
};
std::optional<InviteLink> parseInviteLink(const std::string& url);

struct SessionStatus {
  std::string state;  // "waiting" | "admitted"
  bool clinician_publishing = false;
};

// What redeem and refresh return (server/README.md "Patient credentials").
struct Credentials {
  std::string consultation;
  std::string token;
  std::string refresh_token;
  std::string min_mode;
  std::optional<TurnCredentials> turn;  // when the server issues TURN credentials
  int expires_in = 0;
};
std::optional<Credentials> parseCredentials(const std::string& body);

// Everything one status poll needs, copied, so it can run on another thread.
struct StatusInput {
  ServerEndpoint server;
  std::string consultation;
  std::string session_token;
};

struct StatusOutcome {
  ServerVerdict verdict = ServerVerdict::kTransient;
  std::optional<SessionStatus> status;  // with kOk
  std::string error;                    // HTTP status and error codes only
};

// One waiting-room/status poll (blocking, at most the HTTP timeouts; any thread).
StatusOutcome requestStatus(const StatusInput& input);

// Everything one refresh needs, copied, so it can run on another thread.
struct RefreshInput {
  ServerEndpoint server;
  std::string consultation;
  std::string refresh_token;
  std::string session_token;
};

struct RefreshOutcome {
  ServerVerdict verdict = ServerVerdict::kTransient;
  std::optional<Credentials> credentials;  // with kOk
  std::string error;                       // HTTP status and error codes only, never a token
};

// One refresh (blocking, at most the HTTP timeouts; shares nothing, so any thread may run it).
// veil-server answers 401 to the refresh of an ended consultation too, so after a refusal the
// status endpoint (with the still valid session token) tells kEnded from kRefused.
RefreshOutcome requestRefresh(const RefreshInput& input);

// One device-reported audit event (server/README.md, `…/events`), copied so any thread can send
// it. The server records it as the device's word; it cannot verify it.
struct DeviceEventInput {
  ServerEndpoint server;
  std::string consultation;
  std::string session_token;
  std::string body;  // the event's JSON
};

// Blocking, at most the HTTP timeouts; any thread. Empty on success, else HTTP codes only.
std::string postDeviceEvent(const DeviceEventInput& input);

struct SubscribeOffer {
  std::string id;
  std::string sdp;
};

// The patient's side of the consultation API (server/README.md): redeem an invite for a short
// lived session token and a refresh token, poll the waiting room, rotate the refresh token before
// the session token expires, subscribe to the clinician's feed, leave. Tokens are never logged.
// Every call blocks for at most the HTTP timeouts; failures come back as `error()`.
class ConsultationSession {
 public:
  explicit ConsultationSession(ServerEndpoint server) : server_(std::move(server)) {}

  bool redeem(const std::string& invite_code, const std::string& display_name);
  StatusInput statusInput() const;
  RefreshInput refreshInput() const;
  DeviceEventInput deviceEventInput(std::string body) const;
  void adopt(const Credentials& credentials);
  void leave();

  std::optional<SubscribeOffer> subscribe();
  bool answerSubscription(const std::string& id, const std::string& sdp);
  std::optional<bool> keepAlive(const std::string& id);  // publisher still there?
  void unsubscribe(const std::string& id);

  const std::string& consultation() const { return consultation_; }
  const std::string& token() const { return token_; }
  const std::string& minMode() const { return min_mode_; }
  // The TURN credentials of the latest redeem/refresh, when the server issues them.
  const std::optional<TurnCredentials>& turn() const { return turn_; }
  int expiresInSeconds() const { return expires_in_; }
  const std::string& error() const { return error_; }
  const ServerEndpoint& server() const { return server_; }

 private:
  bool adoptCredentials(const std::string& body);
  std::string consultationPath(const std::string& rest) const;
  httplib::Headers bearer() const;

  ServerEndpoint server_;
  std::string consultation_;
  std::string token_;
  std::string refresh_token_;
  std::string min_mode_;
  std::optional<TurnCredentials> turn_;
  int expires_in_ = 0;
  std::string error_;
};

}  // namespace veil::client
