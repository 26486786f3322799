#include "veil_server_stand_in.h"

#include <chrono>
#include <nlohmann/json.hpp>

namespace veil::client::testing {

std::string VeilServerStandIn::errorBody(const std::string& code, const std::string& message) {
  return nlohmann::json{{"error", code}, {"message", message}}.dump();
}

std::string VeilServerStandIn::credentialsBody(const std::string& token,
                                               const std::string& refresh_token, int expires_in,
                                               const std::string& state) {
  return nlohmann::json{{"consultation", kConsultation},
                        {"participant", "0123456789abcdef0123456789abcdef"},
                        {"token", token},
                        {"token_type", "Bearer"},
                        {"expires_in", expires_in},
                        {"refresh_token", refresh_token},
                        {"min_mode", "background"},
                        {"state", state},
                        {"turn", nullptr}}
      .dump();
}

VeilServerStandIn::VeilServerStandIn() {
  const std::string consultation = std::string("/api/v1/consultations/") + kConsultation;
  server_.Post("/api/v1/invites/redeem",
               [this](const httplib::Request&, httplib::Response& res) { serve(redeem_, res); });
  server_.Post("/api/v1/session/refresh",
               [this](const httplib::Request& req, httplib::Response& res) {
                 {
                   const std::lock_guard lock(mutex_);
                   last_refresh_body_ = req.body;
                 }
                 refresh_calls++;
                 if (status_in_progress_ > 0) refresh_calls_during_status++;
                 refreshing_ = true;
                 serve(refresh_, res);
                 refreshing_ = false;
               });
  server_.Get(consultation + "/status",
              [this](const httplib::Request& req, httplib::Response& res) {
                {
                  const std::lock_guard lock(mutex_);
                  last_status_authorization_ = req.get_header_value("Authorization");
                }
                status_calls++;
                if (refreshing_) status_calls_during_refresh++;
                status_in_progress_++;
                serve(status_, res);
                status_in_progress_--;
              });
  server_.Post(consultation + "/leave", [this](const httplib::Request&, httplib::Response& res) {
    leave_calls++;
    res.status = 204;
  });
  port_ = server_.bind_to_any_port("127.0.0.1");
  thread_ = std::jthread([this] { server_.listen_after_bind(); });
  // The socket already listens (bind_to_any_port); wait, bounded, for the accept loop too.
  for (int i = 0; i < 1000 && !server_.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

VeilServerStandIn::~VeilServerStandIn() {
  server_.stop();
}

void VeilServerStandIn::set(Route& slot, Route route) {
  const std::lock_guard lock(mutex_);
  slot = std::move(route);
}

VeilServerStandIn::Reply VeilServerStandIn::answer(const Route& route) {
  Route copy;
  {
    const std::lock_guard lock(mutex_);
    copy = route;
  }
  return copy ? copy() : Reply{404, errorBody("not_found", "no such resource")};
}

void VeilServerStandIn::serve(const Route& route, httplib::Response& res) {
  const Reply reply = answer(route);
  if (reply.delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(reply.delay_ms));
  res.status = reply.status;
  res.set_content(reply.body, "application/json");
}

ServerEndpoint VeilServerStandIn::endpoint() const {
  return {{"http://127.0.0.1:" + std::to_string(port_), ""}, ""};
}

std::string VeilServerStandIn::inviteUrl() const {
  return "http://127.0.0.1:" + std::to_string(port_) + "/join#invite=" + std::string(43, 'A');
}

std::string VeilServerStandIn::lastRefreshBody() const {
  const std::lock_guard lock(mutex_);
  return last_refresh_body_;
}

std::string VeilServerStandIn::lastStatusAuthorization() const {
  const std::lock_guard lock(mutex_);
  return last_status_authorization_;
}

}  // namespace veil::client::testing
