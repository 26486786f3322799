#include "bitrate_controller.h"

#include <gtest/gtest.h>

namespace veil::client {
namespace {

TEST(BitrateController, HeavyLossCutsAtOnceDownToTheFloor) {
  BitrateController controller(1'000'000, 200'000, 1'000'000);
  EXPECT_EQ(controller.onReport(0.2), 750'000);
  for (int i = 0; i < 20; ++i) controller.onReport(0.5);
  EXPECT_EQ(controller.currentBps(), 200'000);
  EXPECT_FALSE(controller.onReport(0.5).has_value());
}

TEST(BitrateController, CleanReportsProbeUpToTheCeiling) {
  BitrateController controller(500'000, 200'000, 1'000'000);
  EXPECT_EQ(controller.onReport(0.0), 540'000);
  for (int i = 0; i < 40; ++i) controller.onReport(0.0);
  EXPECT_EQ(controller.currentBps(), 1'000'000);
}

TEST(BitrateController, ModerateLossHolds) {
  BitrateController controller(500'000, 200'000, 1'000'000);
  EXPECT_FALSE(controller.onReport(0.05).has_value());
  EXPECT_EQ(controller.currentBps(), 500'000);
}

}  // namespace
}  // namespace veil::client
