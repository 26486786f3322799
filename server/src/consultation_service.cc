#include "consultation_service.h"

#include <iostream>

#include "api_error.h"
#include "crypto.h"
#include "turn.h"

namespace veil::server {
namespace {

using nlohmann::json;

std::string AccountSubject(std::int64_t id) {
  return "acct-" + std::to_string(id);
}

std::string NewSecretToken() {
  return Base64UrlEncode(RandomBytes(32));
}

bool IsLive(ParticipantState state) {
  return state == ParticipantState::kWaiting || state == ParticipantState::kAdmitted;
}

}  // namespace

ConsultationService::ConsultationService(Store& store, Sfu& sfu, const TokenSigner& tokens,
                                         const ServerConfig& config, Metrics& metrics)
    : store_(store),
      sfu_(sfu),
      tokens_(tokens),
      config_(config),
      metrics_(metrics),
      idle_(config.idle_end_seconds, config.ActivityWindowSeconds()) {
  // After a restart nobody is connected yet: consultations someone had joined before count as
  // joined, so they still end when nobody comes back.
  for (const std::string& cid : store_.OpenConsultationsCreatedBefore(UnixNow() + 1)) {
    for (const Participant& p : store_.ParticipantsOf(cid)) {
      if (p.state != ParticipantState::kWaiting && p.state != ParticipantState::kRejected) {
        idle_.MarkJoined(cid);
      }
    }
  }
  const auto interval = std::chrono::seconds(config_.SweepIntervalSeconds());
  sweeper_ = std::thread([this, interval] {
    std::unique_lock lock(sweeper_mutex_);
    while (!sweeper_wake_.wait_for(lock, interval, [this] { return stopping_; })) {
      lock.unlock();
      try {
        Sweep();
      } catch (const std::exception& error) {
        std::cerr << "veil-server: sweep failed: " << error.what() << "\n";
      }
      lock.lock();
    }
  });
}

ConsultationService::~ConsultationService() {
  {
    std::lock_guard lock(sweeper_mutex_);
    stopping_ = true;
  }
  sweeper_wake_.notify_all();
  sweeper_.join();
}

void ConsultationService::Sweep() {
  const std::int64_t now = UnixNow();
  for (const std::string& cid :
       store_.OpenConsultationsCreatedBefore(now - config_.max_consultation_seconds)) {
    EndConsultation(cid, "system", "max_duration");
  }
  EndIdleConsultations(now);
  store_.PurgeExpiredTokenIds(now);
  const std::int64_t retention = config_.retention_days * 24 * 3600;
  store_.Purge(now - retention, now - retention);
}

void ConsultationService::EndIdleConsultations(std::int64_t now) {
  // Demo consultations are excluded by the store query (they must survive a demo restart).
  for (const std::string& cid : store_.OpenConsultationsCreatedBefore(now + 1)) {
    bool media_present = true;  // an unreachable SFU must not end a consultation
    try {
      media_present = sfu_.HasMediaSessions(cid);
    } catch (const SfuError&) {
    }
    if (idle_.Observe(cid, media_present, now)) EndConsultation(cid, "system", "idle");
  }
}

void ConsultationService::Deny(int status, const std::string& code, const std::string& message,
                               const std::string& reason, const std::string& actor,
                               const std::string& role, const std::string& cid) {
  metrics_.Increment("veil_tokens_denied_total", "reason", reason);
  store_.Audit({"token.denied", actor, role, cid, "denied", reason, ""}, UnixNow());
  throw ApiError(status, code, message);
}

// --- clinician ---

Consultation ConsultationService::OwnedOpenConsultation(const WebSession& session,
                                                        const std::string& cid) {
  const std::optional<Consultation> consultation = store_.FindConsultation(cid);
  const std::string actor = AccountSubject(session.account.id);
  if (!consultation) throw ApiError(404, "not_found", "no such consultation");
  if (consultation->owner != session.account.id) {
    Deny(403, "not_owner", "this consultation belongs to another clinician", "not_owner", actor,
         "clinician", cid);
  }
  if (consultation->ended) throw ApiError(410, "consultation_ended", "the consultation has ended");
  return *consultation;
}

json ConsultationService::Create(const WebSession& session,
                                 const CreateConsultationRequest& request) {
  const std::int64_t now = UnixNow();
  Consultation consultation;
  consultation.cid = RandomHex(16);
  consultation.owner = session.account.id;
  consultation.min_mode = request.min_mode.empty() ? config_.default_min_mode : request.min_mode;
  consultation.created_at = now;
  store_.AddConsultation(consultation);
  const std::string actor = AccountSubject(session.account.id);
  store_.Audit({"consultation.create", actor, "clinician", consultation.cid, "ok", "",
                "min_mode=" + consultation.min_mode},
               now);
  metrics_.Increment("veil_consultations_created_total");
  try {
    sfu_.EnsureRoom(consultation.cid);
  } catch (const SfuError& error) {
    std::cerr << "veil-server: room creation failed; the room is created at first publish\n";
  }
  const std::string invite = NewSecretToken();
  const std::int64_t ttl =
      request.invite_ttl_seconds > 0 ? request.invite_ttl_seconds : config_.invite_ttl_seconds;
  store_.AddInvite(Sha256Hex(invite), consultation.cid, now + ttl);
  store_.Audit({"invite.create", actor, "clinician", consultation.cid, "ok", "", ""}, now);
  return json{{"id", consultation.cid},
              {"min_mode", consultation.min_mode},
              {"invite", invite},
              {"invite_url", config_.public_origin + "/join#invite=" + invite},
              {"invite_expires_at", now + ttl}};
}

json ConsultationService::List(const WebSession& session) {
  json out = json::array();
  for (const Consultation& c : store_.OpenConsultationsOf(session.account.id)) {
    out.push_back({{"id", c.cid}, {"min_mode", c.min_mode}, {"created_at", c.created_at}});
  }
  return out;
}

json ConsultationService::View(const WebSession& session, const std::string& cid) {
  const Consultation consultation = OwnedOpenConsultation(session, cid);
  const std::int64_t now = UnixNow();
  idle_.Touch(cid, now);  // the clinician has the consultation open (the app polls it)
  json participants = json::array();
  for (const Participant& p : store_.ParticipantsOf(cid)) {
    if (!IsLive(p.state)) continue;
    participants.push_back({{"id", p.sub},
                            {"state", ParticipantStateName(p.state)},
                            {"display_name", p.display_name},
                            {"waiting_seconds", now - p.joined_at}});
  }
  bool patient_publishing = false;
  bool patient_receiving = false;
  try {
    patient_publishing = sfu_.IsPublishing(cid, FeedSlot::kPatient);
    patient_receiving = sfu_.IsReceiving(cid, FeedSlot::kClinician);
  } catch (const SfuError&) {
  }
  return json{{"id", cid},
              {"min_mode", consultation.min_mode},
              {"state", "open"},
              {"participants", participants},
              {"patient_publishing", patient_publishing},
              {"patient_receiving", patient_receiving}};
}

json ConsultationService::NewInvite(const WebSession& session, const std::string& cid) {
  OwnedOpenConsultation(session, cid);
  const std::int64_t now = UnixNow();
  const std::string actor = AccountSubject(session.account.id);
  if (store_.RevokeInvites(cid) > 0) {
    store_.Audit({"invite.revoke", actor, "clinician", cid, "ok", "replaced", ""}, now);
  }
  const std::string invite = NewSecretToken();
  store_.AddInvite(Sha256Hex(invite), cid, now + config_.invite_ttl_seconds);
  store_.Audit({"invite.create", actor, "clinician", cid, "ok", "", ""}, now);
  return json{{"invite", invite},
              {"invite_url", config_.public_origin + "/join#invite=" + invite},
              {"invite_expires_at", now + config_.invite_ttl_seconds}};
}

void ConsultationService::EndConsultation(const std::string& cid, const std::string& actor,
                                          const std::string& reason) {
  const std::int64_t now = UnixNow();
  idle_.Forget(cid);
  if (!store_.EndConsultation(cid, now, reason)) return;
  for (const Participant& p : store_.ParticipantsOf(cid)) {
    store_.RevokeTokensOf(p.sub, now);
  }
  store_.Audit({"consultation.end", actor, actor == "system" ? "system" : "clinician", cid, "ok",
                reason, ""},
               now);
  metrics_.Increment("veil_consultations_ended_total", "reason", reason);
  try {
    sfu_.DestroyRoom(cid);
  } catch (const SfuError& error) {
    // Tokens already fail; Janus forgets the room when it restarts or the participants leave.
    std::cerr << "veil-server: destroying a room failed: " << error.what() << "\n";
  }
}

void ConsultationService::End(const WebSession& session, const std::string& cid) {
  OwnedOpenConsultation(session, cid);
  EndConsultation(cid, AccountSubject(session.account.id), "clinician");
}

void ConsultationService::Admit(const WebSession& session, const std::string& cid,
                                const std::string& sub) {
  OwnedOpenConsultation(session, cid);
  if (!store_.TransitionParticipant(sub, cid, ParticipantState::kWaiting,
                                    ParticipantState::kAdmitted)) {
    throw ApiError(409, "not_waiting", "no such participant in the waiting room");
  }
  store_.Audit(
      {"waiting.admit", AccountSubject(session.account.id), "clinician", cid, "ok", "", sub},
      UnixNow());
}

void ConsultationService::RemoveParticipant(const std::string& cid, const std::string& sub,
                                            ParticipantState to) {
  store_.SetParticipantState(sub, to);
  store_.RevokeTokensOf(sub, UnixNow());
  store_.DeleteRefreshOf(sub);
  try {
    sfu_.RemoveParticipant(cid, sub);
  } catch (const SfuError& error) {
    std::cerr << "veil-server: removing a participant from the room failed\n";
  }
}

void ConsultationService::Reject(const WebSession& session, const std::string& cid,
                                 const std::string& sub) {
  OwnedOpenConsultation(session, cid);
  const std::optional<Participant> participant = store_.FindParticipant(sub);
  if (!participant || participant->cid != cid || !IsLive(participant->state)) {
    throw ApiError(404, "not_found", "no such participant");
  }
  const bool was_waiting = participant->state == ParticipantState::kWaiting;
  RemoveParticipant(cid, sub,
                    was_waiting ? ParticipantState::kRejected : ParticipantState::kRemoved);
  store_.Audit({was_waiting ? "waiting.reject" : "participant.remove",
                AccountSubject(session.account.id), "clinician", cid, "ok", "", sub},
               UnixNow());
}

json ConsultationService::TurnFor(const std::string& sub, const std::string& cid) {
  if (config_.turn_secret.empty() || config_.turn_urls.empty()) return nullptr;
  const TurnCredentials turn = MakeTurnCredentials(config_.turn_secret, sub, UnixNow());
  store_.Audit({"turn.issue", sub, "", cid, "ok", "", ""}, UnixNow());
  return json{{"urls", config_.turn_urls},
              {"username", turn.username},
              {"credential", turn.credential},
              {"ttl", turn.ttl_seconds}};
}

json ConsultationService::ClinicianToken(const WebSession& session, const std::string& cid) {
  OwnedOpenConsultation(session, cid);
  const std::int64_t now = UnixNow();
  const std::string sub = AccountSubject(session.account.id);
  const std::string token = tokens_.Mint(
      {config_.public_origin, cid, sub, Role::kClinician, config_.token_ttl_seconds}, now);
  const TokenCheck check = tokens_.Verify(token, now);
  store_.RecordIssuedToken(check.claims->token_id, sub, session.cookie_hash,
                           check.claims->expires_at);
  return json{{"token", token},
              {"token_type", "Bearer"},
              {"expires_in", config_.token_ttl_seconds},
              {"turn", TurnFor(sub, cid)}};
}

void ConsultationService::RequestMode(const WebSession& session, const std::string& cid,
                                      const std::string& mode) {
  OwnedOpenConsultation(session, cid);
  store_.Audit({"mode.request", AccountSubject(session.account.id), "clinician", cid, "ok", "",
                "mode=" + mode},
               UnixNow());
}

// --- patient credentials ---

json ConsultationService::PatientCredentials(const std::string& cid, const std::string& sub,
                                             const std::string& refresh_token) {
  const std::int64_t now = UnixNow();
  const std::string token = tokens_.Mint(
      {config_.public_origin, cid, sub, Role::kPatient, config_.token_ttl_seconds}, now);
  const TokenCheck check = tokens_.Verify(token, now);
  store_.RecordIssuedToken(check.claims->token_id, sub, std::nullopt, check.claims->expires_at);
  const std::optional<Consultation> consultation = store_.FindConsultation(cid);
  const std::optional<Participant> participant = store_.FindParticipant(sub);
  return json{{"consultation", cid},
              {"participant", sub},
              {"token", token},
              {"token_type", "Bearer"},
              {"expires_in", config_.token_ttl_seconds},
              {"refresh_token", refresh_token},
              {"min_mode", consultation ? consultation->min_mode : config_.default_min_mode},
              {"state", participant ? ParticipantStateName(participant->state) : "waiting"},
              {"turn", TurnFor(sub, cid)}};
}

json ConsultationService::Redeem(const RedeemRequest& request, const std::string& client_key) {
  const auto clock_now = RateLimiter::Clock::now();
  if (redeem_failures_.Exceeded(client_key, clock_now)) {
    metrics_.Increment("veil_invite_redemptions_total", "outcome", "throttled");
    store_.Audit({"invite.redeem", "unknown", "patient", "", "denied", "throttled", ""}, UnixNow());
    throw ApiError(429, "too_many_attempts", "too many invite attempts; try again later");
  }
  const std::int64_t now = UnixNow();
  const std::string sub = RandomHex(16);
  const RedeemResult result = store_.RedeemInvite(Sha256Hex(request.invite), sub, now);
  if (result.outcome != RedeemOutcome::kOk) {
    const bool used = result.outcome == RedeemOutcome::kUsed;
    const bool unknown = result.outcome == RedeemOutcome::kUnknown;
    const char* reason = used ? "used" : unknown ? "unknown" : "expired";
    redeem_failures_.Record(client_key, clock_now);
    metrics_.Increment("veil_invite_redemptions_total", "outcome", reason);
    store_.Audit({"invite.redeem", "unknown", "patient", result.cid, "denied", reason, ""}, now);
    if (used) {
      // The real patient learns that someone else used the link (and calls the clinic).
      throw ApiError(410, "invite_used", "this invite was already used; please call the clinic");
    }
    if (unknown) throw ApiError(404, "invite_unknown", "this invite does not exist");
    throw ApiError(410, "invite_expired", "this invite has expired or was withdrawn");
  }
  store_.AddParticipant({sub, result.cid, ParticipantState::kWaiting, request.display_name, now});
  const std::string refresh = NewSecretToken();
  store_.AddRefresh(Sha256Hex(refresh), sub, result.cid, now);
  metrics_.Increment("veil_invite_redemptions_total", "outcome", "ok");
  store_.Audit({"invite.redeem", sub, "patient", result.cid, "ok", "", ""}, now);
  store_.Audit({"waiting.join", sub, "patient", result.cid, "ok", "", ""}, now);
  return PatientCredentials(result.cid, sub, refresh);
}

json ConsultationService::Refresh(const RefreshRequest& request) {
  const std::int64_t now = UnixNow();
  const std::string hash = Sha256Hex(request.refresh_token);
  const std::optional<RefreshRecord> record = store_.FindRefresh(hash);
  if (!record) {
    Deny(401, "invalid_refresh_token", "the refresh token is not valid", "unknown_refresh",
         "unknown", "patient", "");
  }
  const std::optional<Consultation> consultation = store_.FindConsultation(record->cid);
  const std::optional<Participant> participant = store_.FindParticipant(record->sub);
  if (!consultation || consultation->ended || !participant || !IsLive(participant->state)) {
    Deny(401, "invalid_refresh_token", "the refresh token is no longer valid", "revoked",
         record->sub, "patient", record->cid);
  }
  if (record->used_at) {
    if (now - *record->used_at > config_.refresh_retry_grace_seconds) {
      // Someone copied it: revoke everything this participant holds and drop them from the room.
      RemoveParticipant(record->cid, record->sub, ParticipantState::kRemoved);
      metrics_.Increment("veil_tokens_denied_total", "reason", "refresh_reuse");
      store_.Audit({"session.refresh_reuse", record->sub, "patient", record->cid, "denied",
                    "refresh_reuse", ""},
                   now);
      throw ApiError(401, "refresh_reused",
                     "this refresh token was already used; the session has been revoked");
    }
    // A retry after a lost response: the successor is withdrawn and a fresh pair issued.
    if (record->successor_hash) store_.DeleteRefresh(*record->successor_hash);
    const std::string refresh = NewSecretToken();
    store_.AddRefresh(Sha256Hex(refresh), record->sub, record->cid, now);
    store_.Audit({"session.refresh_retry", record->sub, "patient", record->cid, "ok", "", ""}, now);
    return PatientCredentials(record->cid, record->sub, refresh);
  }
  const std::string refresh = NewSecretToken();
  if (!store_.MarkRefreshUsed(hash, Sha256Hex(refresh), now)) {
    throw ApiError(409, "conflict", "the refresh token was used concurrently; retry");
  }
  store_.AddRefresh(Sha256Hex(refresh), record->sub, record->cid, now);
  // One row per rotation (every ~9 min per patient): shows when a device was still connected.
  store_.Audit({"session.refresh", record->sub, "patient", record->cid, "ok", "", ""}, now);
  return PatientCredentials(record->cid, record->sub, refresh);
}

// --- bearer endpoints ---

Caller ConsultationService::Authorize(std::string_view header, const std::string& cid,
                                      Access access) {
  constexpr std::string_view kBearer = "Bearer ";
  if (header.size() <= kBearer.size() ||
      !std::equal(kBearer.begin(), kBearer.end(), header.begin(),
                  [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
    throw ApiError(401, "missing_token", "an Authorization: Bearer token is required");
  }
  const std::int64_t now = UnixNow();
  const TokenCheck check = tokens_.Verify(header.substr(kBearer.size()), now);
  if (!check.claims) {
    Deny(401, std::string(TokenErrorCode(check.error)),
         check.error == TokenError::kExpired ? "the token has expired" : "the token is not valid",
         std::string(TokenErrorReason(check.error)), "unknown", "", cid);
  }
  const TokenClaims& claims = *check.claims;
  const std::string role(RoleName(claims.role));
  if (claims.consultation_id != cid) {
    Deny(403, "wrong_consultation", "the token is for another consultation", "wrong_consultation",
         claims.subject, role, cid);
  }
  const bool demo = claims.issuer == kDemoIssuer && config_.demo_consultations.contains(cid);
  // Demo tokens keep the issue-4 contract: patient tokens publish, clinician ("viewer") tokens
  // subscribe. Real clinicians also publish their camera and patients receive it.
  const bool media = access == Access::kPublish || access == Access::kSubscribe;
  const bool role_ok = demo && media
                           ? (access == Access::kPublish) == (claims.role == Role::kPatient)
                           : media || claims.role == Role::kPatient;
  if (!role_ok) {
    Deny(403, "wrong_role", "this token's role may not use this endpoint", "wrong_role",
         claims.subject, role, cid);
  }
  if (!demo && claims.issuer != config_.public_origin) {
    Deny(401, "invalid_token", "the token is not valid", "iss", claims.subject, role, cid);
  }
  const std::optional<Consultation> consultation = store_.FindConsultation(cid);
  if (!consultation) {
    Deny(404, "not_found", "no such consultation", "unknown_consultation", claims.subject, role,
         cid);
  }
  if (consultation->ended) {
    Deny(410, "consultation_ended", "the consultation has ended", "revoked", claims.subject, role,
         cid);
  }
  if (store_.IsRevoked(claims.token_id)) {
    Deny(401, "token_revoked", "the token has been revoked", "revoked", claims.subject, role, cid);
  }
  if (!demo) {
    if (claims.role == Role::kClinician) {
      if (!consultation->owner || claims.subject != AccountSubject(*consultation->owner)) {
        Deny(403, "not_owner", "this consultation belongs to another clinician", "not_owner",
             claims.subject, role, cid);
      }
    } else {
      const std::optional<Participant> participant = store_.FindParticipant(claims.subject);
      if (!participant || participant->cid != cid || !IsLive(participant->state)) {
        Deny(401, "token_revoked", "this participant's credentials were revoked", "revoked",
             claims.subject, role, cid);
      }
      if (access != Access::kPatientAnyState && participant->state != ParticipantState::kAdmitted) {
        Deny(403, "not_admitted", "wait until the clinician admits you", "not_admitted",
             claims.subject, role, cid);
      }
    }
  }
  if (!demo) idle_.Touch(cid, now);
  return Caller{claims, demo};
}

json ConsultationService::Status(const Caller& caller) {
  if (caller.demo) return json{{"state", "admitted"}};
  const std::optional<Participant> participant = store_.FindParticipant(caller.claims.subject);
  bool clinician_publishing = false;
  try {
    clinician_publishing = sfu_.IsPublishing(caller.claims.consultation_id, FeedSlot::kClinician);
  } catch (const SfuError&) {
  }
  return json{{"state", participant ? ParticipantStateName(participant->state) : "removed"},
              {"clinician_publishing", clinician_publishing}};
}

void ConsultationService::Leave(const Caller& caller) {
  if (caller.demo) return;
  RemoveParticipant(caller.claims.consultation_id, caller.claims.subject, ParticipantState::kLeft);
  store_.Audit({"participant.leave", caller.claims.subject, "patient",
                caller.claims.consultation_id, "ok", "", ""},
               UnixNow());
}

void ConsultationService::RecordDeviceEvent(const Caller& caller, const DeviceEvent& event) {
  std::string detail;
  if (event.type == "mode.reported") {
    detail = "from=" + event.from + ";to=" + event.to + ";trigger=" + event.trigger;
  } else if (event.type == "keep_visible.end") {
    detail = "duration=" + std::to_string(event.duration_seconds);
  } else if (event.type == "redaction.fallback") {
    detail = "to=" + event.to;
  }
  // The device's word, labelled as such (security-design §8: the server cannot verify it).
  store_.Audit({event.type, caller.claims.subject, "patient", caller.claims.consultation_id, "ok",
                "device_reported", detail},
               UnixNow());
}

PublishResult ConsultationService::Publish(const Caller& caller, std::string_view offer_sdp) {
  const bool patient = caller.claims.role == Role::kPatient;
  const Publisher publisher{patient ? FeedSlot::kPatient : FeedSlot::kClinician,
                            caller.claims.subject};
  PublishResult result = sfu_.Publish(caller.claims.consultation_id, publisher, offer_sdp);
  metrics_.Increment("veil_publishes_total", "role", patient ? "patient" : "clinician");
  store_.Audit(
      {"media.publish.start", caller.claims.subject, std::string(RoleName(caller.claims.role)),
       caller.claims.consultation_id, "ok", "", ""},
      UnixNow());
  return result;
}

void ConsultationService::Unpublish(const Caller& caller, const std::string& resource_id) {
  sfu_.Unpublish(caller.claims.consultation_id, caller.claims.subject, resource_id);
  store_.Audit(
      {"media.publish.stop", caller.claims.subject, std::string(RoleName(caller.claims.role)),
       caller.claims.consultation_id, "ok", "", ""},
      UnixNow());
}

SubscribeResult ConsultationService::Subscribe(const Caller& caller) {
  // Each side sees the other: the clinician the patient's feed, the patient the clinician's.
  const FeedSlot feed =
      caller.claims.role == Role::kPatient ? FeedSlot::kClinician : FeedSlot::kPatient;
  SubscribeResult result =
      sfu_.Subscribe(caller.claims.consultation_id, feed, caller.claims.subject);
  store_.Audit(
      {"media.subscribe.start", caller.claims.subject, std::string(RoleName(caller.claims.role)),
       caller.claims.consultation_id, "ok", "", ""},
      UnixNow());
  return result;
}

void ConsultationService::AuditSubscriptionStop(const Caller& caller) {
  store_.Audit(
      {"media.subscribe.stop", caller.claims.subject, std::string(RoleName(caller.claims.role)),
       caller.claims.consultation_id, "ok", "", ""},
      UnixNow());
}

void ConsultationService::WithOwnSubscription(const Caller& caller,
                                              const std::function<void()>& operation) {
  try {
    operation();
  } catch (const SfuError& error) {
    if (error.kind() == SfuError::Kind::kNotFound) {
      metrics_.Increment("veil_tokens_denied_total", "reason", "unknown_subscription");
      store_.Audit(
          {"token.denied", caller.claims.subject, std::string(RoleName(caller.claims.role)),
           caller.claims.consultation_id, "denied", "unknown_subscription", ""},
          UnixNow());
    }
    throw;
  }
}

void ConsultationService::EnsureDemoConsultations() {
  for (const std::string& cid : config_.demo_consultations) {
    const std::optional<Consultation> existing = store_.FindConsultation(cid);
    if (existing && existing->ended) {
      throw std::runtime_error("a demo consultation has ended in this database");
    }
    if (existing) continue;
    Consultation demo;
    demo.cid = cid;
    demo.min_mode = config_.default_min_mode;
    demo.demo = true;
    demo.created_at = UnixNow();
    store_.AddConsultation(demo);
    store_.Audit(
        {"consultation.create", "system", "system", cid, "ok", "demo", "min_mode=" + demo.min_mode},
        UnixNow());
  }
}

std::map<std::string, std::int64_t> ConsultationService::Gauges() {
  bool sfu_up = false;
  try {
    sfu_up = sfu_.Healthy();
  } catch (...) {
  }
  return {{"veil_consultations_open", store_.CountOpenConsultations()},
          {"veil_sfu_up", sfu_up ? 1 : 0}};
}

}  // namespace veil::server
