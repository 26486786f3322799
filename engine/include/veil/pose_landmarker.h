#pragma once

#include <array>
#include <filesystem>
#include <memory>
#include <opencv2/core/mat.hpp>
#include <opencv2/core/types.hpp>
#include <optional>

namespace veil {

// MediaPipe Pose's 33 body landmarks. Left/right are the subject's own sides.
enum class PoseLandmark {
  kNose = 0,
  kLeftEyeInner,
  kLeftEye,
  kLeftEyeOuter,
  kRightEyeInner,
  kRightEye,
  kRightEyeOuter,
  kLeftEar,
  kRightEar,
  kMouthLeft,
  kMouthRight,
  kLeftShoulder = 11,
  kRightShoulder,
  kLeftElbow,
  kRightElbow,
  kLeftWrist,
  kRightWrist,
  kLeftPinky,
  kRightPinky,
  kLeftIndex,
  kRightIndex,
  kLeftThumb,
  kRightThumb,
  kLeftHip = 23,
  kRightHip,
  kLeftKnee,
  kRightKnee,
  kLeftAnkle,
  kRightAnkle,
  kLeftHeel,
  kRightHeel,
  kLeftFootIndex,
  kRightFootIndex,
};
inline constexpr int kPoseLandmarkCount = 33;

struct PosePoint {
  cv::Point2f position;  // frame pixels
  float z = 0;           // depth relative to the hips, same pixel scale (smaller: nearer)
  float visibility = 0;  // [0,1]: likely visible (not occluded)
  float presence = 0;    // [0,1]: likely inside the frame
};

struct PoseResult {
  std::array<PosePoint, kPoseLandmarkCount> landmarks{};
  // The model's two auxiliary landmarks: [0] hip centre, [1] a point above it whose distance
  // gives the body's scale. MediaPipe tracks its crop with them.
  std::array<PosePoint, 2> auxiliary{};
  float presence = 0;   // the model's "a person is in this crop" score, [0,1]
  cv::RotatedRect roi;  // the square crop the landmarks were computed in, frame pixels

  const PosePoint& at(PoseLandmark l) const { return landmarks[static_cast<int>(l)]; }
};

enum class PoseModel {
  kLite,  // pose_landmark_lite.tflite
  kFull,  // pose_landmark_full.tflite
};

// MediaPipe Pose's landmark model without its detector: the crop comes from the patient's person
// mask. Pre/post-processing as in @mediapipe/pose 0.5.1675469404's PoseLandmarkByRoi graph: the
// square ROI sampled to 256x256 (bilinear, border replicated), RGB in [0,1]; 39 landmarks of
// (x, y, z, visibility, presence) in crop pixels with sigmoid on visibility and presence, x/y
// refined on the 64x64 heatmap (7x7 window, when its peak >= 0.5); the crop for the next pass
// from the two auxiliary landmarks (hip centre, body scale point), rotated upright, x1.25.
// Not thread-safe; one instance per thread.
class PoseLandmarker {
 public:
  // MediaPipe's pose presence threshold.
  static constexpr float kMinPresence = 0.5f;
  // MediaPipe enlarges its pose ROIs by this factor (RectTransformation scale 1.25).
  static constexpr float kRoiScale = 1.25f;

  // Throws veil::ModelError if the weights are missing, mismatching or unusable.
  PoseLandmarker(PoseModel model, const std::filesystem::path& models_dir);
  ~PoseLandmarker();
  PoseLandmarker(PoseLandmarker&&) noexcept;
  PoseLandmarker& operator=(PoseLandmarker&&) noexcept;

  // Landmarks of the person in `person_roi` (e.g. the bounding box of the patient's mask):
  // first pass in roiFromPersonBox(person_roi), second pass in roiFromLandmarks() of the first,
  // as MediaPipe's own tracking does on the next frame. nullopt when the box is empty or the
  // presence score of either pass is below kMinPresence.
  std::optional<PoseResult> estimate(const cv::Mat& bgr, const cv::Rect& person_roi);

  // One pass of the model in a given square crop (no presence gating).
  PoseResult estimateInRoi(const cv::Mat& bgr, const cv::RotatedRect& roi);

  // Square on the box's longer side, same centre, x kRoiScale, upright.
  static cv::RotatedRect roiFromPersonBox(const cv::Rect& person_box);
  // MediaPipe's PoseLandmarksToRoi: centred on the hip-centre auxiliary landmark, side
  // 2 x its distance to the body-scale landmark x kRoiScale, rotated so that that landmark is
  // straight above the centre.
  static cv::RotatedRect roiFromLandmarks(const PoseResult& pose);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace veil
