#include "crypto.h"

#include <gtest/gtest.h>

#include "secrets.h"

namespace veil::server {
namespace {

TEST(Base64Url, RoundTripsEveryLength) {
  std::string bytes;
  for (int length = 0; length < 40; ++length) {
    const std::optional<std::string> decoded = Base64UrlDecode(Base64UrlEncode(bytes));
    ASSERT_TRUE(decoded.has_value()) << length;
    EXPECT_EQ(*decoded, bytes);
    bytes.push_back(static_cast<char>(length * 37 + 250));
  }
}

TEST(Base64Url, KnownVectorsFromRfc4648) {
  EXPECT_EQ(Base64UrlEncode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64UrlEncode("fo"), "Zm8");
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
}

TEST(Base64Url, RefusesPaddingForeignCharactersAndNonCanonicalTails) {
  EXPECT_FALSE(Base64UrlDecode("Zm8=").has_value());
  EXPECT_FALSE(Base64UrlDecode("Zm+v").has_value());
  EXPECT_FALSE(Base64UrlDecode("Z").has_value());
  EXPECT_FALSE(Base64UrlDecode("Zm9").has_value());  // trailing bits set: not what we encode
  EXPECT_TRUE(Base64UrlDecode("Zm8").has_value());
}

TEST(HmacSha256, MatchesRfc4231TestCase2) {
  EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(RoomCredentials, DeterministicPerConsultationAndDistinct) {
  const DerivedKeys keys = DeriveKeys(std::string(48, 'k'));
  const RoomCredentials a1 = DeriveRoomCredentials(keys.janus_rooms, "a");
  const RoomCredentials a2 = DeriveRoomCredentials(keys.janus_rooms, "a");
  const RoomCredentials b = DeriveRoomCredentials(keys.janus_rooms, "b");
  EXPECT_EQ(a1.room_id, a2.room_id);
  EXPECT_EQ(a1.secret, a2.secret);
  EXPECT_NE(a1.room_id, b.room_id);
  EXPECT_NE(a1.secret, b.secret);
  EXPECT_NE(a1.pin, b.pin);
  EXPECT_GT(a1.room_id, 0u);
  EXPECT_LE(a1.room_id, std::uint64_t{1} << 48);
  EXPECT_NE(keys.janus_rooms, keys.token_signing);
}

}  // namespace
}  // namespace veil::server
