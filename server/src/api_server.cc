#include "api_server.h"

#include <httplib.h>

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "api_error.h"
#include "request_parsing.h"

namespace veil::server {
namespace {

using nlohmann::json;

constexpr const char* kCid = "([A-Za-z0-9_-]{1,64})";
constexpr const char* kId = "([0-9a-f]{32})";
constexpr const char* kSessionCookie = "__Host-veil_session";

std::string ApiPath(const std::string& suffix) {
  return std::string("/api/v1/consultations/") + kCid + suffix;
}

void SendError(httplib::Response& res, int status, std::string_view code,
               std::string_view message) {
  res.status = status;
  res.set_content(json{{"error", code}, {"message", message}}.dump(), "application/json");
}

void SendJson(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
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
    case SfuError::Kind::kConflict:
      SendError(res, 409, "publisher_conflict", error.what());
      return;
  }
}

// Runs a handler, turning the errors it may throw into JSON error responses.
template <typename Handler>
void Guard(httplib::Response& res, Handler&& handler) {
  try {
    handler();
  } catch (const ApiError& error) {
    SendError(res, error.status(), error.code(), error.what());
  } catch (const SfuError& error) {
    SendSfuError(res, error);
  }
}

// Parses a JSON body with `parser` or throws 415/400.
template <typename Parser>
auto ParseBody(const httplib::Request& req, Parser parser) {
  if (!req.body.empty() && !HasContentType(req, "application/json")) {
    throw ApiError(415, "unsupported_media_type", "send JSON as application/json");
  }
  auto parsed = parser(req.body);
  if (!parsed.value) throw ApiError(400, "bad_request", parsed.error);
  return *parsed.value;
}

bool CarriesIdentityHeaders(const httplib::Request& req) {
  for (const auto& [name, value] : req.headers) {
    if (name.size() >= 7 && strncasecmp(name.c_str(), "X-Veil-", 7) == 0) return true;
  }
  return false;
}

std::string SetCookieHeader(const std::string& value, std::int64_t max_age) {
  return std::string(kSessionCookie) + "=" + value + "; Path=/; Secure; HttpOnly; SameSite=Strict" +
         "; Max-Age=" + std::to_string(max_age);
}

}  // namespace

ApiServer::ApiServer(ApiServices services, ListenerKind kind, std::string web_dir,
                     const std::optional<TlsFiles>& tls)
    : services_(services), kind_(kind), tls_(tls.has_value()), web_dir_(std::move(web_dir)) {
  if (tls) {
    http_ = std::make_unique<httplib::SSLServer>(tls->certificate_path.c_str(),
                                                 tls->private_key_path.c_str());
  } else {
    http_ = std::make_unique<httplib::Server>();
  }
  RegisterRoutes();
}

ApiServer::~ApiServer() = default;

bool ApiServer::Bind(const std::string& host, int port) {
  return http_->is_valid() && http_->bind_to_port(host, port);
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
  // One line per request: method, path (ids only, never tokens: those travel in headers, bodies
  // or URL fragments) and status. No client addresses: they would identify patients.
  http.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    services_.metrics.Increment("veil_http_responses_total", "code",
                                std::to_string(res.status / 100) + "xx");
    std::cerr << "veil-server: " << req.method << " " << req.path << " -> " << res.status << "\n";
  });
  // Identity headers are only believed on the proxy's private listener (security-design §3.2).
  http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (kind_ == ListenerKind::kPublic && CarriesIdentityHeaders(req)) {
      services_.store.Audit({"token.denied", "unknown", "", "", "denied", "identity_header", ""},
                            UnixNow());
      SendError(res, 400, "bad_request", "identity headers are not accepted here");
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  http.set_post_routing_handler([this](const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "no-store");
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Referrer-Policy", "no-referrer");
    res.set_header("X-Frame-Options", "DENY");
    res.set_header("Cross-Origin-Opener-Policy", "same-origin");
    res.set_header("Permissions-Policy", "camera=(self), microphone=(self), geolocation=()");
    if (tls_) res.set_header("Strict-Transport-Security", "max-age=31536000");
    res.set_header("Content-Security-Policy",
                   "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
                   "media-src 'self' blob:; img-src 'self' data:; base-uri 'none'; "
                   "form-action 'none'; frame-ancestors 'none'");
  });

  http.Get("/healthz", [this](const httplib::Request&, httplib::Response& res) {
    const bool up = services_.consultations.Gauges().at("veil_sfu_up") == 1;
    SendJson(res, up ? 200 : 503,
             {{"status", up ? "ok" : "degraded"}, {"sfu", up ? "up" : "down"}});
  });
  http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(services_.metrics.Render(services_.consultations.Gauges()),
                    "text/plain; version=0.0.4");
  });

  RegisterClinicianRoutes();
  RegisterPatientRoutes();
  RegisterMediaRoutes();
  RegisterPages();
}

