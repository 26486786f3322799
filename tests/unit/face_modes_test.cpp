// Face modes against attackers that are not ours: OpenCV's Haar and LBP cascades (opencv-data).
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>
#include <opencv2/videoio.hpp>

#include "redactor_test_support.h"
#include "veil/face_detector.h"

namespace veil {
namespace {

double overlap(const cv::Rect& a, const cv::Rect& b) {
  const double inter = (a & b).area();
  return inter / (a.area() + b.area() - inter);
}

// Every frontal and profile cascade Debian ships (Haar and LBP).
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
  // Detections per cascade.
  std::vector<std::vector<cv::Rect>> detect(const cv::Mat& bgr) {
    cv::Mat gray;
    cv::cvtColor(bgr, gray, cv::COLOR_BGR2GRAY);
    cv::equalizeHist(gray, gray);
    std::vector<std::vector<cv::Rect>> found;
    for (auto& cascade : cascades_) {
      found.emplace_back();
      cascade.detectMultiScale(gray, found.back(), 1.1, 3, 0, cv::Size(24, 24));
    }
    return found;
  }

 private:
  std::vector<cv::CascadeClassifier> cascades_;
};

// Where the input has faces, by anyone's account but the redactor's: places where two attacker
// cascades agree, plus BlazeFace's own boxes (a second opinion can only add places to check).
// A single cascade firing alone on a hand or a lamp is a false positive, not a face.
std::vector<cv::Rect> facesInInput(const std::vector<std::vector<cv::Rect>>& attacker,
                                   const std::vector<FaceDetection>& blazeface) {
  std::vector<cv::Rect> faces;
  for (const auto& d : blazeface) faces.push_back(cv::Rect(d.box));
  for (std::size_t i = 0; i < attacker.size(); ++i) {
    for (const auto& r : attacker[i]) {
      for (std::size_t j = i + 1; j < attacker.size(); ++j) {
        for (const auto& q : attacker[j]) {
          if (overlap(r, q) > 0.3) faces.push_back(r);
        }
      }
    }
  }
  return faces;
}

// Attacker detections in the output that land on a face of the input: a recognisable face.
int facesRedetected(const std::vector<std::vector<cv::Rect>>& output_detections,
                    const std::vector<cv::Rect>& input_faces) {
  int hits = 0;
  for (const auto& per_cascade : output_detections) {
    for (const auto& r : per_cascade) {
      for (const auto& face : input_faces) {
        if (overlap(r, face) > 0.3) {
          ++hits;
          break;
        }
      }
    }
  }
  return hits;
}

int countAll(const std::vector<std::vector<cv::Rect>>& detections) {
  int n = 0;
  for (const auto& d : detections) n += static_cast<int>(d.size());
  return n;
}

RedactorOptions optionsFor(Mode mode) {
  RedactorOptions options;
  options.mode = mode;
  options.models_dir = test::modelsDir();
  options.deadline = test::kUnhurriedDeadline;
  return options;
}

class FaceModeOnStills : public ::testing::TestWithParam<Mode> {};

TEST_P(FaceModeOnStills, AttackerDetectorsFindNoFaceWhereTheyFoundOneInTheInput) {
  AttackerFaceDetectors attacker;
  FaceDetector short_range(FaceDetectorModel::kShortRange, test::modelsDir());
  FaceDetector full_range(FaceDetectorModel::kFullRange, test::modelsDir());
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
    const auto attacker_on_input = attacker.detect(input);
    if (countAll(attacker_on_input) == 0) continue;
    ++inputs_with_faces;
    const auto input_faces =
        facesInInput(attacker_on_input, detectAll(short_range, full_range, input));
    Redactor redactor(optionsFor(GetParam()));
    const RedactedFrame out = redactor.redact(Frame(input, 0));
    EXPECT_EQ(facesRedetected(attacker.detect(out.toMat()), input_faces), 0)
        << path.filename() << " state " << toString(out.info().state);
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

// A face the detectors stop seeing (covered, turned away): held for the tracker's stated time,
// then the patient's head region is hidden instead. The person mask is MediaPipe's own, so only
// the face path is under test.
TEST(FaceMode, AFaceLostLongerThanTheHoldTimeFallsBackToTheHeadRegion) {
  class ReferenceMask final : public PersonSegmenter {
   public:
    cv::Mat probability;
    cv::Mat segment(const cv::Mat&) override { return probability.clone(); }
    std::string name() const override { return "reference mask"; }
  };
  auto segmenter = std::make_unique<ReferenceMask>();
  test::referencePersonMask("megamind_05.png").convertTo(segmenter->probability, CV_32F, 1 / 255.0);
  Redactor redactor(optionsFor(Mode::kFace), std::move(segmenter), nullptr);

  const cv::Mat input = test::referenceFrame("megamind_05.png");
  FaceDetector detector(FaceDetectorModel::kShortRange, test::modelsDir());
  const auto faces = detector.detect(input);
  ASSERT_EQ(faces.size(), 1u);
  const cv::Rect2f& found = faces[0].box;
  const cv::Rect face =
      cv::Rect(cv::Rect2f(found.x - found.width * 0.25f, found.y - found.height * 0.25f,
                          found.width * 1.5f, found.height * 1.5f)) &
      cv::Rect(0, 0, input.cols, input.rows);
  cv::Mat covered = input.clone();
  covered(face).setTo(cv::Scalar(120, 140, 170));

  EXPECT_FALSE(redactor.redact(Frame(input, 0)).info().reasons & kReasonHeadFallback);
  // Held: the last region stays hidden; no fallback needed yet.
  const RedactedFrame held = redactor.redact(Frame(covered, 1'000'000));
  EXPECT_FALSE(held.info().reasons & kReasonHeadFallback);
  EXPECT_TRUE(test::isUniform(held.toMat()(face)));
  // Past the hold time: the head region of the patient is hidden.
  const RedactedFrame lost = redactor.redact(Frame(covered, 2'500'000));
  EXPECT_TRUE(lost.info().reasons & kReasonHeadFallback);
  EXPECT_TRUE(test::isUniform(lost.toMat()(face)));
}

// A clip where faces turn, move and leave: no output frame gives the attacker a face, while the
// attacker finds faces in many input frames. The detectors miss frames; the tracker holds them.
TEST(FaceMode, TrackingLeavesNoFrameWithADetectableFace) {
  AttackerFaceDetectors attacker;
  FaceDetector short_range(FaceDetectorModel::kShortRange, test::modelsDir());
  FaceDetector full_range(FaceDetectorModel::kFullRange, test::modelsDir());
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
    const auto attacker_on_input = attacker.detect(frame);
    if (countAll(attacker_on_input) > 0) ++input_frames_with_faces;
    auto input_faces = facesInInput(attacker_on_input, detectAll(short_range, full_range, frame));
    // Checked by eye: on frame 3 both frontal Haar cascades fire on the heroine's hand holding a
    // glass (an unredacted hand, not a face). Listed, not filtered by rule, so a real missed face
    // elsewhere still fails the test.
    if (index == 3) {
      std::erase_if(input_faces, [](const cv::Rect& r) {
        return overlap(r, {121, 365, 85, 85}) > 0.5;
      });
    }
    if (facesRedetected(attacker.detect(out.toMat()), input_faces) > 0) {
      ++output_frames_with_faces;
      ADD_FAILURE() << "frame " << index << ": a face is re-detected (state "
                    << toString(out.info().state) << ", reasons " << out.info().reasons << ")";
      cv::imwrite((std::filesystem::temp_directory_path() /
                   ("veil-face-leak-" + std::to_string(index) + ".png"))
                      .string(),
                  out.toMat());
    }
  }
  RecordProperty("input_frames_with_faces", input_frames_with_faces);
  EXPECT_GE(input_frames_with_faces, frames / 2);
  EXPECT_EQ(output_frames_with_faces, 0);
}

}  // namespace
}  // namespace veil
