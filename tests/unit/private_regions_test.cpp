// Private-regions mode (experimental) through the Redactor, on hand-marked real frames.
#include <gtest/gtest.h>

#include "redaction_fill.h"
#include "redactor_test_support.h"

namespace veil {
namespace {

RedactorOptions privateRegions() {
  RedactorOptions options;
  options.mode = Mode::kPrivateRegions;
  options.models_dir = test::modelsDir();
  options.deadline = test::kUnhurriedDeadline;
  return options;
}

bool hiddenAt(const cv::Mat& out, cv::Point p, const cv::Vec3b& fill) {
  return out.at<cv::Vec3b>(p) == fill;
}

const cv::Vec3b kFill(static_cast<std::uint8_t>(kHiddenFillBgr[0]),
                      static_cast<std::uint8_t>(kHiddenFillBgr[1]),
                      static_cast<std::uint8_t>(kHiddenFillBgr[2]));
// messi5's chest and crotch, marked by hand (as in body_zones_test).
const cv::Point kMessiChest(275, 155), kMessiCrotch(335, 265);

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
  EXPECT_TRUE(hiddenAt(image, kMessiChest, fill));
  EXPECT_TRUE(hiddenAt(image, kMessiCrotch, fill));
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

// ---- the fail-closed ladder, the same one background and face modes use ---------------------

using test::Fault;
using test::FaultCase;

TEST(PrivateRegionsLadder, MissingModelsHideEveryFrameAndSayWhy) {
  RedactorOptions options = privateRegions();
  options.models_dir = std::filesystem::temp_directory_path() / "veil-no-models-here";
  Redactor redactor(options);
  EXPECT_FALSE(redactor.modelError().empty());
  for (int i = 0; i < 3; ++i) {
    const RedactedFrame out = redactor.redact(Frame(test::referenceFrame("messi5.png"), i));
    EXPECT_EQ(out.info().state, RedactionState::kFull);
    EXPECT_TRUE(out.info().reasons & kReasonModelUnavailable) << out.info().reasons;
    EXPECT_TRUE(test::isUniform(out.toMat()));
  }
}

class PrivateRegionsFault : public ::testing::TestWithParam<FaultCase> {};

// A failed or untrustworthy inference after a good frame: that frame's region, shrunk by the
// motion bound, still hiding the zones; then back to normal.
TEST_P(PrivateRegionsFault, AfterAGoodFrameReusesTheShrunkLastGoodRegion) {
  const FaultCase c = GetParam();
  Redactor redactor = test::redactorWithFaults(
      privateRegions(), [&](int call) { return call == 1 ? c.fault : Fault::kNone; }, false);
  const cv::Mat input = test::referenceFrame("messi5.png");
  const RedactedFrame good = redactor.redact(Frame(input, 0));
  ASSERT_EQ(good.info().state, RedactionState::kNormal) << good.info().reasons;
  const RedactedFrame faulty = redactor.redact(Frame(input, 33'000));
  EXPECT_EQ(faulty.info().state, RedactionState::kDegraded);
  EXPECT_TRUE(faulty.info().reasons & c.reason) << faulty.info().reasons;
  EXPECT_TRUE(faulty.info().reasons & kReasonLastGoodMask) << faulty.info().reasons;
  const cv::Mat image = faulty.toMat();
  EXPECT_TRUE(hiddenAt(image, kMessiChest, kFill));
  EXPECT_TRUE(hiddenAt(image, kMessiCrotch, kFill));
  EXPECT_EQ(test::revealedPixels(good.toMat(), image, kFill), 0);
  // Shrunk: strictly more is hidden than on the good frame, and still not the whole frame.
  EXPECT_GT(test::revealedPixels(image, good.toMat(), kFill), 0);
  EXPECT_FALSE(test::isUniform(image));
  EXPECT_EQ(redactor.redact(Frame(input, 66'000)).info().state, RedactionState::kNormal);
}

// The same fault on the first frame: nothing good to fall back on, so the whole frame is hidden.
TEST_P(PrivateRegionsFault, OnTheFirstFrameHidesEverything) {
  const FaultCase c = GetParam();
  Redactor redactor = test::redactorWithFaults(
      privateRegions(), [&](int) { return c.fault; }, false);
  const RedactedFrame out = redactor.redact(Frame(test::referenceFrame("messi5.png"), 0));
  EXPECT_EQ(out.info().state, RedactionState::kFull);
  EXPECT_TRUE(out.info().reasons & c.reason) << out.info().reasons;
  EXPECT_FALSE(out.info().reasons & kReasonLastGoodMask);
  EXPECT_TRUE(test::isUniform(out.toMat()));
}

INSTANTIATE_TEST_SUITE_P(Faults, PrivateRegionsFault,
                         ::testing::ValuesIn(test::untrustedInferences()), test::faultCaseName);

TEST(PrivateRegionsLadder, PersistentFailureWithoutFallbackEndsInWholeFrameHiding) {
  Redactor redactor = test::redactorWithFaults(
      privateRegions(), [](int call) { return call == 0 ? Fault::kNone : Fault::kThrow; }, false);
  const cv::Mat input = test::referenceFrame("messi5.png");
  ASSERT_EQ(redactor.redact(Frame(input, 0)).info().state, RedactionState::kNormal);
  for (int i = 1; i <= Redactor::kMaxLastGoodMaskFrames; ++i) {
    const RedactedFrame out = redactor.redact(Frame(input, i));
    EXPECT_EQ(out.info().state, RedactionState::kDegraded) << "frame " << i;
    EXPECT_TRUE(hiddenAt(out.toMat(), kMessiChest, kFill)) << "frame " << i;
  }
  const RedactedFrame out = redactor.redact(Frame(input, 10));
  EXPECT_EQ(out.info().state, RedactionState::kFull);
  EXPECT_TRUE(test::isUniform(out.toMat()));
}

// The cheaper-model rung: after repeated failures the landscape model alone places the zones.
TEST(PrivateRegionsLadder, PersistentFailureMovesToTheCheaperModel) {
  Redactor redactor = test::redactorWithFaults(
      privateRegions(), [](int call) { return call == 0 ? Fault::kNone : Fault::kThrow; }, true);
  const cv::Mat input = test::referenceFrame("messi5.png");
  ASSERT_EQ(redactor.redact(Frame(input, 0)).info().state, RedactionState::kNormal);
  for (int i = 1; i <= Redactor::kFailuresBeforeCheaperModel; ++i) {
    const RedactedFrame out = redactor.redact(Frame(input, i));
    EXPECT_EQ(out.info().state, RedactionState::kDegraded) << "frame " << i;
    const std::uint32_t rung =
        i < Redactor::kFailuresBeforeCheaperModel ? kReasonLastGoodMask : kReasonCheaperModel;
    EXPECT_TRUE(out.info().reasons & rung) << "frame " << i << ": " << out.info().reasons;
    EXPECT_TRUE(hiddenAt(out.toMat(), kMessiChest, kFill)) << "frame " << i;
    EXPECT_TRUE(hiddenAt(out.toMat(), kMessiCrotch, kFill)) << "frame " << i;
  }
}

// No person hides the whole frame and forgets the patient: a failure right after it has no
// earlier region to fall back on (the patient may have left, or someone else came in).
TEST(PrivateRegionsLadder, NoPersonHidesAllAndForgetsTheLastGoodRegion) {
  Redactor redactor = test::redactorWithFaults(
      privateRegions(),
      [](int call) {
        return call == 0 ? Fault::kNone : call == 1 ? Fault::kNobody : Fault::kThrow;
      },
      false);
  const cv::Mat input = test::referenceFrame("messi5.png");
  ASSERT_EQ(redactor.redact(Frame(input, 0)).info().state, RedactionState::kNormal);
  const RedactedFrame nobody = redactor.redact(Frame(input, 1));
  EXPECT_EQ(nobody.info().state, RedactionState::kFull);
  EXPECT_TRUE(nobody.info().reasons & kReasonNoPerson) << nobody.info().reasons;
  EXPECT_TRUE(test::isUniform(nobody.toMat()));
  const RedactedFrame failed = redactor.redact(Frame(input, 2));
  EXPECT_EQ(failed.info().state, RedactionState::kFull);
  EXPECT_FALSE(failed.info().reasons & kReasonLastGoodMask) << failed.info().reasons;
  EXPECT_TRUE(test::isUniform(failed.toMat()));
}

// An uncertain pose's wide zone is what the last good region keeps hiding.
TEST(PrivateRegionsLadder, TheLastGoodRegionOfAnUncertainPoseKeepsTheWideZone) {
  Redactor redactor = test::redactorWithFaults(
      privateRegions(), [](int call) { return call == 0 ? Fault::kNone : Fault::kThrow; }, false);
  const cv::Mat input = test::referenceFrame("megamind_07.png");
  const RedactedFrame good = redactor.redact(Frame(input, 0));
  ASSERT_TRUE(good.info().reasons & kReasonPoseUncertain) << good.info().reasons;
  const RedactedFrame degraded = redactor.redact(Frame(input, 1));
  EXPECT_EQ(degraded.info().state, RedactionState::kDegraded);
  EXPECT_EQ(test::revealedPixels(good.toMat(), degraded.toMat(), kFill), 0);
}

TEST(PrivateRegionsLadder, BadFramesAreHiddenWholeAndTheNextGoodFrameIsNormal) {
  Redactor redactor(privateRegions());
  const cv::Mat good = test::referenceFrame("messi5.png");
  cv::Mat gray, tiny;
  cv::cvtColor(good, gray, cv::COLOR_BGR2GRAY);
  cv::resize(good, tiny, cv::Size(8, 8));
  for (const cv::Mat& bad : {cv::Mat(), gray, tiny}) {
    const RedactedFrame out = redactor.redact(Frame(bad, 0));
    EXPECT_EQ(out.info().state, RedactionState::kFull);
    EXPECT_TRUE(out.info().reasons & kReasonBadFrame);
    EXPECT_TRUE(test::isUniform(out.toMat()));
  }
  const RedactedFrame after = redactor.redact(Frame(good, 1));
  EXPECT_EQ(after.info().state, RedactionState::kNormal) << after.info().reasons;
  EXPECT_TRUE(hiddenAt(after.toMat(), kMessiChest, kFill));
}

}  // namespace
}  // namespace veil
