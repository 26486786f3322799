#include "whip_client.h"

namespace veil::client {

PublishResult WhipClient::publish(const std::string& consultation_id,
                                  const std::string& offer_sdp) const {
  httplib::Client client = makeHttpClient(server_);
  const std::string path =
      server_.url.base_path + "/api/v1/consultations/" + pathSegment(consultation_id) + "/whip";
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
  httplib::Client client = makeHttpClient(server_);
  // A Location may be absolute or relative to the server.
  std::string path = resource;
  if (path.starts_with(server_.url.scheme_host_port))
    path = path.substr(server_.url.scheme_host_port.size());
  const httplib::Headers headers = {{"Authorization", "Bearer " + token_}};
  const httplib::Result response = client.Delete(path, headers);
  return response && response->status >= 200 && response->status < 300;
}

}  // namespace veil::client
