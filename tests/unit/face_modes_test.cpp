// Face modes against attackers that are not ours: OpenCV's Haar and LBP cascades (opencv-data).
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>
#include <opencv2/videoio.hpp>

#include "redactor_test_support.h"
#include "veil/face_detector.h"

namespace veil {
namespace {

// Every frontal and profile cascade Debian ships; a face counts if any of them fires.
class AttackerFaceDetectors {
 public:
  AttackerFaceDetectors() {
    for (const char* path : {"/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml",
                             "/usr/share/opencv4/haarcascades/haarcascade_frontalface_alt2.xml",
                             "/usr/share/opencv4/haarcascades/haarcascade_profileface.xml",
                             "/usr/share/opencv4/lbpcascades/lbpcascade_frontalface_improved.xml",
                             "/usr/share/opencv4/lbpcascades/lbpcascade_profileface.xml"}) {
      cascades_.emplace_back(path);
      if (cascades_.back().empty()) throw std::runtime_error(std::string("cannot load ") + path);
    }
  }
  int count(const cv::Mat& bgr) {
    cv::Mat gray;
    cv::cvtColor(bgr, gray, cv::COLOR_BGR2GRAY);
    cv::equalizeHist(gray, gray);
    int found = 0;
    for (auto& cascade : cascades_) {
      std::vector<cv::Rect> faces;
      cascade.detectMultiScale(gray, faces, 1.1, 3, 0, cv::Size(24, 24));
      found += static_cast<int>(faces.size());
    }
    return found;
  }

 private:
  std::vector<cv::CascadeClassifier> cascades_;
};

RedactorOptions optionsFor(Mode mode) {
  RedactorOptions options;
  options.mode = mode;
  options.models_dir = test::modelsDir();
  return options;
}

class FaceModeOnStills : public ::testing::TestWithParam<Mode> {};

TEST_P(FaceModeOnStills, AttackerDetectorsFindNoFaceWhereTheyFoundOneInTheInput) {
  AttackerFaceDetectors attacker;
  int inputs_with_faces = 0;
  std::vector<std::filesystem::path> stills;
  // The reference frames with faces, and a full-size Debian-shipped photo.
  for (const char* name : {"anime_face.png", "astronaut.png", "megamind_02.png", "megamind_04.png",
                           "megamind_05.png", "megamind_06.png", "megamind_07.png",
                           "megamind_08.png", "megamind_09.png", "megamind_10.png"}) {
    stills.push_back(test::referenceDir() / "frames-360p" / name);
  }
  stills.push_back("/usr/share/doc/opencv-doc/examples/data/messi5.jpg");
  for (const auto& path : stills) {
    const cv::Mat input = test::readImage(path);
    if (attacker.count(input) == 0) continue;
    ++inputs_with_faces;
    Redactor redactor(optionsFor(GetParam()));
    const RedactedFrame out = redactor.redact(Frame(input, 0));
    EXPECT_EQ(attacker.count(out.toMat()), 0) << path.filename() << " state "
                                             << toString(out.info().state);
  }
  EXPECT_GE(inputs_with_faces, 8);
}

INSTANTIATE_TEST_SUITE_P(Modes, FaceModeOnStills,
                         ::testing::Values(Mode::kFace, Mode::kBackgroundAndFace),
                         [](const auto& info) {
                           return info.param == Mode::kFace ? "Face" : "BackgroundAndFace";
                         });

// Every face is hidden, bystanders included: our own detector finds none in the output either,
// and the background stays visible in face mode.
TEST(FaceMode, HidesEveryFaceAndKeepsTheBackground) {
  FaceDetector detector(FaceDetectorModel::kShortRange, test::modelsDir());
  const cv::Mat input = test::referenceFrame("megamind_02.png");  // two faces
  ASSERT_EQ(detector.detect(input).size(), 2u);
  Redactor redactor(optionsFor(Mode::kFace));
  const RedactedFrame out = redactor.redact(Frame(input, 0));
  EXPECT_EQ(out.info().state, RedactionState::kNormal);
  EXPECT_TRUE(detector.detect(out.toMat()).empty());
  // Most of the frame (background and bodies) is the camera's own pixels.
  const double unchanged =
      cv::countNonZero(cv::Mat(out.toMat() == input).reshape(1)) / (3.0 * input.total());
  EXPECT_GT(unchanged, 0.5);
}

// A face the detectors cannot see (here: covered by a flat patch, as when turned away): the
// patient's head region is hidden instead.
TEST(FaceMode, AFaceTheDetectorMissesFallsBackToTheHeadRegion) {
  FaceDetector detector(FaceDetectorModel::kShortRange, test::modelsDir());
  cv::Mat input = test::referenceFrame("megamind_05.png");
  const auto faces = detector.detect(input);
  ASSERT_EQ(faces.size(), 1u);
  // Cover the face and a margin around it so that neither BlazeFace model finds it.
  const cv::Rect2f& found = faces[0].box;
  const cv::Rect box = cv::Rect(cv::Rect2f(found.x - found.width * 0.25f, found.y - found.height * 0.25f,
                                           found.width * 1.5f, found.height * 1.5f)) &
                       cv::Rect(0, 0, input.cols, input.rows);
  input(box).setTo(cv::Scalar(120, 140, 170));
  Redactor redactor(optionsFor(Mode::kFace));
  const RedactedFrame out = redactor.redact(Frame(input, 0));
  EXPECT_TRUE(out.info().reasons & kReasonHeadFallback);
  EXPECT_TRUE(test::isUniform(out.toMat()(box)));
}

// A clip where faces turn, move and leave: no output frame gives the attacker a face, while the
// attacker finds faces in many input frames. The detectors miss frames; the tracker holds them.
TEST(FaceMode, TrackingLeavesNoFrameWithADetectableFace) {
  AttackerFaceDetectors attacker;
  cv::VideoCapture clip("/usr/share/doc/opencv-doc/examples/data/Megamind.avi");
  ASSERT_TRUE(clip.isOpened());
  Redactor redactor(optionsFor(Mode::kFace));
  int input_frames_with_faces = 0, output_frames_with_faces = 0, frames = 0;
  cv::Mat frame;
  // Every 3rd frame of the first 7 s (the tracker is given the real timestamps).
  for (int index = 0; index < 180 && clip.read(frame); ++index) {
    if (index % 3 != 0) continue;
    ++frames;
    const RedactedFrame out = redactor.redact(Frame(frame, index * 40'000));
    if (attacker.count(frame) > 0) ++input_frames_with_faces;
    if (attacker.count(out.toMat()) > 0) ++output_frames_with_faces;
  }
  RecordProperty("input_frames_with_faces", input_frames_with_faces);
  EXPECT_GE(input_frames_with_faces, frames / 2);
  EXPECT_EQ(output_frames_with_faces, 0);
}

}  // namespace
}  // namespace veil
