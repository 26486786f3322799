#pragma once

#include <cstdint>
#include <filesystem>
#include <opencv2/core/mat.hpp>
#include <optional>
#include <vector>

#include "veil/face_detector.h"
#include "veil/face_tracker.h"

namespace veil {

// Faces for one stream: both BlazeFace models (full range only when asked: it costs several
// times the short range) and the tracker that holds a missed face for a stated time.
class FaceStage {
 public:
  // Throws veil::ModelError when either model is unusable.
  explicit FaceStage(const std::filesystem::path& models_dir);

  // Detects and tracks; returns the faces to hide now (detected and held). May throw.
  const std::vector<TrackedFace>& update(const cv::Mat& bgr, std::int64_t timestamp_us,
                                         bool include_far_faces);
  // Centre of the largest face detected in the last update, if any.
  std::optional<cv::Point> mainFaceCentre() const { return main_face_centre_; }
  void reset();

 private:
  static constexpr int kTilesPerSide = 3;
  static constexpr int kTileCount = kTilesPerSide * kTilesPerSide;
  static cv::Rect tileRect(cv::Size frame, int index);

  FaceDetector short_range_;
  FaceDetector full_range_;
  FaceTracker tracker_;
  std::optional<cv::Point> main_face_centre_;
  bool scanned_once_ = false;
  int next_tile_ = 0;
};

// True when one of `faces` lies on the patient (the centre of its last detected box is inside
// `patient`, CV_8U).
bool anyFaceOn(const std::vector<TrackedFace>& faces, const cv::Mat& patient);

// The top of the patient's region, where the head must be when the detector cannot see the face
// (profile, looking down, covered): the upper `kHeadBandFraction` of its bounding box.
cv::Mat headRegion(const cv::Mat& patient);
inline constexpr double kHeadBandFraction = 0.4;

}  // namespace veil
