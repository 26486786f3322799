// veil-server's embedded SQLite store: clinician accounts, browser sessions, consultations,
// invites, participants, refresh tokens, issued/revoked token ids and the audit log. Secrets
// (invites, refresh tokens, session cookies) are stored only as SHA-256 hex. No IP addresses, no
// media. All methods are thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "sqlite.h"

namespace veil::server {

struct Account {
  std::int64_t id = 0;
  std::string username;
  std::string password_hash;
  bool admin = false;
  bool disabled = false;
};

struct Consultation {
  std::string cid;
  std::optional<std::int64_t> owner;  // account id; none for the demo consultation
  std::string min_mode;
  bool ended = false;
  bool demo = false;
  std::int64_t created_at = 0;
};

enum class ParticipantState { kWaiting, kAdmitted, kRejected, kRemoved, kLeft };
std::string_view ParticipantStateName(ParticipantState state);

struct Participant {
  std::string sub;
  std::string cid;
  ParticipantState state = ParticipantState::kWaiting;
  std::string display_name;  // typed by the patient; never audited
  std::int64_t joined_at = 0;
};

enum class RedeemOutcome { kOk, kUsed, kExpired, kUnknown };

struct RedeemResult {
  RedeemOutcome outcome = RedeemOutcome::kUnknown;
  std::string cid;
};

struct RefreshRecord {
  std::string sub;
  std::string cid;
  std::optional<std::int64_t> used_at;
  std::optional<std::string> successor_hash;
};

struct AuditEvent {
  std::string event;
  std::string actor;  // account id ("acct-N"), participant sub, "unknown" or "system"
  std::string role;
  std::string cid;
  std::string outcome = "ok";
  std::string reason;
  std::string detail;  // allow-listed codes only (modes, durations); never free text
};

class Store {
 public:
  explicit Store(const std::string& path);

  // --- accounts ---
  std::int64_t AddAccount(const std::string& username, const std::string& password_hash, bool admin,
                          std::int64_t now);
  std::optional<Account> FindAccount(const std::string& username);
  std::optional<Account> AccountById(std::int64_t id);
  void SetPasswordHash(std::int64_t id, const std::string& password_hash);

  // --- browser sessions (cookie hashes) ---
  void AddWebSession(const std::string& hash, std::int64_t account, std::int64_t now);
  // The session's account if it is within both limits; refreshes its idle timer.
  std::optional<std::int64_t> TouchWebSession(const std::string& hash, std::int64_t now,
                                              std::int64_t idle_limit, std::int64_t absolute_limit);
  void DeleteWebSession(const std::string& hash);

  // --- consultations ---
  void AddConsultation(const Consultation& consultation);
  std::optional<Consultation> FindConsultation(const std::string& cid);
  std::vector<Consultation> OpenConsultationsOf(std::int64_t owner);
  // Marks it ended, revokes its invites and deletes its refresh tokens. False if already ended.
  bool EndConsultation(const std::string& cid, std::int64_t now, const std::string& reason);
  // Open consultations created before `cutoff` (for the max-duration sweep).
  std::vector<std::string> OpenConsultationsCreatedBefore(std::int64_t cutoff);
  std::int64_t CountOpenConsultations();

  // --- invites ---
  void AddInvite(const std::string& hash, const std::string& cid, std::int64_t expires_at);
  int RevokeInvites(const std::string& cid);
  // Single-use redemption (one UPDATE; succeeds only if exactly one row changed).
  RedeemResult RedeemInvite(const std::string& hash, const std::string& sub, std::int64_t now);

  // --- participants ---
  void AddParticipant(const Participant& participant);
  std::optional<Participant> FindParticipant(const std::string& sub);
  std::vector<Participant> ParticipantsOf(const std::string& cid);
  // Moves `sub` of `cid` from `from` to `to`; false if it was not in `from`.
  bool TransitionParticipant(const std::string& sub, const std::string& cid, ParticipantState from,
                             ParticipantState to);
  void SetParticipantState(const std::string& sub, ParticipantState to);

  // --- refresh tokens (patient) ---
  void AddRefresh(const std::string& hash, const std::string& sub, const std::string& cid,
                  std::int64_t now);
  std::optional<RefreshRecord> FindRefresh(const std::string& hash);
  // Marks `hash` used with its successor; false if it was already used.
  bool MarkRefreshUsed(const std::string& hash, const std::string& successor, std::int64_t now);
  void DeleteRefresh(const std::string& hash);
  void DeleteRefreshOf(const std::string& sub);

  // --- issued and revoked token ids ---
  void RecordIssuedToken(const std::string& jti, const std::string& sub,
                         const std::optional<std::string>& web_session_hash,
                         std::int64_t expires_at);
  // Revokes every unexpired token issued to `sub` / from a browser session.
  void RevokeTokensOf(const std::string& sub, std::int64_t now);
  void RevokeTokensOfWebSession(const std::string& web_session_hash, std::int64_t now);
  bool IsRevoked(const std::string& jti);
  void PurgeExpiredTokenIds(std::int64_t now);

  // Retention (security-design §4, §11): consultations ended before `cutoff` lose their rows
  // (display names included), and audit rows older than `audit_cutoff` are deleted.
  void Purge(std::int64_t consultation_cutoff, std::int64_t audit_cutoff);

  // --- audit log (append-only, hash-chained) ---
  void Audit(const AuditEvent& event, std::int64_t now);
  // Rows in order as JSON text lines, with their chain hashes.
  std::vector<std::string> AuditLines();
  // Recomputes the chain from the oldest retained row; false if a row was edited or deleted in
  // the retained window.
  bool AuditChainIntact();

 private:
  std::mutex mutex_;  // serialises multi-statement operations
  SqliteDb db_;
};

}  // namespace veil::server
