#include "store.h"

#include <nlohmann/json.hpp>
#include <type_traits>
#include <vector>

#include "crypto.h"

namespace veil::server {
namespace {

constexpr std::string_view kSchema = R"sql(
PRAGMA journal_mode = WAL;
PRAGMA foreign_keys = ON;
CREATE TABLE IF NOT EXISTS accounts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  username TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  is_admin INTEGER NOT NULL DEFAULT 0,
  disabled INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS web_sessions (
  hash TEXT PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts(id),
  created_at INTEGER NOT NULL,
  last_seen INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS consultations (
  cid TEXT PRIMARY KEY,
  owner_id INTEGER REFERENCES accounts(id),
  min_mode TEXT NOT NULL,
  demo INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  ended_at INTEGER,
  end_reason TEXT);
CREATE TABLE IF NOT EXISTS invites (
  hash TEXT PRIMARY KEY,
  cid TEXT NOT NULL REFERENCES consultations(cid),
  expires_at INTEGER NOT NULL,
  redeemed_at INTEGER,
  sub TEXT,
  revoked INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS participants (
  sub TEXT PRIMARY KEY,
  cid TEXT NOT NULL REFERENCES consultations(cid),
  state TEXT NOT NULL,
  display_name TEXT NOT NULL DEFAULT '',
  joined_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS participants_by_cid ON participants(cid);
CREATE TABLE IF NOT EXISTS refresh_tokens (
  hash TEXT PRIMARY KEY,
  sub TEXT NOT NULL,
  cid TEXT NOT NULL,
  issued_at INTEGER NOT NULL,
  used_at INTEGER,
  successor_hash TEXT);
CREATE TABLE IF NOT EXISTS issued_tokens (
  jti TEXT PRIMARY KEY,
  sub TEXT NOT NULL,
  web_session_hash TEXT,
  expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS revoked_jti (
  jti TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  event TEXT NOT NULL,
  actor TEXT NOT NULL,
  role TEXT NOT NULL,
  cid TEXT NOT NULL,
  outcome TEXT NOT NULL,
  reason TEXT NOT NULL,
  detail TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
  BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
)sql";

constexpr std::string_view kGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

// Every remaining row of `statement`, each mapped by `from`.
template <typename From>
auto AllRows(SqliteStatement& statement, From from) {
  std::vector<std::decay_t<decltype(from(statement))>> out;
  while (statement.Step()) out.push_back(from(statement));
  return out;
}

std::string FirstColumn(const SqliteStatement& row) {
  return row.Text(0);
}

ParticipantState StateFromName(const std::string& name) {
  if (name == "admitted") return ParticipantState::kAdmitted;
  if (name == "rejected") return ParticipantState::kRejected;
  if (name == "removed") return ParticipantState::kRemoved;
  if (name == "left") return ParticipantState::kLeft;
  return ParticipantState::kWaiting;
}

Consultation ConsultationFrom(const SqliteStatement& row) {
  Consultation c;
  c.cid = row.Text(0);
  if (!row.IsNull(1)) c.owner = row.Int(1);
  c.min_mode = row.Text(2);
  c.demo = row.Int(3) != 0;
  c.created_at = row.Int(4);
  c.ended = !row.IsNull(5);
  return c;
}

Participant ParticipantFrom(const SqliteStatement& row) {
  return Participant{row.Text(0), row.Text(1), StateFromName(row.Text(2)), row.Text(3), row.Int(4)};
}

Account AccountFrom(const SqliteStatement& row) {
  return Account{row.Int(0), row.Text(1), row.Text(2), row.Int(3) != 0, row.Int(4) != 0};
}

// What the chain hash covers: every field, in a fixed order, length-prefixed so no two rows
// serialise alike.
std::string AuditChainInput(std::string_view prev_hash, std::int64_t at, const AuditEvent& e) {
  std::string input(prev_hash);
  for (const std::string_view field :
       {std::string_view(e.event), std::string_view(e.actor), std::string_view(e.role),
        std::string_view(e.cid), std::string_view(e.outcome), std::string_view(e.reason),
        std::string_view(e.detail)}) {
    input += std::to_string(field.size()) + ":" + std::string(field);
  }
  return input + std::to_string(at);
}

}  // namespace

std::string_view ParticipantStateName(ParticipantState state) {
  switch (state) {
    case ParticipantState::kWaiting:
      return "waiting";
    case ParticipantState::kAdmitted:
      return "admitted";
    case ParticipantState::kRejected:
      return "rejected";
    case ParticipantState::kRemoved:
      return "removed";
    case ParticipantState::kLeft:
      return "left";
  }
  return "waiting";
}

Store::Store(const std::string& path) : db_(path) {
  db_.Exec(kSchema);
}

std::int64_t Store::AddAccount(const std::string& username, const std::string& password_hash,
                               bool admin, std::int64_t now) {
  std::lock_guard lock(mutex_);
  db_.Prepare(
         "INSERT INTO accounts (username, password_hash, is_admin, created_at) VALUES (?,?,?,?)")
      .Bind(1, username)
      .Bind(2, password_hash)
      .Bind(3, std::int64_t{admin})
      .Bind(4, now)
      .Run();
  auto row = db_.Prepare("SELECT id FROM accounts WHERE username = ?");
  row.Bind(1, username).Step();
  return row.Int(0);
}

std::optional<Account> Store::FindAccount(const std::string& username) {
  auto row = db_.Prepare(
      "SELECT id, username, password_hash, is_admin, disabled FROM accounts WHERE username = ?");
  if (!row.Bind(1, username).Step()) return std::nullopt;
  return AccountFrom(row);
}

std::optional<Account> Store::AccountById(std::int64_t id) {
  auto row = db_.Prepare(
      "SELECT id, username, password_hash, is_admin, disabled FROM accounts WHERE id = ?");
  if (!row.Bind(1, id).Step()) return std::nullopt;
  return AccountFrom(row);
}

void Store::SetPasswordHash(std::int64_t id, const std::string& password_hash) {
  db_.Prepare("UPDATE accounts SET password_hash = ? WHERE id = ?")
      .Bind(1, password_hash)
      .Bind(2, id)
      .Run();
}

void Store::AddWebSession(const std::string& hash, std::int64_t account, std::int64_t now) {
  db_.Prepare("INSERT INTO web_sessions (hash, account_id, created_at, last_seen) VALUES (?,?,?,?)")
      .Bind(1, hash)
      .Bind(2, account)
      .Bind(3, now)
      .Bind(4, now)
      .Run();
}

std::optional<std::int64_t> Store::TouchWebSession(const std::string& hash, std::int64_t now,
                                                   std::int64_t idle_limit,
                                                   std::int64_t absolute_limit) {
  std::lock_guard lock(mutex_);
  const int changed =
      db_.Prepare(
             "UPDATE web_sessions SET last_seen = ?1 WHERE hash = ?2 AND last_seen > ?1 - ?3 "
             "AND created_at > ?1 - ?4")
          .Bind(1, now)
          .Bind(2, hash)
          .Bind(3, idle_limit)
          .Bind(4, absolute_limit)
          .Run();
  if (changed != 1) {
    db_.Prepare("DELETE FROM web_sessions WHERE hash = ?").Bind(1, hash).Run();
    return std::nullopt;
  }
  auto row = db_.Prepare(
      "SELECT s.account_id FROM web_sessions s JOIN accounts a ON a.id = s.account_id "
      "WHERE s.hash = ? AND a.disabled = 0");
  if (!row.Bind(1, hash).Step()) return std::nullopt;
  return row.Int(0);
}

void Store::DeleteWebSession(const std::string& hash) {
  db_.Prepare("DELETE FROM web_sessions WHERE hash = ?").Bind(1, hash).Run();
}

void Store::AddConsultation(const Consultation& c) {
  auto insert = db_.Prepare(
      "INSERT INTO consultations (cid, owner_id, min_mode, demo, created_at) VALUES (?,?,?,?,?)");
  insert.Bind(1, c.cid);
  if (c.owner) {
    insert.Bind(2, *c.owner);
  } else {
    insert.BindNull(2);
  }
  insert.Bind(3, c.min_mode).Bind(4, std::int64_t{c.demo}).Bind(5, c.created_at).Run();
}

std::optional<Consultation> Store::FindConsultation(const std::string& cid) {
  auto row = db_.Prepare(
      "SELECT cid, owner_id, min_mode, demo, created_at, ended_at FROM consultations "
      "WHERE cid = ?");
  if (!row.Bind(1, cid).Step()) return std::nullopt;
  return ConsultationFrom(row);
}

std::vector<Consultation> Store::OpenConsultationsOf(std::int64_t owner) {
  auto row = db_.Prepare(
      "SELECT cid, owner_id, min_mode, demo, created_at, ended_at FROM consultations "
      "WHERE owner_id = ? AND ended_at IS NULL ORDER BY created_at");
  return AllRows(row.Bind(1, owner), ConsultationFrom);
}

bool Store::EndConsultation(const std::string& cid, std::int64_t now, const std::string& reason) {
  std::lock_guard lock(mutex_);
  const int changed =
      db_.Prepare(
             "UPDATE consultations SET ended_at = ?, end_reason = ? WHERE cid = ? AND ended_at "
             "IS NULL")
          .Bind(1, now)
          .Bind(2, reason)
          .Bind(3, cid)
          .Run();
  db_.Prepare("UPDATE invites SET revoked = 1 WHERE cid = ?").Bind(1, cid).Run();
  db_.Prepare("DELETE FROM refresh_tokens WHERE cid = ?").Bind(1, cid).Run();
  return changed == 1;
}

std::vector<std::string> Store::OpenConsultationsCreatedBefore(std::int64_t cutoff) {
  auto row = db_.Prepare(
      "SELECT cid FROM consultations WHERE ended_at IS NULL AND demo = 0 AND created_at < ?");
  return AllRows(row.Bind(1, cutoff), FirstColumn);
}

std::int64_t Store::CountOpenConsultations() {
  auto row = db_.Prepare("SELECT count(*) FROM consultations WHERE ended_at IS NULL");
  row.Step();
  return row.Int(0);
}

void Store::AddInvite(const std::string& hash, const std::string& cid, std::int64_t expires_at) {
  db_.Prepare("INSERT INTO invites (hash, cid, expires_at) VALUES (?,?,?)")
      .Bind(1, hash)
      .Bind(2, cid)
      .Bind(3, expires_at)
      .Run();
}

int Store::RevokeInvites(const std::string& cid) {
  return db_
      .Prepare(
          "UPDATE invites SET revoked = 1 WHERE cid = ? AND redeemed_at IS NULL AND revoked = 0")
      .Bind(1, cid)
      .Run();
}

RedeemResult Store::RedeemInvite(const std::string& hash, const std::string& sub,
                                 std::int64_t now) {
  std::lock_guard lock(mutex_);
  const int changed =
      db_.Prepare(
             "UPDATE invites SET redeemed_at = ?1, sub = ?2 WHERE hash = ?3 AND redeemed_at IS "
             "NULL AND revoked = 0 AND expires_at > ?1 AND cid IN (SELECT cid FROM consultations "
             "WHERE ended_at IS NULL)")
          .Bind(1, now)
          .Bind(2, sub)
          .Bind(3, hash)
          .Run();
  auto row =
      db_.Prepare("SELECT cid, redeemed_at, revoked, expires_at FROM invites WHERE hash = ?");
  if (!row.Bind(1, hash).Step()) return {RedeemOutcome::kUnknown, ""};
  if (changed == 1) return {RedeemOutcome::kOk, row.Text(0)};
  if (!row.IsNull(1)) return {RedeemOutcome::kUsed, row.Text(0)};
  return {RedeemOutcome::kExpired, row.Text(0)};  // expired, revoked or consultation ended
}

void Store::AddParticipant(const Participant& p) {
  db_.Prepare(
         "INSERT INTO participants (sub, cid, state, display_name, joined_at) VALUES (?,?,?,?,?)")
      .Bind(1, p.sub)
      .Bind(2, p.cid)
      .Bind(3, ParticipantStateName(p.state))
      .Bind(4, p.display_name)
      .Bind(5, p.joined_at)
      .Run();
}

std::optional<Participant> Store::FindParticipant(const std::string& sub) {
  auto row = db_.Prepare(
      "SELECT sub, cid, state, display_name, joined_at FROM participants WHERE sub = ?");
  if (!row.Bind(1, sub).Step()) return std::nullopt;
  return ParticipantFrom(row);
}

std::vector<Participant> Store::ParticipantsOf(const std::string& cid) {
  auto row = db_.Prepare(
      "SELECT sub, cid, state, display_name, joined_at FROM participants WHERE cid = ? "
      "ORDER BY joined_at");
  return AllRows(row.Bind(1, cid), ParticipantFrom);
}

bool Store::TransitionParticipant(const std::string& sub, const std::string& cid,
                                  ParticipantState from, ParticipantState to) {
  return db_.Prepare("UPDATE participants SET state = ? WHERE sub = ? AND cid = ? AND state = ?")
             .Bind(1, ParticipantStateName(to))
             .Bind(2, sub)
             .Bind(3, cid)
             .Bind(4, ParticipantStateName(from))
             .Run() == 1;
}

void Store::SetParticipantState(const std::string& sub, ParticipantState to) {
  db_.Prepare("UPDATE participants SET state = ? WHERE sub = ?")
      .Bind(1, ParticipantStateName(to))
      .Bind(2, sub)
      .Run();
}

void Store::AddRefresh(const std::string& hash, const std::string& sub, const std::string& cid,
                       std::int64_t now) {
  db_.Prepare("INSERT INTO refresh_tokens (hash, sub, cid, issued_at) VALUES (?,?,?,?)")
      .Bind(1, hash)
      .Bind(2, sub)
      .Bind(3, cid)
      .Bind(4, now)
      .Run();
}

std::optional<RefreshRecord> Store::FindRefresh(const std::string& hash) {
  auto row =
      db_.Prepare("SELECT sub, cid, used_at, successor_hash FROM refresh_tokens WHERE hash = ?");
  if (!row.Bind(1, hash).Step()) return std::nullopt;
  RefreshRecord record{row.Text(0), row.Text(1), std::nullopt, std::nullopt};
  if (!row.IsNull(2)) record.used_at = row.Int(2);
  if (!row.IsNull(3)) record.successor_hash = row.Text(3);
  return record;
}

bool Store::MarkRefreshUsed(const std::string& hash, const std::string& successor,
                            std::int64_t now) {
  return db_.Prepare(
                "UPDATE refresh_tokens SET used_at = ?, successor_hash = ? WHERE hash = ? AND "
                "used_at IS NULL")
             .Bind(1, now)
             .Bind(2, successor)
             .Bind(3, hash)
             .Run() == 1;
}

void Store::DeleteRefresh(const std::string& hash) {
  db_.Prepare("DELETE FROM refresh_tokens WHERE hash = ?").Bind(1, hash).Run();
}

void Store::DeleteRefreshOf(const std::string& sub) {
  db_.Prepare("DELETE FROM refresh_tokens WHERE sub = ?").Bind(1, sub).Run();
}

void Store::RecordIssuedToken(const std::string& jti, const std::string& sub,
                              const std::optional<std::string>& web_session_hash,
                              std::int64_t expires_at) {
  db_.Prepare("INSERT INTO issued_tokens (jti, sub, web_session_hash, expires_at) VALUES (?,?,?,?)")
      .Bind(1, jti)
      .Bind(2, sub)
      .BindOptional(3, web_session_hash)
      .Bind(4, expires_at)
      .Run();
}

void Store::RevokeTokensOf(const std::string& sub, std::int64_t now) {
  db_.Prepare(
         "INSERT OR IGNORE INTO revoked_jti (jti, expires_at) SELECT jti, expires_at FROM "
         "issued_tokens WHERE sub = ? AND expires_at > ?")
      .Bind(1, sub)
      .Bind(2, now)
      .Run();
}

void Store::RevokeTokensOfWebSession(const std::string& web_session_hash, std::int64_t now) {
  db_.Prepare(
         "INSERT OR IGNORE INTO revoked_jti (jti, expires_at) SELECT jti, expires_at FROM "
         "issued_tokens WHERE web_session_hash = ? AND expires_at > ?")
      .Bind(1, web_session_hash)
      .Bind(2, now)
      .Run();
}

bool Store::IsRevoked(const std::string& jti) {
  return db_.Prepare("SELECT 1 FROM revoked_jti WHERE jti = ?").Bind(1, jti).Step();
}

void Store::PurgeExpiredTokenIds(std::int64_t now) {
  // Kept until exp + skew: after that the token fails on `exp` anyway.
  db_.Prepare("DELETE FROM revoked_jti WHERE expires_at < ? - 60").Bind(1, now).Run();
  db_.Prepare("DELETE FROM issued_tokens WHERE expires_at < ? - 60").Bind(1, now).Run();
}

void Store::Purge(std::int64_t consultation_cutoff, std::int64_t audit_cutoff) {
  std::lock_guard lock(mutex_);
  for (const char* table : {"invites", "participants", "refresh_tokens"}) {
    db_.Prepare(std::string("DELETE FROM ") + table +
                " WHERE cid IN (SELECT cid FROM consultations WHERE ended_at < ?)")
        .Bind(1, consultation_cutoff)
        .Run();
  }
  db_.Prepare("DELETE FROM consultations WHERE ended_at < ?").Bind(1, consultation_cutoff).Run();
  // Oldest rows first, so the retained rows stay one unbroken chain.
  db_.Prepare("DELETE FROM audit WHERE at < ?").Bind(1, audit_cutoff).Run();
}

void Store::Audit(const AuditEvent& event, std::int64_t now) {
  std::lock_guard lock(mutex_);
  std::string prev_hash(kGenesisHash);
  {
    auto last = db_.Prepare("SELECT hash FROM audit ORDER BY id DESC LIMIT 1");
    if (last.Step()) prev_hash = last.Text(0);
  }
  const std::string hash = Sha256Hex(AuditChainInput(prev_hash, now, event));
  db_.Prepare(
         "INSERT INTO audit (at, event, actor, role, cid, outcome, reason, detail, prev_hash, "
         "hash) VALUES (?,?,?,?,?,?,?,?,?,?)")
      .Bind(1, now)
      .Bind(2, event.event)
      .Bind(3, event.actor)
      .Bind(4, event.role)
      .Bind(5, event.cid)
      .Bind(6, event.outcome)
      .Bind(7, event.reason)
      .Bind(8, event.detail)
      .Bind(9, prev_hash)
      .Bind(10, hash)
      .Run();
}

std::vector<std::string> Store::AuditLines() {
  auto row = db_.Prepare(
      "SELECT id, at, event, actor, role, cid, outcome, reason, detail, hash FROM audit "
      "ORDER BY id");
  std::vector<std::string> out;
  while (row.Step()) {
    out.push_back(nlohmann::json{
        {"id", row.Int(0)},
        {"at", row.Int(1)},
        {"event", row.Text(2)},
        {"actor", row.Text(3)},
        {"role", row.Text(4)},
        {"cid", row.Text(5)},
        {"outcome", row.Text(6)},
        {"reason", row.Text(7)},
        {"detail", row.Text(8)},
        {"hash",
         row.Text(9)}}.dump());
  }
  return out;
}

bool Store::AuditChainIntact() {
  auto row = db_.Prepare(
      "SELECT at, event, actor, role, cid, outcome, reason, detail, prev_hash, hash FROM audit "
      "ORDER BY id");
  std::optional<std::string> expected_prev;
  while (row.Step()) {
    if (!expected_prev) expected_prev = row.Text(8);  // the oldest retained row
    const AuditEvent event{row.Text(1), row.Text(2), row.Text(3), row.Text(4),
                           row.Text(5), row.Text(6), row.Text(7)};
    if (row.Text(8) != *expected_prev) return false;
    if (Sha256Hex(AuditChainInput(*expected_prev, row.Int(0), event)) != row.Text(9)) return false;
    expected_prev = row.Text(9);
  }
  return true;
}

}  // namespace veil::server
