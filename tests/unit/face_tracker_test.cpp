// FaceTracker: pure logic driven by synthetic detections and deterministic timestamps.
#include "veil/face_tracker.h"

#include <gtest/gtest.h>

#include <cmath>
#include <opencv2/core.hpp>

namespace veil {
namespace {

constexpr std::int64_t kFrameUs = 33'333;  // 30 fps
constexpr std::int64_t kSecondUs = 1'000'000;

// An upright face: box at (x, y) of w x w, keypoints where BlazeFace puts them.
FaceDetection face(float x, float y, float w, float score = 0.9f) {
  FaceDetection d;
  d.box = cv::Rect2f(x, y, w, w);
  d.score = score;
  d.keypoints = {cv::Point2f(x + 0.3f * w, y + 0.35f * w),
                 cv::Point2f(x + 0.7f * w, y + 0.35f * w),
                 cv::Point2f(x + 0.5f * w, y + 0.55f * w),
                 cv::Point2f(x + 0.5f * w, y + 0.75f * w),
                 cv::Point2f(x, y + 0.45f * w),
                 cv::Point2f(x + w, y + 0.45f * w)};
  return d;
}

bool hides(const cv::Mat& mask, cv::Point2f p) {
  return mask.at<std::uint8_t>(cvRound(p.y), cvRound(p.x)) == 255;
}

TEST(FaceEllipse, CoversHairLineEarsAndChinOfAnUprightFace) {
  const FaceTrackerParams params;
  const FaceDetection d = face(200, 200, 100);
  const cv::RotatedRect e = faceEllipse(d, params);
  EXPECT_FLOAT_EQ(e.size.width, 190.0f);
  EXPECT_FLOAT_EQ(e.size.height, 240.0f);
  EXPECT_NEAR(e.center.x, 250.0f, 1e-4);
  EXPECT_NEAR(e.center.y, 250.0f - 20.0f, 1e-4);  // shifted up by 0.2 box heights
  EXPECT_NEAR(e.angle, 0.0f, 1e-4);
  TrackedFace t;
  t.region = e;
  const cv::Mat mask = rasteriseFaceRegions({t}, cv::Size(600, 600));
  for (const cv::Point2f p :
       {cv::Point2f(250, 140),  // hair line, 0.6 box heights above the box
        cv::Point2f(180, 250),  // ears, 0.2 box widths outside the box
        cv::Point2f(320, 250),  //
        cv::Point2f(250, 320),  // below the chin
        cv::Point2f(200, 200),  // every box corner
        cv::Point2f(300, 200), cv::Point2f(200, 300), cv::Point2f(300, 300)}) {
    EXPECT_TRUE(hides(mask, p)) << p;
  }
  EXPECT_FALSE(hides(mask, {250, 100}));  // it is a head, not the whole frame
  EXPECT_FALSE(hides(mask, {140, 250}));
  EXPECT_FALSE(hides(mask, {250, 370}));
}

TEST(FaceEllipse, FollowsTheRollOfTheEyeLine) {
  FaceDetection d = face(200, 200, 100);
  // Head rolled 30 degrees clockwise on screen: left eye lower than the right one.
  const cv::Point2f mid(250, 235);
  const float half = 20;
  d.keypoints[0] = mid - cv::Point2f(half * std::cos(CV_PI / 6), half * std::sin(CV_PI / 6));
  d.keypoints[1] = mid + cv::Point2f(half * std::cos(CV_PI / 6), half * std::sin(CV_PI / 6));
  const cv::RotatedRect e = faceEllipse(d, FaceTrackerParams{});
  EXPECT_NEAR(e.angle, 30.0f, 1e-3);
  // The centre moves along the face's own up: up and to the right.
  EXPECT_GT(e.center.x, 250.0f);
  EXPECT_LT(e.center.y, 250.0f);
}

TEST(FaceTracker, KeepsOneIdWhileTheFaceMoves) {
  FaceTracker tracker;
  int id = 0;
  for (int i = 0; i < 30; ++i) {
    const auto& faces = tracker.update({face(100.0f + 4.0f * i, 100, 80)}, i * kFrameUs);
    ASSERT_EQ(faces.size(), 1u);
    EXPECT_EQ(faces[0].state, FaceTrackState::kDetected);
    if (i == 0) id = faces[0].id;
    EXPECT_EQ(faces[0].id, id);
    // The region comes from this frame's detection, not an average over past frames.
    EXPECT_NEAR(faces[0].region.center.x, 140.0f + 4.0f * i, 1e-3);
  }
}

TEST(FaceTracker, HoldsAMissedFaceGrowingByTheMotionBoundThenReportsItLost) {
  FaceTrackerParams params;
  FaceTracker tracker(params);
  const FaceDetection d = face(300, 100, 80);
  tracker.update({d}, 0);
  const cv::RotatedRect detected = tracker.faces()[0].region;
  const int id = tracker.faces()[0].id;

  // Half a second without detections: held, each semi-axis 0.5 s x 1 box width/s = 40 px larger.
  tracker.update({}, kSecondUs / 2);
  ASSERT_EQ(tracker.faces().size(), 1u);
  EXPECT_EQ(tracker.faces()[0].state, FaceTrackState::kHeld);
  EXPECT_EQ(tracker.faces()[0].id, id);
  EXPECT_NEAR(tracker.faces()[0].region.size.width, detected.size.width + 80, 1e-3);
  EXPECT_NEAR(tracker.faces()[0].region.size.height, detected.size.height + 80, 1e-3);
  EXPECT_EQ(tracker.faces()[0].region.center, detected.center);
  EXPECT_TRUE(tracker.lostInLastUpdate().empty());

  // Still held at exactly hold_seconds.
  tracker.update({}, 2 * kSecondUs);
  ASSERT_EQ(tracker.faces().size(), 1u);
  EXPECT_EQ(tracker.faces()[0].state, FaceTrackState::kHeld);
  EXPECT_NEAR(tracker.faces()[0].region.size.width, detected.size.width + 2 * 2 * 80, 1e-3);

  // One frame later it is lost: reported once, with its last region, and no longer hidden.
  tracker.update({}, 2 * kSecondUs + kFrameUs);
  EXPECT_TRUE(tracker.faces().empty());
  ASSERT_EQ(tracker.lostInLastUpdate().size(), 1u);
  EXPECT_EQ(tracker.lostInLastUpdate()[0].id, id);
  EXPECT_EQ(tracker.lostInLastUpdate()[0].state, FaceTrackState::kLost);
  EXPECT_GT(tracker.lostInLastUpdate()[0].region.size.width, detected.size.width + 4 * 80);
  tracker.update({}, 2 * kSecondUs + 2 * kFrameUs);
  EXPECT_TRUE(tracker.lostInLastUpdate().empty());
}

TEST(FaceTracker, ReacquiresAHeldFaceThatMovedWithinTheBound) {
  FaceTracker tracker;
  tracker.update({face(300, 100, 80)}, 0);
  const int id = tracker.faces()[0].id;
  for (int i = 1; i <= 15; ++i) tracker.update({}, i * kFrameUs);  // half a second missed
  // The face reappears 60 px to the right (less than the 40 px growth + the ellipse itself).
  tracker.update({face(360, 110, 80)}, 16 * kFrameUs);
  ASSERT_EQ(tracker.faces().size(), 1u);
  EXPECT_EQ(tracker.faces()[0].id, id);
  EXPECT_EQ(tracker.faces()[0].state, FaceTrackState::kDetected);
  EXPECT_NEAR(tracker.faces()[0].region.size.width, 80 * 1.9f, 1e-3);  // tight again
}

TEST(FaceTracker, AFarDetectionIsANewFaceAndTheHeldOneStays) {
  FaceTracker tracker;
  tracker.update({face(50, 50, 60)}, 0);
  const auto& faces = tracker.update({face(500, 300, 60)}, kFrameUs);
  ASSERT_EQ(faces.size(), 2u);
  EXPECT_EQ(faces[0].state, FaceTrackState::kHeld);
  EXPECT_EQ(faces[1].state, FaceTrackState::kDetected);
  EXPECT_NE(faces[0].id, faces[1].id);
}

TEST(FaceTracker, TwoFacesCrossingPathsPairWithTheNearestDetection) {
  FaceTracker tracker;
  tracker.update({face(100, 100, 80), face(260, 100, 80)}, 0);
  const int left = tracker.faces()[0].id;
  const int right = tracker.faces()[1].id;
  // Both move 20 px towards each other; detections arrive in the other order.
  const auto& faces = tracker.update({face(240, 100, 80), face(120, 100, 80)}, kFrameUs);
  ASSERT_EQ(faces.size(), 2u);
  for (const auto& f : faces) {
    EXPECT_EQ(f.state, FaceTrackState::kDetected);
    EXPECT_FLOAT_EQ(f.last_detection.box.x, f.id == left ? 120.0f : 240.0f);
    EXPECT_TRUE(f.id == left || f.id == right);
  }
}

TEST(FaceTracker, RefusesTimeGoingBackwardsAndResetForgetsEverything) {
  FaceTracker tracker;
  tracker.update({face(100, 100, 80)}, 10 * kFrameUs);
  EXPECT_THROW(tracker.update({}, 9 * kFrameUs), std::invalid_argument);
  tracker.reset();
  EXPECT_TRUE(tracker.faces().empty());
  const auto& faces = tracker.update({face(100, 100, 80)}, 0);  // a new stream may restart at 0
  ASSERT_EQ(faces.size(), 1u);
  EXPECT_EQ(faces[0].state, FaceTrackState::kDetected);
}

TEST(FaceTracker, IdsAreNeverReused) {
  FaceTracker tracker;
  tracker.update({face(100, 100, 80)}, 0);
  const int first = tracker.faces()[0].id;
  tracker.update({}, 3 * kSecondUs);  // lost
  tracker.update({face(100, 100, 80)}, 3 * kSecondUs + kFrameUs);
  ASSERT_EQ(tracker.faces().size(), 1u);
  EXPECT_NE(tracker.faces()[0].id, first);
}

TEST(RasteriseFaceRegions, HidesDetectedAndHeldFacesOnlyClippedToTheFrame) {
  FaceTracker tracker;
  tracker.update({face(10, 10, 60), face(-30, 150, 60)}, 0);  // the second reaches past the edge
  tracker.update({face(10, 10, 60)}, kFrameUs);               // second one now held
  ASSERT_EQ(tracker.faces().size(), 2u);
  const cv::Mat mask = rasteriseFaceRegions(tracker.faces(), cv::Size(320, 240));
  ASSERT_EQ(mask.type(), CV_8UC1);
  ASSERT_EQ(mask.size(), cv::Size(320, 240));
  EXPECT_TRUE(hides(mask, {40, 40}));
  EXPECT_TRUE(hides(mask, {0, 180}));
  EXPECT_FALSE(hides(mask, {300, 220}));
  // Only 0 and 255.
  EXPECT_EQ(cv::countNonZero(mask == 0) + cv::countNonZero(mask == 255), 320 * 240);

  std::vector<TrackedFace> with_lost = tracker.faces();
  with_lost[0].state = FaceTrackState::kLost;
  const cv::Mat without_first = rasteriseFaceRegions(with_lost, cv::Size(320, 240));
  EXPECT_FALSE(hides(without_first, {40, 40}));
  EXPECT_TRUE(hides(without_first, {0, 180}));
}

TEST(RasteriseFaceRegions, CoversEveryPixelOfTheEllipseBoundary) {
  // Sample the true ellipse boundary densely: every pixel it passes through must be hidden.
  TrackedFace t;
  t.region = cv::RotatedRect(cv::Point2f(160.3f, 120.7f), cv::Size2f(101.3f, 67.9f), 37.0f);
  const cv::Mat mask = rasteriseFaceRegions({t}, cv::Size(320, 240));
  const double a = t.region.size.width / 2, b = t.region.size.height / 2;
  const double rot = t.region.angle * CV_PI / 180;
  for (int i = 0; i < 3600; ++i) {
    const double s = i * 2 * CV_PI / 3600;
    const double x = a * std::cos(s), y = b * std::sin(s);
    const cv::Point2f p(
        static_cast<float>(t.region.center.x + x * std::cos(rot) - y * std::sin(rot)),
        static_cast<float>(t.region.center.y + x * std::sin(rot) + y * std::cos(rot)));
    // The pixel whose square contains the boundary point (pixel centres at integer coordinates).
    const cv::Point q(cvRound(p.x), cvRound(p.y));
    EXPECT_EQ(mask.at<std::uint8_t>(q), 255) << q;
  }
}

}  // namespace
}  // namespace veil
