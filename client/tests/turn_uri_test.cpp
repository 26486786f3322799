#include "turn_uri.h"

#include <gtest/gtest.h>

namespace veil::client {
namespace {

TEST(TurnUri, EscapesCoturnUsernamesAndBase64Passwords) {
  // use-auth-secret: "<expiry>:<participant>" and a base64 HMAC ('/', '+', '=').
  const auto uri =
      webrtcbinTurnUri("turn:10.77.0.1:3478?transport=udp", "1764870000:0123abcd", "ab/c+d==");
  ASSERT_TRUE(uri);
  EXPECT_EQ(*uri, "turn://1764870000%3A0123abcd:ab%2Fc%2Bd%3D%3D@10.77.0.1:3478");
}

TEST(TurnUri, KeepsTcpAndTurns) {
  EXPECT_EQ(webrtcbinTurnUri("turns:turn.example:5349?transport=tcp", "u", "p"),
            "turns://u:p@turn.example:5349?transport=tcp");
  EXPECT_EQ(webrtcbinTurnUri("turn:[fd00::1]:3478", "u", "p"), "turn://u:p@[fd00::1]:3478");
  EXPECT_EQ(webrtcbinTurnUri("turn://h:3478", "u", "p"), "turn://u:p@h:3478");
}

TEST(TurnUri, RefusesWhatItCannotExpress) {
  EXPECT_FALSE(webrtcbinTurnUri("stun:h:3478", "u", "p"));
  EXPECT_FALSE(webrtcbinTurnUri("turn:", "u", "p"));
  EXPECT_FALSE(webrtcbinTurnUri("turn:h:3478?transport=sctp", "u", "p"));
  EXPECT_FALSE(webrtcbinTurnUri("turn:user@h:3478", "u", "p"));
  EXPECT_FALSE(webrtcbinTurnUri("turn:h/x:3478", "u", "p"));
}

TEST(TurnUri, ListSkipsUnusableUrls) {
  const TurnCredentials turn{
      {"turn:a:3478?transport=udp", "stun:b:3478", "turn:c:3478"}, "1:x", "p"};
  const auto uris = webrtcbinTurnUris(turn);
  ASSERT_EQ(uris.size(), 2u);
  EXPECT_EQ(uris[0], "turn://1%3Ax:p@a:3478");
  EXPECT_EQ(uris[1], "turn://1%3Ax:p@c:3478");
}

}  // namespace
}  // namespace veil::client
