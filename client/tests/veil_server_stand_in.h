#pragma once

#include <httplib.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "http_client.h"

namespace veil::client::testing {

// A real HTTP server on loopback with veil-server's patient routes (server/README.md), each
// answering what the test sets; bodies are veil-server's own (its error shape and codes).
// Handlers run on the server's threads; the replies are guarded by a mutex.
class VeilServerStandIn {
 public:
  struct Reply {
    int status = 200;
    std::string body = "{}";
    int delay_ms = 0;  // before answering: a slow server
  };
  using Route = std::function<Reply()>;

  static std::string errorBody(const std::string& code, const std::string& message);
  // A redeem/refresh body with these credentials (no TURN).
  static std::string credentialsBody(const std::string& token, const std::string& refresh_token,
                                     int expires_in, const std::string& state);

  VeilServerStandIn();
  ~VeilServerStandIn();
  VeilServerStandIn(const VeilServerStandIn&) = delete;
  VeilServerStandIn& operator=(const VeilServerStandIn&) = delete;

  void onRedeem(Route route) { set(redeem_, std::move(route)); }
  void onRefresh(Route route) { set(refresh_, std::move(route)); }
  void onStatus(Route route) { set(status_, std::move(route)); }

  ServerEndpoint endpoint() const;
  std::string inviteUrl() const;  // http://127.0.0.1:PORT/join#invite=<43 characters>

  static constexpr const char* kConsultation = "c-1";
  std::atomic<int> refresh_calls{0};
  std::atomic<int> status_calls{0};
  std::atomic<int> status_calls_during_refresh{0};
  std::atomic<int> refresh_calls_during_status{0};
  std::atomic<int> leave_calls{0};
  std::string lastRefreshBody() const;
  std::string lastStatusAuthorization() const;

 private:
  void set(Route& slot, Route route);
  Reply answer(const Route& route);
  void serve(const Route& route, httplib::Response& res);

  mutable std::mutex mutex_;
  Route redeem_;
  Route refresh_;
  Route status_;
  std::string last_refresh_body_;
  std::string last_status_authorization_;
  std::atomic<bool> refreshing_{false};
  std::atomic<int> status_in_progress_{0};
  httplib::Server server_;
  int port_ = 0;
  std::jthread thread_;
};

}  // namespace veil::client::testing
