#include "mode_authority.h"

#include <gtest/gtest.h>

namespace veil::client {
namespace {

TEST(ModeAuthority, StricterModeAppliesAtOnce) {
  ModeAuthority authority(Mode::kBackground);
  EXPECT_EQ(authority.request(Mode::kVoiceOnly), ModeAuthority::Outcome::kApplied);
  EXPECT_EQ(authority.current(), Mode::kVoiceOnly);
  EXPECT_FALSE(authority.pending().has_value());
}

TEST(ModeAuthority, LooserModeWaitsForConfirmation) {
  ModeAuthority authority(Mode::kVoiceOnly);
  EXPECT_EQ(authority.request(Mode::kBackground), ModeAuthority::Outcome::kNeedsConfirmation);
  EXPECT_EQ(authority.current(), Mode::kVoiceOnly);
  EXPECT_EQ(authority.confirm(), ModeAuthority::Outcome::kApplied);
  EXPECT_EQ(authority.current(), Mode::kBackground);
  EXPECT_EQ(authority.confirm(), ModeAuthority::Outcome::kNothingPending);
}

TEST(ModeAuthority, IncomparableModeCountsAsLooser) {
  // Face hides the face but shows the background that background mode hid.
  ModeAuthority authority(Mode::kBackground);
  EXPECT_EQ(authority.request(Mode::kFace), ModeAuthority::Outcome::kNeedsConfirmation);
  authority.cancel();
  EXPECT_EQ(authority.confirm(), ModeAuthority::Outcome::kNothingPending);
  EXPECT_EQ(authority.current(), Mode::kBackground);
}

TEST(ModeAuthority, StricterRequestDropsAPendingLooserOne) {
  ModeAuthority authority(Mode::kBackgroundAndFace);
  EXPECT_EQ(authority.request(Mode::kBackground), ModeAuthority::Outcome::kNeedsConfirmation);
  EXPECT_EQ(authority.request(Mode::kVoiceOnly), ModeAuthority::Outcome::kApplied);
  EXPECT_EQ(authority.confirm(), ModeAuthority::Outcome::kNothingPending);
  EXPECT_EQ(authority.current(), Mode::kVoiceOnly);
}

TEST(ControlLine, Parses) {
  EXPECT_EQ(parseControlLine("mode voice-only\n").kind, ControlCommand::Kind::kMode);
  EXPECT_EQ(parseControlLine("mode voice-only\n").mode, Mode::kVoiceOnly);
  EXPECT_EQ(parseControlLine("  confirm ").kind, ControlCommand::Kind::kConfirm);
  EXPECT_EQ(parseControlLine("cancel").kind, ControlCommand::Kind::kCancel);
  EXPECT_EQ(parseControlLine("quit").kind, ControlCommand::Kind::kQuit);
  EXPECT_EQ(parseControlLine("mode nonsense").kind, ControlCommand::Kind::kInvalid);
  EXPECT_EQ(parseControlLine("reveal everything").kind, ControlCommand::Kind::kInvalid);
}

}  // namespace
}  // namespace veil::client
