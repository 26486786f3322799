// veil-server's HTTP API on one listener: clinician sign-in and consultation management (cookie
// session + Origin check), invite redemption and refresh, and the signalling relay (bearer
// tokens) to the Sfu. See server/README.md for the contract.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "auth_service.h"
#include "consultation_service.h"
#include "metrics.h"
#include "server_config.h"
#include "tls.h"

namespace httplib {
class Server;
}

namespace veil::server {

inline constexpr std::size_t kMaxRequestBodyBytes = 64 * 1024;

enum class ListenerKind {
  kPublic,        // browsers and patients; `X-Veil-*` identity headers are refused
  kTrustedProxy,  // reachable only by the OIDC reverse proxy; its identity headers are trusted
};

struct ApiServices {
  AuthService& auth;
  ConsultationService& consultations;
  Metrics& metrics;
  const ServerConfig& config;
  Store& store;
};

class ApiServer {
 public:
  ApiServer(ApiServices services, ListenerKind kind, std::string web_dir,
            const std::optional<TlsFiles>& tls);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Binds; returns false if the address cannot be bound (or TLS material is unusable).
  bool Bind(const std::string& host, int port);
  // Serves until Stop() is called (from another thread or a signal watcher).
  void Serve();
  void Stop();

 private:
  void RegisterRoutes();
  void RegisterClinicianRoutes();
  void RegisterPatientRoutes();
  void RegisterMediaRoutes();
  void RegisterPages();

  ApiServices services_;
  const ListenerKind kind_;
  const bool tls_;
  const std::string web_dir_;
  std::unique_ptr<httplib::Server> http_;
};

}  // namespace veil::server
