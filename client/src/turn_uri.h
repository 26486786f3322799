#pragma once

#include <optional>
#include <string>
#include <vector>

namespace veil::client {

// What veil-server returns as `turn` with a session token (server/README.md): coturn
// use-auth-secret credentials, username "<expiry>:<participant id>".
struct TurnCredentials {
  std::vector<std::string> urls;  // RFC 7065 form, e.g. turn:10.0.0.1:3478?transport=udp
  std::string username;
  std::string credential;
};

// webrtcbin's form, turn(s)://USER:PASSWORD@HOST:PORT[?transport=tcp], with USER and PASSWORD
// percent-encoded: webrtcbin takes the first ':' of the user info as the separator, and coturn
// usernames contain ':' (base64 passwords may contain '/', '+' and '='). Nullopt for anything
// that is not a turn:/turns: URL with a host.
std::optional<std::string> webrtcbinTurnUri(const std::string& url, const std::string& username,
                                            const std::string& credential);

// Every URL of `turn` in webrtcbin's form (URLs it cannot express are skipped).
std::vector<std::string> webrtcbinTurnUris(const TurnCredentials& turn);

}  // namespace veil::client
