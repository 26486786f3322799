// Consultations, invites, the waiting room, patient session credentials and the media relay's
// authorisation (security-design §4-§9). Every denial is audited; every token is checked against
// the consultation's and the participant's current state on each request.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "auth_service.h"
#include "idle_tracker.h"
#include "metrics.h"
#include "rate_limiter.h"
#include "request_parsing.h"
#include "server_config.h"
#include "sfu.h"
#include "store.h"
#include "token.h"

namespace veil::server {

// What a bearer token was accepted for.
struct Caller {
  TokenClaims claims;
  bool demo = false;  // a `mint-token` token for the demo consultation
};

enum class Access {
  kPatientAnyState,  // waiting or admitted patient (status, leave)
  kPatientAdmitted,  // admitted patient only (device events)
  kPublish,          // admitted patient or the owning clinician
  kSubscribe,        // admitted patient or the owning clinician
};

class ConsultationService {
 public:
  ConsultationService(Store& store, Sfu& sfu, const TokenSigner& tokens, const ServerConfig& config,
                      Metrics& metrics);
  ~ConsultationService();
  ConsultationService(const ConsultationService&) = delete;
  ConsultationService& operator=(const ConsultationService&) = delete;

  // --- clinician (cookie session) ---
  nlohmann::json Create(const WebSession& session, const CreateConsultationRequest& request);
  nlohmann::json List(const WebSession& session);
  nlohmann::json View(const WebSession& session, const std::string& cid);
  nlohmann::json NewInvite(const WebSession& session, const std::string& cid);
  void End(const WebSession& session, const std::string& cid);
  void Admit(const WebSession& session, const std::string& cid, const std::string& sub);
  void Reject(const WebSession& session, const std::string& cid, const std::string& sub);
  nlohmann::json ClinicianToken(const WebSession& session, const std::string& cid);
  void RequestMode(const WebSession& session, const std::string& cid, const std::string& mode);

  // --- patient credentials ---
  nlohmann::json Redeem(const RedeemRequest& request, const std::string& client_key);
  nlohmann::json Refresh(const RefreshRequest& request);

  // --- bearer-token endpoints ---
  // Throws ApiError (401/403/404/410) after auditing `token.denied`.
  Caller Authorize(std::string_view authorization_header, const std::string& cid, Access access);
  nlohmann::json Status(const Caller& caller);
  void Leave(const Caller& caller);
  void RecordDeviceEvent(const Caller& caller, const DeviceEvent& event);
  PublishResult Publish(const Caller& caller, std::string_view offer_sdp);
  void Unpublish(const Caller& caller, const std::string& resource_id);
  SubscribeResult Subscribe(const Caller& caller);
  void AuditSubscriptionStop(const Caller& caller);
  // Runs `operation` on a subscription the caller names by id. One that is not the caller's
  // answers 404 like an unknown id (nobody can probe others' ids), and is audited as a denial.
  void WithOwnSubscription(const Caller& caller, const std::function<void()>& operation);

  // Demo only: the consultations `mint-token` tokens are accepted for.
  void EnsureDemoConsultations();
  std::map<std::string, std::int64_t> Gauges();
  // Subscription answer/keepalive/teardown need no more than the caller's authorisation.
  Sfu& sfu() { return sfu_; }

 private:
  Consultation OwnedOpenConsultation(const WebSession& session, const std::string& cid);
  void EndConsultation(const std::string& cid, const std::string& actor, const std::string& reason);
  void RemoveParticipant(const std::string& cid, const std::string& sub, ParticipantState to);
  nlohmann::json PatientCredentials(const std::string& cid, const std::string& sub,
                                    const std::string& refresh_token);
  nlohmann::json TurnFor(const std::string& sub, const std::string& cid);
  [[noreturn]] void Deny(int status, const std::string& code, const std::string& message,
                         const std::string& reason, const std::string& actor,
                         const std::string& role, const std::string& cid);
  void Sweep();
  void EndIdleConsultations(std::int64_t now);

  Store& store_;
  Sfu& sfu_;
  const TokenSigner& tokens_;
  const ServerConfig& config_;
  Metrics& metrics_;
  RateLimiter redeem_failures_{10, std::chrono::minutes(15)};
  IdleTracker idle_;

  std::mutex sweeper_mutex_;
  std::condition_variable sweeper_wake_;
  bool stopping_ = false;
  std::thread sweeper_;
};

}  // namespace veil::server
