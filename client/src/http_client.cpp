#include "http_client.h"

#include <cctype>

namespace veil::client {
namespace {

constexpr int kConnectTimeoutSeconds = 5;
constexpr int kReadTimeoutSeconds = 15;

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

httplib::Client makeHttpClient(const ServerEndpoint& endpoint) {
  httplib::Client client(endpoint.url.scheme_host_port);
  client.set_connection_timeout(kConnectTimeoutSeconds, 0);
  client.set_read_timeout(kReadTimeoutSeconds, 0);
  client.set_write_timeout(kReadTimeoutSeconds, 0);
  client.enable_server_certificate_verification(true);
  if (!endpoint.ca_file.empty()) client.set_ca_cert_path(endpoint.ca_file);
  return client;
}

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

}  // namespace veil::client
