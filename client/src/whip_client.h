#pragma once

#include <optional>
#include <string>

namespace veil::client {

struct ServerUrl {
  std::string scheme_host_port;  // e.g. http://10.77.0.1:8080
  std::string base_path;         // path prefix without a trailing slash, often empty
};

std::optional<ServerUrl> parseServerUrl(const std::string& url);

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
  WhipClient(ServerUrl server, std::string token)
      : server_(std::move(server)), token_(std::move(token)) {}

  PublishResult publish(const std::string& consultation_id, const std::string& offer_sdp) const;
  bool remove(const std::string& resource) const;

 private:
  ServerUrl server_;
  std::string token_;
};

}  // namespace veil::client
