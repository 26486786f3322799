#include "whip_client.h"

#include <httplib.h>

namespace veil::client {
namespace {

constexpr int kConnectTimeoutSeconds = 5;
constexpr int kReadTimeoutSeconds = 15;

httplib::Client makeClient(const ServerUrl& server) {
  httplib::Client client(server.scheme_host_port);
  client.set_connection_timeout(kConnectTimeoutSeconds, 0);
  client.set_read_timeout(kReadTimeoutSeconds, 0);
  client.set_write_timeout(kReadTimeoutSeconds, 0);
  return client;
}

// Consultation ids are opaque; keep them from changing the request path.
std::string pathSegment(const std::string& text) {
  std::string out;
  for (const unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      static constexpr char kHex[] = "0123456789ABCDEF";
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace

std::optional<ServerUrl> parseServerUrl(const std::string& url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return std::nullopt;
  const std::string scheme = url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") return std::nullopt;
  const auto path_start = url.find('/', scheme_end + 3);
  ServerUrl server;
  server.scheme_host_port = url.substr(0, path_start);
  if (path_start != std::string::npos) server.base_path = url.substr(path_start);
  while (!server.base_path.empty() && server.base_path.back() == '/') server.base_path.pop_back();
  if (server.scheme_host_port.size() <= scheme_end + 3) return std::nullopt;
  return server;
}

PublishResult WhipClient::publish(const std::string& consultation_id,
                                  const std::string& offer_sdp) const {
  httplib::Client client = makeClient(server_);
  const std::string path =
      server_.base_path + "/api/v1/consultations/" + pathSegment(consultation_id) + "/whip";
  const httplib::Headers headers = {{"Authorization", "Bearer " + token_}};
  const httplib::Result response = client.Post(path, headers, offer_sdp, "application/sdp");
  PublishResult result;
  if (!response) {
    result.error = "cannot reach the server: " + httplib::to_string(response.error());
    return result;
  }
  result.status = response->status;
  if (response->status != 201 && response->status != 200) {
    result.error = "publish refused with HTTP " + std::to_string(response->status);
    return result;
  }
  result.answer_sdp = response->body;
  result.resource = response->get_header_value("Location");
  result.ok = !result.answer_sdp.empty();
  if (!result.ok) result.error = "empty answer";
  return result;
}

bool WhipClient::remove(const std::string& resource) const {
  if (resource.empty()) return false;
  httplib::Client client = makeClient(server_);
  // A Location may be absolute or relative to the server.
  std::string path = resource;
  if (path.starts_with(server_.scheme_host_port))
    path = path.substr(server_.scheme_host_port.size());
  const httplib::Headers headers = {{"Authorization", "Bearer " + token_}};
  const httplib::Result response = client.Delete(path, headers);
  return response && response->status >= 200 && response->status < 300;
}

}  // namespace veil::client
