#include "token.h"

#include <gtest/gtest.h>

#include <vector>

#include "crypto.h"

namespace veil::server {
namespace {

constexpr std::int64_t kNow = 1'800'000'000;
const TokenSigner& Signer() {
  static const TokenSigner signer({{"k1", std::string(32, 's')}, {"k2", std::string(32, 't')}},
                                  "k2");
  return signer;
}

MintRequest Request(std::string cid, Role role, std::int64_t ttl) {
  return MintRequest{"https://veil.test", std::move(cid), "0123456789abcdef0123456789abcdef", role,
                     ttl};
}

TEST(Token, MintedTokenVerifiesWithItsClaims) {
  const std::string token = Signer().Mint(Request("room-1", Role::kPatient, 600), kNow);
  const TokenCheck check = Signer().Verify(token, kNow + 10);
  ASSERT_TRUE(check.claims.has_value());
  EXPECT_EQ(check.claims->consultation_id, "room-1");
  EXPECT_EQ(check.claims->issuer, "https://veil.test");
  EXPECT_EQ(check.claims->subject, "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(check.claims->role, Role::kPatient);
  EXPECT_EQ(check.claims->expires_at - check.claims->issued_at, 600);
  EXPECT_EQ(check.claims->token_id.size(), 32u);
}

TEST(Token, HeaderNamesTheSigningKeyAndOldKeysStillVerify) {
  const std::string token = Signer().Mint(Request("r", Role::kClinician, 60), kNow);
  const auto header = Base64UrlDecode(token.substr(0, token.find('.')));
  ASSERT_TRUE(header.has_value());
  EXPECT_NE(header->find(R"("kid":"k2")"), std::string::npos);
  // A signer whose current key is k1 (before rotation) still verifies in the rotated signer.
  const TokenSigner before({{"k1", std::string(32, 's')}}, "k1");
  EXPECT_TRUE(Signer().Verify(before.Mint(Request("r", Role::kPatient, 60), kNow), kNow).claims);
  // After k1 is dropped its tokens fail.
  const TokenSigner after({{"k2", std::string(32, 't')}}, "k2");
  EXPECT_EQ(after.Verify(before.Mint(Request("r", Role::kPatient, 60), kNow), kNow).error,
            TokenError::kBadSignature);
}

TEST(Token, ExpiresExactlyAtExp) {
  const std::string token = Signer().Mint(Request("r", Role::kClinician, 60), kNow);
  EXPECT_TRUE(Signer().Verify(token, kNow + 59).claims.has_value());
  const TokenCheck expired = Signer().Verify(token, kNow + 60);
  EXPECT_FALSE(expired.claims.has_value());
  EXPECT_EQ(expired.error, TokenError::kExpired);
  EXPECT_EQ(TokenErrorCode(expired.error), "token_expired");
}

TEST(Token, RefusesTokensFromTheFuture) {
  const std::string token =
      Signer().Mint(Request("r", Role::kClinician, 60), kNow + kClockSkewSeconds + 5);
  EXPECT_EQ(Signer().Verify(token, kNow).error, TokenError::kNotYetValid);
}

TEST(Token, OtherKeyAndTamperingFailTheSignature) {
  const TokenSigner other({{"k2", std::string(32, 'o')}}, "k2");
  const std::string token = other.Mint(Request("r", Role::kPatient, 60), kNow);
  EXPECT_EQ(Signer().Verify(token, kNow).error, TokenError::kBadSignature);
  std::string tampered = Signer().Mint(Request("r", Role::kClinician, 60), kNow);
  tampered[tampered.find('.') + 5] ^= 1;
  EXPECT_FALSE(Signer().Verify(tampered, kNow).claims.has_value());
}

TEST(Token, RefusesMalformedStructure) {
  for (const std::string& bad :
       std::vector<std::string>{"", ".", "..", "a.b.c", "a.b.c.d", std::string(5000, 'a')}) {
    EXPECT_FALSE(Signer().Verify(bad, kNow).claims.has_value()) << bad.substr(0, 20);
  }
}

TEST(Token, RefusesAlgNoneEvenWithValidLookingPayload) {
  const std::string valid = Signer().Mint(Request("r", Role::kPatient, 60), kNow);
  const std::string payload =
      valid.substr(valid.find('.') + 1, valid.rfind('.') - valid.find('.') - 1);
  const std::string none =
      Base64UrlEncode(R"({"alg":"none","typ":"JWT","kid":"k2"})") + "." + payload + ".";
  EXPECT_FALSE(Signer().Verify(none, kNow).claims.has_value());
}

TEST(Token, MintRefusesBadInput) {
  EXPECT_THROW(Signer().Mint(Request("a/b", Role::kPatient, 60), kNow), std::invalid_argument);
  EXPECT_THROW(Signer().Mint(Request("", Role::kPatient, 60), kNow), std::invalid_argument);
  EXPECT_THROW(Signer().Mint(Request("r", Role::kPatient, kMaxTokenTtlSeconds + 1), kNow),
               std::invalid_argument);
  EXPECT_THROW(Signer().Mint(Request("r", Role::kPatient, 0), kNow), std::invalid_argument);
}

TEST(Token, OnlyPatientAndClinicianRolesExist) {
  EXPECT_EQ(ParseRole("patient"), Role::kPatient);
  EXPECT_EQ(ParseRole("clinician"), Role::kClinician);
  EXPECT_FALSE(ParseRole("viewer").has_value());
  EXPECT_FALSE(ParseRole("admin").has_value());
}

TEST(ConsultationId, AllowsOnlyUrlSafeCharacters) {
  EXPECT_TRUE(IsValidConsultationId("Abc_12-x"));
  EXPECT_FALSE(IsValidConsultationId(std::string(65, 'a')));
  EXPECT_FALSE(IsValidConsultationId("a b"));
  EXPECT_FALSE(IsValidConsultationId("é"));
}

}  // namespace
}  // namespace veil::server
