#pragma once

#include <optional>
#include <string>

#include "http_client.h"
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
  std::optional<SessionStatus> status();
  bool refresh();
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
