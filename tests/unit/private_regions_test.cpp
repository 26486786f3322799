// Private-regions mode (experimental) through the Redactor, on hand-marked real frames.
#include <gtest/gtest.h>

#include "redactor_test_support.h"

namespace veil {
namespace {

RedactorOptions privateRegions() {
  RedactorOptions options;
  options.mode = Mode::kPrivateRegions;
  options.models_dir = test::modelsDir();
  return options;
}

bool hiddenAt(const cv::Mat& out, cv::Point p, const cv::Vec3b& fill) {
  return out.at<cv::Vec3b>(p) == fill;
}

// messi5: chest and crotch marked by hand (as in body_zones_test); face, ball and crowd stay.
TEST(PrivateRegionsMode, HidesChestAndPelvisAndShowsTheRest) {
  const cv::Mat input = test::referenceFrame("messi5.png");
  Redactor redactor(privateRegions());
  const RedactedFrame out = redactor.redact(Frame(input, 0));
  ASSERT_EQ(out.info().state, RedactionState::kNormal) << out.info().reasons;
  EXPECT_FALSE(out.info().reasons & kReasonPoseUncertain);
  const cv::Mat image = out.toMat();
  // The flat fill colour, taken from a frame the engine hides entirely.
  Redactor blank(privateRegions());
  const cv::Vec3b fill = blank.redact(Frame(cv::Mat(360, 640, CV_8UC3, cv::Scalar(0, 0, 0)), 0))
                             .toMat()
                             .at<cv::Vec3b>(0, 0);
  EXPECT_TRUE(hiddenAt(image, {275, 155}, fill));  // chest
  EXPECT_TRUE(hiddenAt(image, {335, 265}, fill));  // crotch
  for (const cv::Point p : {cv::Point(275, 100), cv::Point(420, 335), cv::Point(60, 60)}) {
    EXPECT_EQ(image.at<cv::Vec3b>(p), input.at<cv::Vec3b>(p)) << p;  // face, ball, crowd
  }
}

// A face close-up: the pose cannot be trusted, so the wide torso area is hidden and said so.
TEST(PrivateRegionsMode, UncertainPoseHidesTheWideZone) {
  Redactor redactor(privateRegions());
  const RedactedFrame out = redactor.redact(Frame(test::referenceFrame("megamind_07.png"), 0));
  EXPECT_TRUE(out.info().reasons & kReasonPoseUncertain) << out.info().reasons;
}

// No person found: nothing is shown (a skin close-up without a body in view, or an empty room).
TEST(PrivateRegionsMode, NoPersonHidesEverything) {
  Redactor redactor(privateRegions());
  cv::Mat board;
  cv::resize(test::readImage("/usr/share/doc/opencv-doc/examples/data/board.jpg"), board,
             cv::Size(640, 360));
  const RedactedFrame out = redactor.redact(Frame(board, 0));
  EXPECT_EQ(out.info().state, RedactionState::kFull);
  EXPECT_TRUE(test::isUniform(out.toMat()));
}

}  // namespace
}  // namespace veil
