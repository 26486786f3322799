// The SQLite store on a real (in-memory) database: single-use invites, refresh rotation records,
// revocation and the audit chain.
#include "store.h"

#include <gtest/gtest.h>

#include <cstdio>

#include "password.h"
#include "request_parsing.h"
#include "turn.h"

namespace veil::server {
namespace {

constexpr std::int64_t kNow = 1'800'000'000;

TEST(Store, AnInviteRedeemsExactlyOnce) {
  Store store(":memory:");
  Consultation c{"c1", std::nullopt, "background", false, false, kNow};
  store.AddConsultation(c);
  store.AddInvite("h1", "c1", kNow + 100);
  EXPECT_EQ(store.RedeemInvite("h1", "s1", kNow).outcome, RedeemOutcome::kOk);
  EXPECT_EQ(store.RedeemInvite("h1", "s2", kNow).outcome, RedeemOutcome::kUsed);
  EXPECT_EQ(store.RedeemInvite("nope", "s3", kNow).outcome, RedeemOutcome::kUnknown);
  store.AddInvite("h2", "c1", kNow + 100);
  EXPECT_EQ(store.RedeemInvite("h2", "s4", kNow + 100).outcome, RedeemOutcome::kExpired);
  store.AddInvite("h3", "c1", kNow + 100);
  store.EndConsultation("c1", kNow, "clinician");
  EXPECT_EQ(store.RedeemInvite("h3", "s5", kNow).outcome, RedeemOutcome::kExpired);
}

TEST(Store, RefreshTokensAreMarkedUsedOnce) {
  Store store(":memory:");
  store.AddConsultation({"c1", std::nullopt, "background", false, false, kNow});
  store.AddRefresh("r1", "s1", "c1", kNow);
  EXPECT_TRUE(store.MarkRefreshUsed("r1", "r2", kNow));
  EXPECT_FALSE(store.MarkRefreshUsed("r1", "r3", kNow));
  const auto record = store.FindRefresh("r1");
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->used_at, kNow);
  EXPECT_EQ(record->successor_hash, "r2");
}

TEST(Store, RevokingAParticipantRevokesItsIssuedTokens) {
  Store store(":memory:");
  store.RecordIssuedToken("j1", "s1", std::nullopt, kNow + 600);
  store.RecordIssuedToken("j2", "s2", std::string("web"), kNow + 600);
  store.RevokeTokensOf("s1", kNow);
  EXPECT_TRUE(store.IsRevoked("j1"));
  EXPECT_FALSE(store.IsRevoked("j2"));
  store.RevokeTokensOfWebSession("web", kNow);
  EXPECT_TRUE(store.IsRevoked("j2"));
}

TEST(Store, AuditLogIsAppendOnlyAndItsChainDetectsADeletedRow) {
  const std::string path = ::testing::TempDir() + "veil-audit-test.db";
  std::remove(path.c_str());
  Store store(path);
  for (int i = 0; i < 3; ++i) {
    store.Audit({"auth.login", "acct-1", "clinician", "", "ok", "", ""}, kNow + i);
  }
  EXPECT_TRUE(store.AuditChainIntact());
  EXPECT_EQ(store.AuditLines().size(), 3u);
  SqliteDb raw(path);  // someone with write access to the file
  EXPECT_THROW(raw.Exec("UPDATE audit SET actor = 'acct-2' WHERE id = 2"), SqliteError);
  raw.Exec("DELETE FROM audit WHERE id = 2");
  EXPECT_FALSE(store.AuditChainIntact());
  std::remove(path.c_str());
}

TEST(Store, RetentionPurgesEndedConsultationsAndOldAuditRowsKeepingTheChain) {
  Store store(":memory:");
  store.AddConsultation({"old", std::nullopt, "background", false, false, kNow});
  store.AddParticipant({"s1", "old", ParticipantState::kLeft, "Name", kNow});
  store.AddConsultation({"live", std::nullopt, "background", false, false, kNow});
  store.EndConsultation("old", kNow + 10, "clinician");
  for (int i = 0; i < 4; ++i)
    store.Audit({"auth.login", "acct-1", "clinician", "", "ok", "", ""}, kNow + i * 100);
  store.Purge(kNow + 11, kNow + 150);
  EXPECT_FALSE(store.FindConsultation("old").has_value());
  EXPECT_FALSE(store.FindParticipant("s1").has_value());
  EXPECT_TRUE(store.FindConsultation("live").has_value());
  EXPECT_EQ(store.AuditLines().size(), 2u);
  EXPECT_TRUE(store.AuditChainIntact());
}

TEST(Password, ScryptHashVerifiesAndHasTheDocumentedFormat) {
  const ScryptParams fast{10, 8, 1};  // cheap parameters for the unit test only
  const std::string hash = HashPassword("correct horse battery", fast);
  EXPECT_TRUE(hash.starts_with("$scrypt$ln=10,r=8,p=1$"));
  EXPECT_TRUE(VerifyPassword("correct horse battery", hash));
  EXPECT_FALSE(VerifyPassword("correct horse batterY", hash));
  EXPECT_FALSE(VerifyPassword("x", "$scrypt$ln=10,r=8,p=1$bad$bad"));
  EXPECT_TRUE(NeedsRehash(hash));
  EXPECT_FALSE(IsAcceptablePassword("short", "u"));
  EXPECT_FALSE(IsAcceptablePassword("clinician-one", "clinician-one"));
}

TEST(Parsing, RefusesUnknownFieldsAndBadTypes) {
  EXPECT_TRUE(ParseLoginRequest(R"({"username":"a","password":"b"})").value);
  EXPECT_FALSE(ParseLoginRequest(R"({"username":"a","password":"b","x":1})").value);
  EXPECT_FALSE(ParseLoginRequest(R"({"username":1,"password":"b"})").value);
  EXPECT_FALSE(ParseLoginRequest("[").value);
  EXPECT_FALSE(ParseRedeemRequest(R"({"invite":"short"})").value);
  EXPECT_FALSE(
      ParseDeviceEvent(R"({"type":"mode.reported","from":"x","to":"face","trigger":"patient"})")
          .value);
  EXPECT_TRUE(ParseDeviceEvent(
                  R"({"type":"mode.reported","from":"background","to":"face","trigger":"request"})")
                  .value);
  EXPECT_EQ(SessionCookie("a=b; __Host-veil_session=" + std::string(43, 'A')),
            std::string(43, 'A'));
  EXPECT_FALSE(SessionCookie("__Host-veil_session=short").has_value());
}

TEST(Turn, CredentialsFollowCoturnsUseAuthSecretScheme) {
  // coturn: password = base64(HMAC-SHA1(secret, username)); checked against `openssl dgst`.
  const TurnCredentials turn = MakeTurnCredentials("secret", "sub1", 1000, 600);
  EXPECT_EQ(turn.username, "1600:sub1");
  EXPECT_EQ(turn.credential, Base64Encode(HmacSha1("secret", "1600:sub1")));
  EXPECT_EQ(Base64Encode(HmacSha1("key", "The quick brown fox jumps over the lazy dog")),
            "3nybhbi3iqa8ino29wqQcBydtNk=");
}

}  // namespace
}  // namespace veil::server