void ApiServer::RegisterClinicianRoutes() {
  httplib::Server& http = *http_;
  const ServerConfig& config = services_.config;

  // State-changing cookie requests must come from our own origin (CSRF, security-design §3.1).
  const auto check_origin = [&config](const httplib::Request& req) {
    if (req.get_header_value("Origin") != config.public_origin) {
      throw ApiError(403, "bad_origin", "cross-origin request refused");
    }
  };
  // The signed-in clinician: the cookie session, or (proxy listener) the proxy's identity, which
  // then gets a cookie session of its own.
  const auto session = [this](const httplib::Request& req, httplib::Response& res) -> WebSession {
    const std::optional<std::string> cookie = SessionCookie(req.get_header_value("Cookie"));
    if (kind_ == ListenerKind::kTrustedProxy && req.has_header("X-Veil-User")) {
      if (cookie) {
        try {
          return services_.auth.Resolve(cookie);
        } catch (const ApiError&) {
        }
      }
      const SignIn signed_in = services_.auth.ProxySignIn(req.get_header_value("X-Veil-User"),
                                                          req.get_header_value("X-Veil-Groups"));
      res.set_header("Set-Cookie",
                     SetCookieHeader(signed_in.cookie, services_.config.session_absolute_seconds));
      return services_.auth.Resolve(signed_in.cookie);
    }
    return services_.auth.Resolve(cookie);
  };

  http.Post("/api/v1/auth/login", [this, check_origin](const httplib::Request& req,
                                                       httplib::Response& res) {
    Guard(res, [&] {
      check_origin(req);
      if (services_.config.auth_mode != AuthMode::kLocal) {
        throw ApiError(404, "not_found", "password sign-in is disabled (proxy mode)");
      }
      const LoginRequest login = ParseBody(req, ParseLoginRequest);
      const SignIn signed_in = services_.auth.Login(login, req.remote_addr);
      res.set_header("Set-Cookie",
                     SetCookieHeader(signed_in.cookie, services_.config.session_absolute_seconds));
      SendJson(res, 200,
               {{"username", signed_in.account.username}, {"admin", signed_in.account.admin}});
    });
  });
  http.Post("/api/v1/auth/logout",
            [this, check_origin, session](const httplib::Request& req, httplib::Response& res) {
              Guard(res, [&] {
                check_origin(req);
                services_.auth.Logout(session(req, res));
                res.set_header("Set-Cookie", SetCookieHeader("", 0));
                res.status = 204;
              });
            });
  http.Get("/api/v1/auth/me", [session](const httplib::Request& req, httplib::Response& res) {
    Guard(res, [&] {
      const WebSession web = session(req, res);
      SendJson(res, 200, {{"username", web.account.username}, {"admin", web.account.admin}});
    });
  });

  http.Get("/api/v1/consultations", [this, session](const httplib::Request& req,
                                                    httplib::Response& res) {
    Guard(res, [&] { SendJson(res, 200, services_.consultations.List(session(req, res))); });
  });
  http.Post("/api/v1/consultations", [this, check_origin, session](const httplib::Request& req,
                                                                   httplib::Response& res) {
    Guard(res, [&] {
      check_origin(req);
      const WebSession web = session(req, res);
      const CreateConsultationRequest create = ParseBody(req, ParseCreateConsultationRequest);
      SendJson(res, 201, services_.consultations.Create(web, create));
    });
  });
  http.Get(ApiPath(""), [this, session](const httplib::Request& req, httplib::Response& res) {
    Guard(res, [&] {
      SendJson(res, 200, services_.consultations.View(session(req, res), req.matches[1].str()));
    });
  });
  http.Post(ApiPath("/end"),
            [this, check_origin, session](const httplib::Request& req, httplib::Response& res) {
              Guard(res, [&] {
                check_origin(req);
                services_.consultations.End(session(req, res), req.matches[1].str());
                res.status = 204;
              });
            });
  http.Post(ApiPath("/invite"), [this, check_origin, session](const httplib::Request& req,
                                                              httplib::Response& res) {
    Guard(res, [&] {
      check_origin(req);
      SendJson(res, 201,
               services_.consultations.NewInvite(session(req, res), req.matches[1].str()));
    });
  });
  http.Post(ApiPath(std::string("/participants/") + kId + "/(admit|reject)"),
            [this, check_origin, session](const httplib::Request& req, httplib::Response& res) {
              Guard(res, [&] {
                check_origin(req);
                const WebSession web = session(req, res);
                if (req.matches[3].str() == "admit") {
                  services_.consultations.Admit(web, req.matches[1].str(), req.matches[2].str());
                } else {
                  services_.consultations.Reject(web, req.matches[1].str(), req.matches[2].str());
                }
                res.status = 204;
              });
            });
  http.Post(ApiPath("/token"), [this, check_origin, session](const httplib::Request& req,
                                                             httplib::Response& res) {
    Guard(res, [&] {
      check_origin(req);
      SendJson(res, 200,
               services_.consultations.ClinicianToken(session(req, res), req.matches[1].str()));
    });
  });
  http.Post(ApiPath("/mode-request"),
            [this, check_origin, session](const httplib::Request& req, httplib::Response& res) {
              Guard(res, [&] {
                check_origin(req);
                const WebSession web = session(req, res);
                const ModeChangeRequest request = ParseBody(req, ParseModeChangeRequest);
                services_.consultations.RequestMode(web, req.matches[1].str(), request.mode);
                res.status = 204;
              });
            });
  http.Get("/api/v1/audit", [this, session](const httplib::Request& req, httplib::Response& res) {
    Guard(res, [&] {
      const WebSession web = session(req, res);
      if (!web.account.admin) throw ApiError(403, "forbidden", "admins only");
      services_.store.Audit(
          {"audit.export", "acct-" + std::to_string(web.account.id), "admin", "", "ok", "", ""},
          UnixNow());
      std::string lines;
      for (const std::string& line : services_.store.AuditLines()) lines += line + "\n";
      res.set_content(lines, "application/x-ndjson");
    });
  });
}

