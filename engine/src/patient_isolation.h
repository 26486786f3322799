#pragma once

#include <opencv2/core/mat.hpp>
#include <optional>

namespace veil {

// The selfie model marks every person as foreground. The patient is one connected region: the
// one holding the main face when the caller knows it, else the region that continues the
// patient's previous position, else the largest near the centre. Everyone else stays hidden.
class PatientIsolator {
 public:
  // Regions smaller than this fraction of the frame are not a person (noise, a hand at the edge).
  static constexpr double kMinRegionFraction = 0.005;

  // `foreground` is CV_8U (non-zero = person). Returns the patient's region as CV_8U 0/255, or
  // nothing when no region is large enough.
  std::optional<cv::Mat> isolate(const cv::Mat& foreground,
                                 std::optional<cv::Point> main_face_centre = std::nullopt);
  void reset() { last_centroid_.reset(); }

 private:
  std::optional<cv::Point2d> last_centroid_;
};

}  // namespace veil
