#pragma once

#include <httplib.h>

#include <optional>
#include <string>

namespace veil::client {

struct ServerUrl {
  std::string scheme_host_port;  // e.g. http://10.77.0.1:8080
  std::string base_path;         // path prefix without a trailing slash, often empty
};

std::optional<ServerUrl> parseServerUrl(const std::string& url);

// How to reach veil-server. HTTPS certificates are always verified: against the system store, or
// against `ca_file` alone when given (the demo's self-signed certificate). There is no switch that
// turns verification off.
struct ServerEndpoint {
  ServerUrl url;
  std::string ca_file;
};

httplib::Client makeHttpClient(const ServerEndpoint& endpoint);

// Consultation ids are opaque; keep them from changing the request path.
std::string pathSegment(const std::string& text);

}  // namespace veil::client