void ApiServer::RegisterPatientRoutes() {
  httplib::Server& http = *http_;
  http.Post("/api/v1/invites/redeem", [this](const httplib::Request& req, httplib::Response& res) {
    Guard(res, [&] {
      const RedeemRequest redeem = ParseBody(req, ParseRedeemRequest);
      SendJson(res, 200, services_.consultations.Redeem(redeem, req.remote_addr));
    });
  });
  http.Post("/api/v1/session/refresh", [this](const httplib::Request& req, httplib::Response& res) {
    Guard(res, [&] {
      const RefreshRequest refresh = ParseBody(req, ParseRefreshRequest);
      SendJson(res, 200, services_.consultations.Refresh(refresh));
    });
  });
  http.Get(ApiPath("/status"), [this](const httplib::Request& req, httplib::Response& res) {
    Guard(res, [&] {
      const Caller caller = services_.consultations.Authorize(
          req.get_header_value("Authorization"), req.matches[1].str(), Access::kPatientAnyState);
      SendJson(res, 200, services_.consultations.Status(caller));
    });
  });
  http.Post(ApiPath("/leave"), [this](const httplib::Request& req, httplib::Response& res) {
    Guard(res, [&] {
      const Caller caller = services_.consultations.Authorize(
          req.get_header_value("Authorization"), req.matches[1].str(), Access::kPatientAnyState);
      services_.consultations.Leave(caller);
      res.status = 204;
    });
  });
  http.Post(ApiPath("/events"), [this](const httplib::Request& req, httplib::Response& res) {
    Guard(res, [&] {
      const Caller caller = services_.consultations.Authorize(
          req.get_header_value("Authorization"), req.matches[1].str(), Access::kPatientAdmitted);
      services_.consultations.RecordDeviceEvent(caller, ParseBody(req, ParseDeviceEvent));
      res.status = 204;
    });
  });
}

