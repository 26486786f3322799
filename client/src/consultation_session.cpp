#include "consultation_session.h"

#include <nlohmann/json.hpp>

namespace veil::client {
namespace {

bool isInviteCode(const std::string& code) {
  if (code.size() != 43) return false;
  for (const unsigned char c : code) {
    if (!std::isalnum(c) && c != '-' && c != '_') return false;
  }
  return true;
}

std::string errorCode(const httplib::Result& response) {
  if (!response) return "";
  const auto body = nlohmann::json::parse(response->body, nullptr, false);
  if (body.is_object() && body.contains("error") && body["error"].is_string()) {
    return body["error"].get<std::string>();
  }
  return "";
}

ServerVerdict verdictOf(const httplib::Result& response) {
  return classifyReply(response ? response->status : 0, errorCode(response));
}

std::string describe(const httplib::Result& response) {
  if (!response) return "cannot reach the server: " + httplib::to_string(response.error());
  // The error code only (server/README.md "Errors"); the body never carries secrets, but the
  // code is all a user needs.
  const std::string code = errorCode(response);
  return "HTTP " + std::to_string(response->status) + (code.empty() ? "" : " (" + code + ")");
}

// `turn` is null when the server runs without a TURN secret.
std::optional<TurnCredentials> parseTurn(const nlohmann::json& json) {
  if (!json.contains("turn") || !json["turn"].is_object()) return std::nullopt;
  const nlohmann::json& turn = json["turn"];
  if (!turn.contains("urls") || !turn["urls"].is_array() || !turn.contains("username") ||
      !turn["username"].is_string() || !turn.contains("credential") ||
      !turn["credential"].is_string()) {
    return std::nullopt;
  }
  TurnCredentials credentials;
  for (const nlohmann::json& url : turn["urls"]) {
    if (url.is_string()) credentials.urls.push_back(url.get<std::string>());
  }
  credentials.username = turn["username"].get<std::string>();
  credentials.credential = turn["credential"].get<std::string>();
  return credentials;
}

}  // namespace

std::optional<InviteLink> parseInviteLink(const std::string& url) {
  const auto marker = url.find("#invite=");
  if (marker == std::string::npos) return std::nullopt;
  const std::string code = url.substr(marker + 8);
  if (!isInviteCode(code)) return std::nullopt;
  const std::string before = url.substr(0, marker);
  auto server = parseServerUrl(before);
  if (!server) return std::nullopt;
  // The link's path is the join page; the API lives at the origin's base path.
  if (server->base_path.ends_with("/join")) {
    server->base_path.resize(server->base_path.size() - 5);
  } else {
    return std::nullopt;
  }
  return InviteLink{*server, code};
}

std::string ConsultationSession::consultationPath(const std::string& rest) const {
  return server_.url.base_path + "/api/v1/consultations/" + pathSegment(consultation_) + rest;
}

httplib::Headers ConsultationSession::bearer() const {
  return {{"Authorization", "Bearer " + token_}};
}

std::optional<Credentials> parseCredentials(const std::string& body) {
  const auto json = nlohmann::json::parse(body, nullptr, false);
  if (!json.is_object() || !json.contains("token") || !json["token"].is_string() ||
      !json.contains("refresh_token") || !json["refresh_token"].is_string() ||
      !json.contains("expires_in") || !json["expires_in"].is_number_integer()) {
    return std::nullopt;
  }
  Credentials credentials;
  credentials.token = json["token"].get<std::string>();
  credentials.refresh_token = json["refresh_token"].get<std::string>();
  credentials.expires_in = json["expires_in"].get<int>();
  if (json.contains("consultation") && json["consultation"].is_string()) {
    credentials.consultation = json["consultation"].get<std::string>();
  }
  if (json.contains("min_mode") && json["min_mode"].is_string()) {
    credentials.min_mode = json["min_mode"].get<std::string>();
  }
  credentials.turn = parseTurn(json);
  return credentials;
}

RefreshOutcome requestRefresh(const RefreshInput& input) {
  const nlohmann::json request = {{"refresh_token", input.refresh_token}};
  httplib::Client client = makeHttpClient(input.server);
  const auto response = client.Post(input.server.url.base_path + "/api/v1/session/refresh",
                                    request.dump(), "application/json");
  RefreshOutcome outcome;
  outcome.verdict = verdictOf(response);
  if (outcome.verdict == ServerVerdict::kOk) {
    outcome.credentials = parseCredentials(response->body);
    if (!outcome.credentials) {
      outcome.verdict = ServerVerdict::kTransient;
      outcome.error = "refresh: the server's credentials are malformed";
    }
    return outcome;
  }
  outcome.error = "refresh: " + describe(response);
  if (outcome.verdict == ServerVerdict::kTransient) return outcome;
  // Final either way; ask whether the consultation ended or this device was refused.
  outcome.verdict = ServerVerdict::kRefused;
  const StatusOutcome status =
      requestStatus({input.server, input.consultation, input.session_token});
  if (status.verdict == ServerVerdict::kEnded) outcome.verdict = ServerVerdict::kEnded;
  outcome.error +=
      "; " + (status.verdict == ServerVerdict::kOk ? "status: HTTP 200" : status.error);
  return outcome;
}

StatusOutcome requestStatus(const StatusInput& input) {
  httplib::Client client = makeHttpClient(input.server);
  const auto response = client.Get(input.server.url.base_path + "/api/v1/consultations/" +
                                       pathSegment(input.consultation) + "/status",
                                   {{"Authorization", "Bearer " + input.session_token}});
  StatusOutcome outcome;
  outcome.verdict = verdictOf(response);
  if (!response || response->status != 200) {
    if (outcome.verdict == ServerVerdict::kOk) outcome.verdict = ServerVerdict::kTransient;
    outcome.error = "status: " + describe(response);
    return outcome;
  }
  const auto json = nlohmann::json::parse(response->body, nullptr, false);
  if (!json.is_object() || !json.contains("state") || !json["state"].is_string()) {
    outcome.verdict = ServerVerdict::kTransient;
    outcome.error = "status: malformed reply";
    return outcome;
  }
  SessionStatus status;
  status.state = json["state"].get<std::string>();
  status.clinician_publishing = json.contains("clinician_publishing") &&
                                json["clinician_publishing"].is_boolean() &&
                                json["clinician_publishing"].get<bool>();
  outcome.status = status;
  return outcome;
}

std::string postDeviceEvent(const DeviceEventInput& input) {
  httplib::Client client = makeHttpClient(input.server);
  const auto response = client.Post(input.server.url.base_path + "/api/v1/consultations/" +
                                        pathSegment(input.consultation) + "/events",
                                    {{"Authorization", "Bearer " + input.session_token}},
                                    input.body, "application/json");
  if (response && response->status == 204) return {};
  return "event: " + describe(response);
}

DeviceEventInput ConsultationSession::deviceEventInput(std::string body) const {
  return {server_, consultation_, token_, std::move(body)};
}

bool ConsultationSession::adoptCredentials(const std::string& body) {
  const auto credentials = parseCredentials(body);
  if (!credentials) {
    error_ = "the server's credentials are malformed";
    return false;
  }
  adopt(*credentials);
  return !consultation_.empty();
}

void ConsultationSession::adopt(const Credentials& credentials) {
  token_ = credentials.token;
  refresh_token_ = credentials.refresh_token;
  expires_in_ = credentials.expires_in;
  if (!credentials.consultation.empty()) consultation_ = credentials.consultation;
  if (!credentials.min_mode.empty()) min_mode_ = credentials.min_mode;
  turn_ = credentials.turn;
}

StatusInput ConsultationSession::statusInput() const {
  return {server_, consultation_, token_};
}

RefreshInput ConsultationSession::refreshInput() const {
  return {server_, consultation_, refresh_token_, token_};
}

bool ConsultationSession::redeem(const std::string& invite_code, const std::string& display_name) {
  nlohmann::json request = {{"invite", invite_code}};
  if (!display_name.empty()) request["display_name"] = display_name;
  httplib::Client client = makeHttpClient(server_);
  const auto response = client.Post(server_.url.base_path + "/api/v1/invites/redeem",
                                    request.dump(), "application/json");
  if (!response || response->status != 200) {
    error_ = "invite not accepted: " + describe(response);
    return false;
  }
  return adoptCredentials(response->body);
}

void ConsultationSession::leave() {
  httplib::Client client = makeHttpClient(server_);
  client.Post(consultationPath("/leave"), bearer());
}

std::optional<SubscribeOffer> ConsultationSession::subscribe() {
  httplib::Client client = makeHttpClient(server_);
  const auto response = client.Post(consultationPath("/subscribe"), bearer());
  if (!response || response->status != 201) {
    error_ = "subscribe: " + describe(response);
    return std::nullopt;
  }
  const auto json = nlohmann::json::parse(response->body, nullptr, false);
  if (!json.is_object() || !json.contains("id") || !json.contains("sdp") ||
      !json["sdp"].is_string()) {
    error_ = "subscribe: malformed reply";
    return std::nullopt;
  }
  const std::string id = json["id"].is_string() ? json["id"].get<std::string>() : json["id"].dump();
  return SubscribeOffer{id, json["sdp"].get<std::string>()};
}

bool ConsultationSession::answerSubscription(const std::string& id, const std::string& sdp) {
  httplib::Client client = makeHttpClient(server_);
  const auto response = client.Post(consultationPath("/subscribe/" + pathSegment(id) + "/answer"),
                                    bearer(), sdp, "application/sdp");
  if (!response || response->status / 100 != 2) {
    error_ = "subscription answer: " + describe(response);
    return false;
  }
  return true;
}

std::optional<bool> ConsultationSession::keepAlive(const std::string& id) {
  httplib::Client client = makeHttpClient(server_);
  const auto response =
      client.Post(consultationPath("/subscribe/" + pathSegment(id) + "/keepalive"), bearer());
  if (!response || response->status != 200) return std::nullopt;
  const auto json = nlohmann::json::parse(response->body, nullptr, false);
  return json.is_object() && json.contains("publisher") && json["publisher"].is_boolean() &&
         json["publisher"].get<bool>();
}

void ConsultationSession::unsubscribe(const std::string& id) {
  httplib::Client client = makeHttpClient(server_);
  client.Delete(consultationPath("/subscribe/" + pathSegment(id)), bearer());
}

}  // namespace veil::client
