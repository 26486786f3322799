// Refresh of the patient's session: how veil-server's replies are classified, when to retry,
// and requestRefresh against a real HTTP server on loopback (VeilServerStandIn) that answers with
// veil-server's own error bodies (server/README.md "Errors"; messages as in
// server/src/consultation_service.cc). BackgroundCall runs the call off the main loop.
#include <glib.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "background_call.h"
#include "consultation_session.h"
#include "refresh_policy.h"
#include "veil_server_stand_in.h"

namespace veil::client {
namespace {

TEST(RefreshPolicy, ClassifiesVeilServerReplies) {
  EXPECT_EQ(classifyReply(200, ""), ServerVerdict::kOk);
  EXPECT_EQ(classifyReply(204, ""), ServerVerdict::kOk);
  // No reply, server trouble, a concurrent refresh, throttling: try again.
  EXPECT_EQ(classifyReply(0, ""), ServerVerdict::kTransient);
  EXPECT_EQ(classifyReply(500, ""), ServerVerdict::kTransient);
  EXPECT_EQ(classifyReply(503, "sfu_unavailable"), ServerVerdict::kTransient);
  EXPECT_EQ(classifyReply(409, "conflict"), ServerVerdict::kTransient);
  EXPECT_EQ(classifyReply(429, "too_many_attempts"), ServerVerdict::kTransient);
  EXPECT_EQ(classifyReply(401, "token_expired"), ServerVerdict::kExpired);
  EXPECT_EQ(classifyReply(410, "consultation_ended"), ServerVerdict::kEnded);
  // Final: retrying cannot help.
  for (const char* code : {"refresh_reused", "invalid_refresh_token", "token_revoked",
                           "invalid_token", "missing_token"}) {
    EXPECT_EQ(classifyReply(401, code), ServerVerdict::kRefused) << code;
  }
  EXPECT_EQ(classifyReply(403, "not_admitted"), ServerVerdict::kRefused);
  EXPECT_EQ(classifyReply(410, "invite_used"), ServerVerdict::kRefused);
  EXPECT_EQ(classifyReply(400, "bad_request"), ServerVerdict::kRefused);
}

TEST(RefreshPolicy, RefreshesAMinuteEarlyOrHalfWayForShortTokens) {
  EXPECT_EQ(refreshDelaySeconds(600), 540);
  EXPECT_EQ(refreshDelaySeconds(120), 60);
  EXPECT_EQ(refreshDelaySeconds(20), 10);  // the session_refresh integration test's TTL
  EXPECT_EQ(refreshDelaySeconds(1), 1);
  EXPECT_EQ(refreshDelaySeconds(0), 1);
}

TEST(RefreshPolicy, RetriesBackOffAndNeverPassTheExpiry) {
  EXPECT_EQ(retryDelaySeconds(1, 500), 1);
  EXPECT_EQ(retryDelaySeconds(2, 500), 2);
  EXPECT_EQ(retryDelaySeconds(3, 500), 4);
  EXPECT_EQ(retryDelaySeconds(5, 500), 16);
  EXPECT_EQ(retryDelaySeconds(6, 500), 30);
  EXPECT_EQ(retryDelaySeconds(60, 500), 30);
  EXPECT_EQ(retryDelaySeconds(6, 7), 7);
  EXPECT_EQ(retryDelaySeconds(6, 0), 1);
}

using testing::VeilServerStandIn;
using Reply = VeilServerStandIn::Reply;

std::string errorBody(const std::string& code, const std::string& message) {
  return VeilServerStandIn::errorBody(code, message);
}

// A server whose refresh and status routes answer `refresh` and `status`.
struct Server {
  Server(Reply refresh, Reply status) {
    stand_in.onRefresh([refresh] { return refresh; });
    stand_in.onStatus([status] { return status; });
  }
  RefreshInput input() const {
    return {stand_in.endpoint(), VeilServerStandIn::kConsultation, "refresh-secret-1",
            "session-token-1"};
  }
  VeilServerStandIn stand_in;
};

const Reply kAdmitted{200, R"({"state":"admitted","clinician_publishing":false})"};

TEST(RequestRefresh, AdoptsTheRotatedCredentials) {
  Server server({200, VeilServerStandIn::credentialsBody("session-token-2", "refresh-secret-2", 20,
                                                         "admitted")},
                kAdmitted);
  const RefreshOutcome outcome = requestRefresh(server.input());
  ASSERT_EQ(outcome.verdict, ServerVerdict::kOk) << outcome.error;
  ASSERT_TRUE(outcome.credentials);
  EXPECT_EQ(outcome.credentials->token, "session-token-2");
  EXPECT_EQ(outcome.credentials->refresh_token, "refresh-secret-2");
  EXPECT_EQ(outcome.credentials->expires_in, 20);
  EXPECT_FALSE(outcome.credentials->turn);
  EXPECT_EQ(nlohmann::json::parse(server.stand_in.lastRefreshBody()),
            (nlohmann::json{{"refresh_token", "refresh-secret-1"}}));
  EXPECT_EQ(server.stand_in.status_calls, 0);
}

TEST(RequestRefresh, AReplayedRefreshTokenIsFinalAndTheErrorCarriesCodesOnly) {
  Server server(
      {401, errorBody("refresh_reused",
                      "this refresh token was already used; the session has been revoked")},
      {401, errorBody("token_revoked", "the token has been revoked")});
  const RefreshOutcome outcome = requestRefresh(server.input());
  EXPECT_EQ(outcome.verdict, ServerVerdict::kRefused);
  EXPECT_FALSE(outcome.credentials);
  EXPECT_EQ(outcome.error, "refresh: HTTP 401 (refresh_reused); status: HTTP 401 (token_revoked)");
  EXPECT_EQ(server.stand_in.lastStatusAuthorization(), "Bearer session-token-1");
}

TEST(RequestRefresh, AnEndedConsultationIsToldApartFromARevokedDevice) {
  // After the end, refresh tokens are deleted (401) and the status says why (410).
  Server server({401, errorBody("invalid_refresh_token", "the refresh token is no longer valid")},
                {410, errorBody("consultation_ended", "the consultation has ended")});
  const RefreshOutcome outcome = requestRefresh(server.input());
  EXPECT_EQ(outcome.verdict, ServerVerdict::kEnded);
  EXPECT_EQ(outcome.error,
            "refresh: HTTP 401 (invalid_refresh_token); status: HTTP 410 (consultation_ended)");
}

TEST(RequestRefresh, ServerTroubleIsTransientAndAsksNothingElse) {
  Server unavailable({503, errorBody("sfu_unavailable", "the SFU is unreachable")}, kAdmitted);
  RefreshOutcome outcome = requestRefresh(unavailable.input());
  EXPECT_EQ(outcome.verdict, ServerVerdict::kTransient);
  EXPECT_EQ(outcome.error, "refresh: HTTP 503 (sfu_unavailable)");
  EXPECT_EQ(unavailable.stand_in.status_calls, 0);

  Server concurrent({409, errorBody("conflict", "the refresh token was used concurrently; retry")},
                    kAdmitted);
  EXPECT_EQ(requestRefresh(concurrent.input()).verdict, ServerVerdict::kTransient);

  Server malformed({200, R"({"token":"only half"})"}, kAdmitted);
  outcome = requestRefresh(malformed.input());
  EXPECT_EQ(outcome.verdict, ServerVerdict::kTransient);
  EXPECT_FALSE(outcome.credentials);
}

TEST(RequestRefresh, NoServerIsTransient) {
  RefreshInput input;
  {
    const Server gone(kAdmitted, kAdmitted);
    input = gone.input();
  }  // stopped: its port refuses connections now
  const RefreshOutcome outcome = requestRefresh(input);
  EXPECT_EQ(outcome.verdict, ServerVerdict::kTransient);
  EXPECT_TRUE(outcome.error.starts_with("refresh: cannot reach the server")) << outcome.error;
}

// Runs the default main context until `done` or 10 s.
void iterateUntil(const std::function<bool()>& done) {
  const gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
  while (!done() && g_get_monotonic_time() < deadline) g_main_context_iteration(nullptr, FALSE);
}

TEST(BackgroundCall, RunsOffTheMainLoopAndDeliversOnIt) {
  const std::thread::id main_thread = std::this_thread::get_id();
  std::thread::id worker;
  std::thread::id delivered_on;
  int result = 0;
  BackgroundCall<int> call;
  call.start(
      [&worker] {
        worker = std::this_thread::get_id();
        return 42;
      },
      [&](int value) {
        delivered_on = std::this_thread::get_id();
        result = value;
      });
  iterateUntil([&] { return result != 0; });
  EXPECT_EQ(result, 42);
  EXPECT_NE(worker, main_thread);
  EXPECT_EQ(delivered_on, main_thread);
}

TEST(BackgroundCall, AResultAfterItsOwnerIsGoneIsDropped) {
  std::atomic<bool> worked{false};
  bool delivered = false;
  {
    BackgroundCall<int> call;
    call.start(
        [&worked] {
          worked = true;
          return 1;
        },
        [&delivered](int) { delivered = true; });
  }  // joined: the result is queued on the main context, its owner gone
  ASSERT_TRUE(worked);
  for (int i = 0; i < 100; ++i) g_main_context_iteration(nullptr, FALSE);
  EXPECT_FALSE(delivered);
}

}  // namespace
}  // namespace veil::client
