#pragma once

#include <array>
#include <filesystem>
#include <memory>
#include <opencv2/core/mat.hpp>
#include <opencv2/core/types.hpp>
#include <vector>

namespace veil {

// BlazeFace's six keypoints, in the model's order. "Right"/"left" are the subject's own sides, so
// for a person facing the camera kRightEye is on the image's left.
enum class FaceKeypoint { kRightEye = 0, kLeftEye, kNoseTip, kMouthCenter, kRightEar, kLeftEar };
inline constexpr int kFaceKeypointCount = 6;

struct FaceDetection {
  cv::Rect2f box;   // frame pixels (may extend past the frame edges)
  float score = 0;  // sigmoid of the model's logit, in [0,1]
  std::array<cv::Point2f, kFaceKeypointCount> keypoints{};  // frame pixels, FaceKeypoint order

  const cv::Point2f& keypoint(FaceKeypoint k) const { return keypoints[static_cast<int>(k)]; }
};

enum class FaceDetectorModel {
  kShortRange,  // face_detection_short_range.tflite: 128x128, frontal faces within ~2 m
  kFullRange,   // face_detection_full_range.tflite: 192x192, smaller/farther faces
};

// One BlazeFace model with MediaPipe's own pre- and post-processing (options read from the
// graphs compiled into @mediapipe/face_detection 0.4.1657300184):
//   input  the whole frame letterboxed into a square (keep_aspect_ratio, zero border), RGB
//          scaled to [-1,1];
//   decode SSD anchors with fixed size 1, offsets 0.5; short range strides {8,16,16,16} with
//          interpolated anchors (896), full range stride 4 without (2304); box/keypoints scaled
//          by the input size; logits clipped to +-100 then sigmoid; score >= 0.5 (short) or
//          >= 0.6 (full range);
//   merge  weighted non-maximum suppression, IoU > 0.3.
// Not thread-safe (the network keeps buffers); use one instance per thread.
class FaceDetector {
 public:
  // Throws veil::ModelError if the weights are missing, mismatching or unusable.
  FaceDetector(FaceDetectorModel model, const std::filesystem::path& models_dir);
  ~FaceDetector();
  FaceDetector(FaceDetector&&) noexcept;
  FaceDetector& operator=(FaceDetector&&) noexcept;

  // Faces in a BGR 8-bit frame, highest score first.
  std::vector<FaceDetection> detect(const cv::Mat& bgr);

  FaceDetectorModel model() const;
  int inputSize() const;   // 128 or 192
  float minScore() const;  // MediaPipe's threshold for this model (0.5 or 0.6)

  // The exact tensor detect() feeds the model for `bgr`: CV_32FC1, inputSize()^2 * 3 floats,
  // NHWC RGB in [-1,1]. Exposed so tests can run an independent implementation on it.
  cv::Mat inputTensor(const cv::Mat& bgr) const;
  // Raw model outputs for a tensor from inputTensor(): [0] regressors (N x 16, CV_32F),
  // [1] score logits (N x 1).
  std::vector<cv::Mat> runModel(const cv::Mat& input_tensor);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Two detections are the same face when their boxes overlap by more than this IoU.
inline constexpr float kFaceMergeIou = 0.3f;

// Runs both models and merges their faces: detections overlapping by IoU > kFaceMergeIou count
// as one face, which keeps the higher score's keypoints and score but the union of both boxes
// (a merged box is never smaller than either model's). Highest score first.
std::vector<FaceDetection> detectAll(FaceDetector& short_range, FaceDetector& full_range,
                                     const cv::Mat& bgr);

}  // namespace veil
