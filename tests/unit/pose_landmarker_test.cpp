// PoseLandmarker: ROI geometry (pure), and landmarks on real full-body frames checked against
// hand-drawn person boxes, MediaPipe's own person mask for the frame and our face detector.
#include "veil/pose_landmarker.h"

#include <gtest/gtest.h>

#include <cmath>
#include <opencv2/imgproc.hpp>

#include "test_support.h"
#include "veil/face_detector.h"

namespace veil {
namespace {

TEST(PoseRoi, FromPersonBoxIsAnUprightSquareOnTheLongSideTimes125) {
  const cv::RotatedRect roi = PoseLandmarker::roiFromPersonBox(cv::Rect(100, 50, 80, 200));
  EXPECT_FLOAT_EQ(roi.center.x, 140.0f);
  EXPECT_FLOAT_EQ(roi.center.y, 150.0f);
  EXPECT_FLOAT_EQ(roi.size.width, 250.0f);
  EXPECT_FLOAT_EQ(roi.size.height, 250.0f);
  EXPECT_FLOAT_EQ(roi.angle, 0.0f);
}

PoseResult withAuxiliary(cv::Point2f hip_centre, cv::Point2f scale_point) {
  PoseResult p;
  p.auxiliary[0].position = hip_centre;
  p.auxiliary[1].position = scale_point;
  return p;
}

TEST(PoseRoi, FromLandmarksCentresOnTheHipsAndTurnsTheBodyUpright) {
  // Standing: the scale point straight above the hip centre.
  cv::RotatedRect roi = PoseLandmarker::roiFromLandmarks(withAuxiliary({200, 300}, {200, 200}));
  EXPECT_FLOAT_EQ(roi.center.x, 200.0f);
  EXPECT_FLOAT_EQ(roi.center.y, 300.0f);
  EXPECT_FLOAT_EQ(roi.size.width, 2 * 100 * 1.25f);
  EXPECT_NEAR(roi.angle, 0.0f, 1e-4);
  // Lying with the head to the right: the crop turns 90 degrees clockwise.
  roi = PoseLandmarker::roiFromLandmarks(withAuxiliary({200, 300}, {260, 300}));
  EXPECT_NEAR(roi.angle, 90.0f, 1e-4);
  EXPECT_FLOAT_EQ(roi.size.width, 2 * 60 * 1.25f);
  // Head to the left: -90.
  roi = PoseLandmarker::roiFromLandmarks(withAuxiliary({200, 300}, {140, 300}));
  EXPECT_NEAR(roi.angle, -90.0f, 1e-4);
}

// --- With the real weights -----------------------------------------------------------------

struct PersonFrame {
  std::string name;
  cv::Rect person;  // drawn by hand around the main person (not from any model)
};

const std::vector<PersonFrame>& fullBodyFrames() {
  static const std::vector<PersonFrame> frames{
      {"messi5.png", {80, 50, 455, 310}},
      {"basketball1.png", {35, 20, 130, 340}},
      {"basketball2.png", {35, 15, 160, 345}},
  };
  return frames;
}

class PoseLandmarkerTest : public ::testing::TestWithParam<PoseModel> {
 protected:
  static PoseLandmarker& landmarker(PoseModel model) {
    static PoseLandmarker lite(PoseModel::kLite, test::modelsDir());
    static PoseLandmarker full(PoseModel::kFull, test::modelsDir());
    return model == PoseModel::kLite ? lite : full;
  }
};

cv::Mat frame(const std::string& name) {
  return test::readImage(test::referenceDir() / "frames-360p" / name);
}

cv::Point2f midpoint(const PoseResult& p, PoseLandmark a, PoseLandmark b) {
  return (p.at(a).position + p.at(b).position) * 0.5f;
}

TEST_P(PoseLandmarkerTest, FindsAnUprightBodyFacingTheCameraInsideThePerson) {
  for (const PersonFrame& f : fullBodyFrames()) {
    const auto pose = landmarker(GetParam()).estimate(frame(f.name), f.person);
    ASSERT_TRUE(pose.has_value()) << f.name;
    EXPECT_GE(pose->presence, PoseLandmarker::kMinPresence) << f.name;
    // Torso landmarks are confidently visible and inside the person's box (5 px slack).
    const cv::Rect slack(f.person.x - 5, f.person.y - 5, f.person.width + 10, f.person.height + 10);
    for (const PoseLandmark l :
         {PoseLandmark::kNose, PoseLandmark::kLeftShoulder, PoseLandmark::kRightShoulder,
          PoseLandmark::kLeftHip, PoseLandmark::kRightHip}) {
      EXPECT_GT(pose->at(l).visibility, 0.9f) << f.name << " landmark " << static_cast<int>(l);
      EXPECT_TRUE(slack.contains(pose->at(l).position))
          << f.name << " landmark " << static_cast<int>(l) << " at " << pose->at(l).position;
    }
    // Head above shoulders above hips above knees.
    const cv::Point2f shoulders =
        midpoint(*pose, PoseLandmark::kLeftShoulder, PoseLandmark::kRightShoulder);
    const cv::Point2f hips = midpoint(*pose, PoseLandmark::kLeftHip, PoseLandmark::kRightHip);
    const cv::Point2f knees = midpoint(*pose, PoseLandmark::kLeftKnee, PoseLandmark::kRightKnee);
    EXPECT_LT(pose->at(PoseLandmark::kNose).position.y, shoulders.y) << f.name;
    EXPECT_LT(shoulders.y + 50, hips.y) << f.name;
    EXPECT_LT(hips.y, knees.y) << f.name;
    // Facing the camera: the subject's left shoulder and hip are on the image's right.
    EXPECT_GT(pose->at(PoseLandmark::kLeftShoulder).position.x,
              pose->at(PoseLandmark::kRightShoulder).position.x)
        << f.name;
    EXPECT_GT(pose->at(PoseLandmark::kLeftHip).position.x,
              pose->at(PoseLandmark::kRightHip).position.x)
        << f.name;
  }
}

TEST_P(PoseLandmarkerTest, TorsoLandsOnMediaPipesOwnPersonMaskAndNoseInTheDetectedFace) {
  // messi5: MediaPipe's selfie mask of this frame (tests/data/reference) and our BlazeFace box.
  const cv::Mat image = frame("messi5.png");
  const cv::Mat mask =
      test::readImage(test::referenceDir() / "mediapipe-general-360p" / "messi5.png.mask.png",
                      cv::IMREAD_GRAYSCALE);
  const auto pose = landmarker(GetParam()).estimate(image, fullBodyFrames()[0].person);
  ASSERT_TRUE(pose.has_value());
  for (const PoseLandmark l :
       {PoseLandmark::kNose, PoseLandmark::kLeftShoulder, PoseLandmark::kRightShoulder,
        PoseLandmark::kLeftElbow, PoseLandmark::kRightElbow, PoseLandmark::kLeftHip,
        PoseLandmark::kRightHip, PoseLandmark::kLeftKnee, PoseLandmark::kRightKnee}) {
    const cv::Point p(cvRound(pose->at(l).position.x), cvRound(pose->at(l).position.y));
    ASSERT_TRUE(cv::Rect(0, 0, mask.cols, mask.rows).contains(p));
    EXPECT_GT(mask.at<std::uint8_t>(p), 127) << "landmark " << static_cast<int>(l) << " at " << p;
  }
  FaceDetector faces(FaceDetectorModel::kFullRange, test::modelsDir());
  const auto detected = faces.detect(image);
  ASSERT_FALSE(detected.empty());
  EXPECT_TRUE(detected[0].box.contains(pose->at(PoseLandmark::kNose).position));
}

TEST_P(PoseLandmarkerTest, LandmarksScaleWithTheFrame) {
  const PersonFrame& f = fullBodyFrames()[1];
  const cv::Mat small = frame(f.name);
  cv::Mat big;
  cv::resize(small, big, cv::Size(1280, 720), 0, 0, cv::INTER_LINEAR);
  const cv::Rect big_box(f.person.x * 2, f.person.y * 2, f.person.width * 2, f.person.height * 2);
  const auto a = landmarker(GetParam()).estimate(small, f.person);
  const auto b = landmarker(GetParam()).estimate(big, big_box);
  ASSERT_TRUE(a && b);
  for (const PoseLandmark l : {PoseLandmark::kLeftShoulder, PoseLandmark::kRightHip}) {
    EXPECT_NEAR(b->at(l).position.x, 2 * a->at(l).position.x, 6) << static_cast<int>(l);
    EXPECT_NEAR(b->at(l).position.y, 2 * a->at(l).position.y, 6) << static_cast<int>(l);
  }
}

// The rotated-crop path: the same crop of a frame turned 90 degrees clockwise gives the same
// landmarks, turned with it.
TEST_P(PoseLandmarkerTest, RotatedCropsFollowTheFrame) {
  const PersonFrame& f = fullBodyFrames()[1];
  const cv::Mat upright = frame(f.name);
  const auto pose = landmarker(GetParam()).estimate(upright, f.person);
  ASSERT_TRUE(pose.has_value());
  cv::Mat turned;
  cv::rotate(upright, turned, cv::ROTATE_90_CLOCKWISE);
  const auto turn = [&](cv::Point2f p) {
    return cv::Point2f(static_cast<float>(upright.rows - 1) - p.y, p.x);
  };
  const cv::RotatedRect roi(turn(pose->roi.center), pose->roi.size, pose->roi.angle + 90);
  const PoseResult again = landmarker(GetParam()).estimateInRoi(turned, roi);
  EXPECT_NEAR(again.presence, pose->presence, 0.05);
  for (const PoseLandmark l : {PoseLandmark::kNose, PoseLandmark::kLeftShoulder,
                               PoseLandmark::kRightHip, PoseLandmark::kLeftKnee}) {
    const cv::Point2f expected = turn(pose->at(l).position);
    EXPECT_NEAR(again.at(l).position.x, expected.x, 3) << static_cast<int>(l);
    EXPECT_NEAR(again.at(l).position.y, expected.y, 3) << static_cast<int>(l);
  }
}

TEST_P(PoseLandmarkerTest, NoPoseWithoutAPerson) {
  // A blank wall, a 59x37 box around distant pedestrians, and an empty box.
  const cv::Mat wall(360, 640, CV_8UC3, cv::Scalar(180, 180, 180));
  EXPECT_FALSE(landmarker(GetParam()).estimate(wall, cv::Rect(200, 40, 200, 300)).has_value());
  EXPECT_FALSE(landmarker(GetParam()).estimate(frame("vtest_01.png"), {314, 71, 59, 37}));
  EXPECT_FALSE(landmarker(GetParam()).estimate(wall, cv::Rect(10, 10, 0, 50)).has_value());
  EXPECT_THROW(landmarker(GetParam()).estimate(cv::Mat(), cv::Rect(0, 0, 10, 10)),
               std::invalid_argument);
}

INSTANTIATE_TEST_SUITE_P(Models, PoseLandmarkerTest,
                         ::testing::Values(PoseModel::kLite, PoseModel::kFull),
                         [](const auto& info) {
                           return info.param == PoseModel::kLite ? "Lite" : "Full";
                         });

}  // namespace
}  // namespace veil