void ApiServer::RegisterMediaRoutes() {
  httplib::Server& http = *http_;
  const auto publisher = [this](const httplib::Request& req) {
    return services_.consultations.Authorize(req.get_header_value("Authorization"),
                                             req.matches[1].str(), Access::kPublish);
  };
  const auto media_caller = [this](const httplib::Request& req) {
    return services_.consultations.Authorize(req.get_header_value("Authorization"),
                                             req.matches[1].str(), Access::kSubscribe);
  };

  // --- Publish (WHIP-style): the admitted patient's redacted feed or the clinician's camera ---
  http.Post(ApiPath("/whip"), [this, publisher](const httplib::Request& req,
                                                httplib::Response& res) {
    Guard(res, [&] {
      const Caller caller = publisher(req);
      if (!HasContentType(req, "application/sdp")) {
        throw ApiError(415, "unsupported_media_type", "send the offer as application/sdp");
      }
      if (!LooksLikeSdp(req.body))
        throw ApiError(400, "bad_request", "the body is not an SDP offer");
      const std::string cid = req.matches[1].str();
      const PublishResult published = services_.consultations.Publish(caller, req.body);
      res.status = 201;
      res.set_header("Location", "/api/v1/consultations/" + cid + "/whip/" + published.resource_id);
      res.set_content(published.answer_sdp, "application/sdp");
    });
  });
  http.Delete(ApiPath(std::string("/whip/") + kId),
              [this, publisher](const httplib::Request& req, httplib::Response& res) {
                Guard(res, [&] {
                  services_.consultations.Unpublish(publisher(req), req.matches[2].str());
                  res.status = 204;
                });
              });
  http.Patch(ApiPath(std::string("/whip/") + kId),
             [](const httplib::Request&, httplib::Response& res) {
               SendError(res, 405, "method_not_allowed",
                         "trickle ICE is not supported: send a complete offer");
             });

  // --- Subscribe (server offer): each side receives the other's feed ---
  http.Post(ApiPath("/subscribe"), [this, media_caller](const httplib::Request& req,
                                                        httplib::Response& res) {
    Guard(res, [&] {
      const SubscribeResult subscribed = services_.consultations.Subscribe(media_caller(req));
      SendJson(
          res, 201,
          {{"id", subscribed.subscription_id}, {"type", "offer"}, {"sdp", subscribed.offer_sdp}});
    });
  });
  http.Post(ApiPath(std::string("/subscribe/") + kId + "/answer"),
            [this, media_caller](const httplib::Request& req, httplib::Response& res) {
              Guard(res, [&] {
                const Caller caller = media_caller(req);
                if (!HasContentType(req, "application/sdp")) {
                  throw ApiError(415, "unsupported_media_type",
                                 "send the answer as application/sdp");
                }
                if (!LooksLikeSdp(req.body)) {
                  throw ApiError(400, "bad_request", "the body is not an SDP answer");
                }
                services_.consultations.WithOwnSubscription(caller, [&] {
                  services_.consultations.sfu().AnswerSubscription(
                      req.matches[1].str(), caller.claims.subject, req.matches[2].str(), req.body);
                });
                res.status = 204;
              });
            });
  http.Post(ApiPath(std::string("/subscribe/") + kId + "/keepalive"),
            [this, media_caller](const httplib::Request& req, httplib::Response& res) {
              Guard(res, [&] {
                const Caller caller = media_caller(req);
                bool publishing = false;
                services_.consultations.WithOwnSubscription(caller, [&] {
                  publishing = services_.consultations.sfu().KeepSubscriptionAlive(
                      req.matches[1].str(), caller.claims.subject, req.matches[2].str());
                });
                SendJson(res, 200, {{"publisher", publishing}});
              });
            });
  http.Delete(ApiPath(std::string("/subscribe/") + kId),
              [this, media_caller](const httplib::Request& req, httplib::Response& res) {
                Guard(res, [&] {
                  const Caller caller = media_caller(req);
                  services_.consultations.WithOwnSubscription(caller, [&] {
                    services_.consultations.sfu().Unsubscribe(
                        req.matches[1].str(), caller.claims.subject, req.matches[2].str());
                  });
                  services_.consultations.AuditSubscriptionStop(caller);
                  res.status = 204;
                });
              });
}

void ApiServer::RegisterPages() {
  httplib::Server& http = *http_;
  const auto page = [this](const std::string& file) {
    return [this, file](const httplib::Request&, httplib::Response& res) {
      const std::optional<std::string> html = ReadFile(web_dir_ + "/" + file);
      if (!html) {
        SendError(res, 404, "not_found", "page missing");
        return;
      }
      res.set_content(*html, "text/html; charset=utf-8");
    };
  };
  http.Get("/", [](const httplib::Request&, httplib::Response& res) { res.set_redirect("/app"); });
  http.Get("/app", page("app.html"));
  http.Get("/join", page("join.html"));
  http.Get(std::string("/view/") + kCid, page("viewer.html"));
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
