#pragma once

#include <string>

#include "http_client.h"

namespace veil::client {

struct PublishResult {
  bool ok = false;
  int status = 0;
  std::string answer_sdp;
  std::string resource;  // the Location to DELETE when leaving
  std::string error;
};

// WHIP-style publishing against veil-server (never the Janus API): one POST of the complete
// offer with a Bearer token, the answer in the response, DELETE of the resource to leave.
class WhipClient {
 public:
  WhipClient(ServerEndpoint server, std::string token)
      : server_(std::move(server)), token_(std::move(token)) {}

  PublishResult publish(const std::string& consultation_id, const std::string& offer_sdp) const;
  bool remove(const std::string& resource) const;
  // After a session refresh: the old token expires soon (and is never used again here).
  void setToken(std::string token) { token_ = std::move(token); }

 private:
  ServerEndpoint server_;
  std::string token_;
};

}  // namespace veil::client
