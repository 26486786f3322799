#include "idle_tracker.h"

#include <gtest/gtest.h>

#include "cli_args.h"
#include "server_config.h"

namespace veil::server {
namespace {

constexpr std::int64_t kIdle = 1800;
constexpr std::int64_t kWindow = 30;
constexpr std::int64_t kT0 = 1'800'000'000;

TEST(IdleTracker, AConsultationNobodyJoinedIsNeverIdleEnded) {
  IdleTracker idle(kIdle, kWindow);
  EXPECT_FALSE(idle.Observe("c", false, kT0));
  EXPECT_FALSE(idle.Observe("c", false, kT0 + 10 * kIdle));
  EXPECT_FALSE(idle.EverJoined("c"));
}

TEST(IdleTracker, EndsIdleEndSecondsAfterTheFirstEmptySweep) {
  IdleTracker idle(kIdle, kWindow);
  EXPECT_FALSE(idle.Observe("c", true, kT0));         // someone publishes
  EXPECT_FALSE(idle.Observe("c", false, kT0 + 100));  // they left: the clock starts here
  EXPECT_FALSE(idle.Observe("c", false, kT0 + 100 + kIdle - 1));
  EXPECT_TRUE(idle.Observe("c", false, kT0 + 100 + kIdle));
}

TEST(IdleTracker, AnyoneComingBackRestartsTheClock) {
  IdleTracker idle(kIdle, kWindow);
  idle.Observe("c", true, kT0);
  idle.Observe("c", false, kT0 + 10);
  EXPECT_FALSE(idle.Observe("c", true, kT0 + 10 + kIdle - 5));  // reconnected just in time
  EXPECT_FALSE(idle.Observe("c", false, kT0 + 10 + kIdle));     // left again: a new clock
  EXPECT_FALSE(idle.Observe("c", false, kT0 + 10 + 2 * kIdle - 1));
  EXPECT_TRUE(idle.Observe("c", false, kT0 + 10 + 2 * kIdle));
}

TEST(IdleTracker, ARecentRequestCountsAsPresenceForTheActivityWindow) {
  IdleTracker idle(kIdle, kWindow);
  idle.Touch("c", kT0);  // e.g. a waiting patient's status poll: joined, present, no media
  EXPECT_TRUE(idle.EverJoined("c"));
  EXPECT_FALSE(idle.Observe("c", false, kT0 + kWindow - 1));
  EXPECT_FALSE(idle.Observe("c", false, kT0 + kWindow));  // window over: empty from here
  EXPECT_FALSE(idle.Observe("c", false, kT0 + kWindow + kIdle - 1));
  EXPECT_TRUE(idle.Observe("c", false, kT0 + kWindow + kIdle));
}

TEST(IdleTracker, ConsultationsAreIndependentAndForgettingDropsTheClock) {
  IdleTracker idle(kIdle, kWindow);
  idle.Observe("a", true, kT0);
  idle.Observe("a", false, kT0 + 1);
  idle.Observe("b", true, kT0);
  EXPECT_TRUE(idle.Observe("a", false, kT0 + 1 + kIdle));
  EXPECT_FALSE(idle.Observe("b", true, kT0 + 1 + kIdle));
  idle.Forget("a");
  EXPECT_FALSE(idle.EverJoined("a"));
  EXPECT_FALSE(idle.Observe("a", false, kT0 + 10 * kIdle));
}

TEST(IdleTracker, JoinedBeforeARestartEndsWhenNobodyComesBack) {
  IdleTracker idle(kIdle, kWindow);
  idle.MarkJoined("c");
  EXPECT_FALSE(idle.Observe("c", false, kT0));
  EXPECT_TRUE(idle.Observe("c", false, kT0 + kIdle));
}

TEST(ServerConfig, DefaultsAreTheDesignedTimesAndTheSweepFollowsShortenedOnes) {
  ServerConfig config;
  EXPECT_EQ(config.idle_end_seconds, 30 * 60);
  EXPECT_EQ(config.max_consultation_seconds, 4 * 3600);
  EXPECT_EQ(config.token_ttl_seconds, 600);
  EXPECT_EQ(config.SweepIntervalSeconds(), 15);
  EXPECT_EQ(config.ActivityWindowSeconds(), 30);
  config.idle_end_seconds = 6;
  EXPECT_EQ(config.SweepIntervalSeconds(), 1);
  EXPECT_EQ(config.ActivityWindowSeconds(), 6);
  config.idle_end_seconds = 1800;
  config.max_consultation_seconds = 40;
  EXPECT_EQ(config.SweepIntervalSeconds(), 8);
}

TEST(CliArgs, BoundedSecondsAcceptsTheRangeAndRefusesEverythingElse) {
  const auto parse = [](const std::string& value) {
    return BoundedSeconds(CliArgs({"--token-ttl-seconds", value}, {"--token-ttl-seconds"}),
                          "--token-ttl-seconds", 10, 900, 600);
  };
  EXPECT_EQ(
      BoundedSeconds(CliArgs({}, {"--token-ttl-seconds"}), "--token-ttl-seconds", 10, 900, 600),
      600);
  EXPECT_EQ(parse("10"), 10);
  EXPECT_EQ(parse("900"), 900);
  for (const std::string bad : {"9", "901", "", "-5", "20s", "1e3", "99999999999", " 20"}) {
    EXPECT_THROW(parse(bad), std::invalid_argument) << bad;
  }
}

}  // namespace
}  // namespace veil::server
