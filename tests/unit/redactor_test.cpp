// The Redactor on real frames, and every fault it must survive by hiding more, never less.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "privacy_metrics.h"
#include "redactor_test_support.h"

namespace veil {
namespace {

using test::Fault;
using test::FaultCase;
using test::FaultySegmenter;

RedactorOptions defaultOptions() {
  RedactorOptions options;
  options.models_dir = test::modelsDir();
  options.deadline = test::kUnhurriedDeadline;
  return options;
}

Redactor redactorWith(std::function<Fault(int)> primary_plan, bool with_fallback,
                      RedactorOptions options = defaultOptions()) {
  return test::redactorWithFaults(std::move(options), std::move(primary_plan), with_fallback);
}

int marginPx(int width) {
  return static_cast<int>(std::round(width * Redactor::kSafetyMarginFractionOfWidth));
}

// The background per MediaPipe's own mask must carry nothing of the input.
void expectBackgroundHidden(const cv::Mat& input, const RedactedFrame& out,
                            const std::string& name) {
  const cv::Mat background = test::invert(test::referencePersonMask(name));
  EXPECT_EQ(test::survivingBlocks(input, out.toMat(), background), 0) << name;
}

// ---- real frames, background mode ------------------------------------------------------------

class BackgroundOnRealFrames : public ::testing::TestWithParam<std::string> {};

TEST_P(BackgroundOnRealFrames, NothingSurvivesBehindThePatient) {
  const std::string name = GetParam();
  const cv::Mat input = test::referenceFrame(name);
  Redactor redactor(defaultOptions());
  ASSERT_TRUE(redactor.modelError().empty()) << redactor.modelError();
  const RedactedFrame out = redactor.redact(Frame(input, 0));
  ASSERT_EQ(out.info().state, RedactionState::kNormal) << out.info().reasons;
  expectBackgroundHidden(input, out, name);
  // And "nothing survives" is not won by hiding everything: the patient is shown (how much of
  // the patient survives is the disabled SSIM test below; this only rules out the vacuous case).
  const cv::Mat person = test::referencePersonMask(name);
  const cv::Mat shown =
      cv::Mat(out.toMat() != cv::Mat(input.size(), CV_8UC3, out.toMat().at<cv::Vec3b>(0, 0)))
          .reshape(3)
          .clone();
  std::vector<cv::Mat> channels;
  cv::split(shown, channels);
  const cv::Mat any_shown = channels[0] | channels[1] | channels[2];
  EXPECT_GT(cv::countNonZero(any_shown & person), 0.25 * cv::countNonZero(person)) << name;
}

// KNOWN FAILING, disabled on purpose (see the closing note of issue 2 and
// docs/privacy-evaluation.md): the patient's core (MediaPipe's person region shrunk by the safety
// margin) keeps SSIM >= 0.95. Requiring both selfie models to agree at 0.7 took the edge leak on
// independent ground truth from 22% to 0 but hides body parts the landscape model misses;
// measured SSIM here: astronaut 0.82, messi5 0.70, megamind_02 0.84, megamind_03 0.89.
TEST_P(BackgroundOnRealFrames, DISABLED_PatientCoreKeepsSsimAtLeast095) {
  const std::string name = GetParam();
  const cv::Mat input = test::referenceFrame(name);
  Redactor redactor(defaultOptions());
  const RedactedFrame out = redactor.redact(Frame(input, 0));
  const cv::Mat person = test::referencePersonMask(name);
  cv::Mat labels, stats, centroids;
  const int n = cv::connectedComponentsWithStats(person, labels, stats, centroids);
  int largest = 1;
  for (int i = 2; i < n; ++i) {
    if (stats.at<int>(i, cv::CC_STAT_AREA) > stats.at<int>(largest, cv::CC_STAT_AREA)) largest = i;
  }
  cv::Mat patient = labels == largest, core;
  const int m = marginPx(input.cols) + 2;  // + the feather ramp
  cv::erode(patient, core, cv::getStructuringElement(cv::MORPH_ELLIPSE, {2 * m + 1, 2 * m + 1}));
  const double ssim = test::regionSsim(input, out.toMat(), core);
  RecordProperty("patient_ssim", std::to_string(ssim));
  EXPECT_GE(ssim, 0.95) << name;
}

// Close-ups with one main person: the consultation case (tests/data/reference/README.md).
INSTANTIATE_TEST_SUITE_P(Reference, BackgroundOnRealFrames,
                         ::testing::Values("astronaut.png", "messi5.png", "megamind_02.png",
                                           "megamind_03.png", "megamind_05.png", "megamind_07.png",
                                           "megamind_08.png", "megamind_10.png"),
                         [](const auto& info) {
                           std::string n = info.param;
                           return n.substr(0, n.find('.'));
                         });

// ---- fail closed -----------------------------------------------------------------------------

TEST(RedactorFailClosed, MissingModelHidesEveryFrameAndSaysWhy) {
  RedactorOptions options;
  options.models_dir = std::filesystem::temp_directory_path() / "veil-no-models-here";
  Redactor redactor(options);
  EXPECT_NE(redactor.modelError().find("selfie_segmentation.tflite"), std::string::npos);
  EXPECT_NE(redactor.modelError().find("scripts/fetch-models"), std::string::npos);
  for (int i = 0; i < 5; ++i) {
    const RedactedFrame out = redactor.redact(Frame(test::referenceFrame("messi5.png"), i));
    EXPECT_EQ(out.info().state, RedactionState::kFull);
    EXPECT_TRUE(out.info().reasons & kReasonModelUnavailable);
    EXPECT_TRUE(test::isUniform(out.toMat()));
  }
}

class SingleFault : public ::testing::TestWithParam<FaultCase> {};

// A fault after a good frame: the last good mask, shrunk by the motion bound, for this frame.
TEST_P(SingleFault, AfterAGoodFrameUsesTheShrunkLastGoodMask) {
  const FaultCase c = GetParam();
  RedactorOptions options = defaultOptions();
  options.deadline = std::chrono::milliseconds(1000);
  Redactor redactor =
      redactorWith([&](int call) { return call == 1 ? c.fault : Fault::kNone; }, false, options);
  const cv::Mat input = test::referenceFrame("messi5.png");
  const RedactedFrame good = redactor.redact(Frame(input, 0));
  ASSERT_EQ(good.info().state, RedactionState::kNormal);
  const RedactedFrame faulty = redactor.redact(Frame(input, 33'000));
  EXPECT_EQ(faulty.info().state, RedactionState::kDegraded);
  EXPECT_TRUE(faulty.info().reasons & c.reason) << faulty.info().reasons;
  EXPECT_TRUE(faulty.info().reasons & kReasonLastGoodMask);
  expectBackgroundHidden(input, faulty, "messi5.png");
  // Shrunk by the motion bound: strictly fewer camera pixels than on the good frame.
  EXPECT_GT(cv::countNonZero(faulty.toMat().reshape(1) != good.toMat().reshape(1)), 0);
  const RedactedFrame recovered = redactor.redact(Frame(input, 66'000));
  EXPECT_EQ(recovered.info().state, RedactionState::kNormal);
}

// The same fault on the very first frame: nothing good to fall back on, so hide it all.
TEST_P(SingleFault, OnTheFirstFrameHidesEverything) {
  const FaultCase c = GetParam();
  RedactorOptions options = defaultOptions();
  options.deadline = std::chrono::milliseconds(1000);
  Redactor redactor = redactorWith([&](int) { return c.fault; }, false, options);
  const RedactedFrame out = redactor.redact(Frame(test::referenceFrame("messi5.png"), 0));
  EXPECT_EQ(out.info().state, RedactionState::kFull);
  EXPECT_TRUE(out.info().reasons & c.reason) << out.info().reasons;
  EXPECT_TRUE(test::isUniform(out.toMat()));
}

INSTANTIATE_TEST_SUITE_P(Faults, SingleFault, ::testing::ValuesIn(test::untrustedInferences()),
                         test::faultCaseName);
INSTANTIATE_TEST_SUITE_P(Deadline, SingleFault,
                         ::testing::Values(FaultCase{"MissesDeadline", Fault::kSlow,
                                                     kReasonDeadlineMissed}),
                         test::faultCaseName);

TEST(RedactorFailClosed, ShrunkLastGoodMaskShowsNoPixelTheGoodFrameHid) {
  Redactor redactor =
      redactorWith([](int call) { return call == 0 ? Fault::kNone : Fault::kThrow; }, false);
  const cv::Mat input = test::referenceFrame("megamind_05.png");
  const cv::Mat good = redactor.redact(Frame(input, 0)).toMat();
  const cv::Mat degraded = redactor.redact(Frame(input, 1)).toMat();
  // A pixel hidden on the good frame equals the flat fill there; it must equal it now too.
  EXPECT_EQ(test::revealedPixels(good, degraded, good.at<cv::Vec3b>(0, 0)), 0);
}

TEST(RedactorFailClosed, PersistentFailureWithoutFallbackEndsInWholeFrameHiding) {
  Redactor redactor =
      redactorWith([](int call) { return call == 0 ? Fault::kNone : Fault::kThrow; }, false);
  const cv::Mat input = test::referenceFrame("messi5.png");
  EXPECT_EQ(redactor.redact(Frame(input, 0)).info().state, RedactionState::kNormal);
  for (int i = 1; i <= Redactor::kMaxLastGoodMaskFrames; ++i) {
    const RedactedFrame out = redactor.redact(Frame(input, i));
    EXPECT_EQ(out.info().state, RedactionState::kDegraded) << "frame " << i;
    expectBackgroundHidden(input, out, "messi5.png");
  }
  for (int i = 0; i < 3; ++i) {
    const RedactedFrame out = redactor.redact(Frame(input, 10 + i));
    EXPECT_EQ(out.info().state, RedactionState::kFull);
    EXPECT_TRUE(test::isUniform(out.toMat()));
  }
}

TEST(RedactorFailClosed, PersistentFailureMovesToTheCheaperModel) {
  Redactor redactor =
      redactorWith([](int call) { return call == 0 ? Fault::kNone : Fault::kThrow; }, true);
  const cv::Mat input = test::referenceFrame("messi5.png");
  EXPECT_EQ(redactor.redact(Frame(input, 0)).info().state, RedactionState::kNormal);
  for (int i = 1; i < 8; ++i) {
    const RedactedFrame out = redactor.redact(Frame(input, i));
    EXPECT_EQ(out.info().state, RedactionState::kDegraded) << "frame " << i;
    if (i >= Redactor::kFailuresBeforeCheaperModel) {
      EXPECT_TRUE(out.info().reasons & kReasonCheaperModel) << "frame " << i;
    } else {
      EXPECT_TRUE(out.info().reasons & kReasonLastGoodMask) << "frame " << i;
    }
    expectBackgroundHidden(input, out, "messi5.png");
  }
}

TEST(RedactorFailClosed, NoPersonHidesTheWholeFrame) {
  Redactor injected = redactorWith([](int) { return Fault::kNobody; }, false);
  const RedactedFrame out = injected.redact(Frame(test::referenceFrame("messi5.png"), 0));
  EXPECT_EQ(out.info().state, RedactionState::kFull);
  EXPECT_TRUE(out.info().reasons & kReasonNoPerson);
  EXPECT_TRUE(test::isUniform(out.toMat()));

  // Real scenes without people. The selfie model marks 70% of the squirrel close-up and a third
  // of a furnished room as "person" (MediaPipe's own mask agrees); no face is on those regions,
  // so nothing of them is shown.
  for (const std::filesystem::path& scene :
       {test::referenceDir() / "frames-360p" / "neg_squirrel.png",
        std::filesystem::path("/usr/share/doc/opencv-doc/examples/data/home.jpg"),
        std::filesystem::path("/usr/share/doc/opencv-doc/examples/data/board.jpg")}) {
    Redactor real(defaultOptions());
    cv::Mat image;
    cv::resize(test::readImage(scene), image, cv::Size(640, 360));
    const RedactedFrame empty_scene = real.redact(Frame(image, 0));
    EXPECT_EQ(empty_scene.info().state, RedactionState::kFull) << scene;
    // Nobody confirmed, or (the chessboard) a mask too undecided to trust.
    EXPECT_TRUE(empty_scene.info().reasons & (kReasonNoPerson | kReasonImplausibleMask))
        << scene << " " << empty_scene.info().reasons;
    EXPECT_TRUE(test::isUniform(empty_scene.toMat())) << scene;
  }
}

TEST(RedactorFailClosed, BadFramesAreHiddenWhole) {
  Redactor redactor(defaultOptions());
  const cv::Mat good = test::referenceFrame("messi5.png");
  cv::Mat gray, tiny, huge(5000, 300, CV_8UC3, cv::Scalar(9, 9, 9)), float_frame;
  cv::cvtColor(good, gray, cv::COLOR_BGR2GRAY);
  cv::resize(good, tiny, cv::Size(8, 8));
  good.convertTo(float_frame, CV_32FC3);
  for (const cv::Mat& bad : {cv::Mat(), gray, tiny, huge, float_frame}) {
    const RedactedFrame out = redactor.redact(Frame(bad, 0));
    EXPECT_EQ(out.info().state, RedactionState::kFull);
    EXPECT_TRUE(out.info().reasons & kReasonBadFrame);
    EXPECT_TRUE(test::isUniform(out.toMat()));
    EXPECT_GT(out.width(), 0);
  }
  // A good frame afterwards is processed normally again.
  EXPECT_EQ(redactor.redact(Frame(good, 1)).info().state, RedactionState::kNormal);
}

// ---- the person probability behind --masks-out ---------------------------------------------

// What veil-blur --masks-out wrote before it reused the redactor's probability: a second run of
// the selected model on the same frame.
cv::Mat secondInference(const cv::Mat& bgr) {
  return makeSelfieSegmenter(SegmenterModel::kGeneral, test::modelsDir())->segment(bgr);
}

TEST(RedactorProbability, IsTheSelectedModelsOutputForThatFrameFromOneInference) {
  const cv::Mat input = test::referenceFrame("messi5.png");
  const cv::Mat before = secondInference(input);
  Redactor redactor(defaultOptions());
  const std::uint64_t general = selfieInferenceCount(SegmenterModel::kGeneral);
  const std::uint64_t landscape = selfieInferenceCount(SegmenterModel::kLandscape);
  ASSERT_EQ(redactor.redact(Frame(input, 0)).info().state, RedactionState::kNormal);
  cv::Mat probability = redactor.lastFramePersonProbability();
  // One run of each model for the frame (the landscape one is the consensus partner), and
  // reading the probability runs nothing.
  EXPECT_EQ(selfieInferenceCount(SegmenterModel::kGeneral) - general, 1u);
  EXPECT_EQ(selfieInferenceCount(SegmenterModel::kLandscape) - landscape, 1u);
  ASSERT_EQ(probability.type(), CV_32FC1);
  ASSERT_EQ(probability.size(), input.size());
  EXPECT_LE(cv::norm(probability, before, cv::NORM_INF), 1e-5);
  // A copy: writing to it cannot change what the redactor holds.
  probability.setTo(0);
  EXPECT_LE(cv::norm(redactor.lastFramePersonProbability(), before, cv::NORM_INF), 1e-5);
}

TEST(RedactorProbability, IsEmptyWhenTheFrameHadNone) {
  Redactor failing = redactorWith([](int) { return Fault::kThrow; }, false);
  failing.redact(Frame(test::referenceFrame("messi5.png"), 0));
  EXPECT_TRUE(failing.lastFramePersonProbability().empty());

  Redactor redactor(defaultOptions());
  redactor.redact(Frame(test::referenceFrame("messi5.png"), 0));
  ASSERT_FALSE(redactor.lastFramePersonProbability().empty());
  redactor.redact(Frame(cv::Mat(), 1));  // a bad frame: the previous frame's is not handed out
  EXPECT_TRUE(redactor.lastFramePersonProbability().empty());
  redactor.setMode(Mode::kVoiceOnly);
  redactor.redact(Frame(test::referenceFrame("messi5.png"), 2));
  EXPECT_TRUE(redactor.lastFramePersonProbability().empty());
}

// ---- the redacted buffer ---------------------------------------------------------------------

TEST(RedactedFrameBuffer, OverwritingTheCaptureBufferAfterRedactionChangesNothing) {
  Redactor redactor(defaultOptions());
  cv::Mat capture = test::referenceFrame("megamind_07.png");
  const RedactedFrame out = redactor.redact(Frame(capture, 0));
  const std::vector<std::uint8_t> sent_before(out.bgrBytes().begin(), out.bgrBytes().end());
  cv::randu(capture, 0, 256);  // the capture pipeline recycles its buffer
  cv::Mat preview = out.toMat();
  preview.setTo(cv::Scalar(255, 0, 255));  // a preview scribbling on its copy
  const std::vector<std::uint8_t> sent_after(out.bgrBytes().begin(), out.bgrBytes().end());
  EXPECT_EQ(sent_before, sent_after);
  EXPECT_NE(static_cast<const void*>(out.bgrBytes().data()),
            static_cast<const void*>(capture.data));
}

// ---- temporal behaviour ----------------------------------------------------------------------

TEST(RedactorTemporal, APixelDroppedByTheMaskIsHiddenAtOnceAndShownOnlyAfterNAgreeingFrames) {
  const cv::Mat input = test::referenceFrame("messi5.png");
  const cv::Mat person = test::referencePersonMask("messi5.png");
  cv::Mat half = person.clone();
  half(cv::Rect(0, 0, input.cols / 2, input.rows)).setTo(0);
  auto probability = [](const cv::Mat& mask) {
    cv::Mat p;
    mask.convertTo(p, CV_32F, 1.0 / 255.0);
    return p;
  };
  // A segmenter that reports the whole person, then only its right half once, then whole again.
  class Scripted final : public PersonSegmenter {
   public:
    std::vector<cv::Mat> answers;
    std::size_t next = 0;
    cv::Mat segment(const cv::Mat&) override {
      return answers[std::min(next++, answers.size() - 1)];
    }
    std::string name() const override { return "scripted"; }
  };
  auto scripted = std::make_unique<Scripted>();
  scripted->answers = {probability(person), probability(half), probability(person),
                       probability(person), probability(person)};
  RedactorOptions options = defaultOptions();
  options.reveal_after_frames = 3;
  Redactor redactor(options, std::move(scripted), nullptr);
  const cv::Rect left(0, 0, input.cols / 2, input.rows);
  auto leftShown = [&](const RedactedFrame& f) { return !test::isUniform(f.toMat()(left)); };
  EXPECT_TRUE(leftShown(redactor.redact(Frame(input, 0))));   // first frame: its own mask
  EXPECT_FALSE(leftShown(redactor.redact(Frame(input, 1))));  // dropped: hidden at once
  EXPECT_FALSE(leftShown(redactor.redact(Frame(input, 2))));  // 1 agreeing frame
  EXPECT_FALSE(leftShown(redactor.redact(Frame(input, 3))));  // 2 agreeing frames
  EXPECT_TRUE(leftShown(redactor.redact(Frame(input, 4))));   // 3 agreeing frames: shown
}

// A second person in the frame is not the patient and stays hidden.
TEST(RedactorIsolation, ABystanderIsHidden) {
  // The patient: megamind_10 (a close-up) on the right; a bystander: messi5 scaled down, pasted
  // on the left with a gap between them.
  const cv::Mat patient_frame = test::referenceFrame("megamind_10.png");
  const cv::Mat bystander_frame = test::referenceFrame("messi5.png");
  cv::Mat canvas(360, 960, CV_8UC3, cv::Scalar(40, 90, 40));
  patient_frame.copyTo(canvas(cv::Rect(320, 0, 640, 360)));
  cv::Mat small, small_mask;
  cv::resize(bystander_frame, small, cv::Size(320, 180));
  cv::resize(test::referencePersonMask("messi5.png"), small_mask, cv::Size(320, 180), 0, 0,
             cv::INTER_NEAREST);
  small.copyTo(canvas(cv::Rect(0, 150, 320, 180)));
  Redactor redactor(defaultOptions());
  const RedactedFrame out = redactor.redact(Frame(canvas, 0));
  ASSERT_EQ(out.info().state, RedactionState::kNormal);
  cv::Mat bystander_region = cv::Mat::zeros(canvas.size(), CV_8U);
  small_mask.copyTo(bystander_region(cv::Rect(0, 150, 320, 180)));
  EXPECT_EQ(test::survivingBlocks(canvas, out.toMat(), bystander_region), 0);
  EXPECT_TRUE(test::isUniform(out.toMat()(cv::Rect(0, 150, 300, 180))));
  EXPECT_FALSE(test::isUniform(out.toMat()(cv::Rect(600, 100, 200, 200))));  // patient shown
}

// ---- other modes -----------------------------------------------------------------------------

TEST(RedactorModes, VoiceOnlySendsTheSameAvatarWhateverTheCameraSees) {
  RedactorOptions options = defaultOptions();
  options.mode = Mode::kVoiceOnly;
  Redactor redactor(options);
  const RedactedFrame a = redactor.redact(Frame(test::referenceFrame("messi5.png"), 0));
  const RedactedFrame b = redactor.redact(Frame(test::referenceFrame("astronaut.png"), 1));
  const RedactedFrame c = redactor.avatar(640, 360, 2);
  EXPECT_TRUE(std::equal(a.bgrBytes().begin(), a.bgrBytes().end(), b.bgrBytes().begin(),
                         b.bgrBytes().end()));
  EXPECT_TRUE(std::equal(a.bgrBytes().begin(), a.bgrBytes().end(), c.bgrBytes().begin(),
                         c.bgrBytes().end()));
  EXPECT_TRUE(a.info().reasons & kReasonAvatar);
  EXPECT_EQ(a.info().mode, Mode::kVoiceOnly);
}

TEST(RedactorModes, KeepVisibleZoneShowsItsAreaUntilItExpires) {
  Redactor redactor(defaultOptions());
  const cv::Mat input = test::referenceFrame("messi5.png");
  const cv::Rect zone(500, 10, 100, 60);  // crowd behind the patient: normally hidden
  redactor.setKeepVisible(KeepVisibleZone{zone.x, zone.y, zone.width, zone.height, 1'000'000});
  const RedactedFrame during = redactor.redact(Frame(input, 500'000));
  EXPECT_TRUE(during.info().reasons & kReasonKeepVisibleActive);
  EXPECT_EQ(cv::norm(during.toMat()(zone), input(zone), cv::NORM_INF), 0);
  const RedactedFrame after = redactor.redact(Frame(input, 1'500'000));
  EXPECT_FALSE(after.info().reasons & kReasonKeepVisibleActive);
  EXPECT_TRUE(test::isUniform(after.toMat()(zone)));
}

}  // namespace
}  // namespace veil
