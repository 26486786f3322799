#include "api_server.h"

#include <httplib.h>

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

namespace veil::server {
namespace {

using nlohmann::json;

constexpr const char* kCid = "([A-Za-z0-9_-]{1,64})";
constexpr const char* kId = "([0-9a-f]{32})";

std::string ApiPath(const std::string& suffix) {
  return std::string("/api/v1/consultations/") + kCid + suffix;
}

void SendError(httplib::Response& res, int status, std::string_view code,
               std::string_view message) {
  res.status = status;
  res.set_content(json{{"error", code}, {"message", message}}.dump(), "application/json");
}

// Fills the error body for statuses produced outside our handlers (unknown route, body too large).
std::pair<std::string_view, std::string_view> DefaultError(int status) {
  switch (status) {
    case 400:
      return {"bad_request", "malformed request"};
    case 404:
      return {"not_found", "no such resource"};
    case 405:
      return {"method_not_allowed", "method not allowed on this resource"};
    case 413:
      return {"payload_too_large", "request body over 64 KiB"};
    case 414:
      return {"bad_request", "URI too long"};
    default:
      return {"error", "request failed"};
  }
}

bool HasContentType(const httplib::Request& req, std::string_view expected) {
  const std::string value = req.get_header_value("Content-Type");
  return value.substr(0, value.find(';')) == expected;
}

// A complete SDP starts with its version line and has at least one media section.
bool LooksLikeSdp(const std::string& body) {
  return body.rfind("v=0\r\n", 0) == 0 && body.find("\r\nm=") != std::string::npos &&
         body.find('\0') == std::string::npos;
}

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return std::nullopt;
  std::ostringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

const char* ContentTypeFor(const std::string& name) {
  const std::string extension = name.substr(name.rfind('.') + 1);
  if (extension == "js") return "text/javascript; charset=utf-8";
  if (extension == "css") return "text/css; charset=utf-8";
  if (extension == "html") return "text/html; charset=utf-8";
  if (extension == "svg") return "image/svg+xml";
  return "application/octet-stream";
}

void SendSfuError(httplib::Response& res, const SfuError& error) {
  switch (error.kind()) {
    case SfuError::Kind::kUnavailable:
      SendError(res, 503, "sfu_unavailable", "the media server is not reachable");
      return;
    case SfuError::Kind::kRefused:
      SendError(res, 502, "sfu_error", error.what());
      return;
    case SfuError::Kind::kNotFound:
      SendError(res, 404, "not_found", error.what());
      return;
    case SfuError::Kind::kNoPublisher:
      SendError(res, 404, "no_publisher", error.what());
      return;
  }
}

}  // namespace

ApiServer::ApiServer(Sfu& sfu, const TokenSigner& tokens, std::string web_dir)
    : sfu_(sfu),
      tokens_(tokens),
      web_dir_(std::move(web_dir)),
      http_(std::make_unique<httplib::Server>()) {
  RegisterRoutes();
}

ApiServer::~ApiServer() = default;

bool ApiServer::Bind(const std::string& host, int port) {
  return http_->bind_to_port(host, port);
}

void ApiServer::Serve() {
  http_->listen_after_bind();
}

void ApiServer::Stop() {
  http_->stop();
}

void ApiServer::RegisterRoutes() {
  httplib::Server& http = *http_;
  http.set_payload_max_length(kMaxRequestBodyBytes);
  http.set_read_timeout(std::chrono::seconds(10));
  http.set_write_timeout(std::chrono::seconds(10));

  http.set_error_handler(
      httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        const auto [code, message] = DefaultError(res.status);
        res.set_content(json{{"error", code}, {"message", message}}.dump(), "application/json");
        return httplib::Server::HandlerResponse::Handled;
      }));
  http.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr error) {
        try {
          std::rethrow_exception(error);
        } catch (const std::exception& e) {
          std::cerr << "veil-server: request failed: " << e.what() << "\n";
        } catch (...) {
          std::cerr << "veil-server: request failed\n";
        }
        SendError(res, 500, "internal_error", "internal error");
      });
  // One line per request: method, path (ids only, never tokens: those travel in headers or URL
  // fragments) and status. No client addresses: they would identify patients.
  http.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    std::cerr << "veil-server: " << req.method << " " << req.path << " -> " << res.status << "\n";
  });
  http.set_post_routing_handler([](const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "no-store");
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Referrer-Policy", "no-referrer");
    res.set_header("X-Frame-Options", "DENY");
    res.set_header("Content-Security-Policy",
                   "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
                   "media-src 'self' blob:; img-src 'self' data:; base-uri 'none'; "
                   "form-action 'none'; frame-ancestors 'none'");
  });

  // Checks the bearer token against the consultation in the path and the role the route needs.
  // On failure the error response is already filled in.
  const auto authorize = [this](const httplib::Request& req, httplib::Response& res,
                                Role required) -> bool {
    const std::string header = req.get_header_value("Authorization");
    constexpr std::string_view kBearer = "Bearer ";
    if (header.size() <= kBearer.size() ||
        !std::equal(kBearer.begin(), kBearer.end(), header.begin(),
                    [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
      res.set_header("WWW-Authenticate", "Bearer");
      SendError(res, 401, "missing_token", "an Authorization: Bearer token is required");
      return false;
    }
    const TokenCheck check =
        tokens_.Verify(std::string_view(header).substr(kBearer.size()), UnixNow());
    if (!check.claims) {
      res.set_header("WWW-Authenticate", "Bearer error=\"invalid_token\"");
      SendError(
          res, 401, TokenErrorCode(check.error),
          check.error == TokenError::kExpired ? "the token has expired" : "the token is not valid");
      return false;
    }
    if (check.claims->consultation_id != req.matches[1].str()) {
      SendError(res, 403, "wrong_consultation", "the token is for another consultation");
      return false;
    }
    if (check.claims->role != required) {
      SendError(res, 403, "wrong_role",
                std::string("this endpoint needs a ") + std::string(RoleName(required)) + " token");
      return false;
    }
    return true;
  };

  http.Get("/healthz", [this](const httplib::Request&, httplib::Response& res) {
    const bool up = sfu_.Healthy();
    res.status = up ? 200 : 503;
    res.set_content(json{{"status", up ? "ok" : "degraded"}, {"sfu", up ? "up" : "down"}}.dump(),
                    "application/json");
  });

  // --- Publish (WHIP-style) ---
  http.Post(ApiPath("/whip"), [this, authorize](const httplib::Request& req,
                                                httplib::Response& res) {
    if (!authorize(req, res, Role::kPatient)) return;
    if (!HasContentType(req, "application/sdp")) {
      SendError(res, 415, "unsupported_media_type", "send the offer as application/sdp");
      return;
    }
    if (!LooksLikeSdp(req.body)) {
      SendError(res, 400, "bad_request", "the body is not an SDP offer");
      return;
    }
    const std::string cid = req.matches[1].str();
    try {
      const PublishResult published = sfu_.Publish(cid, req.body);
      res.status = 201;
      res.set_header("Location", "/api/v1/consultations/" + cid + "/whip/" + published.resource_id);
      res.set_content(published.answer_sdp, "application/sdp");
    } catch (const SfuError& error) {
      SendSfuError(res, error);
    }
  });
  http.Delete(ApiPath(std::string("/whip/") + kId),
              [this, authorize](const httplib::Request& req, httplib::Response& res) {
                if (!authorize(req, res, Role::kPatient)) return;
                try {
                  sfu_.Unpublish(req.matches[1].str(), req.matches[2].str());
                  res.status = 204;
                } catch (const SfuError& error) {
                  SendSfuError(res, error);
                }
              });
  http.Patch(ApiPath(std::string("/whip/") + kId),
             [](const httplib::Request&, httplib::Response& res) {
               SendError(res, 405, "method_not_allowed",
                         "trickle ICE is not supported: send a complete offer");
             });

  // --- Subscribe (server offer) ---
  http.Post(ApiPath("/subscribe"), [this, authorize](const httplib::Request& req,
                                                     httplib::Response& res) {
    if (!authorize(req, res, Role::kViewer)) return;
    try {
      const SubscribeResult subscribed = sfu_.Subscribe(req.matches[1].str());
      res.status = 201;
      res.set_content(
          json{{"id", subscribed.subscription_id}, {"type", "offer"}, {"sdp", subscribed.offer_sdp}}
              .dump(),
          "application/json");
    } catch (const SfuError& error) {
      SendSfuError(res, error);
    }
  });
  http.Post(ApiPath(std::string("/subscribe/") + kId + "/answer"),
            [this, authorize](const httplib::Request& req, httplib::Response& res) {
              if (!authorize(req, res, Role::kViewer)) return;
              if (!HasContentType(req, "application/sdp")) {
                SendError(res, 415, "unsupported_media_type", "send the answer as application/sdp");
                return;
              }
              if (!LooksLikeSdp(req.body)) {
                SendError(res, 400, "bad_request", "the body is not an SDP answer");
                return;
              }
              try {
                sfu_.AnswerSubscription(req.matches[1].str(), req.matches[2].str(), req.body);
                res.status = 204;
              } catch (const SfuError& error) {
                SendSfuError(res, error);
              }
            });
  http.Post(ApiPath(std::string("/subscribe/") + kId + "/keepalive"),
            [this, authorize](const httplib::Request& req, httplib::Response& res) {
              if (!authorize(req, res, Role::kViewer)) return;
              try {
                const bool publishing =
                    sfu_.KeepSubscriptionAlive(req.matches[1].str(), req.matches[2].str());
                res.set_content(json{{"publisher", publishing}}.dump(), "application/json");
              } catch (const SfuError& error) {
                SendSfuError(res, error);
              }
            });
  http.Delete(ApiPath(std::string("/subscribe/") + kId),
              [this, authorize](const httplib::Request& req, httplib::Response& res) {
                if (!authorize(req, res, Role::kViewer)) return;
                try {
                  sfu_.Unsubscribe(req.matches[1].str(), req.matches[2].str());
                  res.status = 204;
                } catch (const SfuError& error) {
                  SendSfuError(res, error);
                }
              });

  // --- Viewer page and its assets ---
  http.Get(std::string("/view/") + kCid, [this](const httplib::Request&, httplib::Response& res) {
    const std::optional<std::string> page = ReadFile(web_dir_ + "/viewer.html");
    if (!page) {
      SendError(res, 404, "not_found", "viewer page missing");
      return;
    }
    res.set_content(*page, "text/html; charset=utf-8");
  });
  // Only plain file names: no directories, so no path traversal.
  http.Get(R"(/static/([a-z0-9_-]{1,64}\.(js|css|svg)))",
           [this](const httplib::Request& req, httplib::Response& res) {
             const std::string name = req.matches[1].str();
             const std::optional<std::string> asset = ReadFile(web_dir_ + "/" + name);
             if (!asset) {
               SendError(res, 404, "not_found", "no such asset");
               return;
             }
             res.set_content(*asset, ContentTypeFor(name));
           });
}

}  // namespace veil::server
