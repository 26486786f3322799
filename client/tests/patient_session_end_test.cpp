// veil-patient's whole invite flow (PatientApp, in this process) against VeilServerStandIn, a
// real HTTP server on loopback: the device redeems a short-lived session (2 s), waits, and its
// refresh meets a refusal, an ended consultation or a failing server. Checks the exit status
// (refresh_policy.h), that a final refusal is not retried, and that the refresh never blocks the
// main loop (status polls keep arriving while a slow refresh is in flight).
#include <glib.h>
#include <gst/gst.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "options.h"
#include "patient_app.h"
#include "refresh_policy.h"
#include "veil_server_stand_in.h"

namespace veil::client {
namespace {

using testing::VeilServerStandIn;
using Reply = VeilServerStandIn::Reply;

constexpr int kSessionSeconds = 2;  // refresh after 1 s (refreshDelaySeconds)
const Reply kWaiting{200, R"({"state":"waiting","clinician_publishing":false})"};

PatientOptions deviceOptions(const VeilServerStandIn& server) {
  ParseResult parsed =
      parseOptions({"--invite", server.inviteUrl(), "--ice-address", "127.0.0.1", "--source",
                    "test", "--no-audio", "--audio-out", "none", "--display", "none"});
  EXPECT_TRUE(parsed.options) << parsed.error;
  return *parsed.options;
}

class PatientSessionEnd : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { gst_init(nullptr, nullptr); }

  void SetUp() override {
    server_.onRedeem([] {
      return Reply{200, VeilServerStandIn::credentialsBody("session-token-1", "refresh-secret-1",
                                                           kSessionSeconds, "waiting")};
    });
    server_.onStatus([] { return kWaiting; });
  }

  int runDevice() {
    PatientApp app(deviceOptions(server_));
    return app.run();
  }

  VeilServerStandIn server_;
};

TEST_F(PatientSessionEnd, ARevokedSessionExitsWithItsOwnStatusWithoutRetrying) {
  server_.onRefresh([] {
    return Reply{401, VeilServerStandIn::errorBody("refresh_reused",
                                                   "this refresh token was already used; the "
                                                   "session has been revoked")};
  });
  // The status stays "waiting" so that only the refresh can end the run.
  EXPECT_EQ(runDevice(), kExitRevoked);
  EXPECT_EQ(server_.refresh_calls, 1);
  EXPECT_EQ(server_.leave_calls, 0);  // its tokens open nothing any more
}

TEST_F(PatientSessionEnd, AnEndedConsultationIsANormalEnd) {
  server_.onRefresh([] {
    return Reply{401, VeilServerStandIn::errorBody("invalid_refresh_token",
                                                   "the refresh token is no longer valid")};
  });
  server_.onStatus([this] {
    if (server_.refresh_calls == 0) return kWaiting;
    return Reply{410,
                 VeilServerStandIn::errorBody("consultation_ended", "the consultation has ended")};
  });
  EXPECT_EQ(runDevice(), kExitNormal);
  EXPECT_EQ(server_.refresh_calls, 1);
}

TEST_F(PatientSessionEnd, AFailingServerIsRetriedUntilTheSessionExpires) {
  server_.onRefresh([] {
    return Reply{503, VeilServerStandIn::errorBody("sfu_unavailable", "the SFU is unreachable")};
  });
  EXPECT_EQ(runDevice(), kExitSessionExpired);
  // First attempt after 1 s, a retry 1 s later at the expiry; none after.
  EXPECT_GE(server_.refresh_calls, 2);
  EXPECT_LE(server_.refresh_calls, 3);
}

TEST_F(PatientSessionEnd, AStatusPollThatSaysEndedIsANormalEnd) {
  server_.onRedeem([] {
    return Reply{200, VeilServerStandIn::credentialsBody("session-token-1", "refresh-secret-1", 600,
                                                         "waiting")};
  });
  server_.onStatus([this] {
    if (server_.status_calls < 2) return kWaiting;
    return Reply{410,
                 VeilServerStandIn::errorBody("consultation_ended", "the consultation has ended")};
  });
  EXPECT_EQ(runDevice(), kExitNormal);
  EXPECT_EQ(server_.refresh_calls, 0);
  EXPECT_EQ(server_.leave_calls, 0);
}

TEST_F(PatientSessionEnd, ASlowStatusPollDoesNotStopTheMainLoop) {
  // Session of 6 s: refresh after 3 s, while the first status poll (after 2 s) takes 5 s.
  server_.onRedeem([] {
    return Reply{200, VeilServerStandIn::credentialsBody("session-token-1", "refresh-secret-1", 6,
                                                         "waiting")};
  });
  server_.onStatus([] { return Reply{kWaiting.status, kWaiting.body, 5000}; });
  server_.onRefresh([] {
    return Reply{401, VeilServerStandIn::errorBody("refresh_reused",
                                                   "this refresh token was already used; the "
                                                   "session has been revoked")};
  });
  EXPECT_EQ(runDevice(), kExitRevoked);
  EXPECT_EQ(server_.refresh_calls_during_status, 1);
}

TEST_F(PatientSessionEnd, ASlowRefreshDoesNotStopTheMainLoop) {
  // The refresh takes 5 s and then fails for good; meanwhile the 2 s status polls go on.
  server_.onRefresh([] {
    return Reply{401, VeilServerStandIn::errorBody("token_revoked", "the token has been revoked"),
                 5000};
  });
  EXPECT_EQ(runDevice(), kExitRevoked);
  EXPECT_GE(server_.status_calls_during_refresh, 2);
}

}  // namespace
}  // namespace veil::client
